# SmartRedis's own Python client (from PyPI) against sbai, unchanged:
# smartredis_api.py calls the Client API call by call against a standalone
# server and against a 3-shard cluster, and records what works and what is
# refused (with the message checked). From the records this test writes the
# compatibility table (BUILD/smartredis-compat.md) and fails when
# docs/module.md's table differs from it.
#
#   smartredis_client.sh
#
# The venv (BUILD/venv-smartredis, shared with the interop tests through
# tests/lib/smartredis_venv.sh) holds smartredis and numpy from PyPI, made on
# the first run and reused afterwards; the test skips (77) only when PyPI
# cannot be reached (or python3 cannot make a venv).
set -u
. "$SB_SOURCE_DIR/tests/lib/sbtest.sh"
. "$SB_SOURCE_DIR/tests/module/module_lib.sh"
. "$SB_SOURCE_DIR/tests/lib/smartredis_venv.sh"
. "$SB_SOURCE_DIR/tests/cluster/cluster_lib.sh"

smartredis_python
echo "python: $PY ($("$PY" -c 'import smartredis, numpy; print("numpy", numpy.__version__)'))"

MODEL=$SB_TMP/tiny.safetensors
need_tiny_model "$MODEL" 3
RESULTS=$SB_TMP/results.jsonl
API=$SB_SOURCE_DIR/tests/smartredis/smartredis_api.py
# SmartRedis logs to stdout unless told otherwise.
export SR_LOG_FILE=$SB_TMP/smartredis.log SR_LOG_LEVEL=QUIET


# ---- standalone ------------------------------------------------------------------------------
sb_start_redis THREADS_PER_QUEUE 1
SSDB=127.0.0.1:$SB_PORT "$PY" "$API" standalone "$RESULTS" "$MODEL" "$SB_TMP" "127.0.0.1:$SB_PORT" ||
  sb_fail "SmartRedis against a standalone server (see above)"
# The model's output is its forward pass (the in-process reference).
"$SB_CHECK" forward "$MODEL" "$SB_TMP/run_in_standalone.bin" 2 32 32 "$SB_TMP/run_out_standalone.bin" \
  >"$SB_TMP/fwd.log" 2>&1 || sb_fail "run_model's output: $(cat "$SB_TMP/fwd.log")"
# set_model_chunk_size reached the server.
[ "$(sb_cli AI.CONFIG GET MODEL_CHUNK_SIZE)" = 4096 ] || sb_fail "set_model_chunk_size did not reach the server"

# ---- a run slower than SmartRedis's socket timeout ---------------------------------------------
# A resnet18 run of about 1.5 s (sized on the server: AI.INFO's duration).
# An impatient client (100 ms socket timeout, 2 s of attempts 100 ms apart)
# gives up, having re-sent it some 20 times; each abandoned attempt still
# queued is dropped (AI.INFO disconnected), so the queue is empty about one
# run after the client gave up. A patient client (SR_SOCKET_TIMEOUT raised)
# gets its reply.
R18=$SB_TMP/r18.safetensors
need_model "$R18" resnet18 1
expect_reply OK -x AI.MODELSTORE slow TORCH CPU BLOB <"$R18"
N=8
for _ in 1 2 3; do
  "$SB_CHECK" nchw "$N" 64 64 5 "$SB_TMP/slow.bin" || sb_fail "cannot make inputs"
  expect_reply OK -x AI.TENSORSET slow_in FLOAT "$N" 3 64 64 BLOB <"$SB_TMP/slow.bin"
  sb_cli AI.INFO slow RESETSTAT >/dev/null
  expect_reply OK AI.MODELEXECUTE slow INPUTS 1 slow_in OUTPUTS 1 slow_out
  us=$(info_field slow duration)
  [ "$us" -ge 1000000 ] && break
  N=$(awk -v n="$N" -v us="$us" 'BEGIN { m = int(n * 1500000 / (us > 0 ? us : 1)) + 1;
    if (m > 1024) m = 1024; print m }')
