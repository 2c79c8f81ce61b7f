# A new app is its C file and one CMake line: tests/frontend/sb_memcpy.c,
# built into BUILD/test-apps (nothing in the front end names it), is listed,
# swept, run and reported by stagebench through `sb-memcpy --describe` alone,
# found through SB_APPS_PATH. The same path makes sb-baseline sweepable:
# nothing in the front end lists it either.
set -u
. "$SB_SOURCE_DIR/tests/lib/sbtest.sh"
command -v mpiexec >/dev/null || sb_skip "mpiexec not found"
fe="$SB_SOURCE_DIR/apps/stagebench/stagebench"
build=$(dirname "$SB_BIN_DIR")
apps=$build/test-apps
export SB_BUILD=$build SB_STATE=$SB_TMP/state
[ -x "$apps/sb-memcpy" ] || sb_fail "sb-memcpy not built in $apps"
[ ! -e "$SB_BIN_DIR/sb-memcpy" ] || sb_fail "sb-memcpy is beside the suite's binaries: it must be found through SB_APPS_PATH"

# Its description: valid JSON with what the front end needs.
"$apps/sb-memcpy" --describe > "$SB_TMP/describe.json" || sb_fail "sb-memcpy --describe failed"
python3 - "$SB_TMP/describe.json" <<'PY' || sb_fail "sb-memcpy's description (above)"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["schema"] == "stagebench-app" and d["name"] == "sb-memcpy" and d["app"] == "memcpy", d
assert d["database"] is False and d["role"] is None, d
assert d["latency_phase"] is None and d["rate_phase"] == "loop_time", d
assert [s["short"] for s in d["sweep"]] == ["tb", "ps"], d["sweep"]
opts = {o["name"]: o for o in d["options"]}
assert opts["tensor-bytes"]["kind"] == "size" and opts["tensor-bytes"]["default"] == "64K", opts
assert opts["passes"]["min"] == 1 and opts["passes"]["max"] == 1000, opts["passes"]
print("description ok:", d["name"], [s["option"] for s in d["sweep"]])
PY
# Every app of the suite describes itself too.
for b in sb-throughput sb-inference sb-agg-producer sb-agg-consumer sb-baseline; do
  "$SB_BIN_DIR/$b" --describe | python3 -c 'import json, sys; d = json.load(sys.stdin); assert d["schema"] == "stagebench-app"' ||
    sb_fail "$b --describe is not a description"
done

export SB_APPS_PATH=$apps
bash "$fe" sweep --help > "$SB_TMP/help" 2>&1 || { cat "$SB_TMP/help"; sb_fail "sweep --help failed"; }
grep -q "^apps: .*memcpy" "$SB_TMP/help" || { cat "$SB_TMP/help"; sb_fail "sweep --help does not list memcpy"; }
grep -q "^apps: .*baseline" "$SB_TMP/help" || { cat "$SB_TMP/help"; sb_fail "sweep --help does not list baseline"; }
bash "$fe" sweep memcpy --help > "$SB_TMP/help2" 2>&1
grep -q -- "--passes .*1 .*memcpy" "$SB_TMP/help2" || { cat "$SB_TMP/help2"; sb_fail "sweep memcpy --help does not list --passes"; }
# Bounds come from the app's table.
bash "$fe" sweep memcpy --passes 0 > "$SB_TMP/bad" 2>&1 && sb_fail "--passes 0 was accepted"
grep -q "at least 1" "$SB_TMP/bad" || { cat "$SB_TMP/bad"; sb_fail "--passes 0: no clear refusal"; }

# The sweep: 2 x 2 cases, no database started.
out=$SB_TMP/sweep
bash "$fe" sweep memcpy --tensor-bytes 1K,64K --passes 1,2 --clients-per-node 2 --iterations 5 \
  --out "$out" > "$SB_TMP/sweep.log" 2>&1 || { cat "$SB_TMP/sweep.log"; sb_fail "sweep memcpy failed"; }
cat "$SB_TMP/sweep.log"
grep -q "# sweep memcpy: 4 of 4 complete, 0 failed" "$SB_TMP/sweep.log" || sb_fail "not every case completed"
grep -q "no database" "$SB_TMP/sweep.log" || sb_fail "the sweep did not see that memcpy uses no database"
for c in tb1K_ps1 tb1K_ps2 tb64K_ps1 tb64K_ps2; do
  f=$(ls "$out"/memcpy_cn1_cpn2_it5_"$c"/run.h5 2>/dev/null)
  [ -n "$f" ] || sb_fail "no case folder memcpy_cn1_cpn2_it5_$c: $(ls "$out")"
done
# The headline phases in the file: latency_phase is the app's first phase.
f=$out/memcpy_cn1_cpn2_it5_tb64K_ps2/run.h5
attr() { h5dump -a "$1" "$f" | sed -n 's/.*(0): "\([^"]*\)".*/\1/p'; }
[ "$(attr /latency_phase)" = copy ] || { h5dump -A "$f" | head -40; sb_fail "latency_phase is not copy"; }
[ "$(attr /rate_phase)" = loop_time ] || sb_fail "rate_phase is not loop_time"
h5dump -a /params/passes "$f" | grep -q "(0): 2" || sb_fail "/params/passes is not 2"

# `stagebench run memcpy` finds the binary through its description.
bash "$fe" run memcpy -n 2 --tensor-bytes 4K --iterations 5 > "$SB_TMP/run.log" 2>&1 ||
  { cat "$SB_TMP/run.log"; sb_fail "run memcpy failed"; }
grep -q "# sb-memcpy: 2 ranks on 1 host, 4096 bytes x 1 passes, .* aggregate, p99 copy" "$SB_TMP/run.log" ||
  { cat "$SB_TMP/run.log"; sb_fail "run memcpy: no last line quoting the copy phase"; }

# The report: the app's rows, its headline from the file.
bash "$fe" report "$out" --no-plots > "$SB_TMP/report.log" 2>&1 || { cat "$SB_TMP/report.log"; sb_fail "report failed"; }
md=$out/report/report.md
[ -f "$md" ] || sb_fail "no report.md"
grep -q "sb-memcpy" "$md" || sb_fail "the report does not show sb-memcpy"
grep -q "copy" "$md" || sb_fail "the report does not show the copy phase"
grep -q "passes" "$out/report/summary.csv" 2>/dev/null || grep -q "passes" "$md" ||
  sb_fail "the report does not know the passes parameter"

# sb-baseline, swept the same way (nothing in the front end lists it).
unset SB_APPS_PATH
bash "$fe" sweep baseline --tensor-bytes 1K --clients-per-node 2 --iterations 5 --out "$SB_TMP/bl" \
  > "$SB_TMP/bl.log" 2>&1 || { cat "$SB_TMP/bl.log"; sb_fail "sweep baseline failed"; }
grep -q "# sweep baseline: 1 of 1 complete" "$SB_TMP/bl.log" || { cat "$SB_TMP/bl.log"; sb_fail "sweep baseline did not complete"; }
bash "$fe" sweep memcpy > "$SB_TMP/gone.log" 2>&1 && sb_fail "memcpy was swept without SB_APPS_PATH"
grep -q "unknown app 'memcpy'" "$SB_TMP/gone.log" || { cat "$SB_TMP/gone.log"; sb_fail "no clear error for an unknown app"; }
echo "a new app (sb-memcpy) was listed, swept, run and reported from its description alone; baseline too"
