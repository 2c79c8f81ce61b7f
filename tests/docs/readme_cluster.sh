# README.md's cluster block (tests/docs/readme_lib.sh: sbatch, qsub, report).
#
# A real local Slurm has one node, and the README's sbatch line asks for the
# 5 nodes its plan needs (1 database + 4 client nodes). So this test does,
# and says, three things:
#  1. the plan at the README's sizes: the template, with the knobs of the
#     README's line and DRY_RUN=1, inside the local Slurm's configuration but
#     with an allocation of the --nodes the line asks for (SLURM_JOB_NODELIST
#     of that many names; the sweep reads it with scontrol) must be accepted,
#     every case planned; with one node fewer it must be refused, naming the
#     count the README gives (so that count is the least that fits), and with
#     the template's own #SBATCH --nodes too;
#  2. the README's sbatch line submitted to the real local Slurm, as written
#     except --nodes=1 and CLIENT_NODES='1' (what one node holds), with
#     SHARE_NODES=1 (database and clients on that node) and ITERATIONS=20
#     (the example criteria ask for 20 samples): the job must complete every
#     case into the template's
#     default folder, results/throughput-<jobid>;
#  3. the README's report line, as written with that job's id for <jobid>,
#     on that folder: the report written, every criterion judged (PASS or
#     FAIL on this machine's speed, NOT RUN for apps the folder lacks, never
#     ERROR), exit 0 or 1.
# The PBS line: its template under a synthesized PBS environment (no PBS
# server exists on Debian), with the -v knobs of the README's line, DRY_RUN=1
# and a node file of as many hosts as the template's #PBS -l select: the plan
# must be accepted.
. "$SB_SOURCE_DIR/tests/lib/sbtest.sh"
. "$SB_SOURCE_DIR/tests/lib/slurm.sh"
. "$SB_SOURCE_DIR/tests/docs/readme_lib.sh"
command -v redis-server >/dev/null || sb_skip "redis-server not found"
build=$(dirname "$SB_BIN_DIR")
w=$SB_TMP/w
sb_readme_workdir "$w" "$build"
export SB_BUILD=$build
unset SSDB SLURM_JOB_ID SLURM_JOB_NODELIST PBS_NODEFILE PBS_JOBID

