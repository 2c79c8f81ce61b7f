# A replica with the module receives tensors both through the initial full
# sync (RDB) and through the command stream (AI.TENSORSET is replicated
# verbatim), byte for byte.
set -u
. "$SB_SOURCE_DIR/tests/lib/sbtest.sh"
. "$SB_SOURCE_DIR/tests/module/module_lib.sh"

# No 5 s diskless-sync delay (the Redis 7 default) before the full sync.
sb_start_redis --repl-diskless-sync-delay 0
MASTER_PORT=$SB_PORT
make_bytes "$SB_TMP/before_sync.bin" 4096
expect_reply OK -x AI.TENSORSET synced INT32 32 32 BLOB <"$SB_TMP/before_sync.bin"

# The replica: a second server, its own port and directory.
REPLICA_PORT=$(sb_free_port) || sb_skip "no free port"
mkdir -p "$SB_TMP/replica"
"$SB_REDIS_SERVER" --port "$REPLICA_PORT" --bind 127.0.0.1 --save '' --appendonly no \
  --protected-mode no --dir "$SB_TMP/replica" --logfile "$SB_TMP/replica/redis.log" \
  --daemonize no --replicaof 127.0.0.1 "$MASTER_PORT" --loadmodule "$SB_MODULE" &
REPLICA_PID=$!
SB_CLEANUP_PIDS="$SB_CLEANUP_PIDS $REPLICA_PID"
replica() { "$SB_REDIS_CLI" -p "$REPLICA_PORT" "$@"; }

for _ in $(seq 200); do
  replica INFO replication 2>/dev/null | tr -d '\r' | grep -q '^master_link_status:up' && break
  kill -0 "$REPLICA_PID" 2>/dev/null || { cat "$SB_TMP/replica/redis.log" >&2; sb_fail "replica died"; }
  sleep 0.05
done
replica INFO replication | tr -d '\r' | grep -q '^master_link_status:up' ||
  sb_fail "replica did not sync: $(tail -n 5 "$SB_TMP/replica/redis.log")"

# What the master held before the replica connected came by RDB.
out=$SB_TMP/replica_blob.bin
replica AI.TENSORGET synced BLOB >"$out"
truncate -s -1 "$out"
cmp -s "$out" "$SB_TMP/before_sync.bin" || sb_fail "replica's tensor from the full sync differs"

# Writes after the sync travel as commands.
make_bytes "$SB_TMP/after_sync.bin" 65536
expect_reply OK -x AI.TENSORSET streamed UINT8 256 256 BLOB <"$SB_TMP/after_sync.bin"
expect_reply OK AI.TENSORSET vals FLOAT 2 VALUES 0.5 -8
expect_reply OK AI.TENSORSET synced UINT16 2 VALUES 1 65535
# WAIT alone is not enough: right after a diskless full sync, Redis 7.0 can
# count the replica's acknowledgement of the RDB before it has applied the
# writes buffered during the transfer. So also wait (bounded) until the last
# write is visible on the replica.
[ "$(sb_cli WAIT 1 5000)" = 1 ] || sb_fail "the replica did not acknowledge the writes"
for _ in $(seq 100); do
  replica AI.TENSORGET synced META 2>/dev/null | grep -q '^UINT16$' && break
  sleep 0.05
done

replica AI.TENSORGET streamed BLOB >"$out"
truncate -s -1 "$out"
cmp -s "$out" "$SB_TMP/after_sync.bin" || {
  cmp "$out" "$SB_TMP/after_sync.bin" >&2
  sb_fail "replica's streamed tensor differs ($(replica AI.TENSORGET streamed META | tr '\n' ' '))"
}
[ "$(replica AI.TENSORGET vals)" = "$(printf 'dtype\nFLOAT\nshape\n2\nvalues\n0.5\n-8')" ] ||
  sb_fail "replica's VALUES tensor: $(replica AI.TENSORGET vals)"
[ "$(replica AI.TENSORGET synced)" = "$(printf 'dtype\nUINT16\nshape\n2\nvalues\n1\n65535')" ] ||
  sb_fail "replica's overwritten tensor: $(replica AI.TENSORGET synced)"
# Replicas refuse writes from clients, but serve AI.TENSORGET (readonly).
case "$(replica AI.TENSORSET x FLOAT 1 2>&1)" in
  READONLY*) ;;
  *) sb_fail "replica accepted AI.TENSORSET from a client" ;;
esac
sb_alive
echo "module_replication: OK"
