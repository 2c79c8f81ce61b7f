# SmartRedis's real Python client (from PyPI, in a venv the test makes and
# keeps in the build tree) against our aggregation apps, both directions,
# on one server with the module.
# Usage: interop.sh CASE BYTES
#   py_to_c BYTES   sr_agg.py produce (3 ranks as SmartSim-Scaling's producer
#                   writes them: put_dataset + append_to_list) -> our
#                   sb-agg-consumer (mpiexec), which verifies every byte
#   c_to_py BYTES   our sb-agg-producer (3 ranks, mpiexec) -> sr_agg.py
#                   consume: get_datasets_from_list and get_dataset, every
#                   tensor's dtype, shape and bytes checked against the pattern
# Skips (77) when PyPI cannot be reached to make the venv.
set -u
. "$SB_SOURCE_DIR/tests/lib/sbtest.sh"
. "$SB_SOURCE_DIR/tests/lib/smartredis_venv.sh"
case_=$1 bytes=$2
smartredis_python
echo "SmartRedis: $("$PY" -c 'import importlib.metadata as m; print(m.version("smartredis"))')"
sb_start_redis
export SSDB="127.0.0.1:$SB_PORT" SB_DB_CONNECT_TIMEOUT=5
SRAGG="$SB_SOURCE_DIR/tests/interop/sr_agg.py"
# Our side: 1 warm-up + 2 timed iterations, i.e. iterations 0..2 on the other.
ours="--db $SSDB_TCP --iterations 2 --warmup 1 --tensor-bytes $bytes --tensors-per-dataset 2"
theirs="--ranks 3 --iterations 3 --tensor-bytes $bytes --tensors 2 --timeout 60"

# both_finished WHAT1 RC1 OUT1 WHAT2 RC2 OUT2: shows the output of both sides
# with their exit status, and fails the test unless both exited 0.
both_finished() {
  echo "--- $1 (exit $2)"; cat "$3"
  echo "--- $4 (exit $5)"; cat "$6"
  [ "$2" = 0 ] || sb_fail "$1 exited $2"
  [ "$5" = 0 ] || sb_fail "$4 exited $5"
}

case $case_ in
  py_to_c)
    timeout 120 "$PY" "$SRAGG" produce $theirs > "$SB_TMP/py.out" 2>&1 &
    pypid=$!
    SB_CLEANUP_PIDS="${SB_CLEANUP_PIDS:-} $pypid"
    timeout 120 mpiexec -n 1 "$SB_BIN_DIR/sb-agg-consumer" $ours --list-length 3 --timeout 60 \
      --out "$SB_TMP/c.h5" > "$SB_TMP/c.out" 2>&1
    crc=$?
    wait $pypid; prc=$?
    both_finished "the SmartRedis producer" $prc "$SB_TMP/py.out" sb-agg-consumer $crc "$SB_TMP/c.out"
    grep -q "^# verification: every tensor of every dataset matched" "$SB_TMP/c.out" ||
      sb_fail "no verification line from sb-agg-consumer"
    "$SB_BIN_DIR/h5_expect" "$SB_TMP/c.h5" --status complete --nranks 1 --samples 2 \
      --rank-sum verify_errors=0 || sb_fail "consumer HDF5"
    # The consumer took every list and dataset.
    [ "$(sb_cli dbsize)" = 0 ] || sb_fail "keys left behind: $(sb_cli --scan | head)"
    ;;
  c_to_py)
    timeout 120 mpiexec -n 3 "$SB_BIN_DIR/sb-agg-producer" $ours --consume-timeout 60 \
      --out "$SB_TMP/p.h5" > "$SB_TMP/p.out" 2>&1 &
    ppid=$!
    SB_CLEANUP_PIDS="${SB_CLEANUP_PIDS:-} $ppid"
    timeout 120 "$PY" "$SRAGG" consume $theirs > "$SB_TMP/py.out" 2>&1
    crc=$?
    wait $ppid; prc=$?
    both_finished sb-agg-producer $prc "$SB_TMP/p.out" "the SmartRedis consumer" $crc "$SB_TMP/py.out"
    [ "$(grep -c '^iteration [0-9]*: 3 datasets, 6 tensors' "$SB_TMP/py.out")" = 3 ] ||
      sb_fail "the SmartRedis consumer did not check 3 iterations of 3 datasets"
    grep -q '^0 mismatches' "$SB_TMP/py.out" || sb_fail "mismatches"
    "$SB_BIN_DIR/h5_expect" "$SB_TMP/p.h5" --status complete --nranks 3 --samples 2 ||
      sb_fail "producer HDF5"
    # What SmartRedis's delete_list leaves: the datasets, readable by name.
    "$PY" "$SRAGG" show aggregation_rank_2 || sb_fail "get_dataset aggregation_rank_2"
    ;;
  *) sb_fail "unknown case $case_" ;;
esac
sb_alive
echo "PASS: interop $case_ $bytes"
