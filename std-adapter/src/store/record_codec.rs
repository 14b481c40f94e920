//! The packed form of a Redis record: one string per record, so a new key
//! is claimed by one `SET … NX GET PX` and a replay is one `GET`-like read.
//! Public (hidden) only for the fuzz target; the Redis store is its user.
//!
//! ```text
//! running, lease end from the key's expiry:  'r' fp[16] token[16] ttl
//! running, explicit lease end:               'k' fp[16] token[16] lease_end ':' [keep_until]
//! done:                                      'd' fp[16] token[16] status(u16 BE) headers_len(u32 BE) headers body
//! ```
//!
//! Numbers in running records are ASCII decimal (the Lua scripts read and
//! write them), without leading zeros. An `r` record is written with
//! `PX lease + ttl` by the server, so its lease ends at the key's expiry
//! minus `ttl`: the server clock decides, although the client wrote it. The
//! scripts write `k` records (with an explicit end, and `keep_until` when the
//! request has one). Headers are `len(name) name len(value) value`, lengths
//! u32 big-endian.

use super::{StoreError, StoredResponse};

/// Bytes before a record's state-specific tail: tag, fingerprint, token.
pub const HEAD: usize = 33;

/// One decoded record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Record {
    /// In flight under `token`.
    Running {
        /// The request's fingerprint.
        fingerprint: [u8; 16],
        /// The owner's lease token.
        token: [u8; 16],
        /// How its lease end is known.
        lease: Lease,
    },
    /// Completed by `token`'s owner.
    Done {
        /// The request's fingerprint.
        fingerprint: [u8; 16],
        /// The owner's lease token (so a retried complete knows its own).
        token: [u8; 16],
        /// What retries get.
        response: StoredResponse,
    },
}

/// Where a running record's lease end comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lease {
    /// The key's expiry minus this TTL, in ms (`r`).
    FromExpiry {
        /// The TTL the record was claimed with.
        ttl: u64,
    },
    /// Explicit, in server Unix ms, with the request's `keep_until` (`k`).
    Explicit {
        /// When the lease ends.
        end: u64,
        /// Keep the record until then (Unix ms), if set.
        keep_until: Option<u64>,
    },
}

impl Record {
    /// The packed bytes. `TooLarge` if a header part exceeds `u32::MAX` bytes.
    pub fn encode(&self) -> Result<Vec<u8>, StoreError> {
        let (tag, fingerprint, token) = match self {
            Record::Running {
                fingerprint,
                token,
                lease: Lease::FromExpiry { .. },
            } => (b'r', fingerprint, token),
            Record::Running {
                fingerprint, token, ..
            } => (b'k', fingerprint, token),
            Record::Done {
                fingerprint, token, ..
            } => (b'd', fingerprint, token),
        };
        let mut out = Vec::with_capacity(HEAD.saturating_add(24));
        out.push(tag);
        out.extend_from_slice(fingerprint);
        out.extend_from_slice(token);
        match self {
            Record::Running { lease, .. } => match lease {
                Lease::FromExpiry { ttl } => out.extend_from_slice(ttl.to_string().as_bytes()),
                Lease::Explicit { end, keep_until } => {
                    out.extend_from_slice(end.to_string().as_bytes());
                    out.push(b':');
                    if let Some(keep) = keep_until {
                        out.extend_from_slice(keep.to_string().as_bytes());
                    }
                }
            },
            Record::Done { response, .. } => out.extend(encode_response(response)?),
        }
        Ok(out)
    }
}

/// A done record's tail: status, headers length, headers, body. The complete
/// script appends it to the running record's head.
pub fn encode_response(response: &StoredResponse) -> Result<Vec<u8>, StoreError> {
    let mut headers = Vec::new();
    for (name, value) in &response.headers {
        for part in [name.as_bytes(), value.as_slice()] {
            headers.extend_from_slice(&len32(part.len())?.to_be_bytes());
            headers.extend_from_slice(part);
        }
    }
    let mut out = Vec::with_capacity(
        headers
            .len()
            .saturating_add(response.body.len())
            .saturating_add(6),
    );
    out.extend_from_slice(&response.status.to_be_bytes());
    out.extend_from_slice(&len32(headers.len())?.to_be_bytes());
    out.extend_from_slice(&headers);
    out.extend_from_slice(&response.body);
    Ok(out)
}

fn len32(n: usize) -> Result<u32, StoreError> {
    u32::try_from(n).map_err(|_| StoreError::TooLarge)
}

