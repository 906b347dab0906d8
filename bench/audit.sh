#!/usr/bin/env bash
# Whole-history audit speed: `leakgate audit` (release build) against gitleaks, betterleaks and
# kingfisher when they are on PATH (each is reported as skipped otherwise), on a real history and
# on a generated one, with `git log -p --all` (decompress and diff every commit, nothing else)
# measured in the same run as the floor.
#
#   bench/audit.sh HISTORY_REPO [--runs N] [--generated-commits N] [--leakgate BIN] [--keep]
#
# HISTORY_REPO is any repository (a work tree, a bare clone or a mirror; >= 20,000 commits makes
# the figures meaningful, e.g. a mirror of rust-lang/cargo). The generated history (default 5000
# commits over 400 files, a few synthetic keys planted, built with git fast-import from a fixed
# seed) is made in a temporary directory. Every tool runs --runs times (default 3) per history,
# interleaved; the median wall time is printed with the CPU time (user + sys) and the peak RSS
# (/usr/bin/time -v) of the median run, and ratios against the floor (wall, and CPU: on a busy
# machine the CPU ratio is the one to trust) and against the fastest peer. Exit codes 0 and 1 (secrets found) both count as a successful run.
set -euo pipefail

usage() { sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; }

root=$(cd "$(dirname "$0")/.." && pwd)
leakgate_bin="$root/target/release/leakgate"
runs=3
generated=5000
keep=0
repo=""
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --generated-commits) generated=$2; shift 2 ;;
    --leakgate) leakgate_bin=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    -h|--help) usage; exit 0 ;;
    -*) echo "audit.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
    *) repo=$1; shift ;;
  esac
done
if [ -z "$repo" ]; then usage >&2; exit 2; fi
repo=$(cd "$repo" && pwd)
if [ ! -x /usr/bin/time ]; then echo "audit.sh: needs /usr/bin/time (GNU time)" >&2; exit 2; fi
if [ ! -x "$leakgate_bin" ]; then
  echo "building the release binary (cargo build --release)" >&2
  (cd "$root" && cargo build --release --locked -q --bin leakgate)
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/leakgate-audit-bench.XXXXXX")
cleanup() {
  if [ "$keep" = 1 ]; then echo "kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT

# An isolated git environment.
while IFS= read -r name; do unset "$name"; done < <(env | sed -n 's/^\(GIT_[A-Za-z0-9_]*\)=.*/\1/p')
export LC_ALL=C
export HOME="$work/home"
mkdir -p "$HOME"
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL="$HOME/.gitconfig"
: > "$GIT_CONFIG_GLOBAL"

# The generated history: files of config-like lines, each commit rewriting a few lines of one
# file; every 500th commit plants a synthetic AWS-shaped key id (built here from a seeded PRNG).
gen="$work/generated.git"
git init -q --bare "$gen"
awk -v n="$generated" 'BEGIN {
  srand(42); b32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"; files = 400; t = 1500000000
  for (c = 1; c <= n; c++) {
    f = int(rand() * files)
    body = ""
    for (l = 0; l < 40; l++) {
      v = int(rand() * 1000000)
      body = body sprintf("setting_%d_%d = \"value-%d\"\n", f, l, (l % 7 == c % 7) ? v : l)
    }
    if (c % 500 == 0) {
      k = ""; for (i = 0; i < 16; i++) k = k substr(b32, int(rand() * 32) + 1, 1)
      body = body sprintf("aws_access_key_id = \"%s%s\"\n", "AK" "IA", k)
    }
    printf "commit refs/heads/main\nmark :%d\ncommitter Bench <bench@example.invalid> %d +0000\n", c, t + c * 3600
    printf "data %d\ncommit %d\n", length("commit " c), c
    if (c > 1) printf "from :%d\n", c - 1
    printf "M 100644 inline dir%d/file%d.conf\ndata %d\n%s\n", f % 20, f, length(body), body
  }
}' | git -C "$gen" fast-import --quiet
gen_commits=$(git -C "$gen" rev-list --all --count)

# name|command (run with the history as $1)
tools=("git log -p --all (floor)|git -C \"\$1\" log -p --all --no-color >/dev/null"
       "leakgate audit|\"$leakgate_bin\" audit \"\$1\" -q --format json >/dev/null")
peer_names=()
if command -v gitleaks >/dev/null 2>&1; then
  # Reports go to a scratch file: gitleaks replaces its report path, so never /dev/null.
  # A run whose report was not written (a flag the installed version does not know, say) fails.
  tools+=("gitleaks|rm -f \"$work/gitleaks.json\"; gitleaks git --no-banner --log-level error --exit-code 1 --report-format json --report-path \"$work/gitleaks.json\" \"\$1\" >/dev/null 2>&1; c=\$?; [ -s \"$work/gitleaks.json\" ] || c=3; exit \$c")
  peer_names+=(gitleaks)
else
  echo "skipped: gitleaks (not on PATH)"
