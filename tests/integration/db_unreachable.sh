# A database that is not there: a clear error naming the address, within
# the connect timeout, and a non-zero exit; no hang.
. "$SB_SOURCE_DIR/tests/lib/sbtest.sh"
port=$(sb_free_port) || sb_skip "no free port"
export SB_DB_CONNECT_TIMEOUT=2
t0=$(date +%s.%N)
timeout 30 mpiexec -n 2 "$SB_BIN_DIR/sb-throughput" --db "tcp://127.0.0.1:$port" --mode raw \
  --iterations 5 --out "$SB_TMP/run.h5" > "$SB_TMP/stdout" 2> "$SB_TMP/stderr"
rc=$?
t1=$(date +%s.%N)
cat "$SB_TMP/stderr"
[ $rc != 0 ] || sb_fail "exit code 0 with no database"
[ $rc != 124 ] || sb_fail "hung (killed by timeout)"
grep -q "127.0.0.1:$port" "$SB_TMP/stderr" || sb_fail "error does not name the address"
grep -q "within 2.0 s" "$SB_TMP/stderr" || sb_fail "error does not state the bound"
elapsed=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
echo "failed after $elapsed s (bound 2 s + start-up)"
awk -v e="$elapsed" 'BEGIN { exit !(e < 10) }' || sb_fail "took $elapsed s"
# The run leaves a file that says it failed.
"$SB_BIN_DIR/h5_expect" "$SB_TMP/run.h5" --status failed --nranks 2 || sb_fail "no failed-status file"

# A malformed address is a clear error too.
mpiexec -n 1 "$SB_BIN_DIR/sb-throughput" --db "tcp://127.0.0.1:notaport" --iterations 1 \
  > /dev/null 2> "$SB_TMP/stderr2"
[ $? != 0 ] || sb_fail "bad address accepted"
grep -q "invalid database address" "$SB_TMP/stderr2" || { cat "$SB_TMP/stderr2"; sb_fail "no clear message for a bad address"; }
echo PASS
