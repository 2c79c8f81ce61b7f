#!/usr/bin/env bash
# The one call for a GPU machine (docs/gpu.md):
#   1. the CUDA kernels against their CPU references (nvcc-only build);
#   2. the ResNet forward pass on the GPU against the CPU one (tiny, resnet50;
#      FP32 and TF32);
#   3. sb-inference end to end on the GPU through redis-server + sbai
#      (resnet50, batch 32), when the suite's CMake build is given;
#   4. our kernel-only ResNet-50 images/s at batch 1, 8, 32, 128 against
#      PyTorch's torchvision resnet50 with the same weights, TF32 and FP32
#      (tests/gpu/torch_compare.py), printed as one table with step 3's figure;
#   5. tests/gpu_apps/run.sh (throughput copies, NCCL), when it exists.
#
#   bash tests/gpu/run.sh            # from the repository root
#   # a machine the build was carried to (tests/gpu/prepare_carry.sh):
#   SB_CARRY_ROOT=/tmp/sbroot SB_BUILD_DIR=$PWD/build-h100 bash tests/gpu/run.sh
#
# Results: every step's PASS/FAIL/SKIP line, the figures and the tail of any
# failure in one file, $SB_GPU_OUT/gpu-summary.log (printed again at the
# end); every log of the run in $SB_GPU_OUT/gpu-logs.tar.gz (files over 2 MiB
# left out and named in the summary). Nothing else is written there.
#
# Steps 1, 2 and 4 need only nvcc and a C compiler with OpenMP (2 and 4 also
# the jansson headers, or SB_BUILD_DIR). Step 3 needs the suite built with
# CMake (MPI, HDF5, hiredis) and redis-server on PATH: on the GPU machine those
# come from unpacked .deb files (tests/gpu/prepare_carry.sh, docs/gpu.md):
# with SB_CARRY_ROOT, step 0 unpacks them there and wraps each carried program
# with its libraries (tests/gpu/carry_root.sh), then checks that mpiexec and
# redis-server with lib/sbai.so start through the wrappers; only ROOT/wrap
# goes on PATH, so python3, nvcc, gcc and cmake keep this machine's own
# libraries, and the build's ctest tests labelled gpu run through
# tests/gpu/carried_ctest.py.
# Environment:
#   SB_CARRY_ROOT  folder for the carried packages and ROOT/wrap (with SB_BUILD_DIR)
#   SB_GPU_OUT     folder for gpu-summary.log and gpu-logs.tar.gz (default:
#                  $OUT when set, else /tmp/sb-gpu-out)
#   SB_CUDA_ARCH   nvcc -arch value (default: native, the GPU of this machine)
#   SB_GPU_BUILD   build folder of the nvcc-only path (default: /tmp/sb-gpu-build)
#   SB_BUILD_DIR   a CMake build folder of the suite (with bin/test_resnet_cuda,
#                  bin/sb-inference, bin/sb-model, lib/sbai.so): used for steps
#                  2-4 instead of the nvcc-only build
#   SB_BATCHES     batch sizes of step 4 (default 1,8,32,128)
#   SB_E2E_ITERS   iterations of step 3 (default 20)
#   CC             host C compiler (default: gcc)
#   SB_SEED        repeat the tests' random inputs (their first line prints it)
#   SB_GPU_BUILD_ONLY  set: only the nvcc-only builds of steps 1 and 2, no GPU needed
# Exit status: 0 all passed, 1 a check failed (step 0 included), 77 no GPU
# visible (steps 0 passed), 2 the kernel build failed.
set -uo pipefail

src=$(cd "$(dirname "$0")/../.." && pwd)
arch=${SB_CUDA_ARCH:-native}
out=${SB_GPU_BUILD:-/tmp/sb-gpu-build}
cc=${CC:-gcc}
bd=${SB_BUILD_DIR:-}
carry=${SB_CARRY_ROOT:-}
mkdir -p "$out"