done
echo "the slow run: $N images of 64x64, ${us} us on the server"
[ "$us" -ge 250000 ] || sb_fail "could not make a run slower than 250 ms ($us us at N=$N)"
slow_py() {
  SSDB=127.0.0.1:$SB_PORT "$PY" "$SB_SOURCE_DIR/tests/smartredis/smartredis_slow.py" "$RESULTS" "$@"
}
before=$(sb_cli AI.INFO | awk 'w { print; exit } $0 == "disconnected" { w = 1 }')
SR_SOCKET_TIMEOUT=100 SR_CMD_TIMEOUT=2 SR_CMD_INTERVAL=100 slow_py impatient ||
  sb_fail "a run slower than the socket timeout did not time out in the client"
t0=$EPOCHREALTIME
for _ in $(seq 600); do
  [ "$(sb_cli AI.INFO | awk 'w { print; exit } $0 == "queue_length" { w = 1 }')" = 0 ] && break
  sleep 0.05
done
ms=$(((${EPOCHREALTIME//[.,]/} - ${t0//[.,]/}) / 1000))
dropped=$(info_field slow disconnected)
echo "the impatient client gave up; $dropped abandoned attempts dropped; queue empty ${ms} ms later"
[ "$dropped" -ge 1 ] || sb_fail "no abandoned attempt was dropped from the queue"
[ "$ms" -lt $((us / 1000 * 2 + 1000)) ] ||
  sb_fail "the queue took $ms ms to empty after the client left (one run: $((us / 1000)) ms)"
SR_SOCKET_TIMEOUT=60000 slow_py patient || sb_fail "run_model with SR_SOCKET_TIMEOUT raised failed"
sb_alive
kill "$SB_PID"

# ---- a 3-shard cluster -----------------------------------------------------------------------
sb_cluster_start 3
ADDRS=""
for p in $SB_CLUSTER_PORTS; do ADDRS="$ADDRS 127.0.0.1:$p"; done
# shellcheck disable=SC2086
SSDB=${SSDB%%,*} "$PY" "$API" cluster "$RESULTS" "$MODEL" "$SB_TMP" $ADDRS ||
  sb_fail "SmartRedis against a 3-shard cluster (see above)"
"$SB_CHECK" forward "$MODEL" "$SB_TMP/run_in_cluster.bin" 2 32 32 "$SB_TMP/run_out_cluster.bin" \
  >"$SB_TMP/fwd.log" 2>&1 || sb_fail "run_model's output (cluster): $(cat "$SB_TMP/fwd.log")"
got=""
for p in $SB_CLUSTER_PORTS; do got="$got $(redis-cli -p "$p" AI.CONFIG GET MODEL_CHUNK_SIZE)"; done
echo "MODEL_CHUNK_SIZE on the shards after set_model_chunk_size(4096):$got"
# SmartRedis 0.6.1 sends it to one shard (AddressAny), not to each.
[ "$(tr ' ' '\n' <<<"$got" | grep -c '^4096$')" -ge 1 ] ||
  sb_fail "set_model_chunk_size reached no shard"

# ---- the table ----------------------------------------------------------------------------------
TABLE=$build/smartredis-compat.md
"$PY" "$SB_SOURCE_DIR/tests/smartredis/compat_table.py" "$RESULTS" >"$TABLE" ||
  sb_fail "cannot make the table"
echo "compatibility table: $TABLE"
awk '/<!-- smartredis-compat begin/ { on = 1; next } /<!-- smartredis-compat end/ { on = 0 } on' \
  "$SB_SOURCE_DIR/docs/module.md" >"$SB_TMP/doc_table.md"
if ! diff -u "$SB_TMP/doc_table.md" "$TABLE" >"$SB_TMP/table.diff"; then
  cat "$SB_TMP/table.diff" >&2
  sb_fail "docs/module.md's SmartRedis table differs from what was measured: paste $TABLE between its smartredis-compat markers"
fi
echo "smartredis_client: OK ($(grep -c . "$RESULTS") calls recorded; docs/module.md's table matches)"
