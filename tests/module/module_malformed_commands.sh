# Every malformed AI.TENSORSET / AI.TENSORGET / AI.CONFIG gets an error reply
# (ERR ... or WRONGTYPE ...), the server keeps serving, and a refused write
# changes nothing. Also: the module refuses to load with a bad option.
set -u
. "$SB_SOURCE_DIR/tests/lib/sbtest.sh"
. "$SB_SOURCE_DIR/tests/module/module_lib.sh"

sb_start_redis MAX_TENSOR_BYTES 1M

# ---- arity ----------------------------------------------------------------------
expect_error "ERR wrong number of arguments" AI.TENSORSET
expect_error "ERR wrong number of arguments" AI.TENSORSET k
expect_error "ERR wrong number of arguments" AI.TENSORSET k FLOAT
expect_error "ERR wrong number of arguments" AI.TENSORGET
expect_error "ERR wrong number of arguments" AI.TENSORGET k META BLOB VALUES
expect_error "ERR wrong number of arguments" AI.CONFIG
expect_error "ERR wrong number of arguments" AI.CONFIG GET
expect_error "ERR wrong number of arguments" AI.CONFIG GET THREADS_PER_QUEUE extra

# ---- type ---------------------------------------------------------------------------
expect_error "ERR unknown tensor type 'FLOAT32'" AI.TENSORSET k FLOAT32 2
expect_error "ERR unknown tensor type" AI.TENSORSET k half 2
expect_error "ERR unknown tensor type" AI.TENSORSET k UINT64 2
expect_error "ERR unknown tensor type" AI.TENSORSET k "" 2
expect_error "ERR unknown tensor type" AI.TENSORSET k $'FLO\r\nAT' 2

# ---- shape ----------------------------------------------------------------------------
expect_error "ERR invalid tensor dimension '-2': must be positive" AI.TENSORSET k FLOAT -2
expect_error "ERR invalid tensor dimension '0': must be positive" AI.TENSORSET k FLOAT 2 0
expect_error "ERR invalid tensor dimension 'abc'" AI.TENSORSET k FLOAT abc
expect_error "ERR invalid tensor dimension '2.5'" AI.TENSORSET k FLOAT 2.5
expect_error "ERR invalid tensor dimension" AI.TENSORSET k FLOAT 2 x3 VALUES 1 2
expect_error "ERR invalid tensor dimension '99999999999999999999': too large" \
  AI.TENSORSET k FLOAT 99999999999999999999
expect_error "ERR tensor shape is too large" AI.TENSORSET k UINT8 1099511627776 1099511627776
expect_error "ERR tensor shape is too large" AI.TENSORSET k INT64 4294967296 4294967296 4
expect_error "ERR a tensor needs at least one dimension" AI.TENSORSET k FLOAT BLOB abcd
expect_error "ERR a tensor needs at least one dimension" AI.TENSORSET k FLOAT VALUES 1
expect_reply OK AI.TENSORSET rank8 UINT8 1 1 1 1 1 1 1 1
expect_error "ERR tensor rank 9 exceeds MAX_TENSOR_RANK (8)" AI.TENSORSET k UINT8 1 1 1 1 1 1 1 1 1
expect_error "ERR tensor rank 40 exceeds" AI.TENSORSET k UINT8 $(printf '1 %.0s' $(seq 40))

# ---- size limit (MAX_TENSOR_BYTES 1M) ------------------------------------------------
expect_error "ERR tensor of 1048577 bytes exceeds MAX_TENSOR_BYTES (1048576)" \
  AI.TENSORSET k UINT8 1048577
expect_error "ERR tensor of 4194304 bytes exceeds MAX_TENSOR_BYTES" AI.TENSORSET k FLOAT 1024 1024
make_bytes "$SB_TMP/over.bin" 1048577
expect_error "ERR tensor of 1048577 bytes exceeds MAX_TENSOR_BYTES" \
  -x AI.TENSORSET k UINT8 1048577 BLOB <"$SB_TMP/over.bin"

# ---- BLOB ---------------------------------------------------------------------------
make_bytes "$SB_TMP/7.bin" 7
make_bytes "$SB_TMP/9.bin" 9
expect_error "ERR BLOB has 7 bytes but a INT32 tensor of this shape needs 8" \
  -x AI.TENSORSET k INT32 2 BLOB <"$SB_TMP/7.bin"
expect_error "ERR BLOB has 9 bytes" -x AI.TENSORSET k INT32 2 BLOB <"$SB_TMP/9.bin"
expect_error "ERR BLOB has 0 bytes" AI.TENSORSET k INT32 2 BLOB ""
expect_error "ERR BLOB takes exactly one argument" AI.TENSORSET k UINT8 1 BLOB
expect_error "ERR BLOB takes exactly one argument" AI.TENSORSET k UINT8 1 BLOB a b
expect_error "ERR BLOB has 6 bytes" AI.TENSORSET k UINT8 1 BLOB VALUES

