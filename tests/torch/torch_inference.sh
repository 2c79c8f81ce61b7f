# sb-inference --backend torch (docs/inference.md): the database runs
# TorchScript made by trace_resnet.py from the same safetensors weights as
# our in-process reference, and verification passes; TorchScript of other
# weights (another seed) is caught by verification (exit 3); both backends'
# models live side by side in one database under their own keys and tags;
# the usage errors and a server without the plugin give their reasons.
#
# Needs the plugin (SB_TORCH_PLUGIN) and a Python with torch, torchvision
# and numpy (torch_venv.sh says where it looks); otherwise skipped (exit 77)
# with the reason.
set -u
. "$SB_SOURCE_DIR/tests/lib/sbtest.sh"

HERE=$SB_SOURCE_DIR/tests/torch
INF=$SB_BIN_DIR/sb-inference
. "$HERE/torch_venv.sh"
sb_torch_need_plugin
sb_torch_find_venv torch torchvision numpy ||
  sb_skip "no venv with torch, torchvision and numpy (set SB_TORCH_VENV; tests/bench/inference_vs_peers.sh makes build-peers/peers-venv)"
PY=$VENV/bin/python
[ -x "$INF" ] && [ -x "$SB_BIN_DIR/sb-model" ] || sb_fail "sb-inference / sb-model not built"
echo "torch from $VENV"

# Weights and their TorchScript: resnet18 of seeds 1 and 2 (random
# batch-norm statistics, so that torch's unfolded batch-norm and our folded
# one really differ in how they compute), tiny of seed 1 (the default
# weights, what sb-inference makes in memory without --weights).
W=$SB_TMP
for m in "resnet18 1 --random-bn" "resnet18 2 --random-bn" "tiny 1"; do
  set -- $m
  f=$W/$1-s$2
  "$SB_BIN_DIR/sb-model" make "$1" --seed "$2" ${3:-} -o "$f.safetensors" >/dev/null ||
    sb_fail "sb-model make $m"
  "$PY" "$HERE/trace_resnet.py" "$f.safetensors" "$f.pt" || sb_fail "trace_resnet.py $f.safetensors"
done

# run NAME EXPECTED_RC ARGS...: sb-inference, its output in $SB_TMP/NAME.out.
run() {
  local name=$1 want=$2 np=1 rc
  shift 2
  if [ "$1" = -n ]; then np=$2; shift 2; fi
  mpiexec -n "$np" "$INF" --batch-size 2 --iterations 2 --warmup 1 --verify-every 1 "$@" \
    >"$SB_TMP/$name.out" 2>&1
  rc=$?
  [ "$rc" = "$want" ] || { cat "$SB_TMP/$name.out"; sb_fail "$name: sb-inference exited $rc, expected $want"; }
}
says() { grep -q -- "$2" "$SB_TMP/$1.out" || { cat "$SB_TMP/$1.out"; sb_fail "$1: no '$2'"; }; }

# ---- usage errors: before any connection (exit 2) --------------------------------------
run no_file 2 --db tcp://127.0.0.1:1 --backend torch --model resnet18
says no_file "--backend torch needs --model-file FILE.pt"
run torch_gpu 2 --db tcp://127.0.0.1:1 --backend torch --model-file "$W/resnet18-s1.pt" --device gpu
says torch_gpu "CPU only"

# ---- a server without the plugin refuses the TorchScript (exit 1) ----------------------
sb_start_redis
run no_plugin 1 --db "$SSDB_TCP" --backend torch --model tiny --model-file "$W/tiny-s1.pt"
says no_plugin "TorchScript models need the TORCH backend"
sb_cli SHUTDOWN NOSAVE >/dev/null 2>&1
for _ in $(seq 100); do kill -0 "$SB_PID" 2>/dev/null || break; sleep 0.05; done

# ---- with the plugin ---------------------------------------------------------------------
sb_start_redis BACKEND_TORCH "$SB_TORCH_PLUGIN" THREADS_PER_QUEUE 1 INTRA_OP_PARALLELISM 2
DB=(--db "$SSDB_TCP")

