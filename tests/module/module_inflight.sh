# While a slow run is in flight (one worker, one kernel thread; a large batch
# of the tiny model, sized from an in-process timing to take about 1.5 s):
# - PING answers promptly: the event loop never waits on a model;
# - a request queued behind it with TIMEOUT 1 is not run and its client gets
#   TIMEDOUT once the worker reaches it;
# - replacing the model (AI.MODELSTORE) keeps the old one alive for the runs
#   queued or running on it, which complete with the old weights, while new
#   runs use the new model;
# - deleting the model (AI.MODELDEL, DEL) likewise lets its runs complete.
set -u
. "$SB_SOURCE_DIR/tests/lib/sbtest.sh"
. "$SB_SOURCE_DIR/tests/module/module_lib.sh"

sb_start_redis THREADS_PER_QUEUE 1 INTRA_OP_PARALLELISM 1
MODEL1=$SB_TMP/tiny1.safetensors
MODEL2=$SB_TMP/tiny2.safetensors
need_tiny_model "$MODEL1" 1
need_tiny_model "$MODEL2" 2
cmp -s "$MODEL1" "$MODEL2" && sb_fail "sb-model made the same model for seeds 1 and 2"
expect_reply OK -x AI.MODELSTORE m SBRESNET CPU TAG seed1 BLOB <"$MODEL1"

# ---- the slow input: N images of 64 x 64, N from an in-process timing ------------------------
t4=$("$SB_CHECK" time "$MODEL1" 4 64 64) || sb_fail "cannot time the model in-process"
N=$(awk -v t="$t4" 'BEGIN { n = int(4 * 1.5 / (t > 0 ? t : 1e-6)); if (n < 4) n = 4;
  if (n > 1024) n = 1024; print n }')
echo "in-process: 4 images in ${t4} s; slow run: $N images"
"$SB_CHECK" nchw "$N" 64 64 3 "$SB_TMP/slow.bin" || sb_fail "cannot make inputs"
expect_reply OK -x AI.TENSORSET slow FLOAT "$N" 3 64 64 BLOB <"$SB_TMP/slow.bin"
"$SB_CHECK" nchw 2 32 32 4 "$SB_TMP/small.bin" || sb_fail "cannot make inputs"
expect_reply OK -x AI.TENSORSET small FLOAT 2 3 32 32 BLOB <"$SB_TMP/small.bin"

# start_slow KEY OUT: starts AI.MODELEXECUTE KEY on the slow input in the
# background (reply in $SB_TMP/OUT.reply, pid in SLOW_PID) and waits until a
# worker runs it.
start_slow() {
  sb_cli AI.MODELEXECUTE "$1" INPUTS 1 slow OUTPUTS 1 "$2" >"$SB_TMP/$2.reply" 2>&1 &
  SLOW_PID=$!
  wait_in_flight 1
}
# still_running WHAT: fails if the slow run already replied (then the test
# proved nothing: the in-process timing was off).
still_running() {
  [ -s "$SB_TMP/$1.reply" ] && sb_fail "the slow run finished before $2 ($N images; raise the size)"
  return 0
}

# ---- PING while a run is in flight, and TIMEOUT ---------------------------------------------
start_slow m big1
sb_cli AI.MODELEXECUTE m INPUTS 1 small OUTPUTS 1 late TIMEOUT 1 >"$SB_TMP/late.reply" 2>&1 &
LATE_PID=$!
wait_queued 1
worst=0
for _ in 1 2 3 4 5; do
  ms=$(ping_ms)
  [ "$ms" -gt "$worst" ] && worst=$ms
  sleep 0.05
done
echo "PING while a run is in flight: worst of 5 round trips ${worst} ms"
still_running big1 "the PINGs"
[ "$worst" -lt 100 ] || sb_fail "PING took ${worst} ms while a run was in flight (bound: 100 ms)"
wait "$SLOW_PID" "$LATE_PID"
[ "$(cat "$SB_TMP/big1.reply")" = OK ] || sb_fail "slow run: $(cat "$SB_TMP/big1.reply")"
[ "$(cat "$SB_TMP/late.reply")" = TIMEDOUT ] ||
  sb_fail "queued run with TIMEOUT 1 got [$(cat "$SB_TMP/late.reply")], want TIMEDOUT"
