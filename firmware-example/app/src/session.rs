//! The transport loop: bytes from a serial port in, answer lines out.

use embedded_hal::digital::StatefulOutputPin;
use embedded_hal_nb::serial::{Read, Write};

use crate::{
    clock::{Monotonic, Persist, Volatile},
    frame::LineBuffer,
    reply::Answer,
    Endpoint,
};

/// Longest frame, in bytes, newline excluded.
pub const MAX_LINE: usize = 512;

/// Whether to keep serving.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Control {
    /// Wait for more bytes.
    Continue,
    /// The peer ended the session (`X`).
    Stop,
    /// The peer asked for a system reset (`B`); the answer has been sent.
    Reset,
}

/// An endpoint bound to a line buffer.
pub struct Session<'a, P, M, const K: usize, const N: usize, R = Volatile> {
    lines: LineBuffer<MAX_LINE>,
    endpoint: Endpoint<'a, P, M, K, N, R>,
}

impl<'a, P, M, const K: usize, const N: usize, R> Session<'a, P, M, K, N, R>
where
    P: StatefulOutputPin,
    M: Monotonic,
    R: Persist,
{
    /// A session with an empty line buffer.
    pub fn new(endpoint: Endpoint<'a, P, M, K, N, R>) -> Self {
        Session { lines: LineBuffer::new(), endpoint }
    }

    /// Ends a finished pulse, then reads one byte; when it completes a frame,
    /// answers it on `serial`. `WouldBlock` means no byte is waiting.
    pub fn poll<S: Read<u8> + Write<u8>>(&mut self, serial: &mut S) -> nb::Result<Control, S::Error> {
        self.endpoint.tick();
        let byte = serial.read()?;
        let line = match self.lines.push(byte) {
            None | Some(Ok([])) => return Ok(Control::Continue),
            Some(line) => line,
        };
        let (tag, answer) = self.endpoint.handle(line);
        log!(info, "{=str} -> {}", tag, answer);
        answer.write(tag, |bytes| bytes.iter().try_for_each(|&b| nb::block!(serial.write(b))))?;
        nb::block!(serial.flush())?;
        Ok(match answer {
            Answer::End => Control::Stop,
            Answer::Reboot => Control::Reset,
            _ => Control::Continue,
        })
    }
}
