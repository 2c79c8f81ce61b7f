#!/usr/bin/env bash
# Benchmark (not a ctest test): sb-throughput against redis-benchmark on one
# local redis-server with the sbai module, side by side in one run.
#
#   tests/bench/throughput_vs_redis_benchmark.sh [BUILD_DIR]
#
# For each size (SB_BENCH_SIZES, default "1K 1M"): redis-benchmark SET and
# GET with 4 clients, no pipelining (-c 4 -P 1 -d SIZE); sb-throughput
# --mode raw and --mode tensor with 4 ranks (--no-verify: redis-benchmark
# checks nothing either, and the checks would leave clients idle). Each
# tool runs SB_BENCH_REPEATS times (default 3), interleaved; the median is
# reported. ops/s counts single commands: redis-benchmark's SET+GET pair
# rate is 2 / (1/SET + 1/GET), sb-throughput's is its loop_time aggregate
# (one put and one get per iteration).
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$src/build}
tp=$build/bin/sb-throughput
module=$build/lib/sbai.so
[ -x "$tp" ] && [ -f "$module" ] || { echo "build first (stagebench build): $tp, $module" >&2; exit 1; }
command -v redis-benchmark >/dev/null || { echo "redis-benchmark not found (apt-get install redis-tools)" >&2; exit 1; }
sizes=${SB_BENCH_SIZES:-1K 1M}
repeats=${SB_BENCH_REPEATS:-3}
clients=4

. "$src/tests/lib/bench.sh"
bench_start_redis 17379 "$module"

bytes_of() { case $1 in *K) echo $(( ${1%K} * 1024 ));; *M) echo $(( ${1%M} * 1048576 ));; *) echo "$1";; esac; }
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# redis-benchmark: prints the SET+GET pair rate in single commands per second.
rb_rate() {
  local size=$1 n=$2 out set get
  out=$(redis-benchmark -p "$port" -c $clients -P 1 -d "$(bytes_of "$size")" -n "$n" -t set,get -q 2>/dev/null | tr '\r' '\n')
  set=$(echo "$out" | awk -F'[: ]+' '/^SET/ { print $2 }' | tail -1)
  get=$(echo "$out" | awk -F'[: ]+' '/^GET/ { print $2 }' | tail -1)
  awk -v s="$set" -v g="$get" 'BEGIN { printf "%.1f\n", 2 / (1 / s + 1 / g) }'
}

# sb-throughput: loop_time aggregate ops/s from its table.
sb_rate() {
  local size=$1 mode=$2 iters=$3
  mpiexec -n $clients "$tp" --db "tcp://127.0.0.1:$port" --mode "$mode" --tensor-bytes "$size" \
    --iterations "$iters" --warmup 10 --no-verify --log-level warn |
    awk '$1 == "loop_time" { print $NF }'
}

printf '# redis %s, %s, %d cores; %d clients; median of %d runs\n' \
  "$(redis-server --version | awk '{ print $3 }' | sed 's/v=//')" "$(uname -m)" "$(nproc)" $clients "$repeats"
printf '# %-6s %-26s %12s %10s %-24s %s\n' size tool "ops/s" "GB/s" ratio "min..max ops/s"
for size in $sizes; do
  b=$(bytes_of "$size")
  if [ "$b" -ge 65536 ]; then n=4000; iters=1000; else n=200000; iters=25000; fi
  n=${SB_BENCH_REQUESTS:-$n}; iters=${SB_BENCH_ITERATIONS:-$iters}
  : > "$tmp/rb"; : > "$tmp/raw"; : > "$tmp/tensor"
  for _ in $(seq "$repeats"); do
    rb_rate "$size" "$n" >> "$tmp/rb"
    sb_rate "$size" raw "$iters" >> "$tmp/raw"
    sb_rate "$size" tensor "$iters" >> "$tmp/tensor"
  done
  rb=$(median < "$tmp/rb"); raw=$(median < "$tmp/raw"); ten=$(median < "$tmp/tensor")
  gbs() { awk -v r="$1" -v b="$b" 'BEGIN { printf "%.3f", r * b / 1e9 }'; }
  spread() { sort -g "$1" | awk '{ v[NR] = $1 } END { printf "[%.0f..%.0f]", v[1], v[NR] }'; }
  printf '  %-6s %-26s %12.1f %10s %-24s %s\n' "$size" "redis-benchmark SET/GET" "$rb" "$(gbs "$rb")" "-" "$(spread "$tmp/rb")"
  printf '  %-6s %-26s %12.1f %10s %-24s %s\n' "$size" "sb-throughput raw" "$raw" "$(gbs "$raw")" \
    "$(awk -v a="$raw" -v b="$rb" 'BEGIN { printf "%.2fx redis-benchmark", a / b }')" "$(spread "$tmp/raw")"
  printf '  %-6s %-26s %12.1f %10s %-24s %s\n' "$size" "sb-throughput tensor" "$ten" "$(gbs "$ten")" \
    "$(awk -v a="$ten" -v b="$raw" 'BEGIN { printf "%.2fx raw", a / b }')" "$(spread "$tmp/tensor")"
done
