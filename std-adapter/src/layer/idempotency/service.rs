//! The service: claims the key, then hands the claimed request to a task that
//! owns the ticket and settles it whatever happens to the caller.

use std::{
    sync::Arc,
    task::{Context, Poll},
    time::{SystemTime, UNIX_EPOCH},
};

use axum::body::Body;
use bytes::{Bytes, BytesMut};
use futures_util::{stream, StreamExt};
use http::{header, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use sha2::{Digest, Sha256};
use tokio::sync::oneshot;
use tokio_util::task::TaskTracker;
use tower_service::Service;

use super::{
    key,
    layer::Settings,
    outcome::{Delivery, Outcome, ABANDONED, BROKEN_RESPONSE, HANDLER_FAILED},
    replay,
    scope::NoScope,
};
use crate::{
    layer::{
        announced_over,
        auth::{service::unauthorized, VerifiedToken},
        problem::{Problem, BODY_TOO_LARGE, BODY_UNREADABLE},
        ResponseFuture,
    },
    store::{Begin, Fingerprint, IdempotencyStore, Request as Claim, StoredResponse},
};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

const MISSING_KEY: Problem = Problem::new(
    StatusCode::BAD_REQUEST,
    "idempotency-key-missing",
    "POST and PATCH need an Idempotency-Key header",
);
const NO_SUBJECT: Problem = Problem::new(
    StatusCode::FORBIDDEN,
    "token-without-subject",
    "The request has no principal (the token's subject) to scope idempotency keys",
);
const IN_FLIGHT: Problem = Problem::new(
    StatusCode::CONFLICT,
    "idempotency-key-in-flight",
    "A request with this Idempotency-Key is still running",
);
const MISMATCH: Problem = Problem::new(
    StatusCode::UNPROCESSABLE_ENTITY,
    "idempotency-key-reused",
    "This Idempotency-Key was used for a different request",
);
const STALE: Problem = Problem::new(
    StatusCode::CONFLICT,
    "idempotency-key-stale",
    "The request is too old or too far ahead to be checked for duplicates; retry with a fresh token",
);
const UNAVAILABLE: Problem = Problem::new(
    StatusCode::SERVICE_UNAVAILABLE,
    "idempotency-store-unavailable",
    "Idempotency keys cannot be checked now",
);
const METHOD: Problem = Problem::new(
    StatusCode::NOT_IMPLEMENTED,
    "method-not-implemented",
    "Only GET, HEAD, OPTIONS, POST, PUT, PATCH and DELETE are served (methods are case-sensitive)",
);
const FULL: Problem = Problem::new(
    StatusCode::SERVICE_UNAVAILABLE,
    "idempotency-store-full",
    "No room to remember another Idempotency-Key now",
);
const QUOTA: Problem = Problem::new(
    StatusCode::TOO_MANY_REQUESTS,
    "idempotency-key-quota",
    "This subject holds as many live Idempotency-Keys as it may; retry when one ends",
);
const LOST: Problem = Problem::new(
    StatusCode::INTERNAL_SERVER_ERROR,
    "idempotency-task-lost",
    "The request's task ended without an answer; a retry learns its outcome",
);

/// Wraps a service; built by [`super::IdempotencyLayer`].
pub struct Idempotency<S, St> {
    inner: S,
    store: Arc<St>,
    settings: Arc<Settings>,
    tasks: TaskTracker,
}

impl<S: Clone, St> Clone for Idempotency<S, St> {
    fn clone(&self) -> Self {
        Idempotency {
            inner: self.inner.clone(),
            store: Arc::clone(&self.store),
            settings: Arc::clone(&self.settings),
            tasks: self.tasks.clone(),
        }
    }
}

impl<S, St> Idempotency<S, St> {
    pub(crate) fn new(
        inner: S,
        store: Arc<St>,
        settings: Arc<Settings>,
        tasks: TaskTracker,
    ) -> Self {
        Idempotency {
            inner,
            store,
            settings,
            tasks,
        }
    }
}

impl<S, St, B, ResBody> Service<Request<B>> for Idempotency<S, St>
where
    S: Service<Request<Body>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    St: IdempotencyStore,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
    ResBody: http_body::Body<Data = Bytes> + Send + 'static,
    ResBody::Error: Into<BoxError>,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        // The ready service runs this request; the fresh clone waits for the next.
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        let (store, settings, tasks) = (
            Arc::clone(&self.store),
            Arc::clone(&self.settings),
            self.tasks.clone(),
        );
        Box::pin(async move {
            let (outcome, res) = run(inner, store, settings, tasks, req.map(Body::new)).await?;
            Ok(marked(outcome, res))
        })
    }
}

