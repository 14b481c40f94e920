//! The endpoint on the host: real tokens from the real signer, a real window,
//! and embedded-hal-mock standing in for the relay pin and the UART.
#![allow(clippy::unwrap_used, clippy::arithmetic_side_effects, clippy::indexing_slicing)]

use core::cell::{Cell, RefCell};

use critical_section::Mutex;
use embedded_hal_mock::eh1::digital::{Mock as Pin, State, Transaction as PinTx};
use embedded_hal_mock::eh1::serial::{Mock as Serial, Transaction as SerialTx};
use embedded_hal_mock::eh1::MockError;
use tessera_app::{
    clock::{Monotonic, Persist},
    endpoint::PULSE_SECS,
    frame::FrameError,
    Answer, Control, Endpoint, Level, Policy, Session, SharedWindow,
};
use tessera_core::{
    window::{Begin, Fingerprint, Request, Window, WindowConfig},
    Error, Key, KeyRing, Validation,
};

const SECRET: &[u8; 32] = b"host-test-secret-host-test-secr!";
const T0: u64 = 1_764_072_000;
/// The first time sync of each test endpoint: far enough before `T0` that
/// tokens issued at `T0` clear the restart floor (`BOOT + max_skew`).
const BOOT: u64 = T0 - 100;
// Checked at compile time: a panic in a constant is a build error.
#[allow(clippy::panic)]
const CONFIG: WindowConfig = match WindowConfig::new(10, 600, 30) {
    Ok(config) => config,
    Err(_) => panic!("invalid window configuration"),
};

struct Millis<'a>(&'a Cell<u64>);

impl Monotonic for Millis<'_> {
    fn millis(&mut self) -> u64 {
        self.0.get()
    }
}

fn token(claims: &str) -> String {
    let mut out = [0u8; 512];
    Key::hs256(SECRET).unwrap().sign_json(claims.as_bytes(), &mut out).unwrap().to_owned()
}

