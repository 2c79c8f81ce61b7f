#!/usr/bin/env bash
# The GPU machine of docs/gpu.md ("A GPU machine without those packages")
# imitated on this one, without a GPU: checks the recipe of
# tests/gpu/prepare_carry.sh + tests/gpu/run.sh with SB_CARRY_ROOT.
#
#   bash tests/gpu/carry_sim.sh [BUILD_DIR]   # default build-h100; ctest: carry_root_simulated
#
# Needs .gpu-deps/ from tests/gpu/prepare_carry.sh (which downloads): without
# it, exit 77 (skipped) with the reason. In a fresh folder under /tmp, with a
# PATH of only a few of this machine's tools (no mpiexec, redis-server or
# redis-cli: they must come from the carried packages) plus the CUDA
# compiler's folder, and an environment emptied by env -i:
#   1. tests/gpu/run.sh runs as the one GPU command (SB_CARRY_ROOT, SB_BUILD_DIR,
#      SB_GPU_OUT): step 0 must pass (wrappers found, mpiexec -n 2 launches,
#      redis-server loads lib/sbai.so, step 3's preconditions met), step 1 must
#      skip with "no CUDA device visible" and the run exit 77; SB_GPU_OUT must
#      hold exactly gpu-summary.log and gpu-logs.tar.gz, the summary those
#      lines, the archive the logs;
#   2. python3 and a program gcc builds see no carried LD_LIBRARY_PATH, while
#      the ranks that the wrapped mpiexec starts do;
#   3. tests/gpu/carried_ctest.py runs the build's gpu tests through the
#      wrappers: none may fail (without a GPU they skip, the api ones pass).
# Exit status: 0 all held, 1 one did not (the folder is kept), 77 no .gpu-deps.
set -uo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-${SB_BUILD_DIR:-$src/build-h100}}
deps=${SB_CARRY_DEBS:-$src/.gpu-deps}
compgen -G "$deps/*.deb" >/dev/null ||
  { echo "SKIP: no .deb files in $deps: run tests/gpu/prepare_carry.sh first (it downloads them)" >&2; exit 77; }
[ -f "$deps/ctest-gpu.json" ] ||
  { echo "SKIP: no $deps/ctest-gpu.json: run tests/gpu/prepare_carry.sh again" >&2; exit 77; }
[ -d "$build/bin" ] && [ -f "$build/lib/sbai.so" ] ||
  { echo "SKIP: no build with bin/ and lib/sbai.so at $build" >&2; exit 77; }
build=$(cd "$build" && pwd)
command -v nvcc >/dev/null || { echo "SKIP: no nvcc (tests/gpu/run.sh builds with it)" >&2; exit 77; }

t=$(mktemp -d "${TMPDIR:-/tmp}/sb-carry-sim.XXXXXX")
root=$t/root out=$t/out tools=$t/tools
mkdir -p "$out" "$tools"
bad=0
no() { echo "FAIL: $*"; bad=1; }

# ---- the machine's tools, without MPI or redis ---------------------------------------
py=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null) # not a pyenv shim
[ -n "$py" ] && ln -s "$py" "$tools/python3"
for n in bash sh env cat ls cp mv rm mkdir rmdir ln chmod touch mktemp date seq sleep tee \
         head tail tr sort uniq cut wc grep sed awk find xargs du stat readlink dirname \
         basename id uname hostname printenv git tar gzip xz zstd dpkg dpkg-deb ar gcc cc g++ as ld \
         pkg-config ctest cmake kill ps timeout true false printf test expr nproc; do
  p=$(command -v "$n" 2>/dev/null) && [ -x "$p" ] && ln -sf "$p" "$tools/$n"
done
simpath=$tools:$(dirname "$(readlink -f "$(command -v nvcc)")")
for n in mpiexec mpirun redis-server redis-cli hydra_pmi_proxy; do
  p=$(PATH=$simpath command -v "$n") && no "$n is on the imitated PATH ($p)"
done
sim() { env -i HOME="$t" TMPDIR="$t" PATH="$simpath" "$@"; }

