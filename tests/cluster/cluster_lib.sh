# Shared by the cluster tests: a Redis Cluster of N shards on loopback,
# started and stopped through the front end (`stagebench db start --nodes N`)
# with its state in the test's private directory. Source after
# tests/lib/sbtest.sh.
#   sb_cluster_start N [db start options]   sets SSDB, SB_CLUSTER_PORTS (one per
#                                           shard, in slot order) and
#                                           SB_CLUSTER_PIDS; skips (77) when
#                                           redis-cli has no --cluster
#   sb_cluster_owner SLOT                   the port of the shard serving SLOT
#   sb_cluster_calls PORT CMD               calls of CMD (e.g. ai.tensorset) on a shard
# The cluster is stopped on exit (`stagebench db stop`), before the
# temporary directory goes.

SB_FE=$SB_SOURCE_DIR/apps/stagebench/stagebench
export SB_BUILD=$(dirname "$SB_BIN_DIR") SB_STATE=$SB_TMP/state

sb_cluster_stop() { [ -f "$SB_STATE/db.nodes" ] && bash "$SB_FE" db stop >&2 || true; }
trap 'sb_cluster_stop; sb_cleanup' EXIT

sb_cluster_require() {
  command -v redis-server >/dev/null 2>&1 || sb_skip "redis-server not found"
  command -v redis-cli >/dev/null 2>&1 || sb_skip "redis-cli not found"
  grep -q "create" <<< "$(redis-cli --cluster help 2>&1 || true)" ||
    sb_skip "redis-cli has no --cluster (Redis >= 5 needed to form a cluster)"
  [ -n "${SB_MODULE:-}" ] && [ -f "$SB_MODULE" ] || sb_fail "SB_MODULE not set or missing: ${SB_MODULE:-}"
}

# A first port P with P..P+N-1 and the bus ports P+10000.. free, below the
# ephemeral range (as sb_free_port).
sb_cluster_ports() {
  local n=$1 p k ok
  for _ in $(seq 100); do
    p=$((10000 + RANDOM % 12000))
    ok=1
    for k in $(seq 0 $((n - 1))); do
      for q in $((p + k)) $((p + k + 10000)); do
        if grep -q "$(printf ':%04X ' "$q")" /proc/net/tcp /proc/net/tcp6 2>/dev/null ||
           (exec 3<>"/dev/tcp/127.0.0.1/$q") 2>/dev/null; then ok=0; fi
      done
    done
    [ $ok = 1 ] && { echo "$p"; return 0; }
  done
  return 1
}

sb_cluster_start() {
  local n=$1 base out attempt; shift
  sb_cluster_require
  for attempt in 1 2 3; do
    base=$(sb_cluster_ports "$n") || sb_skip "no $n free consecutive ports"
    if out=$(bash "$SB_FE" db start --nodes "$n" --port "$base" "$@" 2>"$SB_TMP/db_start.err"); then
      break
    fi
    cat "$SB_TMP/db_start.err" >&2
    grep -q "in use\|Address already in use" "$SB_TMP/db_start.err" "$SB_STATE"/*.log 2>/dev/null || sb_fail "stagebench db start --nodes $n failed"
    out=""
  done
  [ -n "$out" ] || sb_skip "could not start a cluster (ports taken)"
  SSDB=${out#export SSDB=}
  export SSDB
  SB_CLUSTER_PORTS=""
  SB_CLUSTER_PIDS=""
  while read -r addr pid _; do
    SB_CLUSTER_PORTS="$SB_CLUSTER_PORTS ${addr##*:}"
    SB_CLUSTER_PIDS="$SB_CLUSTER_PIDS $pid"
  done < "$SB_STATE/db.nodes"
  SB_CLUSTER_PORTS=${SB_CLUSTER_PORTS# } SB_CLUSTER_PIDS=${SB_CLUSTER_PIDS# }
  echo "cluster: $SSDB (pids $SB_CLUSTER_PIDS)"
}

sb_cluster_owner() {
  local slot=$1 p
  set -- $SB_CLUSTER_PORTS
  p=$1
  redis-cli -p "$p" cluster nodes | awk -v s="$slot" '
    { for (i = 9; i <= NF; i++) { n = split($i, r, "-"); lo = r[1]; hi = (n > 1) ? r[2] : r[1];
        if ($i !~ /^\[/ && s + 0 >= lo + 0 && s + 0 <= hi + 0) { split($2, a, "@"); split(a[1], b, ":"); print b[2]; exit } } }'
}

sb_cluster_calls() {
  redis-cli -p "$1" info commandstats | tr -d '\r' |
    awk -F'[=,:]' -v c="cmdstat_$2" 'tolower($1) == tolower(c) { print $3; f = 1 } END { if (!f) print 0 }'
}
