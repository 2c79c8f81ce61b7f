# The metrics sampler (common/sb_metrics.c) during a real sb-throughput run
# over loopback TCP: /metrics has samples, CPU utilisation within [0, 100],
# byte counters that only grow, loopback bytes at least the payload moved,
# and NVML recorded as unavailable where no GPU is visible. Then
# --metrics-interval 0 writes no /metrics.
# Usage: metrics.sh NRANKS
. "$SB_SOURCE_DIR/tests/lib/sbtest.sh"
np=${1:-2}
iters=200 size=64K
sb_start_redis
out=$SB_TMP/run.h5
mpiexec -n "$np" "$SB_BIN_DIR/sb-throughput" --db "$SSDB_TCP" --mode raw --tensor-bytes $size \
  --iterations $iters --metrics-interval 20 --out "$out" > "$SB_TMP/stdout" 2> "$SB_TMP/stderr"
rc=$?
[ $rc = 0 ] || { cat "$SB_TMP/stdout" "$SB_TMP/stderr"; sb_fail "sb-throughput exited $rc"; }
"$SB_BIN_DIR/h5_expect" "$out" --status complete --param metrics-interval=20 ||
  sb_fail "metrics-interval not in /params"
if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
  nvml="available"
else
  nvml="unavailable"
fi
# Every iteration puts and gets 64 KiB per rank through loopback.
"$SB_BIN_DIR/h5_metrics_check" "$out" "$nvml" $((np * iters * 2 * 65536)) ||
  sb_fail "/metrics not as expected"
mpiexec -n "$np" "$SB_BIN_DIR/sb-throughput" --db "$SSDB_TCP" --mode raw --tensor-bytes 1K \
  --iterations 5 --metrics-interval 0 --out "$out" > "$SB_TMP/stdout" 2>&1 ||
  { cat "$SB_TMP/stdout"; sb_fail "sb-throughput with --metrics-interval 0 failed"; }
"$SB_BIN_DIR/h5_metrics_check" "$out" none || sb_fail "/metrics written with --metrics-interval 0"
sb_alive
echo "PASS: metrics, $np ranks"
