//! One frame in, one answer out: verify, claim the key, drive the pin once.
//!
//! # At most once across resets
//!
//! A reset empties the window (it lives in RAM). The endpoint serves nothing
//! before its first authenticated time after boot, `t_boot` (a `T` frame), and
//! then sets the window's restart floor to `t_boot + max_skew`: every key
//! without a record whose stamp (`iat`) is not newer than that is `410 stale`.
//! Anything that ran before the reset was accepted at a device time `≤ t_boot`
//! with a stamp at most `max_skew` ahead of it, so it cannot run again —
//! provided `t_boot` is not older than the clock before the reset.
//!
//! That proviso is what [`Persist`] is for. The first time token after boot
//! cannot be checked against a clock (there is none yet), so a recorded older
//! one, replayed first, would set an old time and a low floor, and requests
//! that ran before the reset would run again once the clock caught up with
//! their stamps. With a [`Persist`] ([`Endpoint::persisting`]) the endpoint
//! stores its clock's high-water mark before every claim and time sync, and
//! after a reset refuses every time token not newer than it (`409
//! time_replayed`), so `t_boot` is newer than anything that ran before. The
//! boards keep the mark in RAM that a warm reset (watchdog, `SYSRESETREQ`,
//! lockup) leaves alone; a power loss or brown-out erases it, and then the
//! gap above is open until a mark in flash (or a boot nonce that the time
//! token must echo) closes it. See README.md.
//!
//! Chosen over a high-water mark of stamps in flash because it needs no flash
//! writes (no wear, no torn writes, no erase while serving). Its cost: tokens
//! minted before `t_boot + max_skew` are refused after a reset even if they
//! never ran (the caller mints a new one), so for `max_skew` seconds after the
//! boot sync nothing is accepted.
use core::cell::RefCell;

use critical_section::Mutex;
use embedded_hal::digital::StatefulOutputPin;
use tessera_core::{
    window::{Begin, Fingerprint, Request, Ticket, Window},
    Claim, Error, KeyRing, Validation,
};

use crate::{
    clock::{Monotonic, Persist, SyncError, SyncedClock, Volatile},
    frame::{Command, Frame, FrameError},
    reply::{Answer, Level},
};

/// Bytes for the decoded header and payload of one token.
pub const DECODE_BUF: usize = 384;

/// How long `pulse` holds the pin high. The window's lease must be longer,
/// or the pulse's result cannot be stored when it ends.
pub const PULSE_SECS: u64 = 5;

/// The idempotency window, in a `static` shared under a critical section so
/// that an interrupt-driven transport could use it too. The stored value is
/// the short answer a retry gets back: the level the pin was driven to.
pub type SharedWindow<const N: usize> = Mutex<RefCell<Window<Level, N>>>;

/// What a token must satisfy. The two audiences must differ, so that a request
/// token cannot set the time and a time token cannot run a command.
#[derive(Clone, Copy, Debug)]
pub struct Policy<'a> {
    /// For `R` frames.
    pub request: Validation<'a>,
    /// For `T` frames: the token's `iat` is the time.
    pub time: Validation<'a>,
}

/// The endpoint's state: key ring, policy, window, pin, clock, and where the
/// clock's high-water mark survives a reset (`S`, nowhere by default).
pub struct Endpoint<'a, P, M, const K: usize, const N: usize, S = Volatile> {
    ring: &'a KeyRing<K>,
    policy: Policy<'a>,
    window: &'a SharedWindow<N>,
    pin: P,
    clock: SyncedClock<M>,
    /// `iat` of the last time token accepted, or the mark restored after a
    /// reset: an equal or older time token is a replay.
    last_time: Option<u64>,
    persist: S,
    /// The highest clock reading stored in `persist`.
    mark: u64,
    actuations: u32,
    pulse: Option<Pulse>,
    buf: [u8; DECODE_BUF],
}

/// The pin driver reported an error (its own error type is not kept: the
/// answer is `500 pin` whatever it was).
struct PinFault;

/// A running pulse: its key stays in flight until `until`.
struct Pulse {
    ticket: Ticket,
    until: u64,
}

