#!/usr/bin/env bash
# Benchmark (not a ctest test): sb-throughput with 4 ranks against one
# database (standalone, 1 shard) and a Redis Cluster of 3 shards on
# loopback, side by side, both started with `stagebench db start`.
#
#   tests/bench/cluster_bench.sh [BUILD_DIR]
#
# For each size (SB_BENCH_SIZES, default "1K 1M") and mode (SB_BENCH_MODES,
# default "tensor raw"): SB_BENCH_REPEATS runs (default 3) against each
# database, interleaved, --no-verify; the median loop_time aggregate is
# reported (ops/s counts single commands: one put and one get per
# iteration). Servers are not pinned (--no-pin), so both set-ups share the
# cores the same way.
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
. "$src/tests/lib/bench.sh"
bench_throughput_build "${1:-}"
grep -q create <<< "$(redis-cli --cluster help 2>&1 || true)" || { echo "redis-cli has no --cluster" >&2; exit 1; }
sizes=${SB_BENCH_SIZES:-1K 1M}
modes=${SB_BENCH_MODES:-tensor raw}
repeats=${SB_BENCH_REPEATS:-3}
ranks=4

tmp=$(mktemp -d)
export SB_BUILD=$build SB_MODULE=$build/lib/sbai.so
stop_all() {
  SB_STATE=$tmp/one bash "$fe" db stop >/dev/null 2>&1 || true
  SB_STATE=$tmp/three bash "$fe" db stop >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap stop_all EXIT
one=$(SB_STATE=$tmp/one bash "$fe" db start --nodes 1 --no-pin 2>/dev/null | sed 's/^export SSDB=//')
three=$(SB_STATE=$tmp/three bash "$fe" db start --nodes 3 --no-pin 2>/dev/null | sed 's/^export SSDB=//')
[ -n "$one" ] && [ -n "$three" ] || { echo "could not start the databases" >&2; exit 1; }

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# One run: "ops/s GB/s" of loop_time.
run() {
  local db=$1 size=$2 mode=$3 iters=$4
  mpiexec -n $ranks "$tp" --db "$db" --mode "$mode" --tensor-bytes "$size" --iterations "$iters" \
    --warmup 10 --no-verify --log-level warn | awk '$1 == "loop_time" { print $NF, $(NF - 1) }'
}

printf '# redis %s, %s, %d cores; sb-throughput, %d ranks; median of %d runs\n' \
  "$(redis-server --version | awk '{ print $3 }' | sed 's/v=//')" "$(uname -m)" "$(nproc)" $ranks "$repeats"
printf '# 1 shard: %s\n# 3 shards: %s\n' "$one" "$three"
printf '# %-5s %-7s %14s %9s %14s %9s %7s  %s\n' size mode "1 shard ops/s" "GB/s" "3 shards ops/s" "GB/s" "3 vs 1" \
  "ops/s min..max: 1 shard | 3 shards"
for size in $sizes; do
  case $size in *M|*G) iters=400 ;; *) iters=10000 ;; esac
  iters=${SB_BENCH_ITERATIONS:-$iters}
  for mode in $modes; do
    : > "$tmp/r1"; : > "$tmp/r3"
    for _ in $(seq "$repeats"); do
      run "$one" "$size" "$mode" "$iters" >> "$tmp/r1"
      run "$three" "$size" "$mode" "$iters" >> "$tmp/r3"
    done
    o1=$(awk '{ print $1 }' "$tmp/r1" | median); g1=$(awk '{ print $2 }' "$tmp/r1" | median)
    o3=$(awk '{ print $1 }' "$tmp/r3" | median); g3=$(awk '{ print $2 }' "$tmp/r3" | median)
    spread() { awk '{ print $1 }' "$1" | sort -g | awk '{ v[NR] = $1 } END { printf "%.0f..%.0f", v[1], v[NR] }'; }
    printf '  %-5s %-7s %14.1f %9.3f %14.1f %9.3f %6.2fx  %s | %s\n' "$size" "$mode" "$o1" "$g1" "$o3" "$g3" \
      "$(awk -v a="$o3" -v b="$o1" 'BEGIN { print (b > 0) ? a / b : 0 }')" "$(spread "$tmp/r1")" "$(spread "$tmp/r3")"
  done
done
echo "# On a $(nproc)-core machine the 3 shards and the $ranks ranks share the same cores: this shows the"
echo "# client's routing overhead (slot per command, one connection per shard), not scaling;"
echo "# shards scale when each has cores (or a node) of its own."
