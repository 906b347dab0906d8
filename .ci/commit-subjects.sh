#!/usr/bin/env bash
# Fails when a commit subject is longer than 72 characters. Only commits after BASE (default
# 002691b, the main tip when the rule was introduced) are checked, so history is not rewritten;
# commits listed in .ci/long-subjects-allowed (they reached main before this check) are skipped.
set -euo pipefail
base="${1:-002691b}"
max=72
export LC_ALL=C.UTF-8
if ! git rev-parse --quiet --verify "$base^{commit}" >/dev/null; then
    echo "commit-subjects: $base is not in this clone (shallow?): nothing checked" >&2
    exit 0
fi
allowed="$(dirname "$0")/long-subjects-allowed"
status=0
while IFS= read -r line; do
    id="${line%% *}"
    subject="${line#* }"
    if [ -f "$allowed" ] && grep -q "^$id" "$allowed"; then
        continue
    fi
    if [ "${#subject}" -gt "$max" ]; then
        echo "commit ${id:0:12}: subject is ${#subject} characters (at most $max): $subject" >&2
        status=1
    fi
done < <(git log --no-merges --format='%H %s' "$base..HEAD")
exit "$status"