header() {
  echo "# stagebench GPU checks, commit $(git -C "$src" rev-parse --short HEAD 2>/dev/null || echo unknown), $(date -u '+%Y-%m-%d %H:%M UTC')"
  if command -v nvidia-smi >/dev/null 2>&1; then
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader |
      sed 's/^/# gpu: /'
  else
    echo "# gpu: nvidia-smi not found"
  fi
  echo "# nvcc: $(nvcc --version 2>/dev/null | tail -1)"
}

# ---- build (the same flags as kernels/CMakeLists.txt gives these files) ----
cflags=(-std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -O3 -ffp-contract=fast -fopenmp
        -fPIC -Wall -I"$src/kernels")
# cobj NAME: kernels/NAME.c -> $out/NAME.o; cuobj NAME: kernels/NAME.cu ->
# $out/NAME.o; testobj NAME: tests/gpu/NAME.c (with the CUDA runtime's headers).
cobj() { "$cc" "${cflags[@]}" -c "$src/kernels/$1.c" -o "$out/$1.o"; }
testobj() {
  "$cc" "${cflags[@]}" -I"$(dirname "$(command -v nvcc)")/../include" \
    -c "$src/tests/gpu/$1.c" -o "$out/$1.o"
}
cuobj() {
  nvcc -O2 -arch="$arch" -Xcompiler=-fPIC -I"$src/kernels" -D_DEFAULT_SOURCE \
    -c "$src/kernels/$1.cu" -o "$out/$1.o"
}
build() {
  cobj sb_kernels_cpu && cobj sb_gemm && cobj sb_err && testobj test_kernels_cuda &&
  cuobj sb_kernels_cuda &&
  nvcc -arch="$arch" -o "$out/test_kernels_cuda" "$out/test_kernels_cuda.o" \
    "$out/sb_kernels_cuda.o" "$out/sb_kernels_cpu.o" "$out/sb_gemm.o" "$out/sb_err.o" \
    -Xcompiler=-fopenmp -lm
}
# The ResNet test of step 2 (the model code reads safetensors headers with jansson).
build_resnet() {
  cobj sb_safetensors && cobj sb_resnet && cobj sb_resnet_make && cobj sb_file && cobj sb_winograd &&
  testobj test_resnet_cuda && cuobj sb_resnet_cuda &&
  nvcc -arch="$arch" -o "$out/test_resnet_cuda" "$out/test_resnet_cuda.o" \
    "$out/sb_resnet_cuda.o" "$out/sb_kernels_cuda.o" "$out/sb_resnet.o" \
    "$out/sb_resnet_make.o" "$out/sb_safetensors.o" "$out/sb_kernels_cpu.o" "$out/sb_gemm.o" \
    "$out/sb_winograd.o" "$out/sb_err.o" "$out/sb_file.o" -Xcompiler=-fopenmp -ljansson -lm
}
# SB_GPU_BUILD_ONLY=1: the nvcc-only builds of steps 1 and 2, nothing run (a
# machine without a GPU checks that this script still builds).
if [ -n "${SB_GPU_BUILD_ONLY:-}" ]; then
  header
  echo "# building in $out (nvcc -arch=$arch)"
  build || { echo "# BUILD FAILED"; exit 2; }
  build_resnet || { echo "# BUILD FAILED (ResNet test)"; exit 2; }
  echo "# built: $out/test_kernels_cuda $out/test_resnet_cuda"
  exit 0
fi

# ---- results: one summary, one archive ----------------------------------------
res=${SB_GPU_OUT:-${OUT:-/tmp/sb-gpu-out}}
mkdir -p "$res" && res=$(cd "$res" && pwd) || exit 2
logs=$(mktemp -d "${TMPDIR:-/tmp}/sb-gpu-logs.XXXXXX") || exit 2
summary=$logs/gpu-summary.log
: >"$summary"
say() { printf '%s\n' "$*" | tee -a "$summary"; }           # console and summary
result() { say "# $1: $2${3:+ ($3)}"; }                      # result STEP VERDICT [WHY]
excerpt() { tail -n "${2:-15}" "$1" | sed 's/^/#   | /' | tee -a "$summary"; } # a failure's tail
show() { cat "$1"; head -n "${2:-120}" "$1" >>"$summary"; }  # a step's figures, whole
final=0
fail() { result "$1" FAIL "${2:-}"; final=1; }

