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
#
# Steps 1, 2 and 4 need only nvcc and a C compiler with OpenMP (2 and 4 also
# the jansson headers, or SB_BUILD_DIR). Step 3 needs the suite built with
# CMake (MPI, HDF5, hiredis) and redis-server on PATH: on the GPU machine those
# come from unpacked .deb files (tests/gpu/prepare_carry.sh, docs/gpu.md).
# Environment:
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
# Exit status: 0 all passed, 1 a check failed, 77 no GPU visible, 2 the
# kernel build failed.
set -uo pipefail

src=$(cd "$(dirname "$0")/../.." && pwd)
arch=${SB_CUDA_ARCH:-native}
out=${SB_GPU_BUILD:-/tmp/sb-gpu-build}
cc=${CC:-gcc}
mkdir -p "$out"

echo "# stagebench GPU checks, commit $(git -C "$src" rev-parse --short HEAD 2>/dev/null || echo unknown)"
if command -v nvidia-smi >/dev/null 2>&1; then
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader |
    sed 's/^/# gpu: /'
else
  echo "# gpu: nvidia-smi not found"
fi
echo "# nvcc: $(nvcc --version 2>/dev/null | tail -1)"

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
  cobj sb_safetensors && cobj sb_resnet && cobj sb_resnet_make && cobj sb_file &&
  testobj test_resnet_cuda && cuobj sb_resnet_cuda &&
  nvcc -arch="$arch" -o "$out/test_resnet_cuda" "$out/test_resnet_cuda.o" \
    "$out/sb_resnet_cuda.o" "$out/sb_kernels_cuda.o" "$out/sb_resnet.o" \
    "$out/sb_resnet_make.o" "$out/sb_safetensors.o" "$out/sb_kernels_cpu.o" "$out/sb_gemm.o" \
    "$out/sb_err.o" "$out/sb_file.o" -Xcompiler=-fopenmp -ljansson -lm
}
echo "# building in $out (nvcc -arch=$arch)"
if ! build; then
  echo "# BUILD FAILED"
  exit 2
fi
# SB_GPU_BUILD_ONLY=1: the nvcc-only builds of steps 1 and 2, nothing run (a
# machine without a GPU checks that this script still builds).
if [ -n "${SB_GPU_BUILD_ONLY:-}" ]; then
  build_resnet || { echo "# BUILD FAILED (ResNet test)"; exit 2; }
  echo "# built: $out/test_kernels_cuda $out/test_resnet_cuda"
  exit 0
fi

# ---- 1. CUDA kernels against the CPU reference ---------------------------------
echo "# ---- 1. CUDA kernels vs CPU reference (tests/gpu/test_kernels_cuda.c)"
"$out/test_kernels_cuda" all
rc=$?
case $rc in
  0) echo "# kernels vs CPU: PASS" ;;
  77) echo "# kernels vs CPU: SKIPPED (no CUDA device visible)"; exit 77 ;;
  *) echo "# kernels vs CPU: FAIL (exit $rc)" ;;
esac
final=$rc
fail() { echo "# $1: FAIL${2:+ ($2)}"; final=1; }

# ---- 2. ResNet forward, CUDA vs CPU ----------------------------------------------
echo "# ---- 2. ResNet forward on the GPU vs the CPU (tests/gpu/test_resnet_cuda.c)"
bd=${SB_BUILD_DIR:-}
rn=""
if [ -n "$bd" ] && [ -x "$bd/bin/test_resnet_cuda" ]; then
  rn=$bd/bin/test_resnet_cuda
elif [ -f /usr/include/jansson.h ] || pkg-config --exists jansson 2>/dev/null; then
  # nvcc-only: the model code (jansson for the safetensors header) as well.
  if build_resnet; then
    rn=$out/test_resnet_cuda
  else
    fail "ResNet test build (nvcc-only)"
  fi
else
  echo "# not run: needs SB_BUILD_DIR (a CMake build with bin/test_resnet_cuda) or the jansson headers"
fi
if [ -n "$rn" ]; then
  "$rn" check tiny resnet50
  r=$?
  case $r in 0) echo "# resnet forward vs CPU: PASS" ;; *) fail "resnet forward vs CPU" "exit $r" ;; esac
