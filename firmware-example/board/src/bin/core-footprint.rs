//! The core's share: verify one HS256 token (minted by `build.rs`) with the
//! endpoint's kid'd two-key ring and claim its key in a 32-entry window,
//! under the same harness as `baseline`.
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use tessera_board::{footprint, keys};
use tessera_core::{Key, KeyRing, Validation};

include!(concat!(env!("OUT_DIR"), "/footprint.rs"));

#[entry]
fn main() -> ! {
    footprint::measure(probe)
}

fn probe() -> bool {
    let mut ring = KeyRing::<{ keys::KEYS.len() }>::new();
    for (kid, secret) in keys::KEYS {
        if Key::hs256(secret).and_then(|k| k.with_kid(kid)).and_then(|k| ring.add(k)).is_err() {
            return false;
        }
    }
    let validation = Validation::new().issuer(keys::ISSUER).audience(keys::AUDIENCE);
    let mut buf = [0u8; 384];
    let Ok(verified) = ring.verify(core::hint::black_box(TOKEN), &validation, NOW, &mut buf) else {
        return false;
    };
    let claims = verified.claims;
    match claims.sub {
        Some(sub) => footprint::claim_once(sub.raw(), claims.iat.unwrap_or(NOW), claims.exp, NOW),
        None => false,
    }
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    tessera_board::exit::exit(false)
}