# ---- 1. the one GPU command --------------------------------------------------------
echo "# imitated GPU machine in $t (PATH=$simpath)"
sim SB_CARRY_ROOT="$root" SB_BUILD_DIR="$build" SB_GPU_OUT="$out" SB_CUDA_ARCH=sm_90 \
  SB_GPU_BUILD="$t/gpu-build" bash "$src/tests/gpu/run.sh" >"$t/run.out" 2>&1
rc=$?
sed -n '/^# ==== summary/,$p' "$t/run.out"
[ $rc = 77 ] || { no "tests/gpu/run.sh exited $rc, expected 77 (no GPU)"; tail -n 30 "$t/run.out"; }
got=$(cd "$out" && ls -A | tr '\n' ' ')
[ "$got" = "gpu-logs.tar.gz gpu-summary.log " ] || no "SB_GPU_OUT holds [$got]"
s=$out/gpu-summary.log
for want in '^# carried programs .*: PASS' '^# step 3 preconditions: met \(mpiexec -> '"$root"'/wrap/mpiexec' \
            '^# smoke: mpiexec -n 2 sb-baseline .*PASS' '^# smoke: redis-server with .*sbai.so.*PASS' \
            '^# kernels vs CPU: SKIP \(no CUDA device visible' '^# tests/gpu/run.sh: SKIP' \
            "LD_LIBRARY_PATH \[\]"; do
  grep -Eq "$want" "$s" 2>/dev/null || no "the summary lacks /$want/"
done
grep -q "$root" <(grep LD_LIBRARY_PATH "$s") && no "python3 saw the carried libraries"
list=$(tar -tzf "$out/gpu-logs.tar.gz" 2>/dev/null | tr '\n' ' ')
for f in run.log step0-carry.log step1-kernels.log gpu-summary.log; do
  case " $list" in *" $f "*) ;; *) no "gpu-logs.tar.gz lacks $f (has: $list)" ;; esac
done
[ "$(stat -c %s "$out/gpu-logs.tar.gz")" -le $((4 * 1048576)) ] || no "gpu-logs.tar.gz over 4 MiB"

# ---- 2. whose libraries ---------------------------------------------------------
printf '#include <stdio.h>\n#include <stdlib.h>\nint main(void) { const char *l = getenv("LD_LIBRARY_PATH"); printf("[%%s]\\n", l ? l : ""); return 0; }\n' >"$t/env.c"
wp=$root/wrap:$simpath
c=$(env -i HOME="$t" PATH="$wp" gcc -o "$t/env" "$t/env.c" 2>&1 && env -i PATH="$wp" "$t/env")
p=$(env -i HOME="$t" PATH="$wp" python3 -c 'import os; print("[%s]" % os.environ.get("LD_LIBRARY_PATH", ""))')
m=$(env -i HOME="$t" PATH="$wp" mpiexec -n 1 printenv LD_LIBRARY_PATH 2>&1)
echo "# LD_LIBRARY_PATH with $root/wrap first on PATH: python3 $p, gcc's program $c, a rank of mpiexec [$m]"
[ "$p" = "[]" ] || no "python3 sees LD_LIBRARY_PATH $p"
[ "$c" = "[]" ] || no "a program built by gcc sees LD_LIBRARY_PATH $c"
case $m in "$root"/*) ;; *) no "a rank started by mpiexec lacks the carried libraries: [$m]" ;; esac

# ---- 3. the build's gpu tests through the wrappers ---------------------------------
sim python3 "$src/tests/gpu/carried_ctest.py" "$root/wrap" "$build" >"$t/ctest.out" 2>&1
r=$?
cat "$t/ctest.out"
[ $r = 0 ] || no "carried_ctest.py exited $r"
grep -q 'gpu_kernels_api .*PASS' "$t/ctest.out" || no "gpu_kernels_api did not pass through its wrapper"
grep -q 'gpu_inference_tiny .*SKIP' "$t/ctest.out" || no "gpu_inference_tiny did not skip (no GPU)"

if [ $bad = 0 ]; then
  rm -rf "$t"
  echo "PASS: the carried recipe works on an imitated GPU machine without a GPU"
  exit 0
fi
echo "# kept: $t"
exit 1