one() { # one TAG: the single README line with that tag
  local l; mapfile -t l < <(sb_readme_part "$1")
  [ ${#l[@]} = 1 ] || sb_fail "expected one '$1' command in README.md, found ${#l[@]}"
  printf '%s\n' "${l[0]}"
}
sbatch_line=$(one sbatch)
qsub_line=$(one qsub)
report_line=$(one report)

# ---- the PBS line: its plan against its template's select ----------------------------
tpl=$(grep -o 'batch_scripts/pbs/[a-z_]*\.sh' <<< "$qsub_line") || sb_fail "no PBS template in: $qsub_line"
sel=$(sed -n 's/^#PBS -l select=\([0-9]*\).*/\1/p' "$SB_SOURCE_DIR/$tpl")
sel_line=$(sed -n 's/.*-l select=\([0-9]*\).*/\1/p' <<< "$qsub_line")
nodes=${sel_line:-$sel}
vars=$(sed -n 's/.*-v "\([^"]*\)".*/\1/p' <<< "$qsub_line")
: > "$SB_TMP/pbs_nodefile"
for k in $(seq "$nodes"); do echo "pbsnode$k" >> "$SB_TMP/pbs_nodefile"; done
pbs_env=(PBS_NODEFILE="$SB_TMP/pbs_nodefile" PBS_O_WORKDIR="$w" PBS_JOBID=4242.docs DRY_RUN=1)
IFS=, read -ra kv <<< "$vars"
pbs_env+=("${kv[@]}")
echo "# PBS: $qsub_line"
echo "#   as its template would run: ${pbs_env[*]} on $nodes node(s)"
(cd "$w" && env "${pbs_env[@]}" bash "$tpl") > "$SB_TMP/pbs.out" 2>&1
rc=$?
cat "$SB_TMP/pbs.out"
[ $rc = 0 ] || sb_fail "the README's qsub line: its plan is refused on the $nodes node(s) it asks for (exit $rc)"
grep -q "^# sweep .*nodes: pbsnode1" "$SB_TMP/pbs.out" || sb_fail "the PBS plan did not use the node file"

# ---- Slurm ------------------------------------------------------------------------------
sb_start_slurm
tpl=$(grep -o 'batch_scripts/slurm/[a-z_]*\.sh' <<< "$sbatch_line") || sb_fail "no Slurm template in: $sbatch_line"
asked=$(sed -n 's/.*--nodes[= ]\([0-9]*\).*/\1/p' <<< "$sbatch_line")
own=$(sed -n 's/^#SBATCH --nodes=\([0-9]*\).*/\1/p' "$SB_SOURCE_DIR/$tpl")
[ -n "$asked" ] || asked=$own
# The knobs of the line: the VAR='...' words before sbatch.
knobs=${sbatch_line%%sbatch *}
plan() { # plan NODES: the template's dry run inside an allocation of NODES names
  (cd "$w" && eval "env SLURM_JOB_ID=77 SLURM_JOB_NODELIST='sbnode[1-$1]' SLURM_SUBMIT_DIR='$w' \
     SB_STATE='$SB_TMP/state-plan' DRY_RUN=1 $knobs bash $tpl")
}
echo "# Slurm plan: $sbatch_line"
echo "#   with DRY_RUN=1 in an allocation of $asked nodes"
plan "$asked" > "$SB_TMP/plan.out" 2>&1 || { cat "$SB_TMP/plan.out"; sb_fail "the README's sbatch line: plan refused with the $asked nodes it asks for"; }
cat "$SB_TMP/plan.out"
cases=$(grep -c '^  \[' "$SB_TMP/plan.out")
[ "$cases" -gt 0 ] || sb_fail "the dry run planned no case"
# One node fewer must be refused, naming the count the README asks for (so
# the README's count is the least that fits), and so must the template's own.
fewer=$((asked - 1))
if [ "$fewer" -ge 1 ]; then
  echo "#   with $fewer nodes"
  plan "$fewer" > "$SB_TMP/plan_fewer.out" 2>&1 &&
    sb_fail "the plan fits $fewer nodes: the README asks for $asked (say the smaller count)"
  cat "$SB_TMP/plan_fewer.out"
  grep -q "plan refused: .*needs $asked nodes" "$SB_TMP/plan_fewer.out" ||
    sb_fail "refused on $fewer nodes, but not as needing the $asked nodes the README asks for"
fi
if [ "$own" -lt "$asked" ]; then
  echo "#   with the template's own #SBATCH --nodes=$own"
  plan "$own" > "$SB_TMP/plan_own.out" 2>&1 && sb_fail "the plan fits the template's own $own nodes"
  grep "plan refused" "$SB_TMP/plan_own.out" || sb_fail "not refused as a plan on $own nodes"
fi

# The line submitted for real, on the one node there is.
small=${sbatch_line//--nodes=$asked/--nodes=1}
small=$(sed -E "s/CLIENT_NODES='[^']*'/CLIENT_NODES='1'/" <<< "$small")
echo "# Slurm job (one node here, so --nodes=1, CLIENT_NODES='1' and SHARE_NODES=1):"
echo "#   SHARE_NODES=1 ITERATIONS=20 SB_STATE=... $small"
job=$(cd "$w" && eval "SHARE_NODES=1 ITERATIONS=20 SB_STATE='$SB_TMP/state' ${small/sbatch /sbatch --parsable }") ||
  sb_fail "sbatch refused the README's line"
job=${job%%;*}
sb_slurm_wait "$job" 200
out=$(ls "$w"/sb-throughput-"$job".out 2>/dev/null) || sb_fail "no job output sb-throughput-$job.out in the submit folder"
cat "$out"
n_small=$(($(grep -o "TENSOR_BYTES='[^']*'" <<< "$sbatch_line" | tr -cd ' ' | wc -c) + 1))
grep -q "sweep throughput: $n_small of $n_small complete, 0 failed" "$out" || sb_fail "the job did not complete its $n_small cases"
res=$w/results/throughput-$job
[ -d "$res" ] || sb_fail "the job wrote no $res (the template's default folder)"
grep -q "launch: srun" "$res"/*/stderr || sb_fail "the cases were not launched with srun"

# The report line, with the job's id.
cmd=${report_line//<jobid>/$job}
echo "# report: $cmd"
(cd "$w" && bash -c "$cmd") > "$SB_TMP/report.out" 2>&1
rc=$?
cat "$SB_TMP/report.out"
[ $rc = 0 ] || [ $rc = 1 ] || sb_fail "the README's report line exited $rc"
grep -q '^ERROR' "$SB_TMP/report.out" && sb_fail "a criterion could not be judged (ERROR) on the README's own example"
grep -q 'verdict \(PASS\|FAIL\)' "$SB_TMP/report.out" || sb_fail "no verdict"
[ -f "$res/report/report.html" ] || sb_fail "no report in $res/report"
echo "PASS: README.md's cluster block: plans fit the nodes the lines ask for; the sbatch line ran in a real (one-node) Slurm; the report line judged its folder"
