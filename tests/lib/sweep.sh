# What the sweep restart tests (tests/frontend/sweep_resume.sh and
# tests/integration/db_restart_sweep.sh) share. Source after
# tests/lib/sbtest.sh.
#   sb_wait_cases_done LOG N PID   waits (60 s at most) until the sweep log
#                                  LOG shows N cases "... done", or until PID
#                                  has exited
#   sb_count_ran_once OUT          checks every throughput case under OUT ran
#                                  at most twice and wrote a complete run.h5;
#                                  sets ran_once to how many ran exactly once

sb_wait_cases_done() {
  local _
  for _ in $(seq 600); do
    [ "$(grep -c '\.\.\. done' "$1")" -ge "$2" ] && return 0
    kill -0 "$3" 2>/dev/null || return 0
    sleep 0.1
  done
}

sb_count_ran_once() {
  local d a
  ran_once=0
  for d in "$1"/throughput_*; do
    a=$(cat "$d/attempts")
    [ "$a" = 1 ] && ran_once=$((ran_once + 1))
    [ "$a" -le 2 ] || sb_fail "$d ran $a times"
    "$SB_BIN_DIR/h5_expect" "$d/run.h5" --status complete >/dev/null || sb_fail "$d/run.h5 not complete"
  done
}
