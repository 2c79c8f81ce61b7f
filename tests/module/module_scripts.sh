# Scripts: the old SmartRedis flow (AI.SCRIPTSET / AI.SCRIPTRUN) and the new
# one (AI.SCRIPTSTORE / AI.SCRIPTEXECUTE) run the built-in pre_process_3ch,
# whose output matches the formula computed in-process; AI.SCRIPTGET, AI.INFO,
# AI.SCRIPTDEL; scripts that name no built-in, and functions that are not
# entry points, are refused.
set -u
. "$SB_SOURCE_DIR/tests/lib/sbtest.sh"
. "$SB_SOURCE_DIR/tests/module/module_lib.sh"

need_check
sb_start_redis

SRC=$'import torch\n\ndef pre_process_3ch(image):\n    return image.float().div(255)\n\ndef post_process(x):\n    return x.argmax()\n'

# Images: N=2, 40 x 36, HWC floats 0..255.
"$SB_CHECK" image 2 40 36 7 "$SB_TMP/hwc.bin" || sb_fail "cannot make the test images"
expect_reply OK -x AI.TENSORSET img FLOAT 2 40 36 3 BLOB <"$SB_TMP/hwc.bin"

check_pre() { # KEY N: KEY holds pre_process_3ch of the first N images
  local n=$2
  expect_reply "$(printf 'dtype\nFLOAT\nshape\n%s\n3\n40\n36' "$n")" AI.TENSORGET "$1" META
  "$SB_CHECK" slice "$SB_TMP/hwc.bin" 0 $((n * 40 * 36 * 3)) "$SB_TMP/hwc_n.bin" || sb_fail slice
  get_blob "$1" "$SB_TMP/pre.bin"
  "$SB_CHECK" preprocess "$SB_TMP/hwc_n.bin" "$n" 40 36 "$SB_TMP/pre.bin" >"$SB_TMP/check.log" 2>&1 ||
    sb_fail "$1: $(cat "$SB_TMP/check.log")"
}

# ---- the old flow: AI.SCRIPTSET + AI.SCRIPTRUN ------------------------------------------
expect_reply OK AI.SCRIPTSET s_old CPU SOURCE "$SRC"
expect_reply OK AI.SCRIPTRUN s_old pre_process_3ch INPUTS img OUTPUTS pre_old
check_pre pre_old 2
expect_reply OK AI.SCRIPTRUN s_old pre_process_3ch TIMEOUT 10000 INPUTS img OUTPUTS pre_old
check_pre pre_old 2

# ---- the new flow: AI.SCRIPTSTORE + AI.SCRIPTEXECUTE ---------------------------------------
expect_reply OK AI.SCRIPTSTORE s_new cpu TAG v2 ENTRY_POINTS 1 pre_process_3ch SOURCE "$SRC"
expect_reply OK AI.SCRIPTEXECUTE s_new pre_process_3ch KEYS 2 img pre_new INPUTS 1 img \
  OUTPUTS 1 pre_new TIMEOUT 10000
check_pre pre_new 2
# Sections in another order, no KEYS, ARGS 0.
expect_reply OK AI.SCRIPTEXECUTE s_new pre_process_3ch OUTPUTS 1 pre_new2 ARGS 0 INPUTS 1 img
check_pre pre_new2 2
# A rank-3 image [H][W][3] is batch 1; input and output may be the same key
# (the input was copied when the run was queued).
"$SB_CHECK" slice "$SB_TMP/hwc.bin" 0 $((40 * 36 * 3)) "$SB_TMP/one.bin" || sb_fail slice
expect_reply OK -x AI.TENSORSET one FLOAT 40 36 3 BLOB <"$SB_TMP/one.bin"
expect_reply OK AI.SCRIPTEXECUTE s_new pre_process_3ch INPUTS 1 one OUTPUTS 1 one
check_pre one 1

