# A sweep killed mid-way (SIGTERM to the driver, as a walltime kill does) and
# started again completes every case without re-running the finished ones
# (each case directory counts its attempts).
. "$SB_SOURCE_DIR/tests/lib/sbtest.sh"
. "$SB_SOURCE_DIR/tests/lib/sweep.sh"
command -v redis-server >/dev/null || sb_skip "redis-server not found"
fe="$SB_SOURCE_DIR/apps/stagebench/stagebench"
export SB_BUILD=$(dirname "$SB_BIN_DIR") SB_STATE=$SB_TMP/state
out=$SB_TMP/sweep
args=(sweep throughput --tensor-bytes 1K,4K,16K,64K --iterations 3000 --clients-per-node 1 --out "$out")
# $! is the driver itself (the front end execs it).
bash "$fe" "${args[@]}" > "$SB_TMP/first" 2>&1 &
pid=$!
# Kill it once the second case is done.
sb_wait_cases_done "$SB_TMP/first" 2 $pid
kill -TERM $pid
wait $pid
rc=$?
cat "$SB_TMP/first"
[ $rc -ne 0 ] || sb_fail "the killed sweep exited 0"
grep -q "interrupted\|sweep throughput: [0-3] of 4 complete" "$SB_TMP/first" || sb_fail "the first sweep did not stop early"
done_first=$(grep -c '\.\.\. done' "$SB_TMP/first")
# No database is left running by the killed sweep.
[ -z "$(ls "$out"/db_*/state/*.pid 2>/dev/null)" ] || sb_fail "database pid file left: $(ls "$out"/db_*/state/)"

bash "$fe" "${args[@]}" > "$SB_TMP/second" 2>&1 || { cat "$SB_TMP/second"; sb_fail "the resumed sweep failed"; }
cat "$SB_TMP/second"
[ "$(grep -c 'complete, skipped' "$SB_TMP/second")" -ge "$done_first" ] || sb_fail "finished cases were not skipped"
grep -q "sweep throughput: 4 of 4 complete, 0 failed" "$SB_TMP/second" || sb_fail "not every case completed"
# Cases finished before the kill ran exactly once.
sb_count_ran_once "$out"
[ $ran_once -ge "$done_first" ] || sb_fail "only $ran_once cases ran once, $done_first had finished before the kill"
echo "PASS: sweep resumed ($done_first done before the kill)"
