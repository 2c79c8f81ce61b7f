# `cmake --install` gives a complete installation that works on its own: the
# build folder is installed to a temporary prefix, the prefix is moved (the
# installation is relocatable), and from another working directory the
# installed stagebench runs the demo, db start / run / db stop, a sweep, the
# report with the installed acceptance criteria, and the doctor. Also: no
# Python in bin/, the module executable, the templates and docs installed.
# Argument: the build's SB_SANITIZE (an instrumented build's binaries need the
# test suite's redis-server wrapper, so that build skips this test).
set -u
. "$SB_SOURCE_DIR/tests/lib/sbtest.sh"
[ -z "${1:-}" ] || sb_skip "sanitizer build ($1): its installed binaries need the sanitizer runtime preloaded into redis-server"
command -v redis-server >/dev/null || sb_skip "redis-server not found"
command -v mpiexec >/dev/null || sb_skip "mpiexec not found"
build=$(dirname "$SB_BIN_DIR")
unset SSDB SB_STATE SB_BUILD SB_MODULE SB_DEMO_OUT

cmake --install "$build" --prefix "$SB_TMP/first" > "$SB_TMP/install.log" 2>&1 ||
  { cat "$SB_TMP/install.log"; sb_fail "cmake --install failed"; }
# An installed template finds common.sh and the installed stagebench (a job
# script runs from a copy in the batch system's spool, not from here): where
# it was installed, and once moved, through the stagebench on PATH.
template_check() { # PREFIX PATH LABEL
  local spool=$SB_TMP/spool-$3
  mkdir -p "$spool"
  cp "$1/share/stagebench/batch_scripts/slurm/throughput.sh" "$spool/job.sh"
  (cd "$spool" && PATH=$2 OUT=$SB_TMP/tpl-$3 TENSOR_BYTES=1K ITERATIONS=5 CLIENTS_PER_NODE=1 \
     DB_CPUS=1 SB_STATE=$SB_TMP/tplstate-$3 bash ./job.sh) > "$SB_TMP/tpl-$3.log" 2>&1
  grep -q "stagebench: $1/bin/stagebench sweep throughput" "$SB_TMP/tpl-$3.log" ||
    { cat "$SB_TMP/tpl-$3.log"; sb_fail "the installed template ($3) did not find the installed stagebench"; }
  grep -q "1 of 1 complete" "$SB_TMP/tpl-$3.log" ||
    { cat "$SB_TMP/tpl-$3.log"; sb_fail "the installed template's sweep ($3) did not complete"; }
}
template_check "$SB_TMP/first" /usr/bin:/bin installed
mv "$SB_TMP/first" "$SB_TMP/moved"
P=$SB_TMP/moved
sb=$P/bin/stagebench

template_check "$P" "$P/bin:/usr/bin:/bin" moved

# ---- the layout ----
for f in bin/stagebench bin/sb-throughput bin/sb-inference bin/sb-model bin/sb-agg-producer \
         bin/sb-agg-consumer bin/sb-baseline bin/sb-dbinfo; do
  [ -x "$P/$f" ] || sb_fail "$f not installed as an executable"
done
mod=$(find "$P" -name sbai.so | head -n 1)
[ -n "$mod" ] || sb_fail "sbai.so not installed"
[ -x "$mod" ] || sb_fail "$mod is not executable ($(stat -c %A "$mod")): redis-server would refuse it"
[ -z "$(find "$P/bin" -name '*.py')" ] || sb_fail "Python modules in bin/: $(ls "$P/bin")"
for f in libexec/stagebench/stagebench_sweep.py libexec/stagebench/stagebench_report.py \
         libexec/stagebench/stagebench_doctor.py libexec/stagebench/sbplan.py \
         share/stagebench/batch_scripts/common.sh share/stagebench/batch_scripts/slurm/throughput.sh \
         share/stagebench/batch_scripts/pbs/throughput.sh share/stagebench/results/acceptance-example.txt \
         share/stagebench/docs/frontend.md share/stagebench/README.md; do
  [ -f "$P/$f" ] || sb_fail "$f not installed"
