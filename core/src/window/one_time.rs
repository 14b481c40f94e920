//! One-time tokens: a verified token's `jti` as a window request.

use super::{Fingerprint, Request};
use crate::{Claim, Error, Validation, Verified};

/// Builds the window request that makes `token` single-use.
///
/// The record is scoped by `sub` (decoded), keyed by `jti`, stamped with `iat`
/// and kept until `exp + leeway`, so the token can never outlive its replay
/// record. `exp`, `jti` and `iat` are required: `iat` is the stamp the window
/// compares with its floors, and no other claim stands in for it (`exp` lies
/// ahead of the clock by the token's lifetime, so it would be refused as a
/// stamp from the future).
/// `scratch` holds the decoded `sub` and `jti`. Any answer but `Fresh` means the
/// token was already used (or cannot be vouched for) and must be refused.
pub fn one_time_request<'s>(
    token: &Verified<'_>,
    validation: &Validation<'_>,
    scratch: &'s mut [u8],
) -> Result<Request<'s>, Error> {
    let claims = &token.claims;
    let exp = claims.exp.ok_or(Error::Missing(Claim::Exp))?;
    let jti = claims.jti.ok_or(Error::Missing(Claim::Jti))?;
    let iat = claims.iat.ok_or(Error::Missing(Claim::Iat))?;
    let (scope_buf, key_buf) = scratch.split_at_mut(scratch.len() / 2);
    let scope = match claims.sub {
        Some(sub) => sub.decode_into(scope_buf).ok_or(Error::BufferTooSmall)?,
        None => "",
    };
    let key = jti.decode_into(key_buf).ok_or(Error::BufferTooSmall)?;
    Ok(Request {
        scope: scope.as_bytes(),
        key: key.as_bytes(),
        fingerprint: Fingerprint::default(),
        stamp: iat,
        keep_until: Some(exp.saturating_add(validation.leeway_secs())),
    })
}
