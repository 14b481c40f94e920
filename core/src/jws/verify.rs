//! Token verification: format, MAC, header, payload, claims, in that order.

use serde::Deserialize;

use crate::{
    error::{Claim, ConfigError, Error, Malformed},
    jws::key::{Key, KeyRing},
    token::b64::{self, B64Error},
    token::claims::{Claims, Header},
    token::json::JsonStr,
};

/// Largest accepted leeway, in seconds. Clock skew beyond this is a broken clock.
pub const MAX_LEEWAY: u64 = 600;

/// Default maximum token length: roomy for servers, bounded for everyone.
pub const DEFAULT_MAX_LEN: usize = 8192;

/// What a token must satisfy besides a valid MAC.
///
/// Strict by default: `exp` required, no leeway, no issuer or audience accepted
/// unless configured, tokens up to [`DEFAULT_MAX_LEN`] bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Validation<'p> {
    leeway: u64,
    require_exp: bool,
    issuer: Option<&'p str>,
    audience: Option<&'p str>,
    typ: Option<&'p str>,
    pub(crate) max_len: usize,
}

impl Default for Validation<'_> {
    fn default() -> Self {
        Self::new()
    }
}

impl<'p> Validation<'p> {
    /// The strict default policy.
    pub const fn new() -> Self {
        Validation {
            leeway: 0,
            require_exp: true,
            issuer: None,
            audience: None,
            typ: None,
            max_len: DEFAULT_MAX_LEN,
        }
    }

    /// Accepts `exp` and `nbf` this many seconds off; at most [`MAX_LEEWAY`].
    pub const fn leeway(mut self, seconds: u64) -> Result<Self, ConfigError> {
        if seconds > MAX_LEEWAY {
            return Err(ConfigError::LeewayTooLarge);
        }
        self.leeway = seconds;
        Ok(self)
    }

    /// Whether `exp` must be present (default: yes).
    pub const fn require_exp(mut self, required: bool) -> Self {
        self.require_exp = required;
        self
    }

    /// Requires `iss` to be present and equal to `issuer`.
    pub const fn issuer(mut self, issuer: &'p str) -> Self {
        self.issuer = Some(issuer);
        self
    }

    /// Requires `aud` to be present and to be or contain `audience`. Without it,
    /// tokens that carry `aud` are refused (RFC 7519 §4.1.3).
    pub const fn audience(mut self, audience: &'p str) -> Self {
        self.audience = Some(audience);
        self
    }

    /// Requires the header's `typ` to equal `typ`: ASCII case-insensitively, and
    /// with the `application/` prefix optional (RFC 7515 §4.1.9), so a token's
    /// `application/jwt` matches `JWT` and the reverse.
    pub const fn typ(mut self, typ: &'p str) -> Self {
        self.typ = Some(typ);
        self
    }

    /// Rejects longer tokens before any work.
    pub const fn max_len(mut self, bytes: usize) -> Self {
        self.max_len = bytes;
        self
    }

    /// The configured leeway in seconds.
    pub const fn leeway_secs(&self) -> u64 {
        self.leeway
    }

    pub(crate) fn check_claims(&self, c: &Claims<'_>, now: u64) -> Result<(), Error> {
        match c.exp {
            Some(exp) if now >= exp.saturating_add(self.leeway) => return Err(Error::Expired),
            None if self.require_exp => return Err(Error::Missing(Claim::Exp)),
            _ => {}
        }
        if let Some(nbf) = c.nbf {
            if nbf > now.saturating_add(self.leeway) {
                return Err(Error::NotYetValid);
            }
        }
        if let Some(issuer) = self.issuer {
            if !c.iss.is_some_and(|iss| iss.eq_str(issuer)) {
                return Err(Error::Issuer);
            }
        }
        match (self.audience, c.aud) {
            (Some(wanted), Some(aud)) if aud.contains(wanted) => {}
            (None, None) => {}
            _ => return Err(Error::Audience),
        }
        Ok(())
    }

