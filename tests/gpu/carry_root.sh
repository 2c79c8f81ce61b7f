#!/usr/bin/env bash
# The carried programs of a GPU machine without MPI, HDF5, hiredis or
# redis-server (tests/gpu/prepare_carry.sh, docs/gpu.md), each with its own
# libraries and nothing else with them.
#
#   bash tests/gpu/carry_root.sh ROOT BUILD_DIR          # prepare (idempotent)
#   bash tests/gpu/carry_root.sh --smoke ROOT BUILD_DIR  # and launch them once
#
# Prepare: unpacks the Debian packages of .gpu-deps/*.deb (SB_CARRY_DEBS: an
# other folder) into ROOT with `dpkg -x` (or ar + tar), once per set of
# packages; then writes ROOT/wrap/, one small script per carried program:
# redis-server, redis-cli, mpiexec and mpirun (Debian makes those names
# alternatives links when installing, which `dpkg -x` does not: here they
# run mpiexec.hydra), mpiexec.hydra, mpiexec.mpich, hydra_pmi_proxy, and every
# program of BUILD_DIR/bin. Each one runs
#   LD_LIBRARY_PATH=<ROOT's library folders>[:$LD_LIBRARY_PATH] exec <program> "$@"
# so the carried libraries reach only the carried programs and what they
# start (the ranks mpiexec launches, the module redis-server loads). Put only
# ROOT/wrap on PATH: python3, nvcc, gcc, cmake and ctest of the machine keep
# their own environment. ROOT/carry.env holds the library path
# (SB_CARRY_LIBPATH) for anything else that must run a carried program.
# Every wrapped program and BUILD_DIR/lib/sbai.so must then find each of its
# libraries (the dynamic loader's --list, with that library path), except
# libcuda (the driver's) and libnccl.so.2, which is looked for in the
# machine's PyTorch (python3 -c 'import nvidia.nccl') or on its disk and,
# when found, added to the wrappers' library path.
#
# --smoke, after preparing: mpiexec -n 2 of the build's sb-baseline (MPI ring
# on the host, its HDF5 file checked by h5_expect), and redis-server with
# BUILD_DIR/lib/sbai.so answering PING and AI.INFO through redis-cli, all
# found through ROOT/wrap.
# Exit status: 0 ready, 1 a program lacks a library or a launch failed, 2 usage
# or nothing to unpack.
set -uo pipefail

