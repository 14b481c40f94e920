//! Named seed inputs for every target. `cargo run --example write_seeds`
//! writes them to `corpus/<target>/seed-<name>` (committed); the tests replay
//! them and check each one's expected verdict, so a seed that stops meaning
//! what its name says fails the build.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use tessera_core::Algorithm;

use crate::fixtures::{Setup, AUDIENCE, ISSUER, KIDS, NOW};
use crate::reference::{sign_input, sign_parts};
use crate::verify::{standard_header, SEPARATOR, SIGNED};
use crate::window_ops::Op;

/// What the reference must say about a `verify` seed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    /// Both accept.
    Accept,
    /// Both reject.
    Reject,
    /// Outside the comparison (documented in `reference`).
    Incomparable,
}

/// A named seed.
pub struct Seed {
    /// File name suffix.
    pub name: String,
    /// The fuzz input.
    pub bytes: Vec<u8>,
    /// For `verify` seeds, the expected verdict.
    pub expect: Option<Expect>,
}

fn seed(name: impl Into<String>, bytes: impl Into<Vec<u8>>, expect: Option<Expect>) -> Seed {
    Seed { name: name.into(), bytes: bytes.into(), expect }
}

fn alg_name(alg: Algorithm) -> String {
    alg.name().to_ascii_lowercase()
}

