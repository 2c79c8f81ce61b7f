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
# 3. adds both folders to .git/info/exclude, checks that what is copied stays
#    under 64 MiB, and prints the folders to copy and the run command.
# Environment: SB_CUDA_ARCHS (default 90), SB_JOBS (default 2).
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
cd "$src"
archs=${SB_CUDA_ARCHS:-90}
build=build-h100

for d in /.gpu-deps/ "/$build/"; do
  grep -qxF "$d" .git/info/exclude 2>/dev/null || echo "$d" >>.git/info/exclude
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
pkgs=$(for f in "${progs[@]}"; do [ -f "$f" ] && ldd "$f" 2>/dev/null; done |
  awk '/=> \// { print $3 }' | sort -u | xargs -r -n1 readlink -f |
  xargs -r dpkg -S 2>/dev/null | cut -d: -f1 | sort -u |
  grep -vx -e libc6 -e libstdc++6 -e libgcc-s1 -e 'libcuda.*' -e 'libnccl.*' || true)
pkgs="$pkgs mpich redis-server redis-tools"
echo "# downloading into .gpu-deps:" $pkgs
rm -rf .gpu-deps && mkdir -p .gpu-deps
(cd .gpu-deps && apt-get download $pkgs 2>&1 >/dev/null | grep -v "unsandboxed" || true)
ls .gpu-deps/*.deb >/dev/null 2>&1 || { echo "# apt-get download failed"; exit 2; }

size=$(du -cb .gpu-deps "$build/bin" "$build/lib" | tail -1 | cut -f1)
echo "# to copy: $((size / 1048576)) MiB of 64 (.gpu-deps, $build/bin, $build/lib)"
[ "$size" -lt $((64 * 1048576)) ] || { echo "# larger than 64 MiB: too big to copy as one small bundle"; exit 1; }
cat <<EOF
# on the GPU machine, with .gpu-deps, $build/bin and $build/lib copied into the repository root:
mkdir -p /tmp/sbroot && for f in .gpu-deps/*.deb; do dpkg -x "\$f" /tmp/sbroot; done
export PATH=/tmp/sbroot/usr/bin:\$PATH LD_LIBRARY_PATH=/tmp/sbroot/usr/lib/x86_64-linux-gnu:/tmp/sbroot/lib/x86_64-linux-gnu:\$LD_LIBRARY_PATH
SB_BUILD_DIR=\$PWD/$build bash tests/gpu/run.sh
EOF
