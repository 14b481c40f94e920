//! Links with `memory.x` and mints, with the real `tessera-core` signer and
//! the firmware's own key ring, the tokens of the scripted QEMU session and
//! of the footprint probe. Outputs (in `OUT_DIR`):
//!
//! - `session.frames`: the UART input, one frame per line;
//! - `session.expect`: per frame, the one answer it must get (a literal line)
//!   and what it checks, tab-separated;
//! - `footprint.rs`: one valid token and its time, for `core-footprint`.
//!
//! Which keys a full window refuses, and which record an eviction drops,
//! depend on the window's per-device hash secret: [`Shadow`] replays the
//! session's window calls on a `tessera_core` window with the firmware's
//! secret and configuration, so every expected answer is exact.
#![allow(clippy::expect_used, clippy::panic, clippy::indexing_slicing, clippy::arithmetic_side_effects)] // constants only; a build script fails by panicking

use std::{env, fs, path::PathBuf};

use tessera_core::{
    window::{Begin, Fingerprint, Request, Window},
    Key,
};

#[allow(dead_code)] // Some items are firmware-only.
mod keys {
    include!("src/keys.rs");
}

/// The session's wall clock after the boot sync.
const T0: u64 = 1_764_072_000;
/// The first time sync after boot: the restart floor is `BOOT + skew`, so
/// tokens issued at `T0` clear it.
const BOOT: u64 = T0 - 100;
/// Token lifetime; the window keeps each key until its token expires.
const TTL: u64 = 600;
/// Idempotency window size of the endpoint.
const WINDOW: usize = 32;
/// The endpoint's pulse length (`tessera_app::endpoint::PULSE_SECS`).
const PULSE: u64 = 5;
/// When the lease-expiry pulse is checked: past its lease.
const LATE: u64 = T0 + 30;
/// The boot sync after the mid-session reset: past the clock before it
/// (`LATE` plus the seconds QEMU took), which the retained mark remembers.
const REBOOT: u64 = T0 + 120;

fn main() {
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR"));
    fs::copy("memory.x", out.join("memory.x")).expect("copy memory.x");
    println!("cargo:rustc-link-search={}", out.display());
    for input in ["memory.x", "src/keys.rs", "build.rs"] {
        println!("cargo:rerun-if-changed={input}");
    }

    let script = session();
    let frames: String = script.iter().map(|s| format!("{}\n", s.frame)).collect();
    let expect: String = script.iter().map(|s| format!("{}\t{}\n", s.answer, s.check)).collect();
    fs::write(out.join("session.frames"), frames).expect("write frames");
    fs::write(out.join("session.expect"), expect).expect("write expect");

    let token = claims_token(&current(), "app-1", T0, T0 + TTL);
    let (public, public_token, local, local_token) = paseto_tokens();
    let probe = format!(
        "/// A valid token.\n#[allow(dead_code)]\nconst TOKEN: &str = {token:?};\n/// Its `iat`.\nconst NOW: u64 = {T0};\n\
         /// A v4.public key and a token it verifies.\n#[allow(dead_code)]\nconst PASETO_PUBLIC: [u8; 32] = {public:?};\n\
         #[allow(dead_code)]\nconst PASETO_PUBLIC_TOKEN: &str = {public_token:?};\n\
         /// A v4.local key and a token it decrypts.\n#[allow(dead_code)]\nconst PASETO_LOCAL: [u8; 32] = {local:?};\n\
         #[allow(dead_code)]\nconst PASETO_LOCAL_TOKEN: &str = {local_token:?};\n"
    );
    fs::write(out.join("footprint.rs"), probe).expect("write footprint.rs");
}

/// The PASETO probes' keys and tokens: the same claims as the HS256 probe's,
/// with RFC 3339 dates.
fn paseto_tokens() -> ([u8; 32], String, [u8; 32], String) {
    use tessera_core::paseto::{format_date, LocalKey, Options, SecretKey};
    let date = |secs| format_date(secs, &mut [0; 20]).expect("date").to_owned();
    let claims = format!(
        r#"{{"iss":"{}","sub":"app-1","aud":"{}","iat":"{}","exp":"{}"}}"#,
        keys::ISSUER,
        keys::AUDIENCE,
        date(T0),
        date(T0 + TTL)
    );
    let mut out = [0u8; 1024];
    let secret = SecretKey::from_seed(b"tessera-demo-paseto-seed-32-byte");
    let public = secret.public_key().to_bytes();
    let public_token = secret.sign_json(claims.as_bytes(), &Options::new(), &mut out).expect("sign").to_owned();
    let local_key = *b"tessera-demo-paseto-local-32-key";
    let local_token = LocalKey::from_bytes(local_key)
        .encrypt_json(claims.as_bytes(), b"fixed-demo-nonce-never-reuse-it!", &Options::new(), &mut out)
        .expect("encrypt")
        .to_owned();
    (public, public_token, local_key, local_token)
}

