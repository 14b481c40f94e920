//! Links with this board's `memory.x` (put on the linker's search path from
//! `OUT_DIR`, so the QEMU board's map cannot be picked up instead).
#![allow(clippy::expect_used)] // a build script fails by panicking

use std::{env, fs, path::PathBuf};

fn main() {
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR"));
    fs::copy("memory.x", out.join("memory.x")).expect("copy memory.x");
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed=memory.x");
    println!("cargo:rerun-if-changed=build.rs");
}
