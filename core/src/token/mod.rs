//! What JWS and PASETO share: strict base64url ([`b64`]) and JSON
//! ([`json`]), the registered claims and their types ([`claims`]), the serde
//! reader over verified payloads ([`de`]) and the JSON writer signing goes
//! through ([`ser`]).

#[cfg(feature = "testing")]
pub mod b64;
#[cfg(not(feature = "testing"))]
pub(crate) mod b64;
pub(crate) mod claims;
pub(crate) mod de;
pub mod json;
pub(crate) mod ser;
