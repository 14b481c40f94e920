//! Keys bound to one algorithm, with HMAC state precomputed, and the key ring.

use core::fmt;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
#[cfg(feature = "hs384")]
use sha2::Sha384;
#[cfg(feature = "hs512")]
use sha2::Sha512;

use crate::{error::ConfigError, jws::alg::Algorithm, token::json::JsonStr};

/// Longest accepted `kid`, in bytes.
pub const MAX_KID_LEN: usize = 64;

/// The keyed HMAC state after absorbing the padded key: cloning it skips the key
/// schedule, so a verify costs only the MAC of the signing input.
#[derive(Clone)]
///
/// HS384 and HS512 are features (on by default): a device that only needs
/// HS256 leaves out SHA-512's code and keeps every key and MAC clone small.
enum MacState {
    Hs256(Hmac<Sha256>),
    #[cfg(feature = "hs384")]
    Hs384(Hmac<Sha384>),
    #[cfg(feature = "hs512")]
    Hs512(Hmac<Sha512>),
}

/// An HMAC key bound to one algorithm and optionally named by a `kid`.
///
/// Key material is wiped on drop: the key holds no copy of the secret, only
/// the HMAC state after absorbing it (the inner and outer padded-key hash
/// states), and that state, in every `Key`, every clone and every per-call MAC
/// copy, zeroizes itself on drop (RustCrypto `hmac`/`sha2` with `zeroize`).
/// Not wiped: the secret slice given to [`Key::new`] (the caller's), bytes
/// left behind where a `Key` was moved from (Rust moves are plain copies: build
/// keys in place, e.g. straight into a [`KeyRing`] that lives as long as the
/// program), and MAC outputs (a signature is public; verification compares
/// the expected MAC in constant time inside `hmac`).
#[derive(Clone)]
pub struct Key {
    state: MacState,
    kid: Option<heapless::String<MAX_KID_LEN>>,
}

/// Every field holding key material wipes itself on drop (see [`Key`]).
impl hmac::digest::zeroize::ZeroizeOnDrop for Key {}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print key material.
        f.debug_struct("Key")
            .field("alg", &self.algorithm())
            .field("kid", &self.kid())
            .finish_non_exhaustive()
    }
}

/// A MAC output, sized for the largest algorithm.
pub(crate) struct Tag {
    bytes: [u8; 64],
    len: usize,
}

impl Tag {
    pub(crate) fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or_default()
    }
}

impl Key {
    /// Creates a key; refuses secrets shorter than the hash output (RFC 7518 §3.2).
    pub fn new(alg: Algorithm, secret: &[u8]) -> Result<Self, ConfigError> {
        if secret.len() < alg.output_len() {
            return Err(ConfigError::KeyTooShort);
        }
        // `new_from_slice` accepts any length for HMAC; the error arm cannot occur.
        let state = match alg {
            Algorithm::Hs256 => {
                MacState::Hs256(Hmac::new_from_slice(secret).map_err(|_| ConfigError::KeyTooShort)?)
            }
            #[cfg(feature = "hs384")]
            Algorithm::Hs384 => {
                MacState::Hs384(Hmac::new_from_slice(secret).map_err(|_| ConfigError::KeyTooShort)?)
            }
            #[cfg(feature = "hs512")]
            Algorithm::Hs512 => {
                MacState::Hs512(Hmac::new_from_slice(secret).map_err(|_| ConfigError::KeyTooShort)?)
            }
            #[allow(unreachable_patterns)] // reachable when a feature is off
            _ => return Err(ConfigError::Unsupported),
        };
        Ok(Key { state, kid: None })
    }

    /// An HS256 key.
    pub fn hs256(secret: &[u8]) -> Result<Self, ConfigError> {
        Self::new(Algorithm::Hs256, secret)
    }

    /// An HS384 key.
    pub fn hs384(secret: &[u8]) -> Result<Self, ConfigError> {
        Self::new(Algorithm::Hs384, secret)
    }

    /// An HS512 key.
    pub fn hs512(secret: &[u8]) -> Result<Self, ConfigError> {
        Self::new(Algorithm::Hs512, secret)
    }

    /// Names the key. A `kid` is 1..=64 printable ASCII bytes without `"` or `\`,
    /// so it is written into headers verbatim.
    pub fn with_kid(mut self, kid: &str) -> Result<Self, ConfigError> {
        let printable = kid
            .bytes()
            .all(|b| (0x20..0x7F).contains(&b) && b != b'"' && b != b'\\');
        if kid.is_empty() || !printable {
            return Err(ConfigError::BadKid);
        }
        let mut owned = heapless::String::new();
        owned.push_str(kid).map_err(|_| ConfigError::BadKid)?;
        self.kid = Some(owned);
        Ok(self)
    }

    /// The algorithm this key is bound to.
    pub fn algorithm(&self) -> Algorithm {
        match self.state {
            MacState::Hs256(_) => Algorithm::Hs256,
            #[cfg(feature = "hs384")]
            MacState::Hs384(_) => Algorithm::Hs384,
            #[cfg(feature = "hs512")]
            MacState::Hs512(_) => Algorithm::Hs512,
        }
    }

