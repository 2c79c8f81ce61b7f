# Models: AI.MODELSTORE of the tiny test model (plain, TORCH alias, several
# BLOB chunks), AI.MODELGET (RedisAI's META layout, the exact BLOB back),
# AI.MODELEXECUTE and AI.MODELRUN whose outputs equal the in-process forward
# pass of the same file, the SmartRedis pipeline (AI.SCRIPTSET/SCRIPTRUN of
# pre_process_3ch then AI.MODELRUN), AI.INFO, malformed runs of a stored
# model, AI.MODELDEL and DEL.
set -u
. "$SB_SOURCE_DIR/tests/lib/sbtest.sh"
. "$SB_SOURCE_DIR/tests/module/module_lib.sh"

sb_start_redis
MODEL=$SB_TMP/tiny.safetensors
need_tiny_model "$MODEL"

# ---- AI.MODELSTORE / AI.MODELGET -------------------------------------------------------
expect_reply OK -x AI.MODELSTORE tiny SBRESNET CPU TAG tiny:seed1 BLOB <"$MODEL"
expect_reply "$(printf 'backend\nSBRESNET\ndevice\nCPU\ntag\ntiny:seed1\nbatchsize\n0\nminbatchsize\n0\ninputs\n\noutputs\n\nminbatchtimeout\n0')" \
  AI.MODELGET tiny META
sb_cli AI.MODELGET tiny BLOB >"$SB_TMP/got.bin"
truncate -s -1 "$SB_TMP/got.bin"
cmp -s "$SB_TMP/got.bin" "$MODEL" || sb_fail "AI.MODELGET BLOB is not the stored file"
sb_cli AI.MODELGET tiny >"$SB_TMP/get_all.txt"
grep -aq '^blob$' "$SB_TMP/get_all.txt" || sb_fail "AI.MODELGET without arguments has no blob"

# TORCH (SmartRedis's backend name), lower-case device, names, and the blob in
# three chunks, as clients send big models.
size=$(stat -c %s "$MODEL")
third=$((size / 3))
head -c $third "$MODEL" >"$SB_TMP/c1"
tail -c +$((third + 1)) "$MODEL" | head -c $third >"$SB_TMP/c2"
tail -c +$((2 * third + 1)) "$MODEL" >"$SB_TMP/c3"
got=$(resp_command AI.MODELSTORE chunked TORCH cpu TAG "" BATCHSIZE 4 MINBATCHSIZE 2 \
  MINBATCHTIMEOUT 50 INPUTS 1 image OUTPUTS 1 logits BLOB "@$SB_TMP/c1" "@$SB_TMP/c2" "@$SB_TMP/c3")
[ "$got" = "+OK" ] || sb_fail "chunked AI.MODELSTORE: $got"
expect_reply "$(printf 'backend\nSBRESNET\ndevice\nCPU\ntag\n\nbatchsize\n4\nminbatchsize\n2\ninputs\nimage\noutputs\nlogits\nminbatchtimeout\n50')" \
  AI.MODELGET chunked META
sb_cli AI.MODELGET chunked BLOB >"$SB_TMP/got.bin"
truncate -s -1 "$SB_TMP/got.bin"
cmp -s "$SB_TMP/got.bin" "$MODEL" || sb_fail "the chunks were not stored as one blob"
# A truncated blob is refused and changes nothing.
got=$(resp_command AI.MODELSTORE chunked TORCH CPU BLOB "@$SB_TMP/c1" "@$SB_TMP/c2")
case "$got" in -ERR\ cannot\ load\ the\ model:*) ;; *) sb_fail "truncated blob: $got" ;; esac
sb_cli AI.MODELGET chunked META | grep -q '^batchsize$' || sb_fail "refused store changed the key"
sb_alive

