//! Key files and key rings from the command line.

use std::path::{Path, PathBuf};

use clap::Args;
use sha2::{Digest, Sha256};
use tessera_core::{Algorithm, Key};

use super::{paseto, paseto::Purpose, Failure};
use crate::layer::auth::{Ring, TokenKeys};

/// What `--alg` names: a JWS HMAC algorithm or a PASETO v4 purpose.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Alg {
    /// JWS compact with this HMAC.
    Jws(Algorithm),
    /// PASETO `v4.local` or `v4.public`.
    Paseto(Purpose),
}

/// Parses `--alg`: `HS256`, `HS384`, `HS512`, `v4.local` or `v4.public`, any case.
pub(crate) fn parse_alg(s: &str) -> Result<Alg, String> {
    if let Some(purpose) = Purpose::from_name(s) {
        return Ok(Alg::Paseto(purpose));
    }
    Algorithm::from_name(&s.to_ascii_uppercase())
        .map(Alg::Jws)
        .ok_or_else(|| {
            format!("unknown algorithm `{s}` (HS256, HS384, HS512, v4.local or v4.public)")
        })
}

/// Reads a key file as raw bytes, used exactly as stored (no trimming).
pub(crate) fn load(alg: Algorithm, path: &Path, kid: Option<&str>) -> Result<Key, Failure> {
    load_with_secret(alg, path, kid).map(|(key, _)| key)
}

fn load_with_secret(
    alg: Algorithm,
    path: &Path,
    kid: Option<&str>,
) -> Result<(Key, Vec<u8>), Failure> {
    let secret = std::fs::read(path)
        .map_err(|e| Failure(format!("cannot read key file {}: {e}", path.display())))?;
    warn_if_shared(path);
    let key = Key::new(alg, &secret).map_err(|e| {
        Failure(format!(
            "key file {}: {e} ({alg} needs at least {} bytes, got {})",
            path.display(),
            alg.output_len(),
            secret.len()
        ))
    })?;
    let key = match kid {
        Some(kid) => key
            .with_kid(kid)
            .map_err(|e| Failure(format!("kid `{kid}`: {e}")))?,
        None => key,
    };
    Ok((key, secret))
}

/// A key file readable by group or others is a secret on display: say so.
fn warn_if_shared(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path) {
            let mode = meta.permissions().mode();
            if mode & 0o077 != 0 {
                eprintln!(
                    "tessera: warning: key file {} is readable by others (mode {:o}); chmod 600 it",
                    path.display(),
                    mode & 0o777
                );
            }
        }
    }
}

/// `tessera keygen`: a fresh random key for `--alg`, on stdout or into a new
/// file created with mode 0600.
pub(crate) fn keygen(args: &KeygenArgs) -> Result<(), Failure> {
    use std::io::Write;
    let len = match args.alg {
        Alg::Jws(alg) => alg.output_len(),
        Alg::Paseto(_) => 32,
    };
    let mut secret = vec![0u8; len];
    getrandom::fill(&mut secret).map_err(|e| Failure(format!("no OS randomness: {e}")))?;
    match &args.out {
        None => std::io::stdout()
            .write_all(&secret)
            .map_err(|e| Failure(format!("i/o: {e}"))),
        Some(path) => {
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options
                .open(path)
                .map_err(|e| Failure(format!("cannot create {}: {e}", path.display())))?;
            file.write_all(&secret)
                .map_err(|e| Failure(format!("cannot write {}: {e}", path.display())))
        }
    }
}

/// Arguments of `tessera keygen`.
#[derive(Args, Debug)]
pub(crate) struct KeygenArgs {
    /// Algorithm the key is for: HS256/384/512 (the hash output: 32, 48 or 64
    /// bytes), v4.local (a 32-byte key) or v4.public (a 32-byte seed, to mint).
    #[arg(long, value_name = "ALG", default_value = "HS256", value_parser = parse_alg)]
    alg: Alg,
    /// Write to this new file (mode 0600; an existing file is not overwritten)
    /// instead of stdout.
    #[arg(long, value_name = "PATH")]
    out: Option<PathBuf>,
}

