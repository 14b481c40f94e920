//! UARTE0 as the `embedded-hal-nb` serial port the session reads, and the
//! `WFE` idle that waits for its next byte.
//!
//! The HAL's UARTE speaks `embedded-io` (one-byte EasyDMA reception, a
//! buffered transmitter); this adapter maps it onto `embedded-hal-nb` without
//! blocking on reception.

#![allow(unsafe_code)]

use cortex_m::peripheral::{NVIC, SCB};
use embedded_hal_nb::serial::{self, ErrorKind};
use embedded_io::{Read as _, ReadReady as _, Write as _};
use nrf52840_hal::{
    pac::{Interrupt, UARTE0},
    uarte::{Baudrate, Parity, Pins, Uarte, UarteRx, UarteTx},
};

/// Bytes buffered before a transmit DMA starts: an answer line is flushed
/// at its end anyway.
const TX_BUF: usize = 64;

/// UARTE0 at 115 200 baud 8N1; built once (it consumes the PAC's `UARTE0`).
pub struct Serial {
    tx: UarteTx<UARTE0>,
    rx: UarteRx<UARTE0>,
}

/// A transfer error reported by the UARTE (the HAL does not tell which).
#[derive(Clone, Copy, Debug)]
pub struct Error;

impl serial::Error for Error {
    fn kind(&self) -> ErrorKind {
        ErrorKind::Other
    }
}

impl Serial {
    /// Configures UARTE0 on `pins` and enables its end-of-reception event as
    /// an interrupt left disabled in the NVIC: pended, it wakes [`Serial::idle`]
    /// (`SEVONPEND`). `None` if the HAL refuses the DMA buffers.
    pub fn new(uarte: UARTE0, pins: Pins, scb: &mut SCB) -> Option<Self> {
        let tx_buf = cortex_m::singleton!(: [u8; TX_BUF] = [0; TX_BUF])?;
        let rx_buf = cortex_m::singleton!(: [u8; 1] = [0; 1])?;
        let (tx, rx) = Uarte::new(uarte, pins, Parity::EXCLUDED, Baudrate::BAUD115200).split(tx_buf, rx_buf).ok()?;
        // SAFETY: INTENSET is write-one-to-set; only ENDRX is set, and the
        // UARTE0 interrupt stays disabled in the NVIC (no handler runs).
        unsafe { (*UARTE0::ptr()).intenset.write(|w| w.endrx().set()) };
        scb.set_sevonpend();
        Some(Serial { tx, rx })
    }

    /// Sleeps (`WFE`) until a byte arrives or an interrupt (the RTC's tick,
    /// 8 per second) is taken. Race-free: a byte received after the check
    /// pends UARTE0, which latches the event, so `WFE` returns at once.
    pub fn idle(&mut self) {
        NVIC::unpend(Interrupt::UARTE0_UART0);
        // `read_ready` also starts the one-byte reception when none is running.
        if let Ok(false) = self.rx.read_ready() {
            cortex_m::asm::wfe();
        }
    }
}

impl serial::ErrorType for Serial {
    type Error = Error;
}

impl serial::Read<u8> for Serial {
    fn read(&mut self) -> nb::Result<u8, Error> {
        if !self.rx.read_ready().map_err(|_| Error)? {
            return Err(nb::Error::WouldBlock);
        }
        let mut byte = [0];
        // A byte is waiting, so this does not block.
        match self.rx.read(&mut byte) {
            Ok(1) => Ok(byte[0]),
            _ => Err(nb::Error::Other(Error)),
        }
    }
}

impl serial::Write<u8> for Serial {
    fn write(&mut self, byte: u8) -> nb::Result<(), Error> {
        match self.tx.write(&[byte]) {
            Ok(1) => Ok(()),
            Ok(_) => Err(nb::Error::WouldBlock),
            Err(_) => Err(nb::Error::Other(Error)),
        }
    }

    /// Waits until the buffered bytes are sent (before a reset, say).
    fn flush(&mut self) -> nb::Result<(), Error> {
        self.tx.flush().map_err(|_| nb::Error::Other(Error))
    }
}
