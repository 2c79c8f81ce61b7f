#!/usr/bin/env bash
# The apps' GPU check for a GPU machine (issue 8, docs/gpu.md): --device gpu
# in sb-throughput and sb-baseline, from a build folder made elsewhere (this
# script builds nothing).
#
#   bash tests/gpu_apps/run.sh BUILD_DIR      # from anywhere
#   SB_BUILD_DIR=BUILD_DIR bash tests/gpu/run.sh   # calls this one last
#
# 1. correctness: the pattern kernels against the host (test_pattern_cuda),
#    and the gpu_apps tests (tests/gpu_apps/gpu_apps.sh) on this GPU;
# 2. host<->device copies: sb-throughput --device gpu (1 rank, AI.TENSORSET/
#    GET through a local redis-server with the module) per size, its d2h and
#    h2d medians beside the GPU's own figure from plain cudaMemcpy on pinned
#    memory (gpu_copy_bw), and the put/get figures;
# 3. the NCCL baseline on this one GPU (sb-baseline --device gpu, 1 rank:
#    ring = send/recv to itself, all-gather), beside MPI on the host.
#
# Needs on PATH: mpiexec, redis-server, redis-cli; libnccl.so.2 on
# LD_LIBRARY_PATH (else it is looked for in PyTorch's environment). On a
# machine the build was carried to (tests/gpu/prepare_carry.sh, docs/gpu.md),
# SB_CARRY_ROOT names the folder of tests/gpu/carry_root.sh: the build's
# programs, mpiexec and redis-server then run through its wrappers
# (SB_CARRY_ROOT/wrap, put first on PATH), which alone carry the libraries.
# Environment:
#   SB_CARRY_ROOT       see above (tests/gpu/run.sh sets it up and passes it on)
#   SB_GPU_APPS_SIZES   tensor sizes (default "64K 1M 16M 64M")
#   SB_GPU_APPS_ITERS   timed iterations per case (default 50)
#   SB_GPU_APPS_OUT     folder for the HDF5 files and logs (default: a new
#                       one under /tmp; tests/gpu/run.sh gives a folder of its
#                       logs, which end up in its gpu-logs.tar.gz)
# Exit status: 0 every step ran and verified, 1 something failed, 77 no
# GPU visible or no build folder named (nothing measured), 2 the named build
# folder or a tool is missing.
set -uo pipefail

src=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-${SB_BUILD_DIR:-${SB_BUILD:-}}}
if [ -z "$build" ]; then # e.g. called by tests/gpu/run.sh without a suite build
  echo "# tests/gpu_apps/run.sh not run: needs a CMake build folder of the suite (argument or SB_BUILD_DIR)"
  exit 77
fi
[ -d "$build/bin" ] || {
  echo "usage: $0 BUILD_DIR   (a CMake build folder of this project, with bin/ and lib/)" >&2
  exit 2
}
build=$(cd "$build" && pwd)
bin=$build/bin
sizes=${SB_GPU_APPS_SIZES:-64K 1M 16M 64M}
iters=${SB_GPU_APPS_ITERS:-50}
if [ -n "${SB_GPU_APPS_OUT:-}" ]; then out=$SB_GPU_APPS_OUT
else out=$(mktemp -d "${TMPDIR:-/tmp}/sb-gpu-apps.XXXXXX"); fi
mkdir -p "$out"
failed=0

for t in sb-throughput sb-baseline gpu_copy_bw test_pattern_cuda h5_expect; do
  [ -x "$bin/$t" ] || { echo "# missing $bin/$t (a build with CUDA and BUILD_TESTING?)" >&2; exit 2; }
done
[ -f "$build/lib/sbai.so" ] || { echo "# missing $build/lib/sbai.so" >&2; exit 2; }
# run: where the build's programs are run from (the real bin/, or the
# wrappers of the carried programs).
run=$bin
if [ -n "${SB_CARRY_ROOT:-}" ]; then
  if [ ! -x "$SB_CARRY_ROOT/wrap/sb-throughput" ]; then
    bash "$src/tests/gpu/carry_root.sh" "$SB_CARRY_ROOT" "$build" ||
      { echo "# tests/gpu/carry_root.sh $SB_CARRY_ROOT $build failed" >&2; exit 2; }
  fi
  run=$(cd "$SB_CARRY_ROOT/wrap" && pwd)
  case ":$PATH:" in *":$run:"*) ;; *) export PATH=$run:$PATH ;; esac
fi
for t in mpiexec redis-server redis-cli; do
  command -v "$t" > /dev/null || {
    echo "# $t not on PATH${SB_CARRY_ROOT:+ (nor in $SB_CARRY_ROOT/wrap)}" >&2; exit 2; }
