# Nothing lost, nothing left: a run killed by SIGKILL (one rank, as the OOM
# killer or a node failure does) has its keys deleted by `stagebench run`,
# which says how many; keys that are not the app's stay (the user's, and
# inference's model and script). `stagebench db clean APP` deletes exactly
# each app's patterns. A sweep whose case is killed cleans up and says so;
# started again, it runs the killed case once more, saying the earlier run
# was killed, and removes a leftover F.h5.writing. All against real
# redis-servers (the test's own, and the sweep's).
. "$SB_SOURCE_DIR/tests/lib/sbtest.sh"
command -v h5dump >/dev/null || sb_skip "h5dump not found (hdf5-tools)"
fe="$SB_SOURCE_DIR/apps/stagebench/stagebench"
export SB_BUILD=$(dirname "$SB_BIN_DIR") SB_STATE=$SB_TMP/state
# A driver that writes its file from the start says status=running when
# killed: the front end calls that run killed (else: failed, exit N).
checkpoints=0
"$SB_BIN_DIR/sb-throughput" --help 2>&1 | grep -q -- --checkpoint-interval && checkpoints=1

# sb_descendant NAME PID: a process called NAME under PID (this test's own).
sb_descendant() {
  local name=$1 queue=$2 p c
  while [ -n "$queue" ]; do
    set -- $queue; p=$1; shift; queue="$*"
    for c in $(pgrep -P "$p" 2>/dev/null); do
      [ "$(cat "/proc/$c/comm" 2>/dev/null)" = "$name" ] && { echo "$c"; return 0; }
      queue="$queue $c"
    done
  done
  return 1
}

# kill_rank PID WHAT: kill -9 the sb-throughput rank under PID (the WHAT, a
# background job of this shell), waits (60 s at most) until PID has ended and
# sets rc to its exit status.
kill_rank() {
  local rank
  rank=$(sb_descendant sb-throughput "$1") || sb_fail "no sb-throughput under the $2"
  kill -9 "$rank"
  for _ in $(seq 600); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$1" 2>/dev/null && sb_fail "the $2 still runs 60 s after its rank was killed"
  rc=0
  wait "$1" || rc=$?
}

sb_start_redis
sb_monitor_start
export SSDB=$SSDB_TCP
sb_cli set user:data keep >/dev/null
sb_cli set sb:inf:model:tiny keep >/dev/null

# 1. stagebench run, one rank killed mid-run.
bash "$fe" run throughput -n 2 --warmup 1 --iterations 1000000 --checkpoint-interval 1 \
  --out "$SB_TMP/run.h5" > "$SB_TMP/run.out" 2> "$SB_TMP/run.err" &
run=$!
SB_CLEANUP_PIDS="$SB_CLEANUP_PIDS $run"
sb_wait_commands '"AI\.TENSORGET" "sb:tp:rank1"' 3 60 $run "$SB_TMP/run.err"
[ "$(sb_cli exists sb:tp:rank0 sb:tp:rank1)" = 2 ] || sb_fail "the run's keys are not there"
kill_rank $run "stagebench run"
cat "$SB_TMP/run.err"
[ $rc != 0 ] || sb_fail "stagebench run exited 0 after a rank was killed"
if [ $checkpoints = 1 ]; then
  grep -q "cleanup: deleted [12] keys left by the killed run" "$SB_TMP/run.err" ||
    sb_fail "no 'cleanup: deleted N keys left by the killed run'"
else
  grep -q "cleanup: deleted [12] keys left by the failed run (exit $rc)" "$SB_TMP/run.err" ||
    sb_fail "no 'cleanup: deleted N keys left by the failed run'"
fi
[ -z "$(sb_cli --scan --pattern 'sb:tp:*')" ] || sb_fail "keys left: $(sb_cli --scan --pattern 'sb:tp:*')"
[ "$(sb_cli get user:data)" = keep ] && [ "$(sb_cli get sb:inf:model:tiny)" = keep ] ||
  sb_fail "a key that is not the run's was deleted"
echo "run: killed rank's keys deleted, others kept"

