#!/usr/bin/env bash
# Pre-commit benchmark: leakgate's pre-commit hook beside git's own floor, `git diff --cached
# --quiet` (and `git diff --cached -U0`, and gitleaks / betterleaks when they are on PATH), all
# timed in one run, with the peak memory (max RSS) of each command.
#
#   bench/precommit.sh [--leakgate BIN] [--files N] [--runs N] [--big-mb N] [REPO]
#
# Without REPO a repository of N files (default 100000) is generated deterministically (one
# commit made with git fast-import; only the index is populated, no work tree is needed). Cases:
#   A.  a 3-file staged change (two modified files, one new) in the big repository, with an index
#       that has no cache-tree (as an index written by `git update-index --index-info` or by many
#       tools is left): every HEAD tree must be compared;
#   A'. the same change with a full cache-tree (as `git read-tree HEAD` leaves it, then the three
#       paths invalidated by staging them);
#   B.  --big-mb MB (default 95) of new source-like text staged in 2,000 new files (loose objects,
#       as `git add` writes them): throughput;
#   D.  an empty staged diff in a small repository (100 files).
# Prints the median wall and CPU (user + system) time of --runs runs (default 15) per command,
# each as a ratio to `git diff --cached --quiet` on the same index (the CPU ratio is the one to
# trust on a busy machine), and the peak RSS of the command (from wait4, the largest over the runs).
set -euo pipefail

usage() { sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; }

root=$(cd "$(dirname "$0")/.." && pwd)
leakgate="$root/target/release/leakgate"
files=100000
runs=15
big_mb=95
repo=""
while [ $# -gt 0 ]; do
  case "$1" in
    --leakgate) leakgate=$2; shift 2 ;;
    --files) files=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --big-mb) big_mb=$2; shift 2 ;;
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
while IFS= read -r name; do unset "$name"; done < <(env | sed -n 's/^\(GIT_[A-Za-z0-9_]*\)=.*/\1/p')
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

# without_cache_tree DIR: rewrites DIR's index with the same entries and no TREE extension.
without_cache_tree() {
  local dir=$1
  git -C "$dir" ls-files -s | GIT_INDEX_FILE="$dir/.git/index.bare" git -C "$dir" update-index --index-info
  mv "$dir/.git/index.bare" "$dir/.git/index"
  if grep -q TREE "$dir/.git/index"; then echo "the index still has a cache-tree" >&2; exit 1; fi
}

# stage_big DIR MB: MB of new source-like text in 2,000 new files, staged with `git add`.
stage_big() {
  local dir=$1 mb=$2
  python3 - "$dir/big" "$mb" <<'PY'
import os, sys
d, mb = sys.argv[1], int(sys.argv[2])
per = mb * 1024 * 1024 // 2000
for f in range(2000):
    sub = os.path.join(d, f"p{f // 100:02d}")
    os.makedirs(sub, exist_ok=True)
    lines, n, i = [], 0, 0
    while n < per:
        line = f"    let value_{i} = compute({f * i % 9973}, \"item-{f}-{i}\", &config.section_{i % 17}); // step {i}\n"
        lines.append(line); n += len(line); i += 1
    with open(os.path.join(sub, f"file{f}.rs"), "w") as out:
        out.write("".join(lines))
PY
  git -C "$dir" add big
}

# time_cmd DIR LABEL CMD...: prints "LABEL<TAB>median wall ms<TAB>median CPU ms<TAB>peak RSS KB"
time_cmd() {
  local dir=$1 label=$2; shift 2
  python3 - "$dir" "$runs" "$label" "$@" <<'PY'
import os, statistics, subprocess, sys, time
d, runs, label, cmd = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4:]
def run():
    t = time.perf_counter()
    p = subprocess.Popen(cmd, cwd=d, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, _, usage = os.wait4(p.pid, 0)
    cpu = (usage.ru_utime + usage.ru_stime) * 1000
    return (time.perf_counter() - t) * 1000, cpu, usage.ru_maxrss
run()  # warm up
samples = [run() for _ in range(runs)]
wall = statistics.median(s[0] for s in samples)
cpu = statistics.median(s[1] for s in samples)
print(f"{label}\t{wall:.2f}\t{cpu:.2f}\t{max(s[2] for s in samples)}")
PY
}

report() {
  local title=$1 dir=$2 bytes=${3:-0}
  echo "== $title"
  local results
  results=$(
    time_cmd "$dir" "git diff --cached --quiet" git diff --cached --quiet
    time_cmd "$dir" "git diff --cached -U0" git diff --cached -U0
    time_cmd "$dir" "leakgate hook pre-commit" "$leakgate" hook pre-commit -q
    if command -v gitleaks >/dev/null; then time_cmd "$dir" "gitleaks git --staged" gitleaks git --staged . ; fi
    if command -v betterleaks >/dev/null; then time_cmd "$dir" "betterleaks git --staged" betterleaks git --staged . ; fi
  )
  printf '  %-26s %10s %7s %10s %7s %9s\n' "" "wall ms" "ratio" "CPU ms" "ratio" "peak RSS"
  printf '%s\n' "$results" | awk -F'\t' -v bytes="$bytes" '
    NR == 1 { wall = $2; cpu = $3 }
    {
      rate = bytes > 0 ? sprintf("  %6.0f MB/s (wall)", bytes / 1048576 / ($2 / 1000)) : ""
      printf "  %-26s %10.2f %6.2fx %10.2f %6.2fx %6.1f MB%s\n", $1, $2, $2 / wall, $3, $3 / (cpu > 0 ? cpu : 1), $4 / 1024, rate
    }'
}

if [ -z "$repo" ]; then
  echo "generating a repository of $files files in $work/big" >&2
  generate "$work/big" "$files"
  repo="$work/big"
fi
stage_three_files "$repo"
count=$(git -C "$repo" ls-files | wc -l | tr -d ' ')
report "A': 3-file staged change in a repository of $count files, index with a cache-tree" "$repo"
without_cache_tree "$repo"
report "A: 3-file staged change in a repository of $count files, index without a cache-tree" "$repo"

generate "$work/small" 100
report "D: empty staged diff in a repository of 100 files" "$work/small"

echo "staging $big_mb MB in 2,000 new files" >&2
stage_big "$work/small" "$big_mb"
staged=$(git -C "$work/small" diff --cached --name-only -z | tr '\0' '\n' | sed 's|^|:|' |
  git -C "$work/small" cat-file --batch-check='%(objectsize)' | awk '{ s += $1 } END { print s }')
report "B: $((staged / 1048576)) MB staged in 2,000 new files (target >= 400 MB/s)" "$work/small" "$staged"
