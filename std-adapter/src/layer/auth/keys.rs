//! The keys a verifier holds: a JWS ring, or one PASETO v4 key.

use tessera_core::{
    paseto::{LocalKey, Options, PublicKey},
    Claims, Error, Validation,
};

use super::Ring;

/// The keys a verifier holds. The format follows: a PASETO key accepts only
/// tokens whose header is its own `v4.local.` / `v4.public.`.
#[derive(Clone, Debug)]
pub enum TokenKeys {
    /// JWS compact HMAC keys, selected by `kid`.
    Jws(Box<Ring>),
    /// A PASETO `v4.local` key.
    Local(LocalKey),
    /// A PASETO `v4.public` verifying key.
    Public(PublicKey),
}

/// What passed verification, borrowed from the caller's buffer.
#[derive(Clone, Copy, Debug)]
pub struct Checked<'b> {
    /// The registered claims (PASETO dates in seconds since the epoch).
    pub claims: Claims<'b>,
    /// The payload JSON.
    pub payload: &'b str,
    /// The PASETO footer (empty for JWS and for PASETO without one).
    pub footer: &'b [u8],
}

impl TokenKeys {
    /// Verifies (or decrypts) `token` into `buf`; `options` apply to PASETO only.
    pub fn verify<'b>(
        &self,
        token: &str,
        validation: &Validation<'_>,
        options: &Options<'_>,
        now: u64,
        buf: &'b mut [u8],
    ) -> Result<Checked<'b>, Error> {
        let paseto = |t: tessera_core::paseto::Token<'b>| Checked {
            claims: t.claims,
            payload: t.payload(),
            footer: t.footer(),
        };
        match self {
            TokenKeys::Jws(ring) => ring.verify(token, validation, now, buf).map(|v| Checked {
                claims: v.claims,
                payload: v.payload(),
                footer: &[],
            }),
            TokenKeys::Local(key) => key
                .decrypt(token, validation, options, now, buf)
                .map(paseto),
            TokenKeys::Public(key) => key.verify(token, validation, options, now, buf).map(paseto),
        }
    }
}
