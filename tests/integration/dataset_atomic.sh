# A dataset is all or nothing: a put whose tensor the server refuses leaves no
# meta hash (so no .COMPLETE) and no tensor, and the producer says why.
# Usage: dataset_atomic.sh CASE
#   limit      MAX_TENSOR_BYTES 1K: sb_dataset_put with one tensor over it
#              (dataset_put_check), then sb-agg-producer with 4K tensors
#   maxmemory  maxmemory just above what the server uses, noeviction: a put
#              of 1 MiB is refused (OOM), nothing of it is left
set -u
. "$SB_SOURCE_DIR/tests/lib/sbtest.sh"
case_=$1
export SB_DB_CONNECT_TIMEOUT=2 SB_DB_COMMAND_TIMEOUT=10
CHECK="$SB_BIN_DIR/dataset_put_check"

case $case_ in
  limit)
    sb_start_redis MAX_TENSOR_BYTES 1K
    "$CHECK" "$SSDB_TCP" limit || sb_fail "dataset_put_check limit"
    sb_cli flushall >/dev/null
    rc=0
    timeout 60 mpiexec -n 2 "$SB_BIN_DIR/sb-agg-producer" --db "$SSDB_TCP" --tensor-bytes 4K \
      --iterations 1 --warmup 0 --consume-timeout 5 > "$SB_TMP/p.out" 2>&1 || rc=$?
    cat "$SB_TMP/p.out"
    [ "$rc" = 1 ] || sb_fail "producer exited $rc, expected 1"
    grep -q "put_dataset aggregation_rank_[01]: .*AI.TENSORSET.*MAX_TENSOR_BYTES" "$SB_TMP/p.out" ||
      sb_fail "the producer's error does not name the dataset, the command and the limit"
    for r in 0 1; do
      [ "$(sb_cli exists "{aggregation_rank_${r}}.meta")" = 0 ] || sb_fail "{aggregation_rank_${r}}.meta exists"
      [ "$(sb_cli exists "{aggregation_rank_${r}}.tensor_0")" = 0 ] || sb_fail "{aggregation_rank_${r}}.tensor_0 exists"
    done
    [ "$(sb_cli exists iteration_0)" = 0 ] || sb_fail "a refused dataset was appended to its list"
    ;;
  maxmemory)
    sb_start_redis --maxmemory-policy noeviction
    used=$(sb_cli info memory | tr -d '\r' | sed -n 's/^used_memory://p')
    [ -n "$used" ] || sb_fail "no used_memory"
    # Room for a few of the 16 tensors of 64 KiB, not for all of them.
    [ "$(sb_cli config set maxmemory $((used + 256 * 1024)))" = OK ] || sb_fail "CONFIG SET maxmemory"
    "$CHECK" "$SSDB_TCP" oom || sb_fail "dataset_put_check oom"
    [ "$(sb_cli dbsize)" = 0 ] || sb_fail "keys left behind: $(sb_cli keys '*' | head)"
    ;;
  *) sb_fail "unknown case $case_" ;;
esac
sb_alive
echo "PASS: dataset_atomic $case_"
