//! The wire format: one ASCII line per frame, fields separated by one space.
//!
//! ```text
//! T <jws>                              time sync: a time token, its `iat` is the
//!                                     time (the endpoint's only clock source)
//! R <idempotency-key> <command> <jws>  request: run <command> (on, off, toggle,
//!                                     pulse) at most once per key
//! S                                    status: pin level and actuation count
//! B                                    reboot (system reset; the test harness's
//!                                     way to show at most once across resets)
//! X                                    end of session
//! ```
//!
//! Empty lines are ignored (no answer): they pad the input after a `B`, whose
//! reset drops the byte waiting in the UART.
//!
//! Text keeps transcripts readable and frames easy to produce from a shell;
//! the token is already base64url, so nothing needs escaping.

/// Longest idempotency key, in bytes.
pub const MAX_KEY_LEN: usize = 32;

/// What the pin should do; the command's text is what the window fingerprints,
/// so the same key with another command is a `Mismatch`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Command {
    /// Drive the pin high (relay closed, valve open).
    On,
    /// Drive the pin low.
    Off,
    /// Invert the pin: not idempotent by itself, which is what the window is for.
    Toggle,
    /// Drive the pin high for [`crate::endpoint::PULSE_SECS`] (a valve opened
    /// for a dose), then low; the key stays in flight meanwhile.
    Pulse,
}

impl Command {
    /// The command as it appears on the wire.
    pub const fn as_str(self) -> &'static str {
        match self {
            Command::On => "on",
            Command::Off => "off",
            Command::Toggle => "toggle",
            Command::Pulse => "pulse",
        }
    }

    fn parse(text: &[u8]) -> Option<Self> {
        match text {
            b"on" => Some(Command::On),
            b"off" => Some(Command::Off),
            b"toggle" => Some(Command::Toggle),
            b"pulse" => Some(Command::Pulse),
            _ => None,
        }
    }
}

/// One parsed frame, borrowing the line buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Frame<'a> {
    /// Sets the clock to the `iat` of this time token (JWS compact).
    Time(&'a str),
    /// Asks for `command` under idempotency `key`, authorised by `token`.
    Request {
        /// The caller's idempotency key (1..=[`MAX_KEY_LEN`] of `[A-Za-z0-9_-]`).
        key: &'a str,
        /// What to do.
        command: Command,
        /// The JWS compact token.
        token: &'a str,
    },
    /// Asks for the pin level and the number of actuations so far.
    Status,
    /// Asks for a system reset (after the answer is sent).
    Reboot,
    /// Ends the session.
    End,
}

/// Why a line is not a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum FrameError {
    /// Longer than the line buffer; the rest of the line was discarded.
    TooLong,
    /// Unknown frame letter, or the wrong number of fields.
    Syntax,
    /// The idempotency key is empty, too long, or has other characters.
    Key,
    /// Not one of `on`, `off`, `toggle`, `pulse`.
    Command,
}

impl FrameError {
    /// Stable code for the answer line.
    pub const fn code(self) -> &'static str {
        match self {
            FrameError::TooLong => "too_long",
            FrameError::Syntax => "syntax",
            FrameError::Key => "bad_key",
            FrameError::Command => "bad_command",
        }
    }
}

impl<'a> Frame<'a> {
    /// Parses one line (without its newline).
    pub fn parse(line: &'a [u8]) -> Result<Self, FrameError> {
        let mut fields = line.split(|&b| b == b' ');
        let kind = fields.next().ok_or(FrameError::Syntax)?;
        let frame = match kind {
            b"T" => Frame::Time(parse_token(fields.next().ok_or(FrameError::Syntax)?)?),
            b"S" => Frame::Status,
            b"B" => Frame::Reboot,
            b"X" => Frame::End,
            b"R" => {
                let key = fields.next().ok_or(FrameError::Syntax)?;
                let command = fields.next().ok_or(FrameError::Syntax)?;
                let token = fields.next().ok_or(FrameError::Syntax)?;
                Frame::Request {
                    key: parse_key(key)?,
                    command: Command::parse(command).ok_or(FrameError::Command)?,
                    token: parse_token(token)?,
                }
            }
            _ => return Err(FrameError::Syntax),
        };
        match fields.next() {
            None => Ok(frame),
            Some(_) => Err(FrameError::Syntax),
        }
    }
}

