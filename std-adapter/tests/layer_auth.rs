//! The bearer layer, branch by branch, through `tower::ServiceExt::oneshot`.

mod http_support;

use std::convert::Infallible;

use axum::{body::Body, routing::get, Router};
use http::{header, Request, Response, StatusCode};
use http_support::{now, read, ring, token, token_for, SECRET};
use serde_json::json;
use tessera_std::{
    core::Key,
    layer::auth::{BearerAuthLayer, Ring, VerifiedToken},
};
use tower::{service_fn, ServiceBuilder, ServiceExt};

/// Echoes the verified subject; a request reaching it without a token panics
/// the test, so "inner not called" is checked by every refusal.
async fn echo(req: Request<Body>) -> Result<Response<Body>, Infallible> {
    let token = req
        .extensions()
        .get::<VerifiedToken>()
        .expect("inner service called without a verified token");
    Ok(Response::new(Body::from(
        token.sub().unwrap_or("-").to_owned(),
    )))
}

async fn call(
    layer: BearerAuthLayer,
    authorization: &[&str],
) -> (StatusCode, Option<String>, String) {
    let svc = ServiceBuilder::new().layer(layer).service(service_fn(echo));
    let mut req = Request::builder().uri("/");
    for value in authorization {
        req = req.header(header::AUTHORIZATION, *value);
    }
    let res = svc.oneshot(req.body(Body::empty()).unwrap()).await.unwrap();
    let (status, headers, body) = read(res).await;
    let challenge = headers
        .get(header::WWW_AUTHENTICATE)
        .map(|v| v.to_str().unwrap().to_owned());
    (status, challenge, body)
}

fn layer() -> BearerAuthLayer {
    BearerAuthLayer::new(ring())
}

