# Helpers for the sbai module's shell tests. Source after tests/lib/sbtest.sh.
# redis-cli writes to a pipe in raw mode: a reply's elements one per line
# (nested arrays flattened), an error as its text, and a final newline.

# expect_reply WANT ARGS...: the raw reply to ARGS is exactly WANT (newline
# separated for arrays).
expect_reply() {
  local want=$1 got
  shift
  got=$(sb_cli "$@" 2>&1)
  [ "$got" = "$want" ] || sb_fail "$* -> got [$got], want [$want]"
}

# expect_error PREFIX ARGS...: the reply to ARGS is an error that starts with
# PREFIX ("ERR", "WRONGTYPE", or more of the message), and the server still
# answers. Stdin is passed on, for `redis-cli -x`.
expect_error() {
  local want=$1 got
  shift
  got=$(sb_cli "$@" 2>&1)
  case "$got" in
    "$want"*) ;;
    *) sb_fail "$(printf '%.120s' "$*") -> got [$(printf '%.200s' "$got")], want an error starting with [$want]" ;;
  esac
  case "$got" in
    *$'\n'?*) sb_fail "$(printf '%.120s' "$*") -> error reply spans lines: [$got]" ;;
  esac
  sb_alive
}

# make_bytes FILE N: N deterministic bytes cycling through all 256 values
# (so NUL, CR, LF and high bytes all occur).
make_bytes() {
  local file=$1 n=$2 all=$SB_TMP/all256.bin i
  if [ ! -f "$all" ]; then
    for i in $(seq 0 255); do printf "\\$(printf %03o "$i")"; done >"$all"
  fi
  cp "$all" "$file"
  while [ "$(stat -c %s "$file")" -lt "$n" ]; do
    cat "$file" "$file" >"$file.tmp" && mv "$file.tmp" "$file"
  done
  truncate -s "$n" "$file"
}

# blob_equals KEY FILE: AI.TENSORGET KEY BLOB returns exactly FILE's bytes.
blob_equals() {
  local out=$SB_TMP/blob_out.bin
  sb_cli AI.TENSORGET "$1" BLOB >"$out" || sb_fail "AI.TENSORGET $1 BLOB failed"
  # redis-cli adds one newline after the reply.
  truncate -s -1 "$out"
  cmp -s "$out" "$2" || sb_fail "AI.TENSORGET $1 BLOB differs from $2 ($(stat -c %s "$out") vs $(stat -c %s "$2") bytes)"
}

# tensor_snapshot FILE KEY...: each key's META reply and DEBUG DIGEST-VALUE,
# then the whole database's DEBUG DIGEST, into FILE (needs
# --enable-debug-command yes).
tensor_snapshot() {
  local file=$1 k
  shift
  for k in "$@"; do
    echo "$k $(sb_cli AI.TENSORGET "$k" META | tr '\n' ' ') $(sb_cli DEBUG DIGEST-VALUE "$k")"
  done >"$file"
  sb_cli DEBUG DIGEST >>"$file"
}

# same_snapshot BEFORE AFTER WHAT: fails with the first differences.
same_snapshot() {
  cmp -s "$1" "$2" || sb_fail "tensors differ after $3: $(diff "$1" "$2" | head -n 6)"
}

# ---- models and scripts -------------------------------------------------------------

# The in-process checker built from tests/module/sbai_check.c.
SB_CHECK=${SB_BIN_DIR:-}/sbai_check

# need_check: skips unless the checker is built.
need_check() {
  [ -x "$SB_CHECK" ] || sb_skip "the test helper $SB_CHECK is not built"
}

# get_blob KEY FILE: AI.TENSORGET KEY BLOB, exact bytes, into FILE.
get_blob() {
  sb_cli AI.TENSORGET "$1" BLOB >"$2" || sb_fail "AI.TENSORGET $1 BLOB failed"
  truncate -s -1 "$2"
}

# need_model FILE ARCH [SEED]: writes a test model (`sb-model make ARCH --seed
# SEED`, default seed 1) into FILE and checks that the in-process loader takes
# it; skips the test, visibly, when sb-model is not built.
need_model() {
  local exe=${SB_BIN_DIR:-}/sb-model
  need_check
  [ -x "$exe" ] || sb_skip "$exe is not built: no model file to test with"
  "$exe" make "$2" --seed "${3:-1}" -o "$1" >"$SB_TMP/sb-model.log" 2>&1 ||
    sb_fail "sb-model make $2 failed: $(tail -n 2 "$SB_TMP/sb-model.log")"
  "$SB_CHECK" time "$1" 1 32 32 >/dev/null 2>"$SB_TMP/check.log" ||
    sb_fail "the in-process loader refuses $1: $(cat "$SB_TMP/check.log")"
}

# need_tiny_model FILE [SEED]: the tiny test model (need_model FILE tiny SEED).
need_tiny_model() {
  need_model "$1" tiny "${2:-1}"
}

