# SIGTERM while the client is still connecting (a long SB_DB_CONNECT_TIMEOUT)
# ends the run within a few seconds, not when the connect timeout runs out:
#   1. a port nobody listens on: the retry loop (refused, pause, again);
#   2. a listener whose accept queue is full: one handshake that hangs
#      (SYNs dropped), so a single attempt must not outlast the signal.
# The signal goes to every rank, as a batch system's walltime kill sends it
# (not to mpiexec itself: Hydra signalled that way may report exit 0 for
# ranks that exited 1, which is Hydra's affair, not the app's). Each case waits for the client to be in its connect (a log
# line, a SYN_SENT socket), never for a fixed time.
. "$SB_SOURCE_DIR/tests/lib/sbtest.sh"
export SB_DB_CONNECT_TIMEOUT=60
# A run that honours the signal ends within a second or two; the bound is
# generous (a loaded machine slows the exit) yet far from the 60 s timeout.
BOUND=15

# run_and_kill NAME ADDRESS NP CONDITION: starts sb-throughput against
# ADDRESS, waits until CONDITION (a shell command) holds, sends SIGTERM and
# checks how long the run took to end after it.
run_and_kill() {
  local name=$1 addr=$2 np=$3 cond=$4 pid rc t0 t1 elapsed ok=0
  local log=$SB_TMP/$name.log
  setsid mpiexec -n "$np" "$SB_BIN_DIR/sb-throughput" --db "$addr" --mode raw --iterations 5 \
    --log-level debug --out "$SB_TMP/$name.h5" > "$log" 2>&1 &
  pid=$!
  SB_CLEANUP_PIDS="$SB_CLEANUP_PIDS $pid"
  for _ in $(seq 400); do # 20 s at most, well inside the 60 s connect timeout
    if eval "$cond"; then ok=1; break; fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  [ $ok = 1 ] || { cat "$log"; kill -KILL -- -"$pid" 2>/dev/null; sb_fail "$name: the client never got to its connect"; }
  t0=$(date +%s.%N)
  pkill -TERM -f "^$SB_BIN_DIR/sb-throughput --db $addr " || sb_fail "$name: no rank process to signal"
  wait "$pid"
  rc=$?
  t1=$(date +%s.%N)
  elapsed=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
  cat "$log"
  echo "$name: exit $rc, $elapsed s after SIGTERM (connect timeout $SB_DB_CONNECT_TIMEOUT s)"
  awk -v e="$elapsed" -v b="$BOUND" 'BEGIN { exit !(e < b) }' ||
    sb_fail "$name: took $elapsed s after SIGTERM (bound $BOUND s)"
  [ "$rc" != 0 ] || sb_fail "$name: exit 0 without a database"
  grep -q "interrupted by a signal while connecting to" "$log" || sb_fail "$name: no message saying the connect was interrupted"
}

# 1. Refused: the retry loop. Ready once rank 0 logged its first attempt.
port=$(sb_free_port) || sb_skip "no free port"
run_and_kill refused "tcp://127.0.0.1:$port" 2 \
  "grep -q 'connect to tcp://127.0.0.1:$port, attempt 1:' \"\$SB_TMP/refused.log\""

# 2. A handshake that hangs: a listener with a backlog of 0 and one
# connection queued that it never accepts; further SYNs are dropped.
command -v python3 >/dev/null 2>&1 || { echo "python3 not found: the hanging handshake is not tried"; echo PASS; exit 0; }
python3 - "$SB_TMP/blackhole.port" <<'EOF' &
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(0)
c = socket.create_connection(s.getsockname(), timeout=5)  # fills the queue
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write("%d\n" % s.getsockname()[1])
import os
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
time.sleep(120)
EOF
bh=$!
SB_CLEANUP_PIDS="$SB_CLEANUP_PIDS $bh"
for _ in $(seq 200); do [ -s "$SB_TMP/blackhole.port" ] && break; kill -0 $bh 2>/dev/null || break; sleep 0.05; done
[ -s "$SB_TMP/blackhole.port" ] || sb_fail "the listener with a full queue did not start"
bport=$(cat "$SB_TMP/blackhole.port")
# Ready once a socket to that port waits in SYN_SENT (state 02): ours, the
# listener's own connection is established.
hex=$(printf '%04X' "$bport")
run_and_kill hanging "tcp://127.0.0.1:$bport" 1 \
  "awk -v r='0100007F:$hex' '\$3 == r && \$4 == \"02\" { f = 1 } END { exit !f }' /proc/net/tcp"
echo PASS
