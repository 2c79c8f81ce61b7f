# `--help` and `-h` on every stagebench subcommand and every installed binary
# print usage and exit 0 without doing anything: the programs that would act
# (apt-get, cmake, ctest, mpiexec, srun, redis-server, sbatch, qsub) are
# shadowed on PATH by scripts that leave a mark, and the state folder must
# not appear.
set -u
. "$SB_SOURCE_DIR/tests/lib/sbtest.sh"
fe="$SB_SOURCE_DIR/apps/stagebench/stagebench"
export SB_BUILD=$(dirname "$SB_BIN_DIR") SB_STATE=$SB_TMP/state XDG_RUNTIME_DIR=$SB_TMP/run
shim=$SB_TMP/shim
mkdir -p "$shim"
for p in apt-get dpkg-query cmake ctest make mpiexec srun salloc sbatch qsub redis-server redis-cli taskset; do
  printf '#!/bin/sh\necho "$0 $*" >> %s/ran\nexit 1\n' "$SB_TMP" > "$shim/$p"
  chmod +x "$shim/$p"
done
export PATH=$shim:$PATH
n=0
check() { # LABEL CMD...: exit 0, usage on stdout, nothing run, no state
  local label=$1 rc; shift
  rm -f "$SB_TMP/ran"
  (cd "$SB_TMP" && "$@") > "$SB_TMP/out" 2> "$SB_TMP/err"
  rc=$?
  [ $rc = 0 ] || { cat "$SB_TMP/out" "$SB_TMP/err"; sb_fail "$label: exit $rc"; }
  grep -qi "usage\|^ *stagebench [a-z]" "$SB_TMP/out" || { cat "$SB_TMP/out" "$SB_TMP/err"; sb_fail "$label: no usage on stdout"; }
  [ ! -f "$SB_TMP/ran" ] || sb_fail "$label ran: $(cat "$SB_TMP/ran")"
  [ ! -e "$SB_STATE" ] && [ ! -e "$XDG_RUNTIME_DIR" ] || sb_fail "$label made a state folder"
  [ -z "$(ls "$SB_TMP" | grep -v '^\(shim\|out\|err\)$')" ] || sb_fail "$label left files: $(ls "$SB_TMP")"
  n=$((n + 1))
}
for h in --help -h; do
  check "stagebench $h" bash "$fe" "$h"
  for c in setup build test demo db run sweep report doctor model; do
    check "stagebench $c $h" bash "$fe" "$c" "$h"
  done
  check "stagebench test --sanitize $h" bash "$fe" test --sanitize "$h"
  for s in start stop status clean; do check "stagebench db $s $h" bash "$fe" db "$s" "$h"; done
  for a in throughput inference aggregation baseline; do
    check "stagebench run $a $h" bash "$fe" run "$a" "$h"
    check "stagebench run $a -n 2 $h" bash "$fe" run "$a" -n 2 "$h"
    check "stagebench sweep $a $h" bash "$fe" sweep "$a" "$h"
  done
  for b in sb-throughput sb-inference sb-model sb-agg-producer sb-agg-consumer sb-baseline sb-dbinfo; do
    check "$b $h" "$SB_BIN_DIR/$b" "$h"
  done
done
# The app's own options through the front end, and the sweep's per-app list.
bash "$fe" run throughput --help | grep -q -- "--tensor-bytes" || sb_fail "run throughput --help does not list the app's options"
bash "$fe" run aggregation --help | grep -q -- "--client-threads" || sb_fail "run aggregation --help does not list the consumer's options"
bash "$fe" sweep throughput --help | grep -q -- "--tensor-bytes" || sb_fail "sweep throughput --help does not list its parameters"
bash "$fe" sweep baseline --help | grep -q -- "--pattern" || sb_fail "sweep baseline --help does not list --pattern"
bash "$fe" sweep baseline --help | grep -q -- "--db-nodes" && sb_fail "sweep baseline --help lists database parameters"
echo "$n help calls: usage, exit 0, nothing run"
