//! The firmware's wire format (`tessera-app`, `firmware-example/app`): UART
//! bytes → lines → frames → the endpoint's answers.
//!
//! Input: the byte stream a serial port would deliver. Properties, per line:
//! - `LineBuffer` splits exactly as a reference splitter does (a line longer
//!   than the buffer is `TooLong` once, `\r\n` accepted), for a 512-byte
//!   buffer (the firmware's) and an 8-byte one (reaches `TooLong` often);
//! - `Frame::parse` equals an independent reference parser, error kind
//!   included, and an accepted frame written back is the line itself (the
//!   format has one spelling per frame);
//! - `Endpoint::handle` (real ring, real window, a fake pin and clock, one
//!   second per line) never panics and allocates nothing; a line that is not
//!   a frame is answered `-` with its `FrameError`; the answer is one line
//!   `<tag> <status> <detail>\n`; the pin moves only on a `200`/`202` answer.

use std::cell::{Cell, RefCell};
use std::convert::Infallible;
use std::sync::LazyLock;

use critical_section::Mutex;
use embedded_hal::digital::{ErrorType, OutputPin, StatefulOutputPin};
use tessera_app::{
    clock::Monotonic,
    frame::{Command, Frame, FrameError, LineBuffer, MAX_KEY_LEN},
    session::MAX_LINE,
    Answer, Endpoint, Policy, SharedWindow,
};
use tessera_core::{
    window::{Window, WindowConfig},
    Key, KeyRing, Validation,
};

use crate::alloc_count;

/// The endpoint's HS256 key (32 bytes, the minimum): the seeds sign with it.
pub const SECRET: &[u8; 32] = b"tessera-fuzz-frame-secret-32-b!!";
/// `iss` of every token the endpoint accepts.
pub const ISSUER: &str = "gw";
/// `aud` of request tokens.
pub const AUDIENCE: &str = "relay";
/// `aud` of time tokens.
pub const TIME_AUDIENCE: &str = "relay/time";
const WINDOW: usize = 8;
const SMALL: usize = 8;
#[allow(clippy::panic)] // a constant: a panic is a build error
const CONFIG: WindowConfig = match WindowConfig::new(10, 600, 30) {
    Ok(config) => config,
    Err(_) => panic!("invalid window configuration"),
};
const POLICY: Policy<'static> = Policy {
    request: Validation::new().issuer(ISSUER).audience(AUDIENCE).max_len(MAX_LINE),
    time: Validation::new().issuer(ISSUER).audience(TIME_AUDIENCE).max_len(MAX_LINE),
};

static RING: LazyLock<KeyRing<1>> = LazyLock::new(|| KeyRing::single(Key::hs256(SECRET).expect("key")).expect("ring"));

/// A relay that remembers its level.
struct FakePin<'a>(&'a Cell<bool>);

impl ErrorType for FakePin<'_> {
    type Error = Infallible;
}

impl OutputPin for FakePin<'_> {
    fn set_low(&mut self) -> Result<(), Infallible> {
        self.0.set(false);
        Ok(())
    }

    fn set_high(&mut self) -> Result<(), Infallible> {
        self.0.set(true);
        Ok(())
    }
}

impl StatefulOutputPin for FakePin<'_> {
    fn is_set_high(&mut self) -> Result<bool, Infallible> {
        Ok(self.0.get())
    }

    fn is_set_low(&mut self) -> Result<bool, Infallible> {
        Ok(!self.0.get())
    }
}

struct FakeMillis<'a>(&'a Cell<u64>);

impl Monotonic for FakeMillis<'_> {
    fn millis(&mut self) -> u64 {
        self.0.get()
    }
}

/// The lines a serial stream holds, as a `LineBuffer<n>` must report them.
pub fn reference_lines(bytes: &[u8], n: usize) -> Vec<Result<Vec<u8>, FrameError>> {
    let mut out = Vec::new();
    let mut line = Vec::new();
    for &b in bytes {
        if b == b'\n' {
            out.push(if line.len() > n {
                Err(FrameError::TooLong)
            } else {
                Ok(line.strip_suffix(b"\r").unwrap_or(&line).to_vec())
            });
            line.clear();
        } else {
            line.push(b);
        }
    }
    out
}

fn lines<const N: usize>(bytes: &[u8]) -> Vec<Result<Vec<u8>, FrameError>> {
    let mut buf = LineBuffer::<N>::new();
    bytes.iter().filter_map(|&b| buf.push(b).map(|l| l.map(<[u8]>::to_vec))).collect()
}

