# Acceptance criteria on a real sweep: passing, failing, unmatched and
# malformed criteria give the right PASS/FAIL/ERROR lines (the worst value of
# the matching cases, and its case), the right exit codes, and JUnit XML that
# xmllint parses with the right counts.
. "$SB_SOURCE_DIR/tests/report/report_lib.sh"
command -v xmllint >/dev/null || sb_skip "xmllint not found (libxml2-utils)"
sw=$SB_TMP/sweep
rep_sweep "$sw" throughput --tensor-bytes 1K,64K --clients-per-node 1,2 --iterations 10
rep_sweep "$sw" aggregation --tensor-bytes 4K --clients-per-node 2 --client-threads 1,2 --iterations 5
rep=$sw/report

report() { # CRITERIA-FILE -> $out, $rc
  bash "$FE" report "$sw" --criteria "$1" --no-plots > "$SB_TMP/out" 2> "$SB_TMP/err"
  rc=$?
  out=$(cat "$SB_TMP/out")
}
junit_count() { # ATTRIBUTE
  xmllint --xpath "string(/testsuites/testsuite/@$1)" "$rep/junit.xml"
}

# The reference: the worst put_tensor p99 and the lowest 64K loop_time rate,
# straight from results.csv (written by a plain run first).
bash "$FE" report "$sw" --no-plots > /dev/null 2>&1 || sb_fail "plain report failed"
csv=$rep/results.csv
col() { head -1 "$csv" | tr ',' '\n' | grep -nx "$1" | cut -d: -f1; }
read -r worst_p99 worst_case < <(awk -F, -v a="$(col app)" -v p="$(col phase)" -v v="$(col p99_s)" -v c="$(col case)" \
  '$a == "sb-throughput" && $p == "put_tensor" && $v > m { m = $v; k = $c } END { print m, k }' "$csv")
read -r low_gb low_case < <(awk -F, -v a="$(col app)" -v p="$(col phase)" -v v="$(col agg_gb_per_s)" \
  -v c="$(col case)" -v t="$(col tensor_bytes)" \
  '$a == "sb-throughput" && $p == "loop_time" && $t == 65536 && (m == "" || $v < m) { m = $v; k = $c } END { print m, k }' "$csv")

# 1. Passing.
cat > "$SB_TMP/pass" <<'EOF'
# generous bounds: every one passes on any machine that ran the sweep
throughput.put_tensor.p99 < 10s
throughput.loop_time.gbps > 0.000001GB/s where tensor_bytes=64K
throughput.loop_time.count >= 10 where client_total=1, tensor_bytes<=1K
aggregation.get_list.p50 <= 10s where client_threads>=1   # consumer only has get_list
agg-producer.put_dataset.max < 10 s
throughput.unpack_tensor.ops > 1 where case=throughput_*cpn2*
EOF
report "$SB_TMP/pass"
echo "$out"
[ $rc = 0 ] || sb_fail "passing criteria: exit $rc: $(cat "$SB_TMP/err")"
[ "$(grep -c '^PASS ' <<< "$out")" = 6 ] || sb_fail "expected 6 PASS lines"
xmllint --noout "$rep/junit.xml" || sb_fail "junit.xml does not parse"
[ "$(junit_count tests)" = 6 ] && [ "$(junit_count failures)" = 0 ] && [ "$(junit_count errors)" = 0 ] ||
  sb_fail "junit counts: tests $(junit_count tests) failures $(junit_count failures) errors $(junit_count errors)"
grep -q "Verdict: PASS" "$rep/report.md" || sb_fail "report.md verdict is not PASS"

# 2. Failing: the worst case is reported, in the criterion's unit.
cat > "$SB_TMP/fail" <<'EOF'
throughput.put_tensor.p99 < 1ns
throughput.loop_time.gbps > 1000GB/s where tensor_bytes=64K
throughput.put_tensor.p99 < 10s
EOF
report "$SB_TMP/fail"
echo "$out"
[ $rc = 1 ] || sb_fail "failing criteria: exit $rc, expected 1"
grep -q "^FAIL  throughput.put_tensor.p99 < 1ns  measured .* ns in $worst_case, worst of 4 cases$" <<< "$out" ||
  sb_fail "p99 line does not name the worst case $worst_case"
got=$(sed -n 's/^FAIL  throughput.put_tensor.p99 < 1ns  measured \([0-9.e+]*\) ns.*/\1/p' <<< "$out")
awk -v g="$got" -v w="$worst_p99" 'BEGIN { d = g / (w * 1e9) - 1; exit !(d < 1e-3 && d > -1e-3) }' ||
  sb_fail "measured $got ns, the worst p99 in results.csv is $worst_p99 s"
