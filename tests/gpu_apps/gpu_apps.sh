# --device gpu in sb-throughput and sb-baseline (issue 8, the apps part).
# Usage:
#   gpu_apps.sh throughput_no_gpu HAVE_CUDA
#   gpu_apps.sh baseline_no_gpu HAVE_CUDA HAVE_NCCL
#       no GPU visible (CUDA_VISIBLE_DEVICES set empty, so this runs on a GPU
#       machine too): refused before any connection, exit 2, with the reason
#       this build gives (no CUDA device visible / built without CUDA /
#       NCCL was not found at build time)
#   gpu_apps.sh throughput MODE NRANKS SIZE      (needs a GPU, else exit 77)
#   gpu_apps.sh baseline PATTERN NRANKS SIZE     (needs NRANKS GPUs, else 77)
#   gpu_apps.sh mpi_allgather NRANKS SIZE        (host MPI_Allgather, no GPU)
. "$SB_SOURCE_DIR/tests/lib/sbtest.sh"
tp="$SB_BIN_DIR/sb-throughput"
bl="$SB_BIN_DIR/sb-baseline"

size_bytes() {
  case $1 in
    *K) echo $(( ${1%K} * 1024 ));;
    *M) echo $(( ${1%M} * 1048576 ));;
    *) echo "$1";;
  esac
}

# expect_refused NP NEEDLE APP ARGS...: exit 2, NEEDLE in the message, no
# file written. The unreachable --db shows the refusal comes before any
# connection (a connection attempt would be a run error, exit 1).
expect_refused() {
  local np=$1 needle=$2; shift 2
  CUDA_VISIBLE_DEVICES= mpiexec -n "$np" "$@" --db tcp://127.0.0.1:1 --out "$SB_TMP/no.h5" \
    > "$SB_TMP/out" 2>&1
  local rc=$?
  cat "$SB_TMP/out"
  [ $rc = 2 ] || sb_fail "'$*' on $np ranks without a GPU exited $rc, expected 2"
  grep -q -- "$needle" "$SB_TMP/out" || sb_fail "'$*': message lacks '$needle'"
  grep -q -- "--device gpu" "$SB_TMP/out" || sb_fail "'$*': message does not name --device gpu"
  [ ! -e "$SB_TMP/no.h5" ] || sb_fail "'$*': a file was written for a refused run"
}

# run_ok WHAT COMMAND...: runs it with stdout and stderr into $SB_TMP, shows
# stdout, and fails (showing stderr) unless it exits 0.
run_ok() {
  local what=$1 rc
  shift
  "$@" > "$SB_TMP/stdout" 2> "$SB_TMP/stderr"
  rc=$?
  cat "$SB_TMP/stdout"
  [ $rc = 0 ] || { cat "$SB_TMP/stderr"; sb_fail "$what exited $rc"; }
}

# need_gpus N: exit 77 (skipped, reason on stderr) unless N GPUs are visible.
need_gpus() {
  local probe="$SB_BIN_DIR/gpu_copy_bw" n
  [ -x "$probe" ] || sb_skip "built without CUDA (no $probe)"
  "$probe" --probe > "$SB_TMP/probe" 2> "$SB_TMP/probe.err" ||
    sb_skip "no GPU visible: $(cat "$SB_TMP/probe.err")"
  n=$(awk '/^devices /{print $2}' "$SB_TMP/probe")
  [ "${n:-0}" -ge "$1" ] || sb_skip "needs $1 GPUs, $n visible"
  sed 's/^/# /' "$SB_TMP/probe"
}

case $1 in
throughput_no_gpu)
  if [ "$2" = 1 ]; then needle="no CUDA device visible"; else needle="built without CUDA"; fi
  expect_refused 1 "$needle" "$tp" --device gpu
  expect_refused 2 "$needle" "$tp" --device gpu --mode raw
  echo "PASS: sb-throughput --device gpu refused: $needle"
  ;;
baseline_no_gpu)
  if [ "$2" != 1 ]; then needle="built without CUDA"
  elif [ "$3" != 1 ]; then needle="NCCL was not found at build time"
  else needle="no CUDA device visible"; fi
  expect_refused 1 "$needle" "$bl" --device gpu --pattern ring
  expect_refused 2 "$needle" "$bl" --device gpu
  expect_refused 2 "$needle" "$bl" --device gpu --pattern allgather
  echo "PASS: sb-baseline --device gpu refused: $needle"
  ;;
