# The batch limit (load option MAX_BATCH 4): a model stored with BATCHSIZE or
# MINBATCHSIZE above it is refused, a run whose input batch is above it is
# refused before any work (a model's activations grow with the batch far
# beyond its input tensor, which MAX_TENSOR_BYTES alone bounds), nothing is
# written, a batch of exactly 4 runs, and the server stays up.
set -u
. "$SB_SOURCE_DIR/tests/lib/sbtest.sh"
. "$SB_SOURCE_DIR/tests/module/module_lib.sh"
sb_start_redis MAX_BATCH 4
[ "$(sb_cli AI.CONFIG GET MAX_BATCH)" = 4 ] || sb_fail "MAX_BATCH is not 4"
MODEL=$SB_TMP/tiny.safetensors
need_tiny_model "$MODEL"

refused() { # what, key that must not exist, then the command
  local what=$1 key=$2 out
  shift 2
  out=$(sb_cli "$@" 2>&1)
  echo "$out" | grep -q "MAX_BATCH" || sb_fail "$what: not refused by the limit: $out"
  [ "$(sb_cli EXISTS "$key")" = 0 ] || sb_fail "$what: $key written anyway"
  echo "$what: $out"
}

refused "BATCHSIZE 8" m -x AI.MODELSTORE m SBRESNET CPU BATCHSIZE 8 BLOB <"$MODEL"
refused "MINBATCHSIZE 5" m -x AI.MODELSTORE m SBRESNET CPU BATCHSIZE 4 MINBATCHSIZE 5 BLOB <"$MODEL"
expect_reply OK -x AI.MODELSTORE m SBRESNET CPU BATCHSIZE 4 BLOB <"$MODEL"

expect_reply OK AI.TENSORSET in5 FLOAT 5 3 32 32
refused "input batch 5" out AI.MODELEXECUTE m INPUTS 1 in5 OUTPUTS 1 out
expect_reply OK AI.TENSORSET in4 FLOAT 4 3 32 32
expect_reply OK AI.MODELEXECUTE m INPUTS 1 in4 OUTPUTS 1 out
shape=$(sb_cli AI.TENSORGET out META | sed -n 4p)
[ "$shape" = 4 ] || sb_fail "batch of 4: output's first dimension is '$shape', want 4"
echo "input batch 4: ran, output batch $shape"
sb_alive
echo PASS
