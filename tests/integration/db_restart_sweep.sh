# The database of a sweep is killed (kill -9) while the sweep runs: the case
# in flight and those after it fail and are recorded as failed, the sweep
# exits non-zero and leaves no database record behind. The sweep submitted
# again starts a new database, skips the cases that completed, re-runs the
# others, and completes: nothing measured before the kill is lost.
set -u
. "$SB_SOURCE_DIR/tests/lib/sbtest.sh"
. "$SB_SOURCE_DIR/tests/lib/sweep.sh"
command -v redis-server >/dev/null || sb_skip "redis-server not found"
fe="$SB_SOURCE_DIR/apps/stagebench/stagebench"
export SB_BUILD=$(dirname "$SB_BIN_DIR") SB_STATE=$SB_TMP/state
# Cases against a dead database fail fast.
export SB_DB_CONNECT_TIMEOUT=1 SB_DB_COMMAND_TIMEOUT=5
out=$SB_TMP/sweep
args=(sweep throughput --tensor-bytes 1K,4K,16K,64K --iterations 4000 --clients-per-node 1 --out "$out")
bash "$fe" "${args[@]}" >"$SB_TMP/first" 2>&1 &
sweep=$!
# Kill the database once the first case is done.
sb_wait_cases_done "$SB_TMP/first" 1 $sweep
pidfile=$(ls "$out"/db_*/state/db.pid 2>/dev/null | head -1)
[ -n "$pidfile" ] || { cat "$SB_TMP/first"; sb_fail "no database pid file under $out"; }
dbpid=$(cat "$pidfile")
kill -9 "$dbpid" || sb_fail "cannot kill the database (pid $dbpid)"
echo "killed the sweep's database (pid $dbpid)"
rc=0
wait $sweep || rc=$?
cat "$SB_TMP/first"
[ $rc -ne 0 ] || sb_fail "the sweep exited 0 although its database was killed"
done_first=$(grep -c '\.\.\. done' "$SB_TMP/first")
failed_first=$(grep -c '\.\.\. FAILED' "$SB_TMP/first")
[ "$failed_first" -ge 1 ] || sb_fail "no case failed after the database was killed"
[ $((done_first + failed_first)) = 4 ] || sb_fail "the first sweep did not account for every case"
grep -q "sweep throughput: $done_first of 4 complete, $failed_first failed" "$SB_TMP/first" ||
  sb_fail "the summary does not count the failures"
[ "$(ls "$out"/*/FAILED | wc -l)" = "$failed_first" ] || sb_fail "failed cases not marked FAILED"
[ -z "$(ls "$out"/db_*/state/db.pid 2>/dev/null)" ] || sb_fail "database pid file left: $(ls "$out"/db_*/state/)"
kill -0 "$dbpid" 2>/dev/null && sb_fail "the killed database still runs"

# Submitted again: a new database, the rest of the cases.
bash "$fe" "${args[@]}" >"$SB_TMP/second" 2>&1 || { cat "$SB_TMP/second"; sb_fail "the resumed sweep failed"; }
cat "$SB_TMP/second"
[ "$(grep -c 'complete, skipped' "$SB_TMP/second")" = "$done_first" ] || sb_fail "finished cases were not skipped"
grep -q "sweep throughput: 4 of 4 complete, 0 failed" "$SB_TMP/second" || sb_fail "not every case completed"
sb_count_ran_once "$out"
for d in "$out"/throughput_*; do
  [ ! -e "$d/FAILED" ] || sb_fail "$d still marked FAILED"
done
[ $ran_once = "$done_first" ] || sb_fail "$ran_once cases ran once, $done_first had finished before the kill"
[ -z "$(ls "$out"/db_*/state/db.pid 2>/dev/null)" ] || sb_fail "the resumed sweep left its database running"
echo "PASS: $done_first case(s) done before the kill, $failed_first failed, all complete after the restart"
