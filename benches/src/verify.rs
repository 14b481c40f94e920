//! One verifier per library, each set up once the way its documentation
//! suggests, each doing the same job: MAC, `exp`/`nbf`/`iss`/`aud` checks, and
//! the claims as a typed struct including the custom `scope`.

use std::collections::HashSet;

use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Sha256, Sha384, Sha512};
use tessera_core::{Algorithm, KeyRing, Validation};

use crate::fixture::{self, AppClaims, OwnedClaims, AUD, ISS, NOW};

/// Any refusal; the benchmarks only need to know that a token was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rejected;

/// `jwt-simple` keeps `sub`, `iss`, `aud`, `jti` and the times in its own
/// claims struct; the rest goes into the custom part.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopeClaim {
    /// The custom claim.
    pub scope: String,
}

/// `jwt-compact` keeps only the times in its claims struct.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompactCustom {
    /// Subject.
    pub sub: String,
    /// Issuer.
    pub iss: String,
    /// Audience.
    pub aud: String,
    /// Token id.
    pub jti: String,
    /// The custom claim.
    pub scope: String,
}

/// A keyed HMAC state, cloned per MAC: the precomputed floor.
#[derive(Clone)]
pub enum MacState {
    /// HS256.
    Hs256(Hmac<Sha256>),
    /// HS384.
    Hs384(Hmac<Sha384>),
    /// HS512.
    Hs512(Hmac<Sha512>),
}

enum SimpleKey {
    Hs256(jwt_simple::prelude::HS256Key),
    Hs384(jwt_simple::prelude::HS384Key),
    Hs512(jwt_simple::prelude::HS512Key),
}

enum CompactKey {
    Hs256(jwt_compact::alg::Hs256Key),
    Hs384(jwt_compact::alg::Hs384Key),
    Hs512(jwt_compact::alg::Hs512Key),
}

/// The signing input and the decoded signature of a token, split once so the
/// floors measure the MAC alone.
pub struct MacInput {
    /// `header.payload`, as bytes.
    pub signing_input: Vec<u8>,
    /// The decoded signature.
    pub tag: Vec<u8>,
}

impl MacInput {
    /// Splits `token`.
    pub fn of(token: &str) -> Self {
        use base64ct::{Base64UrlUnpadded, Encoding};
        let dot = token.rfind('.').expect("three segments");
        let tag = Base64UrlUnpadded::decode_vec(&token[dot + 1..]).expect("canonical signature");
        MacInput {
            signing_input: token.as_bytes()[..dot].to_vec(),
            tag,
        }
    }
}

/// Every library's verifier for one algorithm, configured identically.
pub struct Verifiers {
    alg: Algorithm,
    ring: KeyRing<1>,
    policy: Validation<'static>,
    jwt_key: jsonwebtoken::DecodingKey,
    jwt_policy: jsonwebtoken::Validation,
    simple_key: SimpleKey,
    simple_policy: jwt_simple::prelude::VerificationOptions,
    compact_key: CompactKey,
    mac: MacState,
}

