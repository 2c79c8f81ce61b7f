# Tensors survive an AOF rewrite without an RDB preamble, which writes each
# tensor as one AI.TENSORSET ... BLOB command (the type's aof_rewrite
# callback), and the reload of that AOF.
set -u
. "$SB_SOURCE_DIR/tests/lib/sbtest.sh"
. "$SB_SOURCE_DIR/tests/module/module_lib.sh"

sb_start_redis --enable-debug-command yes --appendonly yes --aof-use-rdb-preamble no

make_bytes "$SB_TMP/f.bin" $((4 * 2 * 3))
expect_reply OK -x AI.TENSORSET f FLOAT 2 3 BLOB <"$SB_TMP/f.bin"
expect_reply OK AI.TENSORSET v INT64 1 1 2 VALUES -9223372036854775808 42
expect_reply OK AI.TENSORSET z UINT16 4
make_bytes "$SB_TMP/large.bin" $((1024 * 1024))
expect_reply OK -x AI.TENSORSET large UINT8 1024 1024 BLOB <"$SB_TMP/large.bin"
keys="f v z large"
tensor_snapshot "$SB_TMP/before.txt" $keys

aof_rewrite
base=$(ls "$SB_TMP"/appendonlydir/*.base.aof 2>/dev/null | tail -n 1)
[ -n "$base" ] || sb_fail "no base AOF in $SB_TMP/appendonlydir"
grep -aq 'AI.TENSORSET' "$base" || sb_fail "the rewritten AOF holds no AI.TENSORSET command"

# Empty the database and replay the AOF.
expect_reply OK DEBUG LOADAOF
sb_alive
tensor_snapshot "$SB_TMP/after.txt" $keys
same_snapshot "$SB_TMP/before.txt" "$SB_TMP/after.txt" "an AOF rewrite and reload"
blob_equals f "$SB_TMP/f.bin"
blob_equals large "$SB_TMP/large.bin"
expect_reply "$(printf -- '-9223372036854775808\n42')" AI.TENSORGET v VALUES
echo "module_aof_rewrite: OK"
