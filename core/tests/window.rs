//! The idempotency window: the shared conformance cases, named tests per
//! outcome and pressure rule, and model-based property tests.

mod common;

use std::sync::Mutex;

use proptest::prelude::*;
use tessera_core::{
    conformance,
    window::{
        one_time_request, Allowed, Begin, Fingerprint, Model, Request, TicketError, Window,
        WindowConfig,
    },
    Key, KeyRing, Validation,
};

const CONFIG: WindowConfig = WindowConfig {
    lease: 10,
    ttl: 100,
    max_skew: 5,
};
const SECRET: [u8; 16] = *b"window-secret-16";

fn req<'a>(scope: &'a str, key: &'a str, fp: u8, stamp: u64) -> Request<'a> {
    Request {
        scope: scope.as_bytes(),
        key: key.as_bytes(),
        fingerprint: Fingerprint([fp; 16]),
        stamp,
        keep_until: None,
    }
}

fn fresh<V: Clone, const N: usize>(
    w: &mut Window<V, N>,
    r: &Request<'_>,
    now: u64,
) -> tessera_core::window::Ticket {
    match w.begin(r, now) {
        Begin::Fresh(t) => t,
        other => panic!("expected Fresh, got {}", other.name()),
    }
}

#[test]
fn conformance_suite_on_the_in_memory_window() {
    for run in [
        conformance::run(
            || Window::<u8, 16>::new(SECRET, conformance::CONFIG),
            |b| b,
            |v| *v,
        ),
        conformance::run(
            || Window::<u8, 1024>::new(SECRET, conformance::CONFIG),
            |b| b,
            |v| *v,
        ),
    ] {
        assert_eq!(run, Ok(conformance::CASES.len()));
    }
}

#[test]
fn fresh_replay_in_flight_mismatch() {
    let mut w = Window::<u16, 8>::new(SECRET, CONFIG);
    let t = fresh(&mut w, &req("alice", "k", 1, 100), 100);
    assert_eq!(w.begin(&req("alice", "k", 1, 100), 101), Begin::InFlight);
    assert_eq!(w.begin(&req("alice", "k", 2, 100), 101), Begin::Mismatch);
    w.complete(t, 201, 102).unwrap();
    assert_eq!(w.begin(&req("alice", "k", 1, 100), 103), Begin::Replay(201));
    assert_eq!(w.begin(&req("alice", "k", 2, 100), 103), Begin::Mismatch);
    assert!(matches!(
        w.begin(&req("bob", "k", 1, 100), 103),
        Begin::Fresh(_)
    ));
}

#[test]
fn lease_expiry_is_an_unknown_outcome_never_a_second_run() {
    let mut w = Window::<u8, 8>::new(SECRET, CONFIG);
    let old = fresh(&mut w, &req("a", "k", 1, 100), 100);
    assert_eq!(w.begin(&req("a", "k", 1, 100), 109), Begin::InFlight);
    // Abandoned from the lease's end (110) until lease end + TTL.
    assert_eq!(w.begin(&req("a", "k", 1, 100), 110), Begin::Abandoned);
    assert_eq!(w.complete(old, 1, 111), Err(TicketError::LeaseExpired));
    let end = 110 + CONFIG.ttl;
    assert_eq!(w.begin(&req("a", "k", 1, 100), end - 1), Begin::Abandoned);
    let new = fresh(&mut w, &req("a", "k", 1, 100), end);
    w.complete(new, 2, end + 1).unwrap();
    assert_eq!(w.begin(&req("a", "k", 1, 100), end + 2), Begin::Replay(2));
}

#[test]
fn ticket_from_an_expired_lease_is_refused_even_unclaimed() {
    let mut w = Window::<u8, 8>::new(SECRET, CONFIG);
    let t = fresh(&mut w, &req("a", "k", 1, 100), 100);
    assert_eq!(w.complete(t, 1, 110), Err(TicketError::LeaseExpired));
    let t = fresh(&mut w, &req("a", "k2", 1, 100), 110);
    assert_eq!(w.abort(t, 125), Err(TicketError::LeaseExpired));
    // Neither late call changed the records: both are unknown outcomes.
    for key in ["k", "k2"] {
        assert_eq!(w.begin(&req("a", key, 1, 100), 125), Begin::Abandoned);
    }
}