    /// The key's `kid`, if named.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// Computes the MAC of `input`.
    pub(crate) fn tag(&self, input: &[u8]) -> Tag {
        fn finish<M: Mac + Clone>(state: &M, input: &[u8]) -> Tag {
            let mut mac = state.clone();
            mac.update(input);
            let out = mac.finalize().into_bytes();
            let mut bytes = [0u8; 64];
            let len = out.len().min(64);
            if let (Some(dst), Some(src)) = (bytes.get_mut(..len), out.get(..len)) {
                dst.copy_from_slice(src);
            }
            Tag { bytes, len }
        }
        match &self.state {
            MacState::Hs256(m) => finish(m, input),
            #[cfg(feature = "hs384")]
            MacState::Hs384(m) => finish(m, input),
            #[cfg(feature = "hs512")]
            MacState::Hs512(m) => finish(m, input),
        }
    }

    /// Checks `signature` against the MAC of `input` in constant time; a wrong
    /// length fails exactly like a wrong value.
    pub(crate) fn verify_mac(&self, input: &[u8], signature: &[u8]) -> bool {
        fn check<M: Mac + Clone>(state: &M, input: &[u8], signature: &[u8]) -> bool {
            let mut mac = state.clone();
            mac.update(input);
            mac.verify_slice(signature).is_ok()
        }
        match &self.state {
            MacState::Hs256(m) => check(m, input, signature),
            #[cfg(feature = "hs384")]
            MacState::Hs384(m) => check(m, input, signature),
            #[cfg(feature = "hs512")]
            MacState::Hs512(m) => check(m, input, signature),
        }
    }
}

/// Up to `K` live keys, selected by `kid`, so keys can rotate without downtime.
///
/// With a single key the token's `kid` is ignored. With several, a token with a
/// `kid` is checked with the key of that `kid` (an unknown one is
/// [`crate::Error::UnknownKey`], never a fallback), and a token without one with
/// the ring's default key: the one key added without a `kid`, if any.
///
/// Rotating from kid-less tokens to named keys, without a flag day:
/// 1. the ring holds the old key without a `kid` (tokens carry none);
/// 2. add the new key with a `kid`: old tokens still use the default key, and
///    tokens naming the new `kid` verify too;
/// 3. switch the signers to the new key;
/// 4. once the last old token has expired, [`KeyRing::remove_default`].
///
/// Later rotations add and remove named keys the same way.
#[derive(Clone, Debug)]
pub struct KeyRing<const K: usize> {
    keys: heapless::Vec<Key, K>,
}

impl<const K: usize> Default for KeyRing<K> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const K: usize> KeyRing<K> {
    /// An empty ring.
    pub const fn new() -> Self {
        KeyRing {
            keys: heapless::Vec::new(),
        }
    }

    /// A ring holding one key.
    pub fn single(key: Key) -> Result<Self, ConfigError> {
        let mut ring = Self::new();
        ring.add(key)?;
        Ok(ring)
    }

    /// Adds a key; refuses a full ring, a duplicate `kid`, or a second key
    /// without one (the ring has at most one default key).
    pub fn add(&mut self, key: Key) -> Result<(), ConfigError> {
        let conflict = self.keys.iter().any(|k| k.kid() == key.kid());
        if conflict {
            return Err(ConfigError::KidConflict);
        }
        self.keys.push(key).map_err(|_| ConfigError::RingFull)
    }

    /// Removes the key named `kid`, returning it.
    pub fn remove(&mut self, kid: &str) -> Option<Key> {
        let at = self.keys.iter().position(|k| k.kid() == Some(kid))?;
        Some(self.keys.swap_remove(at))
    }

    /// Removes the default (kid-less) key, returning it.
    pub fn remove_default(&mut self) -> Option<Key> {
        let at = self.keys.iter().position(|k| k.kid().is_none())?;
        Some(self.keys.swap_remove(at))
    }

    /// The keys, in insertion order (after removals, not necessarily).
    pub fn keys(&self) -> &[Key] {
        &self.keys
    }

    /// The only key, when the ring has exactly one.
    pub(crate) fn only(&self) -> Option<&Key> {
        match self.keys.as_slice() {
            [key] => Some(key),
            _ => None,
        }
    }

    /// The key without a `kid`, used for tokens without one.
    pub(crate) fn default_key(&self) -> Option<&Key> {
        self.keys.iter().find(|k| k.kid().is_none())
    }

