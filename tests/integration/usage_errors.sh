# Invalid options and sizes: a usage error naming the option, exit 2;
# --help and --version succeed without a database.
. "$SB_SOURCE_DIR/tests/lib/sbtest.sh"
tp="$SB_BIN_DIR/sb-throughput"
expect_usage() {
  local needle=$1; shift
  mpiexec -n 1 "$tp" "$@" > "$SB_TMP/out" 2>&1
  local rc=$?
  [ $rc = 2 ] || { cat "$SB_TMP/out"; sb_fail "'$*' exited $rc, expected 2"; }
  grep -q -- "$needle" "$SB_TMP/out" || { cat "$SB_TMP/out"; sb_fail "'$*': message lacks '$needle'"; }
}
expect_usage "--tensor-bytes" --tensor-bytes 1Q
expect_usage "--tensor-bytes" --tensor-bytes 0
expect_usage "--tensor-bytes" --tensor-bytes -5
expect_usage "--iterations" --iterations 0
expect_usage "--iterations" --iterations many
expect_usage "--mode" --mode fast
expect_usage "--device" --device tpu
expect_usage "--log-level" --log-level loud
expect_usage "--frobnicate" --frobnicate
expect_usage "--out" --out
mpiexec -n 1 "$tp" --help > "$SB_TMP/help" 2>&1 || sb_fail "--help failed"
for o in --tensor-bytes --mode --device --db --iterations --warmup --out --label --log-level --no-verify --version; do
  grep -q -- "$o" "$SB_TMP/help" || sb_fail "--help does not mention $o"
done
mpiexec -n 1 "$tp" --version | grep -q "^sb-throughput " || sb_fail "--version"

# sb-inference: its own options, and combinations refused before any
# connection is tried.
tp="$SB_BIN_DIR/sb-inference"
expect_usage "--model" --model resnet9000
expect_usage "--batch-size" --batch-size 0
# --device gpu is no usage error: the server refuses it where it has no GPU
# (tests/gpu/inference_gpu.sh).
expect_usage "--num-devices" --num-devices 2
expect_usage "--db-min-batch-size" --db-min-batch-size 4
expect_usage "--db-min-batch-size" --db-batch-size 2 --db-min-batch-size 4
mpiexec -n 1 "$tp" --help > "$SB_TMP/help" 2>&1 || sb_fail "sb-inference --help failed"
for o in --model --model-file --batch-size --device --set-model --colocated --db-batch-size --verify-every; do
  grep -q -- "$o" "$SB_TMP/help" || sb_fail "sb-inference --help does not mention $o"
done
echo PASS
