//! `leakgate init`, `leakgate completions SHELL`, `leakgate man`: files generated for the user,
//! the last two from the clap definitions themselves.

use anyhow::Context as _;
use clap::CommandFactory as _;
use leakgate::config::{CONFIG_FILE, CONFIG_TEMPLATE};
use leakgate::exit::Exit;

use crate::cli::Cli;
use crate::{output, setup};

/// Writes the commented default `.leakgate.yaml` at the work-tree root; refuses (exit 2) when
/// one is already there.
pub(super) fn init() -> anyhow::Result<Exit> {
    let path = setup::work_tree_root().join(CONFIG_FILE);
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path);
    match file {
        Ok(mut file) => {
            use std::io::Write as _;
            file.write_all(CONFIG_TEMPLATE.as_bytes())
                .with_context(|| format!("cannot write {}", path.display()))?;
            output::stderr(&format!(
                "leakgate: wrote {} (every setting at its default); commit it to apply it\n",
                path.display()
            ))?;
            Ok(Exit::Clean)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            output::stderr(&format!(
                "leakgate: {} already exists; not overwritten (move it away to write a fresh one)\n",
                path.display()
            ))?;
            Ok(Exit::Error)
        }
        Err(e) => Err(e).with_context(|| format!("cannot create {}", path.display())),
    }
}

/// Prints the completion script for `shell`.
pub(super) fn completions(shell: clap_complete::Shell) -> anyhow::Result<Exit> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "leakgate", &mut script);
    output::stdout(&String::from_utf8_lossy(&script))?;
    Ok(Exit::Clean)
}

/// Prints the man page (roff).
pub(super) fn man() -> anyhow::Result<Exit> {
    let mut page = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut page)
        .context("cannot render the man page")?;
    output::stdout(&String::from_utf8_lossy(&page))?;
    Ok(Exit::Clean)
}
