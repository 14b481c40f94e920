//! The core's share for PASETO v4.public: verify one `v4.public.` token
//! (minted by `build.rs`) and claim its key in a 32-entry window, under the
//! same harness as `baseline`. Built with `--features paseto`.
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use tessera_board::{footprint, keys};
use tessera_core::{
    paseto::{Options, PublicKey},
    Validation,
};

include!(concat!(env!("OUT_DIR"), "/footprint.rs"));

#[entry]
fn main() -> ! {
    footprint::measure(probe)
}

fn probe() -> bool {
    let validation = Validation::new().issuer(keys::ISSUER).audience(keys::AUDIENCE);
    let mut buf = [0u8; 384];
    let Ok(key) = PublicKey::from_bytes(&PASETO_PUBLIC) else { return false };
    let Ok(token) = key.verify(core::hint::black_box(PASETO_PUBLIC_TOKEN), &validation, &Options::new(), NOW, &mut buf)
    else {
        return false;
    };
    let claims = token.claims;
    match claims.sub {
        Some(sub) => footprint::claim_once(sub.raw(), claims.iat.unwrap_or(NOW), claims.exp, NOW),
        None => false,
    }
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    tessera_board::exit::exit(false)
}
