//! The targets' ratios measured interleaved (see `interleave`), which a noisy
//! machine moves far less than ratios of two criterion benchmarks run minutes
//! apart. Prints them and saves them for `report.py`.

use std::hint::black_box;

use tessera_benches::{
    fixture::{bad_signature_token, kid_token, large_token, token},
    interleave::{ratio, Ratio},
    paseto::{Check, Lib, LocalCase, PublicCase},
    results,
    sign::Signers,
    verify::{MacInput, Verifiers},
    window::{fill, live_keys, Idempotency, Lru, MapQueue, Tessera, TesseraUnkeyed},
};
use tessera_core::Algorithm;

/// Fresh keys for `map` from `next` on.
fn fresher<'m>(map: &'m mut dyn Idempotency, mut next: u64) -> impl FnMut() + 'm {
    move || {
        assert!(map.fresh(black_box(next), next));
        next += 1;
    }
}

/// Replays `keys` in turn in a map filled with `n` records.
fn replayer<'m>(map: &'m mut dyn Idempotency, keys: Vec<u64>, n: u64) -> impl FnMut() + 'm {
    let mut at = 0;
    move || {
        assert!(map.replay(black_box(keys[at]), n - 1).is_some());
        at = (at + 1) % keys.len();
    }
}

fn tokens(rounds: usize, calls: u64, out: &mut Vec<Ratio>) {
    let v = Verifiers::new(Algorithm::Hs256);
    let good = token(Algorithm::Hs256);
    let bad = bad_signature_token(Algorithm::Hs256);
    let (good_mac, bad_mac) = (MacInput::of(&good), MacInput::of(&bad));
    let mut buf = [0u8; 1024];
    let mut buf2 = [0u8; 1024];
    let floor = || assert!(v.floor_precomputed(black_box(&good_mac)));
    out.push(ratio(
        "verify-HS256: tessera ÷ floor",
        rounds,
        calls,
        floor,
        || assert!(v.tessera(black_box(&good), &mut buf).is_ok()),
    ));
    out.push(ratio(
        "verify-HS256: tessera-registered ÷ floor",
        rounds,
        calls,
        floor,
        || assert!(v.tessera_registered(black_box(&good), &mut buf2).is_ok()),
    ));
    out.push(ratio(
        "verify-HS256: jsonwebtoken ÷ floor",
        rounds,
        calls / 4,
        floor,
        || assert!(v.jsonwebtoken(black_box(&good)).is_ok()),
    ));
    for (name, t) in [
        ("verify-large-HS256", large_token()),
        ("verify-kid-HS256", kid_token()),
    ] {
        let mac = MacInput::of(&t);
        let mut big = vec![0u8; 8192];
        let floor = || assert!(v.floor_precomputed(black_box(&mac)));
        out.push(ratio(
            &format!("{name}: tessera ÷ floor"),
            rounds,
            calls,
            floor,
            || assert!(v.tessera(black_box(&t), &mut big).is_ok()),
        ));
        out.push(ratio(
            &format!("{name}: tessera-registered ÷ floor"),
            rounds,
            calls,
            floor,
            || assert!(v.tessera_registered(black_box(&t), &mut big).is_ok()),
        ));
    }
    let s = Signers::new();
    let mut out_buf = [0u8; 1024];
    out.push(ratio(
        "sign-HS256: tessera ÷ floor",
        rounds,
        calls,
        floor,
        || assert!(s.tessera(black_box(&mut out_buf)).is_some()),
    ));
    let mut out_buf2 = [0u8; 1024];
    let mut tessera_sign = || assert!(s.tessera(black_box(&mut out_buf2)).is_some());
    out.push(ratio(
        "sign-HS256: jsonwebtoken ÷ tessera",
        rounds,
        calls / 4,
        &mut tessera_sign,
        || assert!(s.jsonwebtoken().is_some()),
    ));
    out.push(ratio(
        "sign-HS256: jwt-compact ÷ tessera",
        rounds,
        calls / 4,
        &mut tessera_sign,
        || assert!(s.jwt_compact().is_some()),
    ));
    out.push(ratio(
        "sign-HS256: jwt-simple ÷ tessera",
        rounds,
        calls / 4,
        &mut tessera_sign,
        || assert!(s.jwt_simple().is_some()),
    ));
    out.push(ratio(
        "reject-bad-signature-HS256: tessera ÷ floor",
        rounds,
        calls,
        || assert!(!v.floor_precomputed(black_box(&bad_mac))),
        || assert!(v.tessera(black_box(&bad), &mut buf).is_err()),
    ));
}