# ---- AI.SCRIPTGET ----------------------------------------------------------------------
expect_reply "$(printf 'device\nCPU\ntag\nv2\nEntry Points\npre_process_3ch')" AI.SCRIPTGET s_new META
sb_cli AI.SCRIPTGET s_new SOURCE >"$SB_TMP/src.txt"
truncate -s -1 "$SB_TMP/src.txt"
[ "$(cat "$SB_TMP/src.txt"; echo x)" = "${SRC}x" ] || sb_fail "AI.SCRIPTGET SOURCE differs"
sb_cli AI.SCRIPTGET s_old >"$SB_TMP/get.txt"
head -n 4 "$SB_TMP/get.txt" | tr '\n' ' ' | grep -q '^device CPU tag  $' ||
  sb_fail "AI.SCRIPTGET s_old: $(head -n 5 "$SB_TMP/get.txt")"
grep -q '^source$' "$SB_TMP/get.txt" && grep -q '^Entry Points$' "$SB_TMP/get.txt" ||
  sb_fail "AI.SCRIPTGET without arguments lacks source or Entry Points"

# ---- AI.INFO ------------------------------------------------------------------------------
[ "$(info_field s_new type)" = SCRIPT ] || sb_fail "AI.INFO type: $(sb_cli AI.INFO s_new)"
[ "$(info_field s_new calls)" = 3 ] || sb_fail "AI.INFO s_new calls: $(info_field s_new calls)"
[ "$(info_field s_new executions)" = 3 ] || sb_fail "AI.INFO s_new executions"
[ "$(info_field s_new errors)" = 0 ] || sb_fail "AI.INFO s_new errors"
[ "$(info_field s_new samples)" = -1 ] || sb_fail "AI.INFO s_new samples (RedisAI: -1 for scripts)"
[ "$(info_field s_new tag)" = v2 ] || sb_fail "AI.INFO s_new tag"
[ "$(info_field s_old calls)" = 2 ] || sb_fail "AI.INFO s_old calls: $(info_field s_old calls)"
# RESETSTAT replies the layout of AI.INFO key with the statistics it resets.
got=$(sb_cli AI.INFO s_old RESETSTAT | tr '\n' ' ')
case "$got" in
  "key s_old type SCRIPT backend BUILTIN device CPU tag "*" calls 2 errors 0 executions 2 disconnected 0 ") ;;
  *) sb_fail "AI.INFO s_old RESETSTAT -> [$got]" ;;
esac
[ "$(info_field s_old calls)" = 0 ] || sb_fail "AI.INFO RESETSTAT did not reset"

# ---- refused scripts and functions ----------------------------------------------------------
expect_error "ERR the script defines no built-in function" \
  AI.SCRIPTSET bad CPU SOURCE $'def add(a, b):\n    return a + b\n'
expect_error "ERR the script defines no built-in function (sbai does not interpret TorchScript; it runs only its built-ins: pre_process_3ch" \
  AI.SCRIPTSET bad CPU TAG x SOURCE ""
expect_error "ERR entry point 'add' is not a built-in function" \
  AI.SCRIPTSTORE bad CPU ENTRY_POINTS 1 add SOURCE $'def add(a, b):\n    return a + b\n'
expect_error "ERR entry point 'pre_process_3ch' is not defined in the script's source" \
  AI.SCRIPTSTORE bad CPU ENTRY_POINTS 1 pre_process_3ch SOURCE $'def add(a, b):\n    return a\n'
expect_error "ERR entry point 'a b' is not a valid function name" \
  AI.SCRIPTSTORE bad CPU ENTRY_POINTS 1 "a b" SOURCE "$SRC"
expect_reply 0 EXISTS bad
expect_error "ERR function 'post_process' is not a built-in" \
  AI.SCRIPTEXECUTE s_new post_process INPUTS 1 img OUTPUTS 1 x
expect_error "ERR function 'nosuch' is not a built-in" \
  AI.SCRIPTRUN s_old nosuch INPUTS img OUTPUTS x
expect_reply 0 EXISTS x

# ---- deleting ------------------------------------------------------------------------------
expect_reply OK AI.SCRIPTDEL s_old
expect_error "ERR script key is empty" AI.SCRIPTDEL s_old
expect_error "ERR script key is empty" AI.SCRIPTGET s_old
expect_reply 1 DEL s_new
expect_error "ERR script key is empty" AI.SCRIPTEXECUTE s_new pre_process_3ch INPUTS 1 img OUTPUTS 1 y
sb_alive
echo "module_scripts: OK"
