# Dynamic batching: a model stored with BATCHSIZE 8 MINBATCHSIZE 4
# MINBATCHTIMEOUT 200 and 8 concurrent batch-1 clients: every client gets its
# own correct output, and AI.INFO shows fewer executions than calls. Requests
# of another image size are not merged with them, and a request bigger than
# BATCHSIZE runs alone.
set -u
. "$SB_SOURCE_DIR/tests/lib/sbtest.sh"
. "$SB_SOURCE_DIR/tests/module/module_lib.sh"

# One worker: requests queue up behind the batch being formed.
sb_start_redis THREADS_PER_QUEUE 1
MODEL=$SB_TMP/tiny.safetensors
need_tiny_model "$MODEL"
expect_reply OK -x AI.MODELSTORE tb SBRESNET CPU BATCHSIZE 8 MINBATCHSIZE 4 MINBATCHTIMEOUT 200 \
  BLOB <"$MODEL"

for i in 1 2 3 4 5 6 7 8; do
  "$SB_CHECK" nchw 1 32 32 "$i" "$SB_TMP/in$i.bin" || sb_fail "cannot make inputs"
  expect_reply OK -x AI.TENSORSET "in$i" FLOAT 1 3 32 32 BLOB <"$SB_TMP/in$i.bin"
done

# ---- 8 concurrent clients ------------------------------------------------------------------
pids=""
for i in 1 2 3 4 5 6 7 8; do
  sb_cli AI.MODELEXECUTE tb INPUTS 1 "in$i" OUTPUTS 1 "out$i" TIMEOUT 30000 >"$SB_TMP/reply$i" 2>&1 &
  pids="$pids $!"
done
for p in $pids; do wait "$p"; done
for i in 1 2 3 4 5 6 7 8; do
  [ "$(cat "$SB_TMP/reply$i")" = OK ] || sb_fail "client $i got [$(cat "$SB_TMP/reply$i")]"
  run_forward_check "$MODEL" "in$i" 1 32 32 "out$i"
done
calls=$(info_field tb calls)
executions=$(info_field tb executions)
[ "$calls" = 8 ] || sb_fail "AI.INFO calls: $calls, want 8"
[ "$(info_field tb samples)" = 8 ] || sb_fail "AI.INFO samples: $(info_field tb samples)"
[ "$executions" -lt "$calls" ] || sb_fail "no batching: $executions executions for $calls calls"
[ "$executions" -ge 1 ] || sb_fail "AI.INFO executions: $executions"
echo "batched: $calls calls in $executions executions"

# ---- other image sizes are not merged; a request above BATCHSIZE runs alone ---------------------
# RESETSTAT replies the statistics it resets (a field/value array, as
# SmartRedis's get_ai_info parses), then zeroes them.
[ "$(sb_cli AI.INFO tb RESETSTAT | awk 'w { print; exit } $0 == "calls" { w = 1 }')" = "$calls" ] ||
  sb_fail "AI.INFO tb RESETSTAT did not reply the calls being reset"
[ "$(info_field tb calls)" = 0 ] || sb_fail "AI.INFO tb RESETSTAT did not reset"
"$SB_CHECK" nchw 1 40 40 21 "$SB_TMP/w1.bin" || sb_fail "cannot make inputs"
"$SB_CHECK" nchw 10 32 32 22 "$SB_TMP/big.bin" || sb_fail "cannot make inputs"
expect_reply OK -x AI.TENSORSET w1 FLOAT 1 3 40 40 BLOB <"$SB_TMP/w1.bin"
expect_reply OK -x AI.TENSORSET big FLOAT 10 3 32 32 BLOB <"$SB_TMP/big.bin"
pids=""
for k in in1 in2 w1 in3 in4 w1; do
  sb_cli AI.MODELEXECUTE tb INPUTS 1 "$k" OUTPUTS 1 "o_$k$RANDOM" >>"$SB_TMP/mixed" 2>&1 &
  pids="$pids $!"
done
sb_cli AI.MODELEXECUTE tb INPUTS 1 big OUTPUTS 1 obig >"$SB_TMP/bigreply" 2>&1 &
pids="$pids $!"
for p in $pids; do wait "$p"; done
[ "$(grep -c '^OK$' "$SB_TMP/mixed")" = 6 ] || sb_fail "mixed sizes: $(cat "$SB_TMP/mixed")"
[ "$(cat "$SB_TMP/bigreply")" = OK ] || sb_fail "batch above BATCHSIZE: $(cat "$SB_TMP/bigreply")"
run_forward_check "$MODEL" big 10 32 32 obig
# 32x32 and 40x40 requests never share an execution, and the 10-item one runs
# alone: at least 3 executions for the 7 calls.
calls=$(info_field tb calls)
executions=$(info_field tb executions)
[ "$calls" = 7 ] || sb_fail "AI.INFO calls: $calls, want 7"
[ "$(info_field tb samples)" = 16 ] || sb_fail "AI.INFO samples: $(info_field tb samples)"
[ "$executions" -ge 3 ] || sb_fail "$executions executions for sizes that cannot share one"
[ "$(info_field tb errors)" = 0 ] || sb_fail "AI.INFO errors: $(info_field tb errors)"
sb_alive
echo "module_batching: OK"
