//! The service: checks the bearer token, then calls the inner service.

use std::{
    sync::Arc,
    task::{Context, Poll},
    time::{SystemTime, UNIX_EPOCH},
};

use axum::body::Body;
use http::{header, HeaderMap, HeaderValue, Request, Response, StatusCode};
use tower_service::Service;

use super::{layer::Policy, token::VerifiedToken};
use crate::layer::{problem::Problem, ResponseFuture};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Wraps a service; built by [`super::BearerAuthLayer`].
#[derive(Clone, Debug)]
pub struct BearerAuth<S> {
    inner: S,
    policy: Arc<Policy>,
}

impl<S> BearerAuth<S> {
    pub(crate) fn new(inner: S, policy: Arc<Policy>) -> Self {
        BearerAuth { inner, policy }
    }
}

/// Why a request was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Refusal {
    /// No `Authorization: Bearer` credentials at all (RFC 6750 §3.1: no error code).
    NoCredentials,
    /// Credentials that fail a check.
    Invalid(&'static str),
}

/// `401` with the challenge; `invalid` adds `error="invalid_token"`.
pub(crate) fn unauthorized(invalid: bool) -> Response<Body> {
    let problem = Problem::new(StatusCode::UNAUTHORIZED, "unauthorized", "Unauthorized");
    let mut res = problem.response();
    let challenge = if invalid {
        r#"Bearer error="invalid_token""#
    } else {
        "Bearer"
    };
    res.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static(challenge),
    );
    res
}

/// The token of `Authorization: Bearer <token>` (scheme case-insensitive).
fn bearer(headers: &HeaderMap) -> Result<&str, Refusal> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        return Err(match headers.contains_key(header::AUTHORIZATION) {
            true => Refusal::Invalid("several authorization headers"),
            false => Refusal::NoCredentials,
        });
    };
    let value = value
        .to_str()
        .map_err(|_| Refusal::Invalid("authorization header is not ASCII"))?;
    let (scheme, token) = value.split_once(' ').ok_or(Refusal::NoCredentials)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(Refusal::NoCredentials);
    }
    Ok(token.trim_start_matches(' '))
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Policy {
    fn authenticate(&self, headers: &HeaderMap) -> Result<VerifiedToken, Refusal> {
        let token = bearer(headers)?;
        let validation = self.validation();
        // Decoded header and payload are shorter than the token; over-long
        // tokens are refused by `verify` before this buffer is touched.
        let mut buf = vec![0u8; token.len().min(self.max_len())];
        match self
            .keys
            .verify(token, &validation, &self.options(), now_secs(), &mut buf)
        {
            Ok(checked) => Ok(VerifiedToken::from_checked(&checked)),
            Err(e) => Err(Refusal::Invalid(e.code())),
        }
    }
}

impl<S, B, ResBody> Service<Request<B>> for BearerAuth<S>
where
    S: Service<Request<B>, Response = Response<ResBody>>,
    S::Future: Send + 'static,
    ResBody: http_body::Body<Data = bytes::Bytes> + Send + 'static,
    ResBody::Error: Into<BoxError>,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<B>) -> Self::Future {
        match self.policy.authenticate(req.headers()) {
            Ok(token) => {
                req.extensions_mut().insert(token.clone());
                let fut = self.inner.call(req);
                Box::pin(async move {
                    let mut res = fut.await?.map(Body::new);
                    // Outer layers (logs, metrics) learn whom the request was for.
                    res.extensions_mut().insert(token);
                    Ok(res)
                })
            }
            Err(refusal) => {
                let invalid = match refusal {
                    Refusal::NoCredentials => false,
                    Refusal::Invalid(code) => {
                        tracing::debug!(reason = code, "bearer token refused");
                        true
                    }
                };
                let res = unauthorized(invalid);
                Box::pin(async move { Ok(res) })
            }
        }
    }
}
