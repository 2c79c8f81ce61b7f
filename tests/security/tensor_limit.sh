# The per-tensor size limit (load option MAX_TENSOR_BYTES 1K): a tensor of
# exactly 1 KiB is stored, a bigger one is refused with a clear error that
# names the limit, whether given as BLOB, as VALUES or as a shape alone (a
# tensor of zeros), and dims that overflow are refused too; nothing is stored; an app
# asking for bigger tensors fails clearly. The server stays up.
set -u
. "$SB_SOURCE_DIR/tests/lib/sbtest.sh"
sb_start_redis MAX_TENSOR_BYTES 1K
[ "$(sb_cli AI.CONFIG GET MAX_TENSOR_BYTES)" = 1024 ] || sb_fail "MAX_TENSOR_BYTES is not 1024"

refused() { # what, then the command: an error naming MAX_TENSOR_BYTES, nothing stored
  local what=$1 out
  shift
  out=$(sb_cli "$@" 2>&1)
  echo "$out" | grep -q "MAX_TENSOR_BYTES" || sb_fail "$what: not refused by the limit: $out"
  [ "$(sb_cli EXISTS big)" = 0 ] || sb_fail "$what: stored anyway"
  echo "$what: $out"
}

head -c 1024 /dev/urandom >"$SB_TMP/1k.bin"
head -c 1028 /dev/urandom >"$SB_TMP/over.bin"
[ "$(sb_cli -x AI.TENSORSET ok UINT8 1024 BLOB <"$SB_TMP/1k.bin")" = OK ] || sb_fail "1 KiB refused"
[ "$(sb_cli -x AI.TENSORSET ok2 FLOAT 16 16 BLOB <"$SB_TMP/1k.bin")" = OK ] || sb_fail "16x16 FLOAT refused"
out=$(sb_cli -x AI.TENSORSET big UINT8 1028 BLOB <"$SB_TMP/over.bin" 2>&1)
echo "$out" | grep -q "MAX_TENSOR_BYTES" || sb_fail "1028-byte BLOB not refused: $out"
[ "$(sb_cli EXISTS big)" = 0 ] || sb_fail "1028-byte BLOB stored"
refused "FLOAT 257 (zeros)" AI.TENSORSET big FLOAT 257
refused "DOUBLE 16 9 (zeros)" AI.TENSORSET big DOUBLE 16 9
refused "VALUES" AI.TENSORSET big INT64 129 VALUES $(seq 129)
out=$(sb_cli AI.TENSORSET big FLOAT 4294967296 4294967296 4294967296 2>&1)
echo "$out" | grep -q -e "MAX_TENSOR_BYTES" -e "too large" || sb_fail "overflowing dims not refused: $out"
[ "$(sb_cli EXISTS big)" = 0 ] || sb_fail "overflowing dims: stored anyway"
echo "overflowing dims: $out"
# A refused command left the stored tensors alone.
[ "$(sb_cli AI.TENSORGET ok META | sed -n 4p)" = 1024 ] || sb_fail "tensor ok changed"

# The app: 1K passes, 4K is refused with the server's reason, exit non-zero.
export SB_DB_CONNECT_TIMEOUT=2 SB_DB_COMMAND_TIMEOUT=5
mpiexec -n 2 "$SB_BIN_DIR/sb-throughput" --db "$SSDB_TCP" --iterations 3 --tensor-bytes 1K \
  --out "$SB_TMP/ok.h5" >"$SB_TMP/ok.out" 2>&1 || { cat "$SB_TMP/ok.out"; sb_fail "1K run failed"; }
rc=0
mpiexec -n 2 "$SB_BIN_DIR/sb-throughput" --db "$SSDB_TCP" --iterations 3 --tensor-bytes 4K \
  --out "$SB_TMP/big.h5" >"$SB_TMP/big.out" 2>&1 || rc=$?
cat "$SB_TMP/big.out"
[ "$rc" != 0 ] || sb_fail "a 4K run against a 1K limit exited 0"
grep -q "MAX_TENSOR_BYTES" "$SB_TMP/big.out" || sb_fail "the app's error does not give the limit"
sb_alive
echo PASS