const INVALID: Option<&str> = Some(r#"Bearer error="invalid_token""#);

#[tokio::test]
async fn valid_token_reaches_the_inner_service_with_its_claims() {
    let t = token_for("alice");
    assert_eq!(
        call(layer(), &[&format!("Bearer {t}")]).await,
        (StatusCode::OK, None, "alice".into())
    );
    // The scheme is case-insensitive (RFC 7235 §2.1).
    assert_eq!(
        call(layer(), &[&format!("bearer {t}")]).await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn no_credentials_get_a_bare_challenge() {
    for auth in [&[][..], &["Basic YWxhZGRpbjpvcGVuc2VzYW1l"], &["Bearer"]] {
        let (status, challenge, body) = call(layer(), auth).await;
        assert_eq!(
            (status, challenge.as_deref()),
            (StatusCode::UNAUTHORIZED, Some("Bearer")),
            "{auth:?}"
        );
        assert!(body.contains("\"status\":401"), "{body}");
    }
}

#[tokio::test]
async fn every_failed_check_is_the_same_opaque_401() {
    let now = now();
    let other_key = jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &json!({"sub": "a", "exp": now + 60}),
        &jsonwebtoken::EncodingKey::from_secret(b"another secret, also 32 bytes!!!"),
    )
    .unwrap();
    let cases = [
        ("bad signature", other_key),
        ("expired", token(&json!({"sub": "a", "exp": now - 1}))),
        ("no exp", token(&json!({"sub": "a"}))),
        (
            "not yet valid",
            token(&json!({"sub": "a", "exp": now + 60, "nbf": now + 30})),
        ),
        (
            "audience unasked",
            token(&json!({"sub": "a", "exp": now + 60, "aud": "x"})),
        ),
        ("garbage", "not.a.token".into()),
        (
            "too long",
            format!(
                "{}.{}.{}",
                "a".repeat(4000),
                "b".repeat(4000),
                "c".repeat(200)
            ),
        ),
    ];
    let mut bodies = Vec::new();
    for (name, t) in cases {
        let (status, challenge, body) = call(layer(), &[&format!("Bearer {t}")]).await;
        assert_eq!(
            (status, challenge.as_deref()),
            (StatusCode::UNAUTHORIZED, INVALID),
            "{name}"
        );
        bodies.push(body);
    }
    // No detail that tells an attacker which check failed.
    assert!(bodies.windows(2).all(|w| w[0] == w[1]), "{bodies:?}");
    for word in ["expired", "signature", "audience", "nbf", "long"] {
        assert!(!bodies[0].contains(word), "{}", bodies[0]);
    }
}

#[tokio::test]
async fn two_authorization_headers_are_refused() {
    let t = token_for("a");
    let (status, challenge, _) =
        call(layer(), &[&format!("Bearer {t}"), &format!("Bearer {t}")]).await;
    assert_eq!(
        (status, challenge.as_deref()),
        (StatusCode::UNAUTHORIZED, INVALID)
    );
}

#[tokio::test]
async fn issuer_audience_and_leeway_policy() {
    let now = now();
    let layer = || {
        layer()
            .issuer("https://issuer.example")
            .audience("orders")
            .leeway(30)
            .unwrap()
    };
    let good = token(
        &json!({"sub": "a", "iss": "https://issuer.example", "aud": ["x", "orders"], "exp": now - 10}),
    );
    assert_eq!(
        call(layer(), &[&format!("Bearer {good}")]).await.0,
        StatusCode::OK,
        "inside the leeway"
    );
    let late = token(
        &json!({"sub": "a", "iss": "https://issuer.example", "aud": "orders", "exp": now - 31}),
    );
    let wrong_iss = token(
        &json!({"sub": "a", "iss": "https://evil.example", "aud": "orders", "exp": now + 60}),
    );
    let wrong_aud = token(
        &json!({"sub": "a", "iss": "https://issuer.example", "aud": "billing", "exp": now + 60}),
    );
    for t in [late, wrong_iss, wrong_aud] {
        assert_eq!(
            call(layer(), &[&format!("Bearer {t}")]).await.1.as_deref(),
            INVALID
        );
    }
    assert!(BearerAuthLayer::new(ring()).leeway(601).is_err());
}

#[tokio::test]
async fn a_key_ring_selects_by_kid() {
    let mut ring = Ring::new();
    ring.add(Key::hs256(SECRET).unwrap().with_kid("old").unwrap())
        .unwrap();
    ring.add(
        Key::hs256(b"the new key, thirty-two bytes...")
            .unwrap()
            .with_kid("new")
            .unwrap(),
    )
    .unwrap();
    let layer = BearerAuthLayer::new(ring);
    let mut header = jsonwebtoken::Header {
        kid: Some("new".into()),
        ..Default::default()
    };
    let claims = json!({"sub": "k", "exp": now() + 60});
    let t = jsonwebtoken::encode(
        &header,
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(b"the new key, thirty-two bytes..."),
    )
    .unwrap();
    assert_eq!(
        call(layer.clone(), &[&format!("Bearer {t}")]).await.0,
        StatusCode::OK
    );
    header.kid = Some("gone".into());
    let t = jsonwebtoken::encode(
        &header,
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(b"the new key, thirty-two bytes..."),
    )
    .unwrap();
    assert_eq!(
        call(layer, &[&format!("Bearer {t}")]).await.1.as_deref(),
        INVALID
    );
}

#[tokio::test]
async fn the_extractor_reads_claims_and_fails_closed_without_the_layer() {
    async fn me(token: VerifiedToken) -> String {
        let custom: serde_json::Value = token.claims().unwrap();
        format!(
            "{} {} {}",
            token.sub().unwrap(),
            token.iat().unwrap(),
            custom["role"]
        )
    }
    let t = token(&json!({"sub": "caf\u{e9}", "iat": 7, "exp": now() + 60, "role": "admin"}));
    let app = Router::new().route("/me", get(me));
    let req = || {
        Request::builder()
            .uri("/me")
            .header(header::AUTHORIZATION, format!("Bearer {t}"))
            .body(Body::empty())
            .unwrap()
    };
    let (status, _, body) = read(app.clone().layer(layer()).oneshot(req()).await.unwrap()).await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::OK, "café 7 \"admin\"")
    );
    let (status, headers, _) = read(app.oneshot(req()).await.unwrap()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(headers.contains_key(header::WWW_AUTHENTICATE));
}