fi

# ---- 3. sb-inference end to end on the GPU ----------------------------------------
echo "# ---- 3. sb-inference --device gpu through redis-server + sbai (resnet50, batch 32)"
e2e=""
e2e_note=""
if [ -n "$bd" ] && [ -x "$bd/bin/sb-inference" ] && [ -f "$bd/lib/sbai.so" ] &&
   command -v redis-server >/dev/null && command -v mpiexec >/dev/null; then
  port=${SB_GPU_PORT:-6399}
  dir=$(mktemp -d)
  redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$dir" \
    --logfile "$dir/redis.log" --daemonize no --loadmodule "$bd/lib/sbai.so" \
    THREADS_PER_QUEUE 1 GPU_PRECISION TF32 &
  rpid=$!
  for _ in $(seq 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
  redis-cli -p "$port" AI.INFO | tr '\n' ' ' | sed 's/^/# server: /'; echo
  mpiexec -n 1 "$bd/bin/sb-inference" --db "tcp://127.0.0.1:$port" --device gpu \
    --model resnet50 --batch-size 32 --iterations "${SB_E2E_ITERS:-20}" --warmup 2 \
    --verify-every 10 --out "$dir/e2e.h5" >"$dir/e2e.out" 2>"$dir/e2e.err"
  r=$?
  grep -v '^#  ' "$dir/e2e.out" | tail -n 12
  if [ $r = 0 ]; then
    e2e=$(sed -n 's/.* \([0-9.]*\) images\/s aggregate.*/\1/p' "$dir/e2e.out" | tail -1)
    run_ms=$(awk '$1 == "run_model" { print $4 }' "$dir/e2e.out")
    e2e_note="(run_model p50 ${run_ms:-?} ms)"
    echo "# sb-inference end to end: PASS, ${e2e:-?} images/s"
  else
    tail -n 5 "$dir/e2e.err"
    tail -n 5 "$dir/redis.log"
    fail "sb-inference end to end" "exit $r"
  fi
  # The GPU tests of the CMake build that need the server (label gpu).
  if command -v ctest >/dev/null; then
    ctest --test-dir "$bd" -L gpu --output-on-failure 2>&1 | tail -n 15
  fi
  kill "$rpid" 2>/dev/null; wait "$rpid" 2>/dev/null
  rm -rf "$dir"
else
  echo "# not run: needs SB_BUILD_DIR with bin/sb-inference and lib/sbai.so, redis-server and mpiexec on PATH"
fi

# ---- 4. ResNet-50 images/s: ours against PyTorch -------------------------------------
echo "# ---- 4. ResNet-50 images/s, ours (kernel-only) vs torchvision (tests/gpu/torch_compare.py)"
if [ -n "$rn" ] && command -v python3 >/dev/null; then
  model=$out/resnet50-seed1.safetensors
  [ -f "$model" ] || "$rn" make resnet50 1 "$model" || fail "making $model"
  python3 "$src/tests/gpu/torch_compare.py" --model "$model" --ours "$rn" \
    --batches "${SB_BATCHES:-1,8,32,128}" ${e2e:+--e2e "$e2e" --e2e-batch 32 --e2e-precision tf32} \
    ${e2e_note:+--e2e-note "$e2e_note"}
  r=$?
  case $r in 0) ;; 77) echo "# torch comparison: SKIPPED" ;; *) fail "torch comparison" "exit $r" ;; esac
else
  echo "# not run: needs step 2's binary and python3 with torch, torchvision, safetensors"
fi

# ---- 5. the apps' GPU checks --------------------------------------------------------
if [ -f "$src/tests/gpu_apps/run.sh" ]; then
  echo "# ---- 5. tests/gpu_apps/run.sh"
  bash "$src/tests/gpu_apps/run.sh"
  r=$?
  case $r in 0|77) ;; *) fail "tests/gpu_apps/run.sh" "exit $r" ;; esac
fi
echo "# tests/gpu/run.sh: $([ $final = 0 ] && echo PASS || echo FAIL)"
exit $final
