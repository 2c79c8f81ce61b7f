# Pipelines on a 3-shard cluster (common/sb_cluster.c): one pipeline over
# keys in many slots is split per shard and fully applied; an error reply is
# reported by its command's index while the rest is applied; a slot moved
# since the map was read (MOVED) and a slot in the middle of a migration
# (ASK, keys moved, slot not yet) are followed by the commands that were
# refused, and every key reads back what was written last; a two-key
# command on a half-migrated slot waits out TRYAGAIN.
. "$SB_SOURCE_DIR/tests/lib/sbtest.sh"
. "$SB_SOURCE_DIR/tests/cluster/cluster_lib.sh"
sb_cluster_start 3
set -- $SB_CLUSTER_PORTS
p0=$1
mkfifo "$SB_TMP/in" "$SB_TMP/out"
"$SB_BIN_DIR/cluster_client" "$SSDB" < "$SB_TMP/in" > "$SB_TMP/out" 2>&1 &
client=$!
exec 3> "$SB_TMP/in" 4< "$SB_TMP/out"
step() {
  local reply
  echo "$*" >&3
  read -r -t 30 reply <&4 || sb_fail "no answer to '$*'"
  echo "$*: $reply"
  case $reply in ok*) REPLY=$reply ;; *) sb_fail "$*: $reply" ;; esac
}
redirects() { sed -n 's/.*redirects=\([0-9]*\).*/\1/p' <<< "$REPLY"; }

step shards; [ "$REPLY" = "ok shards=3" ] || sb_fail "the client sees $REPLY"
step put first; [ "$(redirects)" = 0 ] || sb_fail "redirects on a stable cluster"
# The keys spread: every shard holds some.
for p in $SB_CLUSTER_PORTS; do
  [ "$(redis-cli -p "$p" dbsize)" -gt 0 ] || sb_fail "shard $p got none of the pipeline's keys"
done
step err

slot=$(redis-cli -p "$p0" cluster keyslot "{mv}")
src=$(sb_cluster_owner "$slot")
for p in $SB_CLUSTER_PORTS; do [ "$p" != "$src" ] && { dst=$p; break; }; done
sid=$(redis-cli -p "$src" cluster myid); did=$(redis-cli -p "$dst" cluster myid)
move_keys() {
  redis-cli -p "$1" cluster setslot "$slot" importing "$(redis-cli -p "$2" cluster myid)" >/dev/null
  redis-cli -p "$2" cluster setslot "$slot" migrating "$(redis-cli -p "$1" cluster myid)" >/dev/null
  local keys
  while keys=$(redis-cli -p "$2" cluster getkeysinslot "$slot" 100) && [ -n "$keys" ]; do
    # shellcheck disable=SC2086
    redis-cli -p "$2" migrate 127.0.0.1 "$1" "" 0 5000 keys $keys >/dev/null
  done
}
finish() { for p in "$1" "$2" $SB_CLUSTER_PORTS; do redis-cli -p "$p" cluster setslot "$slot" node "$(redis-cli -p "$1" cluster myid)" >/dev/null; done; }

# MOVED: the slot of {mv} moves with its keys; the client's map is stale.
move_keys "$dst" "$src"; finish "$dst" "$src"
step put second
[ "$(redirects)" -ge 1 ] || sb_fail "no MOVED followed after the slot moved"
before=$(redirects)
[ "$(redis-cli -p "$dst" get "{mv}.k0")" = "second:{mv}.k0" ] || sb_fail "{mv}.k0 not on the new owner"

# ASK: keys of {mv} moved back, the slot still the other shard's.
move_keys "$src" "$dst"
step put third
[ "$(redirects)" -gt "$before" ] || sb_fail "no ASK followed during the migration"
finish "$src" "$dst"
step put fourth
for k in "pk:7" "{mv}.k3" "{mv}.k7"; do
  [ "$(redis-cli -c -p "$p0" get "$k")" = "fourth:$k" ] || sb_fail "$k does not hold what was written last"
done

# TRYAGAIN: a two-key DEL while the slot's keys are half migrated; the rest
# of the keys follow a second later, and the DEL goes through.
redis-cli -p "$dst" cluster setslot "$slot" importing "$sid" >/dev/null
redis-cli -p "$src" cluster setslot "$slot" migrating "$did" >/dev/null
redis-cli -p "$src" migrate 127.0.0.1 "$dst" "" 0 5000 keys "{mv}.k0" "{mv}.k1" >/dev/null
( sleep 1
  while keys=$(redis-cli -p "$src" cluster getkeysinslot "$slot" 100) && [ -n "$keys" ]; do
    # shellcheck disable=SC2086
    redis-cli -p "$src" migrate 127.0.0.1 "$dst" "" 0 5000 keys $keys >/dev/null
  done
  finish "$dst" "$src" ) &
mover=$!
t0=$(date +%s%N)
step del
waited=$(( ($(date +%s%N) - t0) / 1000000 ))
wait $mover
echo "DEL answered after $waited ms"
[ "$waited" -ge 500 ] || sb_fail "DEL answered at once: no TRYAGAIN was waited out"
[ "${REPLY%% *}" = ok ] && grep -q "n=2 " <<< "$REPLY" || sb_fail "DEL did not delete both keys: $REPLY"
[ "$(redis-cli -c -p "$p0" exists "{mv}.k0" "{mv}.k5")" = 0 ] || sb_fail "the keys survived the DEL"
exec 3>&-
wait $client || sb_fail "cluster_client exited non-zero"
echo "PASS: pipelines split per shard, errors by index, MOVED and ASK followed"
