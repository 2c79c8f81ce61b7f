# SmartRedis's Python client (from PyPI, as in tests/smartredis) with
# TorchScript through the TORCH backend: set_model_from_file, set_model,
# run_model, set_script, set_script_from_file, set_function and run_script
# give torch's own answers (tests/torch/smartredis_torch.py).
#
# Needs sbai_torch.so (a build with -DSB_LIBTORCH=...), a Python with torch
# to make the cases (tests/torch/torch_venv.sh says where it looks) and the
# SmartRedis venv (tests/lib/smartredis_venv.sh); skipped (77), saying why,
# without any of them.
set -u
. "$SB_SOURCE_DIR/tests/lib/sbtest.sh"
. "$SB_SOURCE_DIR/tests/lib/smartredis_venv.sh"

HERE=$SB_SOURCE_DIR/tests/torch
. "$HERE/torch_venv.sh"
sb_torch_need_plugin
sb_torch_find_venv torch numpy ||
  sb_skip "no venv with torch and numpy to make the TorchScript cases (set SB_TORCH_VENV)"
"$VENV/bin/python" "$HERE/make_torch_cases.py" "$SB_TMP" || sb_fail "cannot make the TorchScript cases"

smartredis_python
echo "SmartRedis venv: $PY"
sb_start_redis BACKEND_TORCH "$SB_TORCH_PLUGIN"
"$PY" "$HERE/smartredis_torch.py" "127.0.0.1:$SB_PORT" "$SB_TMP" ||
  sb_fail "SmartRedis with TorchScript differs from torch (see above)"
sb_alive
echo "PASS: SmartRedis with TorchScript"
