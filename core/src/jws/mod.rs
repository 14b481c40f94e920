//! JWS compact tokens with HMAC (RFC 7515, RFC 7519): the algorithms
//! ([`alg`]), keys and key rings ([`key`]), signing ([`sign`]) and strict
//! verification with claim validation ([`verify`]).

pub(crate) mod alg;
pub(crate) mod key;
pub(crate) mod sign;
pub(crate) mod verify;
