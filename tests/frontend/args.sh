# The front end's arguments and state: an option without its value, a rank
# count that is not a positive integer, an unknown app are clear errors
# (never a shell error, never a run); more ranks than cores is said; a
# database that cannot start says the server log's reason (db start and the
# sweep's progress line); the database state is per batch job, or --state.
set -u
. "$SB_SOURCE_DIR/tests/lib/sbtest.sh"
command -v redis-server >/dev/null || sb_skip "redis-server not found"
command -v mpiexec >/dev/null || sb_skip "mpiexec not found"
fe="$SB_SOURCE_DIR/apps/stagebench/stagebench"
export SB_BUILD=$(dirname "$SB_BIN_DIR")
unset SSDB SB_STATE SLURM_JOB_ID PBS_JOBID SLURM_JOB_NODELIST PBS_NODEFILE
export XDG_RUNTIME_DIR=$SB_TMP/run

refused() { # PATTERN CMD...: exits nonzero, says PATTERN, no shell error
  local pat=$1 rc; shift
  "$@" > "$SB_TMP/out" 2>&1
  rc=$?
  [ $rc != 0 ] || { cat "$SB_TMP/out"; sb_fail "accepted: $*"; }
  grep -q -- "$pat" "$SB_TMP/out" || { cat "$SB_TMP/out"; sb_fail "$*: no '$pat' in the message"; }
  grep -q "unbound variable\|line [0-9]*:\|Traceback" "$SB_TMP/out" && { cat "$SB_TMP/out"; sb_fail "$*: a shell or Python error"; }
  grep -q "launch:" "$SB_TMP/out" && sb_fail "$*: launched something"
  return 0
}
refused "-n needs a value" bash "$fe" run throughput -n
for v in two 0 -3 1.5 ""; do
  refused "expected a positive integer" bash "$fe" run throughput -n "$v"
  refused "expected a positive integer" bash "$fe" run aggregation -n "$v"
done
refused "--ppn needs a value" bash "$fe" run baseline --ppn
refused "expected a positive integer" bash "$fe" run baseline --ppn 0
refused "unknown app 'bogus'" bash "$fe" run bogus
refused "--port needs a value" bash "$fe" db start --port
refused "unknown subcommand 'begin'" bash "$fe" db begin
refused "unexpected argument" bash "$fe" build now
refused "--resume /nonexistent: no such folder" bash "$fe" demo --resume /nonexistent
refused "unknown app 'bogus'" bash "$fe" sweep bogus

# More ranks than cores: said, and the run goes on.
cores=$(awk '/^Cpus_allowed_list:/ { print $2 }' /proc/self/status | tr ',' '\n' |
        awk -F- '{ n += ($2 == "" ? 1 : $2 - $1 + 1) } END { print n }')
np=$((2 * cores))
bash "$fe" run baseline -n "$np" --iterations 2 > "$SB_TMP/over" 2>&1 || { cat "$SB_TMP/over"; sb_fail "baseline with $np ranks failed"; }
grep -q "note: $np ranks on a node with $cores usable cores: oversubscribed" "$SB_TMP/over" ||
  { cat "$SB_TMP/over"; sb_fail "no oversubscription note for $np ranks on $cores cores"; }
bash "$fe" run baseline -n 2 --iterations 2 2>&1 | grep -q oversubscribed && [ "$cores" -ge 2 ] &&
  sb_fail "an oversubscription note for 2 ranks on $cores cores"

# A database that cannot start: the server log's reason, in db start's error
# and in the sweep's progress line. (An executable that is not a module.)
cp "$(type -P true)" "$SB_TMP/notamodule.so"
# (A start that wrongly succeeds leaves a server: stopped by its pid file.)
stop_bad() { [ -f "$SB_TMP/bad/db.pid" ] && kill $(cat "$SB_TMP/bad/db.pid") 2>/dev/null; return 0; }
SB_MODULE=$SB_TMP/notamodule.so SB_STATE=$SB_TMP/bad bash "$fe" db start > "$SB_TMP/bad.log" 2>&1 &&
  { stop_bad; sb_fail "db start with a file that is no module succeeded"; }
