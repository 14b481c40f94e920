//! The store conformance suite, written once as data.
//!
//! Every backend (the in-memory window here; the in-memory, Redis and Redis
//! Cluster stores in `tessera-std`) runs these cases through a small driver.
//! Times are in ticks from [`START`]; a backend maps a tick to its own unit and
//! must be configured with [`CONFIG`]. Time checks keep a margin of several
//! ticks around each deadline so backends on real clocks can run them.
//! Capacity cases (Full, Stale after eviction) are the window's own tests,
//! since server stores are sized at run time.

use crate::window::{Begin, Fingerprint, Request, WindowConfig};

/// Lease 10 ticks, TTL 40 ticks, 5 ticks of skew.
// A panic in a constant's initializer is a compile error, never a run-time one.
#[allow(clippy::panic)]
pub const CONFIG: WindowConfig = match WindowConfig::new(10, 40, 5) {
    Ok(config) => config,
    Err(_) => panic!("invalid window configuration"),
};
/// The clock's value at the start of every case.
pub const START: u64 = 1_000;

/// What `begin` must answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    /// `Fresh`; keep the ticket in this slot of the driver's ticket table.
    Fresh(usize),
    /// `Replay` of this value.
    Replay(u8),
    /// `InFlight`.
    InFlight,
    /// `Abandoned`.
    Abandoned,
    /// `Mismatch`.
    Mismatch,
    /// `Stale`.
    Stale,
}

/// One step of a case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Call `begin`; `stamp` and `keep` are offsets from [`START`].
    Begin {
        /// Scope.
        scope: &'static str,
        /// Key.
        key: &'static str,
        /// Fingerprint, as one distinguishing byte.
        fp: u8,
        /// Request stamp offset.
        stamp: u64,
        /// `keep_until` offset.
        keep: Option<u64>,
        /// The required answer.
        expect: Expect,
    },
    /// Complete ticket `ticket` with `value`; `ok` says whether it must succeed.
    Complete {
        /// Ticket slot.
        ticket: usize,
        /// Stored value.
        value: u8,
        /// Must it succeed?
        ok: bool,
    },
    /// Abort ticket `ticket`; `ok` says whether it must succeed.
    Abort {
        /// Ticket slot.
        ticket: usize,
        /// Must it succeed?
        ok: bool,
    },
    /// Let this many ticks pass.
    Advance(u64),
}

impl Step {
    /// The window request of a `Begin` step at clock `start`.
    pub fn request(
        scope: &'static str,
        key: &'static str,
        fp: u8,
        stamp: u64,
        keep: Option<u64>,
    ) -> Request<'static> {
        Request {
            scope: scope.as_bytes(),
            key: key.as_bytes(),
            fingerprint: Fingerprint([fp; 16]),
            stamp: START.saturating_add(stamp),
            keep_until: keep.map(|k| START.saturating_add(k)),
        }
    }
}

/// A named case.
#[derive(Clone, Copy, Debug)]
pub struct Case {
    /// What it checks.
    pub name: &'static str,
    /// The steps, in order.
    pub steps: &'static [Step],
}

const fn begin(scope: &'static str, key: &'static str, fp: u8, expect: Expect) -> Step {
    Step::Begin {
        scope,
        key,
        fp,
        stamp: 0,
        keep: None,
        expect,
    }
}

use Expect::*;
use Step::{Abort as AbortStep, Advance, Complete as CompleteStep};

const fn complete(ticket: usize, value: u8) -> Step {
    CompleteStep {
        ticket,
        value,
        ok: true,
    }
}