done
# NCCL is linked dynamically and does not travel with the build (the
# wrappers of SB_CARRY_ROOT name the folder that carry_root.sh found).
if [ -z "${SB_CARRY_ROOT:-}" ] &&
   ldd "$bin/sb-baseline" 2>/dev/null | grep -q 'libnccl.so.2 => not found'; then
  d=$(python3 -c 'import nvidia.nccl, os; print(os.path.join(list(nvidia.nccl.__path__)[0], "lib"))' 2>/dev/null)
  [ -n "$d" ] && [ -f "$d/libnccl.so.2" ] ||
    d=$(dirname "$(find / -xdev -name libnccl.so.2 -print -quit 2>/dev/null)" 2>/dev/null)
  [ -n "$d" ] && export LD_LIBRARY_PATH=$d:${LD_LIBRARY_PATH:-}
fi

echo "# stagebench apps on the GPU (tests/gpu_apps/run.sh), commit $(git -C "$src" rev-parse --short HEAD 2>/dev/null || echo unknown)"
echo "# build: $build; results: $out${SB_CARRY_ROOT:+; programs run from $run}"
if command -v nvidia-smi > /dev/null 2>&1; then
  nvidia-smi --query-gpu=index,name,memory.total,driver_version --format=csv,noheader |
    sed 's/^/# gpu: /'
fi
if ! "$run/gpu_copy_bw" --probe > "$out/probe.txt" 2>&1; then
  sed 's/^/# /' "$out/probe.txt"
  echo "# no GPU visible: nothing to measure (exit 77)"
  exit 77
fi
sed 's/^/# probe: /' "$out/probe.txt"
if [ -n "${SB_CARRY_ROOT:-}" ]; then
  echo "# nccl: $(sed -n 's/^SB_CARRY_NCCL=//p' "$SB_CARRY_ROOT/carry.env" 2>/dev/null)"
else
  echo "# nccl: $(ldd "$bin/sb-baseline" 2>/dev/null | awk '/libnccl/{print $3}')"
fi

# ---- 1. correctness --------------------------------------------------------
echo "# ---- correctness"
step() { # step NAME COMMAND...: runs it, log in $out/NAME.log, one line of verdict
  local name=$1 rc; shift
  "$@" > "$out/$name.log" 2>&1
  rc=$?
  case $rc in
    0) printf '  %-44s PASS\n' "$name" ;;
    77) printf '  %-44s SKIP (%s)\n' "$name" "$(grep -m1 SKIP "$out/$name.log")" ;;
    *) printf '  %-44s FAIL (exit %d, %s)\n' "$name" "$rc" "$out/$name.log"
       tail -5 "$out/$name.log" | sed 's/^/    /'
       failed=1 ;;
  esac
}
export SB_SOURCE_DIR=$src SB_BIN_DIR=$run SB_MODULE=$build/lib/sbai.so
step pattern_cuda "$run/test_pattern_cuda"
step throughput_no_gpu_refused bash "$src/tests/gpu_apps/gpu_apps.sh" throughput_no_gpu 1
step baseline_no_gpu_refused bash "$src/tests/gpu_apps/gpu_apps.sh" baseline_no_gpu 1 1
for mode in tensor raw; do
  step "throughput_${mode}_np1_64K" bash "$src/tests/gpu_apps/gpu_apps.sh" throughput $mode 1 64K
done
step throughput_raw_np1_1003 bash "$src/tests/gpu_apps/gpu_apps.sh" throughput raw 1 1003
step throughput_tensor_np2_1M bash "$src/tests/gpu_apps/gpu_apps.sh" throughput tensor 2 1M
for p in ring allgather; do
  step "baseline_nccl_${p}_np1_1M" bash "$src/tests/gpu_apps/gpu_apps.sh" baseline $p 1 1M
done
step baseline_nccl_allgather_np1_1003 bash "$src/tests/gpu_apps/gpu_apps.sh" baseline allgather 1 1003
for p in pingpong ring allgather; do # skipped (77) with one GPU
  step "baseline_nccl_${p}_np2_1M" bash "$src/tests/gpu_apps/gpu_apps.sh" baseline $p 2 1M
done

# ---- a redis-server with the module for the measurements -------------------
. "$src/tests/lib/sbtest.sh" # sb_start_redis, and its cleanup on exit
trap 'sb_cleanup' EXIT
sb_start_redis
db=$SSDB_TCP

