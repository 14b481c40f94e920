//! Signing into a caller-provided buffer.

use serde::Serialize;

use crate::{
    error::Error,
    jws::key::{Key, MAX_KID_LEN},
    token::b64::{self, B64Error},
    token::ser::{self, SerError, Writer},
};

fn full(_: B64Error) -> Error {
    Error::BufferTooSmall
}

/// Copies `parts` into `out` starting at `at`, returning the new position.
fn put(out: &mut [u8], at: usize, parts: &[&[u8]]) -> Result<usize, Error> {
    parts.iter().try_fold(at, |at, part| {
        let end = at.checked_add(part.len()).ok_or(Error::BufferTooSmall)?;
        out.get_mut(at..end)
            .ok_or(Error::BufferTooSmall)?
            .copy_from_slice(part);
        Ok(end)
    })
}

impl Key {
    /// Signs `claims` as `{"alg":..,"typ":"JWT"}` (plus `kid` when the key has
    /// one), writing the token into `out`. A buffer too small is an error.
    ///
    /// Claims are written by the core's own JSON writer: valid JSON by
    /// construction for any `Serialize` type, never a panic. Shapes a token cannot
    /// carry are [`Error::Claims`]: a top level that is not a struct or map,
    /// non-finite floats, map keys other than strings, chars, integers and unit
    /// variants, nesting deeper than [`crate::token::json::MAX_DEPTH`], and registered
    /// claims our verifier would refuse (`exp`, `nbf`, `iat` not an integer in
    /// `0..=2^53`, `iss`, `sub`, `jti` not a string, `aud` not a string or an
    /// array of strings, any of them twice). Bytes are written as an array of
    /// numbers, as `serde_json` does.
    pub fn sign<'o, T: Serialize + ?Sized>(
        &self,
        claims: &T,
        out: &'o mut [u8],
    ) -> Result<&'o str, Error> {
        let header_end = self.write_header(out)?;
        let dot = header_end;
        let json_at = dot.checked_add(1).ok_or(Error::BufferTooSmall)?;
        let json_len = {
            let rest = out.get_mut(json_at..).ok_or(Error::BufferTooSmall)?;
            let mut w = Writer::new(rest);
            ser::to_writer(claims, &mut w).map_err(|e| match e {
                SerError::Full => Error::BufferTooSmall,
                SerError::Unsupported => Error::Claims,
            })?;
            w.len()
        };
        self.finish(out, dot, json_len)
    }

    /// Signs an already-serialized JSON payload. The bytes are used as given;
    /// callers are responsible for them being a JSON object.
    pub fn sign_json<'o>(&self, json: &[u8], out: &'o mut [u8]) -> Result<&'o str, Error> {
        let dot = self.write_header(out)?;
        let json_at = dot.checked_add(1).ok_or(Error::BufferTooSmall)?;
        put(out, json_at, &[json])?;
        self.finish(out, dot, json.len())
    }

    fn write_header(&self, out: &mut [u8]) -> Result<usize, Error> {
        let mut json = [0u8; 48 + MAX_KID_LEN];
        let alg = self.algorithm().name().as_bytes();
        let len = match self.kid() {
            // `{"alg":..,"typ":"JWT"}`, already encoded.
            None => return put(out, 0, &[self.algorithm().common_headers()[0].as_bytes()]),
            Some(kid) => put(
                &mut json,
                0,
                &[
                    br#"{"alg":""#,
                    alg,
                    br#"","kid":""#,
                    kid.as_bytes(),
                    br#"","typ":"JWT"}"#,
                ],
            )?,
        };
        b64::encode(json.get(..len).ok_or(Error::BufferTooSmall)?, out).map_err(full)
    }

    /// Encodes the payload in place after the header, then appends the signature.
    /// The JSON must sit at `dot + 1`, right where its encoding goes.
    fn finish<'o>(&self, out: &'o mut [u8], dot: usize, json_len: usize) -> Result<&'o str, Error> {
        let json_at = dot.checked_add(1).ok_or(Error::BufferTooSmall)?;
        let payload = out.get_mut(json_at..).ok_or(Error::BufferTooSmall)?;
        let payload_len = b64::encode_in_place(payload, json_len).map_err(full)?;
        put(out, dot, &[b"."])?;
        let signing_len = json_at
            .checked_add(payload_len)
            .ok_or(Error::BufferTooSmall)?;
        let tag = self.tag(out.get(..signing_len).ok_or(Error::BufferTooSmall)?);
        let sig_at = put(out, signing_len, &[b"."])?;
        let sig_len = b64::encode(
            tag.as_bytes(),
            out.get_mut(sig_at..).ok_or(Error::BufferTooSmall)?,
        )
        .map_err(full)?;
        let total = sig_at.checked_add(sig_len).ok_or(Error::BufferTooSmall)?;
        // Every byte written is base64url or '.', so this cannot fail.
        core::str::from_utf8(out.get(..total).ok_or(Error::BufferTooSmall)?)
            .map_err(|_| Error::BufferTooSmall)
    }
}