async fn pass<S, ResBody>(mut inner: S, req: Request<Body>) -> Result<Response<Body>, S::Error>
where
    S: Service<Request<Body>, Response = Response<ResBody>>,
    ResBody: http_body::Body<Data = Bytes> + Send + 'static,
    ResBody::Error: Into<BoxError>,
{
    Ok(inner.call(req).await?.map(Body::new))
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// `res` with the layer's decision in its extensions.
fn marked(outcome: Outcome, mut res: Response<Body>) -> Response<Body> {
    res.extensions_mut().insert(outcome);
    res
}

/// A `503` that says when to come back.
fn unavailable(problem: &Problem, settings: &Settings) -> Response<Body> {
    retry_later(problem, settings.retry_after)
}

/// A refusal until a record in the way ends: `Retry-After` from the store
/// (the layer's default when it cannot tell or fails).
async fn blocked<St: IdempotencyStore>(
    problem: &Problem,
    store: &St,
    claim: &Claim<'_>,
    settings: &Settings,
) -> Response<Body> {
    let after = match store.retry_after(claim).await {
        Ok(Some(after)) => after,
        Ok(None) => settings.retry_after,
        Err(e) => {
            tracing::debug!(error = %e, "no Retry-After from the store");
            settings.retry_after
        }
    };
    retry_later(problem, after)
}

/// `problem` with `Retry-After: after`, in whole seconds rounded up, at least 1.
fn retry_later(problem: &Problem, after: std::time::Duration) -> Response<Body> {
    let mut res = problem.response();
    let secs = after
        .as_secs()
        .saturating_add(u64::from(after.subsec_nanos() > 0));
    res.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
    res
}

/// The methods served. Any other (`post`, `Post`, `TRACE`, WebDAV …) is
/// refused: an upstream that upper-cases methods would otherwise run a POST
/// that skipped the key check.
fn served(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET
            | Method::HEAD
            | Method::OPTIONS
            | Method::POST
            | Method::PUT
            | Method::PATCH
            | Method::DELETE
    )
}

