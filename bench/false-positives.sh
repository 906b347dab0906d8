#!/usr/bin/env bash
# False-positive benchmark: scan trees of real code that hold no live secrets and count what the
# rule pack reports there. Every finding in such a tree is a false positive, or at best a
# credential-shaped value in test data or documentation; the figure to watch is findings per 100 MB.
#
# Prints only counts, rule ids, paths and line numbers, never a value (the JSON report is already
# redacted, and this script does not read its `secret` field).
set -euo pipefail

usage() {
    cat <<'EOF'
Usage: bench/false-positives.sh [OPTIONS] TREE...

Scan TREE... with `leakgate scan --format json` and summarise what was found: bytes and files
scanned, files skipped, total findings, findings per 100 MB, and the rules that fire most, with a
few sample locations (path:line, never values) for each.

Options:
  --leakgate BIN   leakgate binary (default: target/release/leakgate under the repository root)
  --rules DIR      scan with the rule files in DIR (a file or a directory of *.yaml) INSTEAD of the
                   embedded pack (passes `--rules DIR --no-builtin`); repeat to load several
  --builtin        with --rules: keep the embedded pack too (a rule in DIR replaces the embedded
                   rule with the same id)
  --config FILE    leakgate config to use (default: none; the scan runs from an empty directory so
                   no .leakgate.yaml or .leakgateignore applies)
  --top N          how many rules to list (default: 15)
  --samples N      sample locations per listed rule (default: 3)
  --json FILE      also keep leakgate's (redacted) JSON report in FILE
  -h, --help       print this help

Exit status: 0 when the scan ran (whatever it found), 2 when leakgate reported an error (bad
usage, bad rules, or a file it could not read), 64 on bad usage of this script.
EOF
}

die_usage() {
    printf 'false-positives.sh: %s\n' "$1" >&2
    printf 'Try --help.\n' >&2
    exit 64
}

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
leakgate="$repo_root/target/release/leakgate"
rules=()
builtin=0
config=""
top=15
samples=3
json_out=""
trees=()

while (($# > 0)); do
    case "$1" in
        -h | --help)
            usage
            exit 0
            ;;
        --leakgate | --rules | --config | --top | --samples | --json)
            (($# >= 2)) || die_usage "$1 needs a value"
            case "$1" in
                --leakgate) leakgate="$2" ;;
                --rules) rules+=("$2") ;;
                --config) config="$2" ;;
                --top) top="$2" ;;
                --samples) samples="$2" ;;
                --json) json_out="$2" ;;
            esac
            shift 2
            ;;
        --builtin)
            builtin=1
            shift
            ;;
        --)
            shift
            trees+=("$@")
            break
            ;;
        -*)
            die_usage "unknown option: $1"
            ;;
        *)
            trees+=("$1")
            shift
            ;;
    esac
done

