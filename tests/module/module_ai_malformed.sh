# Every malformed model, script and AI.INFO command gets an error reply that
# names the problem, nothing is written, and the server keeps answering PING.
# (Malformed runs of a stored model are in module_models, which needs one.)
set -u
. "$SB_SOURCE_DIR/tests/lib/sbtest.sh"
. "$SB_SOURCE_DIR/tests/module/module_lib.sh"

sb_start_redis

SRC=$'def pre_process_3ch(image):\n    return image\n'
expect_reply OK SET plain "not a tensor"
expect_reply OK AI.TENSORSET img FLOAT 2 8 8 3
expect_reply OK AI.TENSORSET img_u8 UINT8 2 8 8 3
expect_reply OK AI.TENSORSET img_bad FLOAT 2 8 8 4
expect_reply OK AI.TENSORSET img_r2 FLOAT 8 3
expect_reply OK AI.SCRIPTSET s CPU SOURCE "$SRC"

# ---- arity ----------------------------------------------------------------------------
for cmd in AI.MODELSTORE AI.MODELGET AI.MODELDEL AI.MODELEXECUTE AI.MODELRUN AI.SCRIPTSTORE \
  AI.SCRIPTSET AI.SCRIPTGET AI.SCRIPTDEL AI.SCRIPTEXECUTE AI.SCRIPTRUN; do
  expect_error "ERR wrong number of arguments" "$cmd"
done
expect_error "ERR wrong number of arguments" AI.MODELSTORE m SBRESNET CPU BLOB
expect_error "ERR wrong number of arguments" AI.MODELGET m META BLOB extra
expect_error "ERR wrong number of arguments" AI.MODELDEL m extra
expect_error "ERR wrong number of arguments" AI.MODELEXECUTE m INPUTS 1 a OUTPUTS 1
expect_error "ERR wrong number of arguments" AI.MODELRUN m INPUTS a OUTPUTS
expect_error "ERR wrong number of arguments" AI.SCRIPTSET s CPU SOURCE
expect_error "ERR wrong number of arguments" AI.SCRIPTEXECUTE s pre_process_3ch INPUTS
expect_error "ERR wrong number of arguments" AI.SCRIPTRUN s pre_process_3ch INPUTS img OUTPUTS
expect_error "ERR wrong number of arguments" AI.INFO s RESETSTAT extra

# ---- AI.MODELSTORE ------------------------------------------------------------------------
expect_error "ERR unknown backend 'TF' (this server runs SBRESNET models; TORCH is accepted as an alias)" \
  AI.MODELSTORE m TF CPU BLOB x
expect_error "ERR unknown backend 'ONNX'" AI.MODELSTORE m ONNX CPU BLOB x
# GPU, GPU:n and malformed GPU devices: module_gpu_refusal.
expect_error "ERR unknown device 'TPU' (expected CPU, GPU or GPU:<n>)" AI.MODELSTORE m TORCH TPU BLOB x
expect_error "ERR missing BLOB" AI.MODELSTORE m TORCH CPU TAG v1
expect_error "ERR BLOB needs at least one chunk" AI.MODELSTORE m TORCH CPU TAG v1 BLOB
expect_error "ERR TAG needs a value" AI.MODELSTORE m TORCH CPU BATCHSIZE 1 TAG
expect_error "ERR TAG given twice" AI.MODELSTORE m TORCH CPU TAG a TAG b BLOB x
expect_error "ERR invalid BATCHSIZE 'x'" AI.MODELSTORE m TORCH CPU BATCHSIZE x BLOB x
expect_error "ERR invalid BATCHSIZE '-1'" AI.MODELSTORE m TORCH CPU BATCHSIZE -1 BLOB x
expect_error "ERR invalid MINBATCHTIMEOUT '9999999999999'" \
  AI.MODELSTORE m TORCH CPU BATCHSIZE 4 MINBATCHSIZE 2 MINBATCHTIMEOUT 9999999999999 BLOB x
expect_error "ERR MINBATCHSIZE needs a BATCHSIZE greater than 0" \
  AI.MODELSTORE m TORCH CPU MINBATCHSIZE 2 BLOB x
expect_error "ERR MINBATCHSIZE (8) exceeds BATCHSIZE (4)" \
  AI.MODELSTORE m TORCH CPU BATCHSIZE 4 MINBATCHSIZE 8 BLOB x