grep -q "^FAIL  throughput.loop_time.gbps > 1000GB/s where tensor_bytes=64K  measured .* GB/s in $low_case, worst of 2 cases$" <<< "$out" ||
  sb_fail "gbps line does not name the slowest 64K case $low_case"
got=$(sed -n 's/^FAIL  throughput.loop_time.gbps.*measured \([0-9.e+-]*\) GB\/s.*/\1/p' <<< "$out")
awk -v g="$got" -v w="$low_gb" 'BEGIN { d = g / w - 1; exit !(d < 1e-3 && d > -1e-3) }' ||
  sb_fail "measured $got GB/s, the lowest 64K rate in results.csv is $low_gb"
grep -q "^PASS  throughput.put_tensor.p99 < 10s  measured" <<< "$out" || sb_fail "the passing line is missing"
xmllint --noout "$rep/junit.xml" || sb_fail "junit.xml does not parse"
[ "$(junit_count failures)" = 2 ] && [ "$(junit_count errors)" = 0 ] || sb_fail "junit failures $(junit_count failures)"
[ "$(xmllint --xpath 'count(//testcase/failure)' "$rep/junit.xml")" = 2 ] || sb_fail "junit <failure> elements"
grep -q "Verdict: FAIL" "$rep/report.md" || sb_fail "report.md verdict is not FAIL"
grep -q "<failure" "$rep/junit.xml" && grep -q "$worst_case" "$rep/junit.xml" || sb_fail "junit does not name the case"

# 3. Unmatched and malformed: ERROR, never a pass.
cat > "$SB_TMP/unmatched" <<'EOF'
throughput.put_tensor.p99 < 2ms where tensor_bytes=1M
thruput.run_model.p99 < 1s
throughput.no_such_phase.p99 < 1s
throughput.put_tensor.p99 < 1s where frobnicate=3
throughput.put_tensor.p99 < 2
throughput.put_tensor.p77 < 2ms
throughput.put_tensor.gbps < 2ms
throughput.put_tensor.p99 << 2ms
throughput.put_tensor.p99 < 10s
EOF
report "$SB_TMP/unmatched"
echo "$out"
[ $rc = 1 ] || sb_fail "unmatched criteria: exit $rc, expected 1"
[ "$(grep -c '^ERROR ' <<< "$out")" = 8 ] || sb_fail "expected 8 ERROR lines"
grep -q "^ERROR throughput.put_tensor.p99 < 2ms where tensor_bytes=1M  matches no case: .*tensor_bytes: 1K, 64K" <<< "$out" ||
  sb_fail "the unmatched size line does not say which sizes exist"
grep -q "^ERROR thruput.run_model.p99 < 1s  matches no case: unknown app 'thruput'" <<< "$out" || sb_fail "unknown app"
grep -q "^ERROR throughput.no_such_phase.p99 < 1s  matches no case: app 'throughput' has no phase 'no_such_phase'" <<< "$out" ||
  sb_fail "unknown phase"
grep -q "^ERROR .*frobnicate=3  matches no case: no case has a parameter 'frobnicate'" <<< "$out" || sb_fail "unknown parameter"
grep -q "^ERROR throughput.put_tensor.p99 < 2  line 5: 'p99' needs a unit" <<< "$out" || sb_fail "missing unit"
grep -q "^ERROR throughput.put_tensor.p77 < 2ms  line 6: unknown statistic 'p77'" <<< "$out" || sb_fail "unknown statistic"
grep -q "^ERROR throughput.put_tensor.gbps < 2ms  line 7: unit 'ms' does not fit 'gbps'" <<< "$out" || sb_fail "wrong unit"
grep -q "^ERROR throughput.put_tensor.p99 << 2ms  line 8: expected APP.PHASE.STAT OP" <<< "$out" || sb_fail "bad operator"
grep -q "^PASS  throughput.put_tensor.p99 < 10s" <<< "$out" || sb_fail "the good line is missing"
xmllint --noout "$rep/junit.xml" || sb_fail "junit.xml does not parse"
[ "$(junit_count tests)" = 9 ] && [ "$(junit_count errors)" = 8 ] && [ "$(junit_count failures)" = 0 ] ||
  sb_fail "junit: errors $(junit_count errors), failures $(junit_count failures)"
