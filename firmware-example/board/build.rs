//! Links with `memory.x` and mints, with the real `tessera-core` signer and
//! the firmware's own key ring, the tokens of the scripted QEMU session and
//! of the footprint probe. Outputs (in `OUT_DIR`):
//!
//! - `session.frames`: the UART input, one frame per line;
//! - `session.expect`: per frame, the answer it must get (an anchored POSIX
//!   ERE, usually a literal line) and what it checks, tab-separated; lines
//!   starting `#count` bound how many answers match a pattern;
//! - `footprint.rs`: one valid token and its time, for `core-footprint`.
#![allow(clippy::expect_used, clippy::indexing_slicing, clippy::arithmetic_side_effects)] // constants only; a build script fails by panicking

use std::{env, fs, path::PathBuf};

use tessera_core::Key;

#[allow(dead_code)] // WINDOW_SECRET is firmware-only.
mod keys {
    include!("src/keys.rs");
}

/// The session's wall clock, as the first time-sync frame sets it.
const T0: u64 = 1_764_072_000;
/// Token lifetime; the window keeps each key until its token expires.
const TTL: u64 = 600;
/// Idempotency window size of the endpoint.
const WINDOW: usize = 32;
/// Keys that hold window entries before the pressure test (k1, k7, k11).
const HELD: usize = 3;
/// The endpoint's pulse length (`tessera_app::endpoint::PULSE_SECS`).
const PULSE: u64 = 5;
/// The window hashes keys into buckets of this many slots, so the first
/// `BUCKET` keys always fit; where exactly the first `Full` falls depends on
/// the per-device hash secret.
const BUCKET: usize = 8;