#[test]
fn ttl_expiry() {
    let mut w = Window::<u8, 8>::new(SECRET, CONFIG);
    let t = fresh(&mut w, &req("a", "k", 1, 100), 100);
    w.complete(t, 9, 105).unwrap();
    assert_eq!(w.begin(&req("a", "k", 1, 100), 204), Begin::Replay(9));
    assert!(matches!(
        w.begin(&req("a", "k", 1, 100), 205),
        Begin::Fresh(_)
    ));
}

#[test]
fn capacity_one() {
    let mut w = Window::<u8, 1>::new(SECRET, CONFIG);
    let t = fresh(&mut w, &req("a", "k1", 1, 100), 100);
    // The only slot is in flight: nothing may be evicted.
    assert_eq!(w.begin(&req("a", "k2", 1, 101), 101), Begin::Full);
    w.complete(t, 1, 101).unwrap();
    // Completed and live: evicted for a newer request, which raises the floor.
    let t2 = fresh(&mut w, &req("a", "k2", 1, 101), 102);
    assert_eq!(w.begin(&req("a", "k1", 1, 100), 103), Begin::Stale);
    w.complete(t2, 2, 103).unwrap();
    assert_eq!(w.begin(&req("a", "k2", 1, 101), 104), Begin::Replay(2));
    assert_eq!(w.live(104), 1);
}

#[test]
fn expired_entries_are_reused_before_live_ones_are_evicted() {
    let mut w = Window::<u8, 4>::new(SECRET, CONFIG);
    let keys = ["k0", "k1", "k2", "k3"];
    for (i, k) in keys.iter().enumerate() {
        let t = fresh(&mut w, &req("a", k, 1, 100 + i as u64), 100);
        if i == 2 {
            w.abort(t, 100).unwrap(); // a free slot
        } else {
            w.complete(t, i as u8, 100).unwrap();
        }
    }
    // k2's slot is free: no eviction, no floor.
    let _ = fresh(&mut w, &req("a", "k4", 1, 104), 101);
    for (i, k) in [(0, "k0"), (1, "k1"), (3, "k3")] {
        assert_eq!(
            w.begin(&req("a", k, 1, 100 + i as u64), 102),
            Begin::Replay(i as u8)
        );
    }
}

#[test]
fn eviction_takes_the_oldest_completed_entry_and_stale_follows() {
    let mut w = Window::<u8, 3>::new(SECRET, CONFIG);
    for (k, stamp) in [("old", 100), ("mid", 101), ("new", 102)] {
        let t = fresh(&mut w, &req("a", k, 1, stamp), 102);
        w.complete(t, stamp as u8, 102).unwrap();
    }
    // Full of live completed entries: the oldest stamp (100) is evicted.
    let t = fresh(&mut w, &req("a", "next", 1, 103), 103);
    w.complete(t, 103, 103).unwrap();
    assert_eq!(
        w.begin(&req("a", "old", 1, 100), 104),
        Begin::Stale,
        "retry of the evicted entry"
    );
    assert_eq!(
        w.begin(&req("a", "other", 1, 100), 104),
        Begin::Stale,
        "any request not newer"
    );
    assert_eq!(w.begin(&req("a", "mid", 1, 101), 104), Begin::Replay(101));
    assert_eq!(w.begin(&req("a", "new", 1, 102), 104), Begin::Replay(102));
}

