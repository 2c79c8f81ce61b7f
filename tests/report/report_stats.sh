# stagebench report on files the apps write here: a throughput sweep (two
# sizes x two client counts), an aggregation sweep (two consumer thread
# counts) and, where sb-inference is built, an inference sweep. Every
# statistic of every case x phase in results.csv is checked against values
# computed from h5dump's output with sort and awk; the aggregate rates also
# against the apps' own printed tables; then the parameter columns, the
# JSON, the per-case summaries, the plots and the one-page report.
. "$SB_SOURCE_DIR/tests/report/report_lib.sh"
sw=$SB_TMP/sweep
rep_sweep "$sw" throughput --tensor-bytes 1K,64K --clients-per-node 1,2 --iterations 20
rep_sweep "$sw" aggregation --tensor-bytes 4K --clients-per-node 2 --client-threads 1,2 --iterations 10
inference=0
if [ -x "$SB_BIN_DIR/sb-inference" ]; then
  rep_sweep "$sw" inference --model tiny --clients-per-node 1,2 --iterations 3
  inference=1
else
  echo "note: $SB_BIN_DIR/sb-inference not built; inference part skipped"
fi

bash "$FE" report "$sw" > "$SB_TMP/report.out" 2> "$SB_TMP/report.err" ||
  { cat "$SB_TMP/report.out" "$SB_TMP/report.err"; sb_fail "report exited $?"; }
cat "$SB_TMP/report.err"
rep=$sw/report
csv=$rep/results.csv
csv_load "$csv"
for f in results.csv results.json report.md report.html; do
  [ -s "$rep/$f" ] || sb_fail "$rep/$f missing or empty"
done
grep -q "refused\|error" "$SB_TMP/report.err" && ! grep -q "0 refused" "$SB_TMP/report.err" &&
  sb_fail "a file was refused: $(cat "$SB_TMP/report.err")"

