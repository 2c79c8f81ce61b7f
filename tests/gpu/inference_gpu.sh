# sb-inference --device gpu through redis-server + sbai (issue 8).
# Usage: inference_gpu.sh refused|run
#   refused  where the server sees no usable GPU (built without CUDA, or no
#            GPU visible): the run fails with the server's error, exit 1,
#            status=failed in the HDF5 file, no model stored. Skipped (77)
#            where a GPU is visible.
#   run      where a GPU is visible: the tiny model on GPU:0 with 2 ranks and
#            --num-devices 1, every iteration verified against the CPU forward
#            pass (bound from AI.CONFIG GET GPU_PRECISION); AI.INFO and the
#            HDF5 file name the device. Skipped (77) without a GPU.
. "$SB_SOURCE_DIR/tests/lib/sbtest.sh"
mode=${1:-refused}
[ -x "$SB_BIN_DIR/sb-inference" ] || sb_fail "sb-inference not built"
sb_start_redis
gpu=$(sb_cli AI.INFO | awk 'want { print; exit } $0 == "gpu" { want = 1 }')
echo "# server: $gpu"
usable=1
case "$gpu" in "built without CUDA"|"no GPU visible"*) usable=0 ;; esac
out=$SB_TMP/run.h5
run() {
  mpiexec -n 2 "$SB_BIN_DIR/sb-inference" --db "$SSDB_TCP" --model tiny --batch-size 2 \
    --device gpu --iterations 4 --warmup 1 --verify-every 1 --out "$out" "$@" \
    > "$SB_TMP/stdout" 2> "$SB_TMP/stderr"
}
if [ "$mode" = refused ]; then
  [ $usable = 0 ] || sb_skip "a GPU is visible ($gpu): the refusal does not apply"
  run --num-devices 2
  rc=$?
  [ $rc = 1 ] || { cat "$SB_TMP/stdout" "$SB_TMP/stderr"; sb_fail "exit $rc, expected 1"; }
  grep -Eq "AI.MODELSTORE: ERR (built without CUDA|no GPU visible to the server)" "$SB_TMP/stderr" ||
    { cat "$SB_TMP/stderr"; sb_fail "the server's error is not reported"; }
  "$SB_BIN_DIR/h5_expect" "$out" --status failed --nranks 2 || sb_fail "HDF5 file not status=failed"
  [ -z "$(sb_cli keys 'sb:inf:model*')" ] || sb_fail "a model was stored: $(sb_cli keys '*')"
  sb_alive
  echo "PASS: sb-inference --device gpu refused: $(grep -o 'ERR [^:]*' "$SB_TMP/stderr" | head -1)"
  exit 0
fi
[ $usable = 1 ] || sb_skip "no usable GPU: $gpu"
run --num-devices 1
rc=$?
cat "$SB_TMP/stdout"
[ $rc = 0 ] || { cat "$SB_TMP/stderr"; sb_fail "sb-inference --device gpu exited $rc"; }
grep -q "^# verification: sampled logits matched" "$SB_TMP/stdout" || sb_fail "no verification line"
"$SB_BIN_DIR/h5_expect" "$out" --status complete --nranks 2 --samples 4 --phase run_model \
  --param "device=gpu" --param "model-device=GPU:0" || sb_fail "HDF5 file not as expected"
dev=$(sb_cli AI.INFO sb:inf:model:tiny:gpu0 | awk 'want { print; exit } $0 == "device" { want = 1 }')
[ "$dev" = GPU:0 ] || sb_fail "AI.INFO device is [$dev], not GPU:0"
sb_alive
echo "PASS: sb-inference on GPU:0 end to end"
