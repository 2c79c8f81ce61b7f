# Checkpointed results: the HDF5 file exists from the start of the run and
# gets every rank's samples at each checkpoint, so that a killed run keeps
# them; output problems are found before the first iteration.
#
#   checkpoint.sh kill_rank   SIGKILL of one rank: file readable, status running
#   checkpoint.sh kill_job    SIGKILL of every rank: the same
#   checkpoint.sh out_errors  missing dir, read-only dir, '', a directory, a
#                             100 KB label: refused before the loop
#   checkpoint.sh disk_full   a 1 MiB tmpfs: refused up front (space); and a
#                             disk that fills during the run: bounded end,
#                             readable file
#   checkpoint.sh complete    a complete run with checkpoints: every sample
. "$SB_SOURCE_DIR/tests/lib/sbtest.sh"
case=$1
tp=$SB_BIN_DIR/sb-throughput
expect=$SB_BIN_DIR/h5_expect

# wait_for_samples FILE N: until FILE holds >= N samples of rank 0 (a
# checkpoint was written), bounded by 60 s.
wait_for_samples() {
  for _ in $(seq 600); do
    "$expect" "$1" --status running --min-samples "$2" --phase loop_time >/dev/null 2>&1 && return 0
    kill -0 "$app" 2>/dev/null || { cat "$SB_TMP/out" "$SB_TMP/err"; sb_fail "the app ended early"; }
    sleep 0.1
  done
  cat "$SB_TMP/err"
  sb_fail "no checkpoint with $2 samples in $1 within 60 s"
}

# A killed run must leave a readable file whose samples are real numbers.
check_killed_file() {
  "$expect" "$1" --status running --nranks "$2" --min-samples 1 --phase put_tensor \
    --phase unpack_tensor --phase loop_time || sb_fail "killed run's file not as expected"
}

case $case in
kill_rank | kill_job)
  sb_start_redis
  mpiexec -n 2 "$tp" --db "$SSDB_TCP" --tensor-bytes 1K --iterations 1000000 \
    --checkpoint-interval 1 --metrics-interval 0 --out "$SB_TMP/run.h5" >"$SB_TMP/out" 2>"$SB_TMP/err" &
  app=$!
  wait_for_samples "$SB_TMP/run.h5" 1
  if [ "$case" = kill_rank ]; then
    pids=$(pgrep -f "^$tp --db $SSDB_TCP" | head -1)
  else
    pids=$(pgrep -f "^$tp --db $SSDB_TCP")
  fi
  [ -n "$pids" ] || sb_fail "no rank process found"
  # shellcheck disable=SC2086
  kill -9 $pids
  for _ in $(seq 300); do kill -0 $app 2>/dev/null || break; sleep 0.1; done
  kill -0 $app 2>/dev/null && { pkill -9 -f "sb-throughput --db $SSDB_TCP"; sb_fail "the job did not end within 30 s of the kill"; }
  wait $app && sb_fail "a killed job exited 0"
  check_killed_file "$SB_TMP/run.h5" 2
  ;;
complete)
  sb_start_redis
  mpiexec -n 2 "$tp" --db "$SSDB_TCP" --tensor-bytes 1K --iterations 3000 \
    --checkpoint-interval 1 --out "$SB_TMP/run.h5" >"$SB_TMP/out" 2>"$SB_TMP/err" ||
    { cat "$SB_TMP/out" "$SB_TMP/err"; sb_fail "run failed"; }
  "$expect" "$SB_TMP/run.h5" --status complete --nranks 2 --samples 3000 \
    --rank-sum iterations_completed=6000 || sb_fail "complete file not as expected"
  ;;
