# The load-time limits (MAX_TENSOR_BYTES, MAX_TENSOR_RANK, MAX_BATCH) are for clients,
# not for data the dataset already holds: tensors stored under higher limits
# (and a model's batching, bounded by MAX_BATCH) come back after a restart
# with lower ones, whether from the AOF's commands
# (the incr file, and a rewrite without RDB preamble, both replayed as
# AI.TENSORSET) or over replication to a replica with lower limits; new
# client writes over the limits are still refused. (Before the fix, the AOF
# replay refused them silently and the tensors were gone.)
set -u
. "$SB_SOURCE_DIR/tests/lib/sbtest.sh"
. "$SB_SOURCE_DIR/tests/module/module_lib.sh"

aof=(--enable-debug-command yes --appendonly yes --aof-use-rdb-preamble no)
sb_start_redis "${aof[@]}"
make_bytes "$SB_TMP/big.bin" 2048
expect_reply OK -x AI.TENSORSET big UINT8 2048 BLOB <"$SB_TMP/big.bin"
expect_reply OK -x AI.TENSORSET deep UINT8 2 2 2 2 2 2 2 16 BLOB <"$SB_TMP/big.bin"
expect_reply OK AI.TENSORSET small FLOAT 2 VALUES 1 2
MODEL=$SB_TMP/tiny.safetensors
need_tiny_model "$MODEL"
tensor_snapshot "$SB_TMP/before.txt" big deep small
expect_reply OK -x AI.MODELSTORE m SBRESNET CPU BATCHSIZE 8 MINBATCHSIZE 6 BLOB <"$MODEL"
sb_cli SHUTDOWN >/dev/null 2>&1
for _ in $(seq 100); do kill -0 "$SB_PID" 2>/dev/null || break; sleep 0.05; done
kill -0 "$SB_PID" 2>/dev/null && sb_fail "the first server did not shut down"

# 1. Restart with lower limits: the incr AOF is replayed.
sb_start_redis MAX_TENSOR_BYTES 1K MAX_TENSOR_RANK 4 MAX_BATCH 4 "${aof[@]}"
[ "$(sb_cli AI.CONFIG GET MAX_TENSOR_BYTES)" = 1024 ] || sb_fail "MAX_TENSOR_BYTES is not 1K"
meta=$(sb_cli AI.MODELGET m META 2>&1 | tr '\n' ' ')
case "$meta" in
  *"batchsize 4 minbatchsize 4 "*) echo "model m (BATCHSIZE 8) restored under MAX_BATCH 4: $meta" ;;
  *) sb_fail "model m after the replay under MAX_BATCH 4: $meta" ;;
esac
out=$(sb_cli -x AI.MODELSTORE m2 SBRESNET CPU BATCHSIZE 8 BLOB <"$MODEL" 2>&1)
echo "$out" | grep -q MAX_BATCH || sb_fail "a client's BATCHSIZE 8 was not refused: $out"
expect_reply 1 DEL m   # the digests below compare the tensors
tensor_snapshot "$SB_TMP/after1.txt" big deep small
same_snapshot "$SB_TMP/before.txt" "$SB_TMP/after1.txt" "the AOF replayed under lower limits"
blob_equals big "$SB_TMP/big.bin"
echo "incr AOF under MAX_TENSOR_BYTES 1K / MAX_TENSOR_RANK 4: big (2 KiB) and deep (rank 8) restored"

# Clients are still held to the limits.
out=$(sb_cli -x AI.TENSORSET big2 UINT8 2048 BLOB <"$SB_TMP/big.bin" 2>&1)
echo "$out" | grep -q MAX_TENSOR_BYTES || sb_fail "a client's 2 KiB tensor was not refused: $out"
out=$(sb_cli AI.TENSORSET deep2 UINT8 1 1 1 1 1 2>&1)
echo "$out" | grep -qi "rank\|dimensions" || sb_fail "a client's rank-5 tensor was not refused: $out"

# 2. A rewrite writes each tensor as AI.TENSORSET; its replay restores them.
aof_rewrite
expect_reply OK DEBUG LOADAOF
tensor_snapshot "$SB_TMP/after2.txt" big deep small
same_snapshot "$SB_TMP/before.txt" "$SB_TMP/after2.txt" "a rewritten AOF replayed under lower limits"
echo "rewritten AOF under the same lower limits: restored"

# 3. Replication: a replica with lower limits applies what its primary
# accepted (the command arrives over the link after the first sync).
sb_start_redis
primary=$SB_PORT
sb_start_redis MAX_TENSOR_BYTES 1K
replica=$SB_PORT
expect_reply OK REPLICAOF 127.0.0.1 "$primary"
for _ in $(seq 200); do
  sb_cli INFO replication | tr -d '\r' | grep -q '^master_link_status:up' && break
  sleep 0.05
done
sb_cli INFO replication | tr -d '\r' | grep -q '^master_link_status:up' ||
  sb_fail "the replica did not connect to its primary"
SB_PORT=$primary
expect_reply OK -x AI.TENSORSET fresh UINT8 2048 BLOB <"$SB_TMP/big.bin"
[ "$(sb_cli WAIT 1 5000)" = 1 ] || sb_fail "the replica did not acknowledge the write"
SB_PORT=$replica
# WAIT's acknowledgement can come before a 7.0 replica has applied what it
# buffered during the first sync (as in module_replication.sh): poll.
for _ in $(seq 100); do [ "$(sb_cli EXISTS fresh)" = 1 ] && break; sleep 0.05; done
blob_equals fresh "$SB_TMP/big.bin"
out=$(sb_cli -x AI.TENSORSET mine UINT8 2048 BLOB <"$SB_TMP/big.bin" 2>&1)
echo "$out" | grep -q -e READONLY -e MAX_TENSOR_BYTES || sb_fail "a client write on the replica: $out"
echo "replica with MAX_TENSOR_BYTES 1K: the primary's 2 KiB tensor replicated"
sb_alive
SB_PORT=$primary
sb_alive
echo PASS
