//! `tessera gateway --alg v4.local`: PASETO bearer tokens authenticate, `sub`
//! scopes idempotency keys, and a retry replays, as with JWS.

mod gateway_support;
mod http_support;

use gateway_support::Gateway;
use http_support::{now, token_for, Upstream, SECRET};
use reqwest::{Client, Response, StatusCode};
use tessera_std::core::paseto::{format_date, LocalKey, Options};

/// A `v4.local` token for `sub` under the gateway's key file ([`SECRET`], 32 bytes).
fn paseto_for(sub: &str, implicit: &[u8]) -> String {
    let (mut iat, mut exp) = ([0u8; 20], [0u8; 20]);
    let claims = format!(
        r#"{{"sub":"{sub}","iat":"{}","exp":"{}"}}"#,
        format_date(now(), &mut iat).unwrap(),
        format_date(now() + 300, &mut exp).unwrap()
    );
    let mut random = [0u8; 32];
    getrandom::fill(&mut random).unwrap();
    let mut out = [0u8; 512];
    LocalKey::from_bytes(*SECRET)
        .encrypt_json(
            claims.as_bytes(),
            &random,
            &Options::new().implicit(implicit),
            &mut out,
        )
        .unwrap()
        .to_owned()
}

async fn post(client: &Client, gw: &Gateway, token: &str, key: &str) -> Response {
    client
        .post(gw.url("/orders"))
        .bearer_auth(token)
        .header("idempotency-key", key)
        .body("{}")
        .send()
        .await
        .unwrap()
}

fn replayed(res: &Response) -> bool {
    res.headers()
        .get("idempotent-replayed")
        .is_some_and(|v| v == "true")
}

#[tokio::test]
async fn paseto_tokens_authenticate_and_scope_idempotency() {
    let up = Upstream::start().await;
    let gw = Gateway::start(&up.url(), &["--alg", "v4.local", "--implicit", "tenant-7"]);
    let client = Client::new();
    let alice = paseto_for("alice", b"tenant-7");
    let first = post(&client, &gw, &alice, "k1").await;
    assert!(
        first.status().is_success() && !replayed(&first),
        "{first:?}"
    );
    // A retry, even with a freshly encrypted token for the same subject, replays.
    let again = post(&client, &gw, &paseto_for("alice", b"tenant-7"), "k1").await;
    assert!(replayed(&again), "{again:?}");
    // Another subject with the same key is another request.
    let bob = post(&client, &gw, &paseto_for("bob", b"tenant-7"), "k1").await;
    assert!(bob.status().is_success() && !replayed(&bob), "{bob:?}");
    assert_eq!(up.hits(), 2);
    // Another implicit assertion, or a JWS token: 401, upstream untouched.
    for token in [paseto_for("alice", b"tenant-8"), token_for("alice")] {
        let res = post(&client, &gw, &token, "k2").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!(up.hits(), 2);
}
