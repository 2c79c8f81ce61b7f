# A run whose client disconnects while it waits in the queue is taken out of
# the queue and never executed (a client that gives up, e.g. SmartRedis after
# its socket timeout, and re-sends must not leave a backlog of orphan runs):
# - with one worker busy on a slow resnet18 run (sized from an in-process
#   timing to about 1 s), four model runs and one script run queue behind it
#   on raw connections; closing three of them (two model runs, the script
#   run) removes them from the queue at once: queue_length drops to 2 while
#   the first run is still running, and AI.INFO counts them (`disconnected`
#   of the model, of the script, and of the module);
# - the two kept clients get OK and their outputs; the dropped ones wrote
#   nothing; no run of theirs was counted as a call;
# - a client that disconnects while its run executes does not interrupt it
#   (the run is never counted as disconnected) and the server keeps serving.
# If the first run ends before the part could act (a much faster machine),
# the part is redone with twice the work, at most three times.
set -u
. "$SB_SOURCE_DIR/tests/lib/sbtest.sh"
. "$SB_SOURCE_DIR/tests/module/module_lib.sh"

sb_start_redis THREADS_PER_QUEUE 1 INTRA_OP_PARALLELISM 1
MODEL=$SB_TMP/r18.safetensors
need_model "$MODEL" resnet18 1

size_slow_input "$MODEL" 1.0
echo "in-process: 8 images of 64x64 in ${best} s; the slow run: $N images"
set_slow
"$SB_CHECK" nchw 1 32 32 4 "$SB_TMP/small.bin" || sb_fail "cannot make inputs"
expect_reply OK -x AI.TENSORSET small FLOAT 1 3 32 32 BLOB <"$SB_TMP/small.bin"
expect_reply OK AI.TENSORSET img FLOAT 1 4 4 3
expect_reply OK -x AI.MODELSTORE r TORCH CPU BLOB <"$MODEL"
expect_reply OK AI.SCRIPTSET s CPU SOURCE $'def pre_process_3ch(x):\n    return x\n'

module_field() {
  sb_cli AI.INFO | awk -v f="$1" 'want { print; exit } $0 == f { want = 1 }'
}
# wait_for DESC CMD...: waits (at most 20 s) until CMD succeeds.
wait_for() {
  local desc=$1
  shift
  for _ in $(seq 400); do
    "$@" && return 0
    sleep 0.05
  done
  sb_fail "not within 20 s: $desc"
}
queued_is() { [ "$(module_field queue_length)" = "$1" ]; }
blocked_is() {
  [ "$(sb_cli INFO clients | tr -d '\r' | sed -n 's/^blocked_clients://p')" = "$1" ]
}
field_is() { [ "$(info_field "$1" "$2")" = "$3" ]; }

# open_run FD_VAR ARGS...: a new connection (its descriptor in FD_VAR) that
# sends one inline command and is left waiting for the reply.
open_run() {
  local var=$1 fd
  shift
  exec {fd}<>"/dev/tcp/127.0.0.1/$SB_PORT" || sb_fail "cannot connect to port $SB_PORT"
  printf '%s\r\n' "$*" >&"$fd"
  printf -v "$var" '%s' "$fd"
}
reply_of() {
  local line
  IFS= read -r -t 60 line <&"$1" || line="(no reply within 60 s)"
  printf '%s' "${line%$'\r'}"
}

BASE_DISC=0
drop_queued() {
  local a_pid k1 k2 d1 d2 d3 r s base_r base_s
  base_r=$(info_field r disconnected)
  base_s=$(info_field s disconnected)
  sb_cli AI.MODELEXECUTE r INPUTS 1 slow OUTPUTS 1 first >"$SB_TMP/first.reply" 2>&1 &
  a_pid=$!
  wait_for "the first run is taken by the worker" blocked_is 1
  wait_for "the first run leaves the queue" queued_is 0
  open_run k1 AI.MODELEXECUTE r INPUTS 1 small OUTPUTS 1 kept1
  open_run d1 AI.MODELEXECUTE r INPUTS 1 small OUTPUTS 1 gone1
  open_run d3 AI.SCRIPTEXECUTE s pre_process_3ch INPUTS 1 img OUTPUTS 1 gone3
  open_run d2 AI.MODELEXECUTE r INPUTS 1 small OUTPUTS 1 gone2
  open_run k2 AI.MODELEXECUTE r INPUTS 1 small OUTPUTS 1 kept2
  wait_for "five runs queued" queued_is 5
  eval "exec $d1>&- $d2>&- $d3>&-"
  wait_for "the model's two dropped runs counted" field_is r disconnected $((base_r + 2))
  wait_for "the script's dropped run counted" field_is s disconnected $((base_s + 1))
  r=$(module_field queue_length)
  if [ -s "$SB_TMP/first.reply" ]; then
    wait "$a_pid"
    eval "reply_of $k1 >/dev/null; reply_of $k2 >/dev/null; exec $k1>&- $k2>&-"
    echo "the first run was done before the clients left: again with twice the work"
    return 2
  fi
  [ "$r" = 2 ] || sb_fail "after three clients left, queue_length is $r while the first run still runs (want 2)"
  echo "three clients left: their runs were taken out of the queue while the first run was running"
  wait "$a_pid"
  [ "$(cat "$SB_TMP/first.reply")" = OK ] || sb_fail "the first run: $(cat "$SB_TMP/first.reply")"
  s=$(reply_of "$k1")
  [ "$s" = "+OK" ] || sb_fail "kept run 1 replied [$s]"
  s=$(reply_of "$k2")
  [ "$s" = "+OK" ] || sb_fail "kept run 2 replied [$s]"
  eval "exec $k1>&- $k2>&-"
  expect_reply 1 EXISTS kept1
  expect_reply 1 EXISTS kept2
  expect_reply 0 EXISTS gone1
  expect_reply 0 EXISTS gone2
  expect_reply 0 EXISTS gone3
  BASE_DISC=$((BASE_DISC + 3))
  [ "$(module_field disconnected)" = "$BASE_DISC" ] ||
    sb_fail "AI.INFO disconnected (module): $(module_field disconnected), want $BASE_DISC"
  [ "$(info_field s calls)" = 0 ] || sb_fail "the dropped script run was counted as a call"
  return 0
}
for try in 1 2 3; do
  drop_queued
  rc=$?
  [ $rc = 0 ] && break
  [ $try = 3 ] && sb_fail "the first run was always done too soon, even with $N images"
  N=$((N * 2))
  set_slow
done
calls=$(info_field r calls)
[ "$calls" -ge 3 ] || sb_fail "AI.INFO r calls: $calls, want the first and the two kept runs"

# ---- a client that leaves while its run executes: the run completes ---------------------------
before=$(info_field r disconnected)
open_run busy AI.MODELEXECUTE r INPUTS 1 slow OUTPUTS 1 busyout
wait_for "the run is taken by the worker" blocked_is 1
wait_for "the run leaves the queue" queued_is 0
eval "exec $busy>&-"
wait_for "the running run's client is gone" blocked_is 0
# The worker still finishes it; a run queued after it then completes.
expect_reply OK AI.MODELEXECUTE r INPUTS 1 small OUTPUTS 1 after
[ "$(info_field r disconnected)" = "$before" ] ||
  sb_fail "a run already executing was counted as disconnected"
# Its output was dropped with its client, as in RedisAI.
expect_reply 0 EXISTS busyout
sb_alive
echo "module_disconnect: OK"
