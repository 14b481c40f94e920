//! `v4.local`: BLAKE2b-keyed XChaCha20, encrypt-then-MAC.

use blake2::{
    digest::{consts::U32, consts::U56, KeyInit, Mac},
    Blake2bMac,
};
use chacha20::{
    cipher::{KeyIvInit, StreamCipher},
    XChaCha20,
};
use serde::Serialize;

use super::{accept, decode, finish, pae, put, serialize, Options, Token};
use crate::{error::Error, jws::verify::Validation};

const HEADER: &str = "v4.local.";
const NONCE: usize = 32;
const TAG: usize = 32;
/// Where the plaintext starts in a token being minted: after `h ‖ n`.
const BODY: usize = HEADER.len() + NONCE;

/// A 32-byte `v4.local` key: usable only for `v4.local.` tokens.
#[derive(Clone)]
pub struct LocalKey([u8; 32]);

impl core::fmt::Debug for LocalKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("LocalKey(..)")
    }
}

/// The keys one nonce derives: the cipher key and nonce, and the MAC key.
struct Derived {
    ek: [u8; 32],
    n2: [u8; 24],
    ak: [u8; 32],
}

/// BLAKE2b keyed with `key`, its output length `O` in the parameter block.
/// Fails only for keys over 64 bytes, which never reach here: fail closed anyway.
fn keyed<M: KeyInit>(key: &[u8; 32]) -> Result<M, Error> {
    M::new_from_slice(key).map_err(|_| Error::Signature)
}

impl LocalKey {
    /// The key bytes (from a CSPRNG, or a KDF).
    pub const fn from_bytes(key: [u8; 32]) -> Self {
        LocalKey(key)
    }

    fn derive(&self, n: &[u8]) -> Result<Derived, Error> {
        let mut enc = keyed::<Blake2bMac<U56>>(&self.0)?;
        enc.update(b"paseto-encryption-key");
        enc.update(n);
        let enc = enc.finalize().into_bytes();
        let mut auth = keyed::<Blake2bMac<U32>>(&self.0)?;
        auth.update(b"paseto-auth-key-for-aead");
        auth.update(n);
        let auth = auth.finalize().into_bytes();
        let mut d = Derived {
            ek: [0; 32],
            n2: [0; 24],
            ak: [0; 32],
        };
        let (ek, n2) = enc.split_at(32);
        d.ek.copy_from_slice(ek);
        d.n2.copy_from_slice(n2);
        d.ak.copy_from_slice(&auth);
        Ok(d)
    }

    /// The tag over `PAE(h, n, c, f, i)`, as a MAC ready to finalize or verify.
    fn mac(
        ak: &[u8; 32],
        n: &[u8],
        c: &[u8],
        footer: &[u8],
        implicit: &[u8],
    ) -> Result<Blake2bMac<U32>, Error> {
        let mut mac = keyed::<Blake2bMac<U32>>(ak)?;
        pae::feed(&[HEADER.as_bytes(), n, c, footer, implicit], |p| {
            mac.update(p)
        });
        Ok(mac)
    }

    fn xor_keystream(d: &Derived, data: &mut [u8]) {
        XChaCha20::new(&d.ek.into(), &d.n2.into()).apply_keystream(data);
    }

    /// Decrypts and verifies `token` at `now`, in place in `buf` (about ¾ of
    /// the token's length).
    ///
    /// The tag is checked in constant time before anything is decrypted or
    /// parsed; the claims are then checked against `validation`.
    pub fn decrypt<'b>(
        &self,
        token: &str,
        validation: &Validation<'_>,
        options: &Options<'_>,
        now: u64,
        buf: &'b mut [u8],
    ) -> Result<Token<'b>, Error> {
        let (payload, footer) = decode(token, HEADER, validation, buf)?;
        options.check_footer(footer)?;
        let c_len = payload
            .len()
            .checked_sub(NONCE + TAG)
            .ok_or(Error::Signature)?;
        let (n, rest) = payload.split_at_mut(NONCE);
        let (c, t) = rest.split_at_mut(c_len);
        let d = self.derive(n)?;
        Self::mac(&d.ak, n, c, footer, options.implicit)?
            .verify_slice(t)
            .map_err(|_| Error::Signature)?;
        Self::xor_keystream(&d, c);
        accept(c, footer, validation, now)
    }

    /// Encrypts `claims` with the caller's 32 fresh random bytes (never reuse
    /// them), writing the token into `out`.
    pub fn encrypt<'o, T: Serialize + ?Sized>(
        &self,
        claims: &T,
        random: &[u8; 32],
        options: &Options<'_>,
        out: &'o mut [u8],
    ) -> Result<&'o str, Error> {
        let len = serialize(claims, out.get_mut(BODY..).ok_or(Error::BufferTooSmall)?)?;
        self.seal(len, random, options, out)
    }

    /// Encrypts an already-serialized JSON payload, used as given.
    pub fn encrypt_json<'o>(
        &self,
        json: &[u8],
        random: &[u8; 32],
        options: &Options<'_>,
        out: &'o mut [u8],
    ) -> Result<&'o str, Error> {
        put(out, BODY, json)?;
        self.seal(json.len(), random, options, out)
    }

    /// Encrypts the `len` plaintext bytes sitting after `h ‖ n` in `out`.
    fn seal<'o>(
        &self,
        len: usize,
        random: &[u8; 32],
        options: &Options<'_>,
        out: &'o mut [u8],
    ) -> Result<&'o str, Error> {
        let footer = options.footer_bytes();
        let at = put(out, 0, HEADER.as_bytes())?;
        let c_at = put(out, at, random)?;
        let t_at = c_at.checked_add(len).ok_or(Error::BufferTooSmall)?;
        let end = t_at.checked_add(TAG).ok_or(Error::BufferTooSmall)?;
        let raw = out.get_mut(at..end).ok_or(Error::BufferTooSmall)?;
        let (n, rest) = raw.split_at_mut(NONCE);
        let (c, t) = rest.split_at_mut(len);
        let d = self.derive(n)?;
        Self::xor_keystream(&d, c);
        let tag = Self::mac(&d.ak, n, c, footer, options.implicit)?.finalize();
        t.copy_from_slice(&tag.into_bytes());
        let raw_len = len.checked_add(NONCE + TAG).ok_or(Error::BufferTooSmall)?;
        finish(out, at, raw_len, footer)
    }
}