out_errors)
  sb_start_redis
  mkdir -p "$SB_TMP/ro"
  # refused: $1 --out value, $2 what the message must say
  refused() {
    local t0 t1 rc
    t0=$(date +%s)
    "$tp" --db "$SSDB_TCP" --tensor-bytes 1K --iterations 1000000 --out "$1" "${@:3}" \
      >"$SB_TMP/out" 2>"$SB_TMP/err"
    rc=$?
    t1=$(date +%s)
    [ $rc != 0 ] || sb_fail "--out '$1' was accepted"
    grep -q "$2" "$SB_TMP/err" || { cat "$SB_TMP/err"; sb_fail "--out '$1': message does not say '$2'"; }
    grep -q "^  loop_time" "$SB_TMP/out" && sb_fail "--out '$1': the loop ran"
    [ $((t1 - t0)) -lt 30 ] || sb_fail "--out '$1' took $((t1 - t0)) s to be refused"
    echo "refused --out '$1' (exit $rc): $(grep -v '^(see' "$SB_TMP/err" | head -1)"
    last_rc=$rc
  }
  refused "" "empty"
  [ "$last_rc" = 2 ] || sb_fail "--out '' exit $last_rc, not 2"
  refused "$SB_TMP/no/such/dir/x.h5" "does not exist"
  [ "$last_rc" = 2 ] || sb_fail "missing directory: exit $last_rc, not 2"
  refused "$SB_TMP" "is a directory"
  # A read-only mount, where this machine lets us make one; else a
  # read-only bind is out of reach and the case is said to be skipped.
  if mount -t tmpfs -o size=1m,ro tmpfs "$SB_TMP/ro" 2>/dev/null; then
    refused "$SB_TMP/ro/x.h5" "not writable"
    umount "$SB_TMP/ro"
  else
    echo "read-only mount: not possible here (mount refused), case skipped"
  fi
  big=$(head -c 100000 /dev/zero | tr '\0' x)
  refused "$SB_TMP/label.h5" "at most" --label "big=$big"
  [ ! -e "$SB_TMP/.writing" ] || sb_fail "a stray .writing file"
  ;;
disk_full)
  sb_start_redis
  mkdir -p "$SB_TMP/d"
  mount -t tmpfs -o size=1m tmpfs "$SB_TMP/d" 2>/dev/null || sb_skip "cannot mount a tmpfs here"
  trap 'umount -l "$SB_TMP/d" 2>/dev/null; sb_cleanup' EXIT
  # 1. The run could not fit: refused before the first iteration.
  t0=$(date +%s)
  timeout 60 mpiexec -n 4 "$tp" --db "$SSDB_TCP" --tensor-bytes 1K --iterations 20000 \
    --metrics-interval 0 --out "$SB_TMP/d/x.h5" >"$SB_TMP/out" 2>"$SB_TMP/err"
  rc=$?
  [ $rc != 124 ] || sb_fail "disk-full run did not end within 60 s"
  [ $rc != 0 ] || sb_fail "disk-full run exited 0"
  grep -q "free" "$SB_TMP/err" || { cat "$SB_TMP/err"; sb_fail "no message about the space"; }
  grep -q "^  loop_time" "$SB_TMP/out" && sb_fail "the loop ran although the file could not fit"
  echo "too big for the disk: exit $rc in $(($(date +%s) - t0)) s: $(grep error "$SB_TMP/err" | head -1)"
  # 2. The disk fills while the run goes on, then the run is stopped
  # (SIGTERM, as a walltime would; 1M tensors keep it going well past its
  # first checkpoint on an idle machine too): the last write fails for want of
  # space; the run still ends within its bound, says where its samples are,
  # and the file stays readable with the last checkpoint's samples.
  mpiexec -n 2 "$tp" --db "$SSDB_TCP" --tensor-bytes 1M --iterations 8000 \
    --checkpoint-interval 1 --out "$SB_TMP/d/y.h5" >"$SB_TMP/out" 2>"$SB_TMP/err" &
  app=$!
  wait_for_samples "$SB_TMP/d/y.h5" 1
  dd if=/dev/zero of="$SB_TMP/d/filler" bs=4k 2>/dev/null
  # to every rank, as a batch system's walltime signal goes
  pkill -TERM -f "^$tp --db $SSDB_TCP"
  for _ in $(seq 600); do kill -0 $app 2>/dev/null || break; sleep 0.1; done
  kill -0 $app 2>/dev/null && { kill -9 $app; sb_fail "the run did not end within 60 s of SIGTERM on a full disk"; }
  wait $app
  rc=$?
  cat "$SB_TMP/err"
  [ $rc = 1 ] || sb_fail "a stopped run on a full disk exited $rc, not 1"
  if "$expect" "$SB_TMP/d/y.h5" --status partial --nranks 2 --min-samples 1 >/dev/null 2>&1; then
    echo "the last write fitted in what was left (exit $rc, partial file)"
  else
    check_killed_file "$SB_TMP/d/y.h5" 2
    grep -q "checkpoint" "$SB_TMP/err" || sb_fail "the error does not say where the samples are"
    echo "disk full at the end: exit $rc, the file keeps its last checkpoint"
  fi
  ;;
*) sb_fail "unknown case $case" ;;
esac
echo PASS
