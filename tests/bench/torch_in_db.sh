#!/usr/bin/env bash
# Benchmark (not a ctest test): one database, two backends. resnet50 run by
# our kernels (SBRESNET, a safetensors file) and by libtorch (TORCH, the
# TorchScript that tests/torch/trace_resnet.py traces from the same file) in
# the same redis-server + sbai.so BACKEND_TORCH, with the same threads
# (INTRA_OP_PARALLELISM, which is also libtorch's intra-op thread count):
# sb-inference's run_model phase (AI.MODELEXECUTE as the client times it)
# and its loop (put_tensor, run_script pre_process_3ch, run_model,
# unpack_tensor), 1 rank, at each batch size.
#
#   tests/bench/torch_in_db.sh [BUILD_DIR]
#
# Needs BUILD_DIR (default build/) built with the plugin (-DSB_LIBTORCH=...:
# bin/sb-model, bin/sb-inference, lib/sbai.so, lib/sbai_torch.so),
# redis-server, redis-cli and mpiexec, and a Python with torch, torchvision
# and numpy: $SB_BENCH_VENV, else build-peers/peers-venv or
# BUILD_DIR/peers-venv (tests/bench/inference_vs_peers.sh makes one). Nothing
# is installed here.
#
# 1. `sb-model make resnet50 --seed S --random-bn` and its TorchScript.
# 2. Untimed, per batch size: each backend once with verification on every
#    iteration (stores both models; the largest relative logit difference
#    against our in-process forward pass is printed).
# 3. Timed: every batch size and both backends once per repetition, the
#    backends' order swapped every repetition; each sb-inference run is
#    --warmup 1 and max(1, IMAGES / batch) timed iterations, --no-verify;
#    its figure is batch / the median iteration's time (p50), for run_model
#    and for the loop. With the untimed run of step 2, each TorchScript
#    shape has run twice before it is timed (libtorch's profiling executor
#    optimises a graph on its second run).
#    The table has the median over repetitions, the spread and libtorch /
#    ours.
#
# Environment: SB_BENCH_BATCHES ("1 8 32"), SB_BENCH_REPEATS (3),
# SB_BENCH_THREADS (all cores), SB_BENCH_IMAGES (16), SB_BENCH_SEED (1).
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$src/build}" && pwd)
bin=$build/bin
module=$build/lib/sbai.so
plugin=$build/lib/sbai_torch.so
for f in "$bin/sb-model" "$bin/sb-inference" "$module"; do
  [ -e "$f" ] || { echo "build first (stagebench build): $f" >&2; exit 1; }
done
[ -e "$plugin" ] || { echo "$plugin: not built (configure with -DSB_LIBTORCH=<venv with torch>)" >&2; exit 1; }
for t in redis-server redis-cli mpiexec; do
  command -v "$t" >/dev/null || { echo "$t not found on PATH" >&2; exit 1; }
done
batches=${SB_BENCH_BATCHES:-1 8 32}
repeats=${SB_BENCH_REPEATS:-3}
threads=${SB_BENCH_THREADS:-$(nproc)}
images=${SB_BENCH_IMAGES:-16}
seed=${SB_BENCH_SEED:-1}

venv=""
for v in "${SB_BENCH_VENV:-}" "$src/build-peers/peers-venv" "$build/peers-venv"; do
  if [ -n "$v" ] && [ -x "$v/bin/python" ] &&
     "$v/bin/python" -c 'import torch, torchvision, numpy' 2>/dev/null; then
    venv=$v
    break
  fi
done
[ -n "$venv" ] || {
  echo "no Python with torch, torchvision and numpy: set SB_BENCH_VENV (tests/bench/inference_vs_peers.sh makes build-peers/peers-venv)" >&2
  exit 1
}

. "$src/tests/lib/bench.sh"
bench_start_redis 17540 "$module" BACKEND_TORCH "$plugin" THREADS_PER_QUEUE 1 \
  INTRA_OP_PARALLELISM "$threads"
[ "$(redis-cli -p "$port" ping 2>/dev/null)" = PONG ] || {
  echo "redis-server with $module and $plugin did not start:" >&2; cat "$tmp/redis.log" >&2; exit 1
}
work=$tmp/work
mkdir -p "$work"
st=$work/resnet50-s$seed.safetensors
pt=$work/resnet50-s$seed.pt
"$bin/sb-model" make resnet50 --seed "$seed" --random-bn -o "$st" >&2
"$venv/bin/python" "$src/tests/torch/trace_resnet.py" "$st" "$pt" >&2

