//! Writes every target's seeds to `fuzz/corpus/<target>/seed-<name>`.

use std::path::Path;

fn main() -> std::io::Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus");
    for (target, seeds) in tessera_fuzz_harness::seeds::all() {
        let dir = root.join(target);
        std::fs::create_dir_all(&dir)?;
        for s in &seeds {
            std::fs::write(dir.join(format!("seed-{}", s.name)), &s.bytes)?;
        }
        println!("{target}: {} seeds", seeds.len());
    }
    Ok(())
}
