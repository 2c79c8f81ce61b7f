# Slots move while sb-throughput runs: the slots of ranks 0 and 3's keys
# (sb:tp:rank<r>) go to another shard and back (CLUSTER SETSLOT
# IMPORTING/MIGRATING, MIGRATE, SETSLOT NODE) during the timed loop. The
# client follows ASK (key moved, slot not yet) and MOVED (slot moved): the
# run completes, every read verifies, and the HDF5 file counts the
# redirects. The ranks are paused (SIGSTOP) around each step, so the steps
# fall inside the run however fast the machine is.
. "$SB_SOURCE_DIR/tests/lib/sbtest.sh"
. "$SB_SOURCE_DIR/tests/cluster/cluster_lib.sh"
sb_cluster_start 3
set -- $SB_CLUSTER_PORTS
p0=$1

# The app's rank processes (descendants of mpiexec named sb-throughput).
ranks() {
  local queue=$app p kids out=""
  while [ -n "$queue" ]; do
    set -- $queue; p=$1; shift; queue="$*"
    kids=$(pgrep -P "$p" 2>/dev/null | tr '\n' ' ')
    queue="$queue $kids"; queue=${queue# }
    [ "$(cat /proc/$p/comm 2>/dev/null)" = sb-throughput ] && out="$out $p"
  done
  echo $out
}
pause() { local r; r=$(ranks); [ -n "$r" ] && kill -STOP $r 2>/dev/null; sleep 0.05; }
resume() { local r; r=$(ranks); [ -n "$r" ] && kill -CONT $r 2>/dev/null; sleep "${1:-0.3}"; }

# migrate SLOT FROM TO: the keys first (then ASK), the slot after (MOVED).
migrate() {
  local slot=$1 src=$2 dst=$3 sid did keys
  sid=$(redis-cli -p "$src" cluster myid); did=$(redis-cli -p "$dst" cluster myid)
  pause
  redis-cli -p "$dst" cluster setslot "$slot" importing "$sid" >/dev/null
  redis-cli -p "$src" cluster setslot "$slot" migrating "$did" >/dev/null
  while keys=$(redis-cli -p "$src" cluster getkeysinslot "$slot" 100) && [ -n "$keys" ]; do
    # shellcheck disable=SC2086
    redis-cli -p "$src" migrate 127.0.0.1 "$dst" "" 0 5000 keys $keys >/dev/null
  done
  resume 0.3   # the key on the destination, the slot still the source's: ASK
  pause
  # The order the cluster specification gives: destination, source, others.
  for p in "$dst" "$src" $SB_CLUSTER_PORTS; do redis-cli -p "$p" cluster setslot "$slot" node "$did" >/dev/null; done
  resume 0.3   # MOVED, then straight to the new owner
  echo "slot $slot: $src -> $dst"
}

export SB_DB_CONNECT_TIMEOUT=5
iters=8000
mpiexec -n 4 "$SB_BIN_DIR/sb-throughput" --mode tensor --tensor-bytes 16K --iterations $iters \
  --out "$SB_TMP/run.h5" > "$SB_TMP/stdout" 2> "$SB_TMP/stderr" &
app=$!
s0=$(redis-cli -p "$p0" cluster keyslot sb:tp:rank0)
s3=$(redis-cli -p "$p0" cluster keyslot sb:tp:rank3)
a=$(sb_cluster_owner "$s0"); b=$(sb_cluster_owner "$s3")
for p in $SB_CLUSTER_PORTS; do [ "$p" != "$a" ] && { a2=$p; break; }; done
for p in $SB_CLUSTER_PORTS; do [ "$p" != "$b" ] && [ "$p" != "$a2" ] && { b2=$p; break; }; done
# Until the app is in its loop (both keys exist), then hold it there.
for _ in $(seq 300); do
  [ "$(redis-cli -p "$a" exists sb:tp:rank0)" = 1 ] && [ "$(redis-cli -p "$b" exists sb:tp:rank3)" = 1 ] && break
  kill -0 $app 2>/dev/null || break
  sleep 0.02
done
pause
[ "$(ranks | wc -w)" = 4 ] || { resume 0; cat "$SB_TMP/stdout" "$SB_TMP/stderr"; sb_fail "the app ended before the slots could move"; }
migrate "$s0" "$a" "$a2"
migrate "$s3" "$b" "$b2"
migrate "$s0" "$a2" "$a"
migrate "$s3" "$b2" "$b"
resume 0
rc=0
wait $app || rc=$?
cat "$SB_TMP/stdout"; cat "$SB_TMP/stderr"
[ $rc = 0 ] || sb_fail "sb-throughput exited $rc while slots moved"
grep -q "^# verification: every byte read back matched" "$SB_TMP/stdout" || sb_fail "verification line"
"$SB_BIN_DIR/h5_expect" "$SB_TMP/run.h5" --status complete --nranks 4 --samples $iters \
  --rank-sum verify_errors=0 --rank-sum 'redirects>=2' || sb_fail "HDF5 file not as expected"
echo "PASS: slots $s0 and $s3 moved there and back during the run"