fn main() {
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR"));
    fs::copy("../memory.x", out.join("memory.x")).expect("copy memory.x");
    println!("cargo:rustc-link-search={}", out.display());
    for input in ["../memory.x", "src/keys.rs", "build.rs"] {
        println!("cargo:rerun-if-changed={input}");
    }

    let script = session();
    let frames: String = script.iter().map(|s| format!("{}\n", s.frame)).collect();
    let mut expect: String = script.iter().map(|s| format!("{}\t{}\n", s.answer, s.check)).collect();
    // Pressure: WINDOW + 1 keys for at most WINDOW - HELD free slots.
    let last = WINDOW + 2;
    let min_ok = BUCKET - HELD;
    let max_ok = WINDOW - HELD;
    expect
        .push_str(&format!("#count\tp[0-9]+ 200 on\t{min_ok}\t{max_ok}\twindow pressure: at most {max_ok} keys fit\n"));
    expect.push_str(&format!(
        "#count\tp[0-9]+ 429 window_full\t{}\t{}\twindow pressure: the rest is refused\n",
        last - 1 - max_ok,
        last - 1 - min_ok
    ));
    fs::write(out.join("session.frames"), frames).expect("write frames");
    fs::write(out.join("session.expect"), expect).expect("write expect");

    let token = claims_token(&current(), "app-1", T0, T0 + TTL);
    let probe = format!("/// A valid token.\nconst TOKEN: &str = {token:?};\n/// Its `iat`.\nconst NOW: u64 = {T0};\n");
    fs::write(out.join("footprint.rs"), probe).expect("write footprint.rs");
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

/// A valid token whose payload is swapped for another one after signing.
fn tampered() -> String {
    let good = claims_token(&current(), "app-1", T0, T0 + TTL);
    let forged = claims_token(&current(), "admin", T0, T0 + TTL);
    let mut g = good.split('.');
    let (header, sig) = (g.next().expect("header"), g.nth(1).expect("signature"));
    let forged_payload = forged.split('.').nth(1).expect("payload");
    format!("{header}.{forged_payload}.{sig}")
}

fn session() -> Vec<Step> {
    let token = claims_token(&current(), "app-1", T0, T0 + TTL);
    let later = claims_token(&current(), "app-1", T0 + TTL, T0 + 2 * TTL);
    let old_key = claims_token(&key(1), "app-2", T0, T0 + TTL);
    let expired = claims_token(&current(), "app-1", T0 - TTL, T0 - 1);
    let wrong_aud = sign(&current(), &payload(keys::ISSUER, "app-1", "relay-8", T0, T0 + TTL));
    let wrong_iss = sign(&current(), &payload("someone-else", "app-1", keys::AUDIENCE, T0, T0 + TTL));
    let stranger = Key::hs256(b"a-secret-this-device-never-knew!").and_then(|k| k.with_kid("2099-01")).expect("key");
    let unknown_kid = claims_token(&stranger, "app-1", T0, T0 + TTL);
    let future = claims_token(&current(), "app-1", T0 + 1_000, T0 + 2_000);

    let mut s = vec![
        step(format!("R k1 toggle {token}"), "k1 503 no_time", "refused before the first time sync"),
        step(format!("T {T0}"), format!("time 200 {T0}"), "time sync sets the clock"),
        step("S", "status 200 off 0", "relay starts off"),
        step(format!("R k1 toggle {token}"), "k1 200 on", "accepted: fresh key toggles the relay"),
        step(format!("R k1 toggle {token}"), "k1 208 on", "replayed: retry answered from the window"),
        step("S", "status 200 on 1", "pin toggled once despite the retry"),
        step(format!("R k2 on {}", tampered()), "k2 401 signature", "tampered payload"),
        step(format!("R k3 on {expired}"), "k3 401 expired", "expired token"),
        step(format!("R k4 on {wrong_aud}"), "k4 401 audience", "wrong audience"),
        step(format!("R k5 on {wrong_iss}"), "k5 401 issuer", "wrong issuer"),
        step(format!("R k6 on {unknown_kid}"), "k6 401 unknown_kid", "key not in the ring"),
        step(format!("R k1 off {token}"), "k1 422 mismatch", "reused key with another command"),
        step(format!("R k7 off {old_key}"), "k7 200 off", "previous key of the ring still accepted"),
        step(format!("R k11 pulse {token}"), "k11 202 started", "pulse starts: relay on, key in flight"),
        step(format!("R k11 pulse {token}"), "k11 409 in_flight", "retry while the pulse runs"),
        step(format!("R k12 off {token}"), "k12 503 busy", "relay busy: key released, not run"),
        step("S", "status 200 on 3", "relay on during the pulse"),
        step(format!("T {}", T0 + PULSE + 1), format!("time 200 {}", T0 + PULSE + 1), "time passes: the pulse ends"),
        step(format!("R k11 pulse {token}"), "k11 208 off", "retry after the pulse: its stored end state"),
        step("S", "status 200 off 4", "pulse drove the relay once on, once off"),
        step(format!("R k8 blink {token}"), "- 400 bad_command", "unknown command"),
        step("R k9", "- 400 syntax", "truncated frame"),
        step(format!("T {}", T0 - 10), "time 409 clock_backwards", "clock never goes back"),
        step(format!("R k10 on {future}"), "k10 410 stale", "stamp (iat) beyond the window's skew"),
    ];
    // Window pressure: k1, k7 and k11 hold entries; offer more keys than fit.
    let last = WINDOW + 2;
    for i in 2..=last {
        s.push(step(
            format!("R p{i:02} on {token}"),
            format!("p{i:02} (200 on|429 window_full)"),
            &format!("window pressure: p{i:02}"),
        ));
    }
    s.push(step(format!("R p02 on {token}"), "p02 208 on", "a retry is still replayed under pressure"));
    s.push(step("S", "status 200 on [0-9]+", "relay on after the pressure run"));
    s.push(step(format!("T {}", T0 + TTL), format!("time 200 {}", T0 + TTL), "time passes"));
    s.push(step(format!("R k1 toggle {token}"), "k1 401 expired", "the retry's token has expired"));
    s.push(step(format!("R p{last} off {later}"), format!("p{last} 200 off"), "expired entries make room"));
    s.push(step("X", "end 200 bye", "session ends"));
    s
}