smoke=0
[ "${1:-}" = --smoke ] && { smoke=1; shift; }
if [ $# -ne 2 ] || [ ! -d "$2/bin" ]; then
  echo "usage: $0 [--smoke] ROOT BUILD_DIR   (BUILD_DIR: a CMake build of the suite, with bin/ and lib/)" >&2
  exit 2
fi
src=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$1" || exit 2
root=$(cd "$1" && pwd)
build=$(cd "$2" && pwd)
debs=${SB_CARRY_DEBS:-$src/.gpu-deps}
wrap=$root/wrap

# ---- unpack, once per set of packages -----------------------------------------
shopt -s nullglob
pkgs=("$debs"/*.deb)
shopt -u nullglob
[ ${#pkgs[@]} -gt 0 ] || { echo "# carry_root: no .deb files in $debs (run tests/gpu/prepare_carry.sh)" >&2; exit 2; }
stamp=$(for f in "${pkgs[@]}"; do printf '%s %s\n' "$(basename "$f")" "$(stat -c %s "$f")"; done)
if [ "$(cat "$root/.unpacked" 2>/dev/null)" != "$stamp" ]; then
  for f in "${pkgs[@]}"; do
    if command -v dpkg >/dev/null 2>&1; then
      dpkg -x "$f" "$root" || { echo "# carry_root: dpkg -x $f failed" >&2; exit 2; }
    else # no dpkg: a .deb is an ar archive holding data.tar.{xz,zst,gz}
      m=$(ar t "$f" 2>/dev/null | grep -m1 '^data\.tar')
      case $m in *.xz) z=-J ;; *.zst) z=--zstd ;; *.gz) z=-z ;; *) z="" ;; esac
      (cd "$root" && ar p "$f" "$m" | tar -x $z -f -) ||
        { echo "# carry_root: cannot unpack $f (no dpkg; ar + tar failed)" >&2; exit 2; }
    fi
  done
  # Absolute links inside the packages point into the machine's own /: make
  # them point into ROOT where the target was unpacked.
  while IFS= read -r l; do
    t=$(readlink "$l")
    [ -e "$root$t" ] && ln -sfn "$root$t" "$l"
  done < <(find "$root/usr" "$root/lib" -type l -lname '/*' 2>/dev/null)
  printf '%s\n' "$stamp" >"$root/.unpacked"
  echo "# carry_root: ${#pkgs[@]} packages unpacked into $root"
fi

# ---- the library path of the carried programs ---------------------------------
libpath=""
for d in "$root"/usr/lib/*-linux-gnu* "$root"/lib/*-linux-gnu* "$root"/usr/lib "$root"/lib; do
  [ -d "$d" ] && compgen -G "$d/*.so*" >/dev/null && libpath=${libpath:+$libpath:}$d
done
[ -n "$libpath" ] || { echo "# carry_root: no libraries under $root" >&2; exit 2; }

# runnable PATH: PATH, when it names a program (links are kept: redis-server
# is a link to redis-check-rdb and tells its part from the name it runs as).
runnable() { [ -f "$1" ] && [ -x "$1" ] && echo "$1"; }
is_elf() { [ "$(head -c 4 "$1" 2>/dev/null | tr -d '\0')" = $'\x7fELF' ]; }

# The programs to wrap: NAME REAL.
declare -A real=()
for n in redis-server redis-cli mpiexec.hydra mpiexec.mpich hydra_pmi_proxy; do
  r=$(runnable "$root/usr/bin/$n") && real[$n]=$r
done
hydra=${real[mpiexec.hydra]:-${real[mpiexec.mpich]:-}}
[ -n "$hydra" ] && real[mpiexec]=$hydra && real[mpirun]=$hydra
for f in "$build"/bin/*; do
  [ -f "$f" ] && [ -x "$f" ] && real[$(basename "$f")]=$f
done
for n in redis-server redis-cli mpiexec hydra_pmi_proxy; do
  [ -n "${real[$n]:-}" ] || echo "# carry_root: $n not found in the unpacked packages" >&2
done

# The dynamic loader, run directly: --list with the library path affects no
# other program (ldd is a shell script).
loader=""
for l in /lib64/ld-linux-x86-64.so.2 /lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 /lib/ld-linux-aarch64.so.1; do
  [ -x "$l" ] && { loader=$l; break; }
done
# missing FILE: the libraries FILE does not find with the library path.
missing() {
  if [ -n "$loader" ]; then
    LD_LIBRARY_PATH=$libpath${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} "$loader" --list "$1" 2>&1
  else
    env LD_LIBRARY_PATH="$libpath${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" ldd "$1" 2>&1
  fi | awk '/=> not found/ { print $1 }'
}
check_libs() { # prints "PROGRAM: LIB LIB ..." for each program missing a library
  local f m
  for f in "${real[@]}" "$build/lib/sbai.so"; do
    [ -f "$f" ] && is_elf "$f" || continue
    m=$(missing "$f" | grep -v '^libcuda\.so' | sort -u | tr '\n' ' ')
    [ -n "${m// /}" ] && echo "$f: $m"
  done
  return 0
}
bad=$(check_libs)
if printf '%s' "$bad" | grep -q 'libnccl\.so'; then
  # NCCL does not travel: the machine's own (PyTorch's wheel, else its disk).
  d=$(python3 -c 'import nvidia.nccl, os; print(os.path.join(list(nvidia.nccl.__path__)[0], "lib"))' 2>/dev/null)
  [ -n "$d" ] && [ -f "$d/libnccl.so.2" ] ||
    d=$(dirname "$(find / -xdev -name libnccl.so.2 -print -quit 2>/dev/null)" 2>/dev/null)
  if [ -n "$d" ] && [ -f "$d/libnccl.so.2" ]; then
    libpath=$libpath:$d
    echo "# carry_root: libnccl.so.2 from $d"
    bad=$(check_libs)
  else
    echo "# carry_root: libnccl.so.2 not found on this machine (sb-baseline --device gpu cannot start)"
  fi
fi
# libnccl alone missing is reported above and left to the GPU steps.
bad=$(printf '%s\n' "$bad" | sed 's/ libnccl\.so[^ ]*//' | awk 'NF > 1')
# What the carried programs take from this machine rather than from ROOT
# (the C and C++ runtimes, the CUDA driver and NCCL are meant to be).
if [ -n "$loader" ]; then
  own=$(for f in "${real[@]}" "$build/lib/sbai.so"; do
          [ -f "$f" ] && is_elf "$f" && LD_LIBRARY_PATH=$libpath "$loader" --list "$f" 2>/dev/null
        done | awk -v r="$root/" '$2 == "=>" && $3 ~ /^\// && index($3, r) != 1 { print $1 }' |
        sort -u | tr '\n' ' ')
  echo "# carry_root: taken from this machine: ${own:-nothing}"
fi

# ---- the wrappers -------------------------------------------------------------
rm -rf "$wrap" && mkdir -p "$wrap" || exit 2
first=${libpath%%:*}
for n in "${!real[@]}"; do
  cat >"$wrap/$n" <<EOF
#!/bin/sh
# ${real[$n]} with the carried libraries (tests/gpu/carry_root.sh)
case ":\${LD_LIBRARY_PATH:-}:" in
  *":$first:"*) ;;
  *) LD_LIBRARY_PATH='$libpath'\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}; export LD_LIBRARY_PATH ;;
