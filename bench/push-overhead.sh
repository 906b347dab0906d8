#!/usr/bin/env bash
# Push overhead of the server hook: the whole `git push` into a local bare repository, timed with
# no hook, with a no-op pre-receive hook, and with `leakgate-server` installed by
# `leakgate-server install` (and betterleaks `git --pre-receive` when `betterleaks` is on PATH),
# on a server of real size: 20,000+ commits of history and thousands of refs.
#
#   bench/push-overhead.sh [--runs N] [--history N | --history-repo BARE_REPO] [--refs N]
#                          [--big-mb N] [--leakgate-server BIN] [--betterleaks BIN] [--keep]
#
# The history is a real repository's (--history-repo, e.g. a bare clone of rust-lang/cargo: 23k
# commits), or --history N small commits over 300 files (default 20000) generated
# deterministically with git fast-import. The server gets --refs N more refs (default 6000,
# `refs/pull/<n>/head`, like a forge's pull-request refs) spread over that history, packed.
# Cases (the issue's rows): C1 1 new commit; C2 500 new commits; C3 one new commit adding a 50 MB
# text file with an AWS key id in the middle (read and scanned in full under the default policy:
# the push must be rejected, or the run stops; a peer that accepts it is reported as a miss; the
# other pushes must be accepted); and 200 commits each changing one
# line of a 1.2 MB file the server already has.
# Every run pushes into a fresh copy of the server (hard links; copying is not timed); runs of the
# different hooks are interleaved; the median of --runs runs (default 7) is printed after one
# warm-up push. Peak memory of the hook: one more push per case through a pre-receive that runs
# `leakgate-server` under /usr/bin/time (its maximum resident set size, wall and CPU time; the
# CPU time is the figure to trust on a busy machine). --betterleaks names the betterleaks binary
# (default: `betterleaks` on PATH; prefer the binary itself to a wrapper script).
set -euo pipefail

usage() { sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; }

root=$(cd "$(dirname "$0")/.." && pwd)
server_bin="$root/target/release/leakgate-server"
runs=7
history=20000
history_repo=""
refs=6000
big_mb=50
keep=0
betterleaks=$(command -v betterleaks || true)
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --history) history=$2; shift 2 ;;
    --history-repo) history_repo=$(cd "$2" && pwd); shift 2 ;;
    --refs) refs=$2; shift 2 ;;
    --big-mb) big_mb=$2; shift 2 ;;
    --leakgate-server) server_bin=$2; shift 2 ;;
    --betterleaks) betterleaks=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "push-overhead.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
  esac
done
if [ ! -x "$server_bin" ]; then
  echo "building release binaries (cargo build --release)" >&2
  (cd "$root" && cargo build --release --locked -q --bin leakgate-server --bin leakgate)
fi
server_bin=$(cd "$(dirname "$server_bin")" && pwd)/$(basename "$server_bin")

