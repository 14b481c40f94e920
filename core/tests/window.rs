//! The idempotency window: the shared conformance cases, named tests per
//! outcome and pressure rule, and model-based property tests.

mod common;

use std::sync::Mutex;

use proptest::prelude::*;
use tessera_core::{
    conformance,
    window::{
        one_time_request, Begin, Checked, Fingerprint, Request, TicketError, Window, WindowConfig,
    },
    Key, KeyRing, Validation,
};

const CONFIG: WindowConfig = match WindowConfig::new(10, 100, 5) {
    Ok(c) => c,
    Err(_) => panic!("invalid window configuration"),
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
    let end = 110 + CONFIG.ttl();
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
    let mut w = Window::<(), 16>::new(*b"window-secret-16", WindowConfig::new(10, 1, 5).unwrap());
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
fn one_time_requires_exp_jti_and_iat() {
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
        // Without `iat` there is no stamp: `exp` (an hour ahead here) would be
        // refused as a stamp from the future on first use.
        (
            format!(r#"{{"jti":"x","exp":{}}}"#, NOW + 3600),
            tessera_core::Claim::Iat,
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

#[test]
fn a_floor_lasts_only_as_long_as_the_evicted_record() {
    // Device A's records (stamp 100) are evicted by a burst from device B
    // (stamp 999).
    let mut w = Window::<u8, 8>::new(SECRET, CONFIG);
    for i in 0..8 {
        let t = fresh(&mut w, &req("A", &format!("a{i}"), 1, 100), 1_000);
        w.complete(t, i, 1_000).unwrap();
    }
    for i in 0..8 {
        let t = fresh(&mut w, &req("B", &format!("b{i}"), 1, 999), 1_001);
        w.complete(t, i, 1_001).unwrap();
    }
    // While A's records would have lived (until 1_000 + TTL), their retries
    // and every request not newer are refused.
    assert_eq!(w.begin(&req("A", "a0", 1, 100), 1_050), Begin::Stale);
    assert_eq!(w.begin(&req("A", "new", 1, 100), 1_050), Begin::Stale);
    // Once they would have ended, the floor is gone: A's new key is Fresh, as
    // the same key is after a plain TTL expiry.
    let later = 1_000_000;
    assert_eq!(w.live(later), 0);
    assert!(matches!(
        w.begin(&req("A", "new", 1, 100), later),
        Begin::Fresh(_)
    ));
    assert!(matches!(
        w.begin(&req("A", "a0", 1, 100), later),
        Begin::Fresh(_)
    ));
}

#[test]
fn a_floor_holds_until_the_latest_record_it_covers_ends() {
    let mut w = Window::<u8, 1>::new(SECRET, CONFIG);
    // Kept until 500 (keep_until), then evicted at 200.
    let t = fresh(
        &mut w,
        &Request {
            keep_until: Some(500),
            ..req("s", "long", 1, 100)
        },
        100,
    );
    w.complete(t, 1, 100).unwrap();
    let t = fresh(&mut w, &req("s", "short", 1, 150), 200);
    w.complete(t, 2, 200).unwrap();
    // Evicting "short" (ends 300) merges into the floor that must hold to 500.
    let _t = fresh(&mut w, &req("s", "third", 1, 160), 210);
    assert_eq!(w.begin(&req("s", "long", 1, 100), 499), Begin::Stale);
    assert_eq!(w.begin(&req("s", "short", 1, 150), 450), Begin::Stale);
}

#[test]
fn config_refuses_a_zero_lease_or_ttl() {
    use tessera_core::window::WindowConfigError;
    assert_eq!(
        WindowConfig::new(0, 100, 5),
        Err(WindowConfigError::ZeroLease)
    );
    assert_eq!(WindowConfig::new(10, 0, 5), Err(WindowConfigError::ZeroTtl));
    let c = WindowConfig::new(1, 1, 0).unwrap();
    assert_eq!((c.lease(), c.ttl(), c.max_skew()), (1, 1, 0));
}

#[test]
fn an_abandoned_ticket_never_settles_a_later_claim_even_after_the_clock_steps_back() {
    let mut w = Window::<u8, 1>::new(SECRET, CONFIG);
    // `a` is claimed and abandoned (its owner still holds the ticket)…
    let abandoned = fresh(&mut w, &req("s", "a", 1, 100), 100);
    // …evicted by `b`, which is then released…
    let b = fresh(&mut w, &req("s", "b", 1, 150), 150);
    w.abort(b, 151).unwrap();
    // …and after the clock steps back, `a` is claimed again in the same slot
    // with the lease end the abandoned claim had.
    let again = fresh(&mut w, &req("s", "a", 1, 101), 100);
    assert_eq!(w.complete(abandoned, 7, 101), Err(TicketError::NotOwner));
    w.complete(again, 8, 101).unwrap();
    assert_eq!(w.begin(&req("s", "a", 1, 101), 102), Begin::Replay(8));
}

#[test]
fn a_restarted_window_refuses_tickets_from_before_the_start() {
    let mut w = Window::<u8, 8>::new(SECRET, CONFIG);
    let before = fresh(&mut w, &req("s", "k", 1, 100), 100);
    w.start(SECRET, CONFIG);
    let after = fresh(&mut w, &req("s", "k", 1, 100), 100);
    assert_eq!(w.complete(before, 1, 101), Err(TicketError::NotOwner));
    w.complete(after, 2, 101).unwrap();
}

#[test]
fn a_slot_costs_at_most_48_bytes() {
    use core::mem::size_of;
    // What 1,024 more slots add, so the window's fixed part does not count.
    let per_slot = |big: usize, small: usize| (big - small) / 1024;
    let unit = per_slot(size_of::<Window<(), 2048>>(), size_of::<Window<(), 1024>>());
    assert!(unit <= 48, "{unit} B a slot");
    // A value is held beside its slot: an `Arc` costs its 8 bytes on top.
    let arc = per_slot(
        size_of::<Window<std::sync::Arc<u8>, 2048>>(),
        size_of::<Window<std::sync::Arc<u8>, 1024>>(),
    );
    assert_eq!(arc, unit - size_of::<Option<()>>() + 8);
}

#[test]
fn a_ticket_from_another_window_is_not_owner_even_with_the_same_secret() {
    let mut a = Window::<u8, 8>::new(SECRET, CONFIG);
    let mut b = Window::<u8, 8>::new(SECRET, CONFIG);
    let ta = fresh(&mut a, &req("s", "k", 1, 100), 100);
    let tb = fresh(&mut b, &req("s", "k", 1, 100), 100);
    assert_eq!(b.complete(ta, 1, 101), Err(TicketError::NotOwner));
    assert_eq!(a.abort(tb, 101), Err(TicketError::NotOwner));
    // Neither record was touched.
    assert_eq!(a.begin(&req("s", "k", 1, 100), 102), Begin::InFlight);
    assert_eq!(b.begin(&req("s", "k", 1, 100), 102), Begin::InFlight);
}

#[test]
fn a_restart_floor_refuses_every_stamp_not_newer() {
    let mut w = Window::<u8, 8>::new(SECRET, CONFIG);
    w.set_restart_floor(1_000);
    // A retry of something that ran before the restart: refused, not run.
    assert_eq!(w.begin(&req("s", "before", 1, 990), 1_001), Begin::Stale);
    assert_eq!(w.begin(&req("s", "at", 1, 1_000), 1_001), Begin::Stale);
    // Long after, still refused: the window cannot know what ran.
    assert_eq!(w.begin(&req("s", "at", 1, 1_000), 9_999), Begin::Stale);
    let t = fresh(&mut w, &req("s", "after", 1, 1_001), 1_001);
    w.complete(t, 3, 1_002).unwrap();
    assert_eq!(
        w.begin(&req("s", "after", 1, 1_001), 1_003),
        Begin::Replay(3)
    );
    // Lowering is ignored.
    w.set_restart_floor(10);
    assert_eq!(w.begin(&req("s", "at", 1, 1_000), 1_004), Begin::Stale);
}

// ---- Model-based ----

#[derive(Clone, Debug)]
enum Op {
    /// `stamp`: 0 is the key's own stamp; others shift it (a retry with a
    /// newer or older stamp). `fixed`: the key's stamp is fixed (a client
    /// whose clock lags), else it follows the clock. `keep`: `keep_until` as
    /// an offset from now (negative: already past; `Some(i16::MIN)`: `Some(0)`).
    Begin {
        scope: u8,
        key: u8,
        fp: u8,
        stamp: i8,
        fixed: bool,
        keep: Option<i16>,
    },
    Complete {
        which: usize,
        value: u8,
    },
    Abort {
        which: usize,
    },
    /// Time passes, sometimes by far more than the TTL (a clock jump).
    Advance(u64),
}

fn op() -> impl Strategy<Value = Op> {
    let stamp = prop_oneof![3 => Just(0i8), 1 => -20i8..20];
    let keep =
        prop_oneof![6 => Just(None), 1 => Just(Some(i16::MIN)), 2 => (-50i16..300).prop_map(Some)];
    prop_oneof![
        6 => (0u8..3, 0u8..12, 0u8..2, stamp, any::<bool>(), keep)
            .prop_map(|(scope, key, fp, stamp, fixed, keep)| Op::Begin { scope, key, fp, stamp, fixed, keep }),
        3 => (any::<usize>(), any::<u8>()).prop_map(|(which, value)| Op::Complete { which, value }),
        1 => any::<usize>().prop_map(|which| Op::Abort { which }),
        3 => prop_oneof![8 => 0u64..30, 1 => 100u64..5_000].prop_map(Op::Advance),
    ]
}

const SCOPES: [&str; 3] = ["alice", "bob", "carol"];
const KEYS: [&str; 12] = [
    "k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8", "k9", "k10", "k11",
];

/// Runs `ops` on a window of `N` and its model; tallies the answers.
fn run_model<const N: usize>(
    ops: &[Op],
    restart: Option<u64>,
    tally: &mut std::collections::BTreeMap<&'static str, usize>,
) -> Result<(), TestCaseError> {
    let mut c = Checked::<u8, N>::new(Window::new(SECRET, CONFIG), 1_000);
    if let Some(floor) = restart {
        c.set_restart_floor(floor);
    }
    for (step, op) in ops.iter().enumerate() {
        let result = match *op {
            Op::Begin {
                scope,
                key,
                fp,
                stamp,
                fixed,
                keep,
            } => {
                // Each key's own stamp lies a little before the start, or
                // before now.
                let origin = if fixed { 1_000 } else { c.now };
                let base = origin - 10 + u64::from(key) + 7 * u64::from(scope);
                let keep_until = keep.map(|k| match k {
                    i16::MIN => 0,
                    k => c.now.saturating_add_signed(i64::from(k)),
                });
                let r = Request {
                    keep_until,
                    ..req(
                        SCOPES[scope as usize],
                        KEYS[key as usize],
                        fp,
                        base.saturating_add_signed(i64::from(stamp)),
                    )
                };
                c.begin(&r).map(|name| *tally.entry(name).or_default() += 1)
            }
            Op::Complete { which, value } => c.complete(which, value).map(drop),
            Op::Abort { which } => c.abort(which).map(drop),
            Op::Advance(dt) => {
                c.now += dt;
                Ok(())
            }
        };
        prop_assert!(
            result.is_ok(),
            "step {step} ({op:?}) at {}: {result:?}",
            c.now
        );
    }
    Ok(())
}

/// Every capacity the model is run at: one slot, one bucket, one bucket plus
/// a remainder, eight buckets.
fn run_all(ops: &[Op], restart: Option<u64>) -> Result<(), TestCaseError> {
    let mut tally = Default::default();
    run_model::<1>(ops, restart, &mut tally)?;
    run_model::<8>(ops, restart, &mut tally)?;
    run_model::<9>(ops, restart, &mut tally)?;
    run_model::<64>(ops, restart, &mut tally)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn window_agrees_with_the_model(ops in proptest::collection::vec(op(), 1..200)) {
        run_all(&ops, None)?;
    }

    #[test]
    fn window_agrees_with_the_model_after_a_restart(ops in proptest::collection::vec(op(), 1..100)) {
        run_all(&ops, Some(1_000))?;
    }
}

/// The generator reaches every answer, and the model predicts them exactly
/// where it should (so a window refusing everything cannot pass).
#[test]
fn the_model_run_reaches_every_answer() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let mut tally = Default::default();
    for _ in 0..64 {
        let ops = proptest::collection::vec(op(), 200)
            .new_tree(&mut runner)
            .unwrap()
            .current();
        run_model::<8>(&ops, None, &mut tally).unwrap();
        run_model::<1>(&ops, None, &mut tally).unwrap();
    }
    for name in [
        "fresh",
        "replay",
        "in_flight",
        "abandoned",
        "mismatch",
        "full",
        "stale",
    ] {
        assert!(
            tally.get(name).copied().unwrap_or(0) > 0,
            "{name} never answered: {tally:?}"
        );
    }
}

/// All zero bytes: in `.bss` (checked with `objdump -t` on this test binary,
/// see the report of issue 13).
static UNSTARTED: Mutex<Window<u8, 32>> = Mutex::new(Window::UNSTARTED);

#[test]
fn an_unstarted_window_answers_full_until_started() {
    let mut w = UNSTARTED.lock().unwrap();
    assert_eq!(w.begin(&req("s", "k", 1, 100), 100), Begin::Full);
    w.start(SECRET, CONFIG);
    let t = fresh(&mut w, &req("s", "k", 1, 100), 100);
    w.complete(t, 4, 100).unwrap();
    assert_eq!(w.begin(&req("s", "k", 1, 100), 101), Begin::Replay(4));
    // Starting again forgets every record.
    w.start(SECRET, CONFIG);
    assert_eq!(w.live(101), 0);
    assert!(matches!(
        w.begin(&req("s", "k", 1, 100), 101),
        Begin::Fresh(_)
    ));
}