# 2. db clean: each app's patterns, standalone and hash-tagged names.
sb_cli rpush iteration_0 '{aggregation_rank_0}' >/dev/null
sb_cli hset '{aggregation_rank_0}.meta' .COMPLETE 1 >/dev/null
sb_cli AI.TENSORSET '{aggregation_rank_0}.tensor_0' FLOAT 1 VALUES 1 >/dev/null
sb_cli AI.TENSORSET 'sb:inf:r0:in' FLOAT 1 VALUES 1 >/dev/null
sb_cli AI.TENSORSET 'sb:inf:{s1}:r2:out' FLOAT 1 VALUES 1 >/dev/null
sb_cli set sb:inf:script keep >/dev/null
sb_cli set 'sb:inf:{s1}:model:tiny' keep >/dev/null
out=$(bash "$fe" db clean aggregation 2>&1) || sb_fail "db clean aggregation: $out"
[ "$out" = "stagebench: cleanup: deleted 3 keys left by earlier runs" ] || sb_fail "db clean aggregation: '$out'"
out=$(bash "$fe" db clean inference --why "a test" 2>&1) || sb_fail "db clean inference: $out"
[ "$out" = "stagebench: cleanup: deleted 2 keys left by a test" ] || sb_fail "db clean inference: '$out'"
left=$(sb_cli --scan | sort | paste -sd' ' -)
[ "$left" = "sb:inf:model:tiny sb:inf:script sb:inf:{s1}:model:tiny user:data" ] || sb_fail "keys after db clean: $left"
echo "db clean: the apps' patterns only"

# 3. A sweep (its own database) whose case is killed, then resumed.
out=$SB_TMP/sweep
args=(sweep throughput --tensor-bytes 4K --iterations 1000000 --clients-per-node 2 --out "$out")
unset SSDB
bash "$fe" "${args[@]}" > "$SB_TMP/sweep1" 2>&1 &
sweep=$!
SB_CLEANUP_PIDS="$SB_CLEANUP_PIDS $sweep"
ssdb=""
for _ in $(seq 600); do
  ssdb=$(cat "$out"/db_*/state/ssdb 2>/dev/null || true)
  if [ -n "$ssdb" ]; then
    hp=${ssdb#tcp://}; hp=${hp%%,*}
    [ "$(redis-cli -h "${hp%:*}" -p "${hp##*:}" exists sb:tp:rank0 sb:tp:rank1 2>/dev/null)" = 2 ] && break
  fi
  kill -0 $sweep 2>/dev/null || { cat "$SB_TMP/sweep1"; sb_fail "the sweep ended early"; }
  sleep 0.1
done
[ -n "$ssdb" ] || sb_fail "the sweep's database did not come up"
kill_rank $sweep sweep
cat "$SB_TMP/sweep1"
[ $rc = 1 ] || sb_fail "the sweep exited $rc, expected 1 (one failed case)"
grep -q "\.\.\. FAILED" "$SB_TMP/sweep1" || sb_fail "the killed case is not FAILED"
why=failed; [ $checkpoints = 1 ] && why=killed
grep -q ": cleanup: deleted [0-9]* keys left by the $why run$" "$SB_TMP/sweep1" || sb_fail "the sweep does not report the cleanup"
n=$(sed -n "s/.*: cleanup: deleted \([0-9]*\) keys left by the $why run$/\1/p" "$SB_TMP/sweep1")
[ "$n" -ge 1 ] || sb_fail "the sweep's cleanup counts $n keys; the case had 2"
casedir=$(ls -d "$out"/throughput_*/)
[ -f "$casedir/FAILED" ] || sb_fail "no FAILED in $casedir"
[ -z "$(ls "$out"/db_*/state/*.pid 2>/dev/null)" ] || sb_fail "the sweep left its database running"
echo "sweep: killed case cleaned up ($n keys)"

# Resume: the killed case is not complete, so it runs again (its attempt
# counter goes to 2); the sweep says why, and removes a leftover
# run.h5.writing. Once it has started, the test stops that sweep (SIGTERM).
echo leftover > "$casedir/run.h5.writing"
bash "$fe" "${args[@]}" > "$SB_TMP/sweep2" 2>&1 &
sweep=$!
SB_CLEANUP_PIDS="$SB_CLEANUP_PIDS $sweep"
for _ in $(seq 600); do
  grep -q "removing run.h5.writing" "$SB_TMP/sweep2" && [ ! -e "$casedir/run.h5.writing" ] && break
  kill -0 $sweep 2>/dev/null || break
  sleep 0.1
done
kill -TERM $sweep
wait $sweep
cat "$SB_TMP/sweep2"
grep -q "complete, skipped" "$SB_TMP/sweep2" && sb_fail "the killed case was skipped on resume"
grep -q "removing run.h5.writing, left by a killed run" "$SB_TMP/sweep2" || sb_fail "the leftover .writing file is not said"
[ ! -e "$casedir/run.h5.writing" ] || sb_fail "run.h5.writing left in place"
if [ $checkpoints = 1 ]; then
  grep -q "the earlier run was killed (run.h5 says status running" "$SB_TMP/sweep2" ||
    sb_fail "the resumed sweep does not say the earlier run was killed"
fi
[ "$(cat "$casedir/attempts")" = 2 ] || sb_fail "the killed case was not run again (attempts $(cat "$casedir/attempts"))"
echo "PASS: killed runs cleaned up and re-run"