/// The frame grammar, written apart from `Frame::parse`: fields are the
/// line split at every space; a known kind with the wrong field count is
/// `Syntax`; a request's fields are checked key, command, token, then the
/// count.
pub fn reference_parse(line: &[u8]) -> Result<Frame<'_>, FrameError> {
    let fields: Vec<&[u8]> = line.split(|b| *b == b' ').collect();
    fn utf8(f: &[u8]) -> Option<&str> {
        std::str::from_utf8(f).ok()
    }
    let kind = fields.first().copied().unwrap_or_default();
    let argc = fields.len().saturating_sub(1);
    match (kind, argc) {
        (b"S", 0) => Ok(Frame::Status),
        (b"B", 0) => Ok(Frame::Reboot),
        (b"X", 0) => Ok(Frame::End),
        (b"T", 1) => fields.get(1).and_then(|t| utf8(t)).map(Frame::Time).ok_or(FrameError::Syntax),
        (b"R", 3..) => {
            let (key, command, token) = (fields[1], fields[2], fields[3]);
            let key_ok = (1..=MAX_KEY_LEN).contains(&key.len())
                && key.iter().all(|b| b.is_ascii_alphanumeric() || b"-_".contains(b));
            let key = utf8(key).filter(|_| key_ok).ok_or(FrameError::Key)?;
            let command = [Command::On, Command::Off, Command::Toggle, Command::Pulse]
                .into_iter()
                .find(|c| c.as_str().as_bytes() == command)
                .ok_or(FrameError::Command)?;
            let token = utf8(token).ok_or(FrameError::Syntax)?;
            if argc > 3 {
                return Err(FrameError::Syntax);
            }
            Ok(Frame::Request { key, command, token })
        }
        _ => Err(FrameError::Syntax),
    }
}

/// A frame written back in the wire format.
pub fn encode(frame: &Frame<'_>) -> Vec<u8> {
    match frame {
        Frame::Time(token) => format!("T {token}"),
        Frame::Request { key, command, token } => format!("R {key} {} {token}", command.as_str()),
        Frame::Status => "S".into(),
        Frame::Reboot => "B".into(),
        Frame::End => "X".into(),
    }
    .into_bytes()
}

/// The fuzz target: see the module docs.
pub fn frame(data: &[u8]) {
    transcript(data);
}

/// Checks every property on `data` and returns the answer lines.
pub fn transcript(data: &[u8]) -> Vec<String> {
    let expected = reference_lines(data, MAX_LINE);
    assert_eq!(lines::<MAX_LINE>(data), expected, "LineBuffer<{MAX_LINE}>");
    assert_eq!(lines::<SMALL>(data), reference_lines(data, SMALL), "LineBuffer<{SMALL}>");

    let window: SharedWindow<WINDOW> = Mutex::new(RefCell::new(Window::new([9; 16], CONFIG)));
    let level = Cell::new(false);
    let millis = Cell::new(0);
    let mut answers = Vec::new();
    let mut endpoint = Endpoint::new(&RING, POLICY, &window, FakePin(&level), FakeMillis(&millis));
    for line in &expected {
        if let Ok(line) = line {
            let parsed = Frame::parse(line);
            assert_eq!(parsed, reference_parse(line), "line {:?}", String::from_utf8_lossy(line));
            if let Ok(frame) = parsed {
                assert_eq!(encode(&frame), *line, "round trip of {frame:?}");
            }
        }
        alloc_count::no_alloc("Endpoint::tick", || endpoint.tick());
        let before = level.get();
        let (tag, answer) =
            alloc_count::no_alloc("Endpoint::handle", || endpoint.handle(line.as_deref().map_err(|e| *e)));
        if let Err(e) = line.as_ref().map_err(|e| *e).and_then(|l| Frame::parse(l).map(|_| ())) {
            assert_eq!((tag, answer), ("-", Answer::Frame(e)));
        }
        let mut text = Vec::new();
        let Ok(()) = answer.write(tag, |b| {
            text.extend_from_slice(b);
            Ok::<_, Infallible>(())
        });
        let text = String::from_utf8(text).expect("answers are UTF-8");
        let fields: Vec<&str> = text.trim_end_matches('\n').split(' ').collect();
        assert!(text.ends_with('\n') && text.matches('\n').count() == 1, "{text:?}");
        assert!(fields.len() >= 3 && fields[0] == tag && fields[1].len() == 3, "{text:?}");
        if level.get() != before {
            assert!(matches!(answer, Answer::Done(_) | Answer::Started), "pin moved on {answer:?}");
        }
        millis.set(millis.get().saturating_add(1000));
        answers.push(text);
    }
    answers
}