# ---- AI.MODELEXECUTE / AI.MODELRUN ------------------------------------------------------
"$SB_CHECK" nchw 3 32 32 11 "$SB_TMP/x.bin" || sb_fail "cannot make inputs"
expect_reply OK -x AI.TENSORSET x FLOAT 3 3 32 32 BLOB <"$SB_TMP/x.bin"
expect_reply OK AI.MODELEXECUTE tiny INPUTS 1 x OUTPUTS 1 y
meta=$(sb_cli AI.TENSORGET y META | tr '\n' ' ')
case "$meta" in "dtype FLOAT shape 3 "[0-9]*" ") ;; *) sb_fail "output META: $meta" ;; esac
run_forward_check "$MODEL" x 3 32 32 y
expect_reply OK AI.MODELEXECUTE tiny INPUTS 1 x OUTPUTS 1 y2 TIMEOUT 60000
run_forward_check "$MODEL" x 3 32 32 y2
expect_reply OK AI.MODELRUN tiny INPUTS x OUTPUTS y3
run_forward_check "$MODEL" x 3 32 32 y3
expect_reply OK AI.MODELRUN tiny TIMEOUT 60000 INPUTS x OUTPUTS y4
run_forward_check "$MODEL" x 3 32 32 y4
# Any height and width of at least 32, and the output may replace the input.
"$SB_CHECK" nchw 1 48 40 12 "$SB_TMP/x2.bin" || sb_fail "cannot make inputs"
expect_reply OK -x AI.TENSORSET x2 FLOAT 1 3 48 40 BLOB <"$SB_TMP/x2.bin"
expect_reply OK AI.MODELEXECUTE chunked INPUTS 1 x2 OUTPUTS 1 y5
run_forward_check "$MODEL" x2 1 48 40 y5
expect_reply OK AI.MODELEXECUTE tiny INPUTS 1 x2 OUTPUTS 1 x2
get_blob x2 "$SB_TMP/inplace.bin"
cmp -s "$SB_TMP/inplace.bin" "$SB_TMP/fwd_out.bin" || sb_fail "in-place run differs from y5"

# ---- the SmartRedis pipeline: script, then model --------------------------------------------
SRC=$'def pre_process_3ch(image):\n    return image.float().div(255)\n'
expect_reply OK AI.SCRIPTSET script CPU SOURCE "$SRC"
"$SB_CHECK" image 2 32 32 5 "$SB_TMP/img.bin" || sb_fail "cannot make images"
expect_reply OK -x AI.TENSORSET img FLOAT 2 32 32 3 BLOB <"$SB_TMP/img.bin"
expect_reply OK AI.SCRIPTRUN script pre_process_3ch INPUTS img OUTPUTS pre
expect_reply OK AI.MODELRUN tiny INPUTS pre OUTPUTS logits
run_forward_check "$MODEL" pre 2 32 32 logits
# ... and with the newer commands.
expect_reply OK AI.SCRIPTSTORE script2 CPU ENTRY_POINTS 1 pre_process_3ch SOURCE "$SRC"
expect_reply OK AI.SCRIPTEXECUTE script2 pre_process_3ch INPUTS 1 img OUTPUTS 1 pre2
expect_reply OK AI.MODELEXECUTE tiny INPUTS 1 pre2 OUTPUTS 1 logits2
run_forward_check "$MODEL" pre2 2 32 32 logits2

# ---- AI.INFO --------------------------------------------------------------------------------
[ "$(info_field tiny type)" = MODEL ] || sb_fail "AI.INFO type: $(sb_cli AI.INFO tiny)"
[ "$(info_field tiny backend)" = SBRESNET ] || sb_fail "AI.INFO backend"
[ "$(info_field tiny tag)" = tiny:seed1 ] || sb_fail "AI.INFO tag"
[ "$(info_field tiny calls)" = 7 ] || sb_fail "AI.INFO calls: $(info_field tiny calls)"
[ "$(info_field tiny executions)" = 7 ] || sb_fail "AI.INFO executions"
[ "$(info_field tiny samples)" = $((4 * 3 + 1 + 2 * 2)) ] ||
  sb_fail "AI.INFO samples: $(info_field tiny samples)"
[ "$(info_field tiny errors)" = 0 ] || sb_fail "AI.INFO errors"
[ "$(info_field tiny duration)" -gt 0 ] || sb_fail "AI.INFO duration: $(info_field tiny duration)"
[ "$(sb_cli AI.INFO tiny | head -n 2 | tail -n 1)" = tiny ] || sb_fail "AI.INFO key"

# ---- malformed runs of a stored model: refused before queueing, not counted -----------------
expect_reply OK AI.TENSORSET u8 UINT8 1 3 32 32
expect_reply OK AI.TENSORSET r3 FLOAT 3 32 32
expect_reply OK AI.TENSORSET c4 FLOAT 1 4 32 32
expect_reply OK AI.TENSORSET small FLOAT 1 3 16 32
expect_reply OK SET plain "not a tensor"
expect_error "ERR the model's input must be a FLOAT tensor, got UINT8" AI.MODELEXECUTE tiny INPUTS 1 u8 OUTPUTS 1 o
expect_error "ERR the model's input must have shape [N][3][H][W] (NCHW, 3 channels), got [3][32][32]" \
  AI.MODELEXECUTE tiny INPUTS 1 r3 OUTPUTS 1 o