impl Verifiers {
    /// Sets up every verifier for `alg` with the fixture secret.
    pub fn new(alg: Algorithm) -> Self {
        let secret = fixture::secret(alg);
        let jwt_alg = match alg {
            Algorithm::Hs256 => jsonwebtoken::Algorithm::HS256,
            Algorithm::Hs384 => jsonwebtoken::Algorithm::HS384,
            Algorithm::Hs512 => jsonwebtoken::Algorithm::HS512,
        };
        let mut jwt_policy = jsonwebtoken::Validation::new(jwt_alg);
        jwt_policy.leeway = 0;
        jwt_policy.validate_nbf = true;
        jwt_policy.set_issuer(&[ISS]);
        jwt_policy.set_audience(&[AUD]);
        jwt_policy.set_required_spec_claims(&["exp", "iss", "aud"]);
        let simple_policy = jwt_simple::prelude::VerificationOptions {
            allowed_issuers: Some(HashSet::from([ISS.to_owned()])),
            allowed_audiences: Some(HashSet::from([AUD.to_owned()])),
            time_tolerance: None,
            ..Default::default()
        };
        let (simple_key, compact_key, mac) = match alg {
            Algorithm::Hs256 => (
                SimpleKey::Hs256(jwt_simple::prelude::HS256Key::from_bytes(secret)),
                CompactKey::Hs256(jwt_compact::alg::Hs256Key::new(secret)),
                MacState::Hs256(Hmac::new_from_slice(secret).expect("any length")),
            ),
            Algorithm::Hs384 => (
                SimpleKey::Hs384(jwt_simple::prelude::HS384Key::from_bytes(secret)),
                CompactKey::Hs384(jwt_compact::alg::Hs384Key::new(secret)),
                MacState::Hs384(Hmac::new_from_slice(secret).expect("any length")),
            ),
            Algorithm::Hs512 => (
                SimpleKey::Hs512(jwt_simple::prelude::HS512Key::from_bytes(secret)),
                CompactKey::Hs512(jwt_compact::alg::Hs512Key::new(secret)),
                MacState::Hs512(Hmac::new_from_slice(secret).expect("any length")),
            ),
        };
        Verifiers {
            alg,
            ring: KeyRing::single(fixture::key(alg)).expect("one key"),
            policy: Validation::new().issuer(ISS).audience(AUD),
            jwt_key: jsonwebtoken::DecodingKey::from_secret(secret),
            jwt_policy,
            simple_key,
            simple_policy,
            compact_key,
            mac,
        }
    }

