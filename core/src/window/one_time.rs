//! One-time tokens: a verified token's `jti` as a window request.

use super::{Fingerprint, Request};
use crate::{Claim, Error, Validation, Verified};

/// Builds the window request that makes `token` single-use.
///
/// The record is scoped by `sub` (decoded), keyed by `jti`, stamped with `iat`
/// (or `exp` when there is no `iat`), and kept until `exp + leeway`, so the
/// token can never outlive its replay record. `exp` and `jti` are required.
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
        stamp: claims.iat.unwrap_or(exp),
        keep_until: Some(exp.saturating_add(validation.leeway_secs())),
    })
}
