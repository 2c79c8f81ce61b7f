# The database stops answering (SIGSTOP: a hung server, a swapped-out node)
# in the middle of the loop: the app gives up within the bound with a clear
# "no reply within the command timeout" error naming the database, exits
# non-zero and leaves a partial HDF5 file with the samples it completed.
# After SIGCONT the server is fine and serves a new run.
set -u
. "$SB_SOURCE_DIR/tests/lib/sbtest.sh"
sb_start_redis
sb_cli AI.TENSORSET marker FLOAT 2 VALUES 1 2 >/dev/null
connect=2 command=2 retries=1
export SB_DB_CONNECT_TIMEOUT=$connect SB_DB_COMMAND_TIMEOUT=$command SB_DB_COMMAND_RETRIES=$retries
mpiexec -n 2 "$SB_BIN_DIR/sb-throughput" --db "$SSDB_TCP" --mode tensor --tensor-bytes 4K \
  --iterations 1000000 --checkpoint-interval 1 --out "$SB_TMP/run.h5" >"$SB_TMP/stdout" 2>"$SB_TMP/stderr" &
app=$!
# Wait until the app is in its timed loop (a checkpoint holds samples), then
# stop the server.
sb_wait_h5_samples "$SB_TMP/run.h5" 1 60 $app
kill -0 $app 2>/dev/null || { cat "$SB_TMP/stdout" "$SB_TMP/stderr"; sb_fail "the app ended before the server was stopped"; }
t0=$(date +%s.%N)
kill -STOP "$SB_PID"
# The bound: a write fails after one command timeout; a read is re-sent
# (after reconnecting, which a stopped server's kernel still accepts) up to
# SB_DB_COMMAND_RETRIES times: connect + command x (1 + retries) = 6 s. The
# margin covers MPI and the HDF5 file on 2 shared cores.
bound=$(( connect + command * (1 + retries) ))
sb_expect_gave_up $app "$t0" "$bound" 15 "the database stopped (SIGSTOP)"
grep -q "no reply within the command timeout" "$SB_TMP/stderr" ||
  sb_fail "the error does not say no reply came within the command timeout"
grep -q "127.0.0.1:$SB_PORT" "$SB_TMP/stderr" || sb_fail "the error does not name the database"
grep -q "^# status: partial" "$SB_TMP/stdout" || sb_fail "summary does not say partial"
"$SB_BIN_DIR/h5_expect" "$SB_TMP/run.h5" --status partial --nranks 2 --min-samples 1 \
  --phase put_tensor --phase unpack_tensor --phase loop_time || sb_fail "HDF5 file not as expected"

# The server, continued, is fine: it answers, kept its data, and serves a
# run. (The app's own keys may be gone: commands it sent while the server
# was stopped, its clean-up included, are executed on SIGCONT.)
kill -CONT "$SB_PID"
sb_alive
[ "$(sb_cli AI.TENSORGET marker VALUES | tr '\n' ' ')" = "1 2 " ] || sb_fail "a tensor stored before the stop is gone"
unset SB_DB_COMMAND_RETRIES
mpiexec -n 2 "$SB_BIN_DIR/sb-throughput" --db "$SSDB_TCP" --mode tensor --tensor-bytes 4K \
  --iterations 20 --out "$SB_TMP/after.h5" >"$SB_TMP/after" 2>&1 ||
  { cat "$SB_TMP/after"; sb_fail "a run after SIGCONT failed"; }
"$SB_BIN_DIR/h5_expect" "$SB_TMP/after.h5" --status complete --nranks 2 >/dev/null ||
  sb_fail "the run after SIGCONT is not complete"
sb_alive
echo PASS
