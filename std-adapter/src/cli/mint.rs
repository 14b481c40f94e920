//! `tessera mint`: signs (or, for `v4.local`, encrypts) one token and prints it.

use std::path::PathBuf;

use super::{
    keys::{self, Alg},
    now_or,
    paseto::{self, PasetoArgs, Purpose},
    Failure,
};
use clap::Args;
use serde_json::{Map, Value};

/// Arguments of `tessera mint`.
#[derive(Args, Debug)]
pub(crate) struct MintArgs {
    /// File holding the raw key bytes (for v4.public: the 32-byte seed, or
    /// 64 bytes seed and public key).
    #[arg(long, value_name = "PATH")]
    key_file: PathBuf,
    /// Algorithm: HS256, HS384, HS512, v4.local or v4.public.
    #[arg(long, value_name = "ALG", default_value = "HS256", value_parser = keys::parse_alg)]
    alg: Alg,
    #[command(flatten)]
    paseto: PasetoArgs,
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
/// JWS dates are NumericDates; PASETO's are RFC 3339 UTC strings.
pub(crate) fn run(args: &MintArgs) -> Result<String, Failure> {
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
    let purpose = match args.alg {
        Alg::Paseto(purpose) => purpose,
        Alg::Jws(alg) => {
            if args.paseto.given() {
                return Err(Failure("--footer and --implicit are for --alg v4.*".into()));
            }
            let key = keys::load(alg, &args.key_file, args.kid.as_deref())?;
            claims.insert("iat".into(), now.into());
            claims.insert("exp".into(), exp.into());
            let json = to_json(&claims)?;
            let mut out = out_buffer(&json, 0);
            let token = key.sign_json(&json, &mut out).map_err(signing_failed)?;
            return Ok(token.to_owned());
        }
    };
    if args.kid.is_some() {
        return Err(Failure(
            "--kid is for JWS; PASETO keys are named in the footer (--footer)".into(),
        ));
    }
    claims.insert("iat".into(), paseto::rfc3339(now)?.into());
    claims.insert("exp".into(), paseto::rfc3339(exp)?.into());
    let json = to_json(&claims)?;
    let options = args.paseto.options();
    let mut out = out_buffer(&json, args.paseto.footer_len());
    let token = match purpose {
        Purpose::Local => {
            let mut random = [0u8; 32];
            getrandom::fill(&mut random).map_err(|e| Failure(format!("no randomness: {e}")))?;
            paseto::local_key(&args.key_file, &paseto::read(&args.key_file)?)?
                .encrypt_json(&json, &random, &options, &mut out)
        }
        Purpose::Public => paseto::secret_key(&args.key_file, &paseto::read(&args.key_file)?)?
            .sign_json(&json, &options, &mut out),
    };
    Ok(token.map_err(signing_failed)?.to_owned())
}

fn to_json(claims: &Map<String, Value>) -> Result<Vec<u8>, Failure> {
    serde_json::to_vec(claims).map_err(|e| Failure(format!("claims: {e}")))
}

/// Base64url grows 4/3; header, tag or signature fit in the extra 512 bytes.
fn out_buffer(json: &[u8], footer_len: usize) -> Vec<u8> {
    vec![
        0u8;
        (json.len() + footer_len)
            .saturating_mul(2)
            .saturating_add(512)
    ]
}

fn signing_failed(e: tessera_core::Error) -> Failure {
    Failure(format!("signing failed: {e}"))
}
