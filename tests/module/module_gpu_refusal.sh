# GPU devices where the server cannot use one (issue 8): without CUDA in the
# build, or with CUDA but no GPU visible, AI.MODELSTORE ... GPU / GPU:n gets
# one clear error line and stores nothing; malformed GPU devices are refused
# by name; scripts refuse GPU devices; the GPU load options parse and are
# range-checked; CPU models keep working and report device CPU. The server
# answers PING after every refusal. Where a GPU is visible the refusals of GPU
# and GPU:0 do not apply: that part is skipped, said so, and the GPU tests
# (tests/gpu, label gpu) run those devices instead.
set -u
. "$SB_SOURCE_DIR/tests/lib/sbtest.sh"
. "$SB_SOURCE_DIR/tests/module/module_lib.sh"

# ---- load options ---------------------------------------------------------------------
# Refused values keep the module (and so redis-server) from starting, with
# the reason in the log.
refused_load() {
  local want=$1 log=$SB_TMP/refused.log
  shift
  rm -f "$log"
  timeout 20 "$SB_REDIS_SERVER" --port 0 --unixsocket "$SB_TMP/refused.sock" --save '' --appendonly no --dir "$SB_TMP" \
    --logfile "$log" --daemonize no --loadmodule "$SB_MODULE" "$@" >/dev/null 2>&1 &&
    sb_fail "redis-server started with sbai options $*"
  grep -q -- "$want" "$log" || sb_fail "options $*: log lacks [$want]: $(tail -n 3 "$log")"
}
command -v "$SB_REDIS_SERVER" >/dev/null 2>&1 || sb_skip "redis-server not found"
refused_load "GPU_POOL_INIT (2147483648 bytes) exceeds GPU_POOL_MAX (1073741824 bytes)" \
  GPU_POOL_INIT 2G GPU_POOL_MAX 1G
refused_load "invalid value 'BF16' for GPU_PRECISION: expected FP32 or TF32" GPU_PRECISION BF16
refused_load "invalid value '1T' for GPU_POOL_MAX" GPU_POOL_MAX 1T

sb_start_redis GPU_POOL_INIT 64M GPU_POOL_MAX 1G GPU_PRECISION fp32
expect_reply 67108864 AI.CONFIG GET GPU_POOL_INIT
expect_reply 1073741824 AI.CONFIG GET gpu_pool_max
expect_reply 0 AI.CONFIG GET GPU_PRECISION

# ---- what the server says about GPUs ----------------------------------------------------
gpu=$(sb_cli AI.INFO | awk 'want { print; exit } $0 == "gpu" { want = 1 }')
devices=$(sb_cli AI.INFO | awk '$0 == "devices" { on = 1; next } $0 == "gpu" { exit } on')
echo "AI.INFO gpu: $gpu; devices: $(echo $devices)"
case "$gpu" in
  "built without CUDA") want_gpu="ERR built without CUDA: device 'GPU:0' is not available" ;;
  "no GPU visible to the server"*) want_gpu="ERR no GPU visible to the server" ;;
  *" visible"*) want_gpu="" ;;
  *) sb_fail "AI.INFO gpu field is [$gpu]" ;;
esac
if [ -n "$want_gpu" ]; then
  [ "$(echo $devices)" = CPU ] || sb_fail "no usable GPU, but AI.INFO devices is [$devices]"
fi

# ---- malformed devices (every build) -----------------------------------------------------
for dev in GPU:x GPU: GPU:-1 GPU:01 GPU:64 GPU:1:2 gpu:99999999999 "GPU: 1" "GPU:+1"; do
  expect_error "ERR invalid device '$dev': expected GPU:<n> with n a GPU number from 0 to 63" \
    AI.MODELSTORE m SBRESNET "$dev" BLOB x
done
expect_error "ERR unknown device 'GPU0' (expected CPU, GPU or GPU:<n>)" AI.MODELSTORE m SBRESNET GPU0 BLOB x
expect_error "ERR unknown device 'CPU:0'" AI.MODELSTORE m TORCH CPU:0 BLOB x
expect_error "ERR unknown device ''" AI.MODELSTORE m TORCH "" BLOB x
expect_reply 0 EXISTS m

# ---- scripts stay on the CPU -----------------------------------------------------------------
SRC=$'def pre_process_3ch(image):\n    return image\n'
for dev in GPU GPU:0 gpu:3; do
  expect_error "ERR device '$dev': scripts run on the CPU in sbai (store the script with device CPU; models take GPU devices)" \
    AI.SCRIPTSET t "$dev" SOURCE "$SRC"
  expect_error "ERR device '$dev': scripts run on the CPU in sbai" \
    AI.SCRIPTSTORE t "$dev" ENTRY_POINTS 1 pre_process_3ch SOURCE "$SRC"
done
expect_reply 0 EXISTS t

# ---- GPU and GPU:n without a usable GPU ---------------------------------------------------
model=$SB_TMP/tiny.safetensors
have_model=0
if [ -x "${SB_BIN_DIR:-}/sb-model" ] && [ -x "$SB_CHECK" ]; then
  need_tiny_model "$model"
  have_model=1
fi
if [ -n "$want_gpu" ]; then
  for dev in GPU GPU:0 gpu:0 GPU:7 GPU:63; do
    n=${dev#*:}; [ "$n" = "$dev" ] && n=0
    want=$want_gpu
    case "$gpu" in "built without CUDA") want="ERR built without CUDA: device 'GPU:$n' is not available" ;; esac
    expect_error "$want" AI.MODELSTORE m SBRESNET "$dev" BLOB x
    expect_error "$want" AI.MODELSTORE m TORCH "$dev" TAG v1 BATCHSIZE 4 BLOB x
    if [ "$have_model" = 1 ]; then
      # A valid model changes nothing: the device is refused first.
      got=$(sb_cli -x AI.MODELSTORE m SBRESNET "$dev" BLOB <"$model" 2>&1)
      case "$got" in "$want"*) ;; *) sb_fail "valid blob on $dev -> [$got], want [$want]" ;; esac
      sb_alive
    fi
  done
  expect_reply 0 EXISTS m
else
  echo "SKIP part: a GPU is visible ($gpu); GPU and GPU:0 are exercised by tests/gpu (label gpu)"
  n=$(echo $devices | wc -w)
  expect_error "ERR device 'GPU:63' does not exist: the server sees $((n - 1)) GPU" \
    AI.MODELSTORE m SBRESNET GPU:63 BLOB x
fi

# ---- the CPU path is unchanged -------------------------------------------------------------
if [ "$have_model" = 1 ]; then
  sb_cli -x AI.MODELSTORE mc SBRESNET cpu TAG t BLOB <"$model" >/dev/null
  [ "$(info_field mc device)" = CPU ] || sb_fail "AI.INFO device of a CPU model is not CPU"
  sb_cli AI.MODELGET mc META | awk 'want { print; exit } $0 == "device" { want = 1 }' |
    grep -qx CPU || sb_fail "AI.MODELGET META device of a CPU model is not CPU"
  "$SB_CHECK" nchw 2 32 32 5 "$SB_TMP/in.bin" || sb_fail "sbai_check nchw failed"
  sb_cli -x AI.TENSORSET x FLOAT 2 3 32 32 BLOB <"$SB_TMP/in.bin" >/dev/null
  expect_reply OK AI.MODELEXECUTE mc INPUTS 1 x OUTPUTS 1 y
  run_forward_check "$model" x 2 32 32 y
else
  echo "SKIP part: sb-model or sbai_check not built: the CPU model check is not run here"
fi
sb_alive
echo "module_gpu_refusal: ok"
