# Tensors survive an RDB save and load: DEBUG RELOAD (save, flush, load) and a
# restart of the server from its dump file give back the same dtype, shape and
# bytes, and the same DEBUG DIGEST.
set -u
. "$SB_SOURCE_DIR/tests/lib/sbtest.sh"
. "$SB_SOURCE_DIR/tests/module/module_lib.sh"

sb_start_redis --enable-debug-command yes

# One tensor per dtype from BLOB (held zero-copy), one from VALUES (owned), one
# of zeros, and a large one.
declare -A SIZE=([FLOAT]=4 [DOUBLE]=8 [INT8]=1 [INT16]=2 [INT32]=4 [INT64]=8 [UINT8]=1
  [UINT16]=2 [BOOL]=1)
for t in "${!SIZE[@]}"; do
  make_bytes "$SB_TMP/$t.bin" $((2 * 3 * 5 * SIZE[$t]))
  expect_reply OK -x AI.TENSORSET "blob:$t" "$t" 2 3 5 BLOB <"$SB_TMP/$t.bin"
done
expect_reply OK AI.TENSORSET vals INT16 2 2 VALUES -32768 32767 0 7
expect_reply OK AI.TENSORSET zeros DOUBLE 3
make_bytes "$SB_TMP/large.bin" $((4 * 1024 * 1024))
expect_reply OK -x AI.TENSORSET large FLOAT 1024 1024 BLOB <"$SB_TMP/large.bin"
expect_reply OK SET plain "not a tensor"

keys=$(printf 'blob:%s\n' "${!SIZE[@]}"; printf '%s\n' vals zeros large)
snapshot() { tensor_snapshot "$1" $keys; }
check_bytes() {
  local t
  for t in "${!SIZE[@]}"; do blob_equals "blob:$t" "$SB_TMP/$t.bin"; done
  blob_equals large "$SB_TMP/large.bin"
  expect_reply "$(printf 'dtype\nINT16\nshape\n2\n2\nvalues\n-32768\n32767\n0\n7')" \
    AI.TENSORGET vals
  expect_reply "$(printf '0\n0\n0')" AI.TENSORGET zeros VALUES
  expect_reply "not a tensor" GET plain
}

snapshot "$SB_TMP/before.txt"
grep -q "^blob:FLOAT dtype FLOAT shape 2 3 5 " "$SB_TMP/before.txt" ||
  sb_fail "unexpected META before reload: $(head -n 3 "$SB_TMP/before.txt")"
[ "$(sb_cli DEBUG DIGEST)" != 0000000000000000000000000000000000000000 ] ||
  sb_fail "DEBUG DIGEST of a non-empty database is zero"

# ---- DEBUG RELOAD: save, flush, load in place -------------------------------------
expect_reply OK DEBUG RELOAD
sb_alive
snapshot "$SB_TMP/after_reload.txt"
same_snapshot "$SB_TMP/before.txt" "$SB_TMP/after_reload.txt" "DEBUG RELOAD"
check_bytes

# Loaded tensors can be overwritten and deleted like any other.
expect_reply OK AI.TENSORSET blob:INT8 INT8 1 VALUES 5
expect_reply 1 DEL blob:INT8
expect_reply OK -x AI.TENSORSET blob:INT8 INT8 2 3 5 BLOB <"$SB_TMP/INT8.bin"

# ---- restart from the dump file -----------------------------------------------------
expect_reply OK SAVE
sb_cli SHUTDOWN NOSAVE >/dev/null 2>&1
for _ in $(seq 100); do kill -0 "$SB_PID" 2>/dev/null || break; sleep 0.05; done
kill -0 "$SB_PID" 2>/dev/null && sb_fail "redis-server did not shut down"
[ -s "$SB_TMP/dump.rdb" ] || sb_fail "no dump.rdb in $SB_TMP"
# sb_start_redis passes --save '' (no automatic saves) but still loads dump.rdb
# from --dir at start-up.
sb_start_redis --enable-debug-command yes
snapshot "$SB_TMP/after_restart.txt"
same_snapshot "$SB_TMP/before.txt" "$SB_TMP/after_restart.txt" "a restart from dump.rdb"
check_bytes
sb_alive
echo "module_rdb_roundtrip: OK"