# sbinf BACKEND BATCH ITERATIONS [options]: "RUN_MODEL LOOP DIFF" of one
# sb-inference run (1 rank): images/s of the median iteration (batch / p50)
# of run_model and of the whole loop, and the largest relative logit
# difference verification saw (0 when the logits were bit-identical).
sbinf() {
  local be=$1 b=$2 it=$3 out
  shift 3
  local model=(--model-file "$st")
  [ "$be" = torch ] && model=(--model-file "$pt" --weights "$st")
  out=$(SB_DB_COMMAND_TIMEOUT=600 mpiexec -n 1 "$bin/sb-inference" --db "tcp://127.0.0.1:$port" --backend "$be" \
        --model resnet50 "${model[@]}" --batch-size "$b" --iterations "$it" "$@" 2>&1) || {
    echo "sb-inference --backend $be --batch-size $b failed:" >&2; echo "$out" >&2; exit 1
  }
  awk -v b="$b" '$1 == "run_model" && NF >= 8 && $4 > 0 { rm = b * 1000 / $4 }
       $1 == "loop_time" && NF >= 8 && $4 > 0 { lt = b * 1000 / $4 }
       /largest relative logit difference checked/ { d = $NF }
       /^# verification: sampled logits matched/ { ok = 1 }
       END { if (rm == "" || lt == "") exit 1
             printf "%.3f %.3f %s\n", rm, lt, (d != "" ? d : (ok ? 0 : "-")) }' <<<"$out" || {
    echo "sb-inference printed no run_model / loop_time rows:" >&2; echo "$out" >&2; exit 1
  }
}

cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
printf '# %s, %s, %d cores, %s threads; redis %s (THREADS_PER_QUEUE 1, INTRA_OP_PARALLELISM %s); torch %s; load average at start %s\n' \
  "$(date -u +%F)" "${cpu:-unknown CPU}" "$(nproc)" "$threads" \
  "$(redis-server --version | awk '{ print $3 }' | sed 's/v=//')" "$threads" \
  "$("$venv/bin/python" -c 'import torch; print(torch.__version__)')" \
  "$(cut -d' ' -f1-3 /proc/loadavg)"

echo "# logit agreement with our in-process forward pass (max |db - ours| / max(1, max |ours|))"
for b in $batches; do
  for be in sbresnet torch; do
    res=$(sbinf "$be" "$b" 1 --warmup 0 --verify-every 1 --set-model --log-level debug)
    read -r _ _ d <<<"$res"
    printf '#   batch %3d  %-8s %s\n' "$b" "$be" "$d"
  done
done

results=$tmp/results
: >"$results"
for rep in $(seq "$repeats"); do
  order="sbresnet torch"
  [ $((rep % 2)) = 0 ] && order="torch sbresnet"
  for b in $batches; do
    it=$((images / b))
    [ "$it" -ge 1 ] || it=1
    for be in $order; do
      res=$(sbinf "$be" "$b" "$it" --warmup 1 --no-verify --log-level warn)
      read -r rm lt _ <<<"$res"
      echo "$b $be $rm $lt" >>"$results"
      echo "# repetition $rep/$repeats, batch $b, $be: run_model $rm, end to end $lt images/s" >&2
    done
  done
done

echo "# resnet50 224x224, random batch-norm (seed $seed), 1 rank; median of $repeats interleaved repetitions;" \
  "max(1, $images // batch) timed iterations after 1 untimed; load average at end $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$results" "$batches" <<'EOF'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
print(f"# {'batch':>5}  {'method':<36} {'images/s':>9} {'libtorch/ours':>14}   min..max images/s")
for b in sys.argv[2].split():
    med = {}
    for be, name in (("sbresnet", "ours"), ("torch", "libtorch")):
        for col, what in ((2, "run_model in the database"), (3, "end to end")):
            v = [float(r[col]) for r in rows if r[0] == b and r[1] == be]
            med[(be, col)] = statistics.median(v)
            ratio = f"{med[(be, col)] / med[('sbresnet', col)]:>13.2f}x" if be == "torch" else f"{'':>14}"
            print(f"  {b:>5}  {name + ' ' + what:<36} {med[(be, col)]:>9.2f} {ratio}"
                  f"   [{min(v):.2f}..{max(v):.2f}]")
EOF
