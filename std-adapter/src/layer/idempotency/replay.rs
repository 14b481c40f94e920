//! What is stored from a first response, and the replay built from it.

use axum::body::Body;
use http::{header, HeaderMap, HeaderName, HeaderValue, Response, StatusCode};

use crate::{
    layer::problem::{Problem, PROBLEM_JSON},
    store::StoredResponse,
};

/// The marker on a replayed response.
pub const IDEMPOTENT_REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

/// Headers that describe the representation and are safe to hand to a retry.
/// Cookies, dates, lengths, hop-by-hop and tracing headers are not stored.
const STORED: [HeaderName; 9] = [
    header::CONTENT_TYPE,
    header::CONTENT_ENCODING,
    header::CONTENT_LANGUAGE,
    header::CONTENT_DISPOSITION,
    header::LOCATION,
    header::ETAG,
    header::LAST_MODIFIED,
    header::CACHE_CONTROL,
    header::LINK,
];

/// The stored form of a response whose body fit the limit, with the
/// representation headers and any of `extra`.
pub(crate) fn stored(
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
    extra: &[HeaderName],
) -> StoredResponse {
    let headers = headers
        .iter()
        .filter(|(name, _)| STORED.contains(name) || extra.contains(name))
        .map(|(name, value)| (name.as_str().to_owned(), value.as_bytes().to_vec()))
        .collect();
    StoredResponse {
        status: status.as_u16(),
        headers,
        body: body.to_vec(),
    }
}

/// The stored form of a response too large to keep: a `502` problem document
/// that names the original status, so that a retry learns the request was
/// carried out without running it again.
pub(crate) fn too_large(status: StatusCode) -> StoredResponse {
    let problem = Problem::new(
        StatusCode::BAD_GATEWAY,
        "response-not-stored",
        "The request was carried out, but its response was too large to keep for retries",
    );
    StoredResponse {
        status: problem.status.as_u16(),
        headers: vec![
            (
                header::CONTENT_TYPE.as_str().to_owned(),
                PROBLEM_JSON.as_bytes().to_vec(),
            ),
            (
                ORIGINAL_STATUS.as_str().to_owned(),
                status.as_str().as_bytes().to_vec(),
            ),
        ],
        body: problem.body(),
    }
}

/// On a `response-not-stored` replay: the status the first answer had.
pub const ORIGINAL_STATUS: HeaderName = HeaderName::from_static("tessera-original-status");

/// The replayed response, marked `Idempotent-Replayed: true`. A record that no
/// longer decodes as a response is a `500`, never a second run.
pub(crate) fn response(stored: StoredResponse) -> Response<Body> {
    let Ok(status) = StatusCode::from_u16(stored.status) else {
        return corrupt();
    };
    let mut res = Response::new(Body::from(stored.body));
    *res.status_mut() = status;
    for (name, value) in stored.headers {
        let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::from_bytes(&value))
        else {
            return corrupt();
        };
        res.headers_mut().append(name, value);
    }
    marked(res)
}

/// `res` marked `Idempotent-Replayed: true`: an answer from the record, not a run.
pub(crate) fn marked(mut res: Response<Body>) -> Response<Body> {
    res.headers_mut()
        .insert(IDEMPOTENT_REPLAYED, HeaderValue::from_static("true"));
    res
}

fn corrupt() -> Response<Body> {
    tracing::error!("stored idempotent response does not decode");
    Problem::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "stored-response-corrupt",
        "The stored response could not be replayed",
    )
    .response()
}