fn parse_key(text: &[u8]) -> Result<&str, FrameError> {
    let allowed = |b: &u8| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_';
    if text.is_empty() || text.len() > MAX_KEY_LEN || !text.iter().all(allowed) {
        return Err(FrameError::Key);
    }
    core::str::from_utf8(text).map_err(|_| FrameError::Key)
}

/// Non-ASCII bytes cannot be base64url; the verifier reports the rest.
fn parse_token(text: &[u8]) -> Result<&str, FrameError> {
    core::str::from_utf8(text).map_err(|_| FrameError::Syntax)
}

/// Collects bytes into lines of at most `N` bytes; a longer line is reported
/// once as [`FrameError::TooLong`] when its newline arrives.
pub struct LineBuffer<const N: usize> {
    buf: [u8; N],
    len: usize,
    overflow: bool,
    complete: bool,
}

impl<const N: usize> Default for LineBuffer<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> LineBuffer<N> {
    /// An empty buffer.
    pub const fn new() -> Self {
        LineBuffer { buf: [0; N], len: 0, overflow: false, complete: false }
    }

    /// Adds one byte; returns the line when `byte` ends it (`\r\n` accepted).
    pub fn push(&mut self, byte: u8) -> Option<Result<&[u8], FrameError>> {
        if self.complete {
            self.len = 0;
            self.overflow = false;
            self.complete = false;
        }
        if byte == b'\n' {
            self.complete = true;
            if self.overflow {
                return Some(Err(FrameError::TooLong));
            }
            let line = self.buf.get(..self.len).unwrap_or_default();
            return Some(Ok(line.strip_suffix(b"\r").unwrap_or(line)));
        }
        match self.buf.get_mut(self.len) {
            Some(slot) => {
                *slot = byte;
                self.len = self.len.saturating_add(1);
            }
            None => self.overflow = true,
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_frame_kind() {
        assert_eq!(Frame::parse(b"T a.b.c"), Ok(Frame::Time("a.b.c")));
        assert_eq!(Frame::parse(b"S"), Ok(Frame::Status));
        assert_eq!(Frame::parse(b"B"), Ok(Frame::Reboot));
        assert_eq!(Frame::parse(b"X"), Ok(Frame::End));
        assert_eq!(
            Frame::parse(b"R k-1 toggle a.b.c"),
            Ok(Frame::Request { key: "k-1", command: Command::Toggle, token: "a.b.c" })
        );
    }

    #[test]
    fn rejects_malformed_frames_with_a_reason() {
        assert_eq!(Frame::parse(b""), Err(FrameError::Syntax));
        assert_eq!(Frame::parse(b"Q"), Err(FrameError::Syntax));
        assert_eq!(Frame::parse(b"S extra"), Err(FrameError::Syntax));
        assert_eq!(Frame::parse(b"R k on"), Err(FrameError::Syntax));
        assert_eq!(Frame::parse(b"R k on t extra"), Err(FrameError::Syntax));
        assert_eq!(Frame::parse(b"R  k on t"), Err(FrameError::Key));
        assert_eq!(Frame::parse(b"R k/1 on t"), Err(FrameError::Key));
        assert_eq!(Frame::parse(&[b"R ".as_slice(), &[b'k'; 33], b" on t"].concat()), Err(FrameError::Key));
        assert_eq!(Frame::parse(b"R k blink t"), Err(FrameError::Command));
        assert_eq!(Frame::parse(b"T"), Err(FrameError::Syntax));
        assert_eq!(Frame::parse(b"T a.b.c extra"), Err(FrameError::Syntax));
        assert_eq!(Frame::parse(b"B now"), Err(FrameError::Syntax));
        assert_eq!(Frame::parse(b"R k on \xff"), Err(FrameError::Syntax));
    }

    #[test]
    fn splits_lines_and_reports_overflow_once() {
        let mut lines = LineBuffer::<4>::new();
        let mut got = Vec::new();
        for &b in b"S\r\nT 12345\nX\n" {
            if let Some(line) = lines.push(b) {
                got.push(line.map(<[u8]>::to_vec));
            }
        }
        assert_eq!(got, [Ok(b"S".to_vec()), Err(FrameError::TooLong), Ok(b"X".to_vec())]);
    }
}
