//! Shared fixtures for the benchmarks: the tokens, each library's verifier and
//! signer set up once, and the idempotency-window peers.
//!
//! The criterion benches (`benches/*.rs`), the allocation counter and the tests
//! all call the same functions, so what is timed is what is checked.

pub mod allocations;
pub mod fixture;
pub mod interleave;
pub mod paseto;
pub mod redis_load;
pub mod results;
pub mod sign;
pub mod verify;
pub mod window;