impl<'a, P, M, const K: usize, const N: usize> Endpoint<'a, P, M, K, N>
where
    P: StatefulOutputPin,
    M: Monotonic,
{
    /// An endpoint that accepts tokens from `ring` satisfying `policy`. It
    /// does not know the time until a time token arrives, and treats its
    /// start as a restart (see the [module docs](self)).
    pub fn new(ring: &'a KeyRing<K>, policy: Policy<'a>, window: &'a SharedWindow<N>, pin: P, mono: M) -> Self {
        Endpoint {
            ring,
            policy,
            window,
            pin,
            clock: SyncedClock::new(mono),
            last_time: None,
            persist: Volatile,
            mark: 0,
            actuations: 0,
            pulse: None,
            buf: [0; DECODE_BUF],
        }
    }
}

impl<'a, P, M, const K: usize, const N: usize, S> Endpoint<'a, P, M, K, N, S>
where
    P: StatefulOutputPin,
    M: Monotonic,
    S: Persist,
{
    /// Keeps the clock's high-water mark in `persist`, and takes the mark
    /// stored there before a reset as the time a time token must be newer
    /// than. Call it before the first frame.
    pub fn persisting<T: Persist>(self, mut persist: T) -> Endpoint<'a, P, M, K, N, T> {
        let mark = persist.load();
        Endpoint {
            ring: self.ring,
            policy: self.policy,
            window: self.window,
            pin: self.pin,
            clock: self.clock,
            last_time: self.last_time.max(mark),
            persist,
            mark: mark.unwrap_or(0),
            actuations: self.actuations,
            pulse: self.pulse,
            buf: self.buf,
        }
    }

    /// Stores the clock reading `now` as the mark if it is higher.
    fn remember(&mut self, now: u64) {
        if now > self.mark {
            self.mark = now;
            self.persist.store(now);
        }
    }

    /// Ends a pulse whose time is up: pin low, result stored. Call it often
    /// (the session does, before every byte).
    pub fn tick(&mut self) {
        let Some(now) = self.clock.now() else {
            return;
        };
        let Some(pulse) = self.pulse.take_if(|p| now >= p.until) else {
            return;
        };
        match self.drive(Command::Off) {
            Ok(level) => self.complete(pulse.ticket, level, now),
            Err(PinFault) => {
                log!(error, "pulse: the relay did not switch off");
                self.abort(pulse.ticket, now);
            }
        }
    }

    /// Answers one line; returns the answer's tag (the idempotency key, or
    /// the frame kind) and the answer.
    pub fn handle<'l>(&mut self, line: Result<&'l [u8], FrameError>) -> (&'l str, Answer) {
        let frame = match line.and_then(Frame::parse) {
            Ok(frame) => frame,
            Err(e) => return ("-", Answer::Frame(e)),
        };
        match frame {
            Frame::Time(token) => ("time", self.sync(token)),
            Frame::Status => ("status", self.status()),
            Frame::Reboot => ("boot", Answer::Reboot),
            Frame::End => ("end", Answer::End),
            Frame::Request { key, command, token } => (key, self.request(key, command, token)),
        }
    }

    /// Sets the clock from a time token: verified with the ring under the time
    /// policy (its `exp` against the clock once the clock is known), newer than
    /// the last one (or the restored mark), never behind the clock. The first
    /// after boot sets the restart floor.
    fn sync(&mut self, token: &str) -> Answer {
        let now = self.clock.now();
        let iat = match self.ring.verify(token, &self.policy.time, now.unwrap_or(0), &mut self.buf) {
            Ok(verified) => match (verified.claims.iat, verified.claims.exp) {
                (None, _) => return Answer::Token(Error::Claims),
                (Some(iat), Some(exp)) if exp <= iat => return Answer::Token(Error::Expired),
                (Some(iat), _) => iat,
            },
            Err(e) => return Answer::Token(e),
        };
        if self.last_time.is_some_and(|last| iat <= last) {
            return Answer::TimeReplayed;
        }
        if let Err(SyncError::Backwards) = self.clock.sync(iat) {
            return Answer::ClockBackwards;
        }
        self.last_time = Some(iat);
        self.remember(iat);
        if now.is_none() {
            critical_section::with(|cs| {
                let mut window = self.window.borrow_ref_mut(cs);
                let floor = iat.saturating_add(window.config().max_skew());
                window.set_restart_floor(floor);
            });
        }
        Answer::Time(iat)
    }

    fn status(&mut self) -> Answer {
        match self.level() {
            Ok(level) => Answer::Status(level, self.actuations),
            Err(PinFault) => Answer::Pin,
        }
    }

    fn level(&mut self) -> Result<Level, PinFault> {
        match self.pin.is_set_high() {
            Ok(true) => Ok(Level::On),
            Ok(false) => Ok(Level::Off),
            Err(_) => Err(PinFault),
        }
    }

    fn request(&mut self, key: &str, command: Command, token: &str) -> Answer {
        let Some(now) = self.clock.now() else {
            return Answer::NoTime;
        };
        // Before any claim: a reset right after the pin moves still finds it.
        self.remember(now);
        let begin = match self.verify_and_claim(key, command, token, now) {
            Ok(begin) => begin,
            Err(e) => return Answer::Token(e),
        };
        match begin {
            Begin::Fresh(ticket) => self.run(command, ticket, now),
            Begin::Replay(level) => Answer::Replayed(level),
            Begin::InFlight => Answer::InFlight,
            Begin::Abandoned => Answer::Abandoned,
            Begin::Mismatch => Answer::Mismatch,
            // The window has no quota; a full window is what it would mean.
            Begin::Full | Begin::Quota => Answer::Full,
            Begin::Stale => Answer::Stale,
        }
    }

    /// Runs a claimed request; a pulse keeps its ticket until [`Self::tick`] ends it.
    fn run(&mut self, command: Command, ticket: Ticket, now: u64) -> Answer {
        if self.pulse.is_some() {
            self.abort(ticket, now);
            return Answer::Busy;
        }
        match (self.drive(command), command) {
            (Ok(_), Command::Pulse) => {
                self.pulse = Some(Pulse { ticket, until: now.saturating_add(PULSE_SECS) });
                Answer::Started
            }
            (Ok(level), _) => {
                self.complete(ticket, level, now);
                Answer::Done(level)
            }
            (Err(PinFault), _) => {
                self.abort(ticket, now);
                Answer::Pin
            }
        }
    }

    fn complete(&self, ticket: Ticket, level: Level, now: u64) {
        let stored = critical_section::with(|cs| self.window.borrow_ref_mut(cs).complete(ticket, level, now));
        if let Err(_e) = stored {
            // The pin moved; only a retry's replay is lost.
            log!(warn, "window: result not stored: {}", _e);
        }
    }

    /// Releases the key so that a retry runs again.
    fn abort(&self, ticket: Ticket, now: u64) {
        let released = critical_section::with(|cs| self.window.borrow_ref_mut(cs).abort(ticket, now));
        if let Err(_e) = released {
            log!(warn, "window: key not released: {}", _e);
        }
    }

    /// Verifies the token, then claims `(sub, key)` with the token's `iat` as
    /// the retry-stable stamp, kept until the token expires (so a replay of a
    /// still-valid token is always recognised).
    fn verify_and_claim(&mut self, key: &str, command: Command, token: &str, now: u64) -> Result<Begin<Level>, Error> {
        let verified = self.ring.verify(token, &self.policy.request, now, &mut self.buf)?;
        let claims = verified.claims;
        let scope = claims.sub.ok_or(Error::Missing(Claim::Sub))?;
        let request = Request {
            scope: scope.raw().as_bytes(),
            key: key.as_bytes(),
            fingerprint: Fingerprint::of(&[command.as_str().as_bytes()]),
            stamp: claims.iat.ok_or(Error::Claims)?,
            keep_until: claims.exp,
        };
        Ok(critical_section::with(|cs| self.window.borrow_ref_mut(cs).begin(&request, now)))
    }

    fn drive(&mut self, command: Command) -> Result<Level, PinFault> {
        let driven = match command {
            Command::On | Command::Pulse => self.pin.set_high(),
            Command::Off => self.pin.set_low(),
            Command::Toggle => self.pin.toggle(),
        };
        driven.map_err(|_| PinFault)?;
        self.actuations = self.actuations.saturating_add(1);
        let level = self.level()?;
        log!(info, "relay {} ({}), actuation {=u32}", level, command, self.actuations);
        Ok(level)
    }
}