[ -s "$rep/criteria.txt" ] && [ "$(wc -l < "$rep/criteria.txt")" = 9 ] || sb_fail "criteria.txt"

# 4. The example shipped in results/ parses (unmatched lines are ERRORs here,
# malformed ones would say "line N:").
report "$SB_SOURCE_DIR/results/acceptance-example.txt"
grep -q "line [0-9]*:" <<< "$out" && sb_fail "the example criteria file has malformed lines: $out"
xmllint --noout "$rep/junit.xml" || sb_fail "junit.xml of the example does not parse"

# 4b. NOT RUN: criteria of an app with no file in the folder (a
# throughput-only folder judged with aggregation and inference lines, as the
# shipped example has) are NOT RUN, which is not a failure: exit 0 when the
# judged lines pass; junit counts them as skipped; the page marks them. A
# where clause that matches no case of an app that is here stays an ERROR.
tp=$SB_TMP/tponly
mkdir -p "$tp"
cp -r "$sw"/throughput_* "$tp/"
cat > "$SB_TMP/notrun" <<'EOF2'
throughput.put_tensor.p99 < 10s
aggregation.get_list.p99 < 10s
agg-producer.put_dataset.p50 < 10s
inference.run_model.p99 < 10s where model=resnet50
baseline.loop_time.gbps > 0.001GB/s
EOF2
bash "$FE" report "$tp" --criteria "$SB_TMP/notrun" > "$SB_TMP/out" 2> "$SB_TMP/err"
rc=$?
out=$(cat "$SB_TMP/out")
echo "$out"
[ $rc = 0 ] || sb_fail "NOT RUN lines beside passing ones: exit $rc, expected 0: $(cat "$SB_TMP/err")"
[ "$(grep -c '^PASS ' <<< "$out")" = 1 ] && [ "$(grep -c '^NOT RUN ' <<< "$out")" = 4 ] ||
  sb_fail "expected 1 PASS and 4 NOT RUN lines"
grep -q "^NOT RUN inference.run_model.p99 < 10s where model=resnet50  no sb-inference file in this folder" <<< "$out" ||
  sb_fail "the NOT RUN line does not say why"
grep -q "Verdict: PASS" "$tp/report/report.md" || sb_fail "NOT RUN made the verdict something else than PASS"
grep -q "4 NOT RUN" "$tp/report/report.md" || sb_fail "the verdict does not count the NOT RUN lines"
[ "$(xmllint --xpath 'string(/testsuites/testsuite/@skipped)' "$tp/report/junit.xml")" = 4 ] &&
  [ "$(xmllint --xpath 'count(//testcase/skipped)' "$tp/report/junit.xml")" = 4 ] ||
  sb_fail "junit: NOT RUN lines are not skipped test cases"
[ "$(grep -c '<tr class="v-NOT-RUN">' "$tp/report/report.html")" = 4 ] || sb_fail "report.html does not mark the NOT RUN rows"
# Every line NOT RUN: nothing judged, verdict NOT RUN, exit 1.
sed -n '2,5p' "$SB_TMP/notrun" > "$SB_TMP/notrun-only"
bash "$FE" report "$tp" --criteria "$SB_TMP/notrun-only" --no-plots > "$SB_TMP/out" 2>&1
[ $? = 1 ] || sb_fail "only NOT RUN lines: expected exit 1 (nothing judged)"
grep -q "Verdict: NOT RUN" "$tp/report/report.md" || sb_fail "only NOT RUN lines: verdict is not NOT RUN"
# The shipped example on the throughput-only folder: its aggregation and
# inference lines NOT RUN, no FAIL but its count >= 20 (this sweep has 10
# iterations), ERRORs only for its 1M lines (this sweep has 1K and 64K).
bash "$FE" report "$tp" --criteria "$SB_SOURCE_DIR/results/acceptance-example.txt" --no-plots > "$SB_TMP/out" 2>&1
grep '^FAIL ' "$SB_TMP/out" | grep -qv 'loop_time.count >= 20' && sb_fail "the example fails on a throughput-only folder: $(cat "$SB_TMP/out")"
grep -q '^NOT RUN aggregation\.' "$SB_TMP/out" && grep -q '^NOT RUN inference\.' "$SB_TMP/out" ||
  sb_fail "the example's aggregation and inference lines are not NOT RUN: $(cat "$SB_TMP/out")"
grep '^ERROR ' "$SB_TMP/out" | grep -v 'tensor_bytes: 1K, 64K' && sb_fail "the example has other ERRORs here"
rm -rf "$tp/report"

