//! A counting global allocator, so the harness can assert that tessera's core
//! (which has no allocator) really allocates nothing on a given call.

#![allow(unsafe_code)] // `GlobalAlloc` is an unsafe trait; this only forwards to `System`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

thread_local! {
    // Const-initialised and without `Drop`: touching it never allocates.
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

fn count() {
    let _ = ALLOCATIONS.try_with(|c| c.set(c.get().wrapping_add(1)));
}

/// `System`, counting allocations per thread.
pub struct Counting;

// SAFETY: every method forwards unchanged to `System`, which upholds the contract.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Runs `f`, panicking if it allocated on this thread. `what` names the call.
pub fn no_alloc<R>(what: &str, f: impl FnOnce() -> R) -> R {
    let before = ALLOCATIONS.with(Cell::get);
    let out = f();
    let after = ALLOCATIONS.with(Cell::get);
    assert_eq!(after, before, "{what} allocated {} times", after.wrapping_sub(before));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notices_an_allocation() {
        let caught = std::panic::catch_unwind(|| no_alloc("vec", || vec![1u8; 8]));
        assert!(caught.is_err());
        assert_eq!(no_alloc("sum", || (1..=4).sum::<u32>()), 10);
    }
}
