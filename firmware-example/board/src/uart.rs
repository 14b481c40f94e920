//! UART0 (a PL011 on PA0/PA1) as an `embedded-hal-nb` serial port: the frame
//! transport. Set up as the LM3S6965 datasheet asks (QEMU ignores clock
//! gating, pin muxing and the baud rate, a real chip does not): clock the
//! UART and GPIO port A, hand PA0/PA1 to the UART, then 115 200 baud 8N1.
//! The divisor assumes the system clock is [`CORE_HZ`]; a real board must
//! program SYSCTL RCC for its crystal so that it is (not done here).

#![allow(unsafe_code)]

use core::ptr::{read_volatile, write_volatile};
use core::sync::atomic::{AtomicBool, Ordering};
use cortex_m::peripheral::NVIC;
use embedded_hal_nb::serial::{self, ErrorKind};

use crate::systick::CORE_HZ;

/// The interrupt numbers of the LM3S6965 that this glue uses.
#[derive(Clone, Copy)]
enum Interrupt {
    /// UART0's interrupt (vector 21, IRQ 5).
    UART0 = 5,
}

// SAFETY: 5 is UART0's IRQ number on the LM3S6965 (datasheet, table 2-9).
unsafe impl cortex_m::interrupt::InterruptNumber for Interrupt {
    fn number(self) -> u16 {
        self as u16
    }
}

/// SYSCTL run-mode clock gating: RCGC1 bit 0 = UART0, RCGC2 bit 0 = GPIOA.
const RCGC1: *mut u32 = 0x400F_E104 as *mut u32;
const RCGC2: *mut u32 = 0x400F_E108 as *mut u32;
const GPIOA: usize = 0x4000_4000;
/// Alternate function select and digital enable (the LM3S6965 has no
/// GPIOPCTL: PA0/PA1's alternate function is UART0 RX/TX).
const GPIOA_AFSEL: *mut u32 = (GPIOA + 0x420) as *mut u32;
const GPIOA_DEN: *mut u32 = (GPIOA + 0x51C) as *mut u32;
const PA0_PA1: u32 = 0b11;

const BASE: usize = 0x4000_C000;
const DR: *mut u32 = BASE as *mut u32;
const FR: *const u32 = (BASE + 0x018) as *const u32;
const IBRD: *mut u32 = (BASE + 0x024) as *mut u32;
const FBRD: *mut u32 = (BASE + 0x028) as *mut u32;
const LCRH: *mut u32 = (BASE + 0x02C) as *mut u32;
const CR: *mut u32 = (BASE + 0x030) as *mut u32;
const IM: *mut u32 = (BASE + 0x038) as *mut u32;
const ICR: *mut u32 = (BASE + 0x044) as *mut u32;
const FR_BUSY: u32 = 1 << 3;
const FR_RXFE: u32 = 1 << 4;
const FR_TXFF: u32 = 1 << 5;
const CR_ENABLE: u32 = 1 | 1 << 8 | 1 << 9; // UARTEN | TXE | RXE
/// 8 data bits, no parity, one stop bit, FIFOs off (one-byte holding
/// registers: a reset drops at most the byte waiting).
const LCRH_8N1: u32 = 0b11 << 5;
/// Receive interrupt: pends UART0 in the NVIC when a byte arrives.
const IM_RX: u32 = 1 << 4;
/// System control register, SEVONPEND: a newly pending interrupt, even a
/// disabled one, is an event that wakes `WFE`.
const SCB_SCR: *mut u32 = 0xE000_ED10 as *mut u32;
const SCR_SEVONPEND: u32 = 1 << 4;

const BAUD: u32 = 115_200;
/// Baud divisor = CORE_HZ / (16 × BAUD), in 1/64ths (datasheet 12.3.2):
/// integer part to IBRD, fraction to FBRD, rounded.
const DIVISOR_64THS: u32 = (CORE_HZ * 4 + BAUD / 2) / BAUD;

static TAKEN: AtomicBool = AtomicBool::new(false);

/// UART0; [`Uart0::new`] hands out one handle only.
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
    /// Clocks, muxes and enables UART0 with its receive interrupt (left
    /// disabled in the NVIC: it only wakes [`Uart0::idle`]); `None` if it was
    /// taken already.
    pub fn new() -> Option<Self> {
        if TAKEN.swap(true, Ordering::AcqRel) {
            return None;
        }
        // SAFETY: SYSCTL, GPIOA and UART0 registers; TAKEN makes this the only
        // handle, and nothing else in the firmware touches GPIOA or UART0.
        unsafe {
            write_volatile(RCGC1, read_volatile(RCGC1) | 1);
            write_volatile(RCGC2, read_volatile(RCGC2) | 1);
            // Three system clocks before a newly clocked module is accessed.
            cortex_m::asm::delay(3);
            write_volatile(GPIOA_AFSEL, read_volatile(GPIOA_AFSEL) | PA0_PA1);
            write_volatile(GPIOA_DEN, read_volatile(GPIOA_DEN) | PA0_PA1);
            write_volatile(CR, 0);
            write_volatile(IBRD, DIVISOR_64THS / 64);
            write_volatile(FBRD, DIVISOR_64THS % 64);
            // LCRH after the divisors: writing it latches them.
            write_volatile(LCRH, LCRH_8N1);
            write_volatile(IM, IM_RX);
            write_volatile(CR, CR_ENABLE);
            write_volatile(SCB_SCR, read_volatile(SCB_SCR) | SCR_SEVONPEND);
        }
        Some(Uart0(()))
    }

    /// Sleeps (`WFE`) until a byte arrives or an exception (SysTick, every
    /// millisecond) is taken. Race-free: a byte arriving after the check pends
    /// UART0, which latches the event, so `WFE` returns at once. QEMU treats
    /// `WFE` as a no-op, so there the loop polls.
    pub fn idle(&mut self) {
        // SAFETY: ICR is UART0's write-one-to-clear interrupt register; FR as below.
        unsafe { write_volatile(ICR, IM_RX) };
        NVIC::unpend(Interrupt::UART0);
        // SAFETY: as above.
        if unsafe { read_volatile(FR) } & FR_RXFE != 0 {
            cortex_m::asm::wfe();
        }
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

    /// Waits until the last bit is on the wire (before a reset, say).
    fn flush(&mut self) -> nb::Result<(), Error> {
        // SAFETY: as above.
        if unsafe { read_volatile(FR) } & FR_BUSY != 0 {
            return Err(nb::Error::WouldBlock);
        }
        Ok(())
    }
}