/// Every shared case.
pub const CASES: &[Case] = &[
    Case {
        name: "first_request_runs_then_retry_replays",
        steps: &[
            begin("alice", "k1", 1, Fresh(0)),
            complete(0, 7),
            begin("alice", "k1", 1, Replay(7)),
            begin("alice", "k1", 1, Replay(7)),
        ],
    },
    Case {
        name: "concurrent_duplicate_is_in_flight",
        steps: &[
            begin("alice", "k1", 1, Fresh(0)),
            begin("alice", "k1", 1, InFlight),
            complete(0, 3),
            begin("alice", "k1", 1, Replay(3)),
        ],
    },
    Case {
        name: "reuse_with_other_fingerprint_is_mismatch",
        steps: &[
            begin("alice", "k1", 1, Fresh(0)),
            begin("alice", "k1", 2, Mismatch),
            complete(0, 9),
            begin("alice", "k1", 2, Mismatch),
            begin("alice", "k1", 1, Replay(9)),
        ],
    },
    Case {
        name: "scopes_never_see_each_other",
        steps: &[
            begin("alice", "k1", 1, Fresh(0)),
            complete(0, 1),
            begin("bob", "k1", 1, Fresh(1)),
            complete(1, 2),
            begin("alice", "k1", 1, Replay(1)),
            begin("bob", "k1", 1, Replay(2)),
        ],
    },
    Case {
        name: "scope_and_key_boundaries_do_not_alias",
        steps: &[begin("ab", "c", 1, Fresh(0)), begin("a", "bc", 1, Fresh(1))],
    },
    Case {
        name: "abort_releases_the_key",
        steps: &[
            begin("alice", "k1", 1, Fresh(0)),
            AbortStep {
                ticket: 0,
                ok: true,
            },
            begin("alice", "k1", 1, Fresh(1)),
            complete(1, 5),
            begin("alice", "k1", 1, Replay(5)),
        ],
    },
    Case {
        name: "abandoned_lease_is_an_unknown_outcome_until_the_ttl",
        steps: &[
            begin("alice", "k1", 1, Fresh(0)),
            Advance(5),
            begin("alice", "k1", 1, InFlight),
            Advance(10),
            begin("alice", "k1", 1, Abandoned),
            begin("alice", "k1", 2, Mismatch),
            CompleteStep {
                ticket: 0,
                value: 6,
                ok: false,
            },
            Advance(30),
            begin("alice", "k1", 1, Abandoned),
            Advance(15),
            Step::Begin {
                scope: "alice",
                key: "k1",
                fp: 1,
                stamp: 50,
                keep: None,
                expect: Fresh(1),
            },
            complete(1, 4),
            begin("alice", "k1", 1, Replay(4)),
        ],
    },
    Case {
        name: "expired_lease_cannot_complete_or_abort",
        steps: &[
            begin("alice", "k1", 1, Fresh(0)),
            begin("alice", "k2", 1, Fresh(1)),
            Advance(15),
            CompleteStep {
                ticket: 0,
                value: 6,
                ok: false,
            },
            AbortStep {
                ticket: 1,
                ok: false,
            },
            begin("alice", "k1", 1, Abandoned),
            begin("alice", "k2", 1, Abandoned),
        ],
    },
    Case {
        name: "completed_record_expires_after_ttl",
        steps: &[
            begin("alice", "k1", 1, Fresh(0)),
            complete(0, 8),
            Advance(30),
            begin("alice", "k1", 1, Replay(8)),
            Advance(20),
            Step::Begin {
                scope: "alice",
                key: "k1",
                fp: 1,
                stamp: 50,
                keep: None,
                expect: Fresh(1),
            },
        ],
    },
    Case {
        name: "keep_until_overrides_ttl",
        steps: &[
            Step::Begin {
                scope: "dev",
                key: "jti-1",
                fp: 0,
                stamp: 0,
                keep: Some(80),
                expect: Fresh(0),
            },
            complete(0, 1),
            Advance(60),
            Step::Begin {
                scope: "dev",
                key: "jti-1",
                fp: 0,
                stamp: 0,
                keep: Some(80),
                expect: Replay(1),
            },
            Advance(30),
            Step::Begin {
                scope: "dev",
                key: "jti-1",
                fp: 0,
                stamp: 90,
                keep: Some(200),
                expect: Fresh(1),
            },
        ],
    },
    Case {
        name: "stamp_too_far_in_the_future_is_stale",
        steps: &[
            Step::Begin {
                scope: "alice",
                key: "k1",
                fp: 1,
                stamp: 1_000,
                keep: None,
                expect: Stale,
            },
            Step::Begin {
                scope: "alice",
                key: "k1",
                fp: 1,
                stamp: 3,
                keep: None,
                expect: Fresh(0),
            },
        ],
    },
];

/// Where a case failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Failure {
    /// The case.
    pub case: &'static str,
    /// The step index.
    pub step: usize,
    /// What was wanted.
    pub expected: Step,
    /// The outcome's name (or `ok`/`err` for complete and abort).
    pub got: &'static str,
}

/// Whether `outcome` is what `expect` asks for (tickets aside).
pub fn matches<V, T>(expect: Expect, outcome: &Begin<V, T>, value: impl Fn(&V) -> u8) -> bool {
    match (expect, outcome) {
        (Fresh(_), Begin::Fresh(_))
        | (InFlight, Begin::InFlight)
        | (Abandoned, Begin::Abandoned)
        | (Mismatch, Begin::Mismatch) => true,
        (Stale, Begin::Stale) => true,
        (Replay(want), Begin::Replay(v)) => value(v) == want,
        _ => false,
    }
}

/// Runs every case against fresh stores from `make`, with `value` mapping the
/// suite's byte to the store's result type and `byte` mapping it back.
pub fn run<V, S: crate::window::Store<V>>(
    mut make: impl FnMut() -> S,
    value: impl Fn(u8) -> V,
    byte: impl Fn(&V) -> u8,
) -> Result<usize, Failure> {
    for case in CASES {
        let mut store = make();
        let mut now = START;
        let mut tickets: [Option<S::Ticket>; 4] = [None, None, None, None];
        for (i, step) in case.steps.iter().enumerate() {
            let fail = |got| Failure {
                case: case.name,
                step: i,
                expected: *step,
                got,
            };
            match *step {
                Step::Begin {
                    scope,
                    key,
                    fp,
                    stamp,
                    keep,
                    expect,
                } => {
                    let req = Step::request(scope, key, fp, stamp, keep);
                    let outcome = store.begin(&req, now);
                    if !matches(expect, &outcome, &byte) {
                        return Err(fail(outcome.name()));
                    }
                    if let (Fresh(slot), Begin::Fresh(t)) = (expect, outcome) {
                        if let Some(place) = tickets.get_mut(slot) {
                            *place = Some(t);
                        }
                    }
                }
                Step::Complete {
                    ticket,
                    value: v,
                    ok,
                } => {
                    let t = tickets
                        .get_mut(ticket)
                        .and_then(Option::take)
                        .ok_or(fail("no ticket"))?;
                    let res = store.complete(t, value(v), now);
                    if res.is_ok() != ok {
                        return Err(fail(if res.is_ok() { "ok" } else { "err" }));
                    }
                }
                Step::Abort { ticket, ok } => {
                    let t = tickets
                        .get_mut(ticket)
                        .and_then(Option::take)
                        .ok_or(fail("no ticket"))?;
                    let res = store.abort(t, now);
                    if res.is_ok() != ok {
                        return Err(fail(if res.is_ok() { "ok" } else { "err" }));
                    }
                }
                Step::Advance(ticks) => now = now.saturating_add(ticks),
            }
        }
    }
    Ok(CASES.len())
}
