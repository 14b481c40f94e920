//! The bearer layer with PASETO v4 keys: the token's purpose must be the
//! key's, the footer and implicit assertion are enforced, and the verified
//! `sub`/`iat` reach the inner service as for JWS.

mod http_support;

use std::convert::Infallible;

use axum::body::Body;
use http::{header, Request, Response, StatusCode};
use http_support::{now, read};
use tessera_std::{
    core::paseto::{format_date, LocalKey, Options, SecretKey},
    layer::auth::{BearerAuthLayer, TokenKeys, VerifiedToken},
};
use tower::{service_fn, ServiceBuilder, ServiceExt};

const LOCAL: [u8; 32] = [0x21; 32];
const SEED: [u8; 32] = [0x31; 32];

/// Echoes `sub` and `iat`; reaching it without a verified token panics the test.
async fn echo(req: Request<Body>) -> Result<Response<Body>, Infallible> {
    let token = req
        .extensions()
        .get::<VerifiedToken>()
        .expect("inner service called without a verified token");
    let body = format!(
        "{} {}",
        token.sub().unwrap_or("-"),
        token.iat().unwrap_or(0)
    );
    Ok(Response::new(Body::from(body)))
}

async fn call(layer: BearerAuthLayer, token: &str) -> (StatusCode, String) {
    let svc = ServiceBuilder::new().layer(layer).service(service_fn(echo));
    let req = Request::builder()
        .uri("/")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let (status, _, body) = read(svc.oneshot(req).await.unwrap()).await;
    (status, body)
}

/// `iat` = now, `exp` = now + 60 s, as RFC 3339 UTC.
fn claims(now: u64) -> String {
    let (mut iat, mut exp) = ([0u8; 20], [0u8; 20]);
    let iat = format_date(now, &mut iat).unwrap();
    let exp = format_date(now + 60, &mut exp).unwrap();
    format!(r#"{{"sub":"alice","iat":"{iat}","exp":"{exp}"}}"#)
}

fn local_token(options: &Options<'_>) -> String {
    let mut out = [0u8; 512];
    LocalKey::from_bytes(LOCAL)
        .encrypt_json(claims(now()).as_bytes(), &[7; 32], options, &mut out)
        .unwrap()
        .to_owned()
}

fn public_token(options: &Options<'_>) -> String {
    let mut out = [0u8; 512];
    SecretKey::from_seed(&SEED)
        .sign_json(claims(now()).as_bytes(), options, &mut out)
        .unwrap()
        .to_owned()
}

fn local_layer() -> BearerAuthLayer {
    BearerAuthLayer::with_keys(TokenKeys::Local(LocalKey::from_bytes(LOCAL)))
}

fn public_layer() -> BearerAuthLayer {
    BearerAuthLayer::with_keys(TokenKeys::Public(SecretKey::from_seed(&SEED).public_key()))
}

#[tokio::test]
async fn v4_tokens_reach_the_inner_service_with_sub_and_iat() {
    let none = Options::new();
    for (layer, token) in [
        (local_layer(), local_token(&none)),
        (public_layer(), public_token(&none)),
    ] {
        let (status, body) = call(layer, &token).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (sub, iat) = body.split_once(' ').unwrap();
        assert_eq!(sub, "alice");
        assert!(now().abs_diff(iat.parse().unwrap()) <= 2, "{body}");
    }
}

#[tokio::test]
async fn the_other_purpose_and_jws_are_refused() {
    let none = Options::new();
    assert_eq!(
        call(local_layer(), &public_token(&none)).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        call(public_layer(), &local_token(&none)).await.0,
        StatusCode::UNAUTHORIZED
    );
    let jws = http_support::token_for("alice");
    assert_eq!(call(local_layer(), &jws).await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn footer_and_implicit_assertion_are_enforced() {
    let bound = Options::new().footer(b"kid-1").implicit(b"tenant-7");
    for (layer, token) in [
        (local_layer(), local_token(&bound)),
        (public_layer(), public_token(&bound)),
    ] {
        let strict = layer.clone().footer("kid-1").implicit("tenant-7");
        assert_eq!(call(strict, &token).await.0, StatusCode::OK);
        let other_footer = layer.clone().footer("kid-2").implicit("tenant-7");
        assert_eq!(call(other_footer, &token).await.0, StatusCode::UNAUTHORIZED);
        let no_implicit = layer.clone().footer("kid-1");
        assert_eq!(call(no_implicit, &token).await.0, StatusCode::UNAUTHORIZED);
    }
}