# resnet18, batch 2: libtorch in the database against our forward in-process.
run r18 0 "${DB[@]}" --backend torch --model resnet18 --model-file "$W/resnet18-s1.pt" \
  --weights "$W/resnet18-s1.safetensors" --out "$SB_TMP/r18.h5"
says r18 "^# verification: sampled logits matched"
says r18 "libtorch (TorchScript)"
"$SB_BIN_DIR/h5_expect" "$SB_TMP/r18.h5" --status complete --nranks 1 --samples 2 \
  --phase run_model --param "backend=torch" --param "model=resnet18" \
  --param "model-file=$W/resnet18-s1.pt" --param "weights=$W/resnet18-s1.safetensors" ||
  sb_fail "r18: HDF5 file not as expected"
meta=$(sb_cli AI.MODELGET sb:inf:model:resnet18:torch META | tr '\n' ' ')
case $meta in
  "backend TORCH device CPU tag resnet18:torch:fnv1a64:"*) ;;
  *) sb_fail "the stored model: $meta" ;;
esac

# TorchScript of other weights (seed 2) against the seed-1 reference: caught.
run r18_mismatch 3 "${DB[@]}" --backend torch --model resnet18 --model-file "$W/resnet18-s2.pt" \
  --weights "$W/resnet18-s1.safetensors" --set-model
says r18_mismatch "^# verification: [0-9]* sampled batches differed"
says r18_mismatch "verification: rank 0 iteration 0: logit"

# Wrong kinds of file, with the reason (exit 1).
run safetensors_as_torch 1 "${DB[@]}" --backend torch --model resnet18 \
  --model-file "$W/resnet18-s1.safetensors"
says safetensors_as_torch "is no TorchScript module"
run torch_as_sbresnet 1 "${DB[@]}" --model resnet18 --model-file "$W/resnet18-s1.pt"
says torch_as_sbresnet "is a TorchScript module: use --backend torch"
run wrong_arch 1 "${DB[@]}" --backend torch --model resnet18 --model-file "$W/resnet18-s1.pt" \
  --weights "$W/tiny-s1.safetensors"
says wrong_arch "holds a tiny, not a resnet18"
run two_safetensors 1 "${DB[@]}" --model resnet18 --model-file "$W/resnet18-s1.safetensors" \
  --weights "$W/resnet18-s2.safetensors"
says two_safetensors "both name the safetensors to store"

# The options of a sweep over --backend (the TorchScript and its weights):
# our backend stores --weights and leaves the TorchScript aside.
run r18_ours 0 "${DB[@]}" --backend sbresnet --model resnet18 --model-file "$W/resnet18-s1.pt" \
  --weights "$W/resnet18-s1.safetensors"
says r18_ours "^# verification: sampled logits matched"
says r18_ours "storing --weights"
[ "$(sb_cli AI.MODELGET sb:inf:model:resnet18 META | sed -n 2p)" = SBRESNET ] ||
  sb_fail "sb:inf:model:resnet18 is not our backend's"

# tiny, 2 ranks, the reference made in memory (--seed 1); then our backend in
# the same database: two models under their own keys and tags, and a second
# torch run finds its model stored.
run tiny_torch 0 -n 2 "${DB[@]}" --backend torch --model tiny --model-file "$W/tiny-s1.pt"
says tiny_torch "^# verification: sampled logits matched"
run tiny_ours 0 -n 2 "${DB[@]}" --model tiny
says tiny_ours "^# verification: sampled logits matched"
run tiny_torch2 0 -n 2 "${DB[@]}" --backend torch --model tiny --model-file "$W/tiny-s1.pt"
says tiny_torch2 "already stored"
[ "$(sb_cli AI.MODELGET sb:inf:model:tiny META | sed -n 2p)" = SBRESNET ] ||
  sb_fail "sb:inf:model:tiny is not our backend's"
[ "$(sb_cli AI.MODELGET sb:inf:model:tiny:torch META | sed -n 2p)" = TORCH ] ||
  sb_fail "sb:inf:model:tiny:torch is not TORCH's"
sb_alive
echo "torch_inference: all checks passed"
