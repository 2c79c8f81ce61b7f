# A cluster that requires a password: the client authenticates the seed and
# every shard connection it opens later with the same credentials
# (SB_DB_PASSWORD, and an ACL user), and a wrong password is refused with
# an error naming the user, not retried. The servers are started by hand
# (requirepass is not a `stagebench db start` option).
. "$SB_SOURCE_DIR/tests/lib/sbtest.sh"
. "$SB_SOURCE_DIR/tests/cluster/cluster_lib.sh"
sb_cluster_require
base=$(sb_cluster_ports 3) || sb_skip "no free ports"
pw=s3cret-$RANDOM
addrs=()
for k in 0 1 2; do
  p=$((base + k))
  mkdir -p "$SB_TMP/n$p"
  redis-server --port "$p" --bind 127.0.0.1 --cluster-enabled yes \
    --cluster-config-file "$SB_TMP/n$p/nodes.conf" --cluster-node-timeout 2000 \
    --requirepass "$pw" --masterauth "$pw" --save '' --appendonly no --protected-mode no \
    --dir "$SB_TMP/n$p" --logfile "$SB_TMP/n$p/log" --loadmodule "$SB_MODULE" &
  SB_CLEANUP_PIDS="$SB_CLEANUP_PIDS $!"
  addrs+=("127.0.0.1:$p")
done
for k in 0 1 2; do
  for _ in $(seq 100); do [ "$(redis-cli -a "$pw" --no-auth-warning -p $((base + k)) ping 2>/dev/null)" = PONG ] && break; sleep 0.05; done
done
redis-cli -a "$pw" --no-auth-warning --cluster create "${addrs[@]}" --cluster-replicas 0 --cluster-yes >/dev/null ||
  sb_fail "cluster create with a password"
for _ in $(seq 100); do
  ok=0
  for a in "${addrs[@]}"; do
    redis-cli -a "$pw" --no-auth-warning -p "${a##*:}" cluster info | tr -d '\r' | grep -q '^cluster_state:ok' && ok=$((ok + 1))
  done
  [ $ok = 3 ] && break; sleep 0.1
done
[ $ok = 3 ] || sb_fail "cluster not ok"
# An ACL user on every node.
for a in "${addrs[@]}"; do
  redis-cli -a "$pw" --no-auth-warning -p "${a##*:}" acl setuser stager on ">u$pw" '~*' '+@all' >/dev/null
done
ssdb="tcp://${addrs[0]}"

SB_DB_PASSWORD=$pw mpiexec -n 4 "$SB_BIN_DIR/sb-throughput" --db "$ssdb" --mode tensor \
  --tensor-bytes 1K --iterations 20 --out "$SB_TMP/a.h5" > "$SB_TMP/out" 2>&1 ||
  { cat "$SB_TMP/out"; sb_fail "sb-throughput with SB_DB_PASSWORD"; }
SB_DB_USER=stager SB_DB_PASSWORD=u$pw mpiexec -n 4 "$SB_BIN_DIR/sb-throughput" --db "$ssdb" \
  --mode raw --tensor-bytes 1K --iterations 20 > "$SB_TMP/out" 2>&1 ||
  { cat "$SB_TMP/out"; sb_fail "sb-throughput as ACL user stager"; }
# Each shard served commands: every shard connection authenticated.
for a in "${addrs[@]}"; do
  c=$(redis-cli -a "$pw" --no-auth-warning -p "${a##*:}" info commandstats | tr -d '\r' |
      awk -F'[=,:]' 'tolower($1) == "cmdstat_ai.tensorset" { print $3 }')
  [ "${c:-0}" -gt 0 ] || sb_fail "shard ${a##*:} served no AI.TENSORSET"
done
SB_DB_PASSWORD=wrong SB_DB_CONNECT_TIMEOUT=2 mpiexec -n 1 "$SB_BIN_DIR/sb-throughput" --db "$ssdb" \
  --iterations 2 > "$SB_TMP/out" 2>&1 && sb_fail "a wrong password was accepted"
grep -q "authentication failed for user 'default'" "$SB_TMP/out" || { cat "$SB_TMP/out"; sb_fail "the refusal does not say why"; }
echo "PASS: password and ACL user on every shard connection"
