//! The registered claims (RFC 7519 §4.1) and the header members we read.

use crate::{
    error::{Error, Malformed},
    jws::alg::Algorithm,
    token::json::{self, for_each_member, JsonStr, Scanner, StrOrArray},
};

/// The `aud` claim: one string or an array of strings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Audience<'a>(pub(crate) StrOrArray<'a>);

impl<'a> Audience<'a> {
    /// Whether `aud` is `audience` or an array containing it.
    pub fn contains(&self, audience: &str) -> bool {
        self.iter().any(|a| a.eq_str(audience))
    }

    /// Every audience value.
    pub fn iter(&self) -> impl Iterator<Item = JsonStr<'a>> + 'a {
        let (one, many) = match self.0 {
            StrOrArray::One(s) => (Some(s), None),
            StrOrArray::Many(raw) => (None, Some(json::array_strings(raw))),
        };
        one.into_iter().chain(many.into_iter().flatten())
    }
}

/// The registered claims of a verified token, borrowed from the decoded payload.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Claims<'a> {
    /// Expiration time (seconds since the epoch).
    pub exp: Option<u64>,
    /// Not before.
    pub nbf: Option<u64>,
    /// Issued at.
    pub iat: Option<u64>,
    /// Issuer.
    pub iss: Option<JsonStr<'a>>,
    /// Subject: the principal that scopes idempotency keys.
    pub sub: Option<JsonStr<'a>>,
    /// Token identifier: the one-time-token key.
    pub jti: Option<JsonStr<'a>>,
    /// Audience.
    pub aud: Option<Audience<'a>>,
}

/// Stores `value` in `slot`, refusing a second occurrence of the member.
pub(crate) fn once<T>(slot: &mut Option<T>, value: T) -> Result<(), Malformed> {
    if slot.is_some() {
        return Err(Malformed::Duplicate);
    }
    *slot = Some(value);
    Ok(())
}

/// A member name as plain bytes for matching: borrowed when unescaped, decoded
/// into `buf` otherwise (a name too long for `buf` matches nothing we read).
pub(crate) fn name_bytes<'n>(name: &JsonStr<'n>, buf: &'n mut [u8; 8]) -> &'n [u8] {
    match name.plain_bytes() {
        Some(plain) => plain,
        None => name.decode_into(buf).map(str::as_bytes).unwrap_or(b"-"),
    }
}

/// Reads a member that must be a string; another JSON type is `MemberType`.
pub(crate) fn string_member<'a>(s: &mut Scanner<'a>) -> Result<JsonStr<'a>, Malformed> {
    match s.string() {
        Ok(v) => Ok(v),
        Err(_) => Err(Malformed::MemberType),
    }
}

impl<'a> Claims<'a> {
    /// Parses a payload, keeping registered claims and validating the rest.
    pub(crate) fn parse(payload: &'a [u8]) -> Result<Self, Malformed> {
        let mut c = Claims::default();
        for_each_member(payload, |name, s| {
            let mut buf = [0u8; 8];
            match name_bytes(&name, &mut buf) {
                b"exp" => once(&mut c.exp, s.numeric_date()?),
                b"nbf" => once(&mut c.nbf, s.numeric_date()?),
                b"iat" => once(&mut c.iat, s.numeric_date()?),
                b"iss" => once(&mut c.iss, string_member(s)?),
                b"sub" => once(&mut c.sub, string_member(s)?),
                b"jti" => once(&mut c.jti, string_member(s)?),
                b"aud" => once(&mut c.aud, Audience(s.string_or_array()?)),
                _ => s.skip_value(1),
            }
        })?;
        Ok(c)
    }
}

/// The protected header members the verifier reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header<'a> {
    /// The algorithm named by `alg`.
    pub alg: Algorithm,
    /// Key identifier.
    pub kid: Option<JsonStr<'a>>,
    /// Media type of the token, usually `JWT`.
    pub typ: Option<JsonStr<'a>>,
}

impl<'a> Header<'a> {
    /// Parses a header: `alg` required and known, `crit` refused, duplicates of
    /// `alg`, `kid`, `typ`, `crit` refused. `jku`, `x5u`, `jwk` are ignored.
    pub(crate) fn parse(text: &'a [u8]) -> Result<Self, Error> {
        let mut alg: Option<JsonStr<'a>> = None;
        let mut kid = None;
        let mut typ = None;
        let mut crit = false;
        for_each_member(text, |name, s| -> Result<(), Error> {
            let mut buf = [0u8; 8];
            match name_bytes(&name, &mut buf) {
                b"alg" => once(&mut alg, string_member(s)?)?,
                b"kid" => once(&mut kid, string_member(s)?)?,
                b"typ" => once(&mut typ, string_member(s)?)?,
                b"crit" => {
                    if crit {
                        return Err(Malformed::Duplicate.into());
                    }
                    crit = true;
                    s.skip_value(1)?;
                }
                _ => s.skip_value(1)?,
            }
            Ok(())
        })?;
        if crit {
            return Err(Error::Critical);
        }
        let alg = alg.ok_or(Error::Algorithm)?;
        let alg = Algorithm::ALL
            .into_iter()
            .find(|a| alg.eq_str(a.name()))
            .ok_or(Error::Algorithm)?;
        Ok(Header { alg, kid, typ })
    }

    /// The header a common encoding stands for (see [`Algorithm::common_headers`]).
    pub(crate) const fn common(alg: Algorithm, index: usize) -> Self {
        const JWT: JsonStr<'static> = JsonStr::literal("JWT");
        Header {
            alg,
            kid: None,
            typ: if index < 2 { Some(JWT) } else { None },
        }
    }
}
