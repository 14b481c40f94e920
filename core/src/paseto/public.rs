//! `v4.public`: Ed25519 over `PAE(h, m, f, i)`.
//!
//! Both directions hash the PAE piece by piece (`ed25519-dalek`'s `hazmat`
//! streaming API), so the message is read where it was decoded or serialized.

use ed25519_dalek::{
    hazmat::{raw_sign_byupdate, ExpandedSecretKey},
    Signature, SigningKey, VerifyingKey,
};
use serde::Serialize;

use super::{accept, decode, finish, pae, put, serialize, Options, Token};
use crate::{
    error::{ConfigError, Error},
    jws::verify::Validation,
};

const HEADER: &str = "v4.public.";
const SIG: usize = 64;

/// An Ed25519 public key for verifying `v4.public.` tokens (and nothing else).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PublicKey(VerifyingKey);

impl PublicKey {
    /// The 32-byte compressed point. Points of small order are refused: any
    /// signature would verify under them.
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<Self, ConfigError> {
        let key = VerifyingKey::from_bytes(bytes).map_err(|_| ConfigError::BadPublicKey)?;
        if key.is_weak() {
            return Err(ConfigError::BadPublicKey);
        }
        Ok(PublicKey(key))
    }

    /// The 32-byte compressed point.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// Verifies `token` at `now`, decoding it into `buf` (about ¾ of the
    /// token's length). The claims are parsed only after the signature matched.
    pub fn verify<'b>(
        &self,
        token: &str,
        validation: &Validation<'_>,
        options: &Options<'_>,
        now: u64,
        buf: &'b mut [u8],
    ) -> Result<Token<'b>, Error> {
        let (payload, footer) = decode(token, HEADER, validation, buf)?;
        options.check_footer(footer)?;
        let m_len = payload.len().checked_sub(SIG).ok_or(Error::Signature)?;
        let (m, sig) = payload.split_at(m_len);
        let sig = Signature::from_slice(sig).map_err(|_| Error::Signature)?;
        let mut verifier = self.0.verify_stream(&sig).map_err(|_| Error::Signature)?;
        pae::feed(&[HEADER.as_bytes(), m, footer, options.implicit], |p| {
            verifier.update(p)
        });
        verifier
            .finalize_and_verify()
            .map_err(|_| Error::Signature)?;
        accept(m, footer, validation, now)
    }
}

/// An Ed25519 signing key for minting `v4.public.` tokens.
#[derive(Clone)]
pub struct SecretKey(SigningKey);

impl core::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("SecretKey(..)")
    }
}

impl SecretKey {
    /// From the 32-byte seed (RFC 8032's private key).
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        SecretKey(SigningKey::from_bytes(seed))
    }

    /// From `seed ‖ public` (64 bytes, the form libsodium and PASETO's vectors
    /// use); the public half must be the seed's.
    pub fn from_keypair(bytes: &[u8; 64]) -> Result<Self, ConfigError> {
        SigningKey::from_keypair_bytes(bytes)
            .map(SecretKey)
            .map_err(|_| ConfigError::BadPublicKey)
    }

    /// The matching public key.
    pub fn public_key(&self) -> PublicKey {
        PublicKey(self.0.verifying_key())
    }

    /// Signs `claims`, writing the token into `out`.
    pub fn sign<'o, T: Serialize + ?Sized>(
        &self,
        claims: &T,
        options: &Options<'_>,
        out: &'o mut [u8],
    ) -> Result<&'o str, Error> {
        let len = serialize(
            claims,
            out.get_mut(HEADER.len()..).ok_or(Error::BufferTooSmall)?,
        )?;
        self.seal(len, options, out)
    }

    /// Signs an already-serialized JSON payload, used as given.
    pub fn sign_json<'o>(
        &self,
        json: &[u8],
        options: &Options<'_>,
        out: &'o mut [u8],
    ) -> Result<&'o str, Error> {
        put(out, HEADER.len(), json)?;
        self.seal(json.len(), options, out)
    }

    /// Signs the `len` message bytes sitting after the header in `out`.
    fn seal<'o>(
        &self,
        len: usize,
        options: &Options<'_>,
        out: &'o mut [u8],
    ) -> Result<&'o str, Error> {
        let footer = options.footer_bytes();
        let at = put(out, 0, HEADER.as_bytes())?;
        let sig_at = at.checked_add(len).ok_or(Error::BufferTooSmall)?;
        let m = out.get(at..sig_at).ok_or(Error::BufferTooSmall)?;
        let expanded = ExpandedSecretKey::from(self.0.as_bytes());
        let sig = raw_sign_byupdate::<sha2_ed25519::Sha512, _>(
            &expanded,
            |d| {
                pae::feed(&[HEADER.as_bytes(), m, footer, options.implicit], |p| {
                    sha2_ed25519::Digest::update(d, p)
                });
                Ok(())
            },
            &self.0.verifying_key(),
        )
        .map_err(|_| Error::Signature)?;
        put(out, sig_at, &sig.to_bytes())?;
        finish(
            out,
            at,
            len.checked_add(SIG).ok_or(Error::BufferTooSmall)?,
            footer,
        )
    }
}
