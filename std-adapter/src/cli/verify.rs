//! `tessera verify`: one token per stdin line, one JSON verdict per stdout line.

use std::io::{self, BufRead, Write};

use clap::Args;
use serde::Serialize;
use serde_json::Value;
use tessera_core::{Malformed, Validation, DEFAULT_MAX_LEN};

use super::{keys::RingArgs, now_or, policy::PolicyArgs, Failure};
use crate::layer::auth::Ring;

/// Arguments of `tessera verify`.
#[derive(Args, Debug)]
pub(crate) struct VerifyArgs {
    #[command(flatten)]
    keys: RingArgs,
    #[command(flatten)]
    policy: PolicyArgs,
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
    let ring = args.keys.ring()?;
    let validation = args.policy.validation()?.max_len(DEFAULT_MAX_LEN);
    let now = now_or(args.now);
    let io_failure = |e: io::Error| Failure(format!("i/o: {e}"));
    let mut all_valid = true;
    for line in input.split(b'\n') {
        let mut line = line.map_err(io_failure)?;
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        let verdict = verdict(&ring, &validation, now, &line);
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
    },
    Invalid {
        valid: bool,
        error: &'static str,
        message: String,
    },
}

fn verdict(ring: &Ring, validation: &Validation<'_>, now: u64, line: &[u8]) -> Verdict {
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
    match ring.verify(token, validation, now, &mut buf) {
        Ok(verified) => match serde_json::from_str::<Value>(verified.payload()) {
            Ok(claims) => Verdict::Valid {
                valid: true,
                claims,
            },
            Err(e) => invalid(tessera_core::Error::Claims.code(), e.to_string()),
        },
        Err(e) => invalid(e.code(), e.to_string()),
    }
}