    fn check_header(&self, h: &Header<'_>, key: &Key) -> Result<(), Error> {
        if h.alg != key.algorithm() {
            return Err(Error::Algorithm);
        }
        if let Some(wanted) = self.typ {
            if !h.typ.is_some_and(|t| media_type_eq(&t, wanted)) {
                return Err(Error::Type);
            }
        }
        Ok(())
    }
}

/// Whether `typ` names the media type `wanted`: ASCII case-insensitively, and
/// with `application/` optional when the rest holds no other `/` (RFC 7515
/// §4.1.9), so `application/jwt` equals `JWT`.
fn media_type_eq(typ: &JsonStr<'_>, wanted: &str) -> bool {
    const PREFIX: &str = "application/";
    let short = match wanted.get(..PREFIX.len()) {
        Some(p) if p.eq_ignore_ascii_case(PREFIX) => wanted.get(PREFIX.len()..).unwrap_or(wanted),
        _ => wanted,
    };
    if short.contains('/') {
        return typ.eq_ignore_ascii_case(wanted);
    }
    typ.eq_parts(&[short], true) || typ.eq_parts(&[PREFIX, short], true)
}

/// A token whose MAC, header and claims passed; borrows the caller's buffer.
#[derive(Clone, Copy, Debug)]
pub struct Verified<'b> {
    /// The header members the verifier read.
    pub header: Header<'b>,
    /// The registered claims.
    pub claims: Claims<'b>,
    payload: &'b [u8],
}

impl<'b> Verified<'b> {
    /// The decoded payload JSON (already validated as strict RFC 8259 and UTF-8).
    pub fn payload(&self) -> &'b str {
        core::str::from_utf8(self.payload).unwrap_or_default()
    }

    /// Deserializes the caller's own claim type, borrowing `&str` fields from
    /// the payload. A string value with escapes cannot be borrowed and is an
    /// error here; see [`Self::deserialize_with`]. Member names with escapes
    /// (up to 64 decoded bytes) are decoded on the stack, so one in a member the
    /// type ignores does not fail.
    pub fn deserialize<T: Deserialize<'b>>(&self) -> Result<T, Error> {
        self.deserialize_with(&mut [])
    }

    /// Like [`Self::deserialize`], but strings with escapes are unescaped in
    /// `scratch` and handed to owning fields (`heapless::String`, `Cow<str>`).
    pub fn deserialize_with<T: Deserialize<'b>>(&self, scratch: &mut [u8]) -> Result<T, Error> {
        let mut de = crate::token::de::Deserializer::new(self.payload, scratch)
            .map_err(|_| Error::Claims)?;
        T::deserialize(&mut de).map_err(|_| Error::Claims)
    }
}

/// Splits `header.payload.signature`, refusing other shapes and empty segments.
///
/// The header ends at the first dot and the signature starts after the last,
/// so the payload is never scanned here. A payload holding dots (more than
/// three segments, JWE's five included) fails the MAC or the base64url
/// decoder, and [`extra_segments`] then names the real reason.
///
/// Byte scans rather than `split_once('.')`: on a microcontroller the
/// `memchr` behind a `char` pattern costs more flash than the loops.
fn split(token: &str) -> Result<(&str, &str, &str), Error> {
    let segments = || {
        let first = token.bytes().position(|b| b == b'.')?;
        let last = token.bytes().rposition(|b| b == b'.')?;
        let h = token.get(..first)?;
        let p = token.get(first.checked_add(1)?..last)?;
        let s = token.get(last.checked_add(1)?..)?;
        Some((h, p, s))
    };
    match segments() {
        Some((h, p, s)) if !h.is_empty() && !p.is_empty() && !s.is_empty() => Ok((h, p, s)),
        _ => Err(Malformed::Segments.into()),
    }
}