async fn run<S, St, ResBody>(
    inner: S,
    store: Arc<St>,
    settings: Arc<Settings>,
    tasks: TaskTracker,
    req: Request<Body>,
) -> Result<(Outcome, Response<Body>), S::Error>
where
    S: Service<Request<Body>, Response = Response<ResBody>> + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    St: IdempotencyStore,
    ResBody: http_body::Body<Data = Bytes> + Send + 'static,
    ResBody::Error: Into<BoxError>,
{
    if !served(req.method()) {
        return Ok((Outcome::Method, METHOD.response()));
    }
    if !matches!(*req.method(), Method::POST | Method::PATCH) {
        return Ok((Outcome::Pass, pass(inner, req).await?));
    }
    let key = key::parse(req.headers());
    if matches!(key, Ok(None)) && !settings.require_key {
        return Ok((Outcome::Pass, pass(inner, req).await?));
    }
    let (parts, body) = req.into_parts();
    let scope = match settings.scope.scope(&parts) {
        Ok(scope) => scope,
        Err(NoScope::Unauthenticated) => return Ok((Outcome::Unauthorized, unauthorized(false))),
        Err(NoScope::Forbidden) => return Ok((Outcome::BadRequest, NO_SUBJECT.response())),
    };
    let key = match key {
        Ok(Some(key)) => key,
        Ok(None) => return Ok((Outcome::MissingKey, MISSING_KEY.response())),
        Err(e) => return Ok((Outcome::BadRequest, e.problem().response())),
    };
    // Refused before reading, so `Expect: 100-continue` gets 413, not 100.
    if announced_over(&parts.headers, settings.max_request_bytes) {
        return Ok((Outcome::BadRequest, BODY_TOO_LARGE.response()));
    }

    let body = match Limited::new(body, settings.max_request_bytes)
        .collect()
        .await
    {
        Ok(collected) => collected.to_bytes(),
        Err(e) if e.is::<LengthLimitError>() => {
            return Ok((Outcome::BadRequest, BODY_TOO_LARGE.response()))
        }
        Err(_) => return Ok((Outcome::BadRequest, BODY_UNREADABLE.response())),
    };
    let target = parts
        .uri
        .path_and_query()
        .map_or_else(|| parts.uri.path(), |pq| pq.as_str());
    let fingerprint = Fingerprint::of(&[
        parts.method.as_str().as_bytes(),
        target.as_bytes(),
        &Sha256::digest(&body),
    ]);
    // The same token carries the same `iat` on every retry: see the module docs.
    let stamp = parts
        .extensions
        .get::<VerifiedToken>()
        .and_then(VerifiedToken::iat)
        .map_or_else(now_ms, |iat| iat.saturating_mul(1000));
    let claim = Claim {
        scope: &scope,
        key: &key,
        fingerprint,
        stamp,
        keep_until: None,
    };

    let begun = store.begin(&claim).await;
    if let Ok(outcome) = &begun {
        tracing::debug!(outcome = outcome.name(), "idempotency key checked");
    }
    let ticket = match begun {
        Ok(Begin::Fresh(ticket)) => ticket,
        Ok(Begin::Replay(stored)) => return Ok((Outcome::Replay, replay::response(stored))),
        Ok(Begin::InFlight) => return Ok((Outcome::InFlight, IN_FLIGHT.response())),
        Ok(Begin::Abandoned) => {
            return Ok((Outcome::Abandoned, replay::marked(ABANDONED.response())))
        }
        Ok(Begin::Mismatch) => return Ok((Outcome::Mismatch, MISMATCH.response())),
        Ok(Begin::Stale) => return Ok((Outcome::Stale, STALE.response())),
        Ok(Begin::Full) => {
            let res = blocked(&FULL, &*store, &claim, &settings).await;
            return Ok((Outcome::Full, res));
        }
        Ok(Begin::Quota) => {
            let res = blocked(&QUOTA, &*store, &claim, &settings).await;
            return Ok((Outcome::Quota, res));
        }
        Err(e) => {
            tracing::warn!(error = %e, "idempotency store cannot decide");
            return Ok((
                Outcome::StoreUnavailable,
                unavailable(&UNAVAILABLE, &settings),
            ));
        }
    };

    // From here on the request is claimed. The task owns the ticket and runs
    // to the end even if this future is dropped (the client went away): the
    // outcome is stored or the key released, never left to the lease.
    let (answer, answered) = oneshot::channel();
    let req = Request::from_parts(parts, Body::from(body));
    tasks.spawn(async move {
        let res = claimed(inner, &*store, &settings, ticket, req).await;
        // The caller may be gone; the outcome is settled either way.
        let _ = answer.send(res);
    });
    answered
        .await
        .unwrap_or_else(|_| Ok((Outcome::UpstreamUnknown, LOST.response())))
}