#[test]
fn a_request_not_newer_than_every_evictable_entry_gets_full() {
    let mut w = Window::<u8, 2>::new(SECRET, CONFIG);
    for (k, stamp) in [("a", 100), ("b", 101)] {
        let t = fresh(&mut w, &req("s", k, 1, stamp), 101);
        w.complete(t, 0, 101).unwrap();
    }
    // Evicting stamp 100 would make this request (stamp 100) itself stale.
    assert_eq!(w.begin(&req("s", "c", 1, 100), 102), Begin::Full);
    assert_eq!(
        w.begin(&req("s", "a", 1, 100), 102),
        Begin::Replay(0),
        "nothing was evicted"
    );
}

#[test]
fn in_flight_entries_are_never_evicted() {
    let mut w = Window::<u8, 2>::new(SECRET, CONFIG);
    let _t1 = fresh(&mut w, &req("s", "a", 1, 100), 100);
    let _t2 = fresh(&mut w, &req("s", "b", 1, 100), 100);
    assert_eq!(w.begin(&req("s", "c", 1, 105), 101), Begin::Full);
    assert_eq!(w.begin(&req("s", "a", 1, 100), 101), Begin::InFlight);
}

#[test]
fn future_stamps_beyond_skew_are_stale() {
    let mut w = Window::<u8, 8>::new(SECRET, CONFIG);
    assert_eq!(w.begin(&req("s", "a", 1, 106), 100), Begin::Stale);
    assert!(matches!(
        w.begin(&req("s", "a", 1, 105), 100),
        Begin::Fresh(_)
    ));
}

#[test]
fn scope_and_key_are_length_prefixed() {
    let mut w = Window::<u8, 64>::new(SECRET, CONFIG);
    let t = fresh(&mut w, &req("ab", "c", 1, 100), 100);
    w.complete(t, 1, 100).unwrap();
    assert!(matches!(
        w.begin(&req("a", "bc", 1, 100), 100),
        Begin::Fresh(_)
    ));
}

static SHARED: Mutex<Window<u8, 32>> = Mutex::new(Window::new(SECRET, CONFIG));

#[test]
fn window_lives_in_a_static() {
    let mut w = SHARED.lock().unwrap();
    let t = fresh(&mut w, &req("dev-1", "cmd-1", 1, 100), 100);
    w.complete(t, 7, 100).unwrap();
    assert_eq!(
        w.begin(&req("dev-1", "cmd-1", 1, 100), 101),
        Begin::Replay(7)
    );
}

#[test]
fn one_time_token_is_refused_until_exp_plus_leeway() {
    use common::*;
    let key = Key::hs256(SECRET_KEY).unwrap();
    let mut out = [0u8; 512];
    let payload = format!(
        r#"{{"sub":"dev-\u00e9","jti":"t-1","iat":{},"exp":{}}}"#,
        NOW,
        NOW + 30
    );
    let token = key
        .sign_json(payload.as_bytes(), &mut out)
        .unwrap()
        .to_owned();
    let ring = KeyRing::<1>::single(key).unwrap();
    let policy = Validation::new().leeway(5).unwrap();
    let mut w = Window::<(), 16>::new(
        *b"window-secret-16",
        WindowConfig {
            lease: 10,
            ttl: 1,
            max_skew: 5,
        },
    );
    let mut use_token = |now: u64| {
        let mut buf = [0u8; 512];
        let v = ring.verify(&token, &policy, now, &mut buf)?;
        let mut scratch = [0u8; 128];
        let r = one_time_request(&v, &policy, &mut scratch)?;
        assert_eq!(r.scope, "dev-é".as_bytes());
        Ok::<_, tessera_core::Error>(match w.begin(&r, now) {
            Begin::Fresh(t) => {
                w.complete(t, (), now).unwrap();
                "fresh"
            }
            other => other.name(),
        })
    };
    assert_eq!(use_token(NOW), Ok("fresh"));
    // Replays are refused for as long as the token verifies (ttl is 1 s, but the
    // record is kept until exp + leeway).
    assert_eq!(use_token(NOW + 1), Ok("replay"));
    assert_eq!(use_token(NOW + 34), Ok("replay"));
    assert_eq!(use_token(NOW + 35), Err(tessera_core::Error::Expired));
}

