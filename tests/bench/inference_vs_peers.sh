#!/usr/bin/env bash
# Benchmark (not a ctest test): our CPU ResNet-50 against PyTorch (eager and
# channels_last) and ONNX Runtime, on the same torchvision weights (random
# batch-norm statistics) and the same random 0..255 images, all with the
# same number of threads; ours in-process (`sb-model run`), run_model inside
# the database and sb-inference end to end (sbai in a local redis-server).
# The work is done by tests/bench/peers.py; see its header for the details.
#
#   tests/bench/inference_vs_peers.sh [BUILD_DIR]
#
# Needs BUILD_DIR (default build/) with bin/sb-model, bin/sb-inference and
# lib/sbai.so, redis-server and mpiexec, and a Python virtual environment
# with torch, torchvision, onnxruntime, onnx and safetensors: SB_BENCH_VENV
# (default BUILD_DIR/peers-venv), made on first use with python3 -m venv
# (Debian's /usr/bin/python3 when there is one) and pip. torch and
# torchvision come from PyTorch's CPU-only index when it is reachable, else
# from PyPI (whose Linux wheels bring the CUDA libraries: about 5 GiB); the
# table's header says which. SB_BENCH_OFFLINE=1: never install, fail if the
# environment lacks a package.
#
# Environment: SB_BENCH_BATCHES ("1 8 32"), SB_BENCH_REPEATS (3),
# SB_BENCH_THREADS (all cores), SB_BENCH_IMAGES (16: timed images per
# measurement, i.e. max(1, 16 / batch) passes after one untimed),
# SB_BENCH_SEED (1).
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$src/build}" && pwd)
bin=$build/bin
module=$build/lib/sbai.so
for f in "$bin/sb-model" "$bin/sb-inference" "$module"; do
  [ -e "$f" ] || { echo "build first (stagebench build): $f" >&2; exit 1; }
done
for t in redis-server redis-cli mpiexec; do
  command -v "$t" >/dev/null || { echo "$t not found on PATH" >&2; exit 1; }
done
venv=${SB_BENCH_VENV:-$build/peers-venv}
batches=${SB_BENCH_BATCHES:-1 8 32}
repeats=${SB_BENCH_REPEATS:-3}
threads=${SB_BENCH_THREADS:-$(nproc)}
images=${SB_BENCH_IMAGES:-16}
seed=${SB_BENCH_SEED:-1}
cpu_index=https://download.pytorch.org/whl/cpu

have_packages() {
  [ -x "$venv/bin/python" ] &&
    "$venv/bin/python" -c 'import torch, torchvision, onnxruntime, onnx, safetensors, numpy' 2>/dev/null
}

make_venv() {
  local py=python3
  [ -x /usr/bin/python3 ] && py=/usr/bin/python3
  echo "# creating $venv ($py -m venv)" >&2
  "$py" -m venv "$venv" || { echo "cannot create the virtual environment $venv" >&2; exit 1; }
  local pip=("$venv/bin/python" -m pip install --disable-pip-version-check)
  # The CPU-only wheels are much smaller; PyPI's bring CUDA with them.
  if "$venv/bin/python" -c "import urllib.request as u; u.urlopen('$cpu_index/torch/', timeout=10)" \
       2>/dev/null; then
    echo "# installing torch, torchvision from $cpu_index (CPU-only wheels)" >&2
    "${pip[@]}" --index-url "$cpu_index" torch torchvision >&2
  else
    echo "# $cpu_index not reachable: installing torch, torchvision from PyPI (with CUDA libraries)" >&2
    "${pip[@]}" torch torchvision >&2
  fi
  "${pip[@]}" onnxruntime onnx safetensors numpy >&2
}

if ! have_packages; then
  [ "${SB_BENCH_OFFLINE:-0}" = 1 ] && {
    echo "SB_BENCH_OFFLINE=1 and $venv lacks torch, torchvision, onnxruntime, onnx or safetensors" >&2
    exit 1
  }
  [ -e "$venv" ] && [ ! -x "$venv/bin/python" ] && { echo "$venv exists but is not a virtual environment" >&2; exit 1; }
  [ -x "$venv/bin/python" ] || make_venv
  have_packages || {
    # An environment from an interrupted install: complete it from PyPI.
    "$venv/bin/python" -m pip install --disable-pip-version-check torch torchvision onnxruntime \
      onnx safetensors numpy >&2
  }
  have_packages || { echo "$venv: the packages still do not import" >&2; exit 1; }
fi

. "$src/tests/lib/bench.sh"
bench_start_redis 17520 "$module" THREADS_PER_QUEUE 1 INTRA_OP_PARALLELISM "$threads"
[ "$(redis-cli -p "$port" ping 2>/dev/null)" = PONG ] || {
  echo "redis-server with $module did not start:" >&2; cat "$tmp/redis.log" >&2; exit 1
}

cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
printf '# %s, %s, %d cores, %s threads; redis %s (THREADS_PER_QUEUE 1, INTRA_OP_PARALLELISM %s)\n' \
  "$(date -u +%F)" "${cpu:-unknown CPU}" "$(nproc)" "$threads" \
  "$(redis-server --version | awk '{ print $3 }' | sed 's/v=//')" "$threads"
# Where torch came from, by its local version: +cpu is the CPU-only index's.
torch_version=$("$venv/bin/python" -c 'import torch; print(torch.__version__)')
case $torch_version in
  *+cpu) printf '# torch %s: CPU-only wheel (%s)\n' "$torch_version" "$cpu_index" ;;
  *) printf '# torch %s: PyPI wheel (CUDA libraries installed, unused here)\n' "$torch_version" ;;
esac
"$venv/bin/python" "$src/tests/bench/peers.py" --bin "$bin" --port "$port" --work "$tmp/work" \
  --threads "$threads" --batches "$batches" --repeats "$repeats" --images "$images" --seed "$seed"
