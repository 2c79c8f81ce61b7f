# Shared helpers for stagebench's shell tests. Source it; do not run it.
#
# Every test that needs a database calls sb_start_redis, which starts a
# throw-away redis-server with the sbai module on a free loopback port and a
# unix socket in a private temporary directory, and stops it on exit.
# Overridable from the environment:
#   SB_REDIS_SERVER  redis-server binary      (default: redis-server on PATH)
#   SB_REDIS_CLI     redis-cli binary         (default: redis-cli on PATH)
#   SB_MODULE        path to sbai.so          (default: set by ctest)
# A test that cannot start its server exits 77, which ctest reports as skipped.

SB_SKIP=77
SB_REDIS_SERVER=${SB_REDIS_SERVER:-redis-server}
SB_REDIS_CLI=${SB_REDIS_CLI:-redis-cli}

sb_fail() { echo "FAIL: $*" >&2; exit 1; }
sb_skip() { echo "SKIP: $*" >&2; exit $SB_SKIP; }

SB_TMP=$(mktemp -d "${TMPDIR:-/tmp}/sbtest.XXXXXX")
SB_CLEANUP_PIDS=""
sb_cleanup() {
  local p
  for p in $SB_CLEANUP_PIDS; do
    kill -CONT "$p" 2>/dev/null
    kill "$p" 2>/dev/null
  done
  for p in $SB_CLEANUP_PIDS; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null
  done
  rm -rf "$SB_TMP"
}
trap sb_cleanup EXIT

# sb_free_port: prints a TCP port on 127.0.0.1 that no socket uses, in any
# state. Ports are drawn below Linux's ephemeral range: every redis-cli call
# leaves its client port in TIME_WAIT, and a server cannot bind a port held
# that way, so drawing from the ephemeral range made starts fail now and then.
sb_free_port() {
  local lo=32768 hi p
  read -r lo hi </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null
  [ "$lo" -gt 12000 ] 2>/dev/null || lo=32768
  for _ in $(seq 200); do
    p=$((10000 + RANDOM % (lo - 10000)))
    grep -q "$(printf ':%04X ' "$p")" /proc/net/tcp /proc/net/tcp6 2>/dev/null && continue
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && continue
    echo "$p"
    return 0
  done
  return 1
}

# sb_start_redis [extra redis-server args...]
# Sets SB_PORT, SB_SOCK, SB_PID, SB_REDIS_LOG, SSDB_TCP, SSDB_UNIX. A port
# taken between the check and the bind (another test) is retried elsewhere.
sb_start_redis() {
  command -v "$SB_REDIS_SERVER" >/dev/null 2>&1 || sb_skip "redis-server not found"
  command -v "$SB_REDIS_CLI" >/dev/null 2>&1 || sb_skip "redis-cli not found"
  [ -n "${SB_MODULE:-}" ] && [ -f "$SB_MODULE" ] || sb_fail "SB_MODULE not set or missing: ${SB_MODULE:-}"
  local attempt
  for attempt in 1 2 3; do
    SB_PORT=$(sb_free_port) || sb_skip "no free port"
    SB_SOCK=$SB_TMP/redis.sock
    SB_REDIS_LOG=$SB_TMP/redis.log
    rm -f "$SB_SOCK"
    "$SB_REDIS_SERVER" --port "$SB_PORT" --bind 127.0.0.1 --unixsocket "$SB_SOCK" \
      --unixsocketperm 700 --save '' --appendonly no --protected-mode no \
      --dir "$SB_TMP" --logfile "$SB_REDIS_LOG" --daemonize no \
      --loadmodule "$SB_MODULE" "$@" &
    SB_PID=$!
    SB_CLEANUP_PIDS="$SB_CLEANUP_PIDS $SB_PID"
    for _ in $(seq 300); do
      if [ "$("$SB_REDIS_CLI" -p "$SB_PORT" ping 2>/dev/null)" = "PONG" ]; then
        SSDB_TCP="tcp://127.0.0.1:$SB_PORT"
        SSDB_UNIX="unix://$SB_SOCK"
        return 0
      fi
      kill -0 "$SB_PID" 2>/dev/null || break
      sleep 0.05
    done
    kill -9 "$SB_PID" 2>/dev/null
    grep -q "Address already in use" "$SB_REDIS_LOG" 2>/dev/null || break
  done
  cat "$SB_REDIS_LOG" >&2 2>/dev/null
  sb_skip "redis-server with the module did not start on port $SB_PORT"
}

# sb_cli ARGS...: redis-cli against the test server (raw output).
sb_cli() { "$SB_REDIS_CLI" -p "$SB_PORT" "$@"; }