/// Decodes a packed record; anything malformed is `Corrupt`.
pub fn decode(bytes: &[u8]) -> Result<Record, StoreError> {
    let (&tag, rest) = bytes.split_first().ok_or(StoreError::Corrupt)?;
    let (fingerprint, rest) = rest.split_first_chunk::<16>().ok_or(StoreError::Corrupt)?;
    let (token, tail) = rest.split_first_chunk::<16>().ok_or(StoreError::Corrupt)?;
    let (fingerprint, token) = (*fingerprint, *token);
    match tag {
        b'r' => Ok(Record::Running {
            fingerprint,
            token,
            lease: Lease::FromExpiry { ttl: number(tail)? },
        }),
        b'k' => {
            let at = tail
                .iter()
                .position(|&b| b == b':')
                .ok_or(StoreError::Corrupt)?;
            let (end, keep) = tail.split_at(at);
            let keep = keep.get(1..).unwrap_or_default();
            Ok(Record::Running {
                fingerprint,
                token,
                lease: Lease::Explicit {
                    end: number(end)?,
                    keep_until: if keep.is_empty() {
                        None
                    } else {
                        Some(number(keep)?)
                    },
                },
            })
        }
        b'd' => Ok(Record::Done {
            fingerprint,
            token,
            response: decode_response(tail)?,
        }),
        _ => Err(StoreError::Corrupt),
    }
}

/// Canonical ASCII decimal: digits only, no leading zero, fits a u64.
fn number(digits: &[u8]) -> Result<u64, StoreError> {
    let canonical = !digits.is_empty()
        && digits.iter().all(u8::is_ascii_digit)
        && (digits.len() == 1 || digits.first() != Some(&b'0'));
    if !canonical {
        return Err(StoreError::Corrupt);
    }
    std::str::from_utf8(digits)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or(StoreError::Corrupt)
}

fn decode_response(tail: &[u8]) -> Result<StoredResponse, StoreError> {
    let (status, rest) = tail.split_first_chunk::<2>().ok_or(StoreError::Corrupt)?;
    let mut rest = rest;
    let mut headers = take(&mut rest)?;
    let mut parsed = Vec::new();
    while !headers.is_empty() {
        let name = take(&mut headers)?;
        let value = take(&mut headers)?;
        let name = String::from_utf8(name.to_vec()).map_err(|_| StoreError::Corrupt)?;
        parsed.push((name, value.to_vec()));
    }
    Ok(StoredResponse {
        status: u16::from_be_bytes(*status),
        headers: parsed,
        body: rest.to_vec(),
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

    fn done(headers: Vec<(String, Vec<u8>)>, body: &[u8]) -> Record {
        Record::Done {
            fingerprint: [1; 16],
            token: [2; 16],
            response: StoredResponse {
                status: 201,
                headers,
                body: body.to_vec(),
            },
        }
    }

    #[test]
    fn records_round_trip() {
        let records = [
            done(
                vec![
                    ("content-type".to_string(), b"text/plain".to_vec()),
                    ("x-empty".to_string(), vec![]),
                ],
                b"body",
            ),
            done(vec![], b""),
            Record::Running {
                fingerprint: [3; 16],
                token: [4; 16],
                lease: Lease::FromExpiry { ttl: 86_400_000 },
            },
            Record::Running {
                fingerprint: [3; 16],
                token: [4; 16],
                lease: Lease::Explicit {
                    end: 1_700_000_000_000,
                    keep_until: Some(0),
                },
            },
            Record::Running {
                fingerprint: [3; 16],
                token: [4; 16],
                lease: Lease::Explicit {
                    end: 0,
                    keep_until: None,
                },
            },
        ];
        for r in records {
            assert_eq!(decode(&r.encode().unwrap()), Ok(r));
        }
    }

    #[test]
    fn truncated_or_garbled_records_are_corrupt() {
        let encoded = done(vec![("a".to_string(), b"b".to_vec())], b"")
            .encode()
            .unwrap();
        for cut in 0..encoded.len() {
            assert_eq!(
                decode(&encoded[..cut]),
                Err(StoreError::Corrupt),
                "cut {cut}"
            );
        }
        let head = |tag: u8, tail: &[u8]| {
            let mut v = vec![tag];
            v.extend_from_slice(&[0; 32]);
            v.extend_from_slice(tail);
            v
        };
        for bad in [
            head(b'x', b"1"),
            head(b'r', b""),
            head(b'r', b"01"),
            head(b'r', b"1e3"),
            head(b'r', b"99999999999999999999"),
            head(b'k', b"12"),
            head(b'k', b"12:x"),
            head(b'k', b":"),
            head(b'd', &[0, 200, 0, 0, 0, 9, b'x']),
            head(b'd', &[0, 200, 0, 0, 0, 9, 0, 0, 0, 1, 0xff, 0, 0, 0, 0]),
        ] {
            assert_eq!(decode(&bad), Err(StoreError::Corrupt), "{bad:?}");
        }
    }
}