/// Runs the claimed request and settles its ticket: stores the response,
/// stores an unknown outcome, or releases the key when the work provably did
/// not happen. Returns what the first caller gets.
async fn claimed<S, St, ResBody>(
    inner: S,
    store: &St,
    settings: &Settings,
    ticket: St::Ticket,
    req: Request<Body>,
) -> Result<(Outcome, Response<Body>), S::Error>
where
    S: Service<Request<Body>, Response = Response<ResBody>>,
    St: IdempotencyStore,
    ResBody: http_body::Body<Data = Bytes> + Send + 'static,
    ResBody::Error: Into<BoxError>,
{
    let res = match pass(inner, req).await {
        Ok(res) => res,
        Err(e) => {
            // The handler may have acted before failing.
            keep(store, ticket, stored_problem(&HANDLER_FAILED)).await;
            return Err(e);
        }
    };
    let limit = settings
        .max_stored_body
        .min(store.config().max_response_bytes);
    match res.extensions().get::<Delivery>() {
        Some(Delivery::NotSent) => {
            release(store, ticket).await;
            return Ok((Outcome::Released, res));
        }
        Some(Delivery::Unknown) => {
            // Stored as answered; an answer too large or broken to keep is
            // stored as the generic unknown outcome.
            let (parts, body) = res.into_parts();
            let res = match capture(body, limit).await {
                Captured::Whole(bytes) => {
                    let stored = replay::stored(parts.status, &parts.headers, &bytes, &[]);
                    keep(store, ticket, stored).await;
                    Response::from_parts(parts, Body::from(bytes))
                }
                Captured::Overflow(..) | Captured::Broken => {
                    keep(store, ticket, stored_problem(&HANDLER_FAILED)).await;
                    HANDLER_FAILED.response()
                }
            };
            return Ok((Outcome::UpstreamUnknown, res));
        }
        None => {}
    }
    let (parts, body) = res.into_parts();
    if parts.status.is_server_error() || parts.status == StatusCode::TOO_MANY_REQUESTS {
        // A complete refusal: the handler says it did not act; a retry may.
        release(store, ticket).await;
        return Ok((Outcome::Released, Response::from_parts(parts, body)));
    }
    match capture(body, limit).await {
        Captured::Whole(bytes) => {
            let stored = replay::stored(
                parts.status,
                &parts.headers,
                &bytes,
                &settings.replay_headers,
            );
            let stored = if stored.stored_size() > store.config().max_response_bytes {
                replay::too_large(parts.status)
            } else {
                stored
            };
            keep(store, ticket, stored).await;
            Ok((
                Outcome::Fresh,
                Response::from_parts(parts, Body::from(bytes)),
            ))
        }
        Captured::Overflow(head, rest) => {
            keep(store, ticket, replay::too_large(parts.status)).await;
            let body = stream::iter([Ok::<_, axum::Error>(head)]).chain(rest.into_data_stream());
            Ok((
                Outcome::Fresh,
                Response::from_parts(parts, Body::from_stream(body)),
            ))
        }
        Captured::Broken => {
            keep(store, ticket, stored_problem(&BROKEN_RESPONSE)).await;
            Ok((Outcome::UpstreamUnknown, BROKEN_RESPONSE.response()))
        }
    }
}

/// A response body read up to the storage limit.
enum Captured {
    Whole(Bytes),
    /// Over the limit: what was read, and the rest still to stream.
    Overflow(Bytes, Body),
    /// The body failed before its end.
    Broken,
}

async fn capture<B>(body: B, limit: usize) -> Captured
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    let mut body = Body::new(body);
    let mut buf = BytesMut::new();
    loop {
        match body.frame().await {
            None => return Captured::Whole(buf.freeze()),
            Some(Err(_)) => return Captured::Broken,
            Some(Ok(frame)) => {
                if let Ok(data) = frame.into_data() {
                    buf.extend_from_slice(&data);
                    if buf.len() > limit {
                        return Captured::Overflow(buf.freeze(), body);
                    }
                }
            }
        }
    }
}

fn stored_problem(problem: &Problem) -> StoredResponse {
    let res = problem.response();
    replay::stored(problem.status, res.headers(), &problem.body(), &[])
}

/// Releases the key: only when the work provably did not happen. If the store
/// refuses until the lease ends, the record is abandoned (outcome unknown).
async fn release<St: IdempotencyStore>(store: &St, ticket: St::Ticket) {
    if let Err(e) = store.abort(ticket).await {
        tracing::warn!(error = %e, "could not release idempotency key; retries will see an unknown outcome");
    }
}

/// Stores the outcome; if the store refuses until the lease ends, retries see
/// the record abandoned (outcome unknown), never a second run.
async fn keep<St: IdempotencyStore>(store: &St, ticket: St::Ticket, stored: StoredResponse) {
    if let Err(e) = store.complete(ticket, stored).await {
        tracing::warn!(error = %e, "could not store the outcome; retries will see it as unknown");
    }
}