struct Step {
    frame: String,
    answer: String,
    check: String,
}

fn step(frame: impl Into<String>, answer: impl Into<String>, check: &str) -> Step {
    Step { frame: frame.into(), answer: answer.into(), check: check.to_owned() }
}

fn key(index: usize) -> Key {
    let (kid, secret) = keys::KEYS[index];
    Key::hs256(secret).and_then(|k| k.with_kid(kid)).expect("demo key")
}

fn current() -> Key {
    key(0)
}

fn sign(key: &Key, claims: &str) -> String {
    let mut out = [0u8; 1024];
    key.sign_json(claims.as_bytes(), &mut out).expect("sign").to_owned()
}

fn payload(iss: &str, sub: &str, aud: &str, iat: u64, exp: u64) -> String {
    format!(r#"{{"iss":"{iss}","sub":"{sub}","aud":"{aud}","iat":{iat},"exp":{exp}}}"#)
}

fn claims_token(key: &Key, sub: &str, iat: u64, exp: u64) -> String {
    sign(key, &payload(keys::ISSUER, sub, keys::AUDIENCE, iat, exp))
}

/// A time token: `iat` is the time, valid for a minute.
fn time_token(key: &Key, iat: u64) -> String {
    sign(
        key,
        &format!(r#"{{"iss":"{}","aud":"{}","iat":{iat},"exp":{}}}"#, keys::ISSUER, keys::TIME_AUDIENCE, iat + 60),
    )
}

fn time(iat: u64, check: &str) -> Step {
    step(format!("T {}", time_token(&current(), iat)), format!("time 200 {iat}"), check)
}

/// A valid token whose payload is swapped for another one after signing.
fn tampered() -> String {
    let good = claims_token(&current(), "app-1", T0, T0 + TTL);
    let forged = claims_token(&current(), "admin", T0, T0 + TTL);
    let mut g = good.split('.');
    let (header, sig) = (g.next().expect("header"), g.nth(1).expect("signature"));
    let forged_payload = forged.split('.').nth(1).expect("payload");
    format!("{header}.{forged_payload}.{sig}")
}

/// base64url without padding, for hand-made tokens.
fn b64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(char::from(ABC[(n >> (18 - 6 * i) & 63) as usize]));
        }
    }
    out
}

/// The endpoint's window calls, replayed on a window with the same secret and
/// configuration: the source of the exact `429`s and of the evicted key.
struct Shadow(Window<(), WINDOW>);

impl Shadow {
    fn new() -> Self {
        Shadow(Window::new(keys::WINDOW_SECRET, keys::WINDOW_CONFIG))
    }

    fn request<'a>(sub: &'a str, key: &'a str, command: &str, iat: u64) -> Request<'a> {
        Request {
            scope: sub.as_bytes(),
            key: key.as_bytes(),
            fingerprint: Fingerprint::of(&[command.as_bytes()]),
            stamp: iat,
            keep_until: Some(iat + TTL),
        }
    }

    /// `begin`, then `complete` (Some) or leave in flight (None); returns whether it was fresh.
    fn run(
        &mut self,
        sub: &str,
        key: &str,
        command: &str,
        iat: u64,
        now: u64,
        settle: Option<u64>,
    ) -> Option<tessera_core::window::Ticket> {
        match self.0.begin(&Self::request(sub, key, command, iat), now) {
            Begin::Fresh(ticket) => match settle {
                Some(at) => {
                    self.0.complete(ticket, (), at).expect("complete");
                    None
                }
                None => Some(ticket),
            },
            Begin::Full => None,
            other => panic!("shadow window: {key} got {}", other.name()),
        }
    }

    fn holds(&self, sub: &str, key: &str, now: u64) -> bool {
        self.0.holds(sub.as_bytes(), key.as_bytes(), now)
    }
}

/// The session's window calls up to the end of the pressure run, in order, on
/// a shadow window; returns it and, per pressure key, whether it fits.
fn pressure() -> (Shadow, Vec<(String, bool)>) {
    let mut shadow = Shadow::new();
    shadow.run("app-1", "k1", "toggle", T0, T0, Some(T0));
    shadow.run("app-2", "k7", "off", T0, T0, Some(T0));
    shadow.run("app-1", "k11", "pulse", T0, T0, Some(T0 + PULSE + 1));
    let k12 = shadow.run("app-1", "k12", "off", T0, T0, None).expect("k12 fresh");
    shadow.0.abort(k12, T0).expect("abort");
    shadow.run("app-1", "k14", "pulse", T0, T0 + PULSE + 1, None);
    let outcomes = (2..=WINDOW + 2)
        .map(|i| {
            let key = format!("p{i:02}");
            shadow.run("app-1", &key, "on", T0, LATE, Some(LATE));
            let fits = shadow.holds("app-1", &key, LATE);
            (key, fits)
        })
        .collect();
    (shadow, outcomes)
}

