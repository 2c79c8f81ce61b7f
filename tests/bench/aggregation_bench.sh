#!/usr/bin/env bash
# Benchmark (not a ctest test): the aggregation consumer's get_list against
# its number of client threads, for small and large tensors, side by side in
# one run against one local redis-server with the sbai module.
#
#   tests/bench/aggregation_bench.sh [BUILD_DIR]
#
# Environment: SB_BENCH_SIZES (default "1K 1M"), SB_BENCH_THREADS ("1 2 4"),
# SB_BENCH_PRODUCERS (4: the list length), SB_BENCH_TENSORS (4 per dataset).
# get_list = LRANGE + fetching every dataset of the list (meta hash and
# tensors) with T threads, each on its own connection; bytes are the
# tensor bytes of the whole list.
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$src/build}
bin=$build/bin
module=$build/lib/sbai.so
for b in sb-agg-producer sb-agg-consumer; do
  [ -x "$bin/$b" ] || { echo "build first (stagebench build): $bin/$b" >&2; exit 1; }
done
sizes=${SB_BENCH_SIZES:-1K 1M}
threads=${SB_BENCH_THREADS:-1 2 4}
P=${SB_BENCH_PRODUCERS:-4}
K=${SB_BENCH_TENSORS:-4}

. "$src/tests/lib/bench.sh"
bench_start_redis 17580 "$module"

printf '# %s, %d cores, redis %s; %d producer ranks x %d tensors per dataset\n' "$(uname -m)" \
  "$(nproc)" "$(redis-server --version | awk '{ print $3 }' | sed 's/v=//')" "$P" "$K"
printf '# %-6s %7s %12s %12s %12s %10s\n' size threads "p50 (ms)" "p99 (ms)" "GB/s" "vs 1 thread"
for size in $sizes; do
  case $size in *M) iters=20 ;; *) iters=200 ;; esac
  base=""
  for t in $threads; do
    line=$(mpiexec -n "$P" "$bin/sb-agg-producer" --db "tcp://127.0.0.1:$port" --tensor-bytes "$size" \
        --tensors-per-dataset "$K" --iterations "$iters" --warmup 2 --poll-interval 1 --log-level warn : \
      -n 1 "$bin/sb-agg-consumer" --db "tcp://127.0.0.1:$port" --tensor-bytes "$size" \
        --tensors-per-dataset "$K" --iterations "$iters" --warmup 2 --poll-interval 1 --list-length "$P" \
        --client-threads "$t" --log-level warn |
      awk '$1 == "get_list" && NF == 8 { print $4, $5, $7 }' | tail -1)
    read -r p50 p99 gbs <<< "$line"
    [ -n "$base" ] || base=$gbs
    printf '  %-6s %7d %12s %12s %12s %10s\n' "$size" "$t" "$p50" "$p99" "$gbs" \
      "$(awk -v a="$gbs" -v b="$base" 'BEGIN { printf "%.2fx", (b > 0 ? a / b : 0) }')"
  done
done
