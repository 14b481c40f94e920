//! The `Idempotency-Key` header: the draft's quoted form or a bare value.

use http::{HeaderMap, HeaderName, StatusCode};

use crate::layer::problem::Problem;

/// The header name (draft-ietf-httpapi-idempotency-key-header).
pub const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");

/// Longest accepted key, in bytes after unquoting.
pub const MAX_KEY_LEN: usize = 255;

/// Why a key was refused; each is a `400`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum KeyError {
    /// The header appears more than once.
    Several,
    /// Empty, or longer than [`MAX_KEY_LEN`].
    Length,
    /// A quote that does not close, a bad escape, or a byte outside printable ASCII.
    Syntax,
}

impl KeyError {
    pub(crate) const fn problem(self) -> Problem {
        let title = match self {
            KeyError::Several => "Send one Idempotency-Key header",
            KeyError::Length => "Idempotency-Key must be 1 to 255 characters",
            KeyError::Syntax => {
                "Idempotency-Key must be printable ASCII, bare or as a quoted string"
            }
        };
        Problem::new(StatusCode::BAD_REQUEST, "idempotency-key-malformed", title)
    }
}

/// The decoded key, `None` if the header is absent.
///
/// The quoted form is a Structured Field string (RFC 8941 §3.3.3): printable
/// ASCII, with `\"` and `\\` as the only escapes. The bare form is visible
/// ASCII without quotes or backslashes. `"abc"` and `abc` name the same key.
pub(crate) fn parse(headers: &HeaderMap) -> Result<Option<Vec<u8>>, KeyError> {
    let mut values = headers.get_all(IDEMPOTENCY_KEY).iter();
    let value = match (values.next(), values.next()) {
        (None, _) => return Ok(None),
        (Some(v), None) => v.as_bytes(),
        (Some(_), Some(_)) => return Err(KeyError::Several),
    };
    let key = match value {
        [b'"', inner @ .., b'"'] => unquote(inner)?,
        bare if bare
            .iter()
            .all(|&b| (0x21..0x7F).contains(&b) && b != b'"' && b != b'\\') =>
        {
            bare.to_vec()
        }
        _ => return Err(KeyError::Syntax),
    };
    if key.is_empty() || key.len() > MAX_KEY_LEN {
        return Err(KeyError::Length);
    }
    Ok(Some(key))
}

fn unquote(inner: &[u8]) -> Result<Vec<u8>, KeyError> {
    let mut out = Vec::with_capacity(inner.len());
    let mut bytes = inner.iter();
    while let Some(&b) = bytes.next() {
        match b {
            b'\\' => match bytes.next() {
                Some(&e @ (b'"' | b'\\')) => out.push(e),
                _ => return Err(KeyError::Syntax),
            },
            b'"' => return Err(KeyError::Syntax),
            0x20..=0x7E => out.push(b),
            _ => return Err(KeyError::Syntax),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn key(raw: &[u8]) -> Result<Option<Vec<u8>>, KeyError> {
        let mut h = HeaderMap::new();
        h.insert(IDEMPOTENCY_KEY, HeaderValue::from_bytes(raw).unwrap());
        parse(&h)
    }

    #[test]
    fn quoted_and_bare_forms_name_the_same_key() {
        assert_eq!(key(b"\"abc\""), Ok(Some(b"abc".to_vec())));
        assert_eq!(key(b"abc"), Ok(Some(b"abc".to_vec())));
        assert_eq!(key(br#""a \"b\" \\c""#), Ok(Some(br#"a "b" \c"#.to_vec())));
    }

    #[test]
    fn refuses_malformed_keys() {
        assert_eq!(key(b"\"\""), Err(KeyError::Length));
        assert_eq!(key(b"\"abc"), Err(KeyError::Syntax));
        assert_eq!(key(b"a\"bc"), Err(KeyError::Syntax));
        assert_eq!(key(b"a b"), Err(KeyError::Syntax));
        assert_eq!(key(br#""a\b""#), Err(KeyError::Syntax));
        assert_eq!(key(br#""a"b""#), Err(KeyError::Syntax));
        assert_eq!(key(b"\xC3\xA9"), Err(KeyError::Syntax));
        assert_eq!(
            key("k".repeat(255).as_bytes()).map(|k| k.map(|k| k.len())),
            Ok(Some(255))
        );
        assert_eq!(key("k".repeat(256).as_bytes()), Err(KeyError::Length));
        assert_eq!(
            key(format!("\"{}\"", "k".repeat(256)).as_bytes()),
            Err(KeyError::Length)
        );
    }

    #[test]
    fn absent_and_repeated_headers() {
        assert_eq!(parse(&HeaderMap::new()), Ok(None));
        let mut h = HeaderMap::new();
        h.append(IDEMPOTENCY_KEY, HeaderValue::from_static("a"));
        h.append(IDEMPOTENCY_KEY, HeaderValue::from_static("b"));
        assert_eq!(parse(&h), Err(KeyError::Several));
    }
}
