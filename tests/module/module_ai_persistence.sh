# Models and scripts survive an RDB save and load (DEBUG RELOAD), an AOF
# rewrite without RDB preamble and its reload (AI.MODELSTORE / AI.SCRIPTSET /
# AI.SCRIPTSTORE commands), and reach a replica both by the full sync and by
# the command stream; run outputs reach the replica as AI.TENSORSET.
set -u
. "$SB_SOURCE_DIR/tests/lib/sbtest.sh"
. "$SB_SOURCE_DIR/tests/module/module_lib.sh"

sb_start_redis --enable-debug-command yes --appendonly yes --aof-use-rdb-preamble no \
  --repl-diskless-sync-delay 0
MODEL=$SB_TMP/tiny.safetensors
need_tiny_model "$MODEL"
SRC=$'import torch\n\ndef pre_process_3ch(image):\n    return image\n\ndef other(x):\n    return x\n'

expect_reply OK -x AI.MODELSTORE m1 SBRESNET CPU TAG "tag with spaces" BATCHSIZE 4 MINBATCHSIZE 2 \
  MINBATCHTIMEOUT 10 INPUTS 1 image OUTPUTS 1 logits BLOB <"$MODEL"
expect_reply OK -x AI.MODELSTORE m2 TORCH CPU BLOB <"$MODEL"
expect_reply OK AI.SCRIPTSET s1 CPU TAG v1 SOURCE "$SRC"
expect_reply OK AI.SCRIPTSTORE s2 CPU ENTRY_POINTS 1 pre_process_3ch SOURCE "$SRC"
"$SB_CHECK" image 1 32 32 9 "$SB_TMP/img.bin" || sb_fail "cannot make images"
expect_reply OK -x AI.TENSORSET img FLOAT 1 32 32 3 BLOB <"$SB_TMP/img.bin"

snapshot() { # FILE: what a reload must keep
  local k
  for k in m1 m2; do
    echo "$k $(sb_cli AI.MODELGET "$k" META | tr '\n' ' ') $(sb_cli DEBUG DIGEST-VALUE "$k")"
  done
  for k in s1 s2; do
    echo "$k $(sb_cli AI.SCRIPTGET "$k" | tr '\n' ' ') $(sb_cli DEBUG DIGEST-VALUE "$k")"
  done
  sb_cli DEBUG DIGEST
} >"$1"
works() { # WHAT: the reloaded model and scripts run and give the right output
  local s
  for s in s1 s2; do
    expect_reply OK AI.SCRIPTEXECUTE "$s" pre_process_3ch INPUTS 1 img OUTPUTS 1 "pre_$s"
  done
  expect_reply OK AI.MODELEXECUTE m1 INPUTS 1 pre_s1 OUTPUTS 1 out1
  expect_reply OK AI.MODELRUN m2 INPUTS pre_s2 OUTPUTS out2
  run_forward_check "$MODEL" pre_s1 1 32 32 out1
  run_forward_check "$MODEL" pre_s2 1 32 32 out2
  sb_cli AI.MODELGET m1 BLOB >"$SB_TMP/blob.bin"
  truncate -s -1 "$SB_TMP/blob.bin"
  cmp -s "$SB_TMP/blob.bin" "$MODEL" || sb_fail "model blob differs after $1"
}
works "storing"
snapshot "$SB_TMP/before.txt"
grep -q "^m1 backend SBRESNET device CPU tag tag with spaces batchsize 4 minbatchsize 2 inputs image outputs logits minbatchtimeout 10 " \
  "$SB_TMP/before.txt" || sb_fail "unexpected META: $(head -n 1 "$SB_TMP/before.txt")"

# ---- RDB: DEBUG RELOAD ------------------------------------------------------------------------
expect_reply OK DEBUG RELOAD
sb_alive
snapshot "$SB_TMP/after_reload.txt"
cmp -s "$SB_TMP/before.txt" "$SB_TMP/after_reload.txt" ||
  sb_fail "models/scripts differ after DEBUG RELOAD: $(diff "$SB_TMP/before.txt" "$SB_TMP/after_reload.txt" | head -n 4)"
works "DEBUG RELOAD"

