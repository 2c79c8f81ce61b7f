# The client's hash slot (sb_key_slot) of 2000 random keys and of the hash
# tag corner cases, against CLUSTER KEYSLOT of a real cluster-enabled
# redis-server.
. "$SB_SOURCE_DIR/tests/lib/sbtest.sh"
sb_start_redis --cluster-enabled yes --cluster-config-file "$SB_TMP/nodes.conf"
keys=$SB_TMP/keys
cat > "$keys" <<'KEYS'
123456789
{user1000}.following
{user1000}.followers
foo{}{bar}
foo{{bar}}zap
foo{bar}{zap}
{a
a}b{
{}
{
}
{}x
x{}
{{}}
sb:tp:rank0
{agg_r0_i3}.meta
{agg_r0_i3}.t0
iteration_7
KEYS
# Random keys over an alphabet with braces, so tags appear in all positions.
awk 'BEGIN { srand(20261123); a = "abcdefghijklmnopqrstuvwxyz0123456789{}:._-{}";
  for (k = 0; k < 2000; k++) { n = 1 + int(rand() * 24); s = "";
    for (i = 0; i < n; i++) s = s substr(a, 1 + int(rand() * length(a)), 1); print s } }' >> "$keys"
"$SB_BIN_DIR/sb_keyslot" < "$keys" > "$SB_TMP/ours"
sed 's/^/CLUSTER KEYSLOT /' "$keys" | sb_cli > "$SB_TMP/server"
[ "$(wc -l < "$SB_TMP/server")" = "$(wc -l < "$keys")" ] || { head "$SB_TMP/server"; sb_fail "redis-cli answered $(wc -l < "$SB_TMP/server") of $(wc -l < "$keys") keys"; }
if ! diff "$SB_TMP/ours" "$SB_TMP/server" > "$SB_TMP/diff"; then
  paste "$keys" "$SB_TMP/ours" "$SB_TMP/server" | awk '$2 != $3' | head >&2
  sb_fail "$(grep -c '^<' "$SB_TMP/diff") key(s) hash to another slot than CLUSTER KEYSLOT says"
fi
[ "$(head -1 "$SB_TMP/ours")" = 12739 ] || sb_fail "slot of 123456789 is not 12739"
echo "PASS: $(wc -l < "$keys") keys, same slots as CLUSTER KEYSLOT"