/// The keys a verifier accepts: one key file, or a ring of named keys.
#[derive(Args, Debug)]
pub(crate) struct RingArgs {
    /// File holding the raw key bytes.
    #[arg(
        long,
        value_name = "PATH",
        required_unless_present = "keys",
        env = "TESSERA_KEY_FILE"
    )]
    key_file: Option<PathBuf>,
    /// A named key for a ring (repeatable); tokens then select it by `kid`.
    #[arg(
        long = "key",
        value_name = "KID=PATH",
        conflicts_with = "key_file",
        env = "TESSERA_KEYS",
        value_delimiter = ','
    )]
    keys: Vec<String>,
    /// Algorithm of every key (HS256, HS384, HS512, v4.local, v4.public).
    #[arg(long, value_name = "ALG", default_value = "HS256", value_parser = parse_alg, env = "TESSERA_ALG")]
    alg: Alg,
}

impl RingArgs {
    /// Whether `--alg` names a PASETO purpose.
    pub(crate) fn is_paseto(&self) -> bool {
        matches!(self.alg, Alg::Paseto(_))
    }

    /// The JWS ring, or the PASETO key `--alg v4.*` asks for (one `--key-file`).
    pub(crate) fn verifier(&self) -> Result<TokenKeys, Failure> {
        self.keys_and_fingerprint().map(|(keys, _)| keys)
    }

    /// The keys, and a one-way digest of their secret material: instances
    /// started with the same keys derive the same value (the gateway names its
    /// Redis records with it). `None` for a `v4.public` key, which is no
    /// secret: names derived from it could be computed, and aimed, by anyone.
    pub(crate) fn keys_and_fingerprint(&self) -> Result<(TokenKeys, Option<Vec<u8>>), Failure> {
        let purpose = match self.alg {
            Alg::Paseto(purpose) => purpose,
            Alg::Jws(alg) => {
                let (ring, digest) = self.ring_and_fingerprint(alg)?;
                return Ok((TokenKeys::Jws(Box::new(ring)), Some(digest)));
            }
        };
        let path = match (&self.key_file, self.keys.is_empty()) {
            (Some(path), true) => path,
            _ => return Err(Failure("--alg v4.*: give one --key-file, not --key".into())),
        };
        let bytes = paseto::read(path)?;
        match purpose {
            Purpose::Local => {
                let mut digest = Sha256::new();
                digest.update(b"tessera gateway record names v1 paseto");
                digest.update(b"v4.local");
                digest.update(&bytes);
                let keys = TokenKeys::Local(paseto::local_key(path, &bytes)?);
                Ok((keys, Some(digest.finalize().to_vec())))
            }
            Purpose::Public => Ok((TokenKeys::Public(paseto::public_key(path, &bytes)?), None)),
        }
    }

    fn ring_and_fingerprint(&self, alg: Algorithm) -> Result<(Ring, Vec<u8>), Failure> {
        let mut ring = Ring::new();
        let mut digest = Sha256::new();
        digest.update(b"tessera gateway record names v1");
        let mut add = |(key, secret): (Key, Vec<u8>)| {
            digest.update((secret.len() as u64).to_le_bytes());
            digest.update(&secret);
            ring.add(key).map_err(|e| Failure(format!("key ring: {e}")))
        };
        if let Some(path) = &self.key_file {
            add(load_with_secret(alg, path, None)?)?;
        }
        for spec in &self.keys {
            let (kid, path) = spec
                .split_once('=')
                .ok_or_else(|| Failure(format!("--key `{spec}`: expected KID=PATH")))?;
            add(load_with_secret(alg, Path::new(path), Some(kid))?)?;
        }
        Ok((ring, digest.finalize().to_vec()))
    }
}
