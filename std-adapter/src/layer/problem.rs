//! Problem documents (RFC 9457): every rejection the layers answer with.

use axum::body::Body;
use http::{header, HeaderValue, Response, StatusCode};

/// Media type of a problem document.
pub(crate) const PROBLEM_JSON: &str = "application/problem+json";

/// A request body over the configured limit.
pub(crate) const BODY_TOO_LARGE: Problem = Problem::new(
    StatusCode::PAYLOAD_TOO_LARGE,
    "body-too-large",
    "The request body is too large",
);

/// A request body that failed while being read.
pub(crate) const BODY_UNREADABLE: Problem = Problem::new(
    StatusCode::BAD_REQUEST,
    "body-unreadable",
    "The request body could not be read",
);

/// A kind of rejection: its status, its stable `type` suffix and its title.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Problem {
    pub(crate) status: StatusCode,
    pub(crate) kind: &'static str,
    pub(crate) title: &'static str,
}

impl Problem {
    pub(crate) const fn new(status: StatusCode, kind: &'static str, title: &'static str) -> Self {
        Problem {
            status,
            kind,
            title,
        }
    }

    /// The `type` URI: a tag URI, stable and resolvable by nobody on purpose.
    pub(crate) fn type_uri(&self) -> String {
        format!("tag:tessera,2026:{}", self.kind)
    }

    /// The JSON body: `type`, `title`, `status`, in that order.
    pub(crate) fn body(&self) -> Vec<u8> {
        #[derive(serde::Serialize)]
        struct Doc<'a> {
            r#type: &'a str,
            title: &'a str,
            status: u16,
        }
        let doc = Doc {
            r#type: &self.type_uri(),
            title: self.title,
            status: self.status.as_u16(),
        };
        // Serializing three plain fields cannot fail.
        serde_json::to_vec(&doc).unwrap_or_default()
    }

    /// The full response.
    pub(crate) fn response(&self) -> Response<Body> {
        let mut res = Response::new(Body::from(self.body()));
        *res.status_mut() = self.status;
        res.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        res
    }
}