    /// The key whose `kid` equals the (escape-decoded) `kid`.
    pub(crate) fn find(&self, kid: &JsonStr<'_>) -> Option<&Key> {
        self.keys
            .iter()
            .find(|k| k.kid().is_some_and(|name| kid.eq_str(name)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(all(feature = "hs384", feature = "hs512"))]
    fn hex(bytes: &[u8]) -> alloc::string::String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// RFC 4231 §4.7 and §4.8 (test cases 6 and 7): the two cases whose 131-byte
    /// key is long enough for every algorithm; cases 1–5 use keys that RFC 7518
    /// §3.2 forbids, which `refuses_keys_shorter_than_the_hash_output` covers.
    #[cfg(all(feature = "hs384", feature = "hs512"))]
    macro_rules! rfc4231 {
        ($($name:ident: $data:expr => [$hs256:expr, $hs384:expr, $hs512:expr $(,)?];)*) => {$(
            #[test]
            fn $name() {
                let secret = [0xaa; 131];
                for (alg, want) in Algorithm::ALL.into_iter().zip([$hs256, $hs384, $hs512]) {
                    let key = Key::new(alg, &secret).unwrap();
                    let tag = key.tag($data);
                    assert_eq!(hex(tag.as_bytes()), want, "{alg}");
                    assert!(key.verify_mac($data, tag.as_bytes()));
                    assert!(!key.verify_mac($data, &tag.as_bytes()[1..]));
                }
            }
        )*};
    }

    #[cfg(all(feature = "hs384", feature = "hs512"))]
    rfc4231! {
        rfc4231_case_6_large_key: b"Test Using Larger Than Block-Size Key - Hash Key First" => [
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
            "4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f3cd11f05033ac4c60c2ef6ab4030fe8296248df163f44952",
            "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f3526b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598",
        ];
        rfc4231_case_7_large_key_and_data: b"This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm." => [
            "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
            "6617178e941f020d351e2f254e8fd32c602420feb0b8fb9adccebb82461e99c5a678cc31e799176d3860e6110c46523e",
            "e37b6a775dc87dbaa4dfa9f96e5e3ffddebd71f8867289865df5a32d20cdc944b6022cac3c4982b10d5eeb55c3e4de15134676fb6de0446065c97440fa8c6a58",
        ];
    }

    #[test]
    fn refuses_keys_shorter_than_the_hash_output() {
        for alg in Algorithm::ALL {
            let n = alg.output_len();
            assert_eq!(
                Key::new(alg, &vec![7; n - 1]).unwrap_err(),
                ConfigError::KeyTooShort
            );
            match Key::new(alg, &vec![7; n]) {
                Ok(key) => assert_eq!(key.algorithm(), alg),
                // Only when the algorithm's feature is off.
                Err(e) => assert_eq!(e, ConfigError::Unsupported),
            }
        }
    }

    #[test]
    #[cfg(not(all(feature = "hs384", feature = "hs512")))]
    fn algorithms_left_out_at_build_time_are_refused() {
        #[cfg(not(feature = "hs384"))]
        assert_eq!(Key::hs384(&[7; 48]).unwrap_err(), ConfigError::Unsupported);
        #[cfg(not(feature = "hs512"))]
        assert_eq!(Key::hs512(&[7; 64]).unwrap_err(), ConfigError::Unsupported);
        assert!(Key::hs256(&[7; 32]).is_ok());
    }

    #[test]
    fn kid_rules() {
        let key = || Key::hs256(&[1; 32]).unwrap();
        assert_eq!(key().with_kid("").unwrap_err(), ConfigError::BadKid);
        assert_eq!(key().with_kid("a\"b").unwrap_err(), ConfigError::BadKid);
        assert_eq!(key().with_kid("a\\b").unwrap_err(), ConfigError::BadKid);
        assert_eq!(key().with_kid("é").unwrap_err(), ConfigError::BadKid);
        assert_eq!(
            key().with_kid(&"k".repeat(65)).unwrap_err(),
            ConfigError::BadKid
        );
        assert!(key().with_kid(&"k".repeat(64)).is_ok());

        let mut ring = KeyRing::<2>::new();
        ring.add(key().with_kid("a").unwrap()).unwrap();
        assert_eq!(
            ring.add(key().with_kid("a").unwrap()),
            Err(ConfigError::KidConflict)
        );
        ring.add(key().with_kid("b").unwrap()).unwrap();
        assert_eq!(
            ring.add(key().with_kid("c").unwrap()),
            Err(ConfigError::RingFull)
        );
        assert!(ring.remove("a").is_some());
        assert_eq!(ring.keys().len(), 1);
    }

    /// Fails to compile where a part of an HMAC state would not wipe itself on
    /// drop. `Hmac<D>` is its two hash cores (inner and outer padded key) and
    /// a block buffer; `hmac` does not carry the marker itself, its parts do.
    #[test]
    fn key_material_is_zeroized_on_drop() {
        use hmac::digest::{
            block_api::EagerHash, block_buffer, consts::U64, zeroize::ZeroizeOnDrop,
        };
        fn wipes_on_drop<T: ZeroizeOnDrop>() {}
        wipes_on_drop::<<Sha256 as EagerHash>::Core>();
        #[cfg(feature = "hs384")]
        wipes_on_drop::<<Sha384 as EagerHash>::Core>();
        #[cfg(feature = "hs512")]
        wipes_on_drop::<<Sha512 as EagerHash>::Core>();
        wipes_on_drop::<block_buffer::BlockBuffer<U64, block_buffer::Eager>>();
        wipes_on_drop::<Key>();
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let text = format!("{:?}", Key::hs256(&[0xAB; 32]).unwrap());
        assert!(
            !text.contains("171") && !text.to_lowercase().contains("ab, ab"),
            "{text}"
        );
    }
}
