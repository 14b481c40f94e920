//! PASETO v4 without `alloc`: `v4.local` (feature `paseto-local`) and
//! `v4.public` (feature `paseto-public`).
//!
//! The same policy as JWS: [`Validation`] decides on `exp`
//! (required by default), `nbf`, `iss`, `aud` and the length cap; the token is
//! decoded into the caller's buffer and nothing is parsed before the tag or
//! signature has matched. Keys are typed by version and purpose ([`LocalKey`],
//! [`PublicKey`], [`SecretKey`]) and the token's header must be the key's, as a
//! JWS `alg` must be. No RNG inside: encryption takes the caller's 32 random
//! bytes; time is the caller's `now`.
//!
//! Claims are the strict JSON of the JWS payload (same scanner, duplicated
//! registered claims refused), except that `exp`, `nbf` and `iat` are RFC 3339
//! date-time strings. [`Claims`] holds them as seconds since
//! the epoch: `exp` and `nbf` rounded up (exact for an integer clock), `iat`
//! rounded down.
//!
//! ```
//! # #[cfg(feature = "paseto-local")] {
//! use tessera_core::{paseto::{LocalKey, Options}, Validation};
//!
//! let key = LocalKey::from_bytes([7; 32]);
//! let random = [9; 32]; // fresh from the OS's CSPRNG, for every token
//! let options = Options::new().footer(b"kid-1");
//! let mut out = [0u8; 256];
//! let claims = br#"{"sub":"alice","exp":"2023-11-14T22:23:20Z"}"#;
//! let token = key.encrypt_json(claims, &random, &options, &mut out)?;
//!
//! let mut buf = [0u8; 256];
//! let now = 1_700_000_000;
//! let v = key.decrypt(token, &Validation::new(), &options, now, &mut buf)?;
//! assert!(v.claims.sub.is_some_and(|s| s.eq_str("alice")));
//! assert_eq!(v.claims.exp, Some(now + 600));
//! # }
//! # Ok::<(), tessera_core::Error>(())
//! ```
//!
//! ```
//! # #[cfg(feature = "paseto-public")] {
//! use tessera_core::{paseto::{Options, SecretKey}, Validation};
//!
//! #[derive(serde::Serialize, serde::Deserialize)]
//! struct Claims<'a> { sub: &'a str, exp: &'a str }
//!
//! let secret = SecretKey::from_seed(&[3; 32]);
//! let public = secret.public_key(); // all a verifier (a device) holds
//! let mut out = [0u8; 256];
//! let token = secret.sign(&Claims { sub: "alice", exp: "2023-11-15T00:23:20+02:00" },
//!                         &Options::new(), &mut out)?;
//!
//! let mut buf = [0u8; 256];
//! let v = public.verify(token, &Validation::new(), &Options::new(), 1_700_000_000, &mut buf)?;
//! let claims: Claims<'_> = v.deserialize()?;
//! assert_eq!(claims.sub, "alice");
//! # }
//! # Ok::<(), tessera_core::Error>(())
//! ```
//!
//! Crates: RustCrypto `blake2` and `chacha20` (the maintained, audited pure-Rust
//! implementations; `no_std` without `alloc`), and `ed25519-dalek` without its
//! default features: maintained, audited (2019, Quarkslab), and unlike
//! `ed25519-compact` it can hash the signed message piece by piece (`hazmat`),
//! so the `PAE` of a token is never assembled in a second buffer.

#[cfg(feature = "paseto-local")]
mod local;
mod pae;
#[cfg(feature = "paseto-public")]
mod public;
mod time;

#[cfg(feature = "paseto-local")]
pub use local::LocalKey;
#[cfg(feature = "paseto-public")]
pub use public::{PublicKey, SecretKey};
pub use time::format as format_date;

use serde::{Deserialize, Serialize};

use crate::{
    error::{Error, Malformed},
    jws::verify::Validation,
    token::b64::{self, B64Error},
    token::claims::{name_bytes, once, string_member, Audience, Claims},
    token::json::{for_each_member, JsonStr, Scanner},
};

/// The footer and implicit assertion bound into a token.
///
/// Minting writes `footer` into the token (when `Some` and non-empty);
/// verifying requires the token's footer to equal it (when `Some`). The
/// implicit assertion is authenticated but never carried: both sides must
/// configure the same bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Options<'p> {
    footer: Option<&'p [u8]>,
    implicit: &'p [u8],
}

impl<'p> Options<'p> {
    /// No footer required, empty implicit assertion.
    pub const fn new() -> Self {
        Options {
            footer: None,
            implicit: &[],
        }
    }

    /// The footer to write, or to require.
    pub const fn footer(mut self, footer: &'p [u8]) -> Self {
        self.footer = Some(footer);
        self
    }

    /// The implicit assertion (PASETO v4 `i`).
    pub const fn implicit(mut self, implicit: &'p [u8]) -> Self {
        self.implicit = implicit;
        self
    }

