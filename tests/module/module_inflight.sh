# While runs are in flight (one worker, one kernel thread; a backlog of
# requests on a resnet18 with small images, sized from an in-process timing
# to take about 2.4 s; each part is redone with twice the work, up to two
# times, if the backlog turns out to be done before the part could act):
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

# ---- the slow work: K requests of N images of 64 x 64 each, about 0.4 s per
# request (N from the best of 3 in-process timings), queued behind each other
# on the one worker: a backlog of about 2.4 s. ------------------------------
size_slow_input "$MODEL1" 0.4
K=6
echo "in-process: 8 images of 64x64 in ${best} s; backlog: $K requests of $N images"
set_slow
"$SB_CHECK" nchw 2 32 32 4 "$SB_TMP/small.bin" || sb_fail "cannot make inputs"
expect_reply OK -x AI.TENSORSET small FLOAT 2 3 32 32 BLOB <"$SB_TMP/small.bin"

# start_backlog KEY TAG: queues K runs of KEY on the slow input (outputs
# TAG1..TAGK, replies in $SB_TMP/TAGi.reply, pids in BACKLOG_PIDS) and waits
# until all are submitted.
start_backlog() {
  local i done_ blocked
  BACKLOG_PIDS=""
  rm -f "$SB_TMP/$2"[0-9]*.reply
  for i in $(seq "$K"); do
    sb_cli AI.MODELEXECUTE "$1" INPUTS 1 slow OUTPUTS 1 "$2$i" >"$SB_TMP/$2$i.reply" 2>&1 &
    BACKLOG_PIDS="$BACKLOG_PIDS $!"
  done
  # All K submitted: blocked, or already answered.
  for _ in $(seq 200); do
    done_=$(grep -l . "$SB_TMP/$2"[0-9]*.reply 2>/dev/null | wc -l)
    blocked=$(sb_cli INFO clients | tr -d '\r' | sed -n 's/^blocked_clients://p')
    [ $((done_ + ${blocked:-0})) -ge "$K" ] && return 0
    sleep 0.02
  done
  sb_fail "the backlog was not submitted in 4 s"
}
# work_left TAG: true while the backlog's last run has not replied.
work_left() {
  [ ! -s "$SB_TMP/$1$K.reply" ]
}
# too_soon TAG WHAT: the backlog was done before WHAT (the timing was off):
# waits for its clients and returns 2, for `attempt` to redo the part.
too_soon() {
  local p
  echo "the backlog ($K x $N images) was done before $2: again with twice the work"
  for p in $BACKLOG_PIDS $EXTRA_PIDS; do wait "$p"; done
  return 2
}
# backlog_done TAG MODEL_FILE: every run of the backlog replied OK and its
# output is the forward pass of MODEL_FILE (checked in-process for the first;
# the others must be the same bytes).
backlog_done() {
  local i p
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
# attempt PART: runs the function PART; when it returns 2, doubles the work
# and runs it again (at most 3 tries).
attempt() {
  local rc
  for try in 1 2 3; do
    EXTRA_PIDS=""
    "$1"
    rc=$?
    [ $rc = 0 ] && return 0
    [ $rc = 2 ] || sb_fail "$1 failed ($rc)"
    N=$((N * 2))
    set_slow
  done
  sb_fail "$1: the backlog was always done too soon, even with $K x $N images"
}

# ---- PING while runs are in flight, and TIMEOUT -------------------------------------------------
ping_and_timeout() {
  local worst=0 ms
  expect_reply OK -x AI.MODELSTORE m SBRESNET CPU TAG seed1 BLOB <"$MODEL1"
  start_backlog m a
  sb_cli AI.MODELEXECUTE m INPUTS 1 small OUTPUTS 1 late TIMEOUT 1 >"$SB_TMP/late.reply" 2>&1 &
  EXTRA_PIDS=$!
  wait_queued 1
  for _ in 1 2 3 4 5; do
    ms=$(ping_ms)
    [ "$ms" -gt "$worst" ] && worst=$ms
    sleep 0.05
  done
  work_left a || too_soon a "the PINGs" || return
  echo "PING while a run is in flight: worst of 5 round trips ${worst} ms"
  [ "$worst" -lt 100 ] || sb_fail "PING took ${worst} ms while a run was in flight (bound: 100 ms)"
  [ -s "$SB_TMP/late.reply" ] && sb_fail "the TIMEOUT 1 request replied before the worker reached it"
  backlog_done a "$MODEL1"
  wait "$EXTRA_PIDS"
  [ "$(cat "$SB_TMP/late.reply")" = TIMEDOUT ] ||
    sb_fail "queued run with TIMEOUT 1 got [$(cat "$SB_TMP/late.reply")], want TIMEDOUT"
  expect_reply 0 EXISTS late
  # A TIMEDOUT request is neither a call nor an error.
  [ "$(info_field m calls)" = "$K" ] || sb_fail "AI.INFO calls after a TIMEDOUT: $(info_field m calls)"
  [ "$(info_field m errors)" = 0 ] || sb_fail "AI.INFO errors after a TIMEDOUT"
  # A TIMEOUT that does not pass changes nothing.
  expect_reply OK AI.MODELEXECUTE m INPUTS 1 small OUTPUTS 1 intime TIMEOUT 60000
  run_forward_check "$MODEL1" small 2 32 32 intime
}
attempt ping_and_timeout

# ---- replacing the model while its runs are in flight and queued --------------------------------
replace_during_runs() {
  expect_reply OK -x AI.MODELSTORE m SBRESNET CPU TAG seed1 BLOB <"$MODEL1"
  start_backlog m b
  expect_reply OK -x AI.MODELSTORE m SBRESNET CPU TAG seed2 BLOB <"$MODEL2"
  work_left b || too_soon b "the model was replaced" || return
  [ "$(info_field m tag)" = seed2 ] || sb_fail "the key does not hold the new model"
  backlog_done b "$MODEL1"
  expect_reply OK AI.MODELEXECUTE m INPUTS 1 small OUTPUTS 1 new
  run_forward_check "$MODEL2" small 2 32 32 new
}
attempt replace_during_runs

# ---- deleting the model while its runs are in flight and queued: AI.MODELDEL, then DEL ----------
delete_during_runs() {
  expect_reply OK -x AI.MODELSTORE m SBRESNET CPU TAG seed2 BLOB <"$MODEL2"
  start_backlog m c
  expect_reply OK AI.MODELDEL m
  expect_reply 0 EXISTS m
  work_left c || too_soon c "the model was deleted" || return
  backlog_done c "$MODEL2"
}
attempt delete_during_runs
del_during_runs() {
  expect_reply OK -x AI.MODELSTORE m2 SBRESNET CPU BLOB <"$MODEL1"
  start_backlog m2 d
  expect_reply 1 DEL m2
  work_left d || too_soon d "the model was deleted" || return
  backlog_done d "$MODEL1"
}
attempt del_during_runs
sb_alive
echo "module_inflight: OK"