esac
exec '${real[$n]}' "\$@"
EOF
  chmod +x "$wrap/$n"
done
nccl=""
[ -n "$loader" ] && [ -f "$build/bin/sb-baseline" ] &&
  nccl=$(LD_LIBRARY_PATH=$libpath "$loader" --list "$build/bin/sb-baseline" 2>/dev/null |
         awk '$1 ~ /^libnccl/ { print $3 }')
printf 'SB_CARRY_LIBPATH=%s\nSB_CARRY_NCCL=%s\n' "$libpath" "$nccl" >"$root/carry.env"
echo "# carry_root: ${#real[@]} programs wrapped in $wrap (mpiexec -> ${hydra:-none}); library path: $libpath"

if [ -n "$bad" ]; then
  echo "# carry_root: libraries not found with the carried library path:"
  printf '%s\n' "$bad" | sed 's/^/#   /'
  exit 1
fi
echo "# carry_root: every carried program finds its libraries"
[ $smoke = 1 ] || exit 0

# ---- smoke: launch them once through ROOT/wrap ------------------------------------
export PATH=$wrap:$PATH
fail=0
for t in mpiexec redis-server redis-cli; do
  p=$(command -v "$t") || { echo "# smoke: $t not on PATH: FAIL"; fail=1; continue; }
  case $p in "$wrap"/*) echo "# smoke: $t -> $p" ;; *) echo "# smoke: $t is $p, not the wrapper: FAIL"; fail=1 ;; esac
done
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sb-carry-smoke.XXXXXX")
if [ -x "$wrap/sb-baseline" ] && [ -x "$wrap/h5_expect" ]; then
  if mpiexec -n 2 sb-baseline --pattern ring --tensor-bytes 1K --iterations 3 --warmup 1 \
       --out "$tmp/ring.h5" >"$tmp/ring.out" 2>&1 &&
     h5_expect "$tmp/ring.h5" --status complete --nranks 2 >>"$tmp/ring.out" 2>&1; then
    echo "# smoke: mpiexec -n 2 sb-baseline (MPI ring, HDF5 file checked): PASS"
  else
    echo "# smoke: mpiexec -n 2 sb-baseline: FAIL"; tail -n 8 "$tmp/ring.out" | sed 's/^/#   /'; fail=1
  fi
else
  echo "# smoke: no sb-baseline/h5_expect in $build/bin: MPI launch not checked: FAIL"; fail=1
fi
if [ -f "$build/lib/sbai.so" ]; then
  (
    export SB_MODULE=$build/lib/sbai.so
    . "$src/tests/lib/sbtest.sh"
    sb_start_redis
    [ "$(sb_cli ping)" = PONG ] || sb_fail "no PONG"
    gpu=$(sb_cli AI.INFO | awk 'want { print; exit } $0 == "gpu" { want = 1 }')
    echo "# smoke: redis-server with $SB_MODULE on port $SB_PORT: PASS (AI.INFO gpu: $gpu)"
  ) >"$tmp/redis.out" 2>&1
  r=$?
  grep '^# smoke' "$tmp/redis.out"
  [ $r = 0 ] || { echo "# smoke: redis-server with sbai.so: FAIL (exit $r)"
                   tail -n 8 "$tmp/redis.out" | sed 's/^/#   /'; fail=1; }
else
  echo "# smoke: no $build/lib/sbai.so: FAIL"; fail=1
fi
rm -rf "$tmp"
exit $fail
