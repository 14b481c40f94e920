//! Pre-Authentication Encoding (PASETO spec, `PAE`), fed to a hash piece by
//! piece so no buffer ever holds the whole encoding.

/// `LE64(n)` with the top bit cleared, as the spec requires.
fn le64(n: usize) -> [u8; 8] {
    ((n as u64) & (u64::MAX >> 1)).to_le_bytes()
}

/// Feeds `PAE(pieces)` to `update`: the count, then each piece's length and bytes.
pub(super) fn feed(pieces: &[&[u8]], mut update: impl FnMut(&[u8])) {
    update(&le64(pieces.len()));
    for piece in pieces {
        update(&le64(piece.len()));
        update(piece);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pae(pieces: &[&[u8]]) -> alloc::vec::Vec<u8> {
        let mut out = vec![];
        feed(pieces, |p| out.extend_from_slice(p));
        out
    }

    /// The spec's examples (PASETO Common.md, "PAE Definition").
    #[test]
    fn matches_the_spec_examples() {
        assert_eq!(pae(&[]), b"\x00\x00\x00\x00\x00\x00\x00\x00");
        assert_eq!(
            pae(&[b""]),
            b"\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
        );
        assert_eq!(
            pae(&[b"test"]),
            b"\x01\x00\x00\x00\x00\x00\x00\x00\x04\x00\x00\x00\x00\x00\x00\x00test"
        );
    }
}
