# sb-model: make (with and without --random-bn), info and run on real files,
# exit codes 0 / 1 / 2, --help, and errors that say what is wrong.
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

# make --random-bn: deterministic, other bytes than the default, info says so.
expect 0 "random batch-norm" make tiny --seed 5 --random-bn -o "$SB_TMP/rb1.safetensors"
expect 0 "wrote" make tiny --random-bn --seed 5 -o "$SB_TMP/rb2.safetensors"
cmp -s "$SB_TMP/rb1.safetensors" "$SB_TMP/rb2.safetensors" || sb_fail "--random-bn: same seed, different files"
cmp -s "$SB_TMP/rb1.safetensors" "$SB_TMP/t1.safetensors" && sb_fail "--random-bn changed nothing"
expect 0 "^batchnorm   random$" info "$SB_TMP/rb1.safetensors"
expect 0 "^arch        tiny" info "$SB_TMP/t1.safetensors"
grep -q "^batchnorm" "$SB_TMP/out" && sb_fail "info of a default file claims random batch-norm"

# run: the key=value line, --input / --output of raw float32, and refusals.
expect 0 "usage: sb-model make" run --help
expect 0 "^arch=tiny batch=2 image_size=32 threads=1 iterations=3 warmup=0 seconds=[0-9.]* images_per_s=[0-9.]* gflop_per_s=" \
  run "$SB_TMP/rb1.safetensors" --batch-size 2 --threads 1 --iterations 3 --warmup 0 \
  --output "$SB_TMP/logits.raw"
[ "$(wc -c < "$SB_TMP/logits.raw")" = 80 ] || sb_fail "--output: $(wc -c < "$SB_TMP/logits.raw") bytes, expected 2 x 10 x 4"
head -c $((2 * 40 * 40 * 3 * 4)) /dev/zero > "$SB_TMP/zeros.raw"
expect 0 "image_size=40 " run "$SB_TMP/rb1.safetensors" --batch-size=2 --image-size=40 \
  --iterations=1 --input "$SB_TMP/zeros.raw" --output "$SB_TMP/z1.raw"
expect 0 "threads=2 " run "$SB_TMP/rb1.safetensors" --batch-size 2 --image-size 40 --threads 2 \
  --iterations 2 --input "$SB_TMP/zeros.raw" --output "$SB_TMP/z2.raw"
cmp -s "$SB_TMP/z1.raw" "$SB_TMP/z2.raw" || sb_fail "run: the same input gave other logits with 2 threads"
cmp -s "$SB_TMP/z1.raw" "$SB_TMP/logits.raw" && sb_fail "run: --input made no difference"
"$exe" run "$SB_TMP/rb1.safetensors" --batch-size 2 --image-size 40 --iterations 1 \
  --input "$SB_TMP/zeros.raw" --output - > "$SB_TMP/z3.raw" 2> "$SB_TMP/err" || sb_fail "run --output - failed"
cmp -s "$SB_TMP/z1.raw" "$SB_TMP/z3.raw" || sb_fail "run --output - differs from a file"
grep -q "^arch=tiny " "$SB_TMP/err" || sb_fail "run --output -: the result line is not on standard error"
expect 2 "run: no FILE given" run
expect 2 "run: --batch-size 0 is not an integer" run "$SB_TMP/rb1.safetensors" --batch-size 0
expect 2 "run: --image-size 16 is not an integer in \[32," run "$SB_TMP/rb1.safetensors" --image-size 16
expect 2 "run: --threads x is not" run "$SB_TMP/rb1.safetensors" --threads x
expect 2 "run: --iterations 0 is not" run "$SB_TMP/rb1.safetensors" --iterations 0
expect 2 "run: --warmup needs a value" run "$SB_TMP/rb1.safetensors" --warmup
expect 2 "run: unknown option --fast" run "$SB_TMP/rb1.safetensors" --fast
expect 2 "run: unexpected argument" run "$SB_TMP/rb1.safetensors" other
expect 1 "holds 38400 bytes, but 1 image(s) of 32x32x3 float32 (--batch-size, --image-size) are 12288 bytes" \
  run "$SB_TMP/rb1.safetensors" --input "$SB_TMP/zeros.raw"
expect 1 "cannot open" run "$SB_TMP/rb1.safetensors" --input "$SB_TMP/absent.raw"
expect 1 "cannot open" run "$SB_TMP/absent.safetensors"
expect 1 "cut.safetensors: header length" run "$SB_TMP/cut.safetensors"
expect 1 "cannot create" run "$SB_TMP/rb1.safetensors" --iterations 1 --output "$SB_TMP/no/such/l.raw"
echo PASS
