//! Answers and their wire form: `<tag> <status> <detail>\n`.
//!
//! The tag is the request's idempotency key (or `time`, `status`, `end`, `-`
//! for frames without one); the status borrows HTTP's numbers so that every
//! outcome has one unambiguous, greppable code.

use crate::frame::FrameError;

/// The pin's electrical level, as the answer reports it.
///
/// Discriminants from 1: the window stores an `Option<Level>` per slot, and
/// with 0 left free its `None` is a zero byte, so an unstarted window is all
/// zeros and its `static` sits in `.bss` (no flash image). `ci.sh` checks the
/// section.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(u8)]
pub enum Level {
    /// Pin low: relay open.
    Off = 1,
    /// Pin high: relay closed.
    On = 2,
}

impl Level {
    /// `on` or `off`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Level::Off => "off",
            Level::On => "on",
        }
    }
}

/// Everything the endpoint can answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Answer {
    /// `200 <level>`: fresh request, the pin was driven to `level`.
    Done(Level),
    /// `202 started`: a pulse began; its key stays in flight until it ends.
    Started,
    /// `208 <level>`: a retry; the stored answer is replayed, the pin untouched.
    Replayed(Level),
    /// `409 in_flight`: the first request with this key has not finished.
    InFlight,
    /// `502 outcome_unknown`: the first request's lease ran out unsettled; it
    /// may have acted, and is not run again under this key.
    Abandoned,
    /// `422 mismatch`: the key was used with another command.
    Mismatch,
    /// `429 window_full`: no room to remember another key; retry later.
    Full,
    /// `410 stale`: the request is older than the window can vouch for.
    Stale,
    /// `401 <code>` (`500` for local faults): the token was refused.
    Token(tessera_core::Error),
    /// `400 <code>`: the line is not a frame.
    Frame(FrameError),
    /// `503 no_time`: no time sync yet, so tokens cannot be checked.
    NoTime,
    /// `503 busy`: a pulse is running; the key was released, retry later.
    Busy,
    /// `500 pin`: the pin driver failed; nothing was remembered.
    Pin,
    /// `200 <secs>`: the clock was set.
    Time(u64),
    /// `409 clock_backwards`: a time token older than the clock reads.
    ClockBackwards,
    /// `409 time_replayed`: a time token not newer than the last one accepted.
    TimeReplayed,
    /// `200 reset`: the board resets after sending this.
    Reboot,
    /// `200 <level> <actuations>`: the pin as read back, and how often it was driven.
    Status(Level, u32),
    /// `200 bye`: end of session.
    End,
}

impl Answer {
    /// The numeric status.
    pub const fn status(&self) -> u16 {
        match self {
            Answer::Done(_) | Answer::Time(_) | Answer::Status(..) | Answer::Reboot | Answer::End => 200,
            Answer::Started => 202,
            Answer::Replayed(_) => 208,
            Answer::Frame(_) => 400,
            Answer::Token(tessera_core::Error::BufferTooSmall | tessera_core::Error::Config(_)) => 500,
            Answer::Token(_) => 401,
            Answer::InFlight | Answer::ClockBackwards | Answer::TimeReplayed => 409,
            Answer::Stale => 410,
            Answer::Mismatch => 422,
            Answer::Full => 429,
            Answer::Pin => 500,
            Answer::Abandoned => 502,
            Answer::NoTime | Answer::Busy => 503,
        }
    }

    /// Writes `<tag> <status> <detail>\n` through `out`, piece by piece.
    pub fn write<E>(&self, tag: &str, mut out: impl FnMut(&[u8]) -> Result<(), E>) -> Result<(), E> {
        let mut num = Decimal::new();
        out(tag.as_bytes())?;
        out(b" ")?;
        out(num.format(u64::from(self.status())))?;
        out(b" ")?;
        match self {
            Answer::Done(level) | Answer::Replayed(level) => out(level.as_str().as_bytes())?,
            Answer::Status(level, count) => {
                out(level.as_str().as_bytes())?;
                out(b" ")?;
                out(num.format(u64::from(*count)))?;
            }
            Answer::Time(secs) => out(num.format(*secs))?,
            Answer::Token(e) => out(e.code().as_bytes())?,
            Answer::Frame(e) => out(e.code().as_bytes())?,
            Answer::InFlight => out(b"in_flight")?,
            Answer::Abandoned => out(b"outcome_unknown")?,
            Answer::Mismatch => out(b"mismatch")?,
            Answer::Full => out(b"window_full")?,
            Answer::Stale => out(b"stale")?,
            Answer::NoTime => out(b"no_time")?,
            Answer::Started => out(b"started")?,
            Answer::Busy => out(b"busy")?,
            Answer::Pin => out(b"pin")?,
            Answer::ClockBackwards => out(b"clock_backwards")?,
            Answer::TimeReplayed => out(b"time_replayed")?,
            Answer::Reboot => out(b"reset")?,
            Answer::End => out(b"bye")?,
        }
        out(b"\n")
    }
}

/// Formats a `u64` without `core::fmt`, which costs kilobytes of flash.
struct Decimal([u8; 20]);

impl Decimal {
    const fn new() -> Self {
        Decimal([0; 20])
    }

    fn format(&mut self, mut value: u64) -> &[u8] {
        let mut start = self.0.len();
        for slot in self.0.iter_mut().rev() {
            // `value % 10` is below 10, so the cast cannot truncate.
            *slot = b'0'.saturating_add((value % 10) as u8);
            value /= 10;
            start = start.saturating_sub(1);
            if value == 0 {
                break;
            }
        }
        self.0.get(start..).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(answer: Answer, tag: &str) -> String {
        let mut text = Vec::new();
        answer
            .write::<()>(tag, |b| {
                text.extend_from_slice(b);
                Ok(())
            })
            .unwrap();
        String::from_utf8(text).unwrap()
    }

    #[test]
    fn every_answer_has_a_clear_line() {
        assert_eq!(line(Answer::Done(Level::On), "k1"), "k1 200 on\n");
        assert_eq!(line(Answer::Replayed(Level::Off), "k1"), "k1 208 off\n");
        assert_eq!(line(Answer::Token(tessera_core::Error::Expired), "k2"), "k2 401 expired\n");
        assert_eq!(line(Answer::Token(tessera_core::Error::BufferTooSmall), "k2"), "k2 500 buffer_too_small\n");
        assert_eq!(line(Answer::Frame(FrameError::Command), "-"), "- 400 bad_command\n");
        assert_eq!(line(Answer::Time(0), "time"), "time 200 0\n");
        assert_eq!(line(Answer::Time(u64::MAX), "time"), "time 200 18446744073709551615\n");
        assert_eq!(line(Answer::Status(Level::On, 1), "status"), "status 200 on 1\n");
        assert_eq!(line(Answer::Full, "k"), "k 429 window_full\n");
        assert_eq!(line(Answer::Mismatch, "k"), "k 422 mismatch\n");
        assert_eq!(line(Answer::InFlight, "k"), "k 409 in_flight\n");
        assert_eq!(line(Answer::Stale, "k"), "k 410 stale\n");
        assert_eq!(line(Answer::NoTime, "k"), "k 503 no_time\n");
        assert_eq!(line(Answer::Started, "k"), "k 202 started\n");
        assert_eq!(line(Answer::Busy, "k"), "k 503 busy\n");
        assert_eq!(line(Answer::Abandoned, "k"), "k 502 outcome_unknown\n");
        assert_eq!(line(Answer::TimeReplayed, "time"), "time 409 time_replayed\n");
        assert_eq!(line(Answer::Reboot, "boot"), "boot 200 reset\n");
    }
}
