//! The three HMAC algorithms of RFC 7518 §3.2.

use core::fmt;

/// An HMAC JWS algorithm. A key is bound to exactly one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Algorithm {
    /// HMAC with SHA-256.
    Hs256,
    /// HMAC with SHA-384.
    Hs384,
    /// HMAC with SHA-512.
    Hs512,
}

impl Algorithm {
    /// Every supported algorithm.
    pub const ALL: [Algorithm; 3] = [Algorithm::Hs256, Algorithm::Hs384, Algorithm::Hs512];

    /// The `alg` header value.
    pub const fn name(self) -> &'static str {
        match self {
            Algorithm::Hs256 => "HS256",
            Algorithm::Hs384 => "HS384",
            Algorithm::Hs512 => "HS512",
        }
    }

    /// MAC length in bytes, which is also the minimum key length.
    pub const fn output_len(self) -> usize {
        match self {
            Algorithm::Hs256 => 32,
            Algorithm::Hs384 => 48,
            Algorithm::Hs512 => 64,
        }
    }

    /// Parses an `alg` value exactly (JOSE names are case-sensitive).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.name() == name)
    }

    /// Base64url of the headers that most issuers send, so the verifier can
    /// recognise them by bytes instead of parsing: `{"alg":..,"typ":"JWT"}`,
    /// `{"typ":"JWT","alg":..}` and `{"alg":..}`.
    pub(crate) const fn common_headers(self) -> [&'static str; 3] {
        match self {
            Algorithm::Hs256 => [
                "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9",
                "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9",
                "eyJhbGciOiJIUzI1NiJ9",
            ],
            Algorithm::Hs384 => [
                "eyJhbGciOiJIUzM4NCIsInR5cCI6IkpXVCJ9",
                "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzM4NCJ9",
                "eyJhbGciOiJIUzM4NCJ9",
            ],
            Algorithm::Hs512 => [
                "eyJhbGciOiJIUzUxMiIsInR5cCI6IkpXVCJ9",
                "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzUxMiJ9",
                "eyJhbGciOiJIUzUxMiJ9",
            ],
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64ct::{Base64UrlUnpadded, Encoding};

    #[test]
    fn common_headers_are_what_they_claim() {
        for alg in Algorithm::ALL {
            let n = alg.name();
            let expected = [
                format!(r#"{{"alg":"{n}","typ":"JWT"}}"#),
                format!(r#"{{"typ":"JWT","alg":"{n}"}}"#),
                format!(r#"{{"alg":"{n}"}}"#),
            ];
            for (enc, json) in alg.common_headers().iter().zip(expected) {
                assert_eq!(*enc, Base64UrlUnpadded::encode_string(json.as_bytes()));
            }
        }
    }
}
