//! The error family: small, `Copy`, and precise about which check failed.

use core::fmt;

/// Why a token was rejected or could not be produced.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Error {
    /// Longer than the configured maximum; rejected before any work.
    TooLong,
    /// Not a well-formed token; the reason says which rule failed.
    Malformed(Malformed),
    /// The MAC does not match (wrong key, tampered bytes, or wrong signature length).
    Signature,
    /// The header's `alg` is missing the key's algorithm (`none` included), or
    /// a PASETO header is not the key's `version.purpose.`.
    Algorithm,
    /// The header carries `crit`; no extension is understood, so it is refused.
    Critical,
    /// `typ` differs from the one the validation asks for.
    Type,
    /// No key in the ring has the token's `kid` (or it has none and the ring
    /// of several keys has no default key).
    UnknownKey,
    /// A claim the validation requires is absent.
    Missing(Claim),
    /// `now >= exp + leeway`.
    Expired,
    /// `nbf > now + leeway`.
    NotYetValid,
    /// `iss` is absent or differs from the configured issuer.
    Issuer,
    /// `aud` is absent, lacks the configured audience, or is present unasked.
    Audience,
    /// The caller's buffer cannot hold the decoded token or the signed output.
    BufferTooSmall,
    /// The claims could not be serialized or deserialized into the caller's type.
    Claims,
    /// A key or validation setting is outside what the library accepts.
    Config(ConfigError),
    /// The PASETO footer is absent or differs from the one required.
    Footer,
}

/// Which structural rule a malformed token broke.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Malformed {
    /// Not exactly three non-empty dot-separated segments (JWE's five included).
    Segments,
    /// A segment is not canonical unpadded base64url.
    Base64,
    /// The header or payload is not UTF-8.
    Utf8,
    /// Not strict RFC 8259 JSON, or not an object at the top.
    Json,
    /// Nested deeper than [`crate::token::json::MAX_DEPTH`].
    Depth,
    /// A registered claim or header member appears twice.
    Duplicate,
    /// `exp`, `nbf` or `iat` is not an integer in `0..=2^53`.
    NumericDate,
    /// A registered member has the wrong JSON type (e.g. `alg` not a string).
    MemberType,
    /// A PASETO `exp`, `nbf` or `iat` is not an RFC 3339 date-time at or after 1970.
    Date,
}

/// A registered claim, for [`Error::Missing`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Claim {
    /// Expiration time.
    Exp,
    /// Token identifier.
    Jti,
    /// Subject.
    Sub,
    /// Issued-at time (the stamp of a one-time token).
    Iat,
}

/// A refused key or setting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum ConfigError {
    /// Shorter than the hash output (RFC 7518 §3.2).
    KeyTooShort,
    /// The key ring has no room left.
    RingFull,
    /// Two keys share a `kid`, or a ring would hold two keys without one.
    KidConflict,
    /// A `kid` that is empty, too long, or not printable ASCII without `"` or `\`.
    BadKid,
    /// Leeway above [`crate::MAX_LEEWAY`].
    LeewayTooLarge,
    /// The algorithm's cargo feature (`hs384`, `hs512`) is not enabled.
    Unsupported,
    /// An Ed25519 public key that is not a point, is of small order, or does not
    /// belong to the seed it came with.
    BadPublicKey,
}

impl From<ConfigError> for Error {
    fn from(e: ConfigError) -> Self {
        Error::Config(e)
    }
}

impl From<Malformed> for Error {
    fn from(m: Malformed) -> Self {
        Error::Malformed(m)
    }
}

impl Error {
    /// A stable, machine-readable code (used by the CLI and the HTTP layers).
    pub const fn code(&self) -> &'static str {
        match self {
            Error::TooLong => "too_long",
            Error::Malformed(_) => "malformed",
            Error::Signature => "signature",
            Error::Algorithm => "algorithm",
            Error::Critical => "critical_header",
            Error::Type => "type",
            Error::UnknownKey => "unknown_kid",
            Error::Missing(_) => "missing_claim",
            Error::Expired => "expired",
            Error::NotYetValid => "not_yet_valid",
            Error::Issuer => "issuer",
            Error::Audience => "audience",
            Error::BufferTooSmall => "buffer_too_small",
            Error::Claims => "claims",
            Error::Config(_) => "config",
            Error::Footer => "footer",
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::TooLong => f.write_str("token longer than the configured maximum"),
            Error::Malformed(m) => write!(f, "malformed token: {m}"),
            Error::Signature => f.write_str("signature does not match"),
            Error::Algorithm => f.write_str("algorithm not allowed for this key"),
            Error::Critical => f.write_str("critical header extensions are not supported"),
            Error::Type => f.write_str("unexpected token type"),
            Error::UnknownKey => f.write_str("no key for this token"),
            Error::Missing(c) => write!(f, "required claim `{c}` is missing"),
            Error::Expired => f.write_str("token has expired"),
            Error::NotYetValid => f.write_str("token is not valid yet"),
            Error::Issuer => f.write_str("issuer not accepted"),
            Error::Audience => f.write_str("audience not accepted"),
            Error::BufferTooSmall => f.write_str("buffer too small"),
            Error::Claims => f.write_str("claims do not fit the requested type"),
            Error::Config(c) => write!(f, "invalid configuration: {c}"),
            Error::Footer => f.write_str("footer absent or not the required one"),
        }
    }
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Malformed::Segments => "expected three non-empty segments",
            Malformed::Base64 => "segment is not canonical base64url",
            Malformed::Utf8 => "segment is not UTF-8",
            Malformed::Json => "not a strict JSON object",
            Malformed::Depth => "JSON nested too deeply",
            Malformed::Duplicate => "duplicate registered member",
            Malformed::NumericDate => "NumericDate must be an integer in 0..=2^53",
            Malformed::MemberType => "registered member has the wrong type",
            Malformed::Date => "date must be an RFC 3339 date-time from 1970 on",
        })
    }
}

impl fmt::Display for Claim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Claim::Exp => "exp",
            Claim::Jti => "jti",
            Claim::Sub => "sub",
            Claim::Iat => "iat",
        })
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ConfigError::KeyTooShort => "key shorter than the hash output",
            ConfigError::RingFull => "key ring is full",
            ConfigError::KidConflict => "kid used twice in a key ring (or two keys without one)",
            ConfigError::BadKid => {
                "kid must be 1..=64 printable ASCII characters without quote or backslash"
            }
            ConfigError::LeewayTooLarge => "leeway above the maximum",
            ConfigError::Unsupported => "algorithm not compiled in (cargo features hs384, hs512)",
            ConfigError::BadPublicKey => "not a valid Ed25519 public key for this use",
        })
    }
}

impl core::error::Error for Error {}
impl core::error::Error for ConfigError {}