    /// Refuses a footer other than the required one. Constant time in the
    /// contents, as the spec asks: the footer may be compared with a secret.
    fn check_footer(&self, footer: &[u8]) -> Result<(), Error> {
        match self.footer {
            Some(wanted) if !ct_eq(wanted, footer) => Err(Error::Footer),
            _ => Ok(()),
        }
    }

    /// The footer bytes to write (empty: none).
    fn footer_bytes(&self) -> &'p [u8] {
        self.footer.unwrap_or_default()
    }
}

fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A token whose tag or signature, footer and claims passed; borrows the
/// caller's buffer.
#[derive(Clone, Copy, Debug)]
pub struct Token<'b> {
    /// The registered claims (dates in seconds since the epoch).
    pub claims: Claims<'b>,
    payload: &'b [u8],
    footer: &'b [u8],
}

impl<'b> Token<'b> {
    /// The decrypted or signed claims JSON (strict RFC 8259, UTF-8).
    pub fn payload(&self) -> &'b str {
        core::str::from_utf8(self.payload).unwrap_or_default()
    }

    /// The decoded footer; empty when the token has none.
    pub fn footer(&self) -> &'b [u8] {
        self.footer
    }

    /// Deserializes the caller's claim type, as [`crate::Verified::deserialize`].
    pub fn deserialize<T: Deserialize<'b>>(&self) -> Result<T, Error> {
        self.deserialize_with(&mut [])
    }

    /// As [`crate::Verified::deserialize_with`]: escaped strings unescape into `scratch`.
    pub fn deserialize_with<T: Deserialize<'b>>(&self, scratch: &mut [u8]) -> Result<T, Error> {
        let mut de = crate::token::de::Deserializer::new(self.payload, scratch)
            .map_err(|_| Error::Claims)?;
        T::deserialize(&mut de).map_err(|_| Error::Claims)
    }
}

fn decode_error(e: B64Error) -> Error {
    match e {
        B64Error::Invalid => Malformed::Base64.into(),
        B64Error::Full => Error::BufferTooSmall,
    }
}

/// Checks the header and decodes `h.payload[.footer]` into `buf`: the payload
/// at the front, the footer right after it.
fn decode<'b>(
    token: &str,
    header: &str,
    validation: &Validation<'_>,
    buf: &'b mut [u8],
) -> Result<(&'b mut [u8], &'b [u8]), Error> {
    if token.len() > validation.max_len {
        return Err(Error::TooLong);
    }
    // `version.purpose.payload`: anything with fewer parts is not a PASETO, and
    // another header is another version or purpose. The header holds two dots,
    // so they are only counted when it does not match.
    let Some(rest) = token.strip_prefix(header) else {
        return Err(if token.split('.').nth(2).is_none() {
            Malformed::Segments.into()
        } else {
            Error::Algorithm
        });
    };
    // Searched from the back: the footer is short, the payload is most of the token.
    let (payload, footer) = match rest.rsplit_once('.') {
        Some((p, f)) => (p, f),
        None => (rest, ""),
    };
    // An empty footer is written without its dot: one encoding per token.
    if payload.is_empty() || (footer.is_empty() && rest.len() != payload.len()) {
        return Err(Malformed::Segments.into());
    }
    // A dot left in the payload (a fourth part) fails its decoding, since `.`
    // is not base64url; only then is it looked for, to name the error.
    decode_parts(payload, footer, buf).map_err(|e| {
        if payload.contains('.') {
            Malformed::Segments.into()
        } else {
            e
        }
    })
}

/// Decodes the payload into the front of `buf` and the footer right after it.
fn decode_parts<'b>(
    payload: &str,
    footer: &str,
    buf: &'b mut [u8],
) -> Result<(&'b mut [u8], &'b [u8]), Error> {
    let payload_len = b64::decoded_len(payload.len()).ok_or(Malformed::Base64)?;
    let (payload_buf, footer_buf) = buf
        .split_at_mut_checked(payload_len)
        .ok_or(Error::BufferTooSmall)?;
    b64::decode(payload.as_bytes(), payload_buf).map_err(decode_error)?;
    let footer = b64::decode(footer.as_bytes(), footer_buf).map_err(decode_error)?;
    Ok((payload_buf, footer))
}

/// Reads a date claim; another JSON type is `MemberType`, a bad string `Date`.
fn date(s: &mut Scanner<'_>) -> Result<time::DateTime, Malformed> {
    s.skip_ws();
    // The common case, read in place: a quote, a date (which holds no byte a
    // JSON string treats specially), the closing quote. Anything else takes
    // the general path, which gives the same answer.
    if let Some((b'"', text)) = s.rest().split_first() {
        if let Ok((date, len)) = time::parse_prefix(text) {
            if text.get(len) == Some(&b'"') {
                s.advance(len.saturating_add(2));
                return Ok(date);
            }
        }
    }
    let value = string_member(s)?;
    match value.plain_bytes() {
        Some(plain) => time::parse(plain),
        None => escaped_date(value),
    }
}

/// A date written with JSON escapes: rare, so its buffer stays off the common path.
#[cold]
fn escaped_date(value: JsonStr<'_>) -> Result<time::DateTime, Malformed> {
    let mut buf = [0u8; 64];
    let text = value.decode_into(&mut buf).ok_or(Malformed::Date)?;
    time::parse(text.as_bytes())
}

