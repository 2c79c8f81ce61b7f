#!/usr/bin/env bash
# A long run of one fuzz target, for minutes to hours (docs/fuzzing.md):
#   tests/fuzz/run_long.sh TARGET SECONDS [BUILD_DIR]
# BUILD_DIR is a clang tree (default /tmp/build-fuzz). The working corpus
# lives in BUILD_DIR/fuzz-corpus/TARGET (seeded from tests/fuzz/corpus and
# the regressions, and kept between runs, so runs build on each other);
# crash inputs go to BUILD_DIR/fuzz-artifacts/TARGET, the log to
# BUILD_DIR/fuzz-logs. One process, no -jobs: the machine is shared.
# Prints executions, coverage and the outcome at the end; exits non-zero
# when the run found something.
set -u
target=${1:?usage: run_long.sh TARGET SECONDS [BUILD_DIR]}
seconds=${2:?usage: run_long.sh TARGET SECONDS [BUILD_DIR]}
build=${3:-/tmp/build-fuzz}
here=$(cd "$(dirname "$0")" && pwd)
bin=$build/tests/fuzz/fuzz_$target
if [ ! -x "$bin" ]; then
  echo "no $bin: build the clang tree first (docs/fuzzing.md)" >&2
  exit 2
fi
corpus=$build/fuzz-corpus/$target
artifacts=$build/fuzz-artifacts/$target
mkdir -p "$corpus" "$artifacts" "$build/fuzz-logs"
cp -rn "$here/corpus/$target"/. "$corpus/" 2>/dev/null
[ -d "$here/regressions/$target" ] && cp -rn "$here/regressions/$target"/. "$corpus/"
log=$build/fuzz-logs/$target-$(date +%Y%m%d-%H%M%S).log

opts=(-timeout=30 -rss_limit_mb=2048 -print_final_stats=1)
[ -f "$here/$target.dict" ] && opts+=(-dict="$here/$target.dict")
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

echo "# $target for $seconds s; corpus $corpus; log $log"
start=$(date +%s)
"$bin" "${opts[@]}" -max_total_time="$seconds" -artifact_prefix="$artifacts/" "$corpus" >"$log" 2>&1
rc=$?
end=$(date +%s)

execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | tail -1 | awk '{print $2}')
last=$(grep -E '^#[0-9]+' "$log" | tail -1)
cov=$(echo "$last" | grep -o 'cov: [0-9]*' | awk '{print $2}')
ft=$(echo "$last" | grep -o 'ft: [0-9]*' | awk '{print $2}')
corp=$(echo "$last" | grep -o 'corp: [0-9]*' | awk '{print $2}')
echo "# target:     $target"
echo "# seconds:    $((end - start))"
echo "# executions: ${execs:-?} ($(( ${execs:-0} / ( (end - start) > 0 ? (end - start) : 1 ) ))/s)"
echo "# coverage:   cov ${cov:-?} edges, ft ${ft:-?} features, corpus ${corp:-?} inputs"
if [ $rc -eq 0 ]; then
  echo "# outcome:    no crash, leak or timeout"
else
  echo "# outcome:    FOUND something (exit $rc); the report:"
  grep -E 'ERROR: |SUMMARY: |runtime error|host check failed|Test unit written' "$log" | head -20
fi
exit $rc
