//! Record keys and the stored form of a response.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::store::{StoreError, StoredResponse};

/// `<prefix>{<32 hex digits>}`: a keyed 128-bit digest of `(scope, key)`.
///
/// The braces are a Redis Cluster hash tag, so everything about one record
/// lives in one slot. The digest is keyed with the configured secret: every
/// instance computes the same name, while key names reveal nothing about
/// scopes or keys and cannot be aimed at one slot.
pub(super) fn key(secret: &[u8], prefix: &str, scope: &[u8], key: &[u8]) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret).unwrap_or_else(|_| unreachable!());
    mac.update(&(scope.len() as u64).to_le_bytes());
    mac.update(scope);
    mac.update(key);
    let digest = mac.finalize().into_bytes();
    let mut out = String::with_capacity(prefix.len().saturating_add(34));
    out.push_str(prefix);
    out.push('{');
    for b in digest.iter().take(16) {
        out.push_str(&format!("{b:02x}"));
    }
    out.push('}');
    out
}

/// Headers as `len(name) name len(value) value`, lengths as u32 big-endian.
pub(super) fn encode_headers(headers: &[(String, Vec<u8>)]) -> Result<Vec<u8>, StoreError> {
    let mut out = Vec::new();
    for (name, value) in headers {
        for part in [name.as_bytes(), value.as_slice()] {
            let len = u32::try_from(part.len()).map_err(|_| StoreError::TooLarge)?;
            out.extend_from_slice(&len.to_be_bytes());
            out.extend_from_slice(part);
        }
    }
    Ok(out)
}

/// The response of a `replay` answer: status digits, encoded headers, body.
pub(super) fn decode(
    status: &[u8],
    headers: &[u8],
    body: Vec<u8>,
) -> Result<StoredResponse, StoreError> {
    let status = std::str::from_utf8(status)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or(StoreError::Corrupt)?;
    let mut rest = headers;
    let mut parsed = Vec::new();
    while !rest.is_empty() {
        let name = take(&mut rest)?;
        let value = take(&mut rest)?;
        let name = String::from_utf8(name.to_vec()).map_err(|_| StoreError::Corrupt)?;
        parsed.push((name, value.to_vec()));
    }
    Ok(StoredResponse {
        status,
        headers: parsed,
        body,
    })
}

/// Splits one length-prefixed part off the front of `rest`.
fn take<'a>(rest: &mut &'a [u8]) -> Result<&'a [u8], StoreError> {
    let (len, tail) = rest.split_first_chunk::<4>().ok_or(StoreError::Corrupt)?;
    let len = usize::try_from(u32::from_be_bytes(*len)).map_err(|_| StoreError::Corrupt)?;
    if tail.len() < len {
        return Err(StoreError::Corrupt);
    }
    let (part, tail) = tail.split_at(len);
    *rest = tail;
    Ok(part)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_round_trip() {
        let headers = vec![
            ("content-type".to_string(), b"text/plain".to_vec()),
            ("x-empty".to_string(), vec![]),
        ];
        let encoded = encode_headers(&headers).unwrap();
        let back = decode(b"201", &encoded, b"body".to_vec()).unwrap();
        assert_eq!(
            back,
            StoredResponse {
                status: 201,
                headers,
                body: b"body".to_vec()
            }
        );
    }

    #[test]
    fn truncated_or_garbled_records_are_corrupt() {
        let encoded = encode_headers(&[("a".to_string(), b"b".to_vec())]).unwrap();
        for cut in 1..encoded.len() {
            assert_eq!(
                decode(b"200", &encoded[..cut], vec![]),
                Err(StoreError::Corrupt),
                "cut {cut}"
            );
        }
        assert_eq!(decode(b"2x0", &[], vec![]), Err(StoreError::Corrupt));
        assert_eq!(decode(b"70000", &[], vec![]), Err(StoreError::Corrupt));
        assert_eq!(
            decode(b"200", &[0, 0, 0, 1, 0xff, 0, 0, 0, 0], vec![]),
            Err(StoreError::Corrupt)
        );
    }

    #[test]
    fn keys_share_a_hash_tag_and_do_not_alias() {
        let a = key(b"secret", "tessera:", b"ab", b"c");
        let b = key(b"secret", "tessera:", b"a", b"bc");
        assert_ne!(a, b);
        assert!(
            a.starts_with("tessera:{") && a.ends_with('}') && a.len() == "tessera:{}".len() + 32,
            "{a}"
        );
        assert_ne!(a, key(b"other secret", "tessera:", b"ab", b"c"));
    }

    /// Random and mutated header blobs: decoding never panics, and whatever
    /// decodes encodes back to the same bytes (one encoding per header list,
    /// so nothing is silently dropped or reordered). A stand-in for a fuzz
    /// target, which would pull tokio and the Redis client into the fuzz
    /// workspace.
    #[test]
    fn arbitrary_header_blobs_decode_canonically_or_not_at_all() {
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let valid = encode_headers(&[
            ("content-type".to_string(), b"text/plain".to_vec()),
            ("x-empty".to_string(), vec![]),
        ])
        .unwrap();
        let (mut decoded, mut refused) = (0, 0);
        for round in 0..20_000 {
            let mut blob = if round % 2 == 0 {
                valid.clone()
            } else {
                let len = usize::try_from(next() % 24).unwrap();
                (0..len).map(|_| next() as u8).collect()
            };
            if !blob.is_empty() {
                for _ in 0..=next() % 3 {
                    let at = usize::try_from(next()).unwrap() % blob.len();
                    blob[at] = match next() % 3 {
                        0 => 0,
                        1 => next() as u8,
                        _ => blob[at].wrapping_add(1),
                    };
                }
            }
            match decode(b"200", &blob, vec![]) {
                Ok(r) => {
                    assert_eq!(encode_headers(&r.headers).unwrap(), blob, "{blob:?}");
                    decoded += 1;
                }
                Err(e) => {
                    assert_eq!(e, StoreError::Corrupt);
                    refused += 1;
                }
            }
        }
        assert!(
            decoded > 100 && refused > 100,
            "{decoded} decoded, {refused} refused"
        );
    }
}
