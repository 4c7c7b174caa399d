#!/bin/sh
# Prints its environment, one variable per line (to stdout).
env
