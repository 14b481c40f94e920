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
use crate::layer::auth::BearerAuthLayer;

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
    #[arg(long, value_name = "TEXT", env = "TESSERA_FOOTER")]
    footer: Option<String>,
    /// PASETO implicit assertion: authenticated, never carried in the token.
    #[arg(long, value_name = "TEXT", env = "TESSERA_IMPLICIT")]
    implicit: Option<String>,
}

impl PasetoArgs {
    /// Whether `--footer` or `--implicit` was given.
    pub(crate) fn given(&self) -> bool {
        self.footer.is_some() || self.implicit.is_some()
    }

    /// The same footer and implicit assertion on the gateway's layer.
    pub(crate) fn apply(&self, mut layer: BearerAuthLayer) -> BearerAuthLayer {
        if let Some(footer) = &self.footer {
            layer = layer.footer(footer.as_bytes());
        }
        if let Some(implicit) = &self.implicit {
            layer = layer.implicit(implicit.as_bytes());
        }
        layer
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

/// A key file's raw bytes.
pub(crate) fn read(path: &Path) -> Result<Vec<u8>, Failure> {
    std::fs::read(path)
        .map_err(|e| Failure(format!("cannot read key file {}: {e}", path.display())))
}

fn wrong_size(path: &Path, wanted: &str, got: usize) -> Failure {
    Failure(format!(
        "key file {}: expected {wanted}, got {got} bytes",
        path.display()
    ))
}

/// A `v4.local` key: exactly 32 raw bytes (`bytes`, read from `path`).
pub(crate) fn local_key(path: &Path, bytes: &[u8]) -> Result<LocalKey, Failure> {
    let key: [u8; 32] = bytes
        .try_into()
        .map_err(|_| wrong_size(path, "32 bytes (v4.local key)", bytes.len()))?;
    Ok(LocalKey::from_bytes(key))
}

/// A `v4.public` verifying key: the 32-byte Ed25519 public key.
pub(crate) fn public_key(path: &Path, bytes: &[u8]) -> Result<PublicKey, Failure> {
    let key: [u8; 32] = bytes
        .try_into()
        .map_err(|_| wrong_size(path, "32 bytes (Ed25519 public key)", bytes.len()))?;
    PublicKey::from_bytes(&key).map_err(|e| Failure(format!("key file {}: {e}", path.display())))
}

/// A `v4.public` signing key: a 32-byte seed or 64-byte `seed ‖ public`.
pub(crate) fn secret_key(path: &Path, bytes: &[u8]) -> Result<SecretKey, Failure> {
    if let Ok(seed) = <[u8; 32]>::try_from(bytes) {
        return Ok(SecretKey::from_seed(&seed));
    }
    let pair: [u8; 64] = bytes.try_into().map_err(|_| {
        wrong_size(
            path,
            "32 bytes (Ed25519 seed) or 64 (seed and public key)",
            bytes.len(),
        )
    })?;
    SecretKey::from_keypair(&pair).map_err(|e| Failure(format!("key file {}: {e}", path.display())))
}

/// `secs` since the epoch as RFC 3339 UTC (`2023-11-14T22:13:20Z`).
pub(crate) fn rfc3339(secs: u64) -> Result<String, Failure> {
    let mut buf = [0u8; 20];
    tessera_core::paseto::format_date(secs, &mut buf)
        .map(str::to_owned)
        .ok_or_else(|| Failure(format!("{secs} is past year 9999")))
}