# e2e_missing: what step 3 lacks (nothing when it can run).
e2e_missing() {
  local why="" t
  if [ -z "$bd" ]; then
    why="no SB_BUILD_DIR"
  else
    [ -x "$bd/bin/sb-inference" ] || why="$why, no $bd/bin/sb-inference"
    [ -f "$bd/lib/sbai.so" ] || why="$why, no $bd/lib/sbai.so"
    for t in redis-server redis-cli mpiexec; do
      command -v "$t" >/dev/null || why="$why, $t not on PATH${carry:+ (not in $carry/wrap)}"
    done
  fi
  echo "${why#, }"
}

main() {
header | tee -a "$summary"

# ---- 0. the carried programs (SB_CARRY_ROOT) -----------------------------------
xb=${bd:+$bd/bin} # where the build's programs are run from
if [ -n "$carry" ]; then
  echo "# ---- 0. carried programs: tests/gpu/carry_root.sh --smoke $carry ${bd:-(no SB_BUILD_DIR)}"
  if [ -z "$bd" ]; then
    fail "carried programs" "SB_CARRY_ROOT needs SB_BUILD_DIR"
  else
    bash "$src/tests/gpu/carry_root.sh" --smoke "$carry" "$bd" >"$logs/step0-carry.log" 2>&1
    r=$?
    show "$logs/step0-carry.log" 40
    [ $r = 0 ] && result "carried programs (wrappers, mpiexec, redis-server + sbai.so)" PASS ||
      fail "carried programs (wrappers, mpiexec, redis-server + sbai.so)" "exit $r, $logs/step0-carry.log"
    # Only the wrappers go on PATH: the carried libraries reach the carried
    # programs alone, never python3, nvcc, gcc or cmake.
    export PATH=$carry/wrap:$PATH
    xb=$carry/wrap
    why=$(e2e_missing)
    [ -z "$why" ] &&
      result "step 3 preconditions" "met" "mpiexec -> $(command -v mpiexec), redis-server -> $(command -v redis-server)" ||
      fail "step 3 preconditions" "$why"
    say "# this machine's own environment for python3, nvcc, gcc: LD_LIBRARY_PATH [$(python3 -c 'import os; print(os.environ.get("LD_LIBRARY_PATH", ""))' 2>&1)]"
  fi
fi

# ---- 1. CUDA kernels against the CPU reference ---------------------------------
echo "# ---- 1. CUDA kernels vs CPU reference (tests/gpu/test_kernels_cuda.c)"
echo "# building in $out (nvcc -arch=$arch)"
if ! build >"$logs/step1-build.log" 2>&1; then
  result "kernel build" FAIL "nvcc -arch=$arch"
  excerpt "$logs/step1-build.log" 25
  return 2
fi
"$out/test_kernels_cuda" all >"$logs/step1-kernels.log" 2>&1
rc=$?
show "$logs/step1-kernels.log"
case $rc in
  0) result "kernels vs CPU" PASS ;;
  77) result "kernels vs CPU" SKIP "no CUDA device visible: nothing more to run"
      [ $final = 0 ] && return 77 || return 1 ;;
  *) fail "kernels vs CPU" "exit $rc"; excerpt "$logs/step1-kernels.log" 15 ;;
esac

# ---- 2. ResNet forward, CUDA vs CPU ----------------------------------------------
echo "# ---- 2. ResNet forward on the GPU vs the CPU (tests/gpu/test_resnet_cuda.c)"
rn=""
if [ -n "$bd" ] && [ -x "$bd/bin/test_resnet_cuda" ]; then
  rn=$xb/test_resnet_cuda
elif [ -f /usr/include/jansson.h ] || pkg-config --exists jansson 2>/dev/null; then
  # nvcc-only: the model code (jansson for the safetensors header) as well.
  if build_resnet >"$logs/step2-build.log" 2>&1; then
    rn=$out/test_resnet_cuda
  else
    fail "ResNet test build (nvcc-only)"; excerpt "$logs/step2-build.log" 25
  fi
