//! Strict, unpadded base64url (RFC 4648 §5, as RFC 7515 §2 requires).
//!
//! Table-driven and branch-light: the header and payload are public once the MAC
//! has matched, so they need speed, not constant time. Every input has exactly one
//! accepted encoding: padding, `+`, `/`, whitespace and non-zero trailing bits are
//! all rejected.

/// The alphabet of RFC 4648 §5.
const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
/// Marker for bytes outside the alphabet: above every 12-bit pair, so one
/// OR of all pairs and one test at the end find any of them.
const BAD: u16 = 0x8000;
/// `HI[b]` is the sextet of `b` shifted left 6, `LO[b]` the sextet itself: one
/// lookup in each and an OR decode two characters into 12 bits, with no shift.
/// Flash: 2 × 512 bytes.
static HI: [u16; 256] = decode_table(6);
static LO: [u16; 256] = decode_table(0);

#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)] // const table build, bounds fixed
const fn decode_table(shift: u32) -> [u16; 256] {
    let mut table = [BAD; 256];
    let mut i = 0;
    while i < 64 {
        table[ALPHABET[i] as usize] = (i as u16) << shift;
        i += 1;
    }
    table
}

/// Why a segment is not canonical base64url.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum B64Error {
    /// A byte outside the alphabet, a length of 4k+1, or non-zero trailing bits.
    Invalid,
    /// The output buffer is too small.
    Full,
}

/// Bytes decoded from `len` base64url characters, or `None` for an impossible length.
pub const fn decoded_len(len: usize) -> Option<usize> {
    let full = (len / 4).saturating_mul(3);
    match len % 4 {
        0 => Some(full),
        2 => full.checked_add(1),
        3 => full.checked_add(2),
        _ => None,
    }
}

/// Characters needed to encode `len` bytes, or `None` on overflow.
pub const fn encoded_len(len: usize) -> Option<usize> {
    let full = match (len / 3).checked_mul(4) {
        Some(full) => full,
        None => return None,
    };
    match len % 3 {
        0 => Some(full),
        1 => full.checked_add(2),
        _ => full.checked_add(3),
    }
}

#[inline(always)]
fn lookup(table: &[u16; 256], byte: u8) -> u16 {
    // 256 entries: the lookup never misses, and the compiler drops the check.
    table.get(usize::from(byte)).copied().unwrap_or(BAD)
}

/// Two characters as 12 bits, or with `BAD` set.
#[inline(always)]
fn pair(hi: u8, lo: u8) -> u16 {
    lookup(&HI, hi) | lookup(&LO, lo)
}

/// Decodes `input` into the front of `out`, returning the decoded bytes.
///
/// Eight characters a step; a byte outside the alphabet only sets `BAD` in
/// `bad`, tested once at the end (the bytes written meanwhile are garbage, and
/// an error is returned).
pub fn decode<'o>(input: &[u8], out: &'o mut [u8]) -> Result<&'o [u8], B64Error> {
    let len = decoded_len(input.len()).ok_or(B64Error::Invalid)?;
    let out = out.get_mut(..len).ok_or(B64Error::Full)?;
    let mut bad = 0u16;
    // `len` matches `input`: both iterators have the same number of steps, and
    // so do the four-character ones over their remainders.
    let mut eights = input.chunks_exact(8);
    let mut sixes = out.chunks_exact_mut(6);
    for (chunk, dst) in (&mut eights).zip(&mut sixes) {
        if let ([a, b, c, d, e, f, g, h], Ok(dst)) = (chunk, <&mut [u8; 6]>::try_from(dst)) {
            let (p, q, r, s) = (pair(*a, *b), pair(*c, *d), pair(*e, *f), pair(*g, *h));
            bad |= p | q | r | s;
            let n =
                (u64::from(p) << 36) | (u64::from(q) << 24) | (u64::from(r) << 12) | u64::from(s);
            let [_, _, bytes @ ..] = n.to_be_bytes();
            *dst = bytes;
        }
    }
    let mut fours = eights.remainder().chunks_exact(4);
    let mut threes = sixes.into_remainder().chunks_exact_mut(3);
    for (chunk, dst) in (&mut fours).zip(&mut threes) {
        if let ([a, b, c, d], [x, y, z]) = (chunk, dst) {
            let (p, q) = (pair(*a, *b), pair(*c, *d));
            bad |= p | q;
            let n = (u32::from(p) << 12) | u32::from(q);
            *x = (n >> 16) as u8;
            *y = (n >> 8) as u8;
            *z = n as u8;
        }
    }
    // The trailing bits must be zero, or two encodings would decode alike.
    match (fours.remainder(), threes.into_remainder()) {
        ([], []) => {}
        ([a, b], [x]) => {
            let p = pair(*a, *b);
            bad |= p;
            if p & 0x0F != 0 {
                bad = BAD;
            }
            *x = (p >> 4) as u8;
        }
        ([a, b, c], [x, y]) => {
            let (p, c) = (pair(*a, *b), lookup(&LO, *c));
            bad |= p | c;
            if c & 0x03 != 0 {
                bad = BAD;
            }
            let n = (u32::from(p) << 6) | u32::from(c);
            *x = (n >> 10) as u8;
            *y = (n >> 2) as u8;
        }
        _ => bad = BAD,
    }
    if bad & BAD != 0 {
        return Err(B64Error::Invalid);
    }
    Ok(out)
}

