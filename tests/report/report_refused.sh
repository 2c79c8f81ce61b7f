# A sweep directory with a truncated run.h5, a foreign HDF5 file (no
# stagebench schema), a file of another schema version, a file that is not
# HDF5 at all, a failed case and a file still being written: the report
# names each of them (stderr and report.md) and still covers the rest.
. "$SB_SOURCE_DIR/tests/report/report_lib.sh"
command -v h5copy >/dev/null || sb_skip "h5copy not found (hdf5-tools)"
sw=$SB_TMP/sweep
rep_sweep "$sw" throughput --tensor-bytes 1K,4K --clients-per-node 1 --iterations 5
a=$(basename "$(ls -d "$sw"/throughput_*tb1K_*)")
b=$(basename "$(ls -d "$sw"/throughput_*tb4K_*)")

# Truncated: the first half of case a's file.
size=$(stat -c %s "$sw/$a/run.h5")
head -c $((size / 2)) "$sw/$a/run.h5" > "$SB_TMP/half" && mv "$SB_TMP/half" "$sw/$a/run.h5"
# Foreign: a valid HDF5 file without the stagebench root attributes.
h5copy -i "$sw/$b/run.h5" -o "$sw/foreign.h5" -s /timings -d /data || sb_fail "h5copy"
# Not HDF5 at all.
echo "not hdf5" > "$sw/notes.h5"
# A failed case, and a file a killed run left half-written.
mkdir -p "$sw/throughput_broken"
echo "exit 1" > "$sw/throughput_broken/FAILED"
echo 1 > "$sw/throughput_broken/attempts"
echo partial > "$sw/throughput_broken/run.h5.writing"
# Another schema version (needs h5py to change an attribute).
py=""
for p in python3 /usr/bin/python3; do
  "$p" -c 'import h5py' 2>/dev/null && { py=$p; break; }
done
if [ -n "$py" ]; then
  mkdir -p "$sw/older" && cp "$sw/$b/run.h5" "$sw/older/run.h5"
  "$py" -c 'import h5py, sys; f = h5py.File(sys.argv[1], "r+"); f.attrs["schema_version"] = 2; f.close()' \
    "$sw/older/run.h5" || sb_fail "could not rewrite schema_version"
fi

bash "$FE" report "$sw" > "$SB_TMP/out" 2> "$SB_TMP/err"
sb_expect_exit 0 $? "$SB_TMP/err" "report with refused files (0: the rest is covered)"
grep -q "error: $sw/$a/run.h5: .*truncated" "$SB_TMP/err" || sb_fail "stderr does not name the truncated file"
grep -q "error: $sw/foreign.h5: not a stagebench timings file" "$SB_TMP/err" || sb_fail "stderr does not name the foreign file"
grep -q "error: $sw/notes.h5: not a readable HDF5 file" "$SB_TMP/err" || sb_fail "stderr does not name the non-HDF5 file"
[ -z "$py" ] || grep -q "error: $sw/older/run.h5: schema_version 2" "$SB_TMP/err" ||
  sb_fail "stderr does not name the version-2 file"

rep=$sw/report
md=$rep/report.md
grep -q "^- $a/run.h5: .*truncated" "$md" || sb_fail "report.md does not list the truncated file"
grep -q "^- foreign.h5: not a stagebench timings file" "$md" || sb_fail "report.md does not list the foreign file"
grep -q "^- notes.h5: " "$md" || sb_fail "report.md does not list notes.h5"
[ -z "$py" ] || grep -q "^- older/run.h5: schema_version 2" "$md" || sb_fail "report.md does not list older/run.h5"
grep -q "^- throughput_broken: exit 1" "$md" || sb_fail "report.md does not list the failed case"
grep -q "^- throughput_broken/run.h5.writing" "$md" || sb_fail "report.md does not list the .writing file"
grep -q "Verdict: NONE.*case(s) failed.*file(s) refused" "$md" || sb_fail "the verdict line does not count the problems"

# The rest is covered: case b's four phases, nothing of case a.
csv=$rep/results.csv
[ "$(grep -c "^$b," "$csv")" = 4 ] || sb_fail "results.csv lacks case $b"
grep -q "^$a," "$csv" && sb_fail "results.csv has rows of the truncated file"
[ "$(($(wc -l < "$csv") - 1))" = 4 ] || sb_fail "results.csv: $(($(wc -l < "$csv") - 1)) rows, expected 4"
grep -q "$b" "$md" || sb_fail "report.md does not cover case $b"
png_ok "$rep/plots/latency_throughput_put_tensor.png" || sb_fail "no latency plot for the readable case"

# Criteria are judged on what was read.
echo "throughput.put_tensor.count >= 5" > "$SB_TMP/crit"
bash "$FE" report "$sw" --criteria "$SB_TMP/crit" --no-plots > "$SB_TMP/out" 2>/dev/null ||
  sb_fail "criteria on the readable case failed: $(cat "$SB_TMP/out")"
grep -q "^PASS  throughput.put_tensor.count >= 5  measured 5 in $b$" "$SB_TMP/out" ||
  sb_fail "criterion line: $(cat "$SB_TMP/out")"

# Nothing readable at all: exit 2, naming the file.
mkdir -p "$SB_TMP/only-foreign"
cp "$sw/foreign.h5" "$SB_TMP/only-foreign/"
bash "$FE" report "$SB_TMP/only-foreign" > /dev/null 2> "$SB_TMP/err2"
rc=$?
[ $rc = 2 ] || sb_fail "a directory without stagebench files: exit $rc, expected 2"
grep -q "foreign.h5" "$SB_TMP/err2" && grep -q "no stagebench timings file" "$SB_TMP/err2" ||
  sb_fail "message: $(cat "$SB_TMP/err2")"
bash "$FE" report "$SB_TMP/no-such-dir" > /dev/null 2>&1
[ $? = 2 ] || sb_fail "a missing directory is not a usage error"
echo "PASS: refused files named, the rest reported"