expect_error "ERR MINBATCHTIMEOUT needs a MINBATCHSIZE greater than 0" \
  AI.MODELSTORE m TORCH CPU BATCHSIZE 4 MINBATCHTIMEOUT 10 BLOB x
expect_error "ERR BATCHSIZE given twice" AI.MODELSTORE m TORCH CPU BATCHSIZE 4 BATCHSIZE 4 BLOB x
expect_error "ERR an SBRESNET model has 1 input and 1 output; INPUTS names 2" \
  AI.MODELSTORE m TORCH CPU INPUTS 2 a b OUTPUTS 1 c BLOB x
expect_error "ERR invalid INPUTS count 'two'" AI.MODELSTORE m TORCH CPU INPUTS two a b BLOB x
expect_error "ERR invalid OUTPUTS count '0'" AI.MODELSTORE m TORCH CPU OUTPUTS 0 BLOB x
expect_error "ERR INPUTS count is 5 but only" AI.MODELSTORE m TORCH CPU INPUTS 5 a BLOB x
expect_error "ERR unknown AI.MODELSTORE argument 'WEIGHTS'" AI.MODELSTORE m TORCH CPU WEIGHTS x BLOB x
expect_error "ERR cannot load the model: " AI.MODELSTORE m SBRESNET CPU BLOB "not a model"
expect_error "ERR cannot load the model: " AI.MODELSTORE m SBRESNET CPU BLOB $'\x10\0\0\0\0\0\0\0{' "}"
expect_error "ERR the model blob is empty" AI.MODELSTORE m SBRESNET CPU BLOB ""
expect_error "WRONGTYPE" AI.MODELSTORE plain SBRESNET CPU BLOB x
expect_reply 0 EXISTS m

# ---- AI.MODELGET / MODELDEL / MODELEXECUTE / MODELRUN on what is not a model -----------------
expect_error "ERR model key is empty" AI.MODELGET m
expect_error "ERR model key is empty" AI.MODELDEL m
expect_error "ERR model key is empty" AI.MODELEXECUTE m INPUTS 1 img OUTPUTS 1 out
expect_error "ERR model key is empty" AI.MODELRUN m INPUTS img OUTPUTS out
expect_error "WRONGTYPE" AI.MODELGET plain META
expect_error "WRONGTYPE" AI.MODELGET s
expect_error "WRONGTYPE" AI.MODELDEL img
expect_error "WRONGTYPE" AI.MODELEXECUTE s INPUTS 1 img OUTPUTS 1 out
expect_error "WRONGTYPE" AI.MODELRUN plain INPUTS img OUTPUTS out

# ---- AI.SCRIPTSTORE / AI.SCRIPTSET --------------------------------------------------------
expect_error "ERR AI.SCRIPTSTORE needs ENTRY_POINTS" AI.SCRIPTSTORE t CPU TAG x SOURCE "$SRC"
expect_error "ERR missing SOURCE" AI.SCRIPTSTORE t CPU ENTRY_POINTS 1 pre_process_3ch
expect_error "ERR SOURCE takes exactly one argument" AI.SCRIPTSET t CPU SOURCE "$SRC" TAG x
expect_error "ERR invalid ENTRY_POINTS count '0'" \
  AI.SCRIPTSTORE t CPU ENTRY_POINTS 0 SOURCE "$SRC"
expect_error "ERR ENTRY_POINTS count is 3 but only" \
  AI.SCRIPTSTORE t CPU ENTRY_POINTS 3 SOURCE "$SRC"
expect_error "ERR unknown AI.SCRIPTSET argument 'ENTRY_POINTS'" \
  AI.SCRIPTSET t CPU ENTRY_POINTS 1 pre_process_3ch SOURCE "$SRC"
expect_error "ERR device 'GPU:0': scripts run on the CPU in sbai" AI.SCRIPTSET t GPU:0 SOURCE "$SRC"
expect_error "ERR unknown device 'pre_process_3ch'" AI.SCRIPTSET t pre_process_3ch CPU SOURCE "$SRC"
expect_error "WRONGTYPE" AI.SCRIPTSET plain CPU SOURCE "$SRC"
expect_error "WRONGTYPE" AI.SCRIPTSET img CPU SOURCE "$SRC"
expect_reply 0 EXISTS t

