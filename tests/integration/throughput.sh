# sb-throughput end to end against a real redis-server with the module.
# Usage: throughput.sh MODE NRANKS [tcp|unix] [SIZE]
. "$SB_SOURCE_DIR/tests/lib/sbtest.sh"
mode=$1 np=$2 via=${3:-tcp} size=${4:-64K}
iters=20
sb_start_redis
addr=$SSDB_TCP
[ "$via" = unix ] && addr=$SSDB_UNIX
out=$SB_TMP/run.h5
mpiexec -n "$np" "$SB_BIN_DIR/sb-throughput" --db "$addr" --mode "$mode" \
  --tensor-bytes "$size" --iterations $iters --warmup 2 --label test=integration \
  --out "$out" > "$SB_TMP/stdout" 2> "$SB_TMP/stderr"
rc=$?
cat "$SB_TMP/stdout"
[ $rc = 0 ] || { cat "$SB_TMP/stderr"; sb_fail "sb-throughput exited $rc"; }
grep -q "^# sb-throughput: $np ranks" "$SB_TMP/stdout" || sb_fail "no figure-of-merit line"
grep -q "^# verification: every byte read back matched" "$SB_TMP/stdout" || sb_fail "no verification line"
for ph in put_tensor unpack_tensor loop_time client_init; do
  grep -q "^  $ph " "$SB_TMP/stdout" || sb_fail "table lacks $ph"
done
bytes=$(case $size in *K) echo $(( ${size%K} * 1024 ));; *M) echo $(( ${size%M} * 1048576 ));; *) echo "$size";; esac)
"$SB_BIN_DIR/h5_expect" "$out" --status complete --nranks "$np" --samples $iters \
  --phase client_init --phase put_tensor --phase unpack_tensor --phase loop_time \
  --param "mode=$mode" --param "tensor-bytes=$bytes" --param "iterations=$iters" \
  --param "db=$addr" --param "label.test=integration" \
  --system hdf5_version --system mpi_library --system hiredis_version \
  --system db_redis_version --system db_module_sbai_version || sb_fail "HDF5 file not as expected"
# The keys the app wrote are cleaned up.
[ "$(sb_cli dbsize)" = 0 ] || sb_fail "keys left behind: $(sb_cli keys '*')"
sb_alive
echo "PASS: $mode, $np ranks, via $via, $size"
