#!/usr/bin/env bash
# Builds and installs leakgate (`cargo install --locked --path .`), then installs its git hooks into
# the repository you run it from. Running it again is fine: it rebuilds and updates in place.
set -euo pipefail

usage() {
    cat <<'EOF'
Usage: ./install.sh [OPTIONS]

Builds and installs the leakgate binaries with `cargo install --locked --path <this checkout>`,
then, when run inside a git repository, installs leakgate's hooks there (`leakgate install`).
Running it again is safe: the binaries are rebuilt and the hooks updated in place.

Options:
  --prefix DIR    install the binaries into DIR/bin (cargo install --root DIR); default: cargo's
                  own root ($CARGO_INSTALL_ROOT, else $CARGO_HOME, else ~/.cargo)
  --no-hook       only install the binaries; install no git hook
  --hooks LIST    hooks to install, comma-separated (default: pre-commit,commit-msg,pre-push)
  --global        install the hooks for every repository of this user (git's global
                  core.hooksPath; each repository's own hooks still run) instead of only the
                  current repository
  --force         passed to `leakgate install`: chain a hook owned by another hook manager
  --dry-run       print what would run, run nothing
  -h, --help      show this help

Requirements: a Rust toolchain (cargo, https://rustup.rs) and git.
Remove the hooks with `leakgate uninstall` (or `leakgate uninstall --global`).
EOF
}

say() { printf 'install.sh: %s\n' "$*" >&2; }
die() {
    say "error: $*"
    exit 1
}

prefix=""
hooks=""
no_hook=0
global=0
force=0
dry_run=0

while [ $# -gt 0 ]; do
    case "$1" in
        -h | --help)
            usage
            exit 0
            ;;
        --prefix)
            if [ $# -lt 2 ] || [ -z "$2" ]; then die "--prefix needs a directory"; fi
            prefix=$2
            shift 2
            ;;
        --prefix=*)
            prefix=${1#--prefix=}
            [ -n "$prefix" ] || die "--prefix needs a directory"
            shift
            ;;
        --hooks)
            if [ $# -lt 2 ] || [ -z "$2" ]; then die "--hooks needs a comma-separated list"; fi
            hooks=$2
            shift 2
            ;;
        --hooks=*)
            hooks=${1#--hooks=}
            [ -n "$hooks" ] || die "--hooks needs a comma-separated list"
            shift
            ;;
        --no-hook | --no-hooks)
            no_hook=1
            shift
            ;;
        --global)
            global=1
            shift
            ;;
        --force)
            force=1
            shift
            ;;
        --dry-run)
            dry_run=1
            shift
            ;;
        *)
            say "error: unknown option: $1"
            usage >&2
            exit 2
            ;;
    esac
done

if [ "$no_hook" -eq 1 ] && { [ "$global" -eq 1 ] || [ -n "$hooks" ]; }; then
    die "--no-hook cannot be combined with --global or --hooks"
fi

# The checkout this script belongs to (builtins only: this runs before any tool is checked).
case "$0" in
    */*) script_dir=${0%/*} ;;
    *) script_dir=. ;;
esac
source_dir=$(cd "$script_dir" && pwd -P)
[ -f "$source_dir/Cargo.toml" ] || die "no Cargo.toml beside install.sh (in $source_dir); run it from a leakgate checkout"

# Prints a command (quoted only where the shell needs it), then runs it unless --dry-run.
run() {
    local line="+" arg
    for arg in "$@"; do
        case "$arg" in
            '' | *[!A-Za-z0-9_./,:=@%+-]*) line+=" $(printf '%q' "$arg")" ;;
            *) line+=" $arg" ;;
        esac
    done
    printf '%s\n' "$line" >&2
    if [ "$dry_run" -eq 0 ]; then
        "$@"
    fi
}

if ! command -v cargo >/dev/null 2>&1; then
    die "cargo was not found on PATH. Install a Rust toolchain (1.88 or newer) with rustup
         (https://rustup.rs), open a new shell so that ~/.cargo/bin is on PATH, and run ./install.sh again."
fi

# 1. The binaries.
install_args=(install --locked --path "$source_dir")
if [ -n "$prefix" ]; then
    case "$prefix" in
        /*) ;;
        *) prefix=$PWD/$prefix ;;
    esac
    install_args+=(--root "$prefix")
    bin_dir=$prefix/bin
elif [ -n "${CARGO_INSTALL_ROOT:-}" ]; then
    bin_dir=$CARGO_INSTALL_ROOT/bin
else
    bin_dir=${CARGO_HOME:-$HOME/.cargo}/bin
fi
say "building and installing leakgate into $bin_dir (a release build takes a few minutes the first time)"
run cargo "${install_args[@]}" || die "cargo install failed (see above)"
leakgate=$bin_dir/leakgate
if [ "$dry_run" -eq 0 ]; then
    [ -x "$leakgate" ] || die "cargo install succeeded but $leakgate is missing"
    say "installed $("$leakgate" --version)"
fi
case ":$PATH:" in
    *":$bin_dir:"*) ;;
    *) say "note: $bin_dir is not on your PATH; add it (export PATH=\"$bin_dir:\$PATH\") to run leakgate by name" ;;
esac

# 2. The hooks.
if [ "$no_hook" -eq 1 ]; then
    say "done (no hook installed: --no-hook)"
    exit 0
fi
hook_args=(install)
if [ -n "$hooks" ]; then
    hook_args+=(--hook "$hooks")
fi
if [ "$force" -eq 1 ]; then
    hook_args+=(--force)
fi
if [ "$global" -eq 1 ]; then
    hook_args+=(--global)
    run "$leakgate" "${hook_args[@]}" || die "installing the global hooks failed (see above)"
    say "done: every repository of this user is protected"
    exit 0
fi
if ! command -v git >/dev/null 2>&1; then
    say "git was not found on PATH: no hook installed. Install git, then run: leakgate install"
    exit 0
fi
if [ "$(git rev-parse --is-inside-work-tree 2>/dev/null || true)" != "true" ]; then
    say "done. Not inside a git work tree, so no hook was installed: run \`leakgate install\` in a"
    say "repository, or ./install.sh --global to protect every repository."
    exit 0
fi
say "installing the hooks into $(git rev-parse --show-toplevel)"
run "$leakgate" "${hook_args[@]}" || die "installing the hooks failed (see above); --force chains a hook another manager owns"
say "done"