bytes_of() {
  case $1 in
    *K) echo $(( ${1%K} * 1024 ));; *M) echo $(( ${1%M} * 1048576 ));;
    *G) echo $(( ${1%G} * 1073741824 ));; *) echo "$1";;
  esac
}
# gbs BYTES P50_MS: GB/s (1e9 bytes/s) of one sample of the median time.
gbs() { awk -v b="$1" -v ms="$2" 'BEGIN { if (ms > 0) printf "%.2f", b / (ms / 1e3) / 1e9; else printf "-" }'; }
# p50 FILE PHASE: the p50 (ms) column of that phase's row in an app's table.
p50() { awk -v ph="$2" '$1 == ph { print $4 }' "$1"; }

# ---- 2. host<->device copies ------------------------------------------------
echo "# ---- host<->device copies: sb-throughput --device gpu (1 rank, mode tensor, $iters iterations, p50)"
echo "#      beside cudaMemcpy on pinned memory (gpu_copy_bw, median of 20); GB/s = 1e9 bytes/s"
printf '# %8s %10s %10s %10s %10s %10s %10s %10s\n' size d2h d2h h2d h2d put get loop
printf '# %8s %10s %10s %10s %10s %10s %10s %10s\n' "" "(app)" "(memcpy)" "(app)" "(memcpy)" \
  "(GB/s)" "(GB/s)" "(GB/s)"
for size in $sizes; do
  b=$(bytes_of "$size")
  log=$out/throughput_$size.txt
  if ! mpiexec -n 1 "$run/sb-throughput" --device gpu --db "$db" --mode tensor \
      --tensor-bytes "$size" --iterations "$iters" --warmup 2 --label run=gpu_apps \
      --out "$out/throughput_$size.h5" > "$log" 2>&1; then
    printf '  %8s FAIL (%s)\n' "$size" "$log"; tail -5 "$log" | sed 's/^/    /'; failed=1; continue
  fi
  if ! "$run/gpu_copy_bw" "$size" 20 > "$out/memcpy_$size.txt" 2>&1; then
    printf '  %8s gpu_copy_bw FAIL (%s)\n' "$size" "$out/memcpy_$size.txt"; failed=1; continue
  fi
  md=$(awk '/^d2h_gbs/{printf "%.2f", $2}' "$out/memcpy_$size.txt")
  mh=$(awk '/^h2d_gbs/{printf "%.2f", $2}' "$out/memcpy_$size.txt")
  printf '  %8s %10s %10s %10s %10s %10s %10s %10s\n' "$size" \
    "$(gbs "$b" "$(p50 "$log" d2h)")" "$md" "$(gbs "$b" "$(p50 "$log" h2d)")" "$mh" \
    "$(gbs "$b" "$(p50 "$log" put_tensor)")" "$(gbs "$b" "$(p50 "$log" unpack_tensor)")" \
    "$(gbs $((2 * b)) "$(p50 "$log" loop_time)")"
done

# ---- 3. NCCL on this GPU beside MPI on the host ------------------------------
echo "# ---- baseline, 1 rank: NCCL (--device gpu) beside MPI (host); rank 0 p50, nccl-tests' algbw/busbw (GB/s)"
printf '# %8s %-10s %-6s %10s %10s\n' size pattern via algbw busbw
for size in $sizes; do
  for pattern in ring allgather; do
    for dev in gpu cpu; do
      log=$out/baseline_${dev}_${pattern}_$size.txt
      if ! mpiexec -n 1 "$run/sb-baseline" --device "$dev" --pattern "$pattern" \
          --tensor-bytes "$size" --iterations "$iters" --warmup 2 \
          --out "$out/baseline_${dev}_${pattern}_$size.h5" > "$log" 2>&1; then
        printf '  %8s %-10s %-6s FAIL (%s)\n' "$size" "$pattern" "$dev" "$log"
        tail -5 "$log" | sed 's/^/    /'; failed=1; continue
      fi
      sed -n 's/.* \(NCCL\|MPI\) [a-z]*, rank 0 algbw \([0-9.]*\) GB\/s busbw \([0-9.]*\) GB\/s.*/\1 \2 \3/p' "$log" |
        while read -r via a bb; do
          printf '  %8s %-10s %-6s %10s %10s\n' "$size" "$pattern" "$via" "$a" "$bb"
        done
    done
  done
done
echo "# (one rank: ring is a send/recv to itself; all-gather's busbw is 0 by nccl-tests' factor (n-1)/n)"

if [ $failed = 0 ]; then echo "# gpu_apps: PASS"; else echo "# gpu_apps: FAIL"; fi
exit $failed