/// Parses the claims as [`Claims::parse`] does, with RFC 3339 dates.
fn parse_claims(payload: &[u8]) -> Result<Claims<'_>, Malformed> {
    let mut c = Claims::default();
    for_each_member(payload, |name, s| {
        let mut buf = [0u8; 8];
        match name_bytes(&name, &mut buf) {
            b"exp" => once(&mut c.exp, date(s)?.ceil()),
            b"nbf" => once(&mut c.nbf, date(s)?.ceil()),
            b"iat" => once(&mut c.iat, date(s)?.secs),
            b"iss" => once(&mut c.iss, string_member(s)?),
            b"sub" => once(&mut c.sub, string_member(s)?),
            b"jti" => once(&mut c.jti, string_member(s)?),
            b"aud" => once(&mut c.aud, Audience(s.string_or_array()?)),
            _ => s.skip_value(1),
        }
    })?;
    Ok(c)
}

/// Parses and checks the claims of an authenticated payload.
fn accept<'b>(
    payload: &'b [u8],
    footer: &'b [u8],
    validation: &Validation<'_>,
    now: u64,
) -> Result<Token<'b>, Error> {
    let claims = parse_claims(payload)?;
    validation.check_claims(&claims, now)?;
    Ok(Token {
        claims,
        payload,
        footer,
    })
}

/// Serializes `claims` into `out`, returning the length (as [`crate::Key::sign`]).
fn serialize<T: Serialize + ?Sized>(claims: &T, out: &mut [u8]) -> Result<usize, Error> {
    let mut w = crate::token::ser::Writer::with_text_dates(out);
    crate::token::ser::to_writer(claims, &mut w).map_err(|e| match e {
        crate::token::ser::SerError::Full => Error::BufferTooSmall,
        crate::token::ser::SerError::Unsupported => Error::Claims,
    })?;
    Ok(w.len())
}

/// Copies `bytes` into `out` at `at`, returning the end.
fn put(out: &mut [u8], at: usize, bytes: &[u8]) -> Result<usize, Error> {
    let end = at.checked_add(bytes.len()).ok_or(Error::BufferTooSmall)?;
    out.get_mut(at..end)
        .ok_or(Error::BufferTooSmall)?
        .copy_from_slice(bytes);
    Ok(end)
}

/// Finishes a token whose header sits at `out[..body]` and whose raw payload
/// of `raw_len` bytes follows it: encodes the payload in place, appends the
/// footer.
fn finish<'o>(
    out: &'o mut [u8],
    body: usize,
    raw_len: usize,
    footer: &[u8],
) -> Result<&'o str, Error> {
    let payload = out.get_mut(body..).ok_or(Error::BufferTooSmall)?;
    let encoded = b64::encode_in_place(payload, raw_len).map_err(decode_error)?;
    let mut end = body.checked_add(encoded).ok_or(Error::BufferTooSmall)?;
    if !footer.is_empty() {
        end = put(out, end, b".")?;
        let rest = out.get_mut(end..).ok_or(Error::BufferTooSmall)?;
        let n = b64::encode(footer, rest).map_err(decode_error)?;
        end = end.checked_add(n).ok_or(Error::BufferTooSmall)?;
    }
    // Header, base64url and dots only: always UTF-8.
    core::str::from_utf8(out.get(..end).ok_or(Error::BufferTooSmall)?)
        .map_err(|_| Error::BufferTooSmall)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `date` without its in-place path: the string read first, then parsed.
    fn general(s: &mut Scanner<'_>) -> Result<time::DateTime, Malformed> {
        let value = string_member(s)?;
        match value.plain_bytes() {
            Some(plain) => time::parse(plain),
            None => escaped_date(value),
        }
    }

    #[test]
    fn dates_read_in_place_agree_with_the_general_path() {
        let seeds: &[&[u8]] = &[
            br#""2099-01-01T00:00:00+00:00","#,
            br#" "2024-02-29T23:59:60.25Z"}"#,
            br#""2024-02-29T23:59:60z""#,
            br#""\u0032099-01-01T00:00:00Z""#,
            br#""2099-01-01T00:00:00Z\"""#,
            br#"20990101"#,
        ];
        let bytes = b"\"\\ 0Zz:+-.u\x01\x80}";
        let mut cases = 0;
        for seed in seeds {
            let mut edits = vec![seed.to_vec()];
            for at in 0..seed.len() {
                for &b in bytes {
                    let mut t = seed.to_vec();
                    t[at] = b;
                    edits.push(t);
                }
                let mut t = seed.to_vec();
                t.remove(at);
                edits.push(t);
            }
            for t in edits {
                let (mut a, mut b) = (Scanner::new(&t), Scanner::new(&t));
                let (fast, slow) = (date(&mut a), general(&mut b));
                assert_eq!(fast, slow, "{t:?}");
                if fast.is_ok() {
                    assert_eq!(a.pos(), b.pos(), "{t:?}");
                }
                cases += 1;
            }
        }
        assert!(cases > 1_000);
    }
}
