//! The upstream hop: forwards a request unchanged and streams the answer back.
//!
//! Every answer says whether the upstream may have acted ([`Delivery`]): a
//! connection that failed before the request left is `NotSent`; a request that
//! may have arrived with no complete answer (no head within the deadline, a
//! reset, a body broken off or still running at the deadline) is `Unknown`.

use std::{
    convert::Infallible,
    future::Future,
    pin::Pin,
    sync::Arc,
    task::{ready, Context, Poll},
    time::Duration,
};

use axum::body::Body;
use bytes::Bytes;
use http::{
    header, uri::PathAndQuery, HeaderMap, HeaderName, HeaderValue, Request, Response, StatusCode,
    Uri, Version,
};
use http_body::Frame;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper_util::{
    client::legacy::{connect::HttpConnector, Client},
    rt::TokioExecutor,
};
use prometheus_client::metrics::histogram::Histogram;
use tokio::time::{Instant, Sleep};
use tower_service::Service;

use crate::layer::{
    announced_over,
    auth::VerifiedToken,
    idempotency::Delivery,
    problem::{Problem, BODY_TOO_LARGE, BODY_UNREADABLE},
};

const UNREACHABLE: Problem = Problem::new(
    StatusCode::BAD_GATEWAY,
    "upstream-unreachable",
    "The upstream could not be reached",
);
const TIMED_OUT: Problem = Problem::new(
    StatusCode::GATEWAY_TIMEOUT,
    "upstream-timeout",
    "The upstream did not answer in time; the request may have been carried out",
);
const NO_ANSWER: Problem = Problem::new(
    StatusCode::BAD_GATEWAY,
    "upstream-outcome-unknown",
    "The upstream connection failed after the request was sent; the request may have been carried out",
);

/// Headers that belong to one connection (RFC 9110 §7.6.1), never forwarded.
const HOP_BY_HOP: [HeaderName; 8] = [
    header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    header::PROXY_AUTHENTICATE,
    header::PROXY_AUTHORIZATION,
    HeaderName::from_static("proxy-connection"),
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
];

/// Why an upstream URL was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpstreamError(String);

impl std::fmt::Display for UpstreamError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "upstream URL {}", self.0)
    }
}

impl std::error::Error for UpstreamError {}

/// Where requests go: `http://host:port` and an optional path prefix.
#[derive(Clone, Debug)]
pub struct Upstream {
    scheme_authority: String,
    prefix: String,
}

impl Upstream {
    /// Parses `http://host[:port][/prefix]`. Only plain HTTP: the gateway sits
    /// next to its upstream.
    pub fn parse(url: &str) -> Result<Self, UpstreamError> {
        let uri: Uri = url
            .parse()
            .map_err(|e| UpstreamError(format!("`{url}`: {e}")))?;
        if uri.scheme_str() != Some("http") {
            return Err(UpstreamError(format!("`{url}`: only http:// is supported")));
        }
        let authority = uri
            .authority()
            .ok_or_else(|| UpstreamError(format!("`{url}`: no host")))?;
        if uri.query().is_some() {
            return Err(UpstreamError(format!("`{url}`: must not have a query")));
        }
        Ok(Upstream {
            scheme_authority: format!("http://{authority}"),
            prefix: uri.path().trim_end_matches('/').to_owned(),
        })
    }

    fn target(&self, path_and_query: Option<&PathAndQuery>) -> Result<Uri, http::Error> {
        let pq = path_and_query.map_or("/", PathAndQuery::as_str);
        Ok(format!("{}{}{}", self.scheme_authority, self.prefix, pq).parse()?)
    }
}

/// Removes hop-by-hop headers, including those the `Connection` header names.
fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|name| HeaderName::try_from(name.trim()).ok())
        .collect();
    for name in HOP_BY_HOP.iter().chain(&named) {
        headers.remove(name);
    }
    headers.remove(header::UPGRADE);
}