fn good_claims(setup: Setup) -> String {
    let exp = NOW + 3600;
    match setup {
        Setup::Single(_) => format!(r#"{{"sub":"user-1","jti":"j-1","iat":{NOW},"exp":{exp}}}"#),
        Setup::Ring => format!(r#"{{"iss":"{ISSUER}","aud":["other","{AUDIENCE}"],"sub":"user-1","exp":{exp}}}"#),
    }
}

/// A raw-mode input: control byte of `setup`, then the token.
fn raw(setup: Setup, token: &str) -> Vec<u8> {
    let mut v = vec![setup.control()];
    v.extend_from_slice(token.as_bytes());
    v
}

/// A signed-mode input: `header 0xFF payload`, signed with key slot `pick`.
fn signed(setup: Setup, pick: u8, header: &str, payload: &str) -> Vec<u8> {
    let mut v = vec![setup.control() | SIGNED | (pick << 3)];
    v.extend_from_slice(header.as_bytes());
    v.push(SEPARATOR);
    v.extend_from_slice(payload.as_bytes());
    v
}

/// Seeds for `verify`: valid tokens of each algorithm and each malformed family.
pub fn verify() -> Vec<Seed> {
    use Expect::*;
    let mut out = Vec::new();
    for setup in Setup::ALL {
        for pick in 0..3u8 {
            let (alg, kid) = setup.signing_key(pick);
            if matches!(setup, Setup::Single(_)) && pick > 0 {
                break;
            }
            let token = sign_parts(alg, standard_header(alg, kid).as_bytes(), good_claims(setup).as_bytes());
            let name = match setup {
                Setup::Single(_) => format!("valid-{}", alg_name(alg)),
                Setup::Ring => format!("valid-ring-{}", KIDS[usize::from(pick)]),
            };
            out.push(seed(name, raw(setup, &token), Some(Accept)));
        }
    }

    let s = Setup::Single(Algorithm::Hs256);
    let hs = Algorithm::Hs256;
    let good = sign_parts(hs, standard_header(hs, None).as_bytes(), good_claims(s).as_bytes());
    let (h, rest) = good.split_once('.').expect("three segments");
    let (p, sig) = rest.split_once('.').expect("three segments");
    let structural: Vec<(&str, String)> = vec![
        ("segments-two", format!("{h}.{p}")),
        ("segments-four", format!("{good}.{sig}")),
        ("segments-jwe-five", format!("{h}.{p}.{p}.{p}.{sig}")),
        ("segments-empty-signature", format!("{h}.{p}.")),
        ("segments-empty-payload", format!("{h}..{sig}")),
        ("b64-padded-signature", format!("{good}=")),
        ("b64-std-alphabet", good.replace('-', "+").replace('_', "/") + "+/"),
        ("b64-whitespace", format!("{h}.{p} .{sig}")),
        ("b64-trailing-bits", format!("{h}.{p}.{}", flip_last_bit(sig))),
        ("b64-length-4k1", format!("{h}.{p}A.{sig}")),
        ("sig-truncated", format!("{h}.{p}.{}", &sig[..sig.len() - 2])),
        ("sig-wrong", format!("{h}.{p}.{}", URL_SAFE_NO_PAD.encode([0u8; 32]))),
        ("sig-too-long", format!("{h}.{p}.{}", URL_SAFE_NO_PAD.encode([7u8; 96]))),
        ("alg-none", format!("{}.{p}.{sig}", URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#))),
        (
            "too-long",
            sign_parts(
                hs,
                standard_header(hs, None).as_bytes(),
                format!(r#"{{"exp":{},"pad":"{}"}}"#, NOW + 60, "x".repeat(6200)).as_bytes(),
            ),
        ),
    ];
    for (name, token) in structural {
        out.push(seed(name, raw(s, &token), Some(Reject)));
    }
    out.push(seed(
        "alg-confusion-hs384-header",
        raw(s, &sign_parts(hs, standard_header(Algorithm::Hs384, None).as_bytes(), good_claims(s).as_bytes())),
        Some(Reject),
    ));
    out.push(seed(
        "non-utf8-header",
        raw(s, &sign_input(hs, &format!("{}.{p}", URL_SAFE_NO_PAD.encode(b"{\"alg\":\"HS256\",\"x\":\"\xff\"}")))),
        Some(Reject),
    ));

    let std_h = r#"{"alg":"HS256","typ":"JWT"}"#;
    let exp = NOW + 60;
    let families: Vec<(&str, &str, String, Expect)> = vec![
        ("header-crit", r#"{"alg":"HS256","crit":["exp"]}"#, format!(r#"{{"exp":{exp}}}"#), Reject),
        ("header-dup-alg", r#"{"alg":"HS256","alg":"HS256"}"#, format!(r#"{{"exp":{exp}}}"#), Reject),
        ("header-typ-null", r#"{"alg":"HS256","typ":null}"#, format!(r#"{{"exp":{exp}}}"#), Reject),
        ("header-kid-number", r#"{"alg":"HS256","kid":7}"#, format!(r#"{{"exp":{exp}}}"#), Reject),
        (
            "header-alg-escaped",
            r#"{"alg":"HS\u0032\u00356","extra":{"a":[1,2,{"b":null}]}}"#,
            format!(r#"{{"exp":{exp}}}"#),
            Accept,
        ),
        ("header-alg-lowercase", r#"{"alg":"hs256"}"#, format!(r#"{{"exp":{exp}}}"#), Reject),
        ("header-array", r#"["HS256"]"#, format!(r#"{{"exp":{exp}}}"#), Reject),
        ("header-jwk-typed", r#"{"alg":"HS256","jwk":5}"#, format!(r#"{{"exp":{exp}}}"#), Incomparable),
        ("claims-expired", std_h, format!(r#"{{"exp":{NOW}}}"#), Reject),
        ("claims-expires-next-second", std_h, format!(r#"{{"exp":{}}}"#, NOW + 1), Accept),
        ("claims-nbf-future", std_h, format!(r#"{{"exp":{exp},"nbf":{}}}"#, NOW + 1), Reject),
        ("claims-nbf-now", std_h, format!(r#"{{"exp":{exp},"nbf":{NOW}}}"#), Accept),
        ("claims-exp-missing", std_h, r#"{"sub":"x"}"#.into(), Reject),
        ("claims-exp-dup", std_h, format!(r#"{{"exp":{exp},"exp":{exp}}}"#), Reject),
        ("claims-exp-escaped-dup", std_h, format!(r#"{{"exp":{exp},"\u0065xp":{exp}}}"#), Reject),
        ("claims-exp-float", std_h, format!(r#"{{"exp":{exp}.0}}"#), Reject),
        ("claims-exp-exponent", std_h, r#"{"exp":2e9}"#.into(), Reject),
        ("claims-exp-string", std_h, format!(r#"{{"exp":"{exp}"}}"#), Reject),
        ("claims-exp-negative-zero", std_h, r#"{"exp":-0}"#.into(), Reject),
        ("claims-exp-2pow53", std_h, r#"{"exp":9007199254740992}"#.into(), Accept),
        ("claims-exp-2pow53-plus-1", std_h, r#"{"exp":9007199254740993}"#.into(), Reject),
        ("claims-exp-u64-overflow", std_h, r#"{"exp":18446744073709551616}"#.into(), Reject),
        ("claims-iat-float", std_h, format!(r#"{{"exp":{exp},"iat":1.5}}"#), Reject),
        ("claims-sub-number", std_h, format!(r#"{{"exp":{exp},"sub":1}}"#), Reject),
        ("claims-jti-null", std_h, format!(r#"{{"exp":{exp},"jti":null}}"#), Reject),
        ("claims-aud-unasked", std_h, format!(r#"{{"exp":{exp},"aud":"x"}}"#), Reject),
        ("claims-other-dup-ok", std_h, format!(r#"{{"exp":{exp},"x":1,"x":2}}"#), Accept),
        (
            "claims-escapes",
            std_h,
            format!(r#"{{"exp":{exp},"sub":"caf\u00e9 \ud83d\ude00 \"q\" \\ \/","jti":"\t"}}"#),
            Accept,
        ),
        ("claims-lone-surrogate", std_h, format!(r#"{{"exp":{exp},"sub":"\ud800"}}"#), Reject),
        ("claims-control-char", std_h, format!("{{\"exp\":{exp},\"sub\":\"a\u{1}\"}}"), Reject),
        ("claims-depth-32", std_h, format!(r#"{{"exp":{exp},"x":{}{}}}"#, "[".repeat(31), "]".repeat(31)), Accept),
        ("claims-depth-33", std_h, format!(r#"{{"exp":{exp},"x":{}{}}}"#, "[".repeat(32), "]".repeat(32)), Reject),
        ("claims-depth-200", std_h, format!(r#"{{"exp":{exp},"x":{}{}}}"#, "[".repeat(200), "]".repeat(200)), Reject),
        ("claims-trailing-comma", std_h, format!(r#"{{"exp":{exp},}}"#), Reject),
        ("claims-bom", std_h, format!("\u{feff}{{\"exp\":{exp}}}"), Reject),
        ("claims-trailing-garbage", std_h, format!(r#"{{"exp":{exp}}}x"#), Reject),
        ("claims-array", std_h, format!("[{exp}]"), Reject),
        (
            "claims-number-edges",
            std_h,
            format!(r#"{{"exp":{exp},"a":-0,"b":1E-400,"c":-9223372036854775809,"d":0.0e+0}}"#),
            Accept,
        ),
        ("claims-number-beyond-f64", std_h, format!(r#"{{"exp":{exp},"big":1e400}}"#), Incomparable),
    ];
    for (name, header, payload, expect) in families {
        out.push(seed(name, signed(s, 0, header, &payload), Some(expect)));
    }
    let ring_h = |i: usize| format!(r#"{{"alg":"{}","kid":"{}"}}"#, Algorithm::ALL[i], KIDS[i]);
    let ring_claims = good_claims(Setup::Ring);
    let ring: Vec<(&str, String, u8, String, Expect)> = vec![
        ("ring-kid-missing", r#"{"alg":"HS256"}"#.into(), 0, ring_claims.clone(), Reject),
        ("ring-kid-unknown", r#"{"alg":"HS256","kid":"nope"}"#.into(), 0, ring_claims.clone(), Reject),
        ("ring-kid-escaped", r#"{"alg":"HS384","kid":"k\u0033\u00384"}"#.into(), 1, ring_claims.clone(), Accept),
        ("ring-kid-wrong-alg", format!(r#"{{"alg":"HS256","kid":"{}"}}"#, KIDS[1]), 1, ring_claims.clone(), Reject),
        ("ring-kid-of-other-key", ring_h(2), 0, ring_claims.clone(), Reject),
        ("ring-issuer-wrong", ring_h(0), 0, ring_claims.replace(ISSUER, "https://evil.example"), Reject),
        ("ring-aud-missing", ring_h(0), 0, format!(r#"{{"iss":"{ISSUER}","exp":{}}}"#, NOW + 60), Reject),
        (
            "ring-leeway-expired-inside",
            ring_h(0),
            0,
            format!(r#"{{"iss":"{ISSUER}","aud":"{AUDIENCE}","exp":{}}}"#, NOW - 29),
            Accept,
        ),
        (
            "ring-leeway-expired-beyond",
            ring_h(0),
            0,
            format!(r#"{{"iss":"{ISSUER}","aud":"{AUDIENCE}","exp":{}}}"#, NOW - 30),
            Reject,
        ),
    ];
    for (name, header, pick, payload, expect) in ring {
        out.push(seed(name, signed(Setup::Ring, pick, &header, &payload), Some(expect)));
    }
    out
}

fn flip_last_bit(segment: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut s = segment.to_owned();
    let last = s.pop().expect("non-empty");
    let i = ALPHABET.iter().position(|c| char::from(*c) == last).expect("base64url");
    s.push(char::from(ALPHABET[i ^ 1]));
    s
}

/// Seeds for `claims_json`: payloads covering escapes, nesting, duplicates, numbers.
pub fn claims_json() -> Vec<Seed> {
    let exp = NOW + 60;
    let docs: Vec<(&str, String)> = vec![
        ("empty-object", "{}".into()),
        ("typical", format!(r#"{{"sub":"user-1","jti":"8c1f","iat":{NOW},"exp":{exp},"scope":["read","write"]}}"#)),
        ("escapes", r#"{"sub":"\u00e9\ud83d\ude00\"\\\/\b\f\n\r\t","\u006a\u0074\u0069":"x"}"#.into()),
        ("nested", r#"{"a":{"b":[{"c":[[],{}]},null,true,false,-1.5e-3]}}"#.into()),
        ("duplicate-registered", r#"{"sub":"a","sub":"b"}"#.into()),
        ("duplicate-other", r#"{"z":1,"z":[2]}"#.into()),
        (
            "numbers-edges",
            r#"{"iat":0,"nbf":9007199254740992,"a":-0,"b":1e308,"c":5e-324,"d":123456789012345678901234567890}"#.into(),
        ),
        ("number-beyond", r#"{"a":1e400}"#.into()),
        ("leading-zero", r#"{"iat":01}"#.into()),
        ("whitespace", " \t\r\n{ \"sub\" : \"x\" , \"iat\" : 5 } \n".into()),
        ("deep-31", format!(r#"{{"a":{}{}}}"#, "[".repeat(31), "]".repeat(31))),
        ("deep-32", format!(r#"{{"a":{}{}}}"#, "{\"b\":".repeat(32), "}".repeat(32))),
        ("aud-array-bad", r#"{"aud":["a",1]}"#.into()),
        ("truncated", r#"{"sub":"abc"#.into()),
        ("not-object", r#""just a string""#.into()),
    ];
    docs.into_iter().map(|(n, d)| seed(n, d, None)).collect()
}

/// Seeds for `base64url`: bytes to encode, and segments to decode.
pub fn base64url() -> Vec<Seed> {
    let mut out = vec![
        seed("encode-empty", vec![0], None),
        seed("encode-json", [&[0u8][..], br#"{"sub":"x","exp":1}"#].concat(), None),
        seed("encode-binary", [0u8, 0xFF, 0x00, 0xFB, 0xEF, 0xBE].to_vec(), None),
    ];
    let canonical = URL_SAFE_NO_PAD.encode(br#"{"a":"?>~"}"#);
    for how in 0..8u8 {
        let mut v = vec![1 | (how << 1)];
        v.extend_from_slice(canonical.as_bytes());
        out.push(seed(format!("decode-variant-{how}"), v, None));
    }
    out.push(seed("decode-two-chars", [&[1u8][..], b"e30"].concat(), None));
    out
}

/// Seeds for `paseto`: official-vector-shaped tokens and round trips with edits.
pub fn paseto() -> Vec<Seed> {
    let mut out = vec![
        seed("token-local-garbage", [&[0u8][..], b"v4.local.AAAA"].concat(), None),
        seed("token-public-footer-dot", [&[1u8][..], b"v4.public.AAAA."].concat(), None),
        seed("token-wrong-header", [&[0u8][..], b"v3.local.AAAA.AAAA"].concat(), None),
    ];
    for control in [2u8, 3, 6, 7, 14, 15] {
        let mut body = vec![control];
        body.extend([0x42; 32]);
        body.extend(b"alice \\ \"q\" \xc3\xa9");
        body.resize(1 + 32 + 64, 0);
        body.extend([3, 0, 0, 40, 0, 1, 200, 0, 2, 9, 0, 65, 5, 0x80, 0, 30, 0x80, 66]);
        out.push(seed(format!("round-trip-{control}"), body, None));
    }
    out
}

/// Encodes `ops` the way `arbitrary` decodes them (checked by a test), after
/// the 16-byte window secret.
pub fn encode_ops(secret: [u8; 16], ops: &[Op]) -> Vec<u8> {
    let mut out = secret.to_vec();
    let tag = |i: u32| (i << 30).to_le_bytes();
    for op in ops {
        out.push(1); // arbitrary_iter: keep going
        match *op {
            Op::Begin { scope, key, other_fingerprint, keep, newer } => {
                out.extend(tag(0));
                out.extend([scope, key, u8::from(other_fingerprint)]);
                match keep {
                    Some(k) => out.extend([1, k]),
                    None => out.push(0),
                }
                out.push(newer);
            }
            Op::Complete { ticket, value } => {
                out.extend(tag(1));
                out.extend([ticket, value]);
            }
            Op::Abort { ticket } => {
                out.extend(tag(2));
                out.push(ticket);
            }
            Op::Advance(t) => {
                out.extend(tag(3));
                out.push(t);
            }
        }
    }
    out.push(0);
    out
}

/// Seeds for `window_ops`: replay, in-flight, mismatch, expiry, pressure.
pub fn window_ops() -> Vec<Seed> {
    use Op::*;
    let b = |scope, key, other_fingerprint| Begin { scope, key, other_fingerprint, keep: None, newer: 0 };
    // (3, 5) is stamped in the past; (1, 1) starts beyond the skew.
    let lifecycle = vec![
        b(1, 1, false),
        b(3, 5, false),
        b(3, 5, false),
        b(3, 5, true),
        Complete { ticket: 0, value: 7 },
        b(3, 5, false),
        b(3, 5, true),
        b(2, 2, false),
        Advance(45),
        b(3, 5, false),
        Abort { ticket: 0 },
        b(3, 5, false),
    ];
    let cross_scope = vec![b(1, 2, false), Complete { ticket: 0, value: 1 }, b(2, 1, false), b(1, 2, false)];
    let lease_expiry = vec![b(3, 3, false), Advance(11), Complete { ticket: 0, value: 1 }, b(3, 3, false)];
    let kept = vec![
        Begin { scope: 0, key: 4, other_fingerprint: false, keep: Some(200), newer: 0 },
        Complete { ticket: 0, value: 2 },
        Advance(63),
        Advance(63),
        b(0, 4, false),
    ];
    let mut pressure = Vec::new();
    for i in 0..32u8 {
        pressure.push(b(i % 4, i / 4, false));
        pressure.push(Complete { ticket: 0, value: i });
        if i % 5 == 0 {
            pressure.push(Advance(3));
        }
    }
    pressure.extend((0..32u8).map(|i| b(i % 4, i / 4, false)));
    // Retries with newer stamps, then after every record (and floor) ended.
    pressure.extend((0..8u8).map(|i| Begin {
        scope: i % 4,
        key: i / 4,
        other_fingerprint: false,
        keep: None,
        newer: 9,
    }));
    pressure.extend([Advance(63), Advance(63)]);
    pressure.extend((0..8u8).map(|i| b(i % 4, i / 4, false)));
    // Every pair in flight at once: more than the 16 slots, none evictable.
    let all_in_flight: Vec<Op> = (0..32u8).map(|i| b(i % 4, i / 4, false)).collect();
    vec![
        seed("all-in-flight", encode_ops([6; 16], &all_in_flight), None),
        seed("lifecycle", encode_ops([1; 16], &lifecycle), None),
        seed("cross-scope", encode_ops([2; 16], &cross_scope), None),
        seed("lease-expiry", encode_ops([3; 16], &lease_expiry), None),
        seed("keep-until", encode_ops([4; 16], &kept), None),
        seed("pressure", encode_ops([5; 16], &pressure), None),
    ]
}

/// Seeds for `sign_verify`: byte patterns (the input is structured by `arbitrary`).
pub fn sign_verify() -> Vec<Seed> {
    let lcg = |seed: u64, len: usize| {
        let mut x = seed;
        (0..len)
            .map(|_| {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                (x >> 56) as u8
            })
            .collect::<Vec<u8>>()
    };
    vec![
        seed("zeros", vec![0u8; 64], None),
        seed("ones", vec![0xFF; 64], None),
        seed("text", br#"exp nbf iat "iss" \u00e9 sub jti aud {"x":[1,2]} kid-1 \\ \" \n"#.to_vec(), None),
        seed("random-128", lcg(1, 128), None),
        seed("random-512", lcg(2, 512), None),
    ]
}

/// Seeds for `sign_any`: the same byte patterns (its input is structured by `arbitrary` too).
pub fn sign_any() -> Vec<Seed> {
    sign_verify()
}

/// Seeds for `redis_record`: one record of each form, as the store writes them.
pub fn redis_record() -> Vec<Seed> {
    use tessera_std::store::record_codec::{Lease, Record};
    use tessera_std::store::StoredResponse;
    let (fingerprint, token) = ([0x11; 16], [0x22; 16]);
    let running = |lease| Record::Running { fingerprint, token, lease };
    let records = [
        ("running-ttl", running(Lease::FromExpiry { ttl: 86_400_000 })),
        ("running-explicit", running(Lease::Explicit { end: 1_764_579_600_000, keep_until: None })),
        ("running-keep", running(Lease::Explicit { end: 1_764_579_600_000, keep_until: Some(1_764_666_000_000) })),
        (
            "done",
            Record::Done {
                fingerprint,
                token,
                response: StoredResponse {
                    status: 201,
                    headers: vec![("content-type".into(), b"application/json".to_vec()), ("x-empty".into(), vec![])],
                    body: br#"{"id":1}"#.to_vec(),
                },
            },
        ),
    ];
    records.into_iter().map(|(name, r)| seed(name, r.encode().expect("encodes"), None)).collect()
}

/// Every target's seeds, by target name.
pub fn all() -> Vec<(&'static str, Vec<Seed>)> {
    vec![
        ("verify", verify()),
        ("sign_verify", sign_verify()),
        ("sign_any", sign_any()),
        ("claims_json", claims_json()),
        ("window_ops", window_ops()),
        ("base64url", base64url()),
        ("paseto", paseto()),
        ("frame", frame()),
        ("redis_record", redis_record()),
    ]
}

/// A token for the `frame` target's endpoint.
fn frame_token(aud: &str, sub: Option<&str>, iat: u64, exp: u64) -> String {
    use crate::frame::{ISSUER, SECRET};
    let sub = sub.map(|s| format!(r#""sub":"{s}","#)).unwrap_or_default();
    let claims = format!(r#"{{"iss":"{ISSUER}","aud":"{aud}",{sub}"iat":{iat},"exp":{exp}}}"#);
    let mut out = [0u8; 512];
    tessera_core::Key::hs256(SECRET).expect("key").sign_json(claims.as_bytes(), &mut out).expect("sign").to_owned()
}

/// Seeds for `frame`: a session with valid time and request tokens (the
/// endpoint's clock advances one second per line), malformed frames, a long
/// line, `\r\n` endings.
pub fn frame() -> Vec<Seed> {
    use crate::frame::{AUDIENCE, TIME_AUDIENCE};
    let time = |iat| frame_token(TIME_AUDIENCE, None, iat, iat + 60);
    // The restart floor is the boot sync + 30 s; line n runs at NOW + n - 1.
    let request = |iat| frame_token(AUDIENCE, Some("app-1"), iat, iat + 600);
    let session = [
        format!("R k0 on {}", request(NOW)),
        format!("T {}", time(NOW)),
        format!("R k1 toggle {}", request(NOW + 31)),
        format!("R k1 toggle {}", request(NOW + 31)),
        format!("R k1 off {}", request(NOW + 31)),
        "S".to_owned(),
        format!("R k2 pulse {}", request(NOW + 33)),
        format!("R k2 pulse {}", request(NOW + 33)),
        format!("R k3 on {}", request(NOW + 34)),
        format!("T {}", time(NOW)),
        format!("T {}", request(NOW + 36)),
        format!("R k4 on {}", time(NOW + 36)),
        format!("R k5 on {}", request(NOW + 10)),
        "".to_owned(),
        "".to_owned(),
        "".to_owned(),
        format!("R k2 pulse {}", request(NOW + 33)),
        "B".to_owned(),
        "X".to_owned(),
    ];
    let malformed =
        ["", "Q", "S extra", "T", "T a b", "R k on", "R k on t extra", "R  k on t", "R k/1 on t", "R k blink t"];
    vec![
        seed("session", session.join("\n") + "\n", None),
        seed("malformed", [malformed.join("\n").as_bytes(), b"\nR k on \xff\n"].concat(), None),
        seed("long-line", [vec![b'T', b' '], vec![b'a'; 600], b"\nS\n".to_vec()].concat(), None),
        seed("crlf", "S\r\nX\r\n\r\n", None),
        // Key lengths at the limit: 32 is a key, 33 is `bad_key`.
        seed("key-lengths", format!("R {} on t\nR {} on t\n", "k".repeat(32), "k".repeat(33)), None),
    ]
}
