# sb-inference (tiny model, 3 ranks, verification on every iteration) end to
# end against a 3-shard Redis Cluster: every shard holds a copy of model and
# script, each rank's tensors share its copy's hash tag, so run_script and
# run_model never need a key from another shard (no CROSSSLOT, no tensor
# copied through the client), and every shard runs models.
. "$SB_SOURCE_DIR/tests/lib/sbtest.sh"
. "$SB_SOURCE_DIR/tests/cluster/cluster_lib.sh"
sb_cluster_start 3
export SB_DB_CONNECT_TIMEOUT=5
iters=4
bash "$SB_FE" run inference -n 3 --model tiny --batch-size 2 --iterations $iters --warmup 1 \
  --verify-every 1 --out "$SB_TMP/inf.h5" > "$SB_TMP/stdout" 2> "$SB_TMP/stderr" ||
  { cat "$SB_TMP/stdout" "$SB_TMP/stderr"; sb_fail "sb-inference failed on the cluster"; }
cat "$SB_TMP/stdout"
grep -q "^# verification: sampled logits matched" "$SB_TMP/stdout" || sb_fail "verification line"
"$SB_BIN_DIR/h5_expect" "$SB_TMP/inf.h5" --status complete --nranks 3 --samples $iters \
  --rank-sum verify_errors=0 --rank-sum redirects=0 --param model-copies=3 \
  --phase run_model || sb_fail "inf.h5"
for p in $SB_CLUSTER_PORTS; do
  m=$(sb_cluster_calls "$p" ai.modelexecute)
  s=$(sb_cluster_calls "$p" ai.modelstore)
  echo "shard $p: $s AI.MODELSTORE, $m AI.MODELEXECUTE"
  [ "$s" -ge 1 ] || sb_fail "shard $p holds no model copy"
  # 1 warm-up + $iters iterations of the one rank using this shard's copy.
  [ "$m" = $((iters + 1)) ] || sb_fail "shard $p ran $m models, expected $((iters + 1))"
  # Only the model and script copies stay.
  [ "$(redis-cli -p "$p" dbsize)" = 2 ] || sb_fail "shard $p holds $(redis-cli -p "$p" keys '*' | tr '\n' ' ')"
done
echo "PASS: sb-inference on 3 shards"
