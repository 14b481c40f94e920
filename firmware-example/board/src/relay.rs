//! The relay: GPIO port F pin 0 (the EVB's user LED) as an embedded-hal pin.
//!
//! Reads go to the data register, so `is_set_high` reports what the port
//! really drives, not what the software last asked for.

#![allow(unsafe_code)]

use core::convert::Infallible;
use core::ptr::{read_volatile, write_volatile};
use embedded_hal::digital::{ErrorType, OutputPin, StatefulOutputPin};

const RCGC2: *mut u32 = 0x400F_E108 as *mut u32;
const GPIOF: usize = 0x4002_5000;
/// PL061 data access is masked by address bits 9:2; bit 0 alone is at +0x004.
const DATA_PIN0: *mut u32 = (GPIOF + 0x004) as *mut u32;
const DIR: *mut u32 = (GPIOF + 0x400) as *mut u32;
const DEN: *mut u32 = (GPIOF + 0x51C) as *mut u32;
const PIN0: u32 = 1;

/// PF0 configured as a push-pull output, initially low; create one handle only.
pub struct Relay(());

impl Relay {
    /// Clocks port F and makes PF0 a digital output.
    pub fn new() -> Self {
        // SAFETY: SYSCTL RCGC2 and GPIOF registers; this handle is their only user.
        unsafe {
            write_volatile(RCGC2, read_volatile(RCGC2) | 1 << 5);
            write_volatile(DIR, read_volatile(DIR) | PIN0);
            write_volatile(DEN, read_volatile(DEN) | PIN0);
            write_volatile(DATA_PIN0, 0);
        }
        Relay(())
    }
}

impl ErrorType for Relay {
    type Error = Infallible;
}

impl OutputPin for Relay {
    fn set_low(&mut self) -> Result<(), Infallible> {
        // SAFETY: masked write to PF0's data bit only.
        unsafe { write_volatile(DATA_PIN0, 0) };
        Ok(())
    }

    fn set_high(&mut self) -> Result<(), Infallible> {
        // SAFETY: as above.
        unsafe { write_volatile(DATA_PIN0, PIN0) };
        Ok(())
    }
}

impl StatefulOutputPin for Relay {
    fn is_set_high(&mut self) -> Result<bool, Infallible> {
        // SAFETY: masked read of PF0's data bit.
        Ok(unsafe { read_volatile(DATA_PIN0) } & PIN0 != 0)
    }

    fn is_set_low(&mut self) -> Result<bool, Infallible> {
        self.is_set_high().map(|high| !high)
    }
}
