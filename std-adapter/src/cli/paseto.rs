//! PASETO v4 on the command line: key files, `--footer`/`--implicit`, and the
//! RFC 3339 dates `mint` writes.
//!
//! Key files hold raw bytes: 32 for a `v4.local` key; to mint `v4.public`, a
//! 32-byte Ed25519 seed or 64-byte `seed ‖ public`; to verify it, the 32-byte
//! public key.

use std::path::Path;

use clap::Args;
use tessera_core::paseto::{LocalKey, Options, PublicKey, SecretKey};

use super::Failure;

/// `v4.local` or `v4.public`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Purpose {
    /// Symmetric: encrypted and authenticated.
    Local,
    /// Ed25519-signed, readable by anyone.
    Public,
}

impl Purpose {
    /// `v4.local` or `v4.public`, any case.
    pub(crate) fn from_name(name: &str) -> Option<Self> {
        match name.to_ascii_lowercase().as_str() {
            "v4.local" => Some(Purpose::Local),
            "v4.public" => Some(Purpose::Public),
            _ => None,
        }
    }
}

/// `--footer` and `--implicit`.
#[derive(Args, Debug, Default)]
pub(crate) struct PasetoArgs {
    /// PASETO footer: written by `mint`; required equal by `verify` when given.
    #[arg(long, value_name = "TEXT")]
    footer: Option<String>,
    /// PASETO implicit assertion: authenticated, never carried in the token.
    #[arg(long, value_name = "TEXT")]
    implicit: Option<String>,
}

impl PasetoArgs {
    /// Whether `--footer` or `--implicit` was given.
    pub(crate) fn given(&self) -> bool {
        self.footer.is_some() || self.implicit.is_some()
    }

    /// The footer's length in bytes (0 without one).
    pub(crate) fn footer_len(&self) -> usize {
        self.footer.as_ref().map_or(0, String::len)
    }

    pub(crate) fn options(&self) -> Options<'_> {
        let mut options = Options::new();
        if let Some(footer) = &self.footer {
            options = options.footer(footer.as_bytes());
        }
        if let Some(implicit) = &self.implicit {
            options = options.implicit(implicit.as_bytes());
        }
        options
    }
}

fn read(path: &Path) -> Result<Vec<u8>, Failure> {
    std::fs::read(path)
        .map_err(|e| Failure(format!("cannot read key file {}: {e}", path.display())))
}

fn wrong_size(path: &Path, wanted: &str, got: usize) -> Failure {
    Failure(format!(
        "key file {}: expected {wanted}, got {got} bytes",
        path.display()
    ))
}

/// A `v4.local` key: exactly 32 raw bytes.
pub(crate) fn local_key(path: &Path) -> Result<LocalKey, Failure> {
    let bytes = read(path)?;
    let key: [u8; 32] = bytes
        .as_slice()
        .try_into()
        .map_err(|_| wrong_size(path, "32 bytes (v4.local key)", bytes.len()))?;
    Ok(LocalKey::from_bytes(key))
}

/// A `v4.public` verifying key: the 32-byte Ed25519 public key.
pub(crate) fn public_key(path: &Path) -> Result<PublicKey, Failure> {
    let bytes = read(path)?;
    let key: [u8; 32] = bytes
        .as_slice()
        .try_into()
        .map_err(|_| wrong_size(path, "32 bytes (Ed25519 public key)", bytes.len()))?;
    PublicKey::from_bytes(&key).map_err(|e| Failure(format!("key file {}: {e}", path.display())))
}

/// A `v4.public` signing key: a 32-byte seed or 64-byte `seed ‖ public`.
pub(crate) fn secret_key(path: &Path) -> Result<SecretKey, Failure> {
    let bytes = read(path)?;
    if let Ok(seed) = <[u8; 32]>::try_from(bytes.as_slice()) {
        return Ok(SecretKey::from_seed(&seed));
    }
    let pair: [u8; 64] = bytes.as_slice().try_into().map_err(|_| {
        wrong_size(
            path,
            "32 bytes (Ed25519 seed) or 64 (seed and public key)",
            bytes.len(),
        )
    })?;
    SecretKey::from_keypair(&pair).map_err(|e| Failure(format!("key file {}: {e}", path.display())))
}

/// `secs` since the epoch as RFC 3339 UTC (`2023-11-14T22:13:20Z`).
pub(crate) fn rfc3339(secs: u64) -> String {
    // H. Hinnant's civil_from_days, for days since 1970-01-01.
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip_through_the_core_parser() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339(951_868_799), "2000-02-29T23:59:59Z");
        // Every day boundary over 1970..2100 parses back to the same second.
        let key = LocalKey::from_bytes([1; 32]);
        for secs in (1..4_102_444_800u64).step_by(86_400 * 7 + 3601) {
            let json = format!(r#"{{"exp":"{}"}}"#, rfc3339(secs));
            let mut out = [0u8; 256];
            let token = key
                .encrypt_json(json.as_bytes(), &[0; 32], &Options::new(), &mut out)
                .unwrap();
            let mut buf = [0u8; 256];
            let v = key
                .decrypt(
                    token,
                    &tessera_core::Validation::new(),
                    &Options::new(),
                    0,
                    &mut buf,
                )
                .unwrap();
            assert_eq!(v.claims.exp, Some(secs), "{json}");
        }
    }
}
