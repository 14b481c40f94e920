//! `tessera mint`: signs one token and prints it.

use std::path::PathBuf;

use clap::Args;
use serde_json::{Map, Value};
use tessera_core::Algorithm;

use super::{keys, now_or, Failure};

/// Arguments of `tessera mint`.
#[derive(Args, Debug)]
pub(crate) struct MintArgs {
    /// File holding the raw key bytes.
    #[arg(long, value_name = "PATH")]
    key_file: PathBuf,
    /// Algorithm.
    #[arg(long, value_name = "ALG", default_value = "HS256", value_parser = keys::parse_alg)]
    alg: Algorithm,
    /// Key identifier written into the header.
    #[arg(long, value_name = "KID")]
    kid: Option<String>,
    /// Custom claims: a JSON object merged into the payload.
    #[arg(long, value_name = "JSON")]
    claims: Option<String>,
    /// Subject.
    #[arg(long, value_name = "S")]
    sub: Option<String>,
    /// Issuer.
    #[arg(long, value_name = "I")]
    iss: Option<String>,
    /// Audience (a string).
    #[arg(long, value_name = "A")]
    aud: Option<String>,
    /// Lifetime in seconds: `exp` = now + ttl.
    #[arg(long, value_name = "SECS", default_value_t = 3600)]
    ttl: u64,
    /// The current time in Unix seconds (default: the system clock).
    #[arg(long, value_name = "UNIX")]
    now: Option<u64>,
}

/// The signed token. Flags win over members of `--claims` with the same name.
pub(crate) fn run(args: &MintArgs) -> Result<String, Failure> {
    let key = keys::load(args.alg, &args.key_file, args.kid.as_deref())?;
    let mut claims = match &args.claims {
        None => Map::new(),
        Some(text) => match serde_json::from_str(text) {
            Ok(Value::Object(map)) => map,
            Ok(_) => return Err(Failure("--claims must be a JSON object".into())),
            Err(e) => return Err(Failure(format!("--claims is not JSON: {e}"))),
        },
    };
    let now = now_or(args.now);
    let exp = now
        .checked_add(args.ttl)
        .ok_or_else(|| Failure("--now plus --ttl overflows".into()))?;
    for (name, value) in [("sub", &args.sub), ("iss", &args.iss), ("aud", &args.aud)] {
        if let Some(value) = value {
            claims.insert(name.into(), Value::String(value.clone()));
        }
    }
    claims.insert("iat".into(), now.into());
    claims.insert("exp".into(), exp.into());
    let json = serde_json::to_vec(&claims).map_err(|e| Failure(format!("claims: {e}")))?;
    // Base64url grows 4/3; the header and signature fit in the extra 512 bytes.
    let mut out = vec![0u8; json.len().saturating_mul(2).saturating_add(512)];
    let token = key
        .sign_json(&json, &mut out)
        .map_err(|e| Failure(format!("signing failed: {e}")))?;
    Ok(token.to_owned())
}
