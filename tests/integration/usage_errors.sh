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
# Numbers: NaN, infinities, exponents, overflow, signs and trailing junk are
# refused by name, never read as something else.
expect_usage "--iterations" --iterations nan
expect_usage "--iterations" --iterations -1
expect_usage "--iterations" --iterations 1e999
expect_usage "--iterations" --iterations 12x
expect_usage "--iterations" --iterations 99999999999999999999
expect_usage "--iterations" --iterations ''
expect_usage "--iterations" --iterations ' 5'
expect_usage "--warmup" --warmup -1
expect_usage "--tensor-bytes" --tensor-bytes 99999999999999999999
expect_usage "--tensor-bytes" --tensor-bytes ''
expect_usage "--tensor-bytes" --tensor-bytes nan
# An empty address is no address (it used to mean the default one); a
# malformed one is refused before any connection.
expect_usage "--db" --db ''
expect_usage "--db" --db=
expect_usage "--db" --db tcp://127.0.0.1:0
expect_usage "--db" --db ,
expect_usage "--out" --out ''
# The database settings of the environment are usage errors too, named
# (expect_usage_env VAR VALUE needle [options]). SSDB points at a port
# nobody listens on, so a setting let through shows as exit 1, not a hang.
expect_usage_env() {
  local var=$1 val=$2 needle=$3; shift 3
  env SSDB="tcp://127.0.0.1:$noport" SB_DB_CONNECT_TIMEOUT=1 "$var=$val" \
    timeout 60 mpiexec -n 1 "$tp" --iterations 1 "$@" > "$SB_TMP/out" 2>&1
  local rc=$?
  [ $rc = 2 ] || { cat "$SB_TMP/out"; sb_fail "$var='$val' exited $rc, expected 2"; }
  grep -q -- "$needle" "$SB_TMP/out" || { cat "$SB_TMP/out"; sb_fail "$var='$val': message lacks '$needle'"; }
}
noport=$(sb_free_port) || sb_skip "no free port"
for v in nan inf -inf -1 0 '' 12x 0x10 ' 5' 1e999 86401; do
  expect_usage_env SB_DB_CONNECT_TIMEOUT "$v" SB_DB_CONNECT_TIMEOUT
done
for v in nan inf -1 ''; do
  expect_usage_env SB_DB_COMMAND_TIMEOUT "$v" SB_DB_COMMAND_TIMEOUT
  expect_usage_env SB_DB_RETRY_INTERVAL "$v" SB_DB_RETRY_INTERVAL
done
for v in -1 101 nan 1.5 2x ''; do
  expect_usage_env SB_DB_COMMAND_RETRIES "$v" SB_DB_COMMAND_RETRIES
done
expect_usage_env SB_DB_PASSWORD_FILE "$SB_TMP/no-such-file" SB_DB_PASSWORD_FILE
expect_usage_env SB_DB_PASSWORD "$(head -c 600 /dev/zero | tr '\0' x)" SB_DB_PASSWORD
# SSDB set but empty (env's own, not the helper's SSDB), and malformed.
env SSDB= timeout 60 mpiexec -n 1 "$tp" --iterations 1 > "$SB_TMP/out" 2>&1
rc=$?
[ $rc = 2 ] || { cat "$SB_TMP/out"; sb_fail "SSDB='' exited $rc, expected 2"; }
grep -q "SSDB" "$SB_TMP/out" || { cat "$SB_TMP/out"; sb_fail "SSDB='': message lacks SSDB"; }
env SSDB=tcp://127.0.0.1:notaport timeout 60 mpiexec -n 1 "$tp" --iterations 1 > "$SB_TMP/out" 2>&1
rc=$?
[ $rc = 2 ] || { cat "$SB_TMP/out"; sb_fail "SSDB=tcp://127.0.0.1:notaport exited $rc, expected 2"; }
grep -q "SSDB" "$SB_TMP/out" || { cat "$SB_TMP/out"; sb_fail "bad SSDB: message lacks SSDB"; }

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
# A bad value is refused in configure, before the model is made or stored.
expect_usage "--image-size" --image-size 31
expect_usage "--image-size" --image-size 1
expect_usage "--image-size" --image-size -32
expect_usage "--image-size" --image-size 4097
expect_usage "--model-file" --model-file ''
mpiexec -n 1 "$tp" --help > "$SB_TMP/help" 2>&1 || sb_fail "sb-inference --help failed"
for o in --model --model-file --batch-size --device --set-model --colocated --db-batch-size --verify-every; do
  grep -q -- "$o" "$SB_TMP/help" || sb_fail "sb-inference --help does not mention $o"
done
echo PASS