fi
if command -v betterleaks >/dev/null 2>&1; then
  # Its fastest setting here: versions that have --git-workers run one `git log` per core with it
  # (betterleaks 1.7.0 on cargo: 12.0 s against 14.8 s as one process).
  workers=""
  if betterleaks git --help 2>&1 | grep -q -- --git-workers; then workers="--git-workers $(nproc)"; fi
  tools+=("betterleaks|rm -f \"$work/betterleaks.json\"; betterleaks git --no-banner --log-level error --exit-code 1 $workers --report-format json --report-path \"$work/betterleaks.json\" \"\$1\" >/dev/null 2>&1; c=\$?; [ -s \"$work/betterleaks.json\" ] || c=3; exit \$c")
  peer_names+=(betterleaks)
else
  echo "skipped: betterleaks (not on PATH)"
fi
if command -v kingfisher >/dev/null 2>&1; then
  # kingfisher exits 200 when it finds secrets: counted as 1 (found) here.
  tools+=("kingfisher|kingfisher scan \"\$1\" --git-history full --no-update-check --format json >/dev/null 2>&1; c=\$?; [ \$c = 200 ] && c=1; exit \$c")
  peer_names+=(kingfisher)
else
  echo "skipped: kingfisher (not on PATH)"
fi

# One timed run: prints "wall cpu rss_kb exit".
timed() {
  local cmd=$1 target=$2 out="$work/time.txt"
  set +e
  /usr/bin/time -v -o "$out" bash -c "$cmd" _ "$target"
  local code=$?
  set -e
  local wall cpu rss
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s}' "$out")
  cpu=$(awk -F': ' '/User time/ {u = $2} /System time/ {s = $2} END {printf "%.2f", u + s}' "$out")
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$out")
  echo "$wall $cpu $rss $code"
}

bench() {
  local label=$1 target=$2 commits=$3
  echo
  echo "== $label: $target ($commits commits; $runs runs each, median wall)"
  declare -A walls=() cpus=() failed=()
  local r i name cmd line
  for ((r = 0; r < runs; r++)); do
    for i in "${!tools[@]}"; do
      name=${tools[$i]%%|*}
      cmd=${tools[$i]#*|}
      line=$(timed "$cmd" "$target")
      read -r wall cpu rss code <<<"$line"
      if [ "$code" != 0 ] && [ "$code" != 1 ]; then
        echo "  $name failed (exit $code): left out of the table" >&2
        failed[$name]=1
      fi
      walls[$name]+="$wall "
      cpus[$name]+="$wall:$cpu:$rss "
    done
  done
  local floor="" fastest_peer="" fastest_name=""
  declare -A median=()
  for i in "${!tools[@]}"; do
    name=${tools[$i]%%|*}
    median[$name]=$(tr ' ' '\n' <<<"${walls[$name]}" | sed '/^$/d' | sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}')
  done
  floor=${median["git log -p --all (floor)"]}
  for name in "${peer_names[@]}"; do
    [ -n "${failed[$name]:-}" ] && continue
    if [ -z "$fastest_peer" ] || awk -v a="${median[$name]}" -v b="$fastest_peer" 'BEGIN {exit !(a < b)}'; then
      fastest_peer=${median[$name]}
      fastest_name=$name
    fi
  done
  local floor_cpu
  floor_cpu=$(tr ' ' '\n' <<<"${cpus["git log -p --all (floor)"]}" | awk -F: -v m="$floor" '$1 == m {print $2; exit}')
  printf "  %-26s %9s %9s %11s %8s %8s %s\n" tool "wall s" "cpu s" "peak RSS" "x floor" "cpu x fl" "${fastest_name:+x $fastest_name}"
  for i in "${!tools[@]}"; do
    name=${tools[$i]%%|*}
    [ -n "${failed[$name]:-}" ] && continue
    local m=${median[$name]} entry cpu rss
    entry=$(tr ' ' '\n' <<<"${cpus[$name]}" | awk -F: -v m="$m" '$1 == m {print; exit}')
    cpu=$(cut -d: -f2 <<<"$entry")
    rss=$(cut -d: -f3 <<<"$entry")
    local vs_peer=""
    if [ -n "$fastest_peer" ]; then
      vs_peer=$(awk -v a="$m" -v b="$fastest_peer" 'BEGIN {printf "%.2f", a / b}')
    fi
    printf "  %-26s %9.2f %9.2f %8d MB %8s %8s %s\n" "$name" "$m" "$cpu" "$((rss / 1024))" \
      "$(awk -v a="$m" -v b="$floor" 'BEGIN {printf "%.2f", a / b}')" \
      "$(awk -v a="$cpu" -v b="$floor_cpu" 'BEGIN {if (b > 0) printf "%.2f", a / b; else print "-"}')" "$vs_peer"
  done
}

echo "leakgate audit benchmark: $(nproc) cores; $("$leakgate_bin" --version)"
for peer in "${peer_names[@]}"; do
  echo "  $peer: $("$peer" version 2>/dev/null || "$peer" --version 2>/dev/null | head -n 1)"
done
bench "real history" "$repo" "$(git -C "$repo" rev-list --all --count)"
bench "generated history" "$gen" "$gen_commits"
