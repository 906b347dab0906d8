//! The `leakgate-server` binary: git's `pre-receive` hook for hosting admins. Thin: parses
//! arguments, loads the policy, calls the library, prints, records, exits (0 accept, 1 secrets,
//! 2 error).

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{bail, Context as _};
use clap::{Parser, Subcommand};
use leakgate::exit::{chain, Exit};
use leakgate::install::{
    hook_script, hooks_dir, install_script, shell_quote, uninstall_script, Installed, Uninstalled,
};
use leakgate::report::sanitize::sanitize;
use leakgate::server::decision::Decision;
use leakgate::server::policy::{locate, repository_policy, Policy, PolicySource, POLICY_GIT_KEY};
use leakgate::server::{audit, receive};

/// leakgate-server: rejects pushes that add secrets (run as git's pre-receive hook).
#[derive(Debug, Parser)]
#[command(name = "leakgate-server", version, about)]
struct Cli {
    /// Policy file (else leakgate.config in the repository's own config file,
    /// /etc/leakgate/server.yaml, or built-in defaults; never the pusher's environment or git
    /// config).
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
    /// Remove the hook from bare repositories: a chained pre-receive hook is put back, and the
    /// `leakgate.config` setting is removed.
    Uninstall {
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

fn main() -> ExitCode {
    leakgate::allocator::tune_for_short_lived_process();
    let cli = Cli::parse();
    match run(&cli) {
        Ok(exit) => exit.into(),
        Err(error) => {
            // The one place an error is shown: its whole chain of causes.
            let chain: Vec<String> = error.chain().map(ToString::to_string).collect();
            eprintln!("leakgate-server: {}", sanitize(&chain.join(": ")));
            Exit::Error.into()
        }
    }
}

fn run(cli: &Cli) -> anyhow::Result<Exit> {
    match &cli.command {
        None | Some(ServerCommand::PreReceive) => Ok(pre_receive(cli.config.as_deref())),
        Some(ServerCommand::Install { repos }) => install(repos, cli.config.as_deref()),
        Some(ServerCommand::Uninstall { repos }) => uninstall(repos),
        Some(ServerCommand::CheckConfig { file }) => check_config(file),
    }
}

/// The hook. Any failure before a decision rejects the push (fail closed) with a message, and
/// every outcome, refusals included, gets an audit line.
fn pre_receive(flag: Option<&Path>) -> Exit {
    let repository = std::env::current_dir()
        .map(|d| d.display().to_string())
        .unwrap_or_default();
    let mut raw = Vec::new();
    let read = std::io::stdin().read_to_end(&mut raw);
    // Ref names are bytes; ids are hex: a non-UTF-8 name is kept (lossily) rather than refused.
    let parsed = receive::parse_updates(&String::from_utf8_lossy(&raw));
    let updates = parsed.clone().unwrap_or_default();
    match prepare(flag, read, &parsed) {
        Ok((mut repo, policy)) => scan_and_decide(&mut repo, &policy, &updates, repository),
        Err(refusal) => {
            let policy = if refusal.early_policy {
                early_policy(flag)
            } else {
                None
            };
            refuse(policy.as_ref(), &repository, &updates, &refusal.why)
        }
    }
}

/// A push refused before its scan.
struct Refusal {
    /// Why, for the pusher.
    why: String,
    /// Whether the policy found without the repository ([`early_policy`]) records it; when not
    /// (that policy is the one that failed to load), the defaults' audit log does.
    early_policy: bool,
}

impl Refusal {
    /// A refusal recorded in the audit log of [`early_policy`].
    fn early(why: String) -> Refusal {
        Refusal {
            why,
            early_policy: true,
        }
    }
}

/// Before the repository is open, the policy is still the admin's: the flag written into the
/// hook, else `leakgate.config` of the repository's own config file (git runs the hook in the git
/// directory), else the defaults; so a refusal is recorded where every other line goes.
fn early_policy(flag: Option<&Path>) -> Option<Policy> {
    let git_dir = std::env::var_os("GIT_DIR").map_or_else(|| PathBuf::from("."), PathBuf::from);
    let configured = match flag {
        Some(_) => None,
        None => repository_policy(&git_dir).ok().flatten(),
    };
    match locate(flag, configured) {
        PolicySource::File(path) => Policy::read(&path).ok(),
        PolicySource::Defaults => Some(Policy::default()),
    }
}

/// The steps before a scan: the input was read, the repository opens, the input parses (checked
/// after the repository, whose object format explains a SHA-256 id better), the policy loads.
fn prepare(
    flag: Option<&Path>,
    read: std::io::Result<usize>,
    parsed: &Result<Vec<receive::RefUpdate>, leakgate::git::ref_update::ParseError>,
) -> Result<(gix::Repository, Policy), Refusal> {
    if let Err(e) = read {
        return Err(Refusal::early(format!(
            "cannot read the pushed ref updates: {}",
            chain(&e)
        )));
    }
    let repo =
        leakgate::git::open_repository(Path::new(".")).map_err(|e| Refusal::early(chain(&e)))?;
    if let Err(e) = parsed {
        return Err(Refusal::early(chain(e)));
    }
    let policy = load_policy(flag, &repo)?;
    Ok((repo, policy))
}

/// The policy: the flag written into the hook, else the one the repository's own config file
/// names (git's global and system config, and the environment's, are the pusher's in a local
/// push), else the defaults.
fn load_policy(flag: Option<&Path>, repo: &gix::Repository) -> Result<Policy, Refusal> {
    let configured = match flag {
        Some(_) => None,
        None => repository_policy(repo.common_dir()).map_err(|e| {
            server_log(&chain(&e));
            Refusal::early("the repository's config cannot be read".to_string())
        })?,
    };
    match locate(flag, configured) {
        PolicySource::Defaults => Ok(Policy::default()),
        PolicySource::File(path) => Policy::read(&path).map_err(|e| {
            let e = chain(&e);
            server_log(&format!(
                "the policy {} cannot be loaded: {e}",
                path.display()
            ));
            Refusal {
                why: format!(
                    "the server policy cannot be loaded: {e}\nleakgate: ask the server admin to run `leakgate-server check-config {}`",
                    path.display()
                ),
                early_policy: false,
            }
        }),
    }
}

/// Scans the push, writes its audit line, tells the pusher the decision.
fn scan_and_decide(
    repo: &mut gix::Repository,
    policy: &Policy,
    updates: &[receive::RefUpdate],
    repository: String,
) -> Exit {
    let ctx = receive::PushContext::from_env(repository, policy.pusher_variable.as_deref());
    let result = receive::receive(repo, policy, updates, &ctx);
    if let Some(e) = &result.key_error {
        server_log(e);
    }
    let written = audit::append(&policy.audit_log, &result.record);
    if let Err(e) = &written {
        server_log(&format!(
            "the audit log {} could not be written: {}",
            policy.audit_log.display(),
            chain(e)
        ));
    }
    let (decision, message) = receive::conclude(&result, policy, &ctx, written.is_ok());
    eprint!("{message}");
    decision.exit_status()
}

/// Refuses a push before a scan: tells the pusher, records a `rejected-before-scan` line in the
/// audit log of `policy` (the default policy's when none could be loaded), exits 2.
fn refuse(
    policy: Option<&Policy>,
    repository: &str,
    updates: &[receive::RefUpdate],
    why: &str,
) -> Exit {
    let default = Policy::default();
    let policy = policy.unwrap_or(&default);
    // A ref name can hold a secret: never stored or printed in full, even now.
    let (updates, why) = receive::redact_before_scan(policy, updates, why);
    let mut lines = why.lines();
    eprintln!(
        "leakgate: push rejected: {}",
        sanitize(lines.next().unwrap_or(""))
    );
    for line in lines {
        eprintln!("{}", sanitize(line));
    }
    let ctx =
        receive::PushContext::from_env(repository.to_string(), policy.pusher_variable.as_deref());
    let mut record = receive::base_record(&ctx, &updates);
    record.decision = Decision::RejectedBeforeScan.as_str().to_string();
    record.detail = Some(why);
    if let Err(e) = audit::append(&policy.audit_log, &record) {
        server_log(&format!(
            "the audit log {} could not be written: {}",
            policy.audit_log.display(),
            chain(&e)
        ));
    }
    Decision::RejectedBeforeScan.exit_status()
}

/// Tells the server's admin (syslog, when there is one), not the pusher.
fn server_log(message: &str) {
    let line = format!(
        "<11>leakgate-server[{}]: {}",
        std::process::id(),
        sanitize(message)
    );
    if let Ok(socket) = std::os::unix::net::UnixDatagram::unbound() {
        let _ = socket.send_to(line.as_bytes(), "/dev/log");
    }
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

/// Removes leakgate's pre-receive hook, putting a chained hook back; removes `leakgate.config`.
/// `receive.advertisePushOptions` is left as it is (other hooks may use push options).
fn uninstall(repos: &[PathBuf]) -> anyhow::Result<Exit> {
    for repo_path in repos {
        let repo = gix::open(repo_path)
            .with_context(|| format!("{} is not a git repository", repo_path.display()))?;
        let hooks = hooks_dir(&repo);
        let git_dir = repo.git_dir().to_path_buf();
        let note = match uninstall_script(&hooks, "pre-receive")? {
            Uninstalled::NotInstalled => "no pre-receive hook: nothing to remove",
            Uninstalled::Removed => "pre-receive removed",
            Uninstalled::Restored => "pre-receive removed; the chained hook is back in its place",
            Uninstalled::Foreign => "the pre-receive hook there is not leakgate's: left alone",
        };
        let configured = repo.config_snapshot().string(POLICY_GIT_KEY).is_some();
        if configured {
            git_config(&git_dir, &["--unset-all", POLICY_GIT_KEY])?;
        }
        eprintln!("leakgate-server: {}: {note}", git_dir.display());
    }
    Ok(Exit::Clean)
}

fn install(repos: &[PathBuf], config: Option<&Path>) -> anyhow::Result<Exit> {
    let binary = std::env::current_exe()
        .context("cannot tell where leakgate-server is")?
        .display()
        .to_string();
    let policy = match config {
        Some(path) => {
            let policy = Policy::read(path)?;
            // A key that cannot be used would reject every push with a finding: refuse now,
            // before anything is installed (a missing key is created, mode 0600).
            audit::load_or_create_key(&policy.fingerprint_key_file)
                .with_context(|| format!("{}: fingerprint_key_file", path.display()))?;
            Some((policy, std::fs::canonicalize(path)?))
        }
        None => None,
    };
    for repo_path in repos {
        let repo = gix::open(repo_path)
            .with_context(|| format!("{} is not a git repository", repo_path.display()))?;
        let hooks = hooks_dir(&repo);
        // The policy is written into the hook itself: nothing the pusher controls can change it.
        let command = match &policy {
            Some((_, path)) => format!(
                "pre-receive --config {}",
                shell_quote(&path.display().to_string())
            ),
            None => "pre-receive".to_string(),
        };
        let script = hook_script("pre-receive", &binary, &command, false);
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
    Ok(Exit::Clean)
}

fn check_config(file: &Path) -> anyhow::Result<Exit> {
    let policy = Policy::read(file)?;
    let config = policy.as_scan_config();
    let name = file.display().to_string();
    let key = &policy.fingerprint_key_file;
    match audit::check_key_file(key).with_context(|| format!("{name}: fingerprint_key_file"))? {
        audit::KeyFile::Present => {}
        audit::KeyFile::Missing => eprintln!(
            "leakgate-server: note: {name}: the fingerprint key {} does not exist yet; the hook creates it (mode 0600) on first use",
            sanitize(&key.display().to_string())
        ),
    }
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
    Ok(Exit::Clean)
}
