//! The `tessera` binary's `mint` and `verify`: round trips and every exit code.

use std::{
    io::Write,
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
};

use serde_json::Value;

const NOW: &str = "1700000000";

fn tessera(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

/// A directory of key files that is removed at the end of the test.
struct Keys(PathBuf);

impl Keys {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("tessera-cli-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Keys(dir)
    }

    fn file(&self, name: &str, bytes: &[u8]) -> String {
        let path = self.0.join(name);
        std::fs::write(&path, bytes).unwrap();
        path.to_str().unwrap().to_owned()
    }
}

impl Drop for Keys {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn mint(args: &[&str]) -> String {
    let out = tessera(&[&["mint"], args].concat(), b"");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        text.matches('\n').count(),
        1,
        "one token, one line: {text:?}"
    );
    text.trim_end().to_owned()
}

fn verdicts(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn mint_then_verify_round_trips_for_every_algorithm() {
    let keys = Keys::new("round");
    let key = keys.file("k", &[0x5a; 64]);
    for alg in ["HS256", "HS384", "HS512"] {
        let token = mint(&[
            "--key-file",
            &key,
            "--alg",
            alg,
            "--kid",
            "k1",
            "--sub",
            "alice",
            "--iss",
            "me",
            "--aud",
            "api",
            "--ttl",
            "60",
            "--now",
            NOW,
            "--claims",
            r#"{"role":"admin","n":[1,2]}"#,
        ]);
        let out = tessera(
            &[
                "verify",
                "--key-file",
                &key,
                "--alg",
                alg,
                "--iss",
                "me",
                "--aud",
                "api",
                "--now",
                NOW,
            ],
            format!("{token}\n").as_bytes(),
        );
        assert_eq!(out.status.code(), Some(0), "{alg}: {}", stderr(&out));
        let v = &verdicts(&out)[0];
        assert_eq!(v["valid"], true);
        let c = &v["claims"];
        assert_eq!(
            (c["sub"].as_str(), c["iss"].as_str(), c["aud"].as_str()),
            (Some("alice"), Some("me"), Some("api"))
        );
        assert_eq!(
            (c["iat"].as_u64(), c["exp"].as_u64()),
            (Some(1_700_000_000), Some(1_700_000_060))
        );
        assert_eq!(
            (c["role"].as_str(), c["n"][1].as_u64()),
            (Some("admin"), Some(2))
        );
        // The output line starts with the verdict, as documented.
        assert!(String::from_utf8_lossy(&out.stdout).starts_with(r#"{"valid":true,"claims":{"#));
    }
}

#[test]
fn verify_answers_every_line_in_order() {
    let keys = Keys::new("lines");
    let key = keys.file("k", &[7; 32]);
    let good = mint(&["--key-file", &key, "--sub", "a", "--now", NOW]);
    let expired = mint(&[
        "--key-file",
        &key,
        "--sub",
        "a",
        "--now",
        "1600000000",
        "--ttl",
        "10",
    ]);
    let long = "a".repeat(8193);
    // CRLF drops one `\r`; an empty line is an invalid token; the last line
    // needs no newline; a second `\r` is part of the token.
    let input = format!("{good}\r\n\n{expired}\n{good}\r\r\n{long}\n{good}");
    let mut input = input.into_bytes();
    input.extend_from_slice(b"\n\xff\xfe");
    let out = tessera(&["verify", "--key-file", &key, "--now", NOW], &input);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let v = verdicts(&out);
    let codes: Vec<_> = v
        .iter()
        .map(|v| {
            v["error"]
                .as_str()
                .unwrap_or(if v["valid"] == true { "ok" } else { "?" })
        })
        .collect();
    assert_eq!(
        codes,
        [
            "ok",
            "malformed",
            "expired",
            "malformed",
            "too_long",
            "ok",
            "malformed"
        ]
    );
    for bad in v.iter().filter(|v| v["valid"] == false) {
        assert!(!bad["message"].as_str().unwrap().is_empty());
        assert!(bad.get("claims").is_none());
    }
}

#[test]
fn verify_exit_codes() {
    let keys = Keys::new("exits");
    let key = keys.file("k", &[7; 64]);
    let good = mint(&["--key-file", &key, "--sub", "a", "--now", NOW]);
    let ok = tessera(
        &["verify", "--key-file", &key, "--now", NOW],
        format!("{good}\n{good}\n").as_bytes(),
    );
    assert_eq!((ok.status.code(), verdicts(&ok).len()), (Some(0), 2));
    let empty = tessera(&["verify", "--key-file", &key], b"");
    assert_eq!((empty.status.code(), empty.stdout.len()), (Some(0), 0));
    let later = tessera(
        &["verify", "--key-file", &key, "--now", "1700003600"],
        good.as_bytes(),
    );
    assert_eq!(later.status.code(), Some(1));
    assert_eq!(verdicts(&later)[0]["error"], "expired");
    let leeway = tessera(
        &[
            "verify",
            "--key-file",
            &key,
            "--now",
            "1700003600",
            "--leeway",
            "1",
        ],
        good.as_bytes(),
    );
    assert_eq!(leeway.status.code(), Some(0));
    for (args, code) in [
        (&["--iss", "someone"][..], "issuer"),
        (&["--aud", "api"], "audience"),
        // One key: the MAC is checked before the header, so a wrong algorithm
        // reads as a wrong signature.
        (&["--alg", "HS384"], "signature"),
    ] {
        let out = tessera(
            &[&["verify", "--key-file", &key, "--now", NOW], args].concat(),
            good.as_bytes(),
        );
        assert_eq!(
            (out.status.code(), verdicts(&out)[0]["error"].as_str()),
            (Some(1), Some(code)),
            "{args:?}"
        );
    }
}

#[test]
fn usage_and_configuration_errors_exit_2() {
    let keys = Keys::new("usage");
    let key = keys.file("k", &[7; 32]);
    let short = keys.file("short", &[7; 31]);
    let long384 = keys.file("k384", &[7; 47]);
    let cases: &[&[&str]] = &[
        &["mint", "--key-file", &short],
        &["mint", "--key-file", &long384, "--alg", "HS384"],
        &["mint", "--key-file", "/nonexistent/key"],
        &["mint", "--key-file", &key, "--alg", "RS256"],
        &["mint", "--key-file", &key, "--claims", "[1]"],
        &["mint", "--key-file", &key, "--claims", "{nope"],
        &["mint", "--key-file", &key, "--ttl", "-5"],
        &["mint", "--key-file", &key, "--now", "18446744073709551615"],
        &["mint", "--key-file", &key, "--kid", "bad\"kid"],
        &["mint", "--key-file", &key, "--bogus"],
        &["mint"],
        &["verify"],
        &["verify", "--key-file", &key, "--leeway", "601"],
        &["verify", "--key-file", &short],
        &["verify", "--key", "no-equals-sign"],
        &[
            "verify",
            "--key",
            &format!("a={key}"),
            "--key",
            &format!("a={key}"),
        ],
        &["verify", "--key-file", &key, "--key", &format!("a={key}")],
        &[
            "gateway",
            "--listen",
            "127.0.0.1:0",
            "--upstream",
            "https://x",
            "--key-file",
            &key,
        ],
        &[
            "gateway",
            "--listen",
            "nowhere",
            "--upstream",
            "http://127.0.0.1:1",
            "--key-file",
            &key,
        ],
        &["frobnicate"],
        &[],
    ];
    for args in cases {
        let out = tessera(args, b"");
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(
            !stderr(&out).trim().is_empty(),
            "{args:?}: a message on stderr"
        );
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}

#[test]
fn key_files_are_used_exactly_as_stored() {
    let keys = Keys::new("exact");
    let with_newline = keys.file("nl", b"0123456789abcdef0123456789abcdef\n");
    let without = keys.file("plain", b"0123456789abcdef0123456789abcdef");
    let token = mint(&["--key-file", &with_newline, "--now", NOW]);
    let out = tessera(
        &["verify", "--key-file", &without, "--now", NOW],
        token.as_bytes(),
    );
    assert_eq!(
        verdicts(&out)[0]["error"],
        "signature",
        "a trailing newline is part of the key"
    );
    let out = tessera(
        &["verify", "--key-file", &with_newline, "--now", NOW],
        token.as_bytes(),
    );
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn a_key_ring_selects_by_kid() {
    let keys = Keys::new("ring");
    let (a, b) = (keys.file("a", &[1; 32]), keys.file("b", &[2; 32]));
    let ring = [
        "verify",
        "--key",
        &format!("old={a}"),
        "--key",
        &format!("new={b}"),
        "--now",
        NOW,
    ];
    let new = mint(&["--key-file", &b, "--kid", "new", "--now", NOW]);
    let wrong = mint(&["--key-file", &a, "--kid", "new", "--now", NOW]);
    let unnamed = mint(&["--key-file", &a, "--now", NOW]);
    let out = tessera(&ring, format!("{new}\n{wrong}\n{unnamed}\n").as_bytes());
    let codes: Vec<_> = verdicts(&out)
        .iter()
        .map(|v| v["error"].as_str().unwrap_or("ok").to_owned())
        .collect();
    assert_eq!(codes, ["ok", "signature", "unknown_kid"]);
    assert!(Path::new(&a).exists());
}

#[test]
fn keygen_writes_a_private_key_of_the_right_length_and_never_overwrites() {
    use std::os::unix::fs::PermissionsExt;
    let keys = Keys::new("keygen");
    let path = keys.0.join("api.key");
    let path = path.to_str().unwrap();
    let out = tessera(&["keygen", "--alg", "hs384", "--out", path], b"");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let meta = std::fs::metadata(path).unwrap();
    assert_eq!((meta.len(), meta.permissions().mode() & 0o777), (48, 0o600));
    let again = tessera(&["keygen", "--out", path], b"");
    assert_eq!(again.status.code(), Some(2));
    assert_eq!(
        std::fs::metadata(path).unwrap().len(),
        48,
        "not overwritten"
    );
    let token = mint(&[
        "--key-file",
        path,
        "--alg",
        "HS384",
        "--sub",
        "a",
        "--now",
        NOW,
    ]);
    assert_eq!(token.split('.').count(), 3);
    assert!(!stderr(&tessera(
        &["mint", "--key-file", path, "--alg", "HS384", "--sub", "a"],
        b""
    ))
    .contains("readable by others"));
    // Two keys in a row differ; on stdout the raw bytes.
    let (a, b) = (tessera(&["keygen"], b""), tessera(&["keygen"], b""));
    assert_eq!((a.stdout.len(), b.stdout.len()), (32, 32));
    assert_ne!(a.stdout, b.stdout);
}

#[test]
fn a_key_file_readable_by_others_draws_a_warning() {
    use std::os::unix::fs::PermissionsExt;
    let keys = Keys::new("shared");
    let path = keys.file("k", &[7; 32]);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = tessera(&["mint", "--key-file", &path, "--sub", "a"], b"");
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stderr(&out).contains("readable by others (mode 644)"),
        "{}",
        stderr(&out)
    );
}
