#!/bin/sh
# Starts a descendant in a new session (out of the slice's process group) and exits.
setsid sh -c 'echo "escaped $$" >&2; exec sleep 300' &
sleep 0.2
echo '{"cursor":null}'