    /// tessera: verify, then deserialize the typed claims borrowing from `buf`.
    pub fn tessera<'b>(&self, token: &str, buf: &'b mut [u8]) -> Result<AppClaims<'b>, Rejected> {
        let verified = self
            .ring
            .verify(token, &self.policy, NOW, buf)
            .map_err(|_| Rejected)?;
        verified.deserialize().map_err(|_| Rejected)
    }

    /// tessera without the serde pass: the registered claims the verifier
    /// already checked, and `sub` and `jti` borrowed from them.
    pub fn tessera_registered<'b>(
        &self,
        token: &str,
        buf: &'b mut [u8],
    ) -> Result<(&'b str, &'b str), Rejected> {
        let verified = self
            .ring
            .verify(token, &self.policy, NOW, buf)
            .map_err(|_| Rejected)?;
        let c = verified.claims;
        match (
            c.sub.and_then(|s| s.as_str()),
            c.jti.and_then(|s| s.as_str()),
        ) {
            (Some(sub), Some(jti)) => Ok((sub, jti)),
            _ => Err(Rejected),
        }
    }

    /// `jsonwebtoken::decode`.
    pub fn jsonwebtoken(&self, token: &str) -> Result<OwnedClaims, Rejected> {
        jsonwebtoken::decode::<OwnedClaims>(token, &self.jwt_key, &self.jwt_policy)
            .map(|data| data.claims)
            .map_err(|_| Rejected)
    }

    /// `jwt-simple`'s `verify_token` (its options are taken by value).
    pub fn jwt_simple(
        &self,
        token: &str,
    ) -> Result<jwt_simple::prelude::JWTClaims<ScopeClaim>, Rejected> {
        use jwt_simple::prelude::MACLike;
        let options = Some(self.simple_policy.clone());
        match &self.simple_key {
            SimpleKey::Hs256(k) => k.verify_token(token, options),
            SimpleKey::Hs384(k) => k.verify_token(token, options),
            SimpleKey::Hs512(k) => k.verify_token(token, options),
        }
        .map_err(|_| Rejected)
    }

    /// `jwt-compact`: integrity, then expiry and maturity, then `iss` and `aud`.
    pub fn jwt_compact(&self, token: &str) -> Result<jwt_compact::Claims<CompactCustom>, Rejected> {
        use jwt_compact::{AlgorithmExt, TimeOptions, Token, UntrustedToken};
        let untrusted = UntrustedToken::new(token).map_err(|_| Rejected)?;
        let token: Token<CompactCustom> = match &self.compact_key {
            CompactKey::Hs256(k) => jwt_compact::alg::Hs256.validator(k).validate(&untrusted),
            CompactKey::Hs384(k) => jwt_compact::alg::Hs384.validator(k).validate(&untrusted),
            CompactKey::Hs512(k) => jwt_compact::alg::Hs512.validator(k).validate(&untrusted),
        }
        .map_err(|_| Rejected)?;
        let time = TimeOptions::from_leeway(chrono::Duration::zero());
        let claims = token.claims();
        claims
            .validate_expiration(&time)
            .and_then(|c| c.validate_maturity(&time))
            .map_err(|_| Rejected)?;
        if claims.custom.iss != ISS || claims.custom.aud != AUD {
            return Err(Rejected);
        }
        Ok(token.into_parts().1)
    }

    /// The physical floor: the MAC of the signing input from a precomputed
    /// keyed state, compared in constant time. No verifier can do less.
    pub fn floor_precomputed(&self, input: &MacInput) -> bool {
        fn check<M: Mac + Clone>(state: &M, input: &MacInput) -> bool {
            let mut mac = state.clone();
            mac.update(&input.signing_input);
            mac.verify_slice(&input.tag).is_ok()
        }
        match &self.mac {
            MacState::Hs256(m) => check(m, input),
            MacState::Hs384(m) => check(m, input),
            MacState::Hs512(m) => check(m, input),
        }
    }

    /// The floor with the key schedule (two extra compression calls) per call.
    pub fn floor_keyed(&self, input: &MacInput) -> bool {
        fn check<M: Mac + hmac::digest::KeyInit>(secret: &[u8], input: &MacInput) -> bool {
            let mut mac = <M as KeyInit>::new_from_slice(secret).expect("any length");
            mac.update(&input.signing_input);
            mac.verify_slice(&input.tag).is_ok()
        }
        let secret = fixture::secret(self.alg);
        match self.alg {
            Algorithm::Hs256 => check::<Hmac<Sha256>>(secret, input),
            Algorithm::Hs384 => check::<Hmac<Sha384>>(secret, input),
            Algorithm::Hs512 => check::<Hmac<Sha512>>(secret, input),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture::{bad_signature_token, large_token, token, CLAIMS};

    #[test]
    fn every_verifier_accepts_the_fixtures_and_reads_the_same_claims() {
        for alg in Algorithm::ALL {
            let v = Verifiers::new(alg);
            let t = token(alg);
            let mut buf = [0u8; 1024];
            assert_eq!(v.tessera(&t, &mut buf), Ok(CLAIMS));
            assert_eq!(
                v.tessera_registered(&t, &mut buf),
                Ok((CLAIMS.sub, CLAIMS.jti))
            );
            assert_eq!(v.jsonwebtoken(&t), Ok(CLAIMS.to_owned_claims()));
            let simple = v.jwt_simple(&t).unwrap();
            assert_eq!(simple.custom.scope, CLAIMS.scope);
            assert_eq!(simple.subject.as_deref(), Some(CLAIMS.sub));
            let compact = v.jwt_compact(&t).unwrap();
            assert_eq!(compact.custom.scope, CLAIMS.scope);
            assert!(v.floor_precomputed(&MacInput::of(&t)));
            assert!(v.floor_keyed(&MacInput::of(&t)));
        }
    }

    #[test]
    fn every_verifier_accepts_the_large_token() {
        let v = Verifiers::new(Algorithm::Hs256);
        let t = large_token();
        let mut buf = vec![0u8; 8192];
        assert_eq!(v.tessera(&t, &mut buf), Ok(CLAIMS));
        assert_eq!(v.jsonwebtoken(&t), Ok(CLAIMS.to_owned_claims()));
        assert!(v.jwt_simple(&t).is_ok());
        assert!(v.jwt_compact(&t).is_ok());
    }

    #[test]
    fn every_verifier_refuses_a_bad_signature() {
        for alg in Algorithm::ALL {
            let v = Verifiers::new(alg);
            let t = bad_signature_token(alg);
            let mut buf = [0u8; 1024];
            assert_eq!(v.tessera(&t, &mut buf), Err(Rejected));
            assert_eq!(v.jsonwebtoken(&t), Err(Rejected));
            assert!(v.jwt_simple(&t).is_err());
            assert!(v.jwt_compact(&t).is_err());
            assert!(!v.floor_precomputed(&MacInput::of(&t)));
        }
    }
}
