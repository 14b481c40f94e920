//! Test vectors, named by source.

mod common;

use base64ct::Encoding;
use common::*;
use tessera_core::{Algorithm, Error, Key, KeyRing, Validation};

/// RFC 7515 Appendix A.1: the HS256 example, verified byte for byte.
#[test]
fn rfc7515_a1_hs256() {
    let secret = base64ct::Base64UrlUnpadded::decode_vec(
        "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow",
    )
    .unwrap();
    let token = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9\
        .eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ\
        .dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    let ring = KeyRing::<1>::single(Key::hs256(&secret).unwrap()).unwrap();
    let policy = Validation::new().issuer("joe").typ("JWT");
    let mut buf = [0u8; 512];
    let v = ring
        .verify(token, &policy, 1_300_819_379, &mut buf)
        .unwrap();
    assert_eq!(v.claims.exp, Some(1_300_819_380));
    assert!(v.claims.iss.unwrap().eq_str("joe"));
    assert_eq!(
        ring.verify(token, &policy, 1_300_819_380, &mut buf)
            .unwrap_err(),
        Error::Expired
    );
}

for_each_alg! {
    one_token_of_each_algorithm(alg) {
        let header = format!(r#"{{"alg":"{}","typ":"JWT"}}"#, alg.name());
        let token = forge_with(alg, SECRET, &header, &valid_payload());
        let ring = KeyRing::<1>::single(Key::new(alg, SECRET).unwrap()).unwrap();
        let mut buf = [0u8; 512];
        let v = ring.verify(&token, &Validation::new(), NOW, &mut buf).unwrap();
        assert_eq!(v.header.alg, alg);
        assert!(v.claims.sub.unwrap().eq_str("alice"));
        // The same token under a key of another algorithm fails.
        for other in Algorithm::ALL.into_iter().filter(|o| *o != alg) {
            let ring = KeyRing::<1>::single(Key::new(other, SECRET).unwrap()).unwrap();
            assert_eq!(ring.verify(&token, &Validation::new(), NOW, &mut buf).unwrap_err(), Error::Signature);
        }
    }

    signed_tokens_verify_and_match_the_reference_mac(alg) {
        let key = Key::new(alg, SECRET).unwrap();
        let mut out = [0u8; 512];
        let token = key.sign_json(valid_payload().as_bytes(), &mut out).unwrap().to_owned();
        let (input, sig) = token.rsplit_once('.').unwrap();
        assert_eq!(sig, b64(&mac(alg, SECRET, input.as_bytes())));
        let ring = KeyRing::<1>::single(key).unwrap();
        let mut buf = [0u8; 512];
        assert!(ring.verify(&token, &Validation::new(), NOW, &mut buf).is_ok());
    }
}
