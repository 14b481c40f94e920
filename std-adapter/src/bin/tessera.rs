//! The `tessera` command line: mint, verify, gateway. See `tessera --help`.

fn main() -> std::process::ExitCode {
    tessera_std::cli::main()
}
