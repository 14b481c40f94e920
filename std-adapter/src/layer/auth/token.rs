//! The verified claims a request carries after authentication.

use std::sync::Arc;

use axum::{
    body::Body,
    extract::{FromRequestParts, OptionalFromRequestParts},
};
use http::{request::Parts, Response};
use serde::de::DeserializeOwned;
use tessera_core::JsonStr;

use super::{service::unauthorized, Checked};

/// A token that passed verification: its registered claims and its payload.
///
/// The authentication layer inserts it into the request extensions; handlers
/// take it as an extractor (a request without one is refused with `401`, so a
/// missing layer fails closed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedToken {
    inner: Arc<Inner>,
}

#[derive(Debug, PartialEq, Eq)]
struct Inner {
    sub: Option<String>,
    iat: Option<u64>,
    exp: Option<u64>,
    jti: Option<String>,
    payload: String,
}

/// Decodes JSON escapes (`"\u00e9"` is `é`); the verifier validated the text.
fn decoded(s: Option<JsonStr<'_>>) -> Option<String> {
    let s = s?;
    let mut bytes = Vec::new();
    s.for_each_chunk(|chunk| bytes.extend_from_slice(chunk));
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

impl VerifiedToken {
    pub(crate) fn from_checked(v: &Checked<'_>) -> Self {
        let c = &v.claims;
        let inner = Inner {
            sub: decoded(c.sub),
            iat: c.iat,
            exp: c.exp,
            jti: decoded(c.jti),
            payload: v.payload.to_owned(),
        };
        VerifiedToken {
            inner: Arc::new(inner),
        }
    }

    /// The subject: the principal that scopes idempotency keys.
    pub fn sub(&self) -> Option<&str> {
        self.inner.sub.as_deref()
    }

    /// Issued at, in seconds since the epoch.
    pub fn iat(&self) -> Option<u64> {
        self.inner.iat
    }

    /// Expiration time, in seconds since the epoch.
    pub fn exp(&self) -> Option<u64> {
        self.inner.exp
    }

    /// The token identifier.
    pub fn jti(&self) -> Option<&str> {
        self.inner.jti.as_deref()
    }

    /// The decoded payload JSON.
    pub fn payload(&self) -> &str {
        &self.inner.payload
    }

    /// Deserializes the payload into the caller's claim type.
    pub fn claims<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_str(&self.inner.payload)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for VerifiedToken {
    type Rejection = Response<Body>;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<VerifiedToken>()
            .cloned()
            .ok_or_else(|| unauthorized(false))
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for VerifiedToken {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Option<Self>, Self::Rejection> {
        Ok(parts.extensions.get::<VerifiedToken>().cloned())
    }
}
