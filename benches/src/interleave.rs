//! Ratios measured by interleaving: batches of `a` and `b` alternate (ABBA),
//! and the ratio is taken per round, so load that comes and goes on a shared
//! machine slows both sides of a round alike. The median round is reported.

use std::time::Instant;

use serde::Serialize;

/// One interleaved comparison.
#[derive(Clone, Debug, Serialize)]
pub struct Ratio {
    /// What is compared, e.g. `verify-HS256: tessera ÷ floor`.
    pub name: String,
    /// Median over rounds of `time(b) ÷ time(a)`.
    pub ratio: f64,
    /// Median nanoseconds per call of `a`.
    pub a_ns: f64,
    /// Median nanoseconds per call of `b`.
    pub b_ns: f64,
    /// Rounds run.
    pub rounds: usize,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

fn batch(calls: u64, f: &mut impl FnMut()) -> f64 {
    let start = Instant::now();
    for _ in 0..calls {
        f();
    }
    start.elapsed().as_nanos() as f64 / calls as f64
}

/// Runs `rounds` rounds of `calls` calls of `a` and of `b`, alternating which
/// goes first, after one warm-up round.
pub fn ratio(
    name: &str,
    rounds: usize,
    calls: u64,
    mut a: impl FnMut(),
    mut b: impl FnMut(),
) -> Ratio {
    batch(calls, &mut a);
    batch(calls, &mut b);
    let (mut ta, mut tb, mut r) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds.max(1) {
        let (x, y) = if round % 2 == 0 {
            let x = batch(calls, &mut a);
            (x, batch(calls, &mut b))
        } else {
            let y = batch(calls, &mut b);
            (batch(calls, &mut a), y)
        };
        ta.push(x);
        tb.push(y);
        r.push(y / x);
    }
    Ratio {
        name: name.to_owned(),
        ratio: median(r),
        a_ns: median(ta),
        b_ns: median(tb),
        rounds: rounds.max(1),
    }
}