fn valid(sub: &str, iat: u64) -> String {
    token(&format!(r#"{{"iss":"gw","sub":"{sub}","aud":"relay","iat":{iat},"exp":{}}}"#, iat + 600))
}

fn time_token(iat: u64) -> String {
    token(&format!(r#"{{"iss":"gw","aud":"relay-time","iat":{iat},"exp":{}}}"#, iat + 60))
}

fn window<const N: usize>() -> SharedWindow<N> {
    Mutex::new(RefCell::new(Window::new([7; 16], CONFIG)))
}

fn ring() -> KeyRing<1> {
    KeyRing::single(Key::hs256(SECRET).unwrap()).unwrap()
}

const POLICY: Policy<'static> = Policy {
    request: Validation::new().issuer("gw").audience("relay"),
    time: Validation::new().issuer("gw").audience("relay-time"),
};

type TestEndpoint<'a, const N: usize> = Endpoint<'a, Pin, Millis<'a>, 1, N>;

/// The boot sync, then the clock at `T0`.
fn boot<const N: usize>(e: &mut TestEndpoint<'_, N>) {
    assert_eq!(ask(e, &format!("T {}", time_token(BOOT))), Answer::Time(BOOT));
    assert_eq!(ask(e, &format!("T {}", time_token(T0))), Answer::Time(T0));
}

/// Runs `f` with a synced endpoint over `pin`, then checks the pin saw exactly
/// its expectations.
fn with_endpoint<const N: usize>(
    window: &SharedWindow<N>,
    pin: &[PinTx],
    f: impl FnOnce(&mut TestEndpoint<'_, N>, &Cell<u64>),
) {
    let ring = ring();
    let ms = Cell::new(0);
    let mut mock = Pin::new(pin);
    let mut endpoint = Endpoint::new(&ring, POLICY, window, mock.clone(), Millis(&ms));
    boot(&mut endpoint);
    f(&mut endpoint, &ms);
    mock.done();
}

fn ask<const N: usize, S: Persist>(endpoint: &mut Endpoint<'_, Pin, Millis<'_>, 1, N, S>, line: &str) -> Answer {
    endpoint.handle(Ok(line.as_bytes())).1
}

#[test]
fn fresh_request_drives_the_pin_once_and_retries_replay() {
    let window = window::<32>();
    let tok = valid("app-1", T0);
    let pin = [PinTx::toggle(), PinTx::get_state(State::High), PinTx::get_state(State::High)];
    with_endpoint(&window, &pin, |e, _| {
        assert_eq!(ask(e, &format!("R k1 toggle {tok}")), Answer::Done(Level::On));
        assert_eq!(ask(e, &format!("R k1 toggle {tok}")), Answer::Replayed(Level::On));
        assert_eq!(ask(e, "S"), Answer::Status(Level::On, 1));
    });
}

#[test]
fn same_key_for_another_caller_is_another_request() {
    let window = window::<32>();
    let pin = [
        PinTx::set(State::High),
        PinTx::get_state(State::High),
        PinTx::set(State::High),
        PinTx::get_state(State::High),
    ];
    with_endpoint(&window, &pin, |e, _| {
        assert_eq!(ask(e, &format!("R k1 on {}", valid("app-1", T0))), Answer::Done(Level::On));
        assert_eq!(ask(e, &format!("R k1 on {}", valid("app-2", T0))), Answer::Done(Level::On));
    });
}

#[test]
fn reused_key_with_another_command_is_a_mismatch() {
    let window = window::<32>();
    let tok = valid("app-1", T0);
    with_endpoint(&window, &[PinTx::set(State::Low), PinTx::get_state(State::Low)], |e, _| {
        assert_eq!(ask(e, &format!("R k1 off {tok}")), Answer::Done(Level::Off));
        assert_eq!(ask(e, &format!("R k1 on {tok}")), Answer::Mismatch);
    });
}

#[test]
fn token_errors_never_touch_the_pin() {
    let window = window::<32>();
    let good = valid("app-1", T0);
    let forged = valid("admin", T0);
    let mut parts: Vec<&str> = good.split('.').collect();
    parts[1] = forged.split('.').nth(1).unwrap();
    let tampered = parts.join(".");
    let expired = token(&format!(r#"{{"iss":"gw","sub":"a","aud":"relay","iat":1,"exp":{T0}}}"#));
    let wrong_aud = token(&format!(r#"{{"iss":"gw","sub":"a","aud":"other","iat":{T0},"exp":{}}}"#, T0 + 9));
    let no_sub = token(&format!(r#"{{"iss":"gw","aud":"relay","iat":{T0},"exp":{}}}"#, T0 + 9));
    let no_iat = token(&format!(r#"{{"iss":"gw","sub":"a","aud":"relay","exp":{}}}"#, T0 + 9));
    with_endpoint(&window, &[], |e, _| {
        assert_eq!(ask(e, &format!("R k on {tampered}")), Answer::Token(Error::Signature));
        assert_eq!(ask(e, &format!("R k on {expired}")), Answer::Token(Error::Expired));
        assert_eq!(ask(e, &format!("R k on {wrong_aud}")), Answer::Token(Error::Audience));
        assert_eq!(ask(e, &format!("R k on {no_sub}")), Answer::Token(Error::Missing(tessera_core::Claim::Sub)));
        assert_eq!(ask(e, &format!("R k on {no_iat}")), Answer::Token(Error::Claims));
        assert!(matches!(ask(e, "R k on not-a-token"), Answer::Token(Error::Malformed(_))));
    });
}

#[test]
fn a_key_still_running_is_in_flight() {
    let window = window::<32>();
    let request =
        Request { scope: b"app-1", key: b"k1", fingerprint: Fingerprint::of(&[b"on"]), stamp: T0, keep_until: None };
    let claimed = critical_section::with(|cs| window.borrow_ref_mut(cs).begin(&request, T0));
    assert!(matches!(claimed, Begin::Fresh(_)));
    with_endpoint(&window, &[], |e, ms| {
        let retry = format!("R k1 on {}", valid("app-1", T0));
        assert_eq!(ask(e, &retry), Answer::InFlight);
        // The lease (10 s) runs out unsettled: the outcome is unknown, never run again.
        ms.set(10_000);
        assert_eq!(ask(e, &retry), Answer::Abandoned);
    });
}

#[test]
fn a_full_window_refuses_and_a_future_stamp_is_stale() {
    let window = window::<1>();
    with_endpoint(&window, &[PinTx::set(State::High), PinTx::get_state(State::High)], |e, _| {
        assert_eq!(ask(e, &format!("R a on {}", valid("app-1", T0))), Answer::Done(Level::On));
        assert_eq!(ask(e, &format!("R b on {}", valid("app-1", T0))), Answer::Full);
        assert_eq!(ask(e, &format!("R c on {}", valid("app-1", T0 + 31))), Answer::Stale);
    });
}

#[test]
fn a_failing_pin_releases_the_key_for_a_retry() {
    let window = window::<32>();
    let tok = valid("app-1", T0);
    let pin = [
        PinTx::set(State::High).with_error(MockError::Io(std::io::ErrorKind::Other)),
        PinTx::set(State::High),
        PinTx::get_state(State::High),
    ];
    with_endpoint(&window, &pin, |e, _| {
        assert_eq!(ask(e, &format!("R k1 on {tok}")), Answer::Pin);
        assert_eq!(ask(e, &format!("R k1 on {tok}")), Answer::Done(Level::On));
    });
}

#[test]
fn no_request_is_served_before_the_first_time_sync() {
    let window = window::<32>();
    let ring = ring();
    let ms = Cell::new(0);
    let mut pin = Pin::new(&[]);
    let mut e = Endpoint::new(&ring, POLICY, &window, pin.clone(), Millis(&ms));
    let tok = valid("app-1", T0);
    assert_eq!(ask(&mut e, &format!("R k1 on {tok}")), Answer::NoTime);
    assert_eq!(e.handle(Err(FrameError::TooLong)), ("-", Answer::Frame(FrameError::TooLong)));
    boot(&mut e);
    pin.done();
}

#[test]
fn time_comes_only_from_fresh_verified_time_tokens() {
    let window = window::<32>();
    let ring = ring();
    let ms = Cell::new(0);
    let mut pin = Pin::new(&[]);
    let mut e = Endpoint::new(&ring, POLICY, &window, pin.clone(), Millis(&ms));
    let stranger = Key::hs256(b"a-key-this-device-never-knew-it!").unwrap();
    let mut forged = [0u8; 512];
    let forged = stranger
        .sign_json(format!(r#"{{"iss":"gw","aud":"relay-time","iat":{T0},"exp":{}}}"#, T0 + 60).as_bytes(), &mut forged)
        .unwrap();
    let no_exp = token(&format!(r#"{{"iss":"gw","aud":"relay-time","iat":{T0}}}"#));
    let backwards = token(&format!(r#"{{"iss":"gw","aud":"relay-time","iat":{T0},"exp":{T0}}}"#));
    // Unauthenticated, forged, a request token, no `exp`, `exp` not after `iat`: the clock stays unset.
    assert!(matches!(ask(&mut e, &format!("T {T0}")), Answer::Token(Error::Malformed(_))));
    assert_eq!(ask(&mut e, &format!("T {forged}")), Answer::Token(Error::Signature));
    assert_eq!(ask(&mut e, &format!("T {}", valid("app-1", T0))), Answer::Token(Error::Audience));
    assert!(matches!(ask(&mut e, &format!("T {no_exp}")), Answer::Token(Error::Missing(_))));
    assert_eq!(ask(&mut e, &format!("T {backwards}")), Answer::Token(Error::Expired));
    assert_eq!(ask(&mut e, &format!("R k1 on {}", valid("app-1", T0))), Answer::NoTime);
    // A time token is not a request token either.
    let first = time_token(T0);
    assert_eq!(ask(&mut e, &format!("T {first}")), Answer::Time(T0));
    assert_eq!(ask(&mut e, &format!("R k1 on {first}")), Answer::Token(Error::Audience));
    // Replayed, or not newer than the last one: refused.
    assert_eq!(ask(&mut e, &format!("T {first}")), Answer::TimeReplayed);
    assert_eq!(ask(&mut e, &format!("T {}", time_token(T0 - 1))), Answer::TimeReplayed);
    // Newer than the last, but behind the clock (which ran on): refused.
    ms.set(10_000);
    assert_eq!(ask(&mut e, &format!("T {}", time_token(T0 + 5))), Answer::ClockBackwards);
    // Expired by the clock.
    ms.set(100_000);
    assert_eq!(ask(&mut e, &format!("T {}", time_token(T0 + 20))), Answer::Token(Error::Expired));
    assert_eq!(ask(&mut e, &format!("T {}", time_token(T0 + 200))), Answer::Time(T0 + 200));
    pin.done();
}

#[test]
fn nothing_that_ran_before_a_restart_runs_after_it() {
    let before = window::<32>();
    let now_ok = valid("app-1", T0);
    // Accepted at T0 with a stamp inside the window's skew (30 s).
    let ahead = valid("app-1", T0 + 25);
    let pin = [
        PinTx::set(State::High),
        PinTx::get_state(State::High),
        PinTx::set(State::High),
        PinTx::get_state(State::High),
    ];
    with_endpoint(&before, &pin, |e, _| {
        assert_eq!(ask(e, &format!("R k1 on {now_ok}")), Answer::Done(Level::On));
        assert_eq!(ask(e, &format!("R k2 on {ahead}")), Answer::Done(Level::On));
    });
    // The reset: an empty window, an endpoint that does not know the time.
    let after = window::<32>();
    let ring = ring();
    let ms = Cell::new(0);
    let mut mock = Pin::new(&[PinTx::set(State::High), PinTx::get_state(State::High)]);
    let mut e = Endpoint::new(&ring, POLICY, &after, mock.clone(), Millis(&ms));
    let t_boot = T0 + 5;
    assert_eq!(ask(&mut e, &format!("T {}", time_token(t_boot))), Answer::Time(t_boot));
    assert_eq!(ask(&mut e, &format!("R k1 on {now_ok}")), Answer::Stale);
    assert_eq!(ask(&mut e, &format!("R k2 on {ahead}")), Answer::Stale);
    // A token minted after the floor (t_boot + max_skew) runs once the clock reaches it.
    let fresh = valid("app-1", t_boot + 31);
    assert_eq!(ask(&mut e, &format!("R k3 on {fresh}")), Answer::Stale);
    ms.set(2_000);
    assert_eq!(ask(&mut e, &format!("R k3 on {fresh}")), Answer::Done(Level::On));
    mock.done();
}

/// A mark kept across the test's resets, as RAM that a warm reset leaves alone.
struct Retained<'a>(&'a Cell<Option<u64>>);

impl Persist for Retained<'_> {
    fn load(&mut self) -> Option<u64> {
        self.0.get()
    }

    fn store(&mut self, secs: u64) {
        self.0.set(Some(secs));
    }
}

#[test]
fn an_older_time_token_replayed_first_after_a_reset_is_refused() {
    let kept = Cell::new(None);
    let ring = ring();
    // Before the reset: the clock reaches T0 + 50 and k1 runs with a stamp
    // T0 + 75 (within the 30 s skew). A time token minted at T0 + 20 was
    // withheld by an attacker on the link.
    let withheld = time_token(T0 + 20);
    let ran = valid("app-1", T0 + 75);
    let before = window::<32>();
    let ms = Cell::new(0);
    let mut mock = Pin::new(&[PinTx::set(State::High), PinTx::get_state(State::High)]);
    let mut e = Endpoint::new(&ring, POLICY, &before, mock.clone(), Millis(&ms)).persisting(Retained(&kept));
    assert_eq!(ask(&mut e, &format!("T {}", time_token(T0))), Answer::Time(T0));
    ms.set(50_000);
    assert_eq!(ask(&mut e, &format!("R k1 on {ran}")), Answer::Done(Level::On));
    assert_eq!(kept.get(), Some(T0 + 50), "the mark is the clock at the claim");
    mock.done();

    // The reset. Replayed first, the withheld token would set the clock to
    // T0 + 20 and the floor to T0 + 50, under which k1 (stamp T0 + 75) runs
    // again 25 s later; with the mark it is refused, as is every older one.
    let after = window::<32>();
    let ms = Cell::new(0);
    let mut mock = Pin::new(&[]);
    let mut e = Endpoint::new(&ring, POLICY, &after, mock.clone(), Millis(&ms)).persisting(Retained(&kept));
    assert_eq!(ask(&mut e, &format!("T {withheld}")), Answer::TimeReplayed);
    assert_eq!(ask(&mut e, &format!("T {}", time_token(T0))), Answer::TimeReplayed);
    assert_eq!(ask(&mut e, &format!("R k1 on {ran}")), Answer::NoTime);
    // The gateway's current time token: the floor is above k1's stamp.
    assert_eq!(ask(&mut e, &format!("T {}", time_token(T0 + 51))), Answer::Time(T0 + 51));
    ms.set(60_000);
    assert_eq!(ask(&mut e, &format!("R k1 on {ran}")), Answer::Stale);
    mock.done();
}

#[test]
fn a_session_answers_each_frame_on_the_serial_port() {
    let window = window::<32>();
    let ring = ring();
    let ms = Cell::new(0);
    let tok = valid("app-1", T0);
    let exchange = [
        (format!("T {}\n", time_token(BOOT)), format!("time 200 {BOOT}\n")),
        ("\n".to_owned(), String::new()),
        (format!("T {}\n", time_token(T0)), format!("time 200 {T0}\n")),
        (format!("R k1 toggle {tok}\r\n"), "k1 200 on\n".to_owned()),
        (format!("R k1 toggle {tok}\n"), "k1 208 on\n".to_owned()),
        ("bogus\n".to_owned(), "- 400 syntax\n".to_owned()),
        ("B\n".to_owned(), "boot 200 reset\n".to_owned()),
        ("X\n".to_owned(), "end 200 bye\n".to_owned()),
    ];
    let mut expected = Vec::new();
    for (frame, answer) in &exchange {
        expected.push(SerialTx::read_many(frame.as_bytes()));
        if !answer.is_empty() {
            expected.push(SerialTx::write_many(answer.as_bytes()));
            expected.push(SerialTx::flush());
        }
    }
    let input_len: usize = exchange.iter().map(|(f, _)| f.len()).sum();
    let mut serial = Serial::new(&expected);
    let mut pin = Pin::new(&[PinTx::toggle(), PinTx::get_state(State::High)]);
    let endpoint = Endpoint::new(&ring, POLICY, &window, pin.clone(), Millis(&ms));
    let mut session = Session::new(endpoint);
    let mut controls = Vec::new();
    for _ in 0..input_len {
        match session.poll(&mut serial) {
            Ok(Control::Continue) => {}
            other => controls.push(other),
        }
    }
    assert_eq!(controls, [Ok(Control::Reset), Ok(Control::Stop)]);
    serial.done();
    pin.done();
}

#[test]
fn a_pulse_keeps_its_key_in_flight_until_it_ends() {
    let window = window::<32>();
    let ring = ring();
    let ms = Cell::new(0);
    let pin = [
        PinTx::set(State::High),
        PinTx::get_state(State::High),
        PinTx::set(State::Low),
        PinTx::get_state(State::Low),
        PinTx::set(State::High),
        PinTx::get_state(State::High),
    ];
    let mut mock = Pin::new(&pin);
    let mut e = Endpoint::new(&ring, POLICY, &window, mock.clone(), Millis(&ms));
    boot(&mut e);
    let tok = valid("app-1", T0);
    assert_eq!(ask(&mut e, &format!("R k1 pulse {tok}")), Answer::Started);
    assert_eq!(ask(&mut e, &format!("R k1 pulse {tok}")), Answer::InFlight);
    assert_eq!(ask(&mut e, &format!("R k2 on {tok}")), Answer::Busy);
    ms.set(PULSE_SECS * 1000 - 1);
    e.tick();
    assert_eq!(ask(&mut e, &format!("R k1 pulse {tok}")), Answer::InFlight);
    ms.set(PULSE_SECS * 1000);
    e.tick();
    assert_eq!(ask(&mut e, &format!("R k1 pulse {tok}")), Answer::Replayed(Level::Off));
    assert_eq!(ask(&mut e, &format!("R k2 on {tok}")), Answer::Done(Level::On));
    mock.done();
}