work=$(mktemp -d "${TMPDIR:-/tmp}/leakgate-push-bench.XXXXXX")
cleanup() {
  if [ "$keep" = 1 ]; then echo "kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT

# An isolated git environment: no inherited GIT_* variables, no user or system config.
while IFS= read -r name; do unset "$name"; done < <(env | sed -n 's/^\(GIT_[A-Za-z0-9_]*\)=.*/\1/p')
unset LEAKGATE_SERVER_CONFIG
export LC_ALL=C
export HOME="$work/home"
mkdir -p "$HOME"
: >"$HOME/.gitconfig"
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL="$HOME/.gitconfig"
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.invalid
export GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.invalid
export GIT_AUTHOR_DATE=2026-01-01T00:00:00Z GIT_COMMITTER_DATE=2026-01-01T00:00:00Z


# commits BRANCH FROM START COUNT: a fast-import stream of COUNT small commits on BRANCH (the first
# one's parent is FROM unless empty), each rewriting one of 300 source-like files.
commits() {
  awk -v branch="$1" -v from="$2" -v start="$3" -v count="$4" '
    function data(s) { printf "data %d\n%s\n", length(s), s }
    BEGIN {
      for (i = start; i < start + count; i++) {
        printf "commit refs/heads/%s\n", branch
        printf "committer bench <bench@example.invalid> %d +0000\n", 1767225600 + i
        data("change " i)
        if (i == start && from != "") printf "from %s\n", from
        body = sprintf("// module %d, revision %d\n", i % 300, i)
        for (l = 0; l < 20; l++)
          body = body sprintf("    let value_%d = compute(%d, \"item-%d-%d\"); // step %d\n", l, i * l, i, l, l)
        printf "M 100644 inline src/mod-%d/file-%d.rs\n", i % 30, i % 300
        data(body)
      }
    }'
}

echo "== generating the server's history, a 1-commit and a 500-commit branch, a ${big_mb} MB file" >&2
history_git="$work/history.git"
if [ -n "$history_repo" ]; then
  git clone -q --bare "$history_repo" "$history_git"
else
  git init -q --bare -b main "$history_git"
  commits main "" 1 "$history" | git -C "$history_git" fast-import --quiet
fi
base=$(git -C "$history_git" rev-parse HEAD)
history_commits=$(git -C "$history_git" rev-list --count --all)
# The client: the same history, plus the branches to push (made with fast-import on top of it).
client="$work/client.git"
git clone -q --bare "$history_git" "$client"
start=$((history_commits + 1))
commits one "$base" "$start" 1 | git -C "$client" fast-import --quiet
commits five "$base" "$start" 500 | git -C "$client" fast-import --quiet
# edits: 200 commits that each change one line of a 1.2 MB file (a lock file's life), on top of a
# commit that adds it; the server already has that commit.
awk -v from="$base" 'BEGIN {
  n = 40000
  for (i = 0; i < n; i++) { line[i] = sprintf("record %08d: value=%d ok\n", i, i * 31 % 1000003); total += length(line[i]) }
  for (c = 0; c <= 200; c++) {
    printf "commit refs/heads/edits\ncommitter bench <bench@example.invalid> %d +0000\n", 1767300000 + c
    printf "data %d\nedit %03d\n", 9, c
    if (c == 0) printf "from %s\n", from
    if (c > 0) { k = (c * 7919) % n; line[k] = sprintf("record %08d: value=%d changed in %d\n", k, k * 31 % 1000003, c) }
    size = 0
    for (i = 0; i < n; i++) size += length(line[i])
    printf "M 100644 inline data/records.txt\ndata %d\n", size
    for (i = 0; i < n; i++) printf "%s", line[i]
    printf "\n"
  }
}' | git -C "$client" fast-import --quiet
git -C "$client" branch -q edits-base edits~200
# big: one commit adding a big text file with an AWS key id in the middle.
half=$((big_mb * 1024 * 1024 / 2))
big_text() {
  awk -v bytes="$1" -v first="$2" 'BEGIN {
    n = 0
    for (i = first; n < bytes; i++) {
      if (i % 100 == 0) line = sprintf("settings[%d].api_key_name = config.lookup(\"service-%d\")\n", i, i)
      else line = sprintf("record %08d: value=%d total=%d label=\"entry-%d\" ok\n", i, i * 31 % 1000003, i * 7, i)
      printf "%s", line
      n += length(line)
    }
  }'
}
{
  big_text "$half" 0
  # The key id is assembled here so that no key literal sits in the repository.
  printf 'deploy_key_id = %s%s\n' "AK""IA" "QX7K2M4P6R3T5VWZ"
  big_text "$half" 10000000
} >"$work/big.txt"
big_blob=$(git -C "$client" hash-object -w "$work/big.txt")
rm "$work/big.txt"
printf 'commit refs/heads/big\ncommitter bench <bench@example.invalid> 1767400000 +0000\ndata 14\nadd a big file\nfrom %s\nM 100644 %s data/big.txt\n\n' \
  "$base" "$big_blob" | git -C "$client" fast-import --quiet
big_bytes=$(git -C "$client" cat-file -s "$big_blob")

# The server as it was before the pushes: the history (its packs hard-linked: the pushed objects
# are only in the client, so they really travel), thousands of pull-request refs, and `edits`.
git clone -q --bare "$history_git" "$work/template-none.git"
git -C "$work/template-none.git" rev-list --all >"$work/all-commits"
awk -v want="$refs" -v total="$(wc -l <"$work/all-commits")" '
  BEGIN { step = total / want; if (step < 1) step = 1; next_at = 0; n = 0 }
  NR > next_at && n < want { n++; printf "create refs/pull/%d/head %s\n", n, $1; next_at += step }
  END { for (; n < want; n++) printf "create refs/pull/%d/head %s\n", n + 1, last }
  { last = $1 }' "$work/all-commits" | git -C "$work/template-none.git" update-ref --stdin
