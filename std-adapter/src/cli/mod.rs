//! The `tessera` command line: `mint`, `verify`, `gateway`.
//!
//! Exit codes: 0 success (for `verify`: every token valid), 1 at least one
//! invalid token, 2 a usage or configuration error (message on stderr).

mod gateway;
mod keys;
mod mint;
mod paseto;
mod policy;
mod redis;
mod verify;

use std::{
    io::{self, Write},
    process::ExitCode,
    time::{SystemTime, UNIX_EPOCH},
};

use clap::{Parser, Subcommand};

/// A configuration or usage error: exit code 2, message on stderr.
#[derive(Debug)]
pub(crate) struct Failure(pub(crate) String);

/// `--now`, or the system clock, in Unix seconds.
pub(crate) fn now_or(now: Option<u64>) -> u64 {
    now.unwrap_or_else(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    })
}

#[derive(Parser, Debug)]
#[command(
    name = "tessera",
    version,
    about = "Mint and verify HMAC and PASETO v4 tokens; run the idempotency gateway"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Print one signed token on stdout.
    Mint(mint::MintArgs),
    /// Verify one token per stdin line; print one JSON verdict per line.
    Verify(verify::VerifyArgs),
    /// Run the authenticating, idempotent reverse proxy.
    Gateway(Box<gateway::GatewayArgs>),
    /// Write a fresh random key (raw bytes) for `--alg`.
    Keygen(keys::KeygenArgs),
}

/// Runs the command line and returns its exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match &cli.command {
        Command::Mint(args) => mint::run(args).and_then(|token| {
            writeln!(io::stdout(), "{token}").map_err(|e| Failure(format!("i/o: {e}")))
        }),
        Command::Verify(args) => match verify::run(args, io::stdin().lock(), io::stdout().lock()) {
            Ok(true) => Ok(()),
            Ok(false) => return ExitCode::from(1),
            Err(e) => Err(e),
        },
        Command::Gateway(args) => gateway::run(args),
        Command::Keygen(args) => keys::keygen(args),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure(message)) => {
            eprintln!("tessera: {message}");
            ExitCode::from(2)
        }
    }
}