expect_error "ERR the model's input must have shape [N][3][H][W] (NCHW, 3 channels), got [1][4][32][32]" \
  AI.MODELRUN tiny INPUTS c4 OUTPUTS o
expect_error "ERR the model's input height and width must be at least 32, got 16x32" \
  AI.MODELEXECUTE tiny INPUTS 1 small OUTPUTS 1 o
expect_error "ERR an SBRESNET model takes 1 input tensor, 2 given" AI.MODELEXECUTE tiny INPUTS 2 x x OUTPUTS 1 o
expect_error "ERR an SBRESNET model makes 1 output tensor, 2 output keys given" \
  AI.MODELRUN tiny INPUTS x OUTPUTS o p
expect_error "ERR input tensor key 'nosuch' is empty" AI.MODELEXECUTE tiny INPUTS 1 nosuch OUTPUTS 1 o
expect_error "WRONGTYPE" AI.MODELEXECUTE tiny INPUTS 1 plain OUTPUTS 1 o
expect_error "WRONGTYPE" AI.MODELEXECUTE tiny INPUTS 1 x OUTPUTS 1 plain
expect_error "WRONGTYPE" AI.MODELEXECUTE tiny INPUTS 1 tiny OUTPUTS 1 o
expect_error "ERR AI.MODELEXECUTE: expected INPUTS after the model key, got 'OUTPUTS'" \
  AI.MODELEXECUTE tiny OUTPUTS 1 o INPUTS 1 x
expect_error "ERR AI.MODELEXECUTE: expected OUTPUTS after the 1 input key" \
  AI.MODELEXECUTE tiny INPUTS 1 x TIMEOUT 5 OUTPUTS 1 o
expect_error "ERR AI.MODELEXECUTE: unexpected argument 'extra' after OUTPUTS" \
  AI.MODELEXECUTE tiny INPUTS 1 x OUTPUTS 1 o extra
expect_error "ERR invalid TIMEOUT 'x'" AI.MODELEXECUTE tiny INPUTS 1 x OUTPUTS 1 o TIMEOUT x
expect_error "ERR invalid INPUTS count 'one'" AI.MODELEXECUTE tiny INPUTS one x OUTPUTS 1 o
expect_error "ERR INPUTS count is 9 but only" AI.MODELEXECUTE tiny INPUTS 9 x OUTPUTS 1 o
expect_error "ERR AI.MODELRUN: missing OUTPUTS" AI.MODELRUN tiny INPUTS x y z
expect_error "ERR AI.MODELRUN: expected INPUTS after the model key and TIMEOUT" \
  AI.MODELRUN tiny TIMEOUT 5 OUTPUTS o INPUTS x
expect_error "ERR AI.MODELRUN: INPUTS and OUTPUTS each need at least one key" \
  AI.MODELRUN tiny INPUTS OUTPUTS o p
expect_reply 0 EXISTS o
[ "$(info_field tiny calls)" = 7 ] || sb_fail "refused runs were counted"
[ "$(info_field tiny errors)" = 0 ] || sb_fail "refused runs counted as errors"
[ "$(sb_cli AI.INFO tiny RESETSTAT | sed -n 2p)" = tiny ] || sb_fail "AI.INFO tiny RESETSTAT: $(sb_cli AI.INFO tiny RESETSTAT | tr '\n' ' ')"
[ "$(info_field tiny calls)" = 0 ] && [ "$(info_field tiny duration)" = 0 ] ||
  sb_fail "RESETSTAT: $(sb_cli AI.INFO tiny | tr '\n' ' ')"

# ---- replacing and deleting ----------------------------------------------------------------
expect_reply OK -x AI.MODELSTORE tiny TORCH CPU TAG again BLOB <"$MODEL"
[ "$(info_field tiny tag)" = again ] || sb_fail "AI.MODELSTORE did not replace the model"
expect_reply OK AI.MODELDEL tiny
expect_reply 0 EXISTS tiny
expect_error "ERR model key is empty" AI.MODELDEL tiny
expect_error "ERR model key is empty" AI.MODELEXECUTE tiny INPUTS 1 x OUTPUTS 1 o
expect_reply 1 DEL chunked
expect_error "ERR model key is empty" AI.MODELGET chunked META
sb_alive
echo "module_models: OK"