# Every file x phase has its row, and each statistic agrees with the
# independent computation.
nrows=0 nchecked=0 nprinted=0
check_file() { # FILE APP CASE
  local f=$1 app=$2 case=$3 phase ref rates cols col i v want
  cols=(count min_s mean_s p50_s p90_s p99_s max_s std_s rank_p50_min_s rank_p50_max_s)
  for phase in $(h5_phases "$f"); do
    nrows=$((nrows + 1))
    read -r -a ref <<< "$(ref_stats "$f" "$phase")"
    for i in "${!cols[@]}"; do
      col=${cols[$i]}
      v=$(csv_get "$csv" "$case" "$app" "$phase" "$col")
      close_later "$v" "${ref[$i]}" "$case $app $phase $col: report $v, h5dump+sort ${ref[$i]}"
      nchecked=$((nchecked + 1))
    done
    read -r -a rates <<< "$(ref_rates "$f" "$phase")"
    v=$(csv_get "$csv" "$case" "$app" "$phase" agg_ops_per_s)
    close_later "$v" "${rates[1]}" "$case $app $phase agg_ops_per_s: report $v, awk ${rates[1]}"
    want=$(h5_attr "$f" "/timings/$phase" bytes_per_sample)
    [ "$(csv_get "$csv" "$case" "$app" "$phase" bytes_per_sample)" = "$want" ] ||
      sb_fail "$case $phase bytes_per_sample"
    v=$(csv_get "$csv" "$case" "$app" "$phase" agg_bytes_per_s)
    if [ "$want" = 0 ]; then
      [ -z "$v" ] || sb_fail "$case $phase moves no bytes but agg_bytes_per_s=$v"
    else
      close_later "$v" "${rates[0]}" "$case $app $phase agg_bytes_per_s: report $v, awk ${rates[0]}"
      close_to "$(csv_get "$csv" "$case" "$app" "$phase" agg_gb_per_s)" \
        "$(awk -v b="${rates[0]}" 'BEGIN { printf "%.17g", b / 1e9 }')" ||
        sb_fail "$case $phase agg_gb_per_s is not agg_bytes_per_s / 1e9"
    fi
    nchecked=$((nchecked + 3))
  done
}
for d in "$sw"/throughput_*/; do
  case=$(basename "$d")
  check_file "$d/run.h5" sb-throughput "$case"
  # The app's own table (docs/apps.md): GB/s with 3 decimals, ops/s with 1.
  while read -r phase _ _ _ _ _ gb ops; do
    v=$(csv_get "$csv" "$case" sb-throughput "$phase" agg_ops_per_s)
    awk -v a="$v" -v b="$ops" 'BEGIN { d = a - b; exit !(d < 0.051 && d > -0.051) }' ||
      sb_fail "$case $phase: report $v ops/s, the app printed $ops"
    if [ "$gb" != - ]; then
      v=$(csv_get "$csv" "$case" sb-throughput "$phase" agg_gb_per_s)
      awk -v a="$v" -v b="$gb" 'BEGIN { d = a - b; exit !(d < 0.00051 && d > -0.00051) }' ||
        sb_fail "$case $phase: report $v GB/s, the app printed $gb"
    fi
    nprinted=$((nprinted + 1))
  done < <(awk '/^# phase/ { on = 1; getline; next } on && /^# / { on = 0 } on && NF == 8 { print }' "$d/stdout")
  # Parameters: the app's /params and the sweep's case name.
  tb=$(sed -n 's/.*_tb\([0-9]*\)K_.*/\1/p' <<< "$case")
  cpn=$(sed -n 's/.*_cpn\([0-9]*\)_.*/\1/p' <<< "$case")
  [ "$(csv_get "$csv" "$case" sb-throughput put_tensor tensor_bytes)" = $((tb * 1024)) ] || sb_fail "$case tensor_bytes"
  [ "$(csv_get "$csv" "$case" sb-throughput put_tensor clients_per_node)" = "$cpn" ] || sb_fail "$case clients_per_node"
  [ "$(csv_get "$csv" "$case" sb-throughput put_tensor client_total)" = "$cpn" ] || sb_fail "$case client_total"
  [ "$(csv_get "$csv" "$case" sb-throughput put_tensor nranks)" = "$cpn" ] || sb_fail "$case nranks"
  [ "$(csv_get "$csv" "$case" sb-throughput put_tensor db_nodes)" = 1 ] || sb_fail "$case db_nodes"
  [ "$(csv_get "$csv" "$case" sb-throughput put_tensor status)" = complete ] || sb_fail "$case status"
  [ "$(csv_get "$csv" "$case" sb-throughput loop_time count)" = $((cpn * 20)) ] || sb_fail "$case loop_time count"
done
for d in "$sw"/aggregation_*/; do
  case=$(basename "$d")
  check_file "$d/producer.h5" sb-agg-producer "$case"
  check_file "$d/consumer.h5" sb-agg-consumer "$case"
  ct=$(sed -n 's/.*_ct\([0-9]*\)$/\1/p' <<< "$case")
  [ "$(csv_get "$csv" "$case" sb-agg-consumer get_list client_threads)" = "$ct" ] || sb_fail "$case client_threads"
  # The consumer's clients are the producer ranks it serves.
  [ "$(csv_get "$csv" "$case" sb-agg-consumer get_list client_total)" = 2 ] || sb_fail "$case consumer client_total"
  [ "$(csv_get "$csv" "$case" sb-agg-consumer get_list nranks)" = 1 ] || sb_fail "$case consumer nranks"
  [ "$(csv_get "$csv" "$case" sb-agg-consumer get_list tensor_bytes)" = 4096 ] || sb_fail "$case tensor_bytes"
done
if [ $inference = 1 ]; then
  for d in "$sw"/inference_*/; do
    case=$(basename "$d")
    check_file "$d/run.h5" sb-inference "$case"
    v=$(csv_get "$csv" "$case" sb-inference loop_time images_per_s)
    [ "$v" = "$(csv_get "$csv" "$case" sb-inference loop_time agg_ops_per_s)" ] && [ -n "$v" ] ||
      sb_fail "$case images_per_s '$v' is not loop_time's ops/s"
  done