git -C "$work/template-none.git" pack-refs --all
git -C "$client" push -q "$work/template-none.git" edits-base:refs/heads/edits
server_refs=$(git -C "$work/template-none.git" for-each-ref | wc -l)

cat >"$work/policy.yaml" <<EOF
audit_log: '$work/audit.jsonl'
fingerprint_key_file: '$work/fingerprint.key'
time_budget_ms: 600000
EOF

modes=(none noop leakgate)
cp -a "$work/template-none.git" "$work/template-noop.git"
printf '#!/bin/sh\ncat >/dev/null\n' >"$work/template-noop.git/hooks/pre-receive"
chmod +x "$work/template-noop.git/hooks/pre-receive"
cp -a "$work/template-none.git" "$work/template-leakgate.git"
"$server_bin" install "$work/template-leakgate.git" --config "$work/policy.yaml" 2>/dev/null
if [ -n "$betterleaks" ] && [ -x "$betterleaks" ]; then
  modes+=(betterleaks)
  cp -a "$work/template-none.git" "$work/template-betterleaks.git"
  printf '#!/bin/sh\nexec %s git --pre-receive .\n' "'$betterleaks'" \
    >"$work/template-betterleaks.git/hooks/pre-receive"
  chmod +x "$work/template-betterleaks.git/hooks/pre-receive"
fi
# Peak memory: the same policy (leakgate.config), the binary run under /usr/bin/time.
cp -a "$work/template-leakgate.git" "$work/template-mem.git"
cat >"$work/template-mem.git/hooks/pre-receive" <<EOF
#!/bin/sh
start=\$(date +%s%N)
/usr/bin/time -f '%M %U %S' -o "\$LEAKGATE_BENCH_MEM" '$server_bin' pre-receive
status=\$?
echo "\$(( (\$(date +%s%N) - start) / 1000 ))" >>"\$LEAKGATE_BENCH_MEM"
exit "\$status"
EOF
chmod +x "$work/template-mem.git/hooks/pre-receive"

