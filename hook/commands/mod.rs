//! One module per command; each returns the process exit code.

mod audit;
mod generate;
mod hook;
mod ignore;
mod install;
mod report;
mod rules;
mod scan;
mod sources;

use leakgate::exit::Exit;

use crate::cli::{Cli, Command};

/// Runs the parsed command line.
pub(crate) fn run(cli: &Cli) -> anyhow::Result<Exit> {
    match &cli.command {
        Command::Scan(args) => scan::run(&cli.common, args),
        // `audit` and `report` still return their code as a number (0, 1 or 2).
        Command::Audit(args) => audit::run(&cli.common, args).map(exit_from_code),
        Command::Report(cmd) => report::run(&cli.common, cmd).map(exit_from_code),
        Command::Rules(cmd) => rules::run(&cli.common, cmd),
        Command::Ignore(args) => ignore::run(args),
        Command::Hook(cmd) => hook::run(&cli.common, cmd),
        Command::Install(args) => install::install(args),
        Command::Uninstall(args) => install::uninstall(args),
        Command::Init => generate::init(),
        Command::Completions { shell } => generate::completions(*shell),
        Command::Man => generate::man(),
    }
}

/// The [`Exit`] of a numeric exit code: 0 clean, 1 found, anything else an error.
fn exit_from_code(code: i32) -> Exit {
    match code {
        0 => Exit::Clean,
        1 => Exit::Found,
        _ => Exit::Error,
    }
}
