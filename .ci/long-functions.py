#!/usr/bin/env python3
"""Lists functions longer than N lines (default 80) outside tests; exits 1 when there is one.

Usage: .ci/long-functions.py [N] [DIR...]   (default directories: src hook server-hook)

A rough reader, not a parser: it finds `fn name` lines and matches braces to the end of the body
(string and char literals and // comments are blanked first). Everything from a file's first
`#[cfg(test)]` on is taken as tests and skipped.
"""
import os
import re
import sys

FN = re.compile(r'\s*(pub(\([^)]*\))?\s+)?(const\s+)?(async\s+)?(unsafe\s+)?fn\s+(\w+)')


def long_functions(path, limit):
    lines = open(path, encoding='utf-8').read().split('\n')
    end_of_code = next((i for i, l in enumerate(lines) if re.match(r'\s*#\[cfg\(test\)\]', l)),
                       len(lines))
    for i in range(end_of_code):
        m = FN.match(lines[i])
        if not m:
            continue
        depth, started, j = 0, False, i
        while j < len(lines):
            s = re.sub(r'"(\\.|[^"\\])*"', '""', lines[j])
            s = re.sub(r"'(\\.|[^'\\])'", "''", s).split('//')[0]
            for c in s:
                if c == '{':
                    depth += 1
                    started = True
                elif c == '}':
                    depth -= 1
            if started and depth <= 0:
                break
            if not started and s.rstrip().endswith(';'):
                break
            j += 1
        if j - i + 1 > limit:
            yield i + 1, m.group(6), j - i + 1


def main():
    limit = int(sys.argv[1]) if len(sys.argv) > 1 else 80
    roots = sys.argv[2:] or ['src', 'hook', 'server-hook']
    found = 0
    for root in roots:
        for directory, _, files in sorted(os.walk(root)):
            for name in sorted(files):
                if not name.endswith('.rs'):
                    continue
                path = os.path.join(directory, name)
                for line, function, length in long_functions(path, limit):
                    print(f'{path}:{line} {function} {length} lines (limit {limit})')
                    found += 1
    return 1 if found else 0


if __name__ == '__main__':
    sys.exit(main())
