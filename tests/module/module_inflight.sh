# While runs are in flight (one worker, one kernel thread; a backlog of
# requests on a resnet18 with small images, sized from an in-process timing
# to take about 2.4 s):
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
# resnet18: much more work per input byte than tiny, so a backlog of seconds
# needs only a few MB of input (64 x 64 images keep it cheap).
MODEL1=$SB_TMP/r18_1.safetensors
MODEL2=$SB_TMP/r18_2.safetensors
need_model "$MODEL1" resnet18 1
need_model "$MODEL2" resnet18 2
cmp -s "$MODEL1" "$MODEL2" && sb_fail "sb-model made the same model for seeds 1 and 2"
expect_reply OK -x AI.MODELSTORE m SBRESNET CPU TAG seed1 BLOB <"$MODEL1"

# ---- the slow work: K requests of N images of 64 x 64 each, about 0.4 s per
# request (N from the best of 3 in-process timings, so that a busy machine
# during the timing does not make the backlog too short), queued behind each
# other on the one worker: a backlog of about 2.4 s. -------------------------
best=
for _ in 1 2 3; do
  t=$("$SB_CHECK" time "$MODEL1" 8 64 64) || sb_fail "cannot time the model in-process"
  best=$(awk -v a="${best:-$t}" -v b="$t" 'BEGIN { print (b < a ? b : a) }')
done
N=$(awk -v t="$best" 'BEGIN { n = int(0.4 * 8 / (t > 0 ? t : 1e-6)); if (n < 4) n = 4;
  if (n > 1024) n = 1024; print n }')
K=6
echo "in-process: 8 images of 64x64 in ${best} s; backlog: $K requests of $N images"
"$SB_CHECK" nchw "$N" 64 64 3 "$SB_TMP/slow.bin" || sb_fail "cannot make inputs"
expect_reply OK -x AI.TENSORSET slow FLOAT "$N" 3 64 64 BLOB <"$SB_TMP/slow.bin"
"$SB_CHECK" nchw 2 32 32 4 "$SB_TMP/small.bin" || sb_fail "cannot make inputs"
expect_reply OK -x AI.TENSORSET small FLOAT 2 3 32 32 BLOB <"$SB_TMP/small.bin"

# start_backlog KEY TAG: queues K runs of KEY on the slow input (outputs
# TAG1..TAGK, replies in $SB_TMP/TAGi.reply, pids in BACKLOG_PIDS) and waits
# until all are submitted.
start_backlog() {
  local i
  BACKLOG_PIDS=""
  for i in $(seq "$K"); do
    sb_cli AI.MODELEXECUTE "$1" INPUTS 1 slow OUTPUTS 1 "$2$i" >"$SB_TMP/$2$i.reply" 2>&1 &
    BACKLOG_PIDS="$BACKLOG_PIDS $!"
  done
  # All K submitted (blocked, or already answered), and one of them running.
  for _ in $(seq 200); do
    done_=$(grep -l . "$SB_TMP/$2"[0-9]*.reply 2>/dev/null | wc -l)
    blocked=$(sb_cli INFO clients | tr -d '\r' | sed -n 's/^blocked_clients://p')
    [ $((done_ + ${blocked:-0})) -ge "$K" ] && break
    sleep 0.02
  done
  [ $((done_ + ${blocked:-0})) -ge "$K" ] || sb_fail "the backlog was not submitted in 4 s"
}
# work_left TAG WHEN: fails if the whole backlog already replied (then the
# test proved nothing: the in-process timing was off).
work_left() {
  [ -s "$SB_TMP/$1$K.reply" ] && sb_fail "the backlog was done before $2 ($K x $N images)"
  return 0
}
# backlog_done TAG MODEL_FILE: every run of the backlog replied OK and its
# output is the forward pass of MODEL_FILE (checked in-process for the first;
# the others must be the same bytes).
backlog_done() {
  local i
  for p in $BACKLOG_PIDS; do wait "$p"; done
  for i in $(seq "$K"); do
    [ "$(cat "$SB_TMP/$1$i.reply")" = OK ] || sb_fail "backlog run $1$i: $(cat "$SB_TMP/$1$i.reply")"
  done
  run_forward_check "$2" slow "$N" 64 64 "${1}1"
  get_blob "${1}1" "$SB_TMP/first.bin"
  for i in $(seq 2 "$K"); do
    get_blob "$1$i" "$SB_TMP/other.bin"
    cmp -s "$SB_TMP/first.bin" "$SB_TMP/other.bin" || sb_fail "backlog output $1$i differs from ${1}1"
  done
}

# ---- PING while runs are in flight, and TIMEOUT -----------------------------------------------
start_backlog m a
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
work_left a "the PINGs"
[ -s "$SB_TMP/late.reply" ] && sb_fail "the TIMEOUT 1 request replied before the worker reached it"
[ "$worst" -lt 100 ] || sb_fail "PING took ${worst} ms while a run was in flight (bound: 100 ms)"
backlog_done a "$MODEL1"
wait "$LATE_PID"
[ "$(cat "$SB_TMP/late.reply")" = TIMEDOUT ] ||
  sb_fail "queued run with TIMEOUT 1 got [$(cat "$SB_TMP/late.reply")], want TIMEDOUT"
expect_reply 0 EXISTS late
# A TIMEDOUT request is neither a call nor an error.
[ "$(info_field m calls)" = "$K" ] || sb_fail "AI.INFO calls after a TIMEDOUT: $(info_field m calls)"
[ "$(info_field m errors)" = 0 ] || sb_fail "AI.INFO errors after a TIMEDOUT"
# A TIMEOUT that does not pass changes nothing.
expect_reply OK AI.MODELEXECUTE m INPUTS 1 small OUTPUTS 1 intime TIMEOUT 60000
run_forward_check "$MODEL1" small 2 32 32 intime

# ---- replacing the model while its runs are in flight and queued --------------------------------
start_backlog m b
expect_reply OK -x AI.MODELSTORE m SBRESNET CPU TAG seed2 BLOB <"$MODEL2"
work_left b "the model was replaced"
[ "$(info_field m tag)" = seed2 ] || sb_fail "the key does not hold the new model"
backlog_done b "$MODEL1"
expect_reply OK AI.MODELEXECUTE m INPUTS 1 small OUTPUTS 1 new
run_forward_check "$MODEL2" small 2 32 32 new

# ---- deleting the model while its runs are in flight and queued: AI.MODELDEL, then DEL ----------
start_backlog m c
expect_reply OK AI.MODELDEL m
expect_reply 0 EXISTS m
work_left c "the model was deleted"
backlog_done c "$MODEL2"
expect_reply OK -x AI.MODELSTORE m2 SBRESNET CPU BLOB <"$MODEL1"
start_backlog m2 d
expect_reply 1 DEL m2
work_left d "the model was deleted"
backlog_done d "$MODEL1"
sb_alive
echo "module_inflight: OK"