#[test]
fn one_time_requires_exp_and_jti() {
    use common::*;
    let key = Key::hs256(SECRET_KEY).unwrap();
    let ring = KeyRing::<1>::single(key.clone()).unwrap();
    let policy = Validation::new().require_exp(false);
    for (payload, missing) in [
        (r#"{"jti":"x"}"#.to_owned(), tessera_core::Claim::Exp),
        (
            format!(r#"{{"exp":{}}}"#, NOW + 5),
            tessera_core::Claim::Jti,
        ),
    ] {
        let mut out = [0u8; 512];
        let token = key.sign_json(payload.as_bytes(), &mut out).unwrap();
        let mut buf = [0u8; 512];
        let v = ring.verify(token, &policy, NOW, &mut buf).unwrap();
        assert_eq!(
            one_time_request(&v, &policy, &mut [0u8; 64]).unwrap_err(),
            tessera_core::Error::Missing(missing)
        );
    }
}

// ---- Model-based ----

#[derive(Clone, Debug)]
enum Op {
    Begin { scope: u8, key: u8, fp: u8 },
    Complete { which: usize, value: u8 },
    Abort { which: usize },
    Advance(u64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        5 => (0u8..3, 0u8..12, 0u8..2).prop_map(|(scope, key, fp)| Op::Begin { scope, key, fp }),
        3 => (any::<usize>(), any::<u8>()).prop_map(|(which, value)| Op::Complete { which, value }),
        1 => any::<usize>().prop_map(|which| Op::Abort { which }),
        2 => (0u64..30).prop_map(Op::Advance),
    ]
}

const SCOPES: [&str; 3] = ["alice", "bob", "carol"];
const KEYS: [&str; 12] = [
    "k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8", "k9", "k10", "k11",
];

fn run_model<const N: usize>(ops: &[Op]) -> Result<(), TestCaseError> {
    let mut window = Window::<u8, N>::new(SECRET, CONFIG);
    let mut model = Model::<u8>::new(CONFIG);
    let mut now = 1_000u64;
    let mut tickets = Vec::new();
    for op in ops {
        match *op {
            Op::Begin { scope, key, fp } => {
                // The same (scope, key) always carries the same stamp: the
                // condition under which the window promises at-most-once.
                let stamp = 990 + u64::from(key) + 7 * u64::from(scope);
                let r = req(SCOPES[scope as usize], KEYS[key as usize], fp, stamp);
                let allowed = model.begin(&r, now);
                let got = window.begin(&r, now);
                prop_assert!(
                    allowed.permits(&got),
                    "model allows {:?}, window said {}",
                    allowed,
                    got.name()
                );
                if let Begin::Fresh(t) = got {
                    prop_assert_eq!(&allowed, &Allowed::Absent);
                    let m = model.fresh(&r, now).unwrap();
                    tickets.push((t, m));
                }
            }
            Op::Complete { which, value } if !tickets.is_empty() => {
                let (t, m) = tickets.swap_remove(which % tickets.len());
                let want = model.complete(m, value, now);
                prop_assert_eq!(window.complete(t, value, now).is_ok(), want);
            }
            Op::Abort { which } if !tickets.is_empty() => {
                let (t, m) = tickets.swap_remove(which % tickets.len());
                let want = model.abort(m, now);
                prop_assert_eq!(window.abort(t, now).is_ok(), want);
            }
            Op::Advance(dt) => now += dt,
            _ => {}
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn window_agrees_with_the_model_under_pressure(ops in proptest::collection::vec(op(), 1..200)) {
        run_model::<3>(&ops)?;
    }

    #[test]
    fn window_agrees_with_the_model_with_room(ops in proptest::collection::vec(op(), 1..200)) {
        run_model::<64>(&ops)?;
    }

    #[test]
    fn window_agrees_with_the_model_at_capacity_one(ops in proptest::collection::vec(op(), 1..100)) {
        run_model::<1>(&ops)?;
    }
}
