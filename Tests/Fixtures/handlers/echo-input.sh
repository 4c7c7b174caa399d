#!/bin/sh
# Copies stdin to stdout, writes two log lines, exits with $1 (default 0).
echo "first line" >&2
cat
echo "second line" >&2
exit "${1:-0}"