# 4c. The page: the verdict box links to the acceptance table, FAIL rows
# are marked; one headline per app: the consumer's last line quotes the
# same rate (get_list) as the report's headline and results.csv.
bash "$FE" report "$sw" --criteria "$SB_TMP/fail" --no-plots > /dev/null 2>&1
html=$rep/report.html
box=$(sed -n '/<div class="verdict FAIL">/,/<\/div>/p' "$html" | head -1)
grep -q 'href="#acceptance"' <<< "$box" || sb_fail "the verdict box does not link to the acceptance table"
grep -q 'FAIL line 1: throughput.put_tensor.p99 &lt; 1ns' <<< "$box" || sb_fail "the verdict box does not name the failing line"
grep -q '<h2 id="acceptance">Acceptance</h2>' "$html" || sb_fail "no acceptance anchor"
[ "$(grep -c '<tr class="v-FAIL">' "$html")" = 2 ] && [ "$(grep -c '<tr class="v-PASS">' "$html")" = 1 ] ||
  sb_fail "report.html does not mark the FAIL rows"
grep -q '(\[acceptance results\](#acceptance))' "$rep/report.md" || sb_fail "report.md verdict has no link"
csv_load "$csv"
n=0
for d in "$sw"/aggregation_*; do
  [ -f "$d/stdout" ] || continue
  case=$(basename "$d")
  line=$(grep '^# sb-agg-consumer: ' "$d/stdout" | tail -1)
  read -r num unit < <(sed -n 's/.* \([0-9.]*\) \([MG]B\/s\) aggregate.*/\1 \2/p' <<< "$line")
  bps=$(csv_get "$csv" "$case" sb-agg-consumer get_list agg_bytes_per_s)
  awk -v n="$num" -v u="$unit" -v b="$bps" 'BEGIN { s = (u == "GB/s") ? 1e9 : 1e6
      exit !(n != "" && b != "" && (n - b / s) ^ 2 <= 0.0005 ^ 2 + 1e-30) }' ||
    sb_fail "$case: the consumer's last line says '$num $unit', get_list in results.csv is $bps B/s ($line)"
  n=$((n + 1))
done
CSV_LOADED="" # later reports rewrite results.csv
[ $n -ge 2 ] || sb_fail "no aggregation case's stdout to compare with ($n)"
grep -q '| agg-consumer | complete | 1 | get_list | .*(get_list) |' "$rep/report.md" ||
  sb_fail "the report's consumer headline is not get_list's rate"
echo "consumer last line = report headline (get_list) in $n cases"

# 5. A partial case (the run stopped by SIGTERM, as a walltime kill does; its
# ranks padded with NaN) is left out unless the line names status; its
# statistics ignore the NaN samples.
sb_start_redis
sb_monitor_start
mkdir -p "$sw/partial_case"
setsid mpiexec -n 2 "$SB_BIN_DIR/sb-throughput" --db "$SSDB_TCP" --tensor-bytes 1K \
  --warmup 1 --iterations 1000000 --out "$sw/partial_case/run.h5" > "$SB_TMP/partial.log" 2>&1 &
pid=$!
SB_CLEANUP_PIDS="$SB_CLEANUP_PIDS $pid"
# Until each rank is 600 timed iterations in (its AI.TENSORGETs, less the
# warm-up's), whatever the load: the criteria below want more than 1000
# put_tensor samples in all.
sb_wait_commands '"AI\.TENSORGET" "sb:tp:rank0"' 602 60 $pid "$SB_TMP/partial.log"
sb_wait_commands '"AI\.TENSORGET" "sb:tp:rank1"' 602 60 $pid "$SB_TMP/partial.log"
kill -TERM -- -"$pid"
wait "$pid"
"$SB_BIN_DIR/h5_expect" "$sw/partial_case/run.h5" --status partial || { cat "$SB_TMP/partial.log"; sb_fail "no partial file"; }
cat > "$SB_TMP/partial" <<'EOF2'
throughput.put_tensor.count < 1000
throughput.put_tensor.count < 1000 where status=partial
throughput.put_tensor.count < 1000 where status=*
EOF2
report "$SB_TMP/partial"
echo "$out"
grep -q "^PASS  throughput.put_tensor.count < 1000  measured 20 in .*, worst of 4 cases$" <<< "$out" ||
  sb_fail "the partial case was judged without status in the line"
grep -q "^FAIL  throughput.put_tensor.count < 1000 where status=partial  measured [0-9]* in partial_case$" <<< "$out" ||
  sb_fail "status=partial does not judge the partial case"
