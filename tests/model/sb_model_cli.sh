# sb-model: make and info on real files, exit codes 0 / 1 / 2, --help, and
# errors that say what is wrong.
. "$SB_SOURCE_DIR/tests/lib/sbtest.sh"
exe="$SB_BIN_DIR/sb-model"
[ -x "$exe" ] || sb_fail "sb-model not built: $exe"

# expect RC NEEDLE ARGS...: exit status RC and NEEDLE in the output.
expect() {
  local want=$1 needle=$2; shift 2
  "$exe" "$@" > "$SB_TMP/out" 2>&1
  local rc=$?
  [ "$rc" = "$want" ] || { cat "$SB_TMP/out"; sb_fail "'sb-model $*' exited $rc, expected $want"; }
  grep -q -- "$needle" "$SB_TMP/out" || { cat "$SB_TMP/out"; sb_fail "'sb-model $*': output lacks '$needle'"; }
}

expect 0 "usage: sb-model make" --help
expect 0 "usage: sb-model make" make --help
expect 2 "expected a command"
expect 2 "unknown command frob" frob
expect 2 "no ARCH given" make -o "$SB_TMP/x"
expect 2 "unknown ARCH resnet9000" make resnet9000 -o "$SB_TMP/x"
expect 2 "no output file" make tiny
expect 2 "-o needs a value" make tiny -o
expect 2 "--seed abc is not" make tiny --seed abc -o "$SB_TMP/x"
expect 2 "--seed -1 is not" make tiny --seed -1 -o "$SB_TMP/x"
expect 2 "unknown option --fast" make tiny --fast -o "$SB_TMP/x"
expect 2 "no FILE given" info
expect 2 "unexpected argument" info a b
[ ! -e "$SB_TMP/x" ] || sb_fail "a usage error left a file behind"

# make + info, and the same seed gives the same bytes.
expect 0 "wrote" make tiny --seed 5 -o "$SB_TMP/t1.safetensors"
expect 0 "wrote" make tiny --seed=5 --out="$SB_TMP/t2.safetensors"
expect 0 "wrote" make tiny -o "$SB_TMP/t3.safetensors" --seed 6
cmp -s "$SB_TMP/t1.safetensors" "$SB_TMP/t2.safetensors" || sb_fail "same seed, different files"
cmp -s "$SB_TMP/t1.safetensors" "$SB_TMP/t3.safetensors" && sb_fail "seeds 5 and 6 gave the same file"
"$exe" make tiny --seed 5 -o - > "$SB_TMP/t4.safetensors" || sb_fail "make -o - failed"
cmp -s "$SB_TMP/t1.safetensors" "$SB_TMP/t4.safetensors" || sb_fail "-o - differs from a file"

expect 0 "^arch        tiny" info "$SB_TMP/t1.safetensors"
for needle in "^classes     10$" "^image_size  32$" "^parameters  78962$" "^gflop       0.0" \
              "^blocks      BasicBlock \[1,1,1,1\]" "^seed        5$"; do
  grep -q -- "$needle" "$SB_TMP/out" || { cat "$SB_TMP/out"; sb_fail "info lacks '$needle'"; }
done
expect 0 "wrote" make resnet18 -o "$SB_TMP/r18.safetensors"
expect 0 "^gflop       3.6" info "$SB_TMP/r18.safetensors"
grep -q "^parameters  11689512$" "$SB_TMP/out" || { cat "$SB_TMP/out"; sb_fail "resnet18 parameters"; }

# Failures that are not usage errors: exit 1, with the reason.
expect 1 "cannot open" info "$SB_TMP/absent.safetensors"
head -c 1000 "$SB_TMP/t1.safetensors" > "$SB_TMP/cut.safetensors"
expect 1 "cut.safetensors: header length" info "$SB_TMP/cut.safetensors"
printf 'not a model at all' > "$SB_TMP/junk"
expect 1 "header length" info "$SB_TMP/junk"
expect 1 "cannot create" make tiny -o "$SB_TMP/no/such/dir/m.safetensors"
echo PASS