/// The header that tells the upstream which subject the gateway verified.
pub const TESSERA_SUBJECT: HeaderName = HeaderName::from_static("tessera-subject");
/// The request id: passed through when the client sends a valid one, else made.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// The client's address, put into request extensions by [`super::serve`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Peer(pub std::net::SocketAddr);

/// What the upstream is told beyond the request itself.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Forwarding {
    /// Keep client-sent `X-Forwarded-For` / `Forwarded` (a trusted proxy in
    /// front); otherwise they are replaced by the gateway's own.
    pub trust_forwarded: bool,
    /// Remove `Authorization` before forwarding (the upstream trusts
    /// `Tessera-Subject` instead of seeing the token).
    pub strip_authorization: bool,
}

/// The proxy service: method, path, query, end-to-end headers and body go
/// upstream; `Host` is the upstream's, `Tessera-Subject` the verified `sub`
/// (client copies removed), `X-Forwarded-For` the client's address, and
/// `X-Request-Id` set; the response streams back.
#[derive(Clone, Debug)]
pub struct Proxy {
    client: Client<HttpConnector, Full<Bytes>>,
    /// Shared: the proxy is cloned for every request.
    upstream: Arc<Upstream>,
    max_body: usize,
    timeout: Duration,
    forwarding: Forwarding,
    latency: Option<Histogram>,
}

impl Proxy {
    /// A proxy to `upstream` that reads request bodies up to `max_body` bytes
    /// and gives the upstream `timeout` to answer in full, body included.
    pub fn new(upstream: Upstream, max_body: usize, timeout: Duration) -> Self {
        let mut connector = HttpConnector::new();
        // Half the deadline, so a slow connect is seen as one (nothing sent,
        // released) rather than as a timeout with an unknown outcome.
        connector.set_connect_timeout(Some(timeout / 2));
        let client = Client::builder(TokioExecutor::new()).build(connector);
        Proxy {
            client,
            upstream: Arc::new(upstream),
            max_body,
            timeout,
            forwarding: Forwarding::default(),
            latency: None,
        }
    }

    /// The same proxy, timing each upstream exchange (to the response head or
    /// the failure) into `latency`.
    pub fn observe(self, latency: Histogram) -> Self {
        Proxy {
            latency: Some(latency),
            ..self
        }
    }

    /// The same proxy with `forwarding`.
    pub fn forwarding(self, forwarding: Forwarding) -> Self {
        Proxy { forwarding, ..self }
    }

    /// Rewrites the headers the upstream may trust: nothing the client sent
    /// under those names survives unless configured.
    fn upstream_headers(&self, headers: &mut HeaderMap, extensions: &http::Extensions) {
        strip_hop_by_hop(headers);
        // The client's `Host` (or an absolute-form authority) never reaches
        // the upstream: the client sets `Host` from the upstream URI.
        headers.remove(header::HOST);
        headers.remove(TESSERA_SUBJECT);
        if let Some(sub) = extensions
            .get::<VerifiedToken>()
            .and_then(VerifiedToken::sub)
            .and_then(|s| HeaderValue::from_str(s).ok())
        {
            headers.insert(TESSERA_SUBJECT, sub);
        }
        if self.forwarding.strip_authorization {
            headers.remove(header::AUTHORIZATION);
        }
        if !self.forwarding.trust_forwarded {
            headers.remove(X_FORWARDED_FOR);
            headers.remove(header::FORWARDED);
        }
        if let Some(Peer(addr)) = extensions.get::<Peer>() {
            let ip = addr.ip().to_string();
            let joined = match headers.get(X_FORWARDED_FOR).and_then(|v| v.to_str().ok()) {
                Some(before) => format!("{before}, {ip}"),
                None => ip,
            };
            if let Ok(value) = HeaderValue::from_str(&joined) {
                headers.insert(X_FORWARDED_FOR, value);
            }
        }
    }

