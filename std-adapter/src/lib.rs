//! Server side of tessera: the same semantics as `tessera-core`, for servers.
//!
//! - [`store`]: the async idempotency store contract, with an in-memory store
//!   (the default) and Redis / Redis Cluster stores behind the `redis` feature.
//! - `layer` (feature `http`): tower layers for bearer authentication and
//!   idempotency keys.
//! - The `tessera` binary (feature `cli`): `mint`, `verify`, `gateway`.

#[cfg(feature = "cli")]
pub mod cli;
#[cfg(feature = "cli")]
pub mod gateway;
#[cfg(feature = "http")]
pub mod layer;
pub mod store;
#[cfg(feature = "testkit")]
pub mod testkit;

pub use tessera_core as core;