# ---- VALUES ---------------------------------------------------------------------------
expect_error "ERR wrong number of VALUES: the shape has 4 elements, 3 values" \
  AI.TENSORSET k FLOAT 2 2 VALUES 1 2 3
expect_error "ERR wrong number of VALUES: the shape has 4 elements, 5 values" \
  AI.TENSORSET k FLOAT 2 2 VALUES 1 2 3 4 5
expect_error "ERR wrong number of VALUES: the shape has 2 elements, 0 values" \
  AI.TENSORSET k FLOAT 2 VALUES
expect_error "ERR invalid FLOAT value 'abc': not a number" AI.TENSORSET k FLOAT 2 VALUES 1 abc
expect_error "ERR invalid DOUBLE value '1.5.2'" AI.TENSORSET k DOUBLE 1 VALUES 1.5.2
expect_error "ERR invalid FLOAT value '1e999': out of range" AI.TENSORSET k FLOAT 1 VALUES 1e999
expect_error "ERR invalid FLOAT value '1e39': out of range" AI.TENSORSET k FLOAT 1 VALUES 1e39
expect_error "ERR invalid DOUBLE value '-1e999': out of range" AI.TENSORSET k DOUBLE 1 VALUES -1e999
expect_error "ERR invalid INT32 value '1.5': not an integer" AI.TENSORSET k INT32 1 VALUES 1.5
expect_error "ERR invalid INT8 value '300': out of range" AI.TENSORSET k INT8 1 VALUES 300
expect_error "ERR invalid INT8 value '-129': out of range" AI.TENSORSET k INT8 1 VALUES -129
expect_error "ERR invalid UINT8 value '-1': out of range" AI.TENSORSET k UINT8 1 VALUES -1
expect_error "ERR invalid UINT16 value '65536': out of range" AI.TENSORSET k UINT16 1 VALUES 65536
expect_error "ERR invalid INT16 value '40000': out of range" AI.TENSORSET k INT16 1 VALUES 40000
expect_error "ERR invalid INT32 value '2147483648': out of range" \
  AI.TENSORSET k INT32 1 VALUES 2147483648
expect_error "ERR invalid INT64 value '9223372036854775808': out of range" \
  AI.TENSORSET k INT64 1 VALUES 9223372036854775808
expect_error "ERR invalid BOOL value '2': out of range" AI.TENSORSET k BOOL 1 VALUES 2
expect_error "ERR invalid BOOL value 'true'" AI.TENSORSET k BOOL 1 VALUES true

# ---- a refused write leaves the key as it was ------------------------------------
expect_reply OK AI.TENSORSET keep INT8 2 VALUES 1 2
expect_error "ERR invalid INT8 value '300'" AI.TENSORSET keep INT8 2 VALUES 3 300
expect_error "ERR BLOB has 1 bytes" AI.TENSORSET keep INT8 2 BLOB x
expect_error "ERR unknown tensor type" AI.TENSORSET keep INT9 2
expect_reply "$(printf 'dtype\nINT8\nshape\n2\nvalues\n1\n2')" AI.TENSORGET keep
expect_error "ERR tensor key is empty" AI.TENSORGET never_set_after_refusal
expect_error "ERR invalid INT8 value" AI.TENSORSET never_set_after_refusal INT8 1 VALUES 999
expect_reply 0 EXISTS never_set_after_refusal

# ---- keys of another type -----------------------------------------------------------
expect_error "ERR tensor key is empty" AI.TENSORGET missing
expect_error "ERR tensor key is empty" AI.TENSORGET missing META BLOB
expect_reply OK SET plain hello
expect_error "WRONGTYPE" AI.TENSORGET plain
expect_error "WRONGTYPE" AI.TENSORGET plain BLOB
expect_error "WRONGTYPE" AI.TENSORSET plain FLOAT 1
expect_reply hello GET plain
expect_reply 2 RPUSH alist a b
expect_error "WRONGTYPE" AI.TENSORSET alist FLOAT 2 VALUES 1 2
expect_reply 2 LLEN alist
expect_error "WRONGTYPE" AI.TENSORGET alist
# ... and the other way round: Redis's own commands on a tensor key.
expect_error "WRONGTYPE" GET keep
expect_error "WRONGTYPE" LPUSH keep x

