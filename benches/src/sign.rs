//! One HS256 signer per library, each producing a token for [`CLAIMS`].

use jwt_simple::prelude::{Audiences, Duration, JWTClaims, MACLike};
use tessera_core::{Algorithm, Key};

use crate::{
    fixture::{self, CLAIMS},
    verify::{CompactCustom, ScopeClaim},
};

/// Every library's HS256 signer, keys set up once.
pub struct Signers {
    key: Key,
    jwt_key: jsonwebtoken::EncodingKey,
    jwt_header: jsonwebtoken::Header,
    simple_key: jwt_simple::prelude::HS256Key,
    simple_claims: JWTClaims<ScopeClaim>,
    compact_key: jwt_compact::alg::Hs256Key,
    compact_header: jwt_compact::Header,
    compact_claims: jwt_compact::Claims<CompactCustom>,
}

impl Default for Signers {
    fn default() -> Self {
        Self::new()
    }
}

fn time(secs: u64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(secs as i64, 0).expect("in range")
}

impl Signers {
    /// Sets up every signer with the fixture secret and claims.
    pub fn new() -> Self {
        let secret = fixture::secret(Algorithm::Hs256);
        let simple_claims = JWTClaims {
            issued_at: Some(Duration::from_secs(CLAIMS.iat)),
            expires_at: Some(Duration::from_secs(CLAIMS.exp)),
            invalid_before: Some(Duration::from_secs(CLAIMS.nbf)),
            issuer: Some(CLAIMS.iss.into()),
            subject: Some(CLAIMS.sub.into()),
            audiences: Some(Audiences::AsString(CLAIMS.aud.into())),
            jwt_id: Some(CLAIMS.jti.into()),
            nonce: None,
            custom: ScopeClaim {
                scope: CLAIMS.scope.into(),
            },
        };
        // `Claims` holds the times itself and flattens the rest.
        let mut compact_claims = jwt_compact::Claims::new(CompactCustom {
            sub: CLAIMS.sub.into(),
            iss: CLAIMS.iss.into(),
            aud: CLAIMS.aud.into(),
            jti: CLAIMS.jti.into(),
            scope: CLAIMS.scope.into(),
        });
        compact_claims.expiration = Some(time(CLAIMS.exp));
        compact_claims.not_before = Some(time(CLAIMS.nbf));
        compact_claims.issued_at = Some(time(CLAIMS.iat));
        Signers {
            key: fixture::key(Algorithm::Hs256),
            jwt_key: jsonwebtoken::EncodingKey::from_secret(secret),
            jwt_header: jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            simple_key: jwt_simple::prelude::HS256Key::from_bytes(secret),
            simple_claims,
            compact_key: jwt_compact::alg::Hs256Key::new(secret),
            compact_header: jwt_compact::Header::empty().with_token_type("JWT"),
            compact_claims,
        }
    }

    /// tessera: serialize and sign into `out`.
    pub fn tessera<'o>(&self, out: &'o mut [u8]) -> Option<&'o str> {
        self.key.sign(&CLAIMS, out).ok()
    }

    /// `jsonwebtoken::encode`.
    pub fn jsonwebtoken(&self) -> Option<String> {
        jsonwebtoken::encode(&self.jwt_header, &CLAIMS, &self.jwt_key).ok()
    }

    /// `jwt-simple`'s `authenticate`, which takes its claims by value.
    pub fn jwt_simple(&self) -> Option<String> {
        self.simple_key
            .authenticate(self.simple_claims.clone())
            .ok()
    }

    /// `jwt-compact`'s `token`.
    pub fn jwt_compact(&self) -> Option<String> {
        use jwt_compact::AlgorithmExt;
        jwt_compact::alg::Hs256
            .token(
                &self.compact_header,
                &self.compact_claims,
                &self.compact_key,
            )
            .ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::Verifiers;

    #[test]
    fn every_signer_makes_a_token_tessera_accepts() {
        let s = Signers::new();
        let v = Verifiers::new(Algorithm::Hs256);
        let mut out = [0u8; 1024];
        let mut buf = [0u8; 1024];
        let ours = s.tessera(&mut out).unwrap().to_owned();
        assert_eq!(ours, fixture::token(Algorithm::Hs256));
        let peers = [
            s.jsonwebtoken().unwrap(),
            s.jwt_simple().unwrap(),
            s.jwt_compact().unwrap(),
        ];
        for token in [ours].into_iter().chain(peers) {
            assert_eq!(v.tessera(&token, &mut buf), Ok(CLAIMS), "{token}");
        }
    }
}