throughput)
  mode=$2 np=$3 size=$4 iters=20
  need_gpus 1
  sb_start_redis
  out=$SB_TMP/run.h5
  run_ok "sb-throughput --device gpu" mpiexec -n "$np" "$tp" --device gpu --db "$SSDB_TCP" \
    --mode "$mode" --tensor-bytes "$size" --iterations $iters --warmup 2 --label test=gpu_apps \
    --out "$out"
  grep -q "^# sb-throughput: $np ranks.*from GPU memory" "$SB_TMP/stdout" ||
    sb_fail "no figure-of-merit line naming GPU memory"
  grep -q "^# verification: every byte read back matched" "$SB_TMP/stdout" ||
    sb_fail "no verification line"
  for ph in client_init d2h put_tensor unpack_tensor h2d loop_time; do
    grep -q "^  $ph " "$SB_TMP/stdout" || sb_fail "table lacks $ph"
  done
  "$SB_BIN_DIR/h5_expect" "$out" --status complete --nranks "$np" --samples $iters \
    --phase client_init --phase d2h --phase put_tensor --phase unpack_tensor --phase h2d \
    --phase loop_time --param "device=gpu" --param "mode=$mode" \
    --param "tensor-bytes=$(size_bytes "$size")" \
    --rank-sum verify_errors=0 --rank-sum "iterations_completed=$((np * iters))" \
    --system gpu_rank0_name --system cuda_runtime_version --system cuda_driver_version ||
    sb_fail "HDF5 file not as expected"
  [ "$(sb_cli dbsize)" = 0 ] || sb_fail "keys left behind: $(sb_cli keys '*')"
  sb_alive
  echo "PASS: sb-throughput --device gpu, $mode, $np ranks, $size"
  ;;
baseline)
  pattern=$2 np=$3 size=$4 iters=20
  need_gpus "$np"
  out=$SB_TMP/run.h5
  run_ok "sb-baseline --device gpu" mpiexec -n "$np" "$bl" --device gpu --pattern "$pattern" \
    --tensor-bytes "$size" --iterations $iters --warmup 2 --label test=gpu_apps --out "$out"
  grep -q "^# sb-baseline: $np ranks.* NCCL $pattern, rank 0 algbw .* busbw " "$SB_TMP/stdout" ||
    sb_fail "no figure-of-merit line with NCCL algbw/busbw"
  grep -q "^# verification: every byte received matched" "$SB_TMP/stdout" ||
    sb_fail "no verification line"
  "$SB_BIN_DIR/h5_expect" "$out" --status complete --nranks "$np" --samples $iters \
    --phase "$pattern" --phase loop_time --param "device=gpu" --param "pattern=$pattern" \
    --param "tensor-bytes=$(size_bytes "$size")" \
    --rank-sum verify_errors=0 --rank-sum "iterations_completed=$((np * iters))" \
    --system gpu_rank0_name --system nccl_version || sb_fail "HDF5 file not as expected"
  echo "PASS: sb-baseline --device gpu (NCCL), $pattern, $np ranks, $size"
  ;;
mpi_allgather)
  np=$2 size=$3 iters=20
  out=$SB_TMP/run.h5
  run_ok "sb-baseline --pattern allgather" mpiexec -n "$np" "$bl" --pattern allgather \
    --tensor-bytes "$size" --iterations $iters --warmup 2 --out "$out"
  grep -q "^# sb-baseline: $np ranks.* MPI allgather, rank 0 algbw .* busbw " "$SB_TMP/stdout" ||
    sb_fail "no figure-of-merit line with algbw/busbw"
  grep -q "^# verification: every byte received matched" "$SB_TMP/stdout" ||
    sb_fail "no verification line"
  "$SB_BIN_DIR/h5_expect" "$out" --status complete --nranks "$np" --samples $iters \
    --phase allgather --phase loop_time --param "device=cpu" --param "pattern=allgather" \
    --rank-sum verify_errors=0 || sb_fail "HDF5 file not as expected"
  # bytes_per_sample: what each rank sends, (nranks - 1) x tensor-bytes.
  want=$(( (np - 1) * $(size_bytes "$size") ))
  if command -v h5dump > /dev/null; then
    got=$(h5dump -a /timings/allgather/bytes_per_sample "$out" | awk '/\(0\)/{print $2}')
    [ "$got" = "$want" ] || sb_fail "bytes_per_sample '$got', expected $want"
  else
    echo "# h5dump not found: bytes_per_sample not checked" >&2
  fi
  echo "PASS: sb-baseline MPI allgather, $np ranks, $size"
  ;;
*)
  sb_fail "unknown case '$1'"
  ;;
esac