# ---- AI.SCRIPTEXECUTE / AI.SCRIPTRUN ----------------------------------------------------
expect_error "ERR script key is empty" AI.SCRIPTEXECUTE t pre_process_3ch INPUTS 1 img OUTPUTS 1 o
expect_error "WRONGTYPE" AI.SCRIPTEXECUTE img pre_process_3ch INPUTS 1 img OUTPUTS 1 o
expect_error "ERR AI.SCRIPTEXECUTE: missing INPUTS" AI.SCRIPTEXECUTE s pre_process_3ch OUTPUTS 1 o
expect_error "ERR AI.SCRIPTEXECUTE: missing OUTPUTS" AI.SCRIPTEXECUTE s pre_process_3ch INPUTS 1 img
expect_error "ERR input tensor key 'nosuch' is empty" \
  AI.SCRIPTEXECUTE s pre_process_3ch INPUTS 1 nosuch OUTPUTS 1 o
expect_error "WRONGTYPE" AI.SCRIPTEXECUTE s pre_process_3ch INPUTS 1 plain OUTPUTS 1 o
expect_error "WRONGTYPE" AI.SCRIPTEXECUTE s pre_process_3ch INPUTS 1 img OUTPUTS 1 plain
expect_error "WRONGTYPE" AI.SCRIPTEXECUTE s pre_process_3ch INPUTS 1 img OUTPUTS 1 s
expect_error "ERR pre_process_3ch needs a FLOAT input (HWC values 0..255), got UINT8" \
  AI.SCRIPTEXECUTE s pre_process_3ch INPUTS 1 img_u8 OUTPUTS 1 o
expect_error "ERR pre_process_3ch needs an input of shape [N][H][W][3] or [H][W][3], got [2][8][8][4]" \
  AI.SCRIPTEXECUTE s pre_process_3ch INPUTS 1 img_bad OUTPUTS 1 o
expect_error "ERR pre_process_3ch needs an input of shape" \
  AI.SCRIPTEXECUTE s pre_process_3ch INPUTS 1 img_r2 OUTPUTS 1 o
expect_error "ERR pre_process_3ch takes 1 input tensor, 2 given" \
  AI.SCRIPTEXECUTE s pre_process_3ch INPUTS 2 img img OUTPUTS 1 o
expect_error "ERR pre_process_3ch makes 1 output tensor, 2 output keys given" \
  AI.SCRIPTEXECUTE s pre_process_3ch INPUTS 1 img OUTPUTS 2 o p
expect_error "ERR pre_process_3ch takes no ARGS, 1 given" \
  AI.SCRIPTEXECUTE s pre_process_3ch INPUTS 1 img ARGS 1 x OUTPUTS 1 o
expect_error "ERR LIST_INPUTS is not supported" \
  AI.SCRIPTEXECUTE s pre_process_3ch LIST_INPUTS 1 img OUTPUTS 1 o
expect_error "ERR invalid TIMEOUT '0'" \
  AI.SCRIPTEXECUTE s pre_process_3ch INPUTS 1 img OUTPUTS 1 o TIMEOUT 0
expect_error "ERR invalid TIMEOUT 'soon'" \
  AI.SCRIPTEXECUTE s pre_process_3ch INPUTS 1 img OUTPUTS 1 o TIMEOUT soon
expect_error "ERR TIMEOUT needs a value" AI.SCRIPTEXECUTE s pre_process_3ch INPUTS 1 img OUTPUTS 1 o TIMEOUT
expect_error "ERR INPUTS count is 4 but only 3 arguments follow" \
  AI.SCRIPTEXECUTE s pre_process_3ch INPUTS 4 img OUTPUTS 1
expect_error "ERR invalid INPUTS count '0'" AI.SCRIPTEXECUTE s pre_process_3ch INPUTS 0 OUTPUTS 1 o
expect_error "ERR invalid KEYS count '-1'" \
  AI.SCRIPTEXECUTE s pre_process_3ch KEYS -1 INPUTS 1 img OUTPUTS 1 o
expect_error "ERR INPUTS given twice" \
  AI.SCRIPTEXECUTE s pre_process_3ch INPUTS 1 img INPUTS 1 img OUTPUTS 1 o
