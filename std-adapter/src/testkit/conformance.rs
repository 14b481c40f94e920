//! The core's conformance cases ([`tessera_core::conformance`]), driven
//! against any [`IdempotencyStore`].
//!
//! A case's ticks become real durations: `tick` of virtual time for stores
//! on a [`ManualClock`], or `tick` of real time (40–60 ms) for Redis, whose
//! clock is the server's. Stamps and `keep_until` are Unix ms derived from
//! [`Clock::now_ms`] at the start of the case.

use std::{
    future::Future,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::Duration,
};

use tessera_core::conformance::{matches, Case, Expect, Failure, Step, CASES, CONFIG, START};

use crate::store::{
    Begin, Clock, IdempotencyStore, Request, StoreConfig, StoreError, StoredResponse, SystemClock,
};

/// The time a case runs on.
pub trait CaseTime: Clock {
    /// Lets `by` pass.
    fn advance(&self, by: Duration) -> impl Future<Output = ()> + Send;
}

/// A virtual clock in Unix ms that moves only when told.
#[derive(Clone, Debug, Default)]
pub struct ManualClock(Arc<AtomicU64>);

impl ManualClock {
    /// A clock showing `ms`.
    pub fn at(ms: u64) -> Self {
        ManualClock(Arc::new(AtomicU64::new(ms)))
    }

    /// Moves the clock forward by `by`.
    pub fn tick(&self, by: Duration) {
        self.0.fetch_add(duration_ms(by), Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

impl CaseTime for ManualClock {
    async fn advance(&self, by: Duration) {
        self.tick(by);
    }
}

/// Real time: the system clock, and `advance` sleeps.
impl CaseTime for SystemClock {
    async fn advance(&self, by: Duration) {
        tokio::time::sleep(by).await;
    }
}

/// The suite's [`CONFIG`] (lease 10, TTL 40, skew 5 ticks) with ticks of `tick`.
pub fn store_config(tick: Duration) -> StoreConfig {
    let ticks = |n: u64| tick.saturating_mul(u32::try_from(n).unwrap_or(u32::MAX));
    StoreConfig {
        lease: ticks(CONFIG.lease()),
        ttl: ticks(CONFIG.ttl()),
        max_skew: ticks(CONFIG.max_skew()),
        ..StoreConfig::default()
    }
}

/// The stored response that stands for the suite's value byte `v`: status,
/// a header and a body all derived from `v`, so a replay proves all three
/// round-trip.
pub fn response(v: u8) -> StoredResponse {
    StoredResponse {
        status: 200u16.saturating_add(u16::from(v)),
        headers: vec![("x-tessera-case".to_string(), vec![v, b'\n', 0])],
        body: vec![v; usize::from(v).saturating_add(1)],
    }
}

/// The value byte of `r`, or `None` if it is not exactly [`response`] of one.
pub fn byte(r: &StoredResponse) -> Option<u8> {
    let v = u8::try_from(r.status.checked_sub(200)?).ok()?;
    (*r == response(v)).then_some(v)
}

/// Runs every case in order; `make` gives a fresh, empty store for each case,
/// configured with [`store_config`]`(tick)`.
pub async fn run<S, F, Fut>(
    mut make: F,
    time: &impl CaseTime,
    tick: Duration,
) -> Result<usize, Failure>
where
    S: IdempotencyStore,
    F: FnMut() -> Fut,
    Fut: Future<Output = S>,
{
    for case in CASES {
        run_case(case, &make().await, time, tick).await?;
    }
    Ok(CASES.len())
}

/// Runs one case against `store`. Cases on real time may run concurrently,
/// each on its own store.
pub async fn run_case<S: IdempotencyStore>(
    case: &Case,
    store: &S,
    time: &impl CaseTime,
    tick: Duration,
) -> Result<(), Failure> {
    let base = time.now_ms();
    let at = |offset: u64| base.saturating_add(offset.saturating_mul(duration_ms(tick)));
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
                let suite = Step::request(scope, key, fp, stamp, keep);
                let req = Request {
                    stamp: at(suite.stamp.saturating_sub(START)),
                    keep_until: suite.keep_until.map(|k| at(k.saturating_sub(START))),
                    ..suite
                };
                let outcome = store.begin(&req).await.map_err(|e| fail(error_name(&e)))?;
                if !matches(expect, &outcome, |r| byte(r).unwrap_or(u8::MAX)) {
                    return Err(fail(outcome.name()));
                }
                if let (Expect::Fresh(slot), Begin::Fresh(t)) = (expect, outcome) {
                    if let Some(place) = tickets.get_mut(slot) {
                        *place = Some(t);
                    }
                }
            }
            Step::Complete { ticket, value, ok } => {
                let t = tickets
                    .get_mut(ticket)
                    .and_then(Option::take)
                    .ok_or(fail("no ticket"))?;
                check(store.complete(t, response(value)).await, ok).map_err(fail)?;
            }
            Step::Abort { ticket, ok } => {
                let t = tickets
                    .get_mut(ticket)
                    .and_then(Option::take)
                    .ok_or(fail("no ticket"))?;
                check(store.abort(t).await, ok).map_err(fail)?;
            }
            Step::Advance(ticks) => {
                time.advance(tick.saturating_mul(u32::try_from(ticks).unwrap_or(u32::MAX)))
                    .await;
            }
        }
    }
    Ok(())
}

/// A refused `complete`/`abort` must be a ticket error, not an outage.
fn check(res: Result<(), StoreError>, ok: bool) -> Result<(), &'static str> {
    match (res, ok) {
        (Ok(()), true) | (Err(StoreError::Ticket(_)), false) => Ok(()),
        (Ok(()), false) => Err("ok"),
        (Err(e), _) => Err(error_name(&e)),
    }
}

fn error_name(e: &StoreError) -> &'static str {
    match e {
        StoreError::Unavailable(_) => "error: unavailable",
        StoreError::Timeout => "error: timeout",
        StoreError::Ticket(_) => "error: ticket",
        StoreError::TooLarge => "error: too large",
        StoreError::Corrupt => "error: corrupt",
        StoreError::Config(_) => "error: config",
    }
}

fn duration_ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}
