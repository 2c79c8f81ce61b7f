# A dataset that is not complete makes sb-agg-consumer fail the iteration,
# clearly, and leaves every key as it found it: the list, the broken
# dataset and the others (no partial deletes).
# Usage: incomplete.sh MODE
#   no_complete      rank 1's meta hash loses .COMPLETE (a put that never
#                    finished, as SmartRedis's put_dataset leaves it when it
#                    fails before its last command)
#   missing_tensor   rank 2's tensor_1 is gone though .tensor_names lists it
set -u
. "$SB_SOURCE_DIR/tests/lib/sbtest.sh"
mode=$1
sb_start_redis
export SB_DB_CONNECT_TIMEOUT=5
common="--db $SSDB_TCP --iterations 1 --warmup 0 --tensor-bytes 1K --tensors-per-dataset 2"
# One iteration of 3 datasets (the producer waits for nobody before its first).
timeout 60 mpiexec -n 3 "$SB_BIN_DIR/sb-agg-producer" $common > "$SB_TMP/p.out" 2>&1 ||
  { cat "$SB_TMP/p.out"; sb_fail "producer failed"; }
[ "$(sb_cli llen iteration_0)" = 3 ] || sb_fail "list not filled"
case $mode in
  no_complete)
    [ "$(sb_cli hdel '{aggregation_rank_1}.meta' .COMPLETE)" = 1 ] || sb_fail "HDEL .COMPLETE"
    want="dataset aggregation_rank_1 is incomplete: its meta hash has no .COMPLETE" ;;
  missing_tensor)
    [ "$(sb_cli del '{aggregation_rank_2}.tensor_1')" = 1 ] || sb_fail "DEL tensor_1"
    want="dataset aggregation_rank_2 is incomplete: tensor tensor_1 (listed in .tensor_names) is missing" ;;
  *) sb_fail "unknown mode $mode" ;;
esac
# Every key and its value (DUMP), before and after.
snapshot() {
  sb_cli --scan | sort | while read -r k; do
    printf '%s %s\n' "$k" "$(sb_cli --no-raw dump "$k" | md5sum | cut -c1-32)"
  done
}
snapshot > "$SB_TMP/before"
[ "$(wc -l < "$SB_TMP/before")" -ge 8 ] || { cat "$SB_TMP/before"; sb_fail "too few keys to compare"; }
timeout 60 mpiexec -n 1 "$SB_BIN_DIR/sb-agg-consumer" $common --list-length 3 --timeout 10 \
  --client-threads 2 --out "$SB_TMP/c.h5" > "$SB_TMP/c.out" 2>&1
rc=$?
cat "$SB_TMP/c.out"
[ $rc = 1 ] || sb_fail "consumer exited $rc, expected 1"
grep -q "error: iteration 0: get_list iteration_0: .*$want" "$SB_TMP/c.out" ||
  sb_fail "the consumer's error does not say: $want"
snapshot > "$SB_TMP/after"
diff "$SB_TMP/before" "$SB_TMP/after" || sb_fail "the consumer changed keys (above: before < > after)"
echo "all $(wc -l < "$SB_TMP/after") keys as they were"
"$SB_BIN_DIR/h5_expect" "$SB_TMP/c.h5" --status failed --nranks 1 || sb_fail "consumer HDF5"
sb_alive
echo "PASS: incomplete $mode"