expect_error "ERR unknown AI.SCRIPTEXECUTE argument 'INPUT'" \
  AI.SCRIPTEXECUTE s pre_process_3ch INPUT 1 img OUTPUTS 1 o
expect_error "ERR variadic inputs (\$) are not supported" \
  AI.SCRIPTRUN s pre_process_3ch INPUTS img '$' img OUTPUTS o
expect_error "ERR AI.SCRIPTRUN: missing OUTPUTS" AI.SCRIPTRUN s pre_process_3ch INPUTS img o p
expect_error "ERR AI.SCRIPTRUN: expected INPUTS" AI.SCRIPTRUN s pre_process_3ch OUTPUTS o INPUTS img
expect_error "ERR AI.SCRIPTRUN: INPUTS and OUTPUTS each need at least one key" \
  AI.SCRIPTRUN s pre_process_3ch INPUTS OUTPUTS o p
expect_error "ERR invalid TIMEOUT '-5'" AI.SCRIPTRUN s pre_process_3ch TIMEOUT -5 INPUTS img OUTPUTS o
expect_error "ERR unknown AI.SCRIPTGET argument 'BLOB'" AI.SCRIPTGET s BLOB
expect_error "ERR META given twice" AI.SCRIPTGET s META META
expect_error "ERR script key is empty" AI.SCRIPTDEL t
expect_error "WRONGTYPE" AI.SCRIPTDEL plain
expect_reply 0 EXISTS o
expect_reply 0 EXISTS p

# Runs cannot block inside MULTI/EXEC: the EXEC reply carries the error.
printf 'MULTI\nAI.SCRIPTEXECUTE s pre_process_3ch INPUTS 1 img OUTPUTS 1 o\nEXEC\n' |
  sb_cli >"$SB_TMP/multi.txt" 2>&1
grep -q "cannot run inside MULTI/EXEC" "$SB_TMP/multi.txt" ||
  sb_fail "AI.SCRIPTEXECUTE in MULTI: $(cat "$SB_TMP/multi.txt")"
sb_alive
# ... nor from a Lua script.
expect_error "ERR" EVAL "return redis.call('AI.SCRIPTEXECUTE', 's', 'pre_process_3ch', 'INPUTS', '1', 'img', 'OUTPUTS', '1', 'o')" 0
expect_reply 0 EXISTS o

# ---- key positions (getkeys-api): inputs and outputs are keys too, for
# Redis Cluster routing and ACL key patterns --------------------------------------------------
expect_reply "$(printf 'm\na\nb')" COMMAND GETKEYS AI.MODELEXECUTE m INPUTS 1 a OUTPUTS 1 b TIMEOUT 5
expect_reply "$(printf 'm\na\nb\nc')" COMMAND GETKEYS AI.MODELRUN m TIMEOUT 5 INPUTS a OUTPUTS b c
expect_reply "$(printf 's\n{t}\na\nb\no')" \
  COMMAND GETKEYS AI.SCRIPTEXECUTE s fn KEYS 1 '{t}' INPUTS 2 a b ARGS 2 x y OUTPUTS 1 o
expect_reply "$(printf 's\na\nb\no')" COMMAND GETKEYS AI.SCRIPTRUN s fn INPUTS a '$' b OUTPUTS o

# ---- AI.INFO -------------------------------------------------------------------------------
expect_error "ERR cannot find run info for key" AI.INFO nosuch
expect_error "WRONGTYPE" AI.INFO plain
expect_error "WRONGTYPE" AI.INFO img RESETSTAT
expect_error "ERR unknown AI.INFO argument 'RESET'" AI.INFO s RESET
sb_cli AI.INFO | grep -q '^threads_per_queue$' || sb_fail "AI.INFO without a key: $(sb_cli AI.INFO)"

# After all that, a good run still works.
expect_reply OK AI.SCRIPTEXECUTE s pre_process_3ch INPUTS 1 img OUTPUTS 1 o
expect_reply "$(printf 'dtype\nFLOAT\nshape\n2\n3\n8\n8')" AI.TENSORGET o META
[ "$(info_field s errors)" = 0 ] || sb_fail "refused commands counted as run errors"
sb_alive
echo "module_ai_malformed: OK"
