//! The `leakgate-server` binary: git's `pre-receive` hook for hosting admins. Thin: parses
//! arguments, loads the policy, calls the library, prints, records, exits (0 accept, 1 secrets,
//! 2 error).

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context as _};
use clap::{Parser, Subcommand};
use leakgate::install::{hook_script, install_script, Installed};
use leakgate::report::sanitize::sanitize;
use leakgate::server::policy::{locate, Policy, PolicySource, POLICY_GIT_KEY};
use leakgate::server::{audit, receive};

/// leakgate-server: rejects pushes that add secrets (run as git's pre-receive hook).
#[derive(Debug, Parser)]
#[command(name = "leakgate-server", version, about)]
struct Cli {
    /// Policy file (else LEAKGATE_SERVER_CONFIG, the repository's leakgate.config,
    /// /etc/leakgate/server.yaml, or built-in defaults).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<ServerCommand>,
}

#[derive(Debug, Subcommand)]
enum ServerCommand {
    /// Run as the pre-receive hook (the default): reads `<old> <new> <ref>` lines on stdin.
    PreReceive,
    /// Install the hook into bare repositories (an existing pre-receive hook is chained) and
    /// enable push options (for the bypass).
    Install {
        /// Bare repositories.
        #[arg(required = true)]
        repos: Vec<PathBuf>,
    },
    /// Validate a policy file: YAML, rules, regexes.
    CheckConfig {
        /// The policy file.
        file: PathBuf,
    },
}

fn main() {
    leakgate::allocator::tune_for_short_lived_process();
    let cli = Cli::parse();
    let code = match run(&cli) {
        Ok(code) => code,
        Err(error) => {
            let chain: Vec<String> = error.chain().map(|e| e.to_string()).collect();
            eprintln!("leakgate-server: {}", sanitize(&chain.join(": ")));
            2
        }
    };
    std::process::exit(code);
}

fn run(cli: &Cli) -> anyhow::Result<i32> {
    match &cli.command {
        None | Some(ServerCommand::PreReceive) => Ok(pre_receive(cli.config.as_deref())),
        Some(ServerCommand::Install { repos }) => install(repos, cli.config.as_deref()),
        Some(ServerCommand::CheckConfig { file }) => check_config(file),
    }
}

/// The hook. Any failure before a decision rejects the push (fail closed) with a message.
fn pre_receive(flag: Option<&Path>) -> i32 {
    let mut input = String::new();
    if let Err(e) = std::io::stdin().read_to_string(&mut input) {
        eprintln!("leakgate: push rejected: cannot read the pushed ref updates: {e}");
        return 2;
    }
    let mut repo = match leakgate::git::open_repository(Path::new(".")) {
        Ok(repo) => repo,
        Err(e) => {
            eprintln!("leakgate: push rejected: {}", sanitize(&e.to_string()));
            return 2;
        }
    };
    let configured = repo
        .config_snapshot()
        .string(POLICY_GIT_KEY)
        .map(|v| PathBuf::from(v.to_string()));
    let policy = match locate(flag, configured) {
        PolicySource::Defaults => Policy::default(),
        PolicySource::File(path) => match Policy::read(&path) {
            Ok(policy) => policy,
            Err(e) => {
                eprintln!(
                    "leakgate: push rejected: the server policy cannot be loaded: {}\nleakgate: ask the server admin to run `leakgate-server check-config {}`.",
                    sanitize(&e.to_string()),
                    sanitize(&path.display().to_string())
                );
                return 2;
            }
        },
    };
    let repository = std::env::current_dir()
        .map(|d| d.display().to_string())
        .unwrap_or_default();
    let updates = receive::parse_updates(&input);
    let ctx = receive::PushContext::from_env(repository);
    let mut result = receive::receive(&mut repo, &policy, &updates, &ctx);
    if let Err(e) = audit::append(&policy.audit_log, &result.record) {
        if result.record.decision == "bypassed" {
            result.exit_code = 1;
            result.message.push_str(&format!(
                "leakgate: bypass refused after all: it could not be recorded ({e}); push rejected.\n"
            ));
        } else {
            result.message.push_str(&format!(
                "leakgate: warning: the audit log {} could not be written: {e}\n",
                policy.audit_log.display()
            ));
        }
    }
    eprint!("{}", result.message);
    result.exit_code
}

fn git_config(repo: &Path, args: &[&str]) -> anyhow::Result<()> {
    let status = Command::new("git")
        .arg("--git-dir")
        .arg(repo)
        .arg("config")
        .args(args)
        .status()
        .context("cannot run git config")?;
    if !status.success() {
        bail!("git config {} failed in {}", args.join(" "), repo.display());
    }
    Ok(())
}

fn install(repos: &[PathBuf], config: Option<&Path>) -> anyhow::Result<i32> {
    let binary = std::env::current_exe()
        .context("cannot tell where leakgate-server is")?
        .display()
        .to_string();
    let policy = match config {
        Some(path) => {
            let policy = Policy::read(path)?;
            Some((policy, std::fs::canonicalize(path)?))
        }
        None => None,
    };
    for repo_path in repos {
        let repo = gix::open(repo_path)
            .with_context(|| format!("{} is not a git repository", repo_path.display()))?;
        let hooks = repo
            .config_snapshot()
            .string("core.hooksPath")
            .map(|v| {
                let p = PathBuf::from(v.to_string());
                if p.is_absolute() {
                    p
                } else {
                    repo.git_dir().join(p)
                }
            })
            .unwrap_or_else(|| repo.common_dir().join("hooks"));
        let script = hook_script("pre-receive", &binary, "pre-receive", false);
        let result = install_script(&hooks, "pre-receive", &script, true)?;
        let git_dir = repo.git_dir().to_path_buf();
        git_config(&git_dir, &["receive.advertisePushOptions", "true"])?;
        if let Some((_, path)) = &policy {
            git_config(&git_dir, &[POLICY_GIT_KEY, &path.display().to_string()])?;
        }
        let note = match result {
            Installed::Fresh => "installed".to_string(),
            Installed::Updated => "updated".to_string(),
            Installed::Chained(p) => {
                format!("installed; the existing hook is chained ({})", p.display())
            }
        };
        eprintln!(
            "leakgate-server: {}: pre-receive {note}; push options enabled",
            git_dir.display()
        );
    }
    if let Some((policy, _)) = policy {
        if let Err(e) = audit::load_or_create_key(&policy.fingerprint_key_file) {
            eprintln!(
                "leakgate-server: warning: fingerprint key {}: {e} (create it, readable by the git user)",
                policy.fingerprint_key_file.display()
            );
        }
    }
    Ok(0)
}

fn check_config(file: &Path) -> anyhow::Result<i32> {
    let policy = Policy::read(file)?;
    let config = policy.as_scan_config();
    let name = file.display().to_string();
    let (rules, unknown) = leakgate::config::assemble_rules(&config, &name, &Default::default())?;
    let allowed = leakgate::config::suppressions(&config, &name, Default::default())?;
    let count = rules.len();
    let scanner = leakgate::scanner::Scanner::new(rules, allowed)?;
    scanner.compile_all()?;
    for id in unknown {
        eprintln!(
            "leakgate-server: warning: {name}: `disable` names no builtin rule: {}",
            sanitize(&id)
        );
    }
    println!("{name}: ok ({count} rules active)");
    Ok(0)
}
