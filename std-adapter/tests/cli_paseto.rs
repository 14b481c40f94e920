//! `tessera mint|verify --alg v4.local|v4.public`: round trips, refusals and
//! exit codes, and interop both ways with pyseto (a Python PASETO library).
//!
//! The pyseto tests need `python3` with pyseto (`python3 -m pip install
//! pyseto`; `.ci/test-all` installs it). Without it they fail, saying so.

use std::{
    io::Write,
    path::PathBuf,
    process::{Command, Output, Stdio},
};

use serde_json::Value;

const SEED: [u8; 32] = [0x11; 32];
const LOCAL: [u8; 32] = [0x22; 32];

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

fn tessera(args: &[&str], stdin: &[u8]) -> Output {
    run(env!("CARGO_BIN_EXE_tessera"), args, stdin)
}

/// Key files removed at the end of the test.
struct Keys(PathBuf);

impl Keys {
    fn new(name: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("tessera-paseto-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Keys(dir)
    }

    fn file(&self, name: &str, bytes: &[u8]) -> String {
        let path = self.0.join(name);
        std::fs::write(&path, bytes).unwrap();
        path.to_str().unwrap().to_owned()
    }

    /// The seed's public key, as `tessera` derives it (checked against pyseto below).
    fn public(&self) -> String {
        let key = tessera_core::paseto::SecretKey::from_seed(&SEED).public_key();
        self.file("public", &key.to_bytes())
    }
}

impl Drop for Keys {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn mint(args: &[&str]) -> String {
    let out = tessera(&[&["mint"], args].concat(), b"");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    String::from_utf8(out.stdout).unwrap().trim_end().to_owned()
}

fn verify(args: &[&str], token: &str) -> (Option<i32>, Value) {
    let out = tessera(&[&["verify"], args].concat(), token.as_bytes());
    let line = String::from_utf8_lossy(&out.stdout).into_owned();
    let verdict = serde_json::from_str(line.trim_end()).unwrap_or(Value::Null);
    (out.status.code(), verdict)
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn mint_then_verify_round_trips_for_both_purposes() {
    let keys = Keys::new("round");
    let local = keys.file("local", &LOCAL);
    let seed = keys.file("seed", &SEED);
    let public = keys.public();
    for (alg, mint_key, verify_key) in [("v4.local", &local, &local), ("v4.public", &seed, &public)]
    {
        let token = mint(&[
            "--alg",
            alg,
            "--key-file",
            mint_key,
            "--sub",
            "alice",
            "--aud",
            "api",
            "--footer",
            "kid-1",
            "--implicit",
            "tenant-7",
            "--now",
            "1700000000",
            "--ttl",
            "60",
        ]);
        assert!(token.starts_with(&format!("{alg}.")), "{token}");
        let base = ["--alg", alg, "--key-file", verify_key, "--aud", "api"];
        let ok = [
            &base[..],
            &["--implicit", "tenant-7", "--now", "1700000059"],
        ]
        .concat();
        let (code, v) = verify(&ok, &token);
        assert_eq!(code, Some(0), "{alg}: {v}");
        assert_eq!(v["claims"]["sub"], "alice");
        assert_eq!(v["claims"]["iat"], "2023-11-14T22:13:20Z");
        assert_eq!(v["claims"]["exp"], "2023-11-14T22:14:20Z");
        assert_eq!(v["footer"], "kid-1");
        let refused = |extra: &[&str], error: &str| {
            let (code, v) = verify(&[&base[..], extra].concat(), &token);
            assert_eq!(
                (code, v["error"].as_str()),
                (Some(1), Some(error)),
                "{alg} {extra:?}: {v}"
            );
        };
        refused(
            &["--implicit", "tenant-7", "--now", "1700000060"],
            "expired",
        );
        refused(
            &["--implicit", "tenant-8", "--now", "1700000000"],
            "signature",
        );
        refused(&["--now", "1700000000"], "signature");
        refused(
            &[
                "--implicit",
                "tenant-7",
                "--footer",
                "kid-2",
                "--now",
                "1700000000",
            ],
            "footer",
        );
    }
    // A token of one purpose under the other's key: refused by its header.
    let token = mint(&["--alg", "v4.public", "--key-file", &seed]);
    let (code, v) = verify(&["--alg", "v4.local", "--key-file", &local], &token);
    assert_eq!((code, v["error"].as_str()), (Some(1), Some("algorithm")));
}

#[test]
fn paseto_configuration_errors_exit_2() {
    let keys = Keys::new("config");
    let short = keys.file("short", &[1; 31]);
    let local = keys.file("local", &LOCAL);
    let public = keys.public();
    for (args, says) in [
        (
            &[
                "gateway",
                "--listen",
                "127.0.0.1:0",
                "--upstream",
                "http://127.0.0.1:9",
                "--alg",
                "v4.public",
                "--key-file",
                &public,
                "--redis",
                "redis://127.0.0.1:9/",
            ][..],
            "needs --record-secret-file",
        ),
        (
            &["mint", "--alg", "v4.local", "--key-file", &short],
            "expected 32 bytes",
        ),
        (
            &["mint", "--alg", "v4.public", "--key-file", &short],
            "expected 32 bytes",
        ),
        (
            &["verify", "--alg", "v4.public", "--key-file", &short],
            "expected 32 bytes",
        ),
        (
            &[
                "mint",
                "--alg",
                "v4.local",
                "--key-file",
                &local,
                "--kid",
                "a",
            ],
            "--kid",
        ),
        (
            &[
                "mint",
                "--alg",
                "HS256",
                "--key-file",
                &local,
                "--footer",
                "f",
            ],
            "--footer",
        ),
        (
            &[
                "verify",
                "--alg",
                "v4.local",
                "--key",
                &format!("a={local}"),
            ],
            "--key-file",
        ),
    ] {
        let out = tessera(args, b"");
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(says), "{args:?}: {}", stderr(&out));
    }
}

/// Runs a Python snippet with pyseto imported.
fn python(script: &str, args: &[&str]) -> String {
    let probe = run("python3", &["-c", "import pyseto"], b"");
    assert!(
        probe.status.success(),
        "pyseto is missing: run `python3 -m pip install pyseto` (CI does this in .ci/test-all): {}",
        stderr(&probe)
    );
    let script = format!("import pyseto, json, sys\nfrom pyseto import Key\n{script}");
    let out = run("python3", &[&["-c", &script[..]], args].concat(), b"");
    assert!(out.status.success(), "python failed: {}", stderr(&out));
    String::from_utf8(out.stdout).unwrap().trim_end().to_owned()
}

const PY_KEYS: &str =
    "local = Key.new(version=4, purpose='local', key=open(sys.argv[1], 'rb').read())\n\
    secret = Key.from_asymmetric_key_params(version=4, d=open(sys.argv[2], 'rb').read())\n\
    public = Key.from_asymmetric_key_params(version=4, x=open(sys.argv[3], 'rb').read())\n";

#[test]
fn tessera_tokens_decode_in_pyseto() {
    let keys = Keys::new("to-py");
    let (local, seed, public) = (
        keys.file("local", &LOCAL),
        keys.file("seed", &SEED),
        keys.public(),
    );
    let common = [
        "--sub",
        "caf\u{e9}",
        "--claims",
        r#"{"n":1}"#,
        "--footer",
        "kid-1",
        "--implicit",
        "i",
    ];
    let local_token = mint(&[&["--alg", "v4.local", "--key-file", &local][..], &common].concat());
    let public_token = mint(&[&["--alg", "v4.public", "--key-file", &seed][..], &common].concat());
    let decoded = python(
        &format!(
            "{PY_KEYS}out = []\n\
             for key, token in ((local, sys.argv[4]), (public, sys.argv[5])):\n\
             \x20   d = pyseto.decode(key, token, implicit_assertion=b'i', deserializer=json)\n\
             \x20   out.append({{'payload': d.payload, 'footer': d.footer.decode()}})\n\
             print(json.dumps(out))"
        ),
        &[&local, &seed, &public, &local_token, &public_token],
    );
    let v: Value = serde_json::from_str(&decoded).unwrap();
    for d in v.as_array().unwrap() {
        assert_eq!(d["payload"]["sub"], "caf\u{e9}");
        assert_eq!(d["payload"]["n"], 1);
        assert_eq!(d["footer"], "kid-1");
    }
}

#[test]
fn pyseto_tokens_verify_in_tessera() {
    let keys = Keys::new("from-py");
    let (local, seed, public) = (
        keys.file("local", &LOCAL),
        keys.file("seed", &SEED),
        keys.public(),
    );
    // pyseto writes `exp` with a `+00:00` offset; `nbf` here with `+02:00`.
    let tokens = python(
        &format!(
            "{PY_KEYS}import datetime\n\
             now = datetime.datetime.now(datetime.timezone(datetime.timedelta(hours=2)))\n\
             claims = {{'sub': 'caf\\u00e9', 'nbf': (now - datetime.timedelta(seconds=5)).isoformat()}}\n\
             for key in (local, secret):\n\
             \x20   print(pyseto.encode(key, claims, footer=b'kid-1', implicit_assertion=b'i', exp=300).decode())"
        ),
        &[&local, &seed, &public],
    );
    let tokens: Vec<&str> = tokens.lines().collect();
    assert_eq!(tokens.len(), 2, "{tokens:?}");
    for (alg, key, token) in [
        ("v4.local", &local, tokens[0]),
        ("v4.public", &public, tokens[1]),
    ] {
        let args = [
            "--alg",
            alg,
            "--key-file",
            key,
            "--implicit",
            "i",
            "--footer",
            "kid-1",
        ];
        let (code, v) = verify(&args, token);
        assert_eq!(code, Some(0), "{alg}: {v}");
        assert_eq!(v["claims"]["sub"], "caf\u{e9}");
        assert_eq!(v["footer"], "kid-1");
        // One changed character in the body is refused.
        let mut tampered = token.to_owned().into_bytes();
        let i = alg.len() + 5;
        tampered[i] = if tampered[i] == b'A' { b'B' } else { b'A' };
        let (code, v) = verify(&args, std::str::from_utf8(&tampered).unwrap());
        assert_eq!(code, Some(1), "{alg}: {v}");
    }
}
