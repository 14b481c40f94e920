//! UART0 (a PL011) as an `embedded-hal-nb` serial port: the frame transport.

#![allow(unsafe_code)]

use core::ptr::{read_volatile, write_volatile};
use embedded_hal_nb::serial::{self, ErrorKind};

const BASE: usize = 0x4000_C000;
const DR: *mut u32 = BASE as *mut u32;
const FR: *const u32 = (BASE + 0x018) as *const u32;
const CR: *mut u32 = (BASE + 0x030) as *mut u32;
const FR_RXFE: u32 = 1 << 4;
const FR_TXFF: u32 = 1 << 5;
const CR_ENABLE: u32 = 1 | 1 << 8 | 1 << 9; // UARTEN | TXE | RXE

/// UART0; create one handle only (the registers are not shared-safe).
pub struct Uart0(());

/// A receive error flagged in the data register.
#[derive(Clone, Copy, Debug)]
pub struct Error(ErrorKind);

impl serial::Error for Error {
    fn kind(&self) -> ErrorKind {
        self.0
    }
}

impl Uart0 {
    /// Enables UART0 (QEMU ignores baud rate and clock gating).
    pub fn new() -> Self {
        // SAFETY: CR is UART0's control register; only this handle touches it.
        unsafe { write_volatile(CR, CR_ENABLE) };
        Uart0(())
    }
}

impl serial::ErrorType for Uart0 {
    type Error = Error;
}

impl serial::Read<u8> for Uart0 {
    fn read(&mut self) -> nb::Result<u8, Error> {
        // SAFETY: FR and DR are UART0 registers, valid for volatile access.
        if unsafe { read_volatile(FR) } & FR_RXFE != 0 {
            return Err(nb::Error::WouldBlock);
        }
        // SAFETY: as above; the FIFO holds a byte, so this read pops it.
        let word = unsafe { read_volatile(DR) };
        let kind = match word >> 8 & 0xF {
            0 => return Ok((word & 0xFF) as u8),
            f if f & 0b1000 != 0 => ErrorKind::Overrun,
            f if f & 0b0100 != 0 => ErrorKind::Other, // break
            f if f & 0b0010 != 0 => ErrorKind::Parity,
            _ => ErrorKind::FrameFormat,
        };
        Err(nb::Error::Other(Error(kind)))
    }
}

impl serial::Write<u8> for Uart0 {
    fn write(&mut self, byte: u8) -> nb::Result<(), Error> {
        // SAFETY: as above.
        if unsafe { read_volatile(FR) } & FR_TXFF != 0 {
            return Err(nb::Error::WouldBlock);
        }
        // SAFETY: as above; the TX FIFO has room.
        unsafe { write_volatile(DR, u32::from(byte)) };
        Ok(())
    }

    fn flush(&mut self) -> nb::Result<(), Error> {
        Ok(())
    }
}
