# Runs one PBS template (batch_scripts/pbs/NAME.sh) directly, as PBS would
# (no PBS server exists in Debian): PBS_NODEFILE, PBS_O_WORKDIR and
# PBS_JOBID synthesized, then every case's HDF5 file checked.
# Usage: pbs_template.sh NAME
. "$SB_SOURCE_DIR/tests/lib/sbtest.sh"
. "$SB_SOURCE_DIR/tests/lib/batch_template.sh"
name=$1
command -v redis-server >/dev/null || sb_skip "redis-server not found"
hostname > "$SB_TMP/nodefile"
hostname >> "$SB_TMP/nodefile"
out=$SB_TMP/out
export PBS_NODEFILE=$SB_TMP/nodefile PBS_O_WORKDIR=$SB_SOURCE_DIR PBS_JOBID=4242.test
export SB_BUILD=$(dirname "$SB_BIN_DIR") OUT=$out SHARE_NODES=1 SB_STATE=$SB_TMP/state
export ITERATIONS=3 CLIENT_NODES=1 CLIENTS_PER_NODE=2 DB_NODES=1 DB_CPUS=1
sb_template_knobs "$name"
bash "$SB_SOURCE_DIR/batch_scripts/pbs/$name.sh" > "$SB_TMP/job.out" 2>&1
rc=$?
cat "$SB_TMP/job.out"
[ $rc = 0 ] || sb_fail "template exited $rc"
grep -q "sweep .*: $cases of $cases complete, 0 failed" "$SB_TMP/job.out" || sb_fail "not every case completed"
grep -q "launch: mpiexec .*-hosts" "$out"/*/stderr || sb_fail "cases were not launched with mpiexec -hosts"
sb_template_check_h5 "$out" "$cases"
echo "PASS: pbs/$name.sh, $cases cases"
