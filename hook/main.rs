//! The `leakgate` binary: parses arguments, builds the scanner, calls the library, maps the outcome
//! to an exit code (0 clean, 1 secrets found, 2 error).

mod cli;
mod commands;
mod output;
mod setup;

use clap::Parser;

use std::process::ExitCode;

use leakgate::exit::Exit;

fn main() -> ExitCode {
    leakgate::allocator::tune_for_short_lived_process();
    let cli = cli::Cli::parse();
    match commands::run(&cli) {
        Ok(exit) => exit.into(),
        Err(error) => {
            // The one place an error is shown: its whole chain of causes.
            eprintln!("leakgate: {}", output::error_chain(&error));
            Exit::Error.into()
        }
    }
}
