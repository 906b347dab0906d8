//! `leakgate install` / `leakgate uninstall`: hooks in the directory git really uses (honouring
//! `core.hooksPath`, linked worktrees and submodules), or for every repository with `--global`.

use leakgate::exit::Exit;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context as _};
use leakgate::install::{
    detect_manager, expand_home, hook_script, hooks_dir, install_script, uninstall_script,
    HookManager, Installed, Uninstalled,
};

use crate::cli::{InstallArgs, UninstallArgs};
use crate::commands::sources;
use crate::output;

/// Hooks leakgate knows how to serve.
const KNOWN_HOOKS: [&str; 3] = ["pre-commit", "commit-msg", "pre-push"];
/// File in the global hooks directory remembering the `core.hooksPath` it replaced.
const PREVIOUS_HOOKS_PATH: &str = ".leakgate-previous-hooksPath";

/// The hooks directory git uses for the repository around the current directory.
fn repository_hooks_dir() -> anyhow::Result<PathBuf> {
    Ok(hooks_dir(&sources::repository()?))
}

/// Where `--global` puts its hooks.
fn global_hooks_dir() -> anyhow::Result<PathBuf> {
    let base = match std::env::var_os("XDG_CONFIG_HOME").filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(std::env::var_os("HOME").context("HOME is not set")?).join(".config"),
    };
    Ok(base.join("leakgate").join("hooks"))
}

fn git_global(args: &[&str]) -> anyhow::Result<Option<String>> {
    let out = Command::new("git")
        .arg("config")
        .arg("--global")
        .args(args)
        .output()
        .context("cannot run git to change the global configuration")?;
    if out.status.success() {
        Ok(Some(
            String::from_utf8_lossy(&out.stdout).trim().to_string(),
        ))
    } else if out.status.code() == Some(1) || out.status.code() == Some(5) {
        Ok(None)
    } else {
        bail!(
            "git config --global {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )
    }
}

fn checked_hooks(hooks: &[String]) -> anyhow::Result<Vec<&str>> {
    hooks
        .iter()
        .map(|h| {
            KNOWN_HOOKS
                .iter()
                .find(|k| **k == h.as_str())
                .copied()
                .with_context(|| format!("unknown hook `{h}` (known: {})", KNOWN_HOOKS.join(", ")))
        })
        .collect()
}

/// The message that refuses to install where another hook manager owns the hooks: the exact
/// snippet to add to that manager's configuration instead.
fn refusal(manager: HookManager, dir: &Path, hooks: &[&str], forced: bool) -> String {
    let why = match manager {
        HookManager::Husky => format!(
            "the hooks in {} belong to husky (core.hooksPath): its stubs run your scripts in \
             .husky/ by their own file name, and `npm install` rewrites them, so a hook installed \
             there would stop your husky hooks and then silently disappear.",
            dir.display()
        ),
        _ => format!(
            "the hooks in {} belong to {}: its next install would overwrite leakgate's hooks.",
            dir.display(),
            manager.name()
        ),
    };
    let force = if manager.can_chain() && !forced {
        "(`leakgate install --force` chains its hooks instead, until it reinstalls them.)\n"
    } else if !manager.can_chain() {
        "(--force cannot help here.)\n"
    } else {
        ""
    };
    format!(
        "leakgate: not installed: {why}\n\
         Run leakgate from {} instead; add:\n\n{}\n{force}",
        manager.name(),
        manager.snippet(hooks)
    )
}

/// Installs the hooks.
pub(super) fn install(args: &InstallArgs) -> anyhow::Result<Exit> {
    let hooks = checked_hooks(&args.hooks)?;
    let binary = std::env::current_exe()
        .context("cannot tell where the leakgate binary is")?
        .display()
        .to_string();
    let dir = if args.global {
        let dir = global_hooks_dir()?;
        let current = git_global(&["--get", "core.hooksPath"])?;
        if let Some(current) = current.filter(|c| Path::new(c) != dir) {
            if !args.force {
                bail!(
                    "core.hooksPath is already set globally to {current}; rerun with --force to put \
                     leakgate's hooks there instead (the hooks found in {current} keep running, chained)"
                );
            }
            std::fs::create_dir_all(&dir)?;
            std::fs::write(dir.join(PREVIOUS_HOOKS_PATH), &current)?;
            for hook in &hooks {
                let old = expand_home(&current).join(hook);
                let chained = dir.join(format!("{hook}{}", leakgate::install::CHAINED_SUFFIX));
                if old.is_file() && !chained.exists() {
                    std::fs::copy(&old, &chained)?;
                }
            }
        }
        dir
    } else {
        let dir = repository_hooks_dir()?;
        let repo = sources::repository()?;
        if let Some(manager) = detect_manager(repo.workdir(), &dir, &hooks) {
            if !args.force || !manager.can_chain() {
                output::stderr(&refusal(manager, &dir, &hooks, args.force))?;
                return Ok(Exit::Error);
            }
        }
        dir
    };
    for hook in &hooks {
        let script = hook_script(hook, &binary, &format!("hook {hook}"), args.global);
        let result = install_script(&dir, hook, &script, args.force)?;
        let note = match result {
            Installed::Fresh => "installed".to_string(),
            Installed::Updated => "updated".to_string(),
            Installed::Chained(p) => {
                format!("installed; the existing hook runs first ({})", p.display())
            }
        };
        output::stderr(&format!("leakgate: {hook}: {note} in {}\n", dir.display()))?;
    }
    if args.global {
        git_global(&["core.hooksPath", &dir.display().to_string()])?;
        output::stderr(&format!(
            "leakgate: core.hooksPath set globally to {}; each repository's own hooks still run\n",
            dir.display()
        ))?;
    }
    Ok(Exit::Clean)
}

/// Removes the hooks and restores what was there.
pub(super) fn uninstall(args: &UninstallArgs) -> anyhow::Result<Exit> {
    let dir = if args.global {
        global_hooks_dir()?
    } else {
        repository_hooks_dir()?
    };
    for hook in KNOWN_HOOKS {
        let note = match uninstall_script(&dir, hook)? {
            Uninstalled::NotInstalled => continue,
            Uninstalled::Removed => "removed",
            Uninstalled::Restored => "removed; the previous hook is back",
            Uninstalled::Foreign => "not leakgate's hook: left alone",
        };
        output::stderr(&format!("leakgate: {hook}: {note} ({})\n", dir.display()))?;
    }
    if args.global {
        let previous = dir.join(PREVIOUS_HOOKS_PATH);
        match std::fs::read_to_string(&previous) {
            Ok(value) => {
                git_global(&["core.hooksPath", value.trim()])?;
                let _ = std::fs::remove_file(&previous);
                output::stderr(&format!(
                    "leakgate: core.hooksPath restored to {}\n",
                    value.trim()
                ))?;
            }
            Err(_) => {
                if git_global(&["--get", "core.hooksPath"])?.is_some_and(|v| Path::new(&v) == dir) {
                    git_global(&["--unset", "core.hooksPath"])?;
                    output::stderr("leakgate: global core.hooksPath unset\n")?;
                }
            }
        }
    }
    Ok(Exit::Clean)
}
