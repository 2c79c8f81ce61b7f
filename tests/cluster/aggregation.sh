# The aggregation pair (3 producer ranks, one consumer with 2 fetch threads)
# end to end against a 3-shard Redis Cluster: datasets are hash-tagged, so
# each lives on one shard, and they spread over the shards; every tensor is
# verified by the consumer.
. "$SB_SOURCE_DIR/tests/lib/sbtest.sh"
. "$SB_SOURCE_DIR/tests/cluster/cluster_lib.sh"
sb_cluster_start 3
export SB_DB_CONNECT_TIMEOUT=5
bash "$SB_FE" run aggregation -n 3 --client-threads 2 --tensor-bytes 4K --tensors-per-dataset 2 \
  --iterations 10 --timeout 30 --consume-timeout 30 --out-dir "$SB_TMP/agg" \
  > "$SB_TMP/stdout" 2> "$SB_TMP/stderr" || { cat "$SB_TMP/stdout" "$SB_TMP/stderr"; sb_fail "aggregation pair failed"; }
cat "$SB_TMP/stdout"
[ "$(grep -c '^# status: complete' "$SB_TMP/stdout")" = 2 ] || sb_fail "both sides must say complete"
grep -q "^# verification: every tensor of every dataset matched" "$SB_TMP/stdout" || sb_fail "consumer verification line"
"$SB_BIN_DIR/h5_expect" "$SB_TMP/agg/consumer.h5" --status complete --rank-sum verify_errors=0 \
  --rank-sum redirects=0 --phase get_list || sb_fail "consumer.h5"
"$SB_BIN_DIR/h5_expect" "$SB_TMP/agg/producer.h5" --status complete --nranks 3 --rank-sum redirects=0 \
  --phase put_dataset || sb_fail "producer.h5"
# 3 producers x 11 iterations x 2 tensors were written, spread over the shards.
total=0 used=0
for p in $SB_CLUSTER_PORTS; do
  c=$(sb_cluster_calls "$p" ai.tensorset)
  echo "shard $p: $c AI.TENSORSET"
  total=$((total + c)); [ "$c" -gt 0 ] && used=$((used + 1))
done
[ $total = 66 ] || sb_fail "$total AI.TENSORSET in all, expected 66"
[ $used -ge 2 ] || sb_fail "the datasets did not spread over the shards ($used used)"
# Nothing left behind: the consumer deleted every list and dataset.
for p in $SB_CLUSTER_PORTS; do
  [ "$(redis-cli -p "$p" dbsize)" = 0 ] || sb_fail "shard $p still holds $(redis-cli -p "$p" dbsize) keys"
done
echo "PASS: aggregation pair on 3 shards"