fn session() -> Vec<Step> {
    let token = claims_token(&current(), "app-1", T0, T0 + TTL);
    let old_key = claims_token(&key(1), "app-2", T0, T0 + TTL);
    let expired = claims_token(&current(), "app-1", T0 - TTL, T0 - 1);
    let wrong_aud = sign(&current(), &payload(keys::ISSUER, "app-1", "relay-8", T0, T0 + TTL));
    let wrong_iss = sign(&current(), &payload("someone-else", "app-1", keys::AUDIENCE, T0, T0 + TTL));
    let stranger = Key::hs256(b"a-secret-this-device-never-knew!").and_then(|k| k.with_kid("2026-11")).expect("key");
    let unknown_kid = claims_token(
        &Key::hs256(keys::KEYS[0].1).and_then(|k| k.with_kid("2099-01")).expect("key"),
        "app-1",
        T0,
        T0 + TTL,
    );
    let future = claims_token(&current(), "app-1", T0 + 1_000, T0 + 2_000);
    let claims = b64(payload(keys::ISSUER, "app-1", keys::AUDIENCE, T0, T0 + TTL).as_bytes());
    let alg_none = format!("{}.{claims}.", b64(br#"{"alg":"none"}"#));
    let alg_none_kid = format!("{}.{claims}.{}", b64(br#"{"alg":"none","kid":"2026-11"}"#), b64(&[0; 32]));
    // The header is decoded before the MAC (its `kid` picks the key).
    let bad_base64 = token.replacen('.', "*.", 1);
    let time_at_t0 = time_token(&current(), T0);

    let mut s = vec![
        step(format!("R k1 toggle {token}"), "k1 503 no_time", "refused before the first time sync"),
        step(format!("T {BOOT}"), "time 401 malformed", "time: an unauthenticated time is refused"),
        step(
            format!("T {}", time_token(&stranger, BOOT)),
            "time 401 signature",
            "time: a forged time token is refused",
        ),
        step(format!("T {token}"), "time 401 audience", "time: a request token cannot set the time"),
        time(BOOT, "time: the boot sync sets the clock and the restart floor"),
        step(
            format!("T {}", time_token(&current(), BOOT)),
            "time 409 time_replayed",
            "time: a replayed time token is refused",
        ),
        step(format!("T {time_at_t0}"), format!("time 200 {T0}"), "time: a newer time token moves the clock on"),
        step(format!("R k0 on {time_at_t0}"), "k0 401 audience", "a time token cannot run a command"),
        step(
            format!("R k0 on {}", claims_token(&current(), "app-1", BOOT, BOOT + TTL)),
            "k0 410 stale",
            "a token not newer than the restart floor is refused",
        ),
        step("S", "status 200 off 0", "relay starts off"),
        step(format!("R k1 toggle {token}"), "k1 200 on", "accepted: fresh key toggles the relay"),
        step(format!("R k1 toggle {token}"), "k1 208 on", "replayed: retry answered from the window"),
        step("S", "status 200 on 1", "pin toggled once despite the retry"),
        step(format!("R k2 on {}", tampered()), "k2 401 signature", "tampered payload"),
        step(format!("R k3 on {expired}"), "k3 401 expired", "expired token"),
        step(format!("R k4 on {wrong_aud}"), "k4 401 audience", "wrong audience"),
        step(format!("R k5 on {wrong_iss}"), "k5 401 issuer", "wrong issuer"),
        step(format!("R k6 on {unknown_kid}"), "k6 401 unknown_kid", "key not in the ring"),
        step(format!("R k6 on {alg_none}"), "k6 401 malformed", "alg: none with an empty signature refused"),
        step(format!("R k6 on {alg_none_kid}"), "k6 401 algorithm", "alg: none with a known kid refused"),
        step(format!("R k6 on {bad_base64}"), "k6 401 malformed", "malformed base64 (header)"),
        step(format!("R k6 on {}", "x".repeat(600)), "- 400 too_long", "over-long frame"),
        step(format!("R k1 off {token}"), "k1 422 mismatch", "reused key with another command"),
        step(format!("R k7 off {old_key}"), "k7 200 off", "previous key of the ring still accepted"),
        step(format!("R k11 pulse {token}"), "k11 202 started", "pulse starts: relay on, key in flight"),
        step(format!("R k11 pulse {token}"), "k11 409 in_flight", "retry while the pulse runs"),
        step(format!("R k12 off {token}"), "k12 503 busy", "relay busy: key released, not run"),
        step("S", "status 200 on 3", "relay on during the pulse"),
        time(T0 + PULSE + 1, "time passes: the pulse ends"),
        step(format!("R k11 pulse {token}"), "k11 208 off", "retry after the pulse: its stored end state"),
        step("S", "status 200 off 4", "pulse drove the relay once on, once off"),
        step(format!("R k8 blink {token}"), "- 400 bad_command", "unknown command"),
        step("R k9", "- 400 syntax", "truncated frame"),
        step(format!("T {time_at_t0}"), "time 409 time_replayed", "an older time token: the clock never goes back"),
        step(format!("R k10 on {future}"), "k10 410 stale", "stamp (iat) beyond the window's skew"),
        step(format!("R k14 pulse {token}"), "k14 202 started", "lease expiry: a pulse starts"),
        time(LATE, "lease expiry: time passes the lease before the pulse is settled"),
        step(
            format!("R k14 pulse {token}"),
            "k14 502 outcome_unknown",
            "lease expiry: the retry is an unknown outcome, not run",
        ),
        step("S", "status 200 off 6", "lease expiry: the pulse ended, run once"),
    ];
    // Window pressure: more keys than fit; the shadow says which are refused.
    let (_, outcomes) = pressure();
    let mut accepted = Vec::new();
    for (key, fits) in outcomes {
        if fits {
            s.push(step(format!("R {key} on {token}"), format!("{key} 200 on"), "window pressure: fits"));
            accepted.push(key);
        } else {
            s.push(step(
                format!("R {key} on {token}"),
                format!("{key} 429 window_full"),
                "window pressure: no safe slot",
            ));
        }
    }
    let refused = WINDOW + 1 - accepted.len();
    assert!(refused > 0, "the pressure run must fill the window");
    s.push(step(format!("R p02 on {token}"), "p02 208 on", "a retry is still replayed under pressure"));
    s.push(step("S", format!("status 200 on {}", 6 + accepted.len()), "every accepted key ran once"));

    // Eviction: a newer request takes the oldest settled record of a full pair
    // of buckets; a retry of the evicted key is then refused, not run again.
    let newer = claims_token(&current(), "app-1", T0 + 10, T0 + 10 + TTL);
    let (evictor, evicted) = (0..100)
        .find_map(|n| {
            let key = format!("q{n}");
            let (mut trial, _) = pressure();
            trial.run("app-1", &key, "on", T0 + 10, LATE, Some(LATE));
            let gone = accepted.iter().find(|k| !trial.holds("app-1", k, LATE))?;
            trial.holds("app-1", &key, LATE).then(|| (key, gone.clone()))
        })
        .expect("some key evicts a record");
    s.push(step(
        format!("R {evictor} on {newer}"),
        format!("{evictor} 200 on"),
        "eviction: a newer request takes a settled slot",
    ));
    s.push(step(
        format!("R {evicted} on {token}"),
        format!("{evicted} 410 stale"),
        "eviction: the evicted key's retry is stale, not run",
    ));

    // A reset: RAM and the window are gone; nothing that ran before runs again.
    s.push(step(format!("B{}", "\n".repeat(20)), "boot 200 reset", "reset requested (SYSRESETREQ)"));
    s.push(step(format!("R p02 on {token}"), "p02 503 no_time", "after the reset: no time yet"));
    // Recorded time tokens replayed first after the reset would set an old
    // clock and a low restart floor: the mark kept in RAM across the warm
    // reset refuses them.
    s.push(step(
        format!("T {}", time_token(&current(), LATE)),
        "time 409 time_replayed",
        "after the reset: the last pre-reset time token, replayed, is refused (retained mark)",
    ));
    s.push(step(
        format!("T {}", time_token(&current(), BOOT)),
        "time 409 time_replayed",
        "after the reset: an older time token, replayed, is refused (retained mark)",
    ));
    s.push(step(format!("R p02 on {token}"), "p02 503 no_time", "after the reset: still no time"));
    s.push(time(REBOOT, "after the reset: the boot sync sets the restart floor"));
    s.push(step(
        format!("R p02 on {token}"),
        "p02 410 stale",
        "after the reset: a retry of a pre-reset request is not run",
    ));
    s.push(step(
        format!("R {evictor} on {newer}"),
        format!("{evictor} 410 stale"),
        "after the reset: a pre-reset request with a newer stamp is not run",
    ));
    s.push(step("S", "status 200 off 0", "after the reset: nothing ran"));
    s.push(time(T0 + TTL, "time passes"));
    s.push(step(format!("R k1 toggle {token}"), "k1 401 expired", "the retry's token has expired"));
    let later = claims_token(&current(), "app-1", T0 + TTL, T0 + 2 * TTL);
    s.push(step(format!("R r1 on {later}"), "r1 200 on", "after the reset: a new request runs"));
    s.push(step("S", "status 200 on 1", "after the reset: it ran once"));
    s.push(step("X", "end 200 bye", "session ends"));
    s
}