else
  result "resnet forward vs CPU" SKIP "needs SB_BUILD_DIR (a CMake build with bin/test_resnet_cuda) or the jansson headers"
fi
if [ -n "$rn" ]; then
  "$rn" check tiny resnet50 >"$logs/step2-resnet.log" 2>&1
  r=$?
  show "$logs/step2-resnet.log"
  case $r in 0) result "resnet forward vs CPU" PASS ;;
    77) result "resnet forward vs CPU" SKIP "$(tail -n 1 "$logs/step2-resnet.log")" ;;
    *) fail "resnet forward vs CPU" "exit $r"; excerpt "$logs/step2-resnet.log" 15 ;; esac
fi

# ---- 3. sb-inference end to end on the GPU ----------------------------------------
echo "# ---- 3. sb-inference --device gpu through redis-server + sbai (resnet50, batch 32)"
e2e=""
e2e_note=""
why=$(e2e_missing)
if [ -z "$bd" ]; then
  result "sb-inference end to end" SKIP "$why"
elif [ -n "$why" ]; then
  fail "sb-inference end to end" "not run: $why"
else
  echo "# using $(command -v mpiexec), $(command -v redis-server)"
  port=${SB_GPU_PORT:-6399}
  dir=$logs/step3-e2e
  mkdir -p "$dir"
  redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$dir" \
    --logfile "$dir/redis.log" --daemonize no --loadmodule "$bd/lib/sbai.so" \
    THREADS_PER_QUEUE 1 GPU_PRECISION TF32 &
  rpid=$!
  for _ in $(seq 100); do
    redis-cli -p "$port" ping >/dev/null 2>&1 && break
    kill -0 "$rpid" 2>/dev/null || break
    sleep 0.1
  done
  say "# server: $(redis-cli -p "$port" AI.INFO 2>&1 | tr '\n' ' ')"
  mpiexec -n 1 "$xb/sb-inference" --db "tcp://127.0.0.1:$port" --device gpu \
    --model resnet50 --batch-size 32 --iterations "${SB_E2E_ITERS:-20}" --warmup 2 \
    --verify-every 10 --out "$dir/e2e.h5" >"$dir/e2e.out" 2>"$dir/e2e.err"
  r=$?
  grep -v '^#  ' "$dir/e2e.out" | tail -n 12 >"$dir/e2e.table"
  show "$dir/e2e.table"
  if [ $r = 0 ]; then
    e2e=$(sed -n 's/.* \([0-9.]*\) images\/s aggregate.*/\1/p' "$dir/e2e.out" | tail -1)
    run_ms=$(awk '$1 == "run_model" { print $4 }' "$dir/e2e.out")
    e2e_note="(run_model p50 ${run_ms:-?} ms)"
    result "sb-inference end to end" PASS "${e2e:-?} images/s"
  else
    fail "sb-inference end to end" "exit $r"
    excerpt "$dir/e2e.err" 8
    excerpt "$dir/redis.log" 8
  fi
  kill "$rpid" 2>/dev/null; wait "$rpid" 2>/dev/null
fi
# The build's tests labelled gpu (the server ones start their own).
if [ -n "$bd" ]; then
  if [ -n "$carry" ]; then
    echo "# ---- 3b. the build's ctest tests labelled gpu (tests/gpu/carried_ctest.py)"
    python3 "$src/tests/gpu/carried_ctest.py" "$carry/wrap" "$bd" >"$logs/step3-ctest.log" 2>&1
    r=$?
    show "$logs/step3-ctest.log" 200
  elif command -v ctest >/dev/null; then
    echo "# ---- 3b. ctest -L gpu in $bd"
    ctest --test-dir "$bd" -L gpu --output-on-failure >"$logs/step3-ctest.log" 2>&1
    r=$?
    grep -E '^ *[0-9]+/[0-9]+ Test|tests passed|tests failed|^The following' -A0 "$logs/step3-ctest.log" \
      >"$logs/step3-ctest.table"
    show "$logs/step3-ctest.table" 80
    [ $r = 0 ] || excerpt "$logs/step3-ctest.log" 30
  else
    r=77; result "ctest -L gpu" SKIP "no ctest"
  fi
  case $r in 0) result "ctest -L gpu" PASS ;; 77) ;; *) fail "ctest -L gpu" "exit $r" ;; esac
