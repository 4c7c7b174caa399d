#!/usr/bin/env bash
# Fuzzes the schedule-file and expression parsers (and the engine behind them) with
# libFuzzer for the given number of seconds (default 60).
#   make fuzz FUZZ_SECONDS=600
# Crashes, hangs and leaks land in fuzz/out/; copy each into
# Tests/Fixtures/fuzz-regressions/ once fixed, so the unit tests replay it.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
mkdir -p .build-fuzz fuzz/out fuzz/corpus-parsers
cp -n fuzz/seeds/* fuzz/corpus-parsers/ 2>/dev/null || true
cp -n Tests/Fixtures/fuzz-regressions/* fuzz/corpus-parsers/ 2>/dev/null || true
echo "fuzz: building with -sanitize=fuzzer,address"
swiftc -sanitize=fuzzer,address -parse-as-library -O -module-name BatonCore \
  Sources/BatonCore/*.swift fuzz/FuzzParsers.swift -o .build-fuzz/fuzz-parsers
echo "fuzz: running for ${seconds}s"
.build-fuzz/fuzz-parsers fuzz/corpus-parsers -max_total_time="$seconds" -timeout=10 -max_len=4096 \
  -artifact_prefix=fuzz/out/ -print_final_stats=1 2>&1 | tail -n 25
if ls fuzz/out/crash-* fuzz/out/timeout-* fuzz/out/leak-* fuzz/out/oom-* >/dev/null 2>&1; then
  echo "fuzz: FAILED: findings in fuzz/out/" >&2
  exit 1
fi
echo "fuzz: no crash, hang or leak in ${seconds}s"
