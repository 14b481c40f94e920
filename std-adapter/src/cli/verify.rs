//! `tessera verify`: one token per stdin line, one JSON verdict per stdout line.

use std::io::{self, BufRead, Write};

use clap::Args;
use serde::Serialize;
use serde_json::Value;
use tessera_core::{paseto::Options, Malformed, Validation, DEFAULT_MAX_LEN};

use crate::layer::auth::{Checked, TokenKeys};

use super::{keys::RingArgs, now_or, paseto::PasetoArgs, policy::PolicyArgs, Failure};

/// Arguments of `tessera verify`.
#[derive(Args, Debug)]
pub(crate) struct VerifyArgs {
    #[command(flatten)]
    keys: RingArgs,
    #[command(flatten)]
    policy: PolicyArgs,
    #[command(flatten)]
    paseto: PasetoArgs,
    /// The current time in Unix seconds (default: the system clock).
    #[arg(long, value_name = "UNIX")]
    now: Option<u64>,
}

/// Whether every line held a valid token.
pub(crate) fn run(
    args: &VerifyArgs,
    input: impl BufRead,
    mut output: impl Write,
) -> Result<bool, Failure> {
    let verifier = args.keys.verifier()?;
    if !args.keys.is_paseto() && args.paseto.given() {
        return Err(Failure("--footer and --implicit are for --alg v4.*".into()));
    }
    let options = args.paseto.options();
    let validation = args.policy.validation()?.max_len(DEFAULT_MAX_LEN);
    let now = now_or(args.now);
    let io_failure = |e: io::Error| Failure(format!("i/o: {e}"));
    let mut all_valid = true;
    for line in input.split(b'\n') {
        let mut line = line.map_err(io_failure)?;
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        let verdict = verdict(&verifier, &validation, &options, now, &line);
        all_valid &= matches!(verdict, Verdict::Valid { .. });
        let json = serde_json::to_string(&verdict).map_err(|e| Failure(format!("output: {e}")))?;
        writeln!(output, "{json}")
            .and_then(|()| output.flush())
            .map_err(io_failure)?;
    }
    Ok(all_valid)
}

/// One output line; fields in the documented order.
#[derive(Serialize)]
#[serde(untagged)]
enum Verdict {
    Valid {
        valid: bool,
        claims: Value,
        /// A PASETO footer, when the token has one: as text when it is UTF-8,
        /// else as the token's base64url segment.
        #[serde(skip_serializing_if = "Option::is_none")]
        footer: Option<String>,
    },
    Invalid {
        valid: bool,
        error: &'static str,
        message: String,
    },
}

fn verdict(
    verifier: &TokenKeys,
    validation: &Validation<'_>,
    options: &Options<'_>,
    now: u64,
    line: &[u8],
) -> Verdict {
    let invalid = |error, message| Verdict::Invalid {
        valid: false,
        error,
        message,
    };
    let Ok(token) = std::str::from_utf8(line) else {
        return invalid(
            tessera_core::Error::Malformed(Malformed::Utf8).code(),
            "token is not UTF-8".into(),
        );
    };
    let mut buf = vec![0u8; token.len().min(DEFAULT_MAX_LEN)];
    match verifier.verify(token, validation, options, now, &mut buf) {
        Ok(Checked {
            payload, footer, ..
        }) => match serde_json::from_str::<Value>(payload) {
            Ok(claims) => Verdict::Valid {
                valid: true,
                claims,
                footer: footer_text(token, footer),
            },
            Err(e) => invalid(tessera_core::Error::Claims.code(), e.to_string()),
        },
        Err(e) => invalid(e.code(), e.to_string()),
    }
}

fn footer_text(token: &str, footer: &[u8]) -> Option<String> {
    if footer.is_empty() {
        return None;
    }
    Some(match std::str::from_utf8(footer) {
        Ok(text) => text.to_owned(),
        Err(_) => token.rsplit_once('.').map_or("", |(_, f)| f).to_owned(),
    })
}