fi

# ---- 4. ResNet-50 images/s: ours against PyTorch -------------------------------------
echo "# ---- 4. ResNet-50 images/s, ours (kernel-only) vs torchvision (tests/gpu/torch_compare.py)"
if [ -n "$rn" ] && command -v python3 >/dev/null; then
  model=$out/resnet50-seed1.safetensors
  [ -f "$model" ] || "$rn" make resnet50 1 "$model" >"$logs/step4-make.log" 2>&1 ||
    { fail "making $model"; excerpt "$logs/step4-make.log" 8; }
  python3 "$src/tests/gpu/torch_compare.py" --model "$model" --ours "$rn" \
    --batches "${SB_BATCHES:-1,8,32,128}" ${e2e:+--e2e "$e2e" --e2e-batch 32 --e2e-precision tf32} \
    ${e2e_note:+--e2e-note "$e2e_note"} >"$logs/step4-torch.log" 2>&1
  r=$?
  show "$logs/step4-torch.log"
  case $r in 0) result "torch comparison" PASS ;; 77) result "torch comparison" SKIP ;;
    *) fail "torch comparison" "exit $r"; excerpt "$logs/step4-torch.log" 15 ;; esac
else
  result "torch comparison" SKIP "needs step 2's binary and python3 with torch, torchvision, safetensors"
fi

# ---- 5. the apps' GPU checks --------------------------------------------------------
if [ -f "$src/tests/gpu_apps/run.sh" ]; then
  echo "# ---- 5. tests/gpu_apps/run.sh"
  SB_GPU_APPS_OUT=$logs/gpu_apps bash "$src/tests/gpu_apps/run.sh" >"$logs/step5-gpu_apps.log" 2>&1
  r=$?
  show "$logs/step5-gpu_apps.log" 150
  case $r in 0) result "tests/gpu_apps/run.sh" PASS ;;
    77) result "tests/gpu_apps/run.sh" SKIP "$(grep -m1 -E 'not run|no GPU' "$logs/step5-gpu_apps.log" | sed 's/^# //')" ;;
    *) fail "tests/gpu_apps/run.sh" "exit $r" ;; esac
fi
return $final
}

main 2>&1 | tee "$logs/run.log"
rc=${PIPESTATUS[0]}

# ---- the summary and the archive -------------------------------------------------
case $rc in 0) v=PASS ;; 77) v="SKIP (no GPU visible, exit 77)" ;; *) v="FAIL (exit $rc)" ;; esac
echo "# tests/gpu/run.sh: $v" >>"$summary"
# archive KIB: every log of at most KIB KiB into gpu-logs.tar.gz, the others
# named in the summary.
archive() {
  (cd "$logs" && find . -type f -size +"$1"k -printf '%P (%s bytes)\n') |
    sed 's/^/# left out of gpu-logs.tar.gz: /' >>"$summary"
  (cd "$logs" && find . -type f -size -$(($1 + 1))k -printf '%P\n' | sort |
     tar -czf "$res/gpu-logs.tar.gz" -T -)
}
archive 2048 || echo "# could not write $res/gpu-logs.tar.gz" >>"$summary"
# A few MiB at most come back from a lent machine: smaller files only if needed.
[ "$(stat -c %s "$res/gpu-logs.tar.gz" 2>/dev/null || echo 0)" -le $((4 * 1048576)) ] ||
  archive 256 || echo "# could not write $res/gpu-logs.tar.gz" >>"$summary"
cp "$summary" "$res/gpu-summary.log"
echo
echo "# ==== summary ($res/gpu-summary.log; every log: $res/gpu-logs.tar.gz, $(du -k "$res/gpu-logs.tar.gz" 2>/dev/null | cut -f1) KiB; also in $logs)"
cat "$res/gpu-summary.log"
exit $rc