# ---- AI.TENSORGET arguments --------------------------------------------------------
expect_error "ERR unknown AI.TENSORGET argument 'JSON'" AI.TENSORGET keep JSON
expect_error "ERR unknown AI.TENSORGET argument" AI.TENSORGET keep META JSON
expect_error "ERR unknown AI.TENSORGET argument" AI.TENSORGET missing JSON
expect_error "ERR give at most one of BLOB and VALUES" AI.TENSORGET keep BLOB VALUES
expect_error "ERR give at most one of BLOB and VALUES" AI.TENSORGET keep VALUES VALUES
expect_error "ERR META given twice" AI.TENSORGET keep META META

# ---- AI.CONFIG --------------------------------------------------------------------------
expect_error "ERR unknown option 'BOGUS'" AI.CONFIG GET BOGUS
expect_error "ERR unsupported AI.CONFIG subcommand 'SET'" AI.CONFIG SET THREADS_PER_QUEUE 2
expect_error "ERR unsupported AI.CONFIG subcommand 'BACKENDSPATH'" AI.CONFIG BACKENDSPATH /x
expect_error "ERR unsupported AI.CONFIG subcommand 'LOADBACKEND' (this server has GET <option> and MODEL_CHUNK_SIZE <bytes>; it loads no backends)" \
  AI.CONFIG LOADBACKEND TORCH /x
expect_error "ERR wrong number of arguments" AI.CONFIG MODEL_CHUNK_SIZE
expect_error "ERR wrong number of arguments" AI.CONFIG MODEL_CHUNK_SIZE 1 2
expect_error "ERR invalid value '0' for MODEL_CHUNK_SIZE: must be between 1 and 2147483647" \
  AI.CONFIG MODEL_CHUNK_SIZE 0
expect_error "ERR invalid value '2G' for MODEL_CHUNK_SIZE: must be between 1 and 2147483647" \
  AI.CONFIG MODEL_CHUNK_SIZE 2G
expect_error "ERR invalid value '-5' for MODEL_CHUNK_SIZE" AI.CONFIG MODEL_CHUNK_SIZE -5
expect_error "ERR invalid value 'x' for MODEL_CHUNK_SIZE" AI.CONFIG MODEL_CHUNK_SIZE x
expect_error "ERR THREADS_PER_QUEUE is set when the module loads (--loadmodule sbai.so THREADS_PER_QUEUE VALUE); AI.CONFIG changes only MODEL_CHUNK_SIZE" \
  AI.CONFIG THREADS_PER_QUEUE 2
expect_error "ERR MAX_TENSOR_BYTES is set when the module loads" AI.CONFIG max_tensor_bytes 1K
[ "$(sb_cli AI.CONFIG GET MODEL_CHUNK_SIZE)" = 535822336 ] || sb_fail "a refused AI.CONFIG changed MODEL_CHUNK_SIZE"
[ "$(sb_cli AI.CONFIG GET THREADS_PER_QUEUE)" = 1 ] || sb_fail "a refused AI.CONFIG changed THREADS_PER_QUEUE"
sb_alive

# ---- bad load options: the module (and so the server) refuses to start -----------------
refuses_to_load() {
  local port log rc
  port=$(sb_free_port) || sb_skip "no free port"
  log=$SB_TMP/bad_load_$port.log
  timeout 20 "$SB_REDIS_SERVER" --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
    --dir "$SB_TMP" --logfile "$log" --daemonize no --loadmodule "$SB_MODULE" "$@" &
  local pid=$!
  SB_CLEANUP_PIDS="$SB_CLEANUP_PIDS $pid"
  wait "$pid"
  rc=$?
  [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] ||
    sb_fail "redis-server with module options [$*] exited with $rc, want a load failure"
  "$SB_REDIS_CLI" -p "$port" ping >/dev/null 2>&1 &&
    sb_fail "a server answers on $port after module options [$*]"
  grep -q "sbai: $EXPECT_LOG" "$log" ||
    sb_fail "log of the refused load lacks 'sbai: $EXPECT_LOG': $(grep -i -e sbai -e module "$log")"
}
EXPECT_LOG="unknown option 'BOGUS'" refuses_to_load BOGUS 1
EXPECT_LOG="invalid value '0' for THREADS_PER_QUEUE" refuses_to_load THREADS_PER_QUEUE 0
EXPECT_LOG="invalid value 'lots' for INTER_OP_PARALLELISM" refuses_to_load INTER_OP_PARALLELISM lots
EXPECT_LOG="invalid value '1T' for MAX_TENSOR_BYTES" refuses_to_load MAX_TENSOR_BYTES 1T
EXPECT_LOG="invalid value '17' for MAX_TENSOR_RANK" refuses_to_load MAX_TENSOR_RANK 17
EXPECT_LOG="load options come in NAME VALUE pairs" refuses_to_load THREADS_PER_QUEUE

sb_alive
echo "module_malformed_commands: OK"