# ---- AOF rewrite and reload ---------------------------------------------------------------------
aof_rewrite
base=$(ls "$SB_TMP"/appendonlydir/*.base.aof 2>/dev/null | tail -n 1)
[ -n "$base" ] || sb_fail "no base AOF"
for c in AI.MODELSTORE AI.SCRIPTSET AI.SCRIPTSTORE; do
  grep -aq "$c" "$base" || sb_fail "the rewritten AOF has no $c"
done
expect_reply OK DEBUG LOADAOF
sb_alive
snapshot "$SB_TMP/after_aof.txt"
cmp -s "$SB_TMP/before.txt" "$SB_TMP/after_aof.txt" ||
  sb_fail "models/scripts differ after the AOF reload: $(diff "$SB_TMP/before.txt" "$SB_TMP/after_aof.txt" | head -n 4)"
works "the AOF reload"

# ---- replication: full sync, then the command stream ----------------------------------------------
REPLICA_PORT=$(sb_free_port) || sb_skip "no free port"
mkdir -p "$SB_TMP/replica"
"$SB_REDIS_SERVER" --port "$REPLICA_PORT" --bind 127.0.0.1 --save '' --appendonly no \
  --protected-mode no --dir "$SB_TMP/replica" --logfile "$SB_TMP/replica/redis.log" \
  --daemonize no --replicaof 127.0.0.1 "$SB_PORT" --loadmodule "$SB_MODULE" &
SB_CLEANUP_PIDS="$SB_CLEANUP_PIDS $!"
replica() { "$SB_REDIS_CLI" -p "$REPLICA_PORT" "$@"; }
for _ in $(seq 200); do
  replica INFO replication 2>/dev/null | tr -d '\r' | grep -q '^master_link_status:up' && break
  sleep 0.05
done
replica INFO replication | tr -d '\r' | grep -q '^master_link_status:up' ||
  sb_fail "replica did not sync: $(tail -n 5 "$SB_TMP/replica/redis.log")"
[ "$(replica AI.MODELGET m1 META | tr '\n' ' ')" = "$(sb_cli AI.MODELGET m1 META | tr '\n' ' ')" ] ||
  sb_fail "replica's model after the full sync: $(replica AI.MODELGET m1 META | tr '\n' ' ')"
[ "$(replica AI.SCRIPTGET s2 | tr '\n' ' ')" = "$(sb_cli AI.SCRIPTGET s2 | tr '\n' ' ')" ] ||
  sb_fail "replica's script after the full sync"

# After the sync: a new model and script, and run outputs (replicated as
# AI.TENSORSET, so the replica never runs a model itself).
expect_reply OK -x AI.MODELSTORE m3 SBRESNET CPU TAG streamed BLOB <"$MODEL"
expect_reply OK AI.SCRIPTSET s3 CPU SOURCE "$SRC"
expect_reply OK AI.SCRIPTEXECUTE s3 pre_process_3ch INPUTS 1 img OUTPUTS 1 rpre
expect_reply OK AI.MODELEXECUTE m3 INPUTS 1 rpre OUTPUTS 1 rout
[ "$(sb_cli WAIT 1 5000)" = 1 ] || sb_fail "the replica did not acknowledge the writes"
for _ in $(seq 100); do
  replica EXISTS rout 2>/dev/null | grep -q '^1$' && break
  sleep 0.05
done
for k in rpre rout; do
  get_blob "$k" "$SB_TMP/master_$k.bin"
  replica AI.TENSORGET "$k" BLOB >"$SB_TMP/replica_$k.bin"
  truncate -s -1 "$SB_TMP/replica_$k.bin"
  cmp -s "$SB_TMP/master_$k.bin" "$SB_TMP/replica_$k.bin" || sb_fail "replica's $k differs"
done
[ "$(replica AI.MODELGET m3 META | sed -n 6p)" = streamed ] ||
  sb_fail "AI.MODELSTORE did not reach the replica: $(replica AI.MODELGET m3 META | tr '\n' ' ')"
replica AI.SCRIPTGET s3 META >/dev/null 2>&1 || sb_fail "AI.SCRIPTSET did not reach the replica"
# The replica loaded the same bytes.
replica AI.MODELGET m3 BLOB >"$SB_TMP/replica_m3.bin"
truncate -s -1 "$SB_TMP/replica_m3.bin"
cmp -s "$SB_TMP/replica_m3.bin" "$MODEL" || sb_fail "replica's model blob differs"
# Deletes travel too.
expect_reply OK AI.MODELDEL m3
expect_reply OK AI.SCRIPTDEL s3
[ "$(sb_cli WAIT 1 5000)" = 1 ] || sb_fail "the replica did not acknowledge the deletes"
for _ in $(seq 100); do
  [ "$(replica EXISTS m3 s3)" = 0 ] && break
  sleep 0.05
done
[ "$(replica EXISTS m3 s3)" = 0 ] || sb_fail "AI.MODELDEL / AI.SCRIPTDEL did not reach the replica"
sb_alive
echo "module_ai_persistence: OK"
