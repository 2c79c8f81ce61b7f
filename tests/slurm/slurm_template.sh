# Submits one Slurm template (batch_scripts/slurm/NAME.sh) with tiny knobs to
# a real single-node Slurm, waits for it by polling squeue, and checks every
# case's HDF5 file. Usage: slurm_template.sh NAME
. "$SB_SOURCE_DIR/tests/lib/sbtest.sh"
. "$SB_SOURCE_DIR/tests/lib/batch_template.sh"
. "$SB_SOURCE_DIR/tests/lib/slurm.sh"
name=$1
command -v redis-server >/dev/null || sb_skip "redis-server not found"
sb_start_slurm

out=$SB_TMP/out
export SB_ROOT=$SB_SOURCE_DIR SB_BUILD=$(dirname "$SB_BIN_DIR") OUT=$out SHARE_NODES=1
export SB_STATE=$SB_TMP/state ITERATIONS=3 CLIENT_NODES=1 CLIENTS_PER_NODE=2 DB_NODES=1 DB_CPUS=1
sb_template_knobs "$name"
# One node here: the templates ask for more (the command line overrides #SBATCH).
job=$(sbatch --parsable --nodes 1 --chdir "$SB_TMP" --output "$SB_TMP/job.out" \
  "$SB_SOURCE_DIR/batch_scripts/slurm/$name.sh") || sb_fail "sbatch refused the template"
sb_slurm_wait "$job" 240
cat "$SB_TMP/job.out"
grep -q "sweep .*: $cases of $cases complete, 0 failed" "$SB_TMP/job.out" || sb_fail "not every case completed"
# The job ran the app under srun (the launcher inside an allocation).
grep -q "launch: srun" "$out"/*/stderr || sb_fail "cases were not launched with srun"
sb_template_check_h5 "$out" "$cases"
echo "PASS: slurm/$name.sh, $cases cases"
