//! Results criterion does not hold (allocation counts, Redis throughput),
//! written as JSON beside criterion's own so `report.py` finds them.

use std::path::PathBuf;

use serde::Serialize;

/// `<target>/criterion/tessera-extra`, found from the running binary
/// (`<target>/<profile>/deps/<name>`), so it follows `CARGO_TARGET_DIR`.
pub fn dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the running binary has a path");
    let target = exe
        .ancestors()
        .nth(3)
        .expect("the binary lives in <target>/<profile>/deps");
    target.join("criterion").join("tessera-extra")
}

/// Writes `value` to `<dir>/<name>.json`.
pub fn write(name: &str, value: &impl Serialize) -> std::io::Result<PathBuf> {
    let dir = dir();
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(format!("{name}.json"));
    std::fs::write(&path, serde_json::to_vec_pretty(value)?)?;
    Ok(path)
}
