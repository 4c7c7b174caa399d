#!/bin/sh
# Ignores SIGTERM and leaves a grandchild that also ignores it; both sleep forever.
trap '' TERM
sh -c 'trap "" TERM; echo "grandchild $$" >&2; while :; do sleep 1; done' &
echo "child $$" >&2
while :; do sleep 1; done
