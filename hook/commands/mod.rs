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

use crate::cli::{Cli, Command};

/// Runs the parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<i32> {
    match &cli.command {
        Command::Scan(args) => scan::run(&cli.common, args),
        Command::Audit(args) => audit::run(&cli.common, args),
        Command::Report(cmd) => report::run(&cli.common, cmd),
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
