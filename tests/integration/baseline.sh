# sb-baseline end to end: MPI only, no database.
# Usage: baseline.sh PATTERN NRANKS SIZE   (pingpong|ring)
#        baseline.sh usage                 (usage errors, exit 2)
. "$SB_SOURCE_DIR/tests/lib/sbtest.sh"
bl="$SB_BIN_DIR/sb-baseline"

if [ "$1" = usage ]; then
  expect_usage() {
    local np=$1 needle=$2; shift 2
    mpiexec -n "$np" "$bl" "$@" > "$SB_TMP/out" 2>&1
    local rc=$?
    [ $rc = 2 ] || { cat "$SB_TMP/out"; sb_fail "'$*' on $np ranks exited $rc, expected 2"; }
    grep -q -- "$needle" "$SB_TMP/out" || { cat "$SB_TMP/out"; sb_fail "'$*': message lacks '$needle'"; }
  }
  expect_usage 2 "--pattern" --pattern star
  expect_usage 2 "--tensor-bytes" --tensor-bytes 0
  expect_usage 2 "--tensor-bytes" --tensor-bytes 1Q
  expect_usage 2 "--device" --device tpu
  # --device gpu (NCCL): tests/gpu_apps.
  expect_usage 2 "--pattern" --device gpu --pattern star
  expect_usage 3 "even number of ranks" --pattern pingpong
  expect_usage 1 "even number of ranks" --pattern pingpong
  mpiexec -n 1 "$bl" --help > "$SB_TMP/help" 2>&1 || sb_fail "--help failed"
  for o in --tensor-bytes --pattern --device --iterations --out; do
    grep -q -- "$o" "$SB_TMP/help" || sb_fail "--help does not mention $o"
  done
  mpiexec -n 1 "$bl" --version | grep -q "^sb-baseline " || sb_fail "--version"
  # No database is needed: an unreachable --db changes nothing.
  mpiexec -n 1 "$bl" --pattern ring --iterations 3 --db tcp://127.0.0.1:1 > "$SB_TMP/out" 2>&1 ||
    { cat "$SB_TMP/out"; sb_fail "ring on 1 rank with an unreachable --db failed"; }
  echo "PASS: usage errors"
  exit 0
fi

pattern=$1 np=$2 size=$3
iters=20
out=$SB_TMP/run.h5
mpiexec -n "$np" "$bl" --pattern "$pattern" --tensor-bytes "$size" --iterations $iters \
  --warmup 2 --label test=integration --out "$out" > "$SB_TMP/stdout" 2> "$SB_TMP/stderr"
rc=$?
cat "$SB_TMP/stdout"
[ $rc = 0 ] || { cat "$SB_TMP/stderr"; sb_fail "sb-baseline exited $rc"; }
grep -q "^# sb-baseline: $np ranks" "$SB_TMP/stdout" || sb_fail "no figure-of-merit line"
grep -q "algbw .* busbw " "$SB_TMP/stdout" || sb_fail "no algbw/busbw on the last line"
grep -q "^# verification: every byte received matched" "$SB_TMP/stdout" || sb_fail "no verification line"
grep -q "^# ranks: $np; database: none" "$SB_TMP/stdout" || sb_fail "header does not say: no database"
for ph in "$pattern" loop_time; do
  grep -q "^  $ph " "$SB_TMP/stdout" || sb_fail "table lacks $ph"
done
grep -q "^  client_init " "$SB_TMP/stdout" && sb_fail "client_init recorded without a database"
bytes=$(case $size in *K) echo $(( ${size%K} * 1024 ));; *M) echo $(( ${size%M} * 1048576 ));; *) echo "$size";; esac)
"$SB_BIN_DIR/h5_expect" "$out" --status complete --nranks "$np" --samples $iters \
  --phase "$pattern" --phase loop_time \
  --param "pattern=$pattern" --param "tensor-bytes=$bytes" --param "iterations=$iters" \
  --param "device=cpu" --param "label.test=integration" \
  --rank-sum verify_errors=0 --rank-sum "iterations_completed=$((np * iters))" \
  --system hdf5_version --system mpi_library || sb_fail "HDF5 file not as expected"
echo "PASS: $pattern, $np ranks, $size"
