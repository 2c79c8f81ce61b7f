#!/usr/bin/env bash
# Prepares, on a Debian (CPU) machine, what to copy to a machine with an
# NVIDIA GPU that has CUDA, PyTorch and CMake but no MPI, HDF5, hiredis or
# redis-server, and reaches no package registry (docs/gpu.md, "On a GPU
# machine").
#
#   bash tests/gpu/prepare_carry.sh        # from the repository root
#
# 1. builds the suite for Hopper into build-h100/ (CUDA runtime static,
#    NCCL dynamic: the GPU machine's own libnccl.so.2 is used there);
# 2. downloads into .gpu-deps/ the Debian package of every shared library
#    the built programs, redis-server, redis-cli and mpiexec load, except
#    the C and C++ runtimes (the GPU machine's own must be used);
# 3. writes into .gpu-deps/ the list of the build's ctest tests labelled gpu
#    (ctest-gpu.json, with carry-paths: where the build and the sources were),
#    which tests/gpu/carried_ctest.py runs on the GPU machine, where the
#    build's CTestTestfiles do not travel;
# 4. adds both folders to .git/info/exclude, checks that what is copied stays
#    under 64 MiB, and prints the folders to copy and the one command to run
#    there (tests/gpu/run.sh with SB_CARRY_ROOT: tests/gpu/carry_root.sh
#    unpacks the packages and wraps each carried program with its libraries).
# Environment: SB_CUDA_ARCHS (default 90), SB_JOBS (default 2).
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
cd "$src"
archs=${SB_CUDA_ARCHS:-90}
build=build-h100

exclude=$(git rev-parse --git-path info/exclude 2>/dev/null || echo .git/info/exclude)
mkdir -p "$(dirname "$exclude")"
for d in /.gpu-deps/ "/$build/"; do
  grep -qxF "$d" "$exclude" 2>/dev/null || echo "$d" >>"$exclude"
done

echo "# building $build (sm_$archs)"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES="$archs" \
  -DCMAKE_CUDA_RUNTIME_LIBRARY=Static >"$build.configure.log" 2>&1 ||
  { tail -20 "$build.configure.log"; exit 2; }
cmake --build "$build" -j "${SB_JOBS:-2}" >"$build.build.log" 2>&1 ||
  { tail -30 "$build.build.log"; exit 2; }
rm -f "$build.configure.log" "$build.build.log"

# The packages that own the libraries the programs load.
progs=("$build"/bin/* "$build"/lib/sbai.so)
for p in redis-server redis-cli mpiexec mpiexec.hydra hydra_pmi_proxy; do
  command -v "$p" >/dev/null && progs+=("$(readlink -f "$(command -v "$p")")")
done
# owner PATH: the package of a library; with /usr merged into /, dpkg knows a
# file by either name (/lib/x86_64-linux-gnu/libz.so.1 or /usr/lib/...).
owner() {
  local r c
  r=$(readlink -f "$1")
  for c in "$1" "$r" "${r#/usr}" "/usr$r" "${1#/usr}" "/usr$1"; do
    dpkg -S "$c" 2>/dev/null | head -1 | cut -d: -f1 | grep . && return 0
  done
  echo "# no package owns $1 (not carried)" >&2
}
pkgs=$(for f in "${progs[@]}"; do [ -f "$f" ] && ldd "$f" 2>/dev/null; done |
  awk '/=> \// { print $3 }' | sort -u | grep -v -e '/libnccl\.' -e '/libcuda\.' |
  while read -r l; do owner "$l"; done | sort -u |
  grep -vx -e libc6 -e libstdc++6 -e libgcc-s1 -e 'libcuda.*' -e 'libnccl.*' || true)
pkgs="$pkgs mpich redis-server redis-tools"
echo "# downloading into .gpu-deps:" $pkgs
rm -rf .gpu-deps && mkdir -p .gpu-deps
(cd .gpu-deps && apt-get download $pkgs 2>&1 >/dev/null | grep -v "unsandboxed" || true)
ls .gpu-deps/*.deb >/dev/null 2>&1 || { echo "# apt-get download failed"; exit 2; }

# The build's GPU tests, for tests/gpu/carried_ctest.py on the GPU machine.
ctest --test-dir "$build" -L gpu --show-only=json-v1 >.gpu-deps/ctest-gpu.json 2>/dev/null ||
  { echo "# ctest --show-only failed in $build"; exit 2; }
printf 'src=%s\nbuild=%s\n' "$src" "$src/$build" >.gpu-deps/carry-paths

size=$(du -cb .gpu-deps "$build/bin" "$build/lib" | tail -1 | cut -f1)
echo "# to copy: $((size / 1048576)) MiB of 64 (.gpu-deps, $build/bin, $build/lib)"
[ "$size" -lt $((64 * 1048576)) ] || { echo "# larger than 64 MiB: too big to copy as one small bundle"; exit 1; }
cat <<EOF
# on the GPU machine, with .gpu-deps, $build/bin and $build/lib copied into the
# repository root, from there (OUT: where gpu-summary.log and gpu-logs.tar.gz go):
SB_CARRY_ROOT=/tmp/sbroot SB_BUILD_DIR=\$PWD/$build OUT=\${OUT:-/tmp/sb-gpu-out} bash tests/gpu/run.sh
EOF
