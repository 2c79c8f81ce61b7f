# Helpers for the report tests (tests/report/*.sh). Source it; do not run it.
#
# The statistics here are computed without the report's code or numpy: the
# samples come from h5dump's text output, are sorted with `sort -g` and
# summed in awk, so a mistake in the report (or in h5py's reading) shows.
. "$SB_SOURCE_DIR/tests/lib/sbtest.sh"
command -v redis-server >/dev/null || sb_skip "redis-server not found"
command -v h5dump >/dev/null || sb_skip "h5dump not found (hdf5-tools)"
command -v gnuplot >/dev/null || sb_skip "gnuplot not found (gnuplot-nox)"
FE="$SB_SOURCE_DIR/apps/stagebench/stagebench"
export SB_BUILD=$(dirname "$SB_BIN_DIR") SB_STATE=$SB_TMP/state

# rep_sweep OUTDIR APP [sweep options...]: a real sweep; fails the test if
# any case failed.
rep_sweep() {
  local out=$1 app=$2
  shift 2
  bash "$FE" sweep "$app" "$@" --out "$out" > "$SB_TMP/sweep-$app.log" 2>&1 ||
    { cat "$SB_TMP/sweep-$app.log"; sb_fail "sweep $app failed"; }
}

# h5_rows FILE PHASE: the samples of /timings/PHASE, one line per rank.
# h5dump wraps long rows even with -w 0; each line starts with the index
# "(rank,column):" of its first value, which puts the pieces together.
h5_rows() {
  h5dump -d "/timings/$2" -m %.17g -w 0 "$1" |
    awk '/^ *DATA *\{/ { on = 1; next } on && /^ *\}/ { exit }
         on { if (match($0, /^ *\([0-9]+,/)) { r = substr($0, RSTART, RLENGTH); gsub(/[ (,]/, "", r) }
              sub(/^ *\([0-9]+,[0-9]+\): */, ""); gsub(/,/, " "); row[r + 0] = row[r + 0] " " $0
              if (r + 0 > n) n = r + 0 }
         END { for (i = 0; i <= n; i++) print row[i] }'
}

# h5_attr FILE OBJECT ATTR: a numeric attribute.
h5_attr() {
  h5dump -a "$2/$3" "$1" | awk '/\(0\)|^ *[0-9-]/ { gsub(/.*: /, ""); gsub(/[^0-9.eE+-]/, ""); if ($0 != "") { print; exit } }'
}

# h5_phases FILE: the phase names under /timings.
h5_phases() {
  h5dump -n "$1" | awk '$1 == "dataset" && $2 ~ /^\/timings\// { sub(/^\/timings\//, "", $2); print $2 }'
}

# ref_stats FILE PHASE: "count min mean p50 p90 p99 max std rank_p50_min
# rank_p50_max" by sort -g and awk (linear interpolation between ranks, as
# docs/apps.md says; sample standard deviation).
ref_stats() {
  local rows sorted rmeds
  rows=$(h5_rows "$1" "$2")
  sorted=$(tr ' ' '\n' <<< "$rows" | grep -v '^$' | grep -vi nan | sort -g)
  rmeds=$(while read -r line; do
      tr ' ' '\n' <<< "$line" | grep -v '^$' | grep -vi nan | sort -g |
        awk '{ v[NR] = $1 } END { if (NR) printf "%.17g\n", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
    done <<< "$rows" | sort -g)
  awk -v rmin="$(head -1 <<< "$rmeds")" -v rmax="$(tail -1 <<< "$rmeds")" '
    function q(p,   pos, lo, hi) { pos = p * (n - 1); lo = int(pos); hi = lo + 1 < n ? lo + 1 : lo
                                   return v[lo] + (v[hi] - v[lo]) * (pos - lo) }
    { v[n++] = $1 + 0; s += $1 }
    END { m = s / n; for (i = 0; i < n; i++) ss += (v[i] - m) ^ 2
          printf "%d %.17g %.17g %.17g %.17g %.17g %.17g %.17g %s %s\n", n, v[0], m, q(0.5), q(0.9),
                 q(0.99), v[n - 1], (n > 1 ? sqrt(ss / (n - 1)) : 0), rmin, rmax }' <<< "$sorted"
}

# ref_rates FILE PHASE: "bytes/s ops/s", the sum over ranks of each rank's
# payload / time in the phase (docs/apps.md).
ref_rates() {
  local b i
  b=$(h5_attr "$1" "/timings/$2" bytes_per_sample)
  i=$(h5_attr "$1" "/timings/$2" items_per_sample)
  h5_rows "$1" "$2" | awk -v b="$b" -v it="$i" '
    { n = 0; t = 0; for (k = 1; k <= NF; k++) if (tolower($k) != "nan") { n++; t += $k }
      if (t > 0) { B += b * n / t; O += (it ? it : 1) * n / t } }
    END { printf "%.17g %.17g\n", B, O }'
}

# csv_load CSV: reads results.csv once into CSV_VAL (CASE|APP|PHASE|COLUMN),
# which csv_get then answers from without a process per value (the tests
# look up hundreds; under load each awk start costs).
declare -A CSV_VAL
CSV_LOADED=""
csv_load() {
  local -a head row
  local line i k
  CSV_VAL=()
  { IFS=, read -r -a head
    while IFS= read -r line; do
      IFS=, read -r -a row <<< "$line,"
      k="${row[0]}|${row[1]}|${row[4]}"
      for i in "${!head[@]}"; do CSV_VAL["$k|${head[$i]}"]=${row[$i]:-}; done
    done; } < "$1"
  CSV_HEAD=" ${head[*]} "
  CSV_LOADED=$1
}

# csv_get CSV CASE APP PHASE COLUMN: one value of the report's results.csv.
csv_get() {
  if [ "$1" = "$CSV_LOADED" ]; then
    case $CSV_HEAD in *" $5 "*) ;; *) echo NOCOLUMN; return ;; esac
    local k="$2|$3|$4|$5"
    if [ -n "${CSV_VAL[$k]+set}" ]; then echo "${CSV_VAL[$k]}"; else echo NOROW; fi
    return
  fi
  awk -F, -v c="$2" -v a="$3" -v p="$4" -v col="$5" '
    NR == 1 { for (i = 1; i <= NF; i++) idx[$i] = i; if (!(col in idx)) { print "NOCOLUMN"; exit } next }
    $idx["case"] == c && $idx["app"] == a && $idx["phase"] == p { print $idx[col]; found = 1; exit }
    END { if (!found && NR > 1 && (col in idx)) print "NOROW" }' "$1"
}

