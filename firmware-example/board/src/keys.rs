// The fixed key ring and token policy. Shared with `build.rs` through
// `include!` (so no inner doc comments here): the session's tokens are minted
// with the very secrets the firmware verifies with.
//
// Demo secrets, public in this repository: a real device would have them
// provisioned into a protected flash page, never in source.

/// `(kid, secret)` of every HS256 key the endpoint accepts: the current key
/// and the previous one, so the gateway can rotate without downtime.
pub const KEYS: [(&str, &[u8; 32]); 2] =
    [("2026-11", b"tessera-demo-secret-key-2026-11!"), ("2026-10", b"tessera-demo-secret-key-2026-10!")];

/// `iss` every token must carry: the gateway that mints them.
pub const ISSUER: &str = "tessera-gw";

/// `aud` every request token must name: this device.
pub const AUDIENCE: &str = "relay-7";

/// `aud` of the time tokens that set this device's clock: distinct from
/// [`AUDIENCE`], so neither kind of token passes for the other.
pub const TIME_AUDIENCE: &str = "relay-7/time";

/// Keys the idempotency window's bucket hash (see `tessera_core::window`).
/// Must be random and private per device; fixed here for the demo.
pub const WINDOW_SECRET: [u8; 16] = *b"demo-window-key!";

/// The idempotency window's lease, TTL and maximum stamp skew, in seconds
/// (`tessera_core::window::WindowConfig::new`). The lease outlasts the longest
/// action (a 5 s pulse); records live until their token's `exp`.
pub const WINDOW_TIMES: (u64, u64, u64) = (10, 600, 30);

/// [`WINDOW_TIMES`] as a window configuration, checked at compile time (a
/// panic in a constant is a build error).
#[allow(clippy::panic)]
pub const WINDOW_CONFIG: tessera_core::window::WindowConfig =
    match tessera_core::window::WindowConfig::new(WINDOW_TIMES.0, WINDOW_TIMES.1, WINDOW_TIMES.2) {
        Ok(config) => config,
        Err(_) => panic!("invalid window configuration"),
    };

/// The ring of every key in [`KEYS`], each under its `kid`.
pub fn ring() -> Result<tessera_core::KeyRing<{ KEYS.len() }>, tessera_core::ConfigError> {
    let mut ring = tessera_core::KeyRing::new();
    for (kid, secret) in KEYS {
        ring.add(tessera_core::Key::hs256(secret)?.with_kid(kid)?)?;
    }
    Ok(ring)
}