/// PASETO v4 (`tessera_benches::paseto`): tessera against its floor, each
/// peer against tessera. Batches last about 1 ms (`v4.local`, 250 decrypts
/// of 2–6 µs) and 3–6 ms (`v4.public`, 100 verifies of 30–60 µs).
fn paseto(rounds: usize, calls: u64, out: &mut Vec<Ratio>) {
    let local = LocalCase::new();
    paseto_group(
        "paseto-v4.local-decrypt",
        rounds,
        calls / 4,
        |lib| local.check(lib),
        out,
    );
    let public = PublicCase::new();
    paseto_group(
        "paseto-v4.public-verify",
        rounds,
        calls / 10,
        |lib| public.check(lib),
        out,
    );
}

fn paseto_group<'c>(
    group: &str,
    rounds: usize,
    calls: u64,
    check: impl Fn(Lib) -> Check<'c>,
    out: &mut Vec<Ratio>,
) {
    let calls = calls.max(1);
    out.push(ratio(
        &format!("{group}: tessera ÷ floor"),
        rounds,
        calls,
        check(Lib::Floor),
        check(Lib::Tessera),
    ));
    for peer in [Lib::Pasetors, Lib::RustyPaseto] {
        out.push(ratio(
            &format!("{group}: {} ÷ tessera", peer.name()),
            rounds,
            calls,
            check(Lib::Tessera),
            check(peer),
        ));
    }
}

/// The window against each peer, at `N` live records. At N = 65,536 neither
/// structure fits in cache, so each batch starts with the other's lines
/// evicted: alike for both sides.
fn window<const N: usize>(rounds: usize, calls: u64, out: &mut Vec<Ratio>) {
    let n = N as u64;
    let peers: Vec<(&str, Box<dyn Idempotency>)> = vec![
        ("lru", Box::new(Lru::new(N))),
        ("lru-siphash", Box::new(Lru::keyed(N))),
        ("hashmap-vecdeque", Box::new(MapQueue::new(n))),
    ];
    for (name, mut peer) in peers {
        compare::<N>(
            &format!("tessera ÷ {name}"),
            Tessera::<N>::new(),
            peer.as_mut(),
            rounds,
            calls,
            out,
        );
    }
    // The same structure with `lru`'s unkeyed hash: what the structure costs
    // apart from the keyed PRF.
    let mut lru = Lru::new(N);
    compare::<N>(
        "tessera-unkeyed ÷ lru",
        TesseraUnkeyed::<N>::new(),
        &mut lru,
        rounds,
        calls,
        out,
    );
}

/// Replay, then fresh keys, through `t` against `peer`, both holding `N`
/// live records.
fn compare<const N: usize>(
    name: &str,
    mut t: impl Idempotency,
    peer: &mut dyn Idempotency,
    rounds: usize,
    calls: u64,
    out: &mut Vec<Ratio>,
) {
    let n = N as u64;
    {
        fill(&mut t, n);
        fill(peer, n);
        let (tk, pk) = (live_keys(&mut t, n), live_keys(peer, n));
        out.push(ratio(
            &format!("window-replay-{N}: {name}"),
            rounds,
            calls,
            replayer(peer, pk, n),
            replayer(&mut t, tk, n),
        ));
        // Fresh keys after the replays: they move the clock on.
        let span = (rounds as u64 + 1) * calls;
        out.push(ratio(
            &format!("window-fresh-{N}: {name}"),
            rounds,
            calls,
            fresher(peer, n),
            fresher(&mut t, n + span),
        ));
    }
}

fn main() {
    let test_mode = std::env::args().any(|a| a == "--test");
    let (rounds, calls) = if test_mode { (2, 4) } else { (101, 1000) };
    // `ratios tokens` / `ratios window` / `ratios paseto`: those rows only.
    let only = ["tokens", "window", "paseto"]
        .into_iter()
        .find(|m| std::env::args().any(|a| a == *m));
    let mut out = Vec::new();
    if only.is_none() || only == Some("tokens") {
        tokens(rounds, calls, &mut out);
    }
    if only.is_none() || only == Some("paseto") {
        paseto(rounds, calls, &mut out);
    }
    if only.is_none() || only == Some("window") {
        // A 65,536-slot window is built on the stack before it is boxed.
        out = std::thread::Builder::new()
            .stack_size(256 << 20)
            .spawn(move || {
                window::<1024>(rounds, calls * 10, &mut out);
                window::<65536>(rounds, calls * 10, &mut out);
                out
            })
            .expect("spawn")
            .join()
            .expect("window ratios ran");
    }
    for r in &out {
        println!(
            "{:<48} {:>6.2}×  ({:.1} ns ÷ {:.1} ns, {} rounds)",
            r.name, r.ratio, r.b_ns, r.a_ns, r.rounds
        );
    }
    if !test_mode {
        // A partial run must not replace the full run's file `report.py` reads.
        let name = only.map_or("ratios".to_owned(), |m| format!("ratios-{m}"));
        let path = results::write(&name, &out).expect("results directory is writable");
        println!("saved {}", path.display());
    }
}
