#!/bin/sh
# Writes 50 MiB to stdout and 50 MiB to stderr, then exits 0.
head -c 52428800 /dev/zero | tr '\0' 'x' &
head -c 52428800 /dev/zero | tr '\0' 'y' >&2
wait
