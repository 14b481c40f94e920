//! Replays the committed seeds, every corpus and regression input, and pins
//! what each `verify` seed means, under plain `cargo test`.

use std::path::{Path, PathBuf};

use arbitrary::Unstructured;
use tessera_fuzz_harness::reference::Verdict;
use tessera_fuzz_harness::seeds::{self, Expect};
use tessera_fuzz_harness::window_ops::Op;
use tessera_fuzz_harness::TARGETS;

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(entries) => entries.map(|e| e.unwrap().path()).filter(|p| p.is_file()).collect(),
        Err(_) => Vec::new(),
    };
    out.sort();
    out
}

#[test]
fn committed_seeds_are_current() {
    for (target, seeds) in seeds::all() {
        assert!(!seeds.is_empty(), "{target} has no seeds");
        for s in seeds {
            let path = fuzz_dir().join("corpus").join(target).join(format!("seed-{}", s.name));
            let on_disk = std::fs::read(&path)
                .unwrap_or_else(|e| panic!("{}: {e} (run `cargo run --example write_seeds`)", path.display()));
            assert_eq!(on_disk, s.bytes, "{} is stale: run `cargo run --example write_seeds`", path.display());
        }
    }
}

#[test]
fn every_corpus_and_regression_input_passes() {
    for (target, run) in TARGETS {
        let mut count = 0;
        for dir in ["corpus", "regressions"] {
            for path in files(&fuzz_dir().join(dir).join(target)) {
                let bytes = std::fs::read(&path).unwrap();
                if let Err(panic) = std::panic::catch_unwind(|| run(&bytes)) {
                    std::panic::resume_unwind(Box::new(format!(
                        "{}: {:?}",
                        path.display(),
                        panic.downcast_ref::<String>()
                    )));
                }
                count += 1;
            }
        }
        assert!(count > 0, "no inputs for {target}");
    }
}

#[test]
fn verify_seeds_mean_what_they_say() {
    let mut kinds = [0usize; 3];
    for s in seeds::verify() {
        let verdict = tessera_fuzz_harness::verdict(&s.bytes).unwrap_or_else(|| panic!("{} is not a token", s.name));
        let got = match verdict {
            Verdict::Accept(_) => Expect::Accept,
            Verdict::Reject(..) => Expect::Reject,
            Verdict::Incomparable(_) => Expect::Incomparable,
        };
        assert_eq!(Some(got), s.expect, "seed {}: {verdict:?}", s.name);
        kinds[got as usize] += 1;
    }
    assert!(kinds.iter().all(|k| *k > 0), "{kinds:?}");
}

#[test]
fn window_seeds_decode_to_the_intended_ops() {
    let ops = [
        Op::Begin { scope: 1, key: 2, other_fingerprint: true, keep: Some(9), newer: 3 },
        Op::Begin { scope: 3, key: 0, other_fingerprint: false, keep: None, newer: 0 },
        Op::Complete { ticket: 4, value: 5 },
        Op::Abort { ticket: 6 },
        Op::Advance(63),
    ];
    let bytes = seeds::encode_ops([9; 16], &ops);
    let mut u = Unstructured::new(&bytes);
    assert_eq!(u.arbitrary::<[u8; 16]>().unwrap(), [9; 16]);
    let decoded: Vec<Op> = u.arbitrary_iter::<Op>().unwrap().map(Result::unwrap).collect();
    assert_eq!(decoded, ops);
}

#[test]
fn window_seeds_reach_every_answer() {
    let mut total = tessera_fuzz_harness::window_ops::Tally::new();
    for s in seeds::window_ops() {
        for (name, n) in tessera_fuzz_harness::window_ops::run(&s.bytes) {
            *total.entry(name).or_default() += n;
        }
    }
    for name in ["fresh", "replay", "in_flight", "abandoned", "mismatch", "stale", "full", "refused_complete"] {
        assert!(total.get(name).copied().unwrap_or(0) > 0, "no seed reaches {name}: {total:?}");
    }
}

#[test]
fn frame_session_seed_reaches_every_kind_of_answer() {
    let session = seeds::frame().into_iter().find(|s| s.name == "session").unwrap();
    let got = tessera_fuzz_harness::frame::transcript(&session.bytes);
    let statuses: Vec<&str> = got.iter().map(|l| l.split(' ').nth(1).unwrap()).collect();
    assert_eq!(
        statuses,
        [
            "503", "200", "200", "208", "422", "200", "202", "409", "503", "409", "401", "401", "410", "400", "400",
            "400", "208", "200", "200"
        ],
        "{got:#?}"
    );
}
