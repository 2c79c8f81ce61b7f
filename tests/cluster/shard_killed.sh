# One shard of a 3-shard cluster is killed (kill -9) in the middle of
# sb-throughput: a clear error naming the shard within the bound, a partial
# HDF5 file with the samples done before, a non-zero exit; `stagebench db
# stop` then ends the two shards left, and nothing else.
. "$SB_SOURCE_DIR/tests/lib/sbtest.sh"
. "$SB_SOURCE_DIR/tests/cluster/cluster_lib.sh"
# A short node timeout: the other shards declare the cluster down quickly.
sb_cluster_start 3 --node-timeout 1000
set -- $SB_CLUSTER_PORTS
victim=$2
set -- $SB_CLUSTER_PIDS
vpid=$2
export SB_DB_CONNECT_TIMEOUT=2 SB_DB_COMMAND_TIMEOUT=5
mpiexec -n 4 "$SB_BIN_DIR/sb-throughput" --mode tensor --tensor-bytes 4K --iterations 1000000 \
  --checkpoint-interval 1 --out "$SB_TMP/run.h5" > "$SB_TMP/stdout" 2> "$SB_TMP/stderr" &
app=$!
# rank 1's key lives on the second shard: wait until the app is in its loop
# (its key exists, and a checkpoint holds timed samples).
for _ in $(seq 300); do
  [ "$(redis-cli -p "$victim" exists sb:tp:rank1)" = 1 ] && break
  sleep 0.05
done
sb_wait_h5_samples "$SB_TMP/run.h5" 1 60 $app
kill -9 "$vpid"
t0=$(date +%s)
for _ in $(seq 400); do kill -0 $app 2>/dev/null || break; sleep 0.1; done
if kill -0 $app 2>/dev/null; then kill -9 $app; sb_fail "app still running 40 s after a shard died"; fi
rc=0
wait $app || rc=$?
echo "app ended $(( $(date +%s) - t0 )) s after the kill, exit $rc"
cat "$SB_TMP/stdout"; cat "$SB_TMP/stderr"
[ $rc != 0 ] || sb_fail "exit code 0 after a shard died"
grep -q "127.0.0.1:$victim" "$SB_TMP/stderr" || sb_fail "no error names the dead shard 127.0.0.1:$victim"
grep -q "^# status: partial" "$SB_TMP/stdout" || sb_fail "summary does not say partial"
"$SB_BIN_DIR/h5_expect" "$SB_TMP/run.h5" --status partial --nranks 4 --min-samples 1 \
  --phase put_tensor --phase unpack_tensor --rank-sum verify_errors=0 || sb_fail "HDF5 file not as expected"
# db status says what is down; db stop ends the others and only them.
bash "$SB_FE" db status > "$SB_TMP/status" 2>&1 && sb_fail "db status exit 0 with a shard down"
cat "$SB_TMP/status"
grep -q "127.0.0.1:$victim .*NOT RUNNING" "$SB_TMP/status" || sb_fail "db status does not show the dead shard"
bash "$SB_FE" db stop || sb_fail "db stop failed"
gone() { local st; st=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null || true); [ -z "$st" ] || [ "$st" = Z ]; }
for p in $SB_CLUSTER_PIDS; do
  for _ in $(seq 50); do gone "$p" && break; sleep 0.1; done
  gone "$p" || sb_fail "pid $p still runs after db stop"
done
[ ! -f "$SB_STATE/db.pid" ] || sb_fail "db.pid left behind"
echo "PASS: shard $victim killed, clear error, partial file, the rest stopped"
