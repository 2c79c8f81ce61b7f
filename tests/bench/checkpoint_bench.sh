#!/usr/bin/env bash
# Benchmark (not a ctest test): what checkpoints of --out cost.
# sb-throughput with SB_BENCH_RANKS ranks (default 64) and
# SB_BENCH_ITERATIONS timed iterations (default 1000) of 1K tensors against
# one database started with `stagebench db start`, with
# --checkpoint-interval 0 (the file written at the end only), 1 and 10,
# interleaved, SB_BENCH_REPEATS times (default 3).
#
#   tests/bench/checkpoint_bench.sh [BUILD_DIR]
#
# Per setting: the median loop_time aggregate (ops/s) and the ratio to
# interval 0; the checkpoints taken and the share of rank 0's loop wall
# time spent in them (rank 0's "wrote ... checkpoints" line).
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
. "$src/tests/lib/bench.sh"
bench_throughput_build "${1:-}"
ranks=${SB_BENCH_RANKS:-64}
iters=${SB_BENCH_ITERATIONS:-1000}
repeats=${SB_BENCH_REPEATS:-3}
intervals="0 1 10"

tmp=$(mktemp -d)
export SB_BUILD=$build SB_MODULE=$build/lib/sbai.so
stop_all() {
  SB_STATE=$tmp/db bash "$fe" db stop >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap stop_all EXIT
db=$(SB_STATE=$tmp/db bash "$fe" db start --nodes 1 --no-pin 2>/dev/null | sed 's/^export SSDB=//')
[ -n "$db" ] || { echo "could not start the database" >&2; exit 1; }

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# One run: "ops/s checkpoints percent" (0 0 without checkpoints).
run() {
  local ck=$1
  mpiexec -n "$ranks" "$tp" --db "$db" --tensor-bytes 1K --iterations "$iters" --warmup 10 \
    --metrics-interval 0 --checkpoint-interval "$ck" --out "$tmp/run.h5" 2>&1 |
    awk '$1 == "loop_time" { ops = $NF }
         /wrote .*checkpoints/ { for (k = 1; k <= NF; k++) { if ($k == "checkpoints,") n = $(k - 1); if ($k ~ /%$/) p = $k } }
         END { sub(/%/, "", p); printf "%s %s %s\n", ops, n ? n : 0, p ? p : 0 }'
}

printf '# sb-throughput, %d ranks on %d cores, %d iterations of 1K tensors; median of %d runs, interleaved\n' \
  "$ranks" "$(nproc)" "$iters" "$repeats"
printf '# %-10s %14s %9s %12s %18s\n' interval "loop ops/s" "vs 0" checkpoints "in checkpoints"
for ck in $intervals; do : > "$tmp/r$ck"; done
for _ in $(seq "$repeats"); do
  for ck in $intervals; do run "$ck" >> "$tmp/r$ck"; done
done
base=$(awk '{ print $1 }' "$tmp/r0" | median)
for ck in $intervals; do
  ops=$(awk '{ print $1 }' "$tmp/r$ck" | median)
  n=$(awk '{ print $2 }' "$tmp/r$ck" | median)
  pct=$(awk '{ print $3 }' "$tmp/r$ck" | median)
  printf '  %-10s %14.1f %9.3f %12s %17s%%\n' "$ck s" "$ops" "$(awk -v a="$ops" -v b="$base" 'BEGIN { print a / b }')" "$n" "$pct"
done