    async fn forward(self, req: Request<Body>) -> Response<Body> {
        let (mut parts, body) = req.into_parts();
        if announced_over(&parts.headers, self.max_body) {
            return BODY_TOO_LARGE.response();
        }
        let body = match Limited::new(body, self.max_body).collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(e) if e.is::<LengthLimitError>() => return BODY_TOO_LARGE.response(),
            Err(_) => return BODY_UNREADABLE.response(),
        };
        let Ok(uri) = self.upstream.target(parts.uri.path_and_query()) else {
            return BODY_UNREADABLE.response();
        };
        self.upstream_headers(&mut parts.headers, &parts.extensions);
        parts.uri = uri;
        parts.version = Version::HTTP_11;
        let out = Request::from_parts(parts, Full::new(body));
        let start = Instant::now();
        let deadline = start + self.timeout;
        let answer = tokio::time::timeout_at(deadline, self.client.request(out)).await;
        if let Some(latency) = &self.latency {
            latency.observe(start.elapsed().as_secs_f64());
        }
        let (mut res, delivery) = match answer {
            Ok(Ok(res)) => {
                let (mut parts, body) = res.into_parts();
                strip_hop_by_hop(&mut parts.headers);
                let body = Deadline {
                    body,
                    at: Box::pin(tokio::time::sleep_until(deadline)),
                };
                return Response::from_parts(parts, Body::new(body));
            }
            Ok(Err(e)) if e.is_connect() => {
                tracing::warn!(error = %e, "upstream unreachable");
                (UNREACHABLE.response(), Delivery::NotSent)
            }
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "upstream failed after the request was sent");
                (NO_ANSWER.response(), Delivery::Unknown)
            }
            Err(_) => {
                tracing::warn!(timeout_ms = self.timeout.as_millis(), "upstream timed out");
                (TIMED_OUT.response(), Delivery::Unknown)
            }
        };
        res.extensions_mut().insert(delivery);
        res
    }
}

/// A response body that fails once the upstream's deadline passes, so a body
/// that trickles forever ends as an unknown outcome instead of holding the
/// claim past its lease.
struct Deadline<B> {
    body: B,
    at: Pin<Box<Sleep>>,
}

/// The error of a body still running at the deadline.
#[derive(Debug)]
struct BodyTimedOut;

impl std::fmt::Display for BodyTimedOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the upstream's response body did not finish in time")
    }
}

impl std::error::Error for BodyTimedOut {}

impl<B> http_body::Body for Deadline<B>
where
    B: http_body::Body<Data = Bytes> + Unpin,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if let Poll::Ready(frame) = Pin::new(&mut self.body).poll_frame(cx) {
            return Poll::Ready(frame.map(|f| f.map_err(Into::into)));
        }
        ready!(self.at.as_mut().poll(cx));
        Poll::Ready(Some(Err(Box::new(BodyTimedOut))))
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

impl Service<Request<Body>> for Proxy {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        let this = self.clone();
        Box::pin(async move { Ok(this.forward(req).await) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn upstream_urls() {
        let up = Upstream::parse("http://127.0.0.1:9000/api/").unwrap();
        let pq = PathAndQuery::from_static("/orders?x=1");
        assert_eq!(
            up.target(Some(&pq)).unwrap(),
            "http://127.0.0.1:9000/api/orders?x=1"
        );
        assert!(Upstream::parse("https://example.com").is_err());
        assert!(Upstream::parse("http://h/?q=1").is_err());
        assert!(Upstream::parse("127.0.0.1:9000").is_err());
    }

    #[test]
    fn strips_hop_by_hop_and_connection_named_headers() {
        let mut h = HeaderMap::new();
        for (n, v) in [
            ("connection", "close, x-private"),
            ("x-private", "1"),
            ("te", "trailers"),
            ("x-kept", "2"),
        ] {
            h.insert(HeaderName::from_static(n), HeaderValue::from_static(v));
        }
        strip_hop_by_hop(&mut h);
        assert_eq!(
            h.keys().map(HeaderName::as_str).collect::<Vec<_>>(),
            ["x-kept"]
        );
    }
}
