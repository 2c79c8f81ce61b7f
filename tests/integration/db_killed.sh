# The database dies in the middle of the loop: a clear error, a non-zero
# exit within the bound, and a readable HDF5 file with status=partial that
# keeps the samples completed before the failure.
. "$SB_SOURCE_DIR/tests/lib/sbtest.sh"
sb_start_redis
sb_monitor_start
export SB_DB_CONNECT_TIMEOUT=2 SB_DB_COMMAND_TIMEOUT=5
mpiexec -n 2 "$SB_BIN_DIR/sb-throughput" --db "$SSDB_TCP" --mode tensor --tensor-bytes 4K \
  --warmup 1 --iterations 1000000 --out "$SB_TMP/run.h5" > "$SB_TMP/stdout" 2> "$SB_TMP/stderr" &
app=$!
SB_CLEANUP_PIDS="$SB_CLEANUP_PIDS $app"
# Wait until rank 0 has finished its first timed iteration (the server got
# its third AI.TENSORGET: the warm-up's, the first timed iteration's, the
# second's), then kill -9. A condition, not a fixed time: under load the
# warm-up alone can take seconds.
sb_wait_commands '"AI\.TENSORGET" "sb:tp:rank0"' 3 60 $app "$SB_TMP/stdout" "$SB_TMP/stderr"
kill -9 "$SB_PID"
for _ in $(seq 300); do kill -0 $app 2>/dev/null || break; sleep 0.1; done
if kill -0 $app 2>/dev/null; then kill -9 $app; sb_fail "app still running 30 s after the database died"; fi
wait $app
rc=$?
cat "$SB_TMP/stdout"; cat "$SB_TMP/stderr"
[ $rc != 0 ] || sb_fail "exit code 0 after the database died"
grep -q "127.0.0.1:$SB_PORT" "$SB_TMP/stderr" || sb_fail "error does not name the database"
grep -q "^# status: partial" "$SB_TMP/stdout" || sb_fail "summary does not say partial"
"$SB_BIN_DIR/h5_expect" "$SB_TMP/run.h5" --status partial --nranks 2 --min-samples 1 \
  --phase put_tensor --phase unpack_tensor --phase loop_time || sb_fail "HDF5 file not as expected"
echo PASS