# info_field KEY FIELD: one value of AI.INFO KEY.
info_field() {
  sb_cli AI.INFO "$1" | awk -v f="$2" 'want { print; exit } $0 == f { want = 1 }'
}

# run_forward_check MODEL_FILE KEY_IN N H W KEY_OUT: the output tensor under
# KEY_OUT equals the in-process forward pass of MODEL_FILE on the tensor under
# KEY_IN (both read back from the server).
run_forward_check() {
  local file=$1 kin=$2 n=$3 h=$4 w=$5 kout=$6
  get_blob "$kin" "$SB_TMP/fwd_in.bin"
  get_blob "$kout" "$SB_TMP/fwd_out.bin"
  "$SB_CHECK" forward "$file" "$SB_TMP/fwd_in.bin" "$n" "$h" "$w" "$SB_TMP/fwd_out.bin" \
    >"$SB_TMP/fwd.log" 2>&1 || sb_fail "$kout is not the forward pass of $kin: $(cat "$SB_TMP/fwd.log")"
}

# resp_command ARG...: sends one command over a fresh connection, as raw RESP,
# and prints the first line of the reply (e.g. "+OK", "-ERR ..."). An
# argument "@FILE" is replaced by FILE's bytes, so several binary arguments
# can go in one command (redis-cli -x only supplies the last).
resp_command() {
  local a line
  exec 3<>"/dev/tcp/127.0.0.1/$SB_PORT" || sb_fail "cannot connect to port $SB_PORT"
  {
    printf '*%d\r\n' $#
    for a in "$@"; do
      case "$a" in
        @*) printf '$%d\r\n' "$(stat -c %s "${a#@}")"; cat "${a#@}" ;;
        *) printf '$%d\r\n%s' "${#a}" "$a" ;;
      esac
      printf '\r\n'
    done
  } >&3
  IFS= read -r -t 30 line <&3
  exec 3<&- 3>&-
  printf '%s\n' "${line%$'\r'}"
}

# ping_ms: the round trip of one PING, in milliseconds, over a connection
# opened beforehand (so no process start or connect is measured).
ping_ms() {
  local t0 t1 line
  exec 4<>"/dev/tcp/127.0.0.1/$SB_PORT" || sb_fail "cannot connect to port $SB_PORT"
  t0=$EPOCHREALTIME
  printf 'PING\r\n' >&4
  IFS= read -r -t 30 line <&4
  t1=$EPOCHREALTIME
  exec 4<&- 4>&-
  [ "${line%$'\r'}" = "+PONG" ] || sb_fail "PING answered [$line]"
  echo $(((${t1//[.,]/} - ${t0//[.,]/}) / 1000))
}

# wait_queued N: waits (at most 10 s) until N requests wait in the queue.
wait_queued() {
  local queued
  for _ in $(seq 200); do
    queued=$(sb_cli AI.INFO | awk 'want { print; exit } $0 == "queue_length" { want = 1 }')
    [ "$queued" -ge "$1" ] && return 0
    sleep 0.05
  done
  sb_fail "fewer than $1 requests queued after 10 s ($queued)"
}

# size_slow_input MODEL SECONDS: times MODEL in-process on 8 images of 64x64
# (best of 3, in $best) and sets N to how many images one run takes about
# SECONDS on (4 to 1024), for set_slow.
size_slow_input() {
  local t _
  best=
  for _ in 1 2 3; do
    t=$("$SB_CHECK" time "$1" 8 64 64) || sb_fail "cannot time the model in-process"
    best=$(awk -v a="${best:-$t}" -v b="$t" 'BEGIN { print (b < a ? b : a) }')
  done
  N=$(awk -v t="$best" -v s="$2" 'BEGIN { n = int(s * 8 / (t > 0 ? t : 1e-6)); if (n < 4) n = 4;
    if (n > 1024) n = 1024; print n }')
}

# set_slow: the tensor slow, N images of 3x64x64 (N from size_slow_input).
set_slow() {
  "$SB_CHECK" nchw "$N" 64 64 3 "$SB_TMP/slow.bin" || sb_fail "cannot make inputs"
  expect_reply OK -x AI.TENSORSET slow FLOAT "$N" 3 64 64 BLOB <"$SB_TMP/slow.bin"
}

# aof_rewrite: BGREWRITEAOF, then waits (10 s at most) until no rewrite is in
# progress or scheduled; fails the test unless the rewrite succeeded.
aof_rewrite() {
  local info _
  sb_cli BGREWRITEAOF >/dev/null
  for _ in $(seq 200); do
    info=$(sb_cli INFO persistence | tr -d '\r')
    case "$info" in *aof_rewrite_in_progress:0*aof_rewrite_scheduled:0*) break ;; esac
    sleep 0.05
  done
  case "$info" in
    *aof_last_bgrewrite_status:ok*) ;;
    *) sb_fail "AOF rewrite did not succeed: $(echo "$info" | grep aof_)" ;;
  esac
}