# close_to A B [REL]: A and B agree to a relative 1e-9 (or REL).
close_to() {
  awk -v a="$1" -v b="$2" -v r="${3:-1e-9}" 'BEGIN {
    d = a - b; if (d < 0) d = -d; m = (a < 0 ? -a : a); mb = (b < 0 ? -b : b); if (mb > m) m = mb
    exit !(a != "" && b != "" && d <= r * m + 1e-300) }'
}

# close_later A B MESSAGE: close_to, judged later by close_check, all at once
# (one awk for hundreds of comparisons).
close_later() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >> "$SB_TMP/close_later"; }
# close_check: fails the test on the first pair not close_to (1e-9).
close_check() {
  [ -f "$SB_TMP/close_later" ] || return 0
  local bad
  bad=$(awk -F'\t' '{ a = $1; b = $2; d = a - b; if (d < 0) d = -d; m = (a < 0 ? -a : a)
                       mb = (b < 0 ? -b : b); if (mb > m) m = mb
                       if (!(a != "" && b != "" && d <= 1e-9 * m + 1e-300)) { print $3; exit } }' "$SB_TMP/close_later")
  rm -f "$SB_TMP/close_later"
  [ -z "$bad" ] || sb_fail "$bad"
}

# png_ok FILE: a non-empty PNG (signature and size).
png_ok() {
  [ -s "$1" ] && [ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] &&
    [ "$(stat -c %s "$1")" -gt 2000 ]
}

# svg_ok FILE: a non-empty SVG document.
svg_ok() {
  [ -s "$1" ] && grep -q '<svg' "$1" && grep -q '</svg>' "$1"
}
