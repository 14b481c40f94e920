//! `paseto`: PASETO v4.local and v4.public, both directions.
//!
//! Input: one control byte, then the body. Bit 0 picks the purpose
//! (`v4.local` / `v4.public`), bit 2 adds a footer, bit 3 an implicit
//! assertion.
//! - bit 1 clear: the body is a token; decrypting or verifying it must not
//!   panic or allocate, and an accepted token's payload must be a JSON object
//!   `serde_json` agrees on.
//! - bit 1 set: the body becomes claims (`sub` and a free-form member) that are
//!   minted (the first 32 bytes are the `v4.local` nonce), then verified: the
//!   round trip must succeed with the same payload and footer, without
//!   allocating. Then up to 8 fuzzer-chosen one-byte edits of the token
//!   (replace, insert, remove; positions from the start or the end) must each
//!   be refused.

use serde_json::Value;
use tessera_core::paseto::{LocalKey, Options, PublicKey, SecretKey, Token};
use tessera_core::{Error, Validation};

use crate::alloc_count::no_alloc;
use crate::fixtures::NOW;

const LOCAL: [u8; 32] = [0x4c; 32];
const SEED: [u8; 32] = [0x53; 32];
const FOOTER: &[u8] = br#"{"kid":"k1"}"#;
const IMPLICIT: &[u8] = b"tenant-7";

fn validation() -> Validation<'static> {
    Validation::new().require_exp(false).max_len(usize::MAX)
}

fn options(control: u8) -> Options<'static> {
    let mut o = Options::new();
    if control & 4 != 0 {
        o = o.footer(FOOTER);
    }
    if control & 8 != 0 {
        o = o.implicit(IMPLICIT);
    }
    o
}

struct Keys {
    local: LocalKey,
    secret: SecretKey,
    public: PublicKey,
}

fn keys() -> Keys {
    let secret = SecretKey::from_seed(&SEED);
    Keys { local: LocalKey::from_bytes(LOCAL), public: secret.public_key(), secret }
}

fn check<'b>(
    keys: &Keys,
    local: bool,
    token: &str,
    options: &Options<'_>,
    buf: &'b mut [u8],
) -> Result<Token<'b>, Error> {
    let v = validation();
    no_alloc("paseto check", || {
        if local {
            keys.local.decrypt(token, &v, options, NOW, buf)
        } else {
            keys.public.verify(token, &v, options, NOW, buf)
        }
    })
}

/// The `paseto` target.
pub fn paseto(data: &[u8]) {
    let Some((&control, body)) = data.split_first() else { return };
    let local = control & 1 == 0;
    let keys = keys();
    let options = options(control);
    if control & 2 == 0 {
        let mut buf = vec![0u8; body.len()];
        let Ok(token) = std::str::from_utf8(body) else { return };
        if let Ok(t) = check(&keys, local, token, &options, &mut buf) {
            let value: Value = serde_json::from_str(t.payload()).expect("accepted payload is JSON");
            assert!(value.is_object(), "accepted payload is an object");
        }
        return;
    }
    let (nonce, rest) = body.split_at(body.len().min(32));
    let mut random = [0u8; 32];
    random[..nonce.len()].copy_from_slice(nonce);
    let (text, edits) = rest.split_at(rest.len().min(64));
    let claims = serde_json::json!({
        "sub": String::from_utf8_lossy(text),
        "x": text.iter().map(|&b| u64::from(b)).collect::<Vec<_>>(),
    });
    let json = serde_json::to_vec(&claims).expect("serialize");
    let mut out = vec![0u8; json.len() * 2 + 512];
    let token = no_alloc("paseto mint", || {
        if local {
            keys.local.encrypt_json(&json, &random, &options, &mut out)
        } else {
            keys.secret.sign_json(&json, &options, &mut out)
        }
    })
    .expect("mint")
    .to_owned();
    // Decoded, a token is shorter than its text.
    let mut buf = vec![0u8; token.len()];
    let t = check(&keys, local, &token, &options, &mut buf).expect("round trip verifies");
    assert_eq!(t.payload().as_bytes(), &json[..]);
    let want_footer: &[u8] = if control & 4 != 0 { FOOTER } else { b"" };
    assert_eq!(t.footer(), want_footer);
    for edit in edits.chunks_exact(3).take(8) {
        let mut bytes = token.clone().into_bytes();
        // The top bit of the second byte counts from the end (tag, signature, footer).
        let offset = usize::from(u16::from_le_bytes([edit[0], edit[1] & 0x7F])) % bytes.len();
        let at = if edit[1] & 0x80 != 0 { bytes.len() - 1 - offset } else { offset };
        match edit[2] % 3 {
            0 if bytes[at] != edit[2] => bytes[at] = edit[2],
            0 => bytes[at] ^= 1,
            1 => bytes.insert(at, edit[2]),
            _ => {
                bytes.remove(at);
            }
        }
        let Ok(tampered) = String::from_utf8(bytes) else { continue };
        assert_ne!(tampered, token);
        let got = check(&keys, local, &tampered, &options, &mut buf);
        assert!(got.is_err(), "edited token accepted: {tampered}");
    }
}
