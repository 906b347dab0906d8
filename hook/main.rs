//! The `leakgate` binary: parses arguments, builds the scanner, calls the library, maps the outcome
//! to an exit code (0 clean, 1 secrets found, 2 error).

mod cli;
mod commands;
mod output;
mod setup;

use clap::Parser;

fn main() {
    leakgate::allocator::tune_for_short_lived_process();
    let cli = cli::Cli::parse();
    let code = match commands::run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("leakgate: {}", output::error_chain(&error));
            2
        }
    };
    std::process::exit(code);
}