#[inline(always)]
fn symbol(sextet: u32) -> u8 {
    // `& 63` keeps the index in range; `get` keeps the lint honest at no cost.
    ALPHABET
        .get((sextet & 63) as usize)
        .copied()
        .unwrap_or(b'A')
}

fn encode_chunk(bytes: &[u8], dst: &mut [u8]) {
    let n = match bytes {
        [a, b, c, ..] => (u32::from(*a) << 16) | (u32::from(*b) << 8) | u32::from(*c),
        [a, b] => (u32::from(*a) << 16) | (u32::from(*b) << 8),
        [a] => u32::from(*a) << 16,
        [] => 0,
    };
    for (d, shift) in dst.iter_mut().zip([18u32, 12, 6, 0]) {
        *d = symbol(n >> shift);
    }
}

/// Encodes `input` into the front of `out`, returning the length written.
pub fn encode(input: &[u8], out: &mut [u8]) -> Result<usize, B64Error> {
    let len = encoded_len(input.len()).ok_or(B64Error::Full)?;
    let out = out.get_mut(..len).ok_or(B64Error::Full)?;
    for (src, dst) in input.chunks(3).zip(out.chunks_mut(4)) {
        encode_chunk(src, dst);
    }
    Ok(len)
}

/// Encodes the first `len` bytes of `buf` in place, returning the encoded length.
///
/// Works back to front: chunk `k` is read from `3k..` before `4k..` is written, and
/// `4k >= 3k`, so no unread byte is overwritten. This lets the signer serialize
/// claims straight into the output buffer with no second buffer.
pub fn encode_in_place(buf: &mut [u8], len: usize) -> Result<usize, B64Error> {
    let enc = encoded_len(len).ok_or(B64Error::Full)?;
    if enc > buf.len() || len > buf.len() {
        return Err(B64Error::Full);
    }
    let full = len / 3;
    // `full * 4 <= enc <= buf.len()`, so none of the products below wrap.
    let (tail_at, tail_dst) = (full.wrapping_mul(3), full.wrapping_mul(4));
    // The partial chunk is the furthest back: it goes first.
    let rest = len.wrapping_sub(tail_at);
    if rest != 0 {
        let mut tail = [0u8; 3];
        let t = tail.get_mut(..rest).ok_or(B64Error::Full)?;
        t.copy_from_slice(buf.get(tail_at..len).ok_or(B64Error::Full)?);
        let dst = buf.get_mut(tail_dst..enc).ok_or(B64Error::Full)?;
        encode_chunk(tail.get(..rest).ok_or(B64Error::Full)?, dst);
    }
    // Then whole chunks back to front, each read before its bytes are written.
    for k in (0..full).rev() {
        let (at, to) = (k.wrapping_mul(3), k.wrapping_mul(4));
        let n = match buf.get(at..at.wrapping_add(3)) {
            Some(&[a, b, c]) => (u32::from(a) << 16) | (u32::from(b) << 8) | u32::from(c),
            _ => return Err(B64Error::Full),
        };
        let dst = buf.get_mut(to..to.wrapping_add(4)).ok_or(B64Error::Full)?;
        if let [w, x, y, z] = dst {
            *w = symbol(n >> 18);
            *x = symbol(n >> 12);
            *y = symbol(n >> 6);
            *z = symbol(n);
        }
    }
    Ok(enc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64ct::{Base64UrlUnpadded, Encoding};

    #[test]
    fn round_trips_every_length_against_base64ct() {
        let data: [u8; 64] = core::array::from_fn(|i| (i * 37 + 11) as u8);
        for len in 0..=data.len() {
            let reference = Base64UrlUnpadded::encode_string(&data[..len]);
            let mut enc = [0u8; 128];
            let n = encode(&data[..len], &mut enc).unwrap();
            assert_eq!(&enc[..n], reference.as_bytes());
            let mut in_place = [0u8; 128];
            in_place[..len].copy_from_slice(&data[..len]);
            let m = encode_in_place(&mut in_place, len).unwrap();
            assert_eq!(&in_place[..m], reference.as_bytes(), "in place, len {len}");
            let mut dec = [0u8; 64];
            assert_eq!(
                decode(reference.as_bytes(), &mut dec).unwrap(),
                &data[..len]
            );
        }
    }

    #[test]
    fn rejects_non_canonical_and_foreign_bytes() {
        let mut out = [0u8; 16];
        for bad in [
            &b"QQ=="[..],
            b"QR",
            b"QUF",
            b"QUJ",
            b"Q",
            b"QUJD+A",
            b"QUJD/A",
            b"QU JD",
            b"QUJD\n",
            b"QUJ\xC3",
        ] {
            assert_eq!(decode(bad, &mut out), Err(B64Error::Invalid), "{bad:?}");
        }
        assert_eq!(decode(b"QUJD", &mut out).unwrap(), b"ABC");
        assert_eq!(decode(b"QUI", &mut out).unwrap(), b"AB");
        assert_eq!(decode(b"QQ", &mut out).unwrap(), b"A");
    }

    #[test]
    fn every_foreign_byte_at_every_position_is_refused() {
        // Lengths 2..=19 cover the eight-character steps, the four-character
        // step and both tails; every byte outside the alphabet, at every place,
        // in a segment that decodes before the edit (a tail ends in `A`, whose
        // trailing bits are zero).
        let mut out = [0u8; 16];
        for len in (2..=19).filter(|l| l % 4 != 1) {
            let mut good = b"QUJDREVGR0hJSktMTU5PUFFS"[..len].to_vec();
            if len % 4 != 0 {
                good[len - 1] = b'A';
            }
            assert!(decode(&good, &mut out).is_ok(), "{good:?}");
            for at in 0..len {
                for byte in (0..=255u8).filter(|b| !ALPHABET.contains(b)) {
                    let mut bad = good.clone();
                    bad[at] = byte;
                    assert_eq!(decode(&bad, &mut out), Err(B64Error::Invalid), "{bad:?}");
                }
            }
        }
    }

    #[test]
    fn trailing_bits_must_be_zero() {
        // After every kind of step: the last character of a 2- or 3-character
        // tail keeps 4 or 2 bits that must be zero.
        let mut out = [0u8; 16];
        for prefix in [&b""[..], b"QUJD", b"QUJDREVG", b"QUJDREVGR0hJ"] {
            for (stem, mask) in [(&b"Q"[..], 0x0F), (b"QU", 0x03)] {
                for (sextet, last) in ALPHABET.iter().enumerate() {
                    let t = [prefix, stem, &[*last]].concat();
                    let ok = decode(&t, &mut out).is_ok();
                    assert_eq!(ok, sextet & mask == 0, "{t:?}");
                }
            }
        }
    }

    #[test]
    fn reports_small_buffers() {
        assert_eq!(decode(b"QUJD", &mut [0u8; 2]), Err(B64Error::Full));
        assert_eq!(encode(b"ABC", &mut [0u8; 3]), Err(B64Error::Full));
        assert_eq!(encode_in_place(&mut [0u8; 3], 3), Err(B64Error::Full));
    }
}