grep -q "error: database did not start: redis-server on port [0-9]* exited: Module .*notamodule.so failed to load" "$SB_TMP/bad.log" ||
  { cat "$SB_TMP/bad.log"; sb_fail "db start does not give the server log's reason"; }
SB_MODULE=$SB_TMP/notamodule.so bash "$fe" sweep throughput --iterations 2 --out "$SB_TMP/badsweep" > "$SB_TMP/badsweep.log" 2>&1
grep -q "FAILED: database db_n1_c1_t1 did not start: .*Module .*notamodule.so failed to load" "$SB_TMP/badsweep.log" ||
  { cat "$SB_TMP/badsweep.log"; sb_fail "the sweep's progress line does not give the reason"; }
chmod 644 "$SB_TMP/notamodule.so"
SB_MODULE=$SB_TMP/notamodule.so SB_STATE=$SB_TMP/bad bash "$fe" db start > "$SB_TMP/bad.log" 2>&1 &&
  { stop_bad; sb_fail "db start with a module file without execute permission succeeded"; }
grep -q "is not executable, and redis-server loads only executable modules" "$SB_TMP/bad.log" ||
  { cat "$SB_TMP/bad.log"; sb_fail "no clear error for a module without execute permission"; }

# Per-job state: two jobs of one user on one node each start their own database.
base=$XDG_RUNTIME_DIR/stagebench-$(id -u)
SLURM_JOB_ID=101 bash "$fe" db start --launcher local > "$SB_TMP/j1" 2>&1 || { cat "$SB_TMP/j1"; sb_fail "db start in job 101"; }
SB_CLEANUP_PIDS="$SB_CLEANUP_PIDS $(cat "$base/slurm-101/db.pid")"
PBS_JOBID=202.server bash "$fe" db start --launcher local > "$SB_TMP/j2" 2>&1 || { cat "$SB_TMP/j2"; sb_fail "db start in job 202 (another job of the same user)"; }
SB_CLEANUP_PIDS="$SB_CLEANUP_PIDS $(cat "$base/pbs-202.server/db.pid")"
[ "$(cat "$base/slurm-101/ssdb")" != "$(cat "$base/pbs-202.server/ssdb")" ] || sb_fail "the two jobs' databases share an address"
SLURM_JOB_ID=101 bash "$fe" db status > /dev/null || sb_fail "job 101's database is not up"
PBS_JOBID=202.server bash "$fe" db status > /dev/null || sb_fail "job 202's database is not up"
SLURM_JOB_ID=101 bash "$fe" db stop 2>/dev/null
PBS_JOBID=202.server bash "$fe" db status > /dev/null || sb_fail "stopping job 101's database touched job 202's"
PBS_JOBID=202.server bash "$fe" db stop 2>/dev/null
# --state DIR: db start, run and db stop share it.
bash "$fe" db start --state "$SB_TMP/mine" > "$SB_TMP/s.log" 2>&1 || { cat "$SB_TMP/s.log"; sb_fail "db start --state"; }
SB_CLEANUP_PIDS="$SB_CLEANUP_PIDS $(cat "$SB_TMP/mine/db.pid")"
bash "$fe" run throughput --state "$SB_TMP/mine" -n 1 --iterations 3 --tensor-bytes 1K > "$SB_TMP/r.log" 2>&1 ||
  { cat "$SB_TMP/r.log"; sb_fail "run --state did not find the database"; }
grep -q "$(cat "$SB_TMP/mine/ssdb" | cut -d, -f1)" "$SB_TMP/r.log" || { cat "$SB_TMP/r.log"; sb_fail "run --state used another database"; }
bash "$fe" db stop --state "$SB_TMP/mine" 2>/dev/null
bash "$fe" db status --state "$SB_TMP/mine" > /dev/null && sb_fail "db stop --state left the database running"
echo "arguments refused clearly, oversubscription said, start failures explained, state per job"