((${#trees[@]} > 0)) || die_usage "no TREE given"
[[ "$top" =~ ^[0-9]+$ ]] || die_usage "--top needs a number"
[[ "$samples" =~ ^[0-9]+$ ]] || die_usage "--samples needs a number"
((builtin == 0 || ${#rules[@]} > 0)) || die_usage "--builtin only makes sense with --rules"
command -v python3 >/dev/null || {
    printf 'false-positives.sh: python3 is required\n' >&2
    exit 64
}

# Absolute paths: the scan runs from an empty directory (so that no work tree's config applies).
abs() {
    local p="$1"
    if [[ -d "$p" ]]; then
        (cd "$p" && pwd)
    elif [[ -e "$p" ]]; then
        printf '%s/%s\n' "$(cd "$(dirname "$p")" && pwd)" "$(basename "$p")"
    else
        return 1
    fi
}

leakgate_abs="$(abs "$leakgate")" || die_usage "no leakgate binary at $leakgate (build it: cargo build --release)"
[[ -x "$leakgate_abs" ]] || die_usage "$leakgate is not executable"

args=(scan --format json)
if [[ -n "$config" ]]; then
    config_abs="$(abs "$config")" || die_usage "no such config: $config"
    args+=(--config "$config_abs")
fi
if ((${#rules[@]} > 0)); then
    ((builtin == 1)) || args+=(--no-builtin)
    for r in "${rules[@]}"; do
        r_abs="$(abs "$r")" || die_usage "no such rules path: $r"
        args+=(--rules "$r_abs")
    done
fi
args+=(--)
for t in "${trees[@]}"; do
    t_abs="$(abs "$t")" || die_usage "no such tree: $t"
    args+=("$t_abs")
done

work="$(mktemp -d)"
trap 'rm -rf -- "$work"' EXIT
mkdir "$work/cwd"

start=$(date +%s)
status=0
(cd "$work/cwd" && "$leakgate_abs" "${args[@]}") >"$work/report.json" 2>"$work/stderr" || status=$?
elapsed=$(($(date +%s) - start))

# 0: nothing found; 1: findings (expected here); 2: error.
if ((status != 0 && status != 1)); then
    printf 'false-positives.sh: leakgate exited %d:\n' "$status" >&2
    sed -e 's/^/  /' "$work/stderr" >&2
    if [[ -s "$work/report.json" ]]; then
        python3 - "$work/report.json" >&2 <<'EOF' || true
import json, sys
report = json.load(open(sys.argv[1], encoding="utf-8"))
bad = [s for s in report.get("skipped", []) if s.get("reason") == "unreadable"]
for s in bad[:20]:
    print("  unreadable:", ascii(s.get("path", "")), "-", ascii(s.get("detail", "")))
if len(bad) > 20:
    print("  ... and", len(bad) - 20, "more unreadable files")
EOF
    fi
    exit 2
fi

if [[ -n "$json_out" ]]; then
    cp -- "$work/report.json" "$json_out"
fi

if ((${#rules[@]} > 0)); then
    if ((builtin == 1)); then
        pack="embedded pack + ${rules[*]}"
    else
        pack="${rules[*]} (no embedded pack)"
    fi
else
    pack="embedded pack of $leakgate_abs"
fi

python3 - "$work/report.json" "$top" "$samples" "$elapsed" "$pack" "${trees[@]}" <<'EOF'
import collections
import json
import sys

report_path, top, samples, elapsed, pack = sys.argv[1:6]
trees = sys.argv[6:]
top, samples, elapsed = int(top), int(samples), int(elapsed)

with open(report_path, encoding="utf-8") as f:
    report = json.load(f)


def show(text):
    """A path as printable text: control and non-ASCII characters escaped, nothing else."""
    out = []
    for ch in str(text):
        if ch.isprintable() and ch not in "\\":
            out.append(ch)
        else:
            out.append(ascii(ch)[1:-1])
    return "".join(out)


def human(n):
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000.0


findings = report.get("findings", [])
skipped = report.get("skipped", [])
scanned = report.get("scanned", {})
nbytes = int(scanned.get("bytes", 0))
nfiles = int(scanned.get("blobs", 0))
per_100mb = len(findings) / (nbytes / 100e6) if nbytes else 0.0

print("leakgate false-positive benchmark")
print(f"  rules:           {show(pack)}")
for t in trees:
    print(f"  tree:            {show(t)}")
print(f"  time:            {elapsed} s")
print(f"  bytes scanned:   {nbytes} ({human(nbytes)})")
print(f"  files scanned:   {nfiles}")
reasons = collections.Counter(s.get("reason", "?") for s in skipped)
detail = ", ".join(f"{r} {c}" for r, c in reasons.most_common())
print(f"  files skipped:   {len(skipped)}" + (f" ({detail})" if detail else ""))
warnings = report.get("warnings", [])
low_per_100mb = len(warnings) / (nbytes / 100e6) if nbytes else 0.0
by_confidence = collections.Counter(f.get("confidence", "?") for f in findings)
conf = ", ".join(f"{c} {n}" for c, n in sorted(by_confidence.items()))
print(f"  findings:        {len(findings)}" + (f" ({conf})" if conf else "") + " (blocking)")
print(f"  per 100 MB:      {per_100mb:.2f}")
print(f"  warnings:        {len(warnings)} below block_at (low confidence), {low_per_100mb:.2f} per 100 MB")
if reasons.get("unreadable"):
    print(f"  WARNING: {reasons['unreadable']} unreadable files: the scan is incomplete")

by_rule = collections.Counter(f["rule"] for f in findings)
if warnings:
    low = collections.Counter(f["rule"] for f in warnings)
    print("  warnings by rule: " + ", ".join(f"{r} {c}" for r, c in low.most_common(top)))
if not by_rule:
    sys.exit(0)
print()
print(f"Top {min(top, len(by_rule))} of {len(by_rule)} rules by findings:")
width = max(len(r) for r, _ in by_rule.most_common(top))
where = collections.defaultdict(list)
for f in findings:
    where[f["rule"]].append((f.get("path", ""), f.get("line", 0)))
for rule, count in by_rule.most_common(top):
    share = 100.0 * count / len(findings)
    print(f"  {rule:<{width}}  {count:>7}  {share:5.1f}%")
    # Samples from different files first, so one noisy file does not fill them all.
    seen, picks = set(), []
    for path, line in where[rule]:
        if path not in seen:
            seen.add(path)
            picks.append((path, line))
        if len(picks) >= samples:
            break
    for path, line in picks:
        print(f"      {show(path)}:{line}")
EOF
