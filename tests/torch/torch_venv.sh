# Finds a Python with torch for the tests under tests/torch. Source it after
# sbtest.sh; do not run it.
#   sb_torch_find_venv MODULE...
#       sets VENV to the first of $SB_TORCH_VENV, build-peers/peers-venv
#       (tests/bench/inference_vs_peers.sh makes one), <build>/peers-venv and
#       <build>/torch-venv whose bin/python imports every MODULE; returns 1
#       (VENV empty) when none does.
sb_torch_has() {
  local v=$1 imports
  shift
  imports=$(IFS=,; echo "$*")
  [ -x "$v/bin/python" ] && "$v/bin/python" -c "import $imports" >/dev/null 2>&1
}
sb_torch_find_venv() {
  local v
  VENV=""
  for v in "${SB_TORCH_VENV:-}" "$SB_SOURCE_DIR/build-peers/peers-venv" "${SB_BUILD_DIR:-}/peers-venv" \
           "${SB_BUILD_DIR:-}/torch-venv"; do
    if [ -n "$v" ] && sb_torch_has "$v" "$@"; then VENV=$v; return 0; fi
  done
  return 1
}

# sb_torch_need_plugin: skips the test (77) unless SB_TORCH_PLUGIN names a
# built sbai_torch.so.
sb_torch_need_plugin() {
  [ -n "${SB_TORCH_PLUGIN:-}" ] && [ -f "$SB_TORCH_PLUGIN" ] ||
    sb_skip "sbai_torch.so is not built (configure with -DSB_LIBTORCH=<libtorch, torch package dir or venv>)"
}