done
# ---- the demo, from another working directory ----
work=$SB_TMP/work
mkdir -p "$work"
cd "$work"
XDG_RUNTIME_DIR=$SB_TMP/run SB_DEMO_ITERATIONS=20 "$sb" demo > "$SB_TMP/demo.log" 2>&1 ||
  { cat "$SB_TMP/demo.log"; sb_fail "the installed demo failed"; }
cat "$SB_TMP/demo.log"
last=$(tail -n 1 "$SB_TMP/demo.log")
demo=$(sed -n 's/.*results in \([^;]*\);.*/\1/p' <<< "$last")
[ -n "$demo" ] && [ -d "$demo" ] || sb_fail "the demo's last line does not say where the results are: $last"
case $demo in "$work"/stagebench-demo-*) ;; *) sb_fail "the demo wrote to $demo, not to a new folder under the working directory" ;; esac
[ -f "$demo/report/report.html" ] || sb_fail "no report at $demo/report/report.html"
grep -q "report: $demo/report/report.html" <<< "$last" || sb_fail "the last line does not name the report: $last"
for app in baseline throughput inference aggregation; do
  grep -q "# sweep $app: \([0-9]*\) of \1 complete, 0 failed" "$SB_TMP/demo.log" || sb_fail "the demo's $app sweep did not complete every case"
done
# A second demo writes a folder of its own; --out refuses a folder with results; --resume reuses it
# with the settings it was started with (SB_DEMO_ITERATIONS=20 then, the default 200 now).
XDG_RUNTIME_DIR=$SB_TMP/run "$sb" demo --out "$demo" > "$SB_TMP/again.log" 2>&1 && sb_fail "demo --out of a folder with results was accepted"
grep -q "holds results already.*--resume" "$SB_TMP/again.log" || { cat "$SB_TMP/again.log"; sb_fail "demo --out: no clear refusal"; }
XDG_RUNTIME_DIR=$SB_TMP/run "$sb" demo --resume "$demo" > "$SB_TMP/resume.log" 2>&1 ||
  { cat "$SB_TMP/resume.log"; sb_fail "demo --resume failed"; }
grep -q "the folder's settings: 4 ranks, sizes 1K 64K 1M, 20 iterations" "$SB_TMP/resume.log" ||
  { cat "$SB_TMP/resume.log"; sb_fail "demo --resume did not take the folder's settings"; }
grep -q "complete, skipped" "$SB_TMP/resume.log" || { cat "$SB_TMP/resume.log"; sb_fail "demo --resume ran the complete cases again"; }
grep "\.\.\. done" "$SB_TMP/resume.log" && { cat "$SB_TMP/resume.log"; sb_fail "demo --resume ran a case that was complete (above)"; }

# ---- db start / run / db stop / report / doctor, installed ----
export SB_STATE=$SB_TMP/state
out=$("$sb" db start --tpq 1 2> "$SB_TMP/db.log") || { cat "$SB_TMP/db.log"; sb_fail "installed db start failed"; }
eval "$out"
[ -n "${SSDB:-}" ] || sb_fail "db start printed no SSDB: $out"
"$sb" run throughput -n 2 --tensor-bytes 4K --iterations 20 --out "$work/tp.h5" > "$SB_TMP/run.log" 2>&1 ||
  { cat "$SB_TMP/run.log"; "$sb" db stop; sb_fail "installed run throughput failed"; }
"$sb" db stop 2>/dev/null
"$SB_BIN_DIR/h5_expect" "$work/tp.h5" --status complete >/dev/null || sb_fail "tp.h5 not complete"
"$sb" report "$demo/throughput" --out "$work/rep" --no-plots \
  --criteria "$P/share/stagebench/results/acceptance-example.txt" > "$SB_TMP/report.log" 2>&1
rc=$?
cat "$SB_TMP/report.log"
[ $rc -le 1 ] || sb_fail "installed report with the installed criteria: exit $rc"
[ -f "$work/rep/report.html" ] || sb_fail "no report written"
"$sb" doctor > "$SB_TMP/doctor.log" 2>&1 || { cat "$SB_TMP/doctor.log"; sb_fail "installed doctor failed"; }
echo "installed to a prefix, moved it, and the demo, db, run, report and doctor worked from there"