grep -q "^FAIL  throughput.put_tensor.count < 1000 where status=\*  measured [0-9]* in partial_case, worst of 5 cases$" <<< "$out" ||
  sb_fail "status=* does not judge every case"
read -r -a ref <<< "$(ref_stats "$sw/partial_case/run.h5" put_tensor)"
nan=$(h5_rows "$sw/partial_case/run.h5" put_tensor | tr ' ' '\n' | grep -ci nan)
[ "$(csv_get "$csv" partial_case sb-throughput put_tensor count)" = "${ref[0]}" ] &&
  [ "$(csv_get "$csv" partial_case sb-throughput put_tensor missing)" = "$nan" ] &&
  close_to "$(csv_get "$csv" partial_case sb-throughput put_tensor p99_s)" "${ref[5]}" &&
  close_to "$(csv_get "$csv" partial_case sb-throughput put_tensor rank_p50_max_s)" "${ref[9]}" ||
  sb_fail "partial statistics: count ${ref[0]} missing $nan p99 ${ref[5]}, report $(grep '^partial_case,sb-throughput,[^,]*,[^,]*,put_tensor' "$csv" | cut -d, -f9-19)"
echo "partial case: ${ref[0]} samples, $nan NaN"

# 5b. A killed run (SIGKILL of every rank after a checkpoint, as a node
# failure does): its file still says status=running. The report reads it as
# partial and says it was killed; criteria leave it out unless they name
# status.
if "$SB_BIN_DIR/sb-throughput" --help 2>&1 | grep -q -- --checkpoint-interval; then
  mkdir -p "$sw/killed_case"
  setsid mpiexec -n 2 "$SB_BIN_DIR/sb-throughput" --db "$SSDB_TCP" --tensor-bytes 1K \
    --iterations 1000000 --checkpoint-interval 1 --out "$sw/killed_case/run.h5" > "$SB_TMP/killed.log" 2>&1 &
  pid=$!
  SB_CLEANUP_PIDS="$SB_CLEANUP_PIDS $pid"
  for _ in $(seq 600); do # until a checkpoint holds samples
    "$SB_BIN_DIR/h5_expect" "$sw/killed_case/run.h5" --status running --min-samples 1 \
      --phase loop_time >/dev/null 2>&1 && break
    kill -0 $pid 2>/dev/null || { cat "$SB_TMP/killed.log"; sb_fail "the run to kill ended"; }
    sleep 0.1
  done
  kill -KILL -- -"$pid"
  wait "$pid" 2>/dev/null
  "$SB_BIN_DIR/h5_expect" "$sw/killed_case/run.h5" --status running --min-samples 1 --phase loop_time ||
    sb_fail "the killed run's file is not status=running with samples"
  report "$SB_TMP/partial"
  echo "$out"
  bash "$FE" report "$sw" --no-plots > /dev/null 2>&1 || sb_fail "report with a killed run's file"
  [ "$(csv_get "$csv" killed_case sb-throughput put_tensor status)" = partial ] || sb_fail "killed run: status in results.csv not partial"
  grep -qF "partial (killed: status running, last checkpoint)" "$rep/report.md" || sb_fail "report.md does not mark the killed run"
  grep -qF "1 file(s) partial (killed: status running" "$rep/report.md" || sb_fail "the verdict does not count the killed run"
  grep -qF "status **partial (killed: status running, last checkpoint)**" "$rep/cases/killed_case.md" ||
    sb_fail "the case summary does not say killed"
  py=python3; $py -c 'import json' 2>/dev/null || py=/usr/bin/python3
  $py -c 'import json, sys; d = json.load(open(sys.argv[1])); k = d["killed_runs"]
assert [x["file"] for x in k] == ["killed_case/run.h5"] and k[0]["status_in_file"] == "running", k' \
    "$rep/results.json" || sb_fail "results.json killed_runs"
  echo "killed case: read as partial, said so"
else
  echo "note: sb-throughput has no --checkpoint-interval; the killed-run part is skipped"
fi

# 6. Usage: a missing criteria file, an unknown option.
bash "$FE" report "$sw" --criteria "$SB_TMP/nonexistent" > /dev/null 2>&1
[ $? = 2 ] || sb_fail "a missing criteria file is not exit 2"
bash "$FE" report "$sw" --frobnicate > /dev/null 2>&1
[ $? = 2 ] || sb_fail "an unknown option is not exit 2"
echo "PASS: criteria lines, exit codes and JUnit XML"