/// Turns a failure on a payload segment that holds dots into `Segments`.
fn extra_segments(payload_b64: &str, error: Error) -> Error {
    if payload_b64.bytes().any(|b| b == b'.') {
        Malformed::Segments.into()
    } else {
        error
    }
}

/// Decodes a segment. UTF-8 is checked by the JSON scanner, and only where a
/// string holds non-ASCII bytes (anywhere else they are a syntax error).
fn decode_segment<'o>(segment: &str, out: &'o mut [u8]) -> Result<&'o [u8], Error> {
    b64::decode(segment.as_bytes(), out).map_err(|e| match e {
        B64Error::Invalid => Error::Malformed(Malformed::Base64),
        B64Error::Full => Error::BufferTooSmall,
    })
}

impl<const K: usize> KeyRing<K> {
    /// Verifies `token` at time `now` (seconds since the epoch), decoding the
    /// header and payload into `buf`.
    ///
    /// The payload is never parsed before the MAC has matched. With one key the
    /// header is not parsed before it either; with several, the header is parsed
    /// first, only to find the key: by `kid`, or the ring's default (kid-less)
    /// key when the token has no `kid`.
    pub fn verify<'b>(
        &self,
        token: &str,
        validation: &Validation<'_>,
        now: u64,
        buf: &'b mut [u8],
    ) -> Result<Verified<'b>, Error> {
        if token.len() > validation.max_len {
            return Err(Error::TooLong);
        }
        let (header_b64, payload_b64, sig_b64) = split(token)?;
        // The signature is attacker-supplied, not secret: the fast decoder is
        // fine. The secret expected MAC is only ever compared in constant time.
        let mut sig = [0u8; 64];
        let sig = match b64::decode(sig_b64.as_bytes(), &mut sig) {
            Ok(sig) => sig,
            // Longer than any MAC: same opaque answer as a wrong signature.
            Err(B64Error::Full) => &[][..],
            Err(B64Error::Invalid) => return Err(Malformed::Base64.into()),
        };
        let signing_input = token.get(
            ..header_b64
                .len()
                .saturating_add(1)
                .saturating_add(payload_b64.len()),
        );
        let signing_input = signing_input.ok_or(Malformed::Segments)?.as_bytes();

        let (header_buf, payload_buf) = buf.split_at_mut(
            b64::decoded_len(header_b64.len())
                .unwrap_or(0)
                .min(buf.len()),
        );
        let mut header_buf = Some(header_buf);
        let (key, header) = match self.only() {
            Some(key) => (key, None),
            None => {
                let header = parse_header(header_b64, header_buf.take())?;
                let key = match header.kid {
                    Some(kid) => self.find(&kid),
                    None => self.default_key(),
                };
                let key = key.ok_or(Error::UnknownKey)?;
                // The header is parsed already: refuse a mismatch without a MAC.
                if header.alg != key.algorithm() {
                    return Err(Error::Algorithm);
                }
                (key, Some(header))
            }
        };
        if !key.verify_mac(signing_input, sig) {
            return Err(extra_segments(payload_b64, Error::Signature));
        }
        let header = match header {
            Some(h) => h,
            None => match key
                .algorithm()
                .common_headers()
                .iter()
                .position(|h| *h == header_b64)
            {
                Some(i) => Header::common(key.algorithm(), i),
                None => parse_header(header_b64, header_buf.take())?,
            },
        };
        validation.check_header(&header, key)?;
        let payload =
            decode_segment(payload_b64, payload_buf).map_err(|e| extra_segments(payload_b64, e))?;
        let claims = Claims::parse(payload)?;
        validation.check_claims(&claims, now)?;
        Ok(Verified {
            header,
            claims,
            payload,
        })
    }
}

fn parse_header<'b>(header_b64: &str, buf: Option<&'b mut [u8]>) -> Result<Header<'b>, Error> {
    Header::parse(decode_segment(header_b64, buf.unwrap_or_default())?)
}
