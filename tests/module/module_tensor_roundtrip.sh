# AI.TENSORSET / AI.TENSORGET round trips for every dtype, with BLOB and
# VALUES, every reply layout, and AI.CONFIG GET against the load options.
# Byte-level expectations assume a little-endian host.
set -u
. "$SB_SOURCE_DIR/tests/lib/sbtest.sh"
. "$SB_SOURCE_DIR/tests/module/module_lib.sh"

sb_start_redis THREADS_PER_QUEUE 3 inter_op_parallelism 2 INTRA_OP_PARALLELISM 5 \
  MAX_TENSOR_BYTES 1M MAX_TENSOR_RANK 5

# ---- load options are visible through AI.CONFIG GET ---------------------------
expect_reply 3 AI.CONFIG GET THREADS_PER_QUEUE
expect_reply 2 AI.CONFIG GET INTER_OP_PARALLELISM
expect_reply 5 AI.CONFIG GET intra_op_parallelism
expect_reply 1048576 AI.CONFIG GET MAX_TENSOR_BYTES
expect_reply 5 AI.CONFIG GET MAX_TENSOR_RANK
[ "$(sb_cli --no-raw AI.CONFIG GET MAX_TENSOR_BYTES)" = "(integer) 1048576" ] ||
  sb_fail "AI.CONFIG GET does not reply with an integer"

# ---- MODEL_CHUNK_SIZE (RedisAI's): read by SmartRedis before it stores a
# model, and changed at run time with AI.CONFIG MODEL_CHUNK_SIZE n -------------
[ "$(sb_cli --no-raw AI.CONFIG GET MODEL_CHUNK_SIZE)" = "(integer) 535822336" ] ||
  sb_fail "AI.CONFIG GET MODEL_CHUNK_SIZE: $(sb_cli AI.CONFIG GET MODEL_CHUNK_SIZE), want 511 MiB"
expect_reply OK AI.CONFIG MODEL_CHUNK_SIZE 1024
expect_reply 1024 AI.CONFIG GET MODEL_CHUNK_SIZE
expect_reply OK AI.CONFIG model_chunk_size 64K
expect_reply 65536 AI.CONFIG GET model_chunk_size

# ---- every dtype: BLOB in, BLOB / META / VALUES out ------------------------------
declare -A SIZE=([FLOAT]=4 [DOUBLE]=8 [INT8]=1 [INT16]=2 [INT32]=4 [INT64]=8 [UINT8]=1
  [UINT16]=2 [BOOL]=1)
# Values that every reply format prints back exactly as written.
declare -A VALS=(
  [FLOAT]="0.5 -2.25 3 0 1024 -0.125"
  [DOUBLE]="0.5 -2.25 3 0 1048576.5 -0.125"
  [INT8]="-128 127 0 1 -1 5"
  [INT16]="-32768 32767 0 1 -1 256"
  [INT32]="-2147483648 2147483647 0 1 -1 65536"
  [INT64]="-9223372036854775808 9223372036854775807 0 1 -1 4294967296"
  [UINT8]="0 255 1 2 128 7"
  [UINT16]="0 65535 1 2 256 7"
  [BOOL]="0 1 1 0 0 1")

for t in FLOAT DOUBLE INT8 INT16 INT32 INT64 UINT8 UINT16 BOOL; do
  n=$((6 * SIZE[$t]))
  blob=$SB_TMP/blob_$t.bin
  make_bytes "$blob" "$n"
  lower=$(printf '%s' "$t" | tr 'A-Z' 'a-z')

  # Type names are case-insensitive on input, upper case on output.
  expect_reply OK -x AI.TENSORSET "b:$t" "$lower" 2 3 BLOB <"$blob"
  blob_equals "b:$t" "$blob"
  expect_reply "$(printf 'dtype\n%s\nshape\n2\n3' "$t")" AI.TENSORGET "b:$t" META
  expect_reply "$(printf 'dtype\n%s\nshape\n2\n3' "$t")" AI.TENSORGET "b:$t" meta

  # META BLOB: dtype, shape, "blob", then the exact bytes.
  want=$SB_TMP/meta_blob_want.bin
  got=$SB_TMP/meta_blob_got.bin
  { printf 'dtype\n%s\nshape\n2\n3\nblob\n' "$t"; cat "$blob"; printf '\n'; } >"$want"
  sb_cli AI.TENSORGET "b:$t" META BLOB >"$got"
  cmp -s "$want" "$got" || sb_fail "AI.TENSORGET b:$t META BLOB layout or bytes differ"
  sb_cli AI.TENSORGET "b:$t" BLOB META >"$got"
  cmp -s "$want" "$got" || sb_fail "AI.TENSORGET b:$t BLOB META differs from META BLOB"

  # VALUES in; VALUES, META VALUES and the default layout out.
  vals=${VALS[$t]}
  lines=$(printf '%s\n' $vals)
  expect_reply OK AI.TENSORSET "v:$t" "$t" 3 2 values $vals
  expect_reply "$lines" AI.TENSORGET "v:$t" VALUES
  expect_reply "$(printf 'dtype\n%s\nshape\n3\n2\nvalues\n%s' "$t" "$lines")" \
    AI.TENSORGET "v:$t" META VALUES
  expect_reply "$(printf 'dtype\n%s\nshape\n3\n2\nvalues\n%s' "$t" "$lines")" \
    AI.TENSORGET "v:$t"

  # The type of the value is the tensor type.
  expect_reply SB_TENSOR TYPE "v:$t"
  sb_alive
done

