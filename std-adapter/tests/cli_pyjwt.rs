//! Interop with PyJWT, both ways: tokens from `tessera mint` decode in PyJWT,
//! tokens from PyJWT verify in `tessera verify`.
//!
//! Needs `python3` with PyJWT (`python3 -m pip install pyjwt`; `.ci/test-all`
//! installs it). Without it these tests fail, saying so; they never skip.

use std::{
    io::Write,
    process::{Command, Output, Stdio},
};

use serde_json::Value;

fn run(program: &str, args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

/// Runs a Python snippet that has PyJWT imported as `jwt`.
fn python(script: &str, args: &[&str]) -> String {
    let probe = run("python3", &["-c", "import jwt"], b"");
    assert!(
        probe.status.success(),
        "PyJWT is missing: run `python3 -m pip install pyjwt` (CI does this in .ci/test-all): {}",
        String::from_utf8_lossy(&probe.stderr)
    );
    let out = run(
        "python3",
        &[&["-c", &format!("import jwt, json, sys\n{script}")], args].concat(),
        b"",
    );
    assert!(
        out.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim_end().to_owned()
}

fn key_file(name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("tessera-pyjwt-{name}-{}", std::process::id()));
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn tessera_tokens_decode_in_pyjwt() {
    let key = key_file("mint", &[0x42; 64]);
    let key_s = key.to_str().unwrap();
    for alg in ["HS256", "HS384", "HS512"] {
        let out = run(
            env!("CARGO_BIN_EXE_tessera"),
            &[
                "mint",
                "--key-file",
                key_s,
                "--alg",
                alg,
                "--kid",
                "k7",
                "--sub",
                "caf\u{e9}",
                "--iss",
                "tessera",
                "--aud",
                "api",
                "--claims",
                r#"{"n":1}"#,
            ],
            b"",
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let token = String::from_utf8(out.stdout).unwrap();
        let decoded = python(
            "key = open(sys.argv[1], 'rb').read()\n\
             claims = jwt.decode(sys.argv[2], key, algorithms=[sys.argv[3]], audience='api', issuer='tessera')\n\
             print(json.dumps({'claims': claims, 'header': jwt.get_unverified_header(sys.argv[2])}))",
            &[key_s, token.trim_end(), alg],
        );
        let v: Value = serde_json::from_str(&decoded).unwrap();
        assert_eq!(v["claims"]["sub"], "caf\u{e9}", "{alg}");
        assert_eq!(v["claims"]["n"], 1);
        assert_eq!(
            (v["header"]["alg"].as_str(), v["header"]["kid"].as_str()),
            (Some(alg), Some("k7"))
        );
    }
    std::fs::remove_file(key).unwrap();
}

#[test]
fn pyjwt_tokens_verify_in_tessera() {
    let key = key_file("verify", &[0x43; 64]);
    let key_s = key.to_str().unwrap();
    for alg in ["HS256", "HS384", "HS512"] {
        // PyJWT escapes non-ASCII (`\u00e9`) and orders its header its own way.
        let tokens = python(
            "import time\n\
             key = open(sys.argv[1], 'rb').read()\n\
             now = int(time.time())\n\
             good = jwt.encode({'sub': 'caf\u{e9}', 'iat': now, 'exp': now + 60, 'aud': ['a', 'api'], 'x': {'y': [1]}}, key, algorithm=sys.argv[2])\n\
             expired = jwt.encode({'sub': 's', 'exp': now - 10, 'aud': 'api'}, key, algorithm=sys.argv[2])\n\
             other = jwt.encode({'sub': 's', 'exp': now + 60, 'aud': 'api'}, b'k' * 64, algorithm=sys.argv[2])\n\
             print(good); print(expired); print(other)",
            &[key_s, alg],
        );
        let out = run(
            env!("CARGO_BIN_EXE_tessera"),
            &["verify", "--key-file", key_s, "--alg", alg, "--aud", "api"],
            format!("{tokens}\n").as_bytes(),
        );
        assert_eq!(
            out.status.code(),
            Some(1),
            "{alg}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0]["valid"], true, "{alg}: {}", lines[0]);
        assert_eq!(lines[0]["claims"]["sub"], "caf\u{e9}");
        assert_eq!(lines[0]["claims"]["x"]["y"][0], 1);
        assert_eq!(lines[1]["error"], "expired");
        assert_eq!(lines[2]["error"], "signature");
    }
    std::fs::remove_file(key).unwrap();
}