expect_reply 0 EXISTS late
run_forward_check "$MODEL1" slow "$N" 64 64 big1
# A TIMEDOUT request is neither a call nor an error.
[ "$(info_field m calls)" = 1 ] || sb_fail "AI.INFO calls after a TIMEDOUT: $(info_field m calls)"
[ "$(info_field m errors)" = 0 ] || sb_fail "AI.INFO errors after a TIMEDOUT"
# A TIMEOUT that does not pass changes nothing.
expect_reply OK AI.MODELEXECUTE m INPUTS 1 small OUTPUTS 1 intime TIMEOUT 60000
run_forward_check "$MODEL1" small 2 32 32 intime

# ---- replacing the model while runs are in flight and queued ---------------------------------
start_slow m big2
sb_cli AI.MODELEXECUTE m INPUTS 1 small OUTPUTS 1 queued_old >"$SB_TMP/queued_old.reply" 2>&1 &
Q_PID=$!
wait_queued 1
expect_reply OK -x AI.MODELSTORE m SBRESNET CPU TAG seed2 BLOB <"$MODEL2"
still_running big2 "the model was replaced"
[ "$(info_field m tag)" = seed2 ] || sb_fail "the key does not hold the new model"
wait "$SLOW_PID" "$Q_PID"
[ "$(cat "$SB_TMP/big2.reply")" = OK ] || sb_fail "run of the replaced model: $(cat "$SB_TMP/big2.reply")"
[ "$(cat "$SB_TMP/queued_old.reply")" = OK ] ||
  sb_fail "queued run of the replaced model: $(cat "$SB_TMP/queued_old.reply")"
run_forward_check "$MODEL1" slow "$N" 64 64 big2
run_forward_check "$MODEL1" small 2 32 32 queued_old
expect_reply OK AI.MODELEXECUTE m INPUTS 1 small OUTPUTS 1 new
run_forward_check "$MODEL2" small 2 32 32 new

# ---- deleting the model while runs are in flight and queued ----------------------------------
start_slow m big3
sb_cli AI.MODELEXECUTE m INPUTS 1 small OUTPUTS 1 queued_del >"$SB_TMP/queued_del.reply" 2>&1 &
Q_PID=$!
wait_queued 1
expect_reply OK AI.MODELDEL m
expect_reply 0 EXISTS m
still_running big3 "the model was deleted"
wait "$SLOW_PID" "$Q_PID"
[ "$(cat "$SB_TMP/big3.reply")" = OK ] || sb_fail "run of the deleted model: $(cat "$SB_TMP/big3.reply")"
[ "$(cat "$SB_TMP/queued_del.reply")" = OK ] ||
  sb_fail "queued run of the deleted model: $(cat "$SB_TMP/queued_del.reply")"
run_forward_check "$MODEL2" small 2 32 32 queued_del
# ... and with plain DEL, on a queued run only.
expect_reply OK -x AI.MODELSTORE m2 SBRESNET CPU BLOB <"$MODEL2"
start_slow m2 big4
sb_cli AI.MODELEXECUTE m2 INPUTS 1 small OUTPUTS 1 queued_del2 >"$SB_TMP/queued_del2.reply" 2>&1 &
Q_PID=$!
wait_queued 1
expect_reply 1 DEL m2
wait "$SLOW_PID" "$Q_PID"
[ "$(cat "$SB_TMP/queued_del2.reply")" = OK ] ||
  sb_fail "queued run after DEL: $(cat "$SB_TMP/queued_del2.reply")"
run_forward_check "$MODEL2" small 2 32 32 queued_del2
sb_alive
echo "module_inflight: OK"
