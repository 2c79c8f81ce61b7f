# What the batch-template tests (tests/slurm/slurm_template.sh and
# pbs_template.sh) share: the tiny knobs of each template and the check of
# the HDF5 files its cases wrote. Source after tests/lib/sbtest.sh.
#   sb_template_knobs NAME        exports the knobs of template NAME and sets
#                                 cases to how many cases its sweep runs;
#                                 fails the test for an unknown NAME
#   sb_template_check_h5 OUT N    checks that every case's HDF5 file under OUT
#                                 is complete and that there are at least N

sb_template_knobs() {
  # A colocated database's socket of this test's own, not the default
  # /tmp/stagebench/db.sock that another test running at once may hold.
  case $1 in *_colocated) export SB_COLOCATED_SOCKET=$SB_TMP/colocated/db.sock ;; esac
  case $1 in
    throughput) export TENSOR_BYTES="1K 64K" ; cases=2 ;;
    throughput_colocated) export TENSOR_BYTES="4K" PIN_APP_CPUS=1 ; cases=1 ;;
    inference|inference_colocated) export MODEL=tiny BATCH_SIZE="1 2" ; cases=2 ;;
    aggregation) export TENSOR_BYTES="1K" CLIENT_THREADS="1 2" ; cases=2 ;;
    *) sb_fail "unknown template $1" ;;
  esac
}

sb_template_check_h5() {
  local f n=0
  for f in "$1"/*/run.h5 "$1"/*/producer.h5 "$1"/*/consumer.h5; do
    [ -f "$f" ] || continue
    "$SB_BIN_DIR/h5_expect" "$f" --status complete >/dev/null || sb_fail "$f is not complete"
    n=$((n + 1))
  done
  [ $n -ge "$2" ] || sb_fail "only $n HDF5 files for $2 cases"
}
