//! `leakgate rules list` and `leakgate rules check [FILE...]`.

use leakgate::exit::Exit;
use std::collections::HashSet;

use leakgate::rules::{self, Rule};
use leakgate::scanner::{Scanner, Suppressions};
use leakgate::selftest;

use crate::cli::{Common, RulesCommand};
use crate::{output, setup};

/// Runs a `rules` subcommand.
pub(super) fn run(common: &Common, command: &RulesCommand) -> anyhow::Result<Exit> {
    match command {
        RulesCommand::List => list(common),
        RulesCommand::Check { files } => check(common, files),
    }
}

fn list(common: &Common) -> anyhow::Result<Exit> {
    let root = setup::work_tree_root();
    let setup = setup::load_from_disk(common, &root)?;
    let scanner = setup.scanner(common)?;
    let mut text = String::new();
    for rule in scanner.rules() {
        text.push_str(&format!(
            "{}\t{}\t{}\t{}\n",
            rule.id(),
            rule.raw.severity,
            rule.provider.name,
            rule.raw.description
        ));
    }
    output::stdout(&text)?;
    Ok(Exit::Clean)
}

fn check(common: &Common, files: &[std::path::PathBuf]) -> anyhow::Result<Exit> {
    let (to_check, all): (Vec<Rule>, Vec<Rule>) = if files.is_empty() {
        let builtin = if common.no_builtin {
            Vec::new()
        } else {
            leakgate::builtin::rules_with_examples()?
        };
        (builtin.clone(), builtin)
    } else {
        let checked = rules::load_rule_paths(files)?;
        let ids: HashSet<&str> = checked.iter().map(Rule::id).collect();
        let mut all: Vec<Rule> = if common.no_builtin {
            Vec::new()
        } else {
            leakgate::builtin::rules()?
                .into_iter()
                .filter(|r| !ids.contains(r.id()))
                .collect()
        };
        all.extend(checked.iter().cloned());
        (checked, all)
    };
    let scanner = Scanner::new(all, Suppressions::default())?;
    scanner.compile_all()?;
    let refs: Vec<&Rule> = to_check.iter().collect();
    let failures = selftest::check_examples(&scanner, &refs)?;
    let mut text = String::new();
    for f in &failures {
        text.push_str(&format!("{}: rule `{}`: {}\n", f.origin, f.rule, f.message));
    }
    let examples: usize = to_check
        .iter()
        .map(|r| r.raw.examples.len() + r.raw.negative_examples.len())
        .sum();
    let providers: HashSet<&str> = to_check.iter().map(|r| r.provider.name.as_str()).collect();
    text.push_str(&format!(
        "checked {} rules of {} providers, {} examples: {} failures\n",
        to_check.len(),
        providers.len(),
        examples,
        failures.len()
    ));
    if failures.is_empty() {
        output::stdout(&text)?;
        Ok(Exit::Clean)
    } else {
        output::stderr(&text)?;
        Ok(Exit::Found)
    }
}