# push MODE BRANCH: pushes BRANCH into a fresh copy of the MODE server; prints "wall_ms cpu_ms",
# the CPU time (user + system) of the whole push: git push, receive-pack and the hook (wait4
# counts every descendant that was waited for). On a busy machine the CPU figures are the ones to
# compare; the wall-clock ones include waiting for a core.
push() {
  local mode=$1 branch=$2 target="$work/run.git"
  rm -rf "$target"
  # Hard links are safe: git replaces refs, packed-refs and config by renaming new files over them.
  cp -al "$work/template-$mode.git" "$target"
  local pushed=0 times
  times=$(python3 - "$client" "$target" "$branch" "$work/push.log" <<'PY'
import os, subprocess, sys, time
client, target, branch, log = sys.argv[1:]
with open(log, "wb") as out:
    t = time.perf_counter()
    p = subprocess.Popen(["git", "-C", client, "push", "-q", target, branch], stdout=out, stderr=out)
    _, status, usage = os.wait4(p.pid, 0)
    wall = (time.perf_counter() - t) * 1000
print(f"{wall:.0f} {(usage.ru_utime + usage.ru_stime) * 1000:.0f} {os.waitstatus_to_exitcode(status)}")
PY
)
  pushed=${times##* }
  # The big file carries a key: leakgate (and betterleaks) must reject it; everything else passes.
  local expect_reject=0
  if [ "$branch" = big ] && [ "$mode" != none ] && [ "$mode" != noop ]; then expect_reject=1; fi
  if [ "$expect_reject" = 1 ] && [ "$pushed" = 0 ]; then
    echo "push of $branch with the $mode hook was accepted: the key in its middle was missed" >&2
    # A peer that misses it is a result to report; leakgate missing it is a failure.
    if [ "$mode" = leakgate ]; then exit 1; fi
  fi
  if [ "$expect_reject" = 0 ] && [ "$pushed" != 0 ]; then
    echo "push of $branch with the $mode hook failed:" >&2
    cat "$work/push.log" >&2
    exit 1
  fi
  echo "${times% *}"
}

# median COLUMN: the median of a column of numbers on stdin.
median() { awk -v c="$1" '{ print $c }' | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

cases=(one five big edits)
declare -A label=([one]="C1 1 new commit" [five]="C2 500 commits" [big]="C3 ${big_mb} MB file"
  [edits]="200 edits, 1.2 MB file")
declare -A target=([one]=15 [five]=100 [big]=300 [edits]="-")
declare -A result

for c in "${cases[@]}"; do
  echo "== $c: ${label[$c]} ($runs runs each)" >&2
  for m in "${modes[@]}"; do push "$m" "$c" >/dev/null; done   # warm-up
  for m in "${modes[@]}"; do : >"$work/times-$m"; done
  for _ in $(seq "$runs"); do
    for m in "${modes[@]}"; do push "$m" "$c" >>"$work/times-$m"; done
  done
  for m in "${modes[@]}"; do
    result[$c,$m]=$(median 1 <"$work/times-$m")
    result[$c,$m,cpu]=$(median 2 <"$work/times-$m")
  done
  scanned=$(tail -n 1 "$work/audit.jsonl")
  result[$c,scanned]=$(printf '%s' "$scanned" | sed -n 's/.*"decision":"\([^"]*\)".*"scanned":{"commits":\([0-9]*\),"blobs":\([0-9]*\),"bytes":\([0-9]*\)}.*/\1: \2 commits, \3 blobs, \4 bytes/p')
  if [ -x /usr/bin/time ]; then
    LEAKGATE_BENCH_MEM="$work/mem" push mem "$c" >/dev/null
    # GNU time writes "Command exited with non-zero status N" first when the hook rejects.
    { read -r rss user sys; read -r wall_us; } < <(grep -v '^Command' "$work/mem")
    result[$c,mem]=$((rss / 1024))
    result[$c,hook]=$(awk -v w="$wall_us" -v u="$user" -v s="$sys" 'BEGIN {
      cpu = (u + s) * 1000
      printf "%5.1f ms wall, %s CPU", w / 1000, cpu < 10 ? "  <10 ms" : sprintf("%5.0f ms", cpu) }')
  else
    result[$c,mem]="n/a"
    result[$c,hook]="n/a"
  fi
done

echo
echo "git push, median of $runs runs (ms); server: $history_commits commits, $server_refs refs;" \
  "$(nproc 2>/dev/null || echo '?') CPUs; overhead = leakgate - no hook, wall and CPU (whole push)"
header=$(printf '%-22s %8s %8s %9s %9s %7s   %8s %9s %8s' case "no hook" "no-op" leakgate overhead target \
  "CPU none" "CPU lkgt" overhead)
if [[ " ${modes[*]} " == *" betterleaks "* ]]; then
  header+=$(printf ' %12s %10s' betterleaks overhead)
fi
echo "$header"
for c in "${cases[@]}"; do
  none=${result[$c,none]}
  row=$(printf '%-22s %8s %8s %9s %+9d %7s   %8s %9s %+8d' "${label[$c]}" "$none" "${result[$c,noop]}" \
    "${result[$c,leakgate]}" $((result[$c,leakgate] - none)) \
    "$([ "${target[$c]}" = - ] && echo - || echo "<=${target[$c]}")" \
    "${result[$c,none,cpu]}" "${result[$c,leakgate,cpu]}" $((result[$c,leakgate,cpu] - result[$c,none,cpu])))
  if [[ " ${modes[*]} " == *" betterleaks "* ]]; then
    row+=$(printf ' %12s %+10d' "${result[$c,betterleaks]}" $((result[$c,betterleaks] - none)))
  fi
  echo "$row"
done
if [[ " ${modes[*]} " != *" betterleaks "* ]]; then
  echo "(betterleaks not found: not compared)"
fi
echo
echo "leakgate-server alone (one push, under /usr/bin/time): peak memory (max RSS), time, and"
echo "what it scanned (from the audit log):"
for c in "${cases[@]}"; do
  printf '  %-18s %6s MB   %s   %s\n' "${label[$c]}" "${result[$c,mem]}" "${result[$c,hook]}" \
    "${result[$c,scanned]}"
done
printf '  largest blob: %d MB (target: peak <= 2x = %d MB)\n' \
  $((big_bytes / 1024 / 1024)) $((2 * big_bytes / 1024 / 1024))
