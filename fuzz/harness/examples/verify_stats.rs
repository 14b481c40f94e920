//! How much of a `verify` corpus the differential really compares:
//! `cargo run --release --example verify_stats -- fuzz/corpus/verify`
//! prints how many inputs each side accepted, rejected, or could not compare,
//! and the most common reasons.

use std::collections::BTreeMap;

use tessera_fuzz_harness::reference::Verdict;

fn main() -> std::io::Result<()> {
    let dir = std::env::args().nth(1).unwrap_or_else(|| format!("{}/../corpus/verify", env!("CARGO_MANIFEST_DIR")));
    let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
    let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
    for entry in std::fs::read_dir(&dir)? {
        let bytes = std::fs::read(entry?.path())?;
        let (kind, reason) = match tessera_fuzz_harness::verdict(&bytes) {
            None => ("not UTF-8 (skipped)", String::new()),
            Some(Verdict::Accept(_)) => ("accept (both)", String::new()),
            Some(Verdict::Reject(why, _)) => ("reject (both)", why.chars().take(60).collect()),
            Some(Verdict::Incomparable(why)) => ("incomparable", why.to_owned()),
        };
        *kinds.entry(kind).or_default() += 1;
        if !reason.is_empty() {
            *reasons.entry(reason).or_default() += 1;
        }
    }
    println!("{dir}");
    for (kind, n) in &kinds {
        println!("{n:>8}  {kind}");
    }
    let mut top: Vec<_> = reasons.into_iter().collect();
    top.sort_by_key(|b| std::cmp::Reverse(b.1));
    println!("most common reasons:");
    for (why, n) in top.iter().take(15) {
        println!("{n:>8}  {why}");
    }
    Ok(())
}