# ---- reply element types (integers vs doubles), as RedisAI clients parse them --
expect_reply OK AI.TENSORSET ti INT32 2 VALUES -7 7
want='1) "dtype"
2) "INT32"
3) "shape"
4) 1) (integer) 2
5) "values"
6) 1) (integer) -7
   2) (integer) 7'
[ "$(sb_cli --no-raw AI.TENSORGET ti META VALUES)" = "$want" ] ||
  sb_fail "INT32 META VALUES reply: $(sb_cli --no-raw AI.TENSORGET ti META VALUES)"
expect_reply OK AI.TENSORSET tf FLOAT 1 2 VALUES 0.5 -3
want='1) "dtype"
2) "FLOAT"
3) "shape"
4) 1) (integer) 1
   2) (integer) 2'
[ "$(sb_cli --no-raw AI.TENSORGET tf META)" = "$want" ] ||
  sb_fail "FLOAT META reply: $(sb_cli --no-raw AI.TENSORGET tf META)"
[ "$(sb_cli --no-raw AI.TENSORGET tf VALUES)" = "$(printf '1) "0.5"\n2) "-3"')" ] ||
  sb_fail "FLOAT VALUES reply: $(sb_cli --no-raw AI.TENSORGET tf VALUES)"

# ---- VALUES are stored as little-endian elements, BLOB reads as VALUES -----------
expect_reply OK AI.TENSORSET le INT16 3 VALUES 1 -2 258
[ "$(sb_cli AI.TENSORGET le BLOB | od -An -tx1 | tr -s ' \n' ' ')" = " 01 00 fe ff 02 01 0a " ] ||
  sb_fail "INT16 VALUES 1 -2 258 are not stored as 01 00 fe ff 02 01"
printf '\000\000\000\077\000\000\040\301' >"$SB_TMP/f2.bin"   # 0.5f, -10.0f
expect_reply OK -x AI.TENSORSET fb FLOAT 2 BLOB <"$SB_TMP/f2.bin"
expect_reply "$(printf '0.5\n-10')" AI.TENSORGET fb VALUES

# ---- no data: a tensor of zeros ----------------------------------------------------
expect_reply OK AI.TENSORSET z DOUBLE 2 2
expect_reply "$(printf '0\n0\n0\n0')" AI.TENSORGET z VALUES
[ "$(sb_cli AI.TENSORGET z BLOB | head -c 32 | tr -d '\000' | wc -c)" = 0 ] ||
  sb_fail "zero tensor has non-zero bytes"

# ---- shapes: rank 1 up to MAX_TENSOR_RANK (5 here) ---------------------------------
expect_reply OK AI.TENSORSET r1 UINT8 4 VALUES 1 2 3 4
expect_reply "$(printf 'dtype\nUINT8\nshape\n4')" AI.TENSORGET r1 META
expect_reply OK AI.TENSORSET r5 UINT8 1 2 1 3 1
expect_reply "$(printf 'dtype\nUINT8\nshape\n1\n2\n1\n3\n1')" AI.TENSORGET r5 META
expect_error "ERR tensor rank 6 exceeds MAX_TENSOR_RANK (5)" AI.TENSORSET r6 UINT8 1 1 1 1 1 1

# ---- overwriting a tensor replaces dtype, shape and data ---------------------------
expect_reply OK AI.TENSORSET r1 INT64 1 2 VALUES -5 6
expect_reply "$(printf 'dtype\nINT64\nshape\n1\n2\nvalues\n-5\n6')" AI.TENSORGET r1
# The tensor is replaced in place: held (BLOB) over owned, owned over held,
# held over held; a TTL goes as with a new key; WATCH sees the change.
expect_reply OK AI.TENSORSET r1 INT8 4 BLOB abcd
expect_reply abcd AI.TENSORGET r1 BLOB
expect_reply OK AI.TENSORSET r1 INT8 2 BLOB xy
expect_reply "$(printf 'dtype\nINT8\nshape\n2\nblob\nxy')" AI.TENSORGET r1 META BLOB
expect_reply 1 EXPIRE r1 100
expect_reply OK AI.TENSORSET r1 UINT8 3 VALUES 7 8 9
expect_reply -1 TTL r1
expect_reply "$(printf '7\n8\n9')" AI.TENSORGET r1 VALUES
[ "$(printf 'WATCH r1\nAI.TENSORSET r1 INT8 1 VALUES 3\nMULTI\nPING\nEXEC\n' | sb_cli --no-raw | tail -1)" = "(nil)" ] ||
  sb_fail "WATCH did not see AI.TENSORSET over a tensor (EXEC ran)"
expect_reply 3 AI.TENSORGET r1 VALUES

# ---- a tensor of exactly MAX_TENSOR_BYTES (1 MiB), kept zero-copy ------------------
big=$SB_TMP/big.bin
make_bytes "$big" 1048576
expect_reply OK -x AI.TENSORSET big FLOAT 512 512 BLOB <"$big"
blob_equals big "$big"
# Other traffic in between, then the bytes again: the held argument survives.
for i in 1 2 3; do
  expect_reply OK -x AI.TENSORSET "big$i" UINT8 1048576 BLOB <"$big"
  expect_reply OK SET "s$i" "$(printf 'x%.0s' $(seq 100))"
done
blob_equals big "$big"
blob_equals big2 "$big"
mem=$(sb_cli MEMORY USAGE big)
[ "$mem" -ge 1048576 ] 2>/dev/null || sb_fail "MEMORY USAGE big = $mem, want at least 1048576"

# ---- deleting and replacing held tensors frees them cleanly ------------------------
expect_reply 3 DEL big1 big2 big3
expect_reply OK AI.TENSORSET big UINT8 1
expect_reply 0 EXISTS big1
sb_alive
echo "module_tensor_roundtrip: OK"
