#!/usr/bin/env bash
# Pre-commit benchmark: leakgate's pre-commit hook beside `git diff --cached --quiet` and
# `git diff --cached -U0` (and gitleaks / betterleaks when they are on PATH), all timed in one run.
#
#   bench/precommit.sh [--leakgate BIN] [--files N] [--runs N] [REPO]
#
# Without REPO a repository of N files (default 100000) is generated deterministically (one
# commit made with git fast-import; only the index is populated, no work tree is needed). Cases:
#   1. a 3-file staged change (two modified files, one new) in the big repository;
#   2. an empty staged diff in a small repository (100 files).
# Prints the median of --runs runs (default 15) per command, and ratios to `git diff --cached --quiet`.
set -euo pipefail

usage() { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; }

root=$(cd "$(dirname "$0")/.." && pwd)
leakgate="$root/target/release/leakgate"
files=100000
runs=15
repo=""
while [ $# -gt 0 ]; do
  case "$1" in
    --leakgate) leakgate=$2; shift 2 ;;
    --files) files=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    -*) echo "unknown option $1" >&2; usage >&2; exit 2 ;;
    *) repo=$1; shift ;;
  esac
done
if [ ! -x "$leakgate" ]; then
  echo "building $leakgate (cargo build --release)" >&2
  (cd "$root" && cargo build --release --locked -q)
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/leakgate-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.invalid
export GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.invalid

# generate DIR N: a repository with N files of source-like text in one commit, index populated.
generate() {
  local dir=$1 n=$2
  git init -q "$dir"
  python3 - "$n" <<'PY' | git -C "$dir" fast-import --quiet
import sys
n = int(sys.argv[1])
words = ["let", "value", "count", "index", "buffer", "config", "result", "error", "match", "items",
         "name", "path", "request", "response", "handler", "client", "server", "user", "cache"]
out = sys.stdout.buffer
out.write(b"commit refs/heads/main\ncommitter bench <bench@example.invalid> 1700000000 +0000\n")
out.write(b"data 7\ninitial\n")
for i in range(n):
    body = "".join(f"fn f{i}_{j}() {{ let {words[(i + j) % len(words)]} = {i * j}; }}\n" for j in range(6)).encode()
    path = f"src/d{i // 1000:03d}/m{(i // 50) % 20:02d}/file{i}.rs"
    out.write(f"M 100644 inline {path}\ndata {len(body)}\n".encode() + body + b"\n")
PY
  git -C "$dir" symbolic-ref HEAD refs/heads/main
  git -C "$dir" read-tree HEAD
}

stage_three_files() {
  local dir=$1 blob
  for f in src/d000/m00/file1.rs src/d050/m05/file50260.rs; do
    blob=$( (git -C "$dir" cat-file -p "HEAD:$f"; echo 'fn added() { let extra = 1; }') | git -C "$dir" hash-object -w --stdin)
    git -C "$dir" update-index --cacheinfo "100644,$blob,$f"
  done
  blob=$(printf 'fn brand_new() { let fresh = 2; }\n' | git -C "$dir" hash-object -w --stdin)
  git -C "$dir" update-index --add --cacheinfo "100644,$blob,src/new/file.rs"
}

# time_cmd DIR LABEL CMD...: prints "LABEL median_ms"
time_cmd() {
  local dir=$1 label=$2; shift 2
  python3 - "$dir" "$runs" "$label" "$@" <<'PY'
import os, statistics, subprocess, sys, time
d, runs, label, cmd = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4:]
subprocess.run(cmd, cwd=d, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # warm up
samples = []
for _ in range(runs):
    t = time.perf_counter()
    subprocess.run(cmd, cwd=d, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    samples.append((time.perf_counter() - t) * 1000)
print(f"{label}\t{statistics.median(samples):.2f}")
PY
}

report() {
  local title=$1 dir=$2
  echo "== $title"
  local results
  results=$(
    time_cmd "$dir" "git diff --cached --quiet" git diff --cached --quiet
    time_cmd "$dir" "git diff --cached -U0" git diff --cached -U0
    time_cmd "$dir" "leakgate hook pre-commit" "$leakgate" hook pre-commit -q
    if command -v gitleaks >/dev/null; then time_cmd "$dir" "gitleaks git --staged" gitleaks git --staged . ; fi
    if command -v betterleaks >/dev/null; then time_cmd "$dir" "betterleaks git --staged" betterleaks git --staged . ; fi
  )
  local base
  base=$(printf '%s\n' "$results" | awk -F'\t' 'NR==1 {print $2}')
  printf '%s\n' "$results" | awk -F'\t' -v base="$base" '{ printf "  %-28s %9.2f ms   %6.2fx git diff --cached --quiet\n", $1, $2, $2 / base }'
}

if [ -z "$repo" ]; then
  echo "generating a repository of $files files in $work/big" >&2
  generate "$work/big" "$files"
  repo="$work/big"
fi
stage_three_files "$repo"
report "3-file staged change in a repository of $(git -C "$repo" ls-files | wc -l | tr -d ' ') files" "$repo"

generate "$work/small" 100
report "empty staged diff in a repository of 100 files" "$work/small"
