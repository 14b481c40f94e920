//! Stack high-water measurement: paint the free RAM below the stack pointer
//! with a pattern, run the code, then find the lowest word that changed.

#![allow(unsafe_code)]

use core::ptr::{addr_of, read_volatile, write_volatile};

const PAINT: u32 = 0xC0DE_5AFE;
/// Words left unpainted just below the painter's own stack pointer.
const MARGIN: usize = 16;

extern "C" {
    /// Start of the free RAM after `.bss` (cortex-m-rt's `link.x`).
    static __sheap: u32;
    /// Initial stack pointer: the top of RAM (cortex-m-rt's `link.x`).
    static _stack_start: u32;
}

fn heap_start() -> usize {
    addr_of!(__sheap) as usize
}

/// The initial stack pointer (top of the stack).
pub fn top() -> usize {
    addr_of!(_stack_start) as usize
}

/// The current stack pointer.
pub fn current() -> usize {
    cortex_m::register::msp::read() as usize
}

/// Paints every word between the end of `.bss` and just below the current
/// stack pointer.
#[inline(never)]
pub fn paint() {
    let end = current().saturating_sub(MARGIN.saturating_mul(4));
    let mut at = heap_start();
    while at < end {
        // SAFETY: [__sheap, sp) is unused RAM below the live stack: nothing
        // else lives there (no heap), and the margin keeps this frame intact.
        unsafe { write_volatile(at as *mut u32, PAINT) };
        at = at.wrapping_add(4);
    }
}

/// The lowest address the stack reached since [`paint`].
pub fn low_water() -> usize {
    let mut at = heap_start();
    let end = current();
    // SAFETY: reads of the painted region, which is RAM.
    while at < end && unsafe { read_volatile(at as *const u32) } == PAINT {
        at = at.wrapping_add(4);
    }
    at
}
