# sb-throughput end to end against a 3-shard Redis Cluster on loopback,
# verification on: every rank's key lives on the shard of its slot, no
# redirect is needed, and each shard that owns a rank's key served it.
# Usage: throughput.sh MODE NP
. "$SB_SOURCE_DIR/tests/lib/sbtest.sh"
. "$SB_SOURCE_DIR/tests/cluster/cluster_lib.sh"
mode=$1 np=$2
sb_cluster_start 3
mpiexec -n "$np" "$SB_BIN_DIR/sb-throughput" --mode "$mode" --tensor-bytes 4K --iterations 50 \
  --out "$SB_TMP/run.h5" > "$SB_TMP/stdout" 2> "$SB_TMP/stderr" || {
  cat "$SB_TMP/stdout" "$SB_TMP/stderr"; sb_fail "sb-throughput against the cluster failed"; }
cat "$SB_TMP/stdout"
grep -q "^# verification: every byte read back matched" "$SB_TMP/stdout" || sb_fail "verification line"
"$SB_BIN_DIR/h5_expect" "$SB_TMP/run.h5" --status complete --nranks "$np" --samples 50 \
  --rank-sum verify_errors=0 --rank-sum redirects=0 --rank-sum iterations_completed=$((50 * np)) ||
  sb_fail "HDF5 file not as expected"
# Each rank's commands went to the shard that owns its key.
[ "$mode" = tensor ] && cmd=ai.tensorset || cmd=set
want=""
for r in $(seq 0 $((np - 1))); do
  want="$want $(sb_cluster_owner "$(redis-cli -p ${SB_CLUSTER_PORTS%% *} cluster keyslot sb:tp:rank$r 2>/dev/null || true)")"
done
for p in $SB_CLUSTER_PORTS; do
  calls=$(sb_cluster_calls "$p" "$cmd")
  expected=0
  for w in $want; do [ "$w" = "$p" ] && expected=$((expected + 51)); done
  echo "shard $p: $calls $cmd calls, expected $expected"
  [ "$calls" = "$expected" ] || sb_fail "shard $p served $calls $cmd, expected $expected"
done
echo "PASS: $np ranks, $mode mode, 3 shards"
