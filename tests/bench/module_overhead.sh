#!/usr/bin/env bash
# Benchmark (not a ctest test): what the sbai module adds over the same work
# done without it, side by side in one run against one local redis-server.
#
#   tests/bench/module_overhead.sh [BUILD_DIR]
#
# (a) resnet50 forward: in-process (`sb-model run`: pre_process_3ch + the
#     forward, no database, images/s of its timed passes) against run_model
#     in the database (AI.MODELEXECUTE timed by redis-benchmark with one
#     client, images/s = batch x runs/s; the input a zero tensor of
#     [B][3][224][224] stored once, the model stored once, one untimed run
#     first). The server runs THREADS_PER_QUEUE 1 and INTRA_OP_PARALLELISM
#     THREADS, so both sides use the same kernel threads.
# (b) SET / GET against AI.TENSORSET k FLOAT n BLOB / AI.TENSORGET k BLOB
#     with the same payload ('x' repeated: printable bytes, valid FLOAT data),
#     redis-benchmark -c 4 -P 1, ops/s.
#
# Every measurement runs SB_BENCH_REPEATS times (default 3), the kinds
# interleaved within each repetition; the table gives the median and the
# min..max spread; the ratio is module / reference of the medians (1.00:
# the module costs nothing), "best" that of the maxima (on a shared machine
# other load only ever slows a run down, so the best runs are the least
# disturbed ones).
#
# Environment: SB_BENCH_BATCHES ("1 8 32"), SB_BENCH_THREADS (kernel threads,
# both sides; default 2), SB_BENCH_SIZES (payload bytes, "1024 65536"),
# SB_BENCH_REPEATS (3), SB_BENCH_MODULE (the module to load; default
# BUILD_DIR/lib/sbai.so: to compare two builds of the module against the
# same in-process binary; the module links the kernels statically, so build
# it from the same kernels/ as BUILD_DIR or the ratio compares kernels too),
# SB_BENCH_ITERS (timed forward passes per batch
# size; default max(2, 32 / batch)), SB_BENCH_OPS_<bytes> (commands per
# redis-benchmark run; 1024: 100000, 65536: 20000, else 20000).
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$src/build}" && pwd)
bin=$build/bin
module=${SB_BENCH_MODULE:-$build/lib/sbai.so}
[ -x "$bin/sb-model" ] && [ -f "$module" ] ||
  { echo "build first (stagebench build): $bin/sb-model, $module" >&2; exit 1; }
for t in redis-benchmark redis-cli; do
  command -v $t >/dev/null || { echo "$t not found (apt-get install redis-tools)" >&2; exit 1; }
done
module=$(cd "$(dirname "$module")" && pwd)/$(basename "$module")
batches=${SB_BENCH_BATCHES:-1 8 32}
threads=${SB_BENCH_THREADS:-2}
sizes=${SB_BENCH_SIZES:-1024 65536}
repeats=${SB_BENCH_REPEATS:-3}
clients=4

. "$src/tests/lib/bench.sh"
bench_start_redis 17600 "$module" THREADS_PER_QUEUE 1 INTRA_OP_PARALLELISM "$threads"
cli() { redis-cli -p "$port" "$@"; }
[ "$(cli ping 2>/dev/null)" = PONG ] || { echo "redis-server did not start:" >&2; cat "$tmp/redis.log" >&2; exit 1; }

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
spread() { sort -g | awk -v f="${1:-%.0f}" 'NR == 1 { lo = $1 } { hi = $1 } END { printf "[" f ".." f "]", lo, hi }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
iters_of() { echo "${SB_BENCH_ITERS:-$(( 32 / $1 > 2 ? 32 / $1 : 2 ))}"; }
ops_of() {
  local v="SB_BENCH_OPS_$1"
  case $1 in 1024) echo "${!v:-100000}" ;; *) echo "${!v:-20000}" ;; esac
}
# redis-benchmark: requests per second of one command line.
rb() { # clients n args... -> requests/s
  local c=$1 n=$2
  shift 2
  redis-benchmark -p "$port" -c "$c" -P 1 -n "$n" --csv "$@" 2>/dev/null |
    awk -F'","' 'NR == 2 { print $2 + 0 }'
}

# ---- set-up: the model (stored once), one input tensor per batch size, the payloads
model_file=$tmp/resnet50.safetensors
"$bin/sb-model" make resnet50 --seed 1 -o "$model_file" 2>"$tmp/make.log" ||
  { cat "$tmp/make.log" >&2; exit 1; }
[ "$(cli -x AI.MODELSTORE m SBRESNET CPU BLOB < "$model_file")" = OK ] ||
  { echo "AI.MODELSTORE failed" >&2; exit 1; }
