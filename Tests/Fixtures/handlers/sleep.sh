#!/bin/sh
# Sleeps until signalled (SIGTERM ends it).
exec sleep 300
