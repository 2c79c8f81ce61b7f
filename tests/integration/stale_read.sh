# A read that returns something other than what the rank wrote is caught:
# a second client keeps overwriting rank 0's key while the app runs; the app
# counts verification errors, says so, exits 3 and marks the file failed.
. "$SB_SOURCE_DIR/tests/lib/sbtest.sh"
sb_start_redis
mpiexec -n 1 "$SB_BIN_DIR/sb-throughput" --db "$SSDB_TCP" --mode raw --tensor-bytes 8 \
  --iterations 20000 --warmup 0 --out "$SB_TMP/run.h5" > "$SB_TMP/stdout" 2> "$SB_TMP/stderr" &
app=$!
( while kill -0 $app 2>/dev/null; do
    for _ in $(seq 200); do echo "SET sb:tp:rank0 intruder"; done
  done ) | sb_cli > /dev/null
wait $app
rc=$?
cat "$SB_TMP/stdout"; head -5 "$SB_TMP/stderr"
[ $rc = 3 ] || sb_fail "exit code $rc, expected 3 (verification errors)"
grep -q "^# verification: [1-9][0-9]* reads did not match" "$SB_TMP/stdout" || sb_fail "no verification count"
grep -q "stale or torn read" "$SB_TMP/stderr" || sb_fail "no per-read error message"
"$SB_BIN_DIR/h5_expect" "$SB_TMP/run.h5" --status failed || sb_fail "file not marked failed"
echo PASS
