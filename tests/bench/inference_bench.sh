#!/usr/bin/env bash
# Benchmark (not a ctest test): images/s of the inference path on CPU,
# in-process (the kernel layer, no database) against end to end (sb-inference
# through the sbai module in a local redis-server), side by side in one run.
#
#   tests/bench/inference_bench.sh [BUILD_DIR]
#
# Environment: SB_BENCH_MODELS (default "tiny resnet50"), SB_BENCH_BATCHES
# ("1 8"), SB_BENCH_THREADS (kernel threads, both sides; default: all cores),
# SB_BENCH_ITERS_<model> (timed iterations; tiny 200, resnet50 4).
# The database runs THREADS_PER_QUEUE 1 and INTRA_OP_PARALLELISM THREADS, so
# both sides use the same cores; the ratio end-to-end / in-process is what
# the database adds (transfers, queueing, the script) — 1 rank. With 2
# ranks the two share the one queue (the figure is the aggregate).
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$src/build}
bin=$build/bin
module=$build/lib/sbai.so
for b in sb-inference sb-bench-inprocess; do
  [ -x "$bin/$b" ] || { echo "build first (stagebench build): $bin/$b" >&2; exit 1; }
done
models=${SB_BENCH_MODELS:-tiny resnet50}
batches=${SB_BENCH_BATCHES:-1 8}
threads=${SB_BENCH_THREADS:-$(nproc)}

. "$src/tests/lib/bench.sh"
bench_start_redis 17480 "$module" THREADS_PER_QUEUE 1 INTRA_OP_PARALLELISM "$threads"

iters_of() {
  local v="SB_BENCH_ITERS_$1"
  case $1 in tiny) echo "${!v:-200}" ;; *) echo "${!v:-4}" ;; esac
}
e2e() { # model batch ranks iters -> images/s (loop_time aggregate)
  mpiexec -n "$3" "$bin/sb-inference" --db "tcp://127.0.0.1:$port" --model "$1" \
    --batch-size "$2" --iterations "$4" --warmup 1 --no-verify --log-level warn |
    awk '$1 == "loop_time" { print $NF }'
}

printf '# %s, %d cores, kernel threads %d; redis %s; THREADS_PER_QUEUE 1\n' "$(uname -m)" \
  "$(nproc)" "$threads" "$(redis-server --version | awk '{ print $3 }' | sed 's/v=//')"
printf '# %-9s %5s %14s %14s %14s %9s %9s %12s\n' model batch "in-process" "e2e 1 rank" \
  "e2e 2 ranks" "ratio 1" "ratio 2" "fwd GFLOP/s"
printf '# %-9s %5s %14s %14s %14s %9s %9s %12s\n' "" "" "images/s" "images/s" "images/s" \
  "e2e/inp" "e2e/inp" "in-process"
for m in $models; do
  it=$(iters_of "$m")
  for b in $batches; do
    read -r _ _ _ inp gf < <("$bin/sb-bench-inprocess" "$m" "$b" "$threads" "$it")
    one=$(e2e "$m" "$b" 1 "$it")
    two=$(e2e "$m" "$b" 2 "$it")
    printf '  %-9s %5d %14.2f %14.2f %14.2f %9.2f %9.2f %12.1f\n' "$m" "$b" "$inp" "$one" "$two" \
      "$(awk -v a="$one" -v b="$inp" 'BEGIN { print a / b }')" \
      "$(awk -v a="$two" -v b="$inp" 'BEGIN { print a / b }')" "$gf"
  done
done