for b in $batches; do
  [ "$(cli AI.TENSORSET "in$b" FLOAT "$b" 3 224 224)" = OK ] || { echo "AI.TENSORSET in$b failed" >&2; exit 1; }
  # untimed: the first run of each size pays the first touch of its memory
  [ "$(cli AI.MODELEXECUTE m INPUTS 1 "in$b" OUTPUTS 1 "out$b")" = OK ] ||
    { echo "AI.MODELEXECUTE at batch $b failed" >&2; exit 1; }
done
declare -A payload
for s in $sizes; do
  payload[$s]=$(head -c "$s" /dev/zero | tr '\0' x)
  [ $((s % 4)) = 0 ] || { echo "payload sizes must be multiples of 4 (FLOAT): $s" >&2; exit 1; }
done

# ---- the measurements, interleaved; within each pair the side that runs
# first alternates from one repetition to the next (a load that drifts
# favours neither)
declare -A res
measure() { # name what [args...]: appends one figure to res[name]
  local name=$1 what=$2 b it rps
  shift 2
  case $what in
    inp)
      b=$1 it=$(iters_of "$1")
      res[$name]+="$("$bin/sb-model" run "$model_file" --batch-size "$b" --threads "$threads" \
        --iterations "$it" --warmup 1 | tr ' ' '\n' | awk -F= '$1 == "images_per_s" { print $2 }') " ;;
    db)
      b=$1 it=$(iters_of "$1")
      rps=$(rb 1 "$it" AI.MODELEXECUTE m INPUTS 1 "in$b" OUTPUTS 1 "out$b")
      res[$name]+="$(awk -v r="$rps" -v b="$b" 'BEGIN { printf "%.3f", r * b }') " ;;
    ops)
      res[$name]+="$(rb $clients "$@") " ;;
  esac
}
pair() { # rep "name what args" "name what args"
  local first=$2 second=$3
  [ $(($1 % 2)) = 1 ] || { first=$3 second=$2; }
  # shellcheck disable=SC2086
  measure $first
  # shellcheck disable=SC2086
  measure $second
}
for r in $(seq "$repeats"); do
  for b in $batches; do
    pair "$r" "inp_$b inp $b" "db_$b db $b"
  done
  for s in $sizes; do
    n=$(ops_of "$s")
    # the payload has no spaces: it survives the word splitting in pair
    pair "$r" "set_$s ops $n SET k$s ${payload[$s]}" \
      "tset_$s ops $n AI.TENSORSET t$s FLOAT $((s / 4)) BLOB ${payload[$s]}"
    pair "$r" "get_$s ops $n GET k$s" "tget_$s ops $n AI.TENSORGET t$s BLOB"
  done
done
for k in "${!res[@]}"; do
  # shellcheck disable=SC2086
  set -- ${res[$k]}
  [ $# = "$repeats" ] && awk -v l="${res[$k]}" 'BEGIN { n = split(l, v, " "); for (i = 1; i <= n; i++) if (v[i] + 0 <= 0) exit 1 }' ||
    { echo "a measurement failed ($k: ${res[$k]})" >&2; exit 1; }
done

col() { tr ' ' '\n' <<< "${res[$1]}" | grep -v '^$'; }
printf '# %s, %d cores, %s; redis %s; THREADS_PER_QUEUE 1, INTRA_OP_PARALLELISM %d; %d repetitions\n' \
  "$(uname -m)" "$(nproc)" "$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)" \
  "$(redis-server --version | awk '{ print $3 }' | sed 's/v=//')" "$threads" "$repeats"
printf '# (a) resnet50 224x224, images/s: in-process (sb-model run) vs run_model in the database\n'
best() { sort -g | tail -1; }
printf '# %5s %12s %18s %12s %18s %8s %8s\n' batch in-process spread run_model spread "db/inp" best
for b in $batches; do
  mi=$(col "inp_$b" | median) md=$(col "db_$b" | median)
  printf '  %5d %12.2f %18s %12.2f %18s %8s %8s\n' "$b" "$mi" "$(col "inp_$b" | spread %.2f)" "$md" \
    "$(col "db_$b" | spread %.2f)" "$(ratio "$md" "$mi")" "$(ratio "$(col "db_$b" | best)" "$(col "inp_$b" | best)")"
done
printf '# (b) ops/s, %d clients, no pipelining: plain strings vs tensors (FLOAT, BLOB)\n' $clients
printf '# %6s %-4s %12s %20s %12s %20s %8s %8s\n' bytes op "SET/GET" spread "AI.TENSOR*" spread \
  "ai/plain" best
for s in $sizes; do
  for op in set get; do
    mp=$(col "${op}_$s" | median) mt=$(col "t${op}_$s" | median)
    printf '  %6d %-4s %12.0f %20s %12.0f %20s %8s %8s\n' "$s" "$op" "$mp" "$(col "${op}_$s" | spread)" \
      "$mt" "$(col "t${op}_$s" | spread)" "$(ratio "$mt" "$mp")" \
      "$(ratio "$(col "t${op}_$s" | best)" "$(col "${op}_$s" | best)")"
  done
done
