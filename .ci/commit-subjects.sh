#!/usr/bin/env bash
# Fails when a commit subject is longer than 72 characters. Only commits after BASE (default
# 002691b, the main tip when the rule was introduced) are checked, so history is not rewritten.
set -euo pipefail
base="${1:-002691b}"
max=72
export LC_ALL=C.UTF-8
if ! git rev-parse --quiet --verify "$base^{commit}" >/dev/null; then
    echo "commit-subjects: $base is not in this clone (shallow?): nothing checked" >&2
    exit 0
fi
status=0
while IFS= read -r line; do
    id="${line%% *}"
    subject="${line#* }"
    if [ "${#subject}" -gt "$max" ]; then
        echo "commit $id: subject is ${#subject} characters (at most $max): $subject" >&2
        status=1
    fi
done < <(git log --no-merges --format='%h %s' "$base..HEAD")
exit "$status"