# sb_alive: fails the test unless the server process lives and answers PING.
# sb_expect_exit WANT RC FILE WHAT: shows FILE (a command's output) and fails
# unless its exit status RC is WANT. Call it right after the command:
#   cmd > "$SB_TMP/out" 2>&1; sb_expect_exit 3 $? "$SB_TMP/out" "the consumer"
sb_expect_exit() {
  cat "$3"
  [ "$2" = "$1" ] || sb_fail "$4 exited $2, expected $1"
}

# sb_expect_gave_up PID T0 BOUND MARGIN WHAT: the app PID (a child of this
# shell, writing $SB_TMP/stdout and stderr) must end by itself, non-zero,
# within BOUND + MARGIN s of T0 (date +%s.%N). Waits for it (polling), kills
# it and fails at BOUND + MARGIN + 15 s; prints its output and a line with
# the time it took, which SB_TOOK keeps.
sb_expect_gave_up() {
  local pid=$1 t0=$2 bound=$3 margin=$4 what=$5 rc
  for _ in $(seq $(( (bound + margin + 15) * 10 ))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    kill -9 "$pid"
    cat "$SB_TMP/stdout" "$SB_TMP/stderr"
    sb_fail "$what: still running $((bound + margin + 15)) s later"
  fi
  wait "$pid"
  rc=$?
  SB_TOOK=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
  cat "$SB_TMP/stdout" "$SB_TMP/stderr"
  echo "$what: the app ended $SB_TOOK s later (exit $rc; bound $bound s + $margin s margin)"
  [ $rc != 0 ] || sb_fail "$what: exit code 0"
  awk -v e="$SB_TOOK" -v b="$bound" -v m="$margin" 'BEGIN { exit !(e < b + m) }' ||
    sb_fail "$what: took $SB_TOOK s to give up (bound $bound s + $margin s)"
}

sb_alive() {
  kill -0 "$SB_PID" 2>/dev/null || { cat "$SB_REDIS_LOG" >&2; sb_fail "redis-server died"; }
  [ "$(sb_cli ping)" = "PONG" ] || sb_fail "redis-server does not answer PING"
}

# sb_monitor_start: records every command the test server receives (redis-cli
# MONITOR) into SB_MONITOR_LOG, for sb_wait_commands; returns once the
# recording runs. MONITOR slows the server a little: only for the tests that
# wait on the apps' progress.
sb_monitor_start() {
  SB_MONITOR_LOG=$SB_TMP/monitor.log
  sb_cli monitor > "$SB_MONITOR_LOG" 2>&1 &
  SB_CLEANUP_PIDS="$SB_CLEANUP_PIDS $!"
  for _ in $(seq 200); do
    grep -q '^OK' "$SB_MONITOR_LOG" 2>/dev/null && return 0
    sleep 0.05
  done
  sb_fail "redis-cli monitor did not start"
}

# sb_wait_commands REGEX N [TIMEOUT_S] [PID] [LOG...]: waits until the
# server has received N commands whose MONITOR line matches REGEX (grep -E,
# case blind), e.g. '"AI.TENSORGET" "sb:tp:rank0"'; fails after TIMEOUT_S
# (default 60) or when PID (the app) ends first, showing the LOG files.
sb_wait_commands() {
  local re=$1 n=$2 t=${3:-60} pid=${4:-} i
  shift 4 2>/dev/null || shift $#
  for i in $(seq $((t * 20))); do
    [ "$(grep -aciE -- "$re" "$SB_MONITOR_LOG" 2>/dev/null)" -ge "$n" ] && return 0
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
      [ $# -gt 0 ] && cat "$@" >&2
      sb_fail "the app ended before the server saw $n commands matching $re"
    fi
    sleep 0.05
  done
  [ $# -gt 0 ] && cat "$@" >&2
  sb_fail "the server saw fewer than $n commands matching $re within $t s"
}

# sb_wait_h5_samples FILE [N] [TIMEOUT_S] [PID]: waits until the running
# app's checkpointed FILE holds at least N (default 1) timed samples of rank
# 0 (run the app with --checkpoint-interval 1): the app is in its timed
# loop. Fails after TIMEOUT_S (default 60) or when PID ends first.
sb_wait_h5_samples() {
  local f=$1 n=${2:-1} t=${3:-60} pid=${4:-}
  for _ in $(seq $((t * 10))); do
    "$SB_BIN_DIR/h5_expect" "$f" --status running --min-samples "$n" --phase loop_time \
      >/dev/null 2>&1 && return 0
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
      sb_fail "the app ended before $f held $n samples"
    fi
    sleep 0.1
  done
  sb_fail "$f held fewer than $n timed samples within $t s"
}