fi
close_check
[ "$nprinted" = 16 ] || sb_fail "compared $nprinted rows of the apps' printed tables, expected 16"
[ "$(($(wc -l < "$csv") - 1))" = "$nrows" ] || sb_fail "results.csv has $(($(wc -l < "$csv") - 1)) rows, the files $nrows phases"
echo "statistics: $nchecked values in $nrows rows agree with h5dump + sort + awk;" \
  "$nprinted rates with the apps' printed tables"

# The header's stable columns, in order.
head -1 "$csv" | grep -q '^case,app,file,status,phase,nranks,client_total,verify_errors,count,missing,min_s,mean_s,p50_s,p90_s,p99_s,max_s,std_s,rank_p50_min_s,rank_p50_max_s,bytes_per_sample,items_per_sample,agg_bytes_per_s,agg_gb_per_s,agg_ops_per_s,images_per_s,client_nodes,clients_per_node,db_nodes,' ||
  sb_fail "results.csv header: $(head -1 "$csv")"

# results.json holds the same rows (read back with the system's json module).
py=python3
$py -c 'import json' 2>/dev/null || py=/usr/bin/python3
$py - "$rep/results.json" "$nrows" <<'EOF' || sb_fail "results.json"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["schema"] == "stagebench-report" and d["version"] == 1, d.get("schema")
assert len(d["rows"]) == int(sys.argv[2]), len(d["rows"])
assert all(set(r) == set(d["columns"]) for r in d["rows"])
assert d["refused"] == [] and d["failed_cases"] == []
EOF

# Per-case summaries, one per case directory.
for d in "$sw"/throughput_*/ "$sw"/aggregation_*/; do
  s=$rep/cases/$(basename "$d").md
  [ -s "$s" ] && grep -q "loop_time" "$s" || sb_fail "summary $s missing"
done

# Plots: PNG and SVG, non-empty, for what the data holds.
plots="throughput_throughput throughput_throughput_clients aggregation_get_list
  latency_throughput_put_tensor__tensor_bytes-1K latency_throughput_put_tensor__tensor_bytes-64K
  latency_agg-consumer_get_list latency_agg-producer_put_dataset"
[ $inference = 1 ] && plots="$plots inference_images latency_inference_run_model"
for p in $plots; do
  png_ok "$rep/plots/$p.png" || sb_fail "plot $p.png missing, empty or not a PNG ($(ls "$rep/plots"))"
  svg_ok "$rep/plots/$p.svg" || sb_fail "plot $p.svg missing or not SVG"
done
# The throughput plot's data are the CSV's figures.
for d in "$sw"/throughput_*/; do
  v=$(csv_get "$csv" "$(basename "$d")" sb-throughput loop_time agg_gb_per_s)
  grep -q "$v" "$rep/plots/src/throughput_throughput.dat" || sb_fail "throughput plot lacks $v GB/s"
done

# The one-page report: system, parameters, headline, plots, verdict.
md=$rep/report.md
for want in "## System" "mpi_library" "## Parameters swept" "tensor_bytes | 1K, 64K" \
    "client_threads | 1, 2" "## Headline" "## Plots" "Verdict: NONE" "plots/throughput_throughput.png"; do
  grep -qF "$want" "$md" || sb_fail "report.md lacks '$want'"
done
[ "$(grep -c '^| \[' "$md")" -ge 8 ] || sb_fail "headline table has fewer than 8 cases"
grep -q 'inference images/s against clients: no sb-inference files' "$md" || [ $inference = 1 ] ||
  sb_fail "report.md does not say the inference plot was skipped"
html=$rep/report.html
[ "$(grep -o 'data:image/png;base64,' "$html" | wc -l)" -ge 7 ] || sb_fail "report.html embeds too few plots"
grep -q '<img[^>]* src="plots/' "$html" && sb_fail "report.html refers to image files instead of embedding them"
grep -q 'Verdict: NONE' "$html" || sb_fail "report.html has no verdict"
echo "PASS: report statistics, tables, plots and page"
