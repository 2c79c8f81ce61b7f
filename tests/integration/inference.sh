# sb-inference end to end against a real redis-server with the module: the
# tiny model, verification on every iteration, the HDF5 file checked.
# Usage: inference.sh NRANKS [tcp|colocated] [extra sb-inference options...]
. "$SB_SOURCE_DIR/tests/lib/sbtest.sh"
np=$1 via=${2:-tcp}
shift 2
iters=6
sb_start_redis
[ -x "$SB_BIN_DIR/sb-inference" ] || sb_fail "sb-inference not built"
out=$SB_TMP/run.h5
conn=(--db "$SSDB_TCP")
addr=$SSDB_TCP
if [ "$via" = colocated ]; then
  # The node-local database: its unix socket, named by SB_COLOCATED_SOCKET.
  export SB_COLOCATED_SOCKET=$SB_SOCK
  conn=(--colocated)
  addr=$SSDB_UNIX
fi
run() {
  mpiexec -n "$np" "$SB_BIN_DIR/sb-inference" "${conn[@]}" --model tiny --batch-size 2 \
    --iterations $iters --warmup 1 --verify-every 1 --label test=integration "$@" \
    > "$SB_TMP/stdout" 2> "$SB_TMP/stderr"
}
run --out "$out" "$@"
rc=$?
cat "$SB_TMP/stdout"
[ $rc = 0 ] || { cat "$SB_TMP/stderr"; sb_fail "sb-inference exited $rc"; }
grep -q "^# sb-inference: $np ranks" "$SB_TMP/stdout" || sb_fail "no figure-of-merit line"
grep -q "^# verification: sampled logits matched" "$SB_TMP/stdout" || sb_fail "no verification line"
for ph in client_init put_tensor run_script run_model unpack_tensor loop_time; do
  grep -q "^  $ph " "$SB_TMP/stdout" || sb_fail "table lacks $ph"
done
"$SB_BIN_DIR/h5_expect" "$out" --status complete --nranks "$np" --samples $iters \
  --phase client_init --phase put_tensor --phase run_script --phase run_model \
  --phase unpack_tensor --phase loop_time \
  --param "model=tiny" --param "batch-size=2" --param "iterations=$iters" \
  --param "db=$addr" --param "label.test=integration" \
  --system db_module_sbai_version || sb_fail "HDF5 file not as expected"
# Only model and script stay; every rank's tensors are deleted.
keys=$(sb_cli keys '*' | sort | tr '\n' ' ')
[ "$keys" = "sb:inf:model:tiny sb:inf:script " ] || sb_fail "keys left: $keys"
# A second run finds the same model (same tag) and does not store it again.
run "$@"
rc=$?
[ $rc = 0 ] || { cat "$SB_TMP/stdout" "$SB_TMP/stderr"; sb_fail "second run exited $rc"; }
grep -q "already stored" "$SB_TMP/stderr" "$SB_TMP/stdout" || sb_fail "the model was stored again"
sb_alive
echo "PASS: inference, $np ranks, via $via $*"
