# The batch templates across the virtual cluster (tests/lib/vcluster.sh):
# a real multi-node Slurm (slurmctld in node 1, one slurmd in every node),
# and a PBS-style run (the template in node 1, PBS_NODEFILE naming the
# nodes, Hydra's mpiexec -hosts across them).
# Usage: batch.sh CASE
#   slurm_throughput           sbatch --nodes=3 batch_scripts/slurm/throughput.sh:
#                              the database on sbnode1 (its own node), the
#                              clients on sbnode2 and sbnode3
#   slurm_inference_colocated  sbatch --nodes=3 batch_scripts/slurm/inference_colocated.sh:
#                              one database on every node, each node's ranks
#                              on their own node's unix socket
#   slurm_inference            sbatch --nodes=3 batch_scripts/slurm/inference.sh:
#                              the database on sbnode1, clients on sbnode2, sbnode3
#   slurm_throughput_colocated sbatch --nodes=3 batch_scripts/slurm/throughput_colocated.sh:
#                              one database on every node, each node's ranks on it
#   slurm_aggregation          sbatch --nodes=3 batch_scripts/slurm/aggregation.sh:
#                              the database on sbnode1, producers and the
#                              consumer on the other nodes
#   pbs_throughput             batch_scripts/pbs/throughput.sh run in node 1
#                              as PBS would (PBS_NODEFILE, PBS_JOBID,
#                              PBS_O_WORKDIR): database on sbnode1, clients
#                              on sbnode2 and sbnode3, launched by mpiexec -hosts
set -u
. "$SB_SOURCE_DIR/tests/lib/sbtest.sh"
. "$SB_SOURCE_DIR/tests/lib/batch_template.sh"
. "$SB_SOURCE_DIR/tests/lib/vcluster.sh"
case_=$1
[ -x "$SB_BIN_DIR/h5_expect" ] || sb_fail "h5_expect not built in $SB_BIN_DIR"
command -v h5dump >/dev/null || sb_skip "h5dump (hdf5-tools) not installed"
command -v redis-server >/dev/null || sb_skip "redis-server not found"
LIMIT=80  # the job's limit, in s: the test ends within ctest's 120 s

elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

# The sweep's knobs: tiny cases; the plan fits the 3 nodes (no sharing).
out=$SB_TMP/out
export SB_ROOT=$SB_SOURCE_DIR SB_BUILD=$(dirname "$SB_BIN_DIR") OUT=$out SB_STATE=$SB_TMP/state
export ITERATIONS=3 DB_NODES=1 DB_CPUS=1
unset SHARE_NODES DRY_RUN LAUNCHER SSDB

# ranks FILE: /ranks/hostname of FILE, space-separated (rank order).
ranks() { vc_h5_hostnames "$1" | tr '\n' ' ' | sed 's/ $//'; }

# check_cases N HOSTS DB: the sweep ran N cases, all complete, and every
# case's run.h5 has /ranks/hostname HOSTS (rank order) and /params db DB.
check_cases() {
  local n=$1 hosts=$2 db=$3 f got k=0
  grep -q "sweep .*: $n of $n complete, 0 failed" "$SB_TMP/job.out" || sb_fail "not every case completed"
  sb_template_check_h5 "$out" "$n"
  for f in "$out"/*/run.h5; do
    got=$(ranks "$f")
    echo "$(basename "$(dirname "$f")"): /ranks/hostname $got"
    [ "$got" = "$hosts" ] || sb_fail "$f: /ranks/hostname '$got', expected '$hosts'"
    "$SB_BIN_DIR/h5_expect" "$f" --status complete --param "db=$db" >/dev/null ||
      sb_fail "$f: /params db is not $db"
    k=$((k + 1))
  done
  [ $k = "$n" ] || sb_fail "$k run.h5 files for $n cases"
}

# check_db_hosts HOST...: the case's database logs (copied into every case
# as db.log) are those of servers on HOST... exactly, named
# redis-<host>-<port>.log by the server that ran there.
check_db_hosts() {
  local f got want
  want=$(printf '%s\n' "$@" | sort | tr '\n' ' ')
  for f in "$out"/*/db.log; do
    got=$(sed -n 's/^==> redis-\(sbnode[0-9]*\)-[0-9]*\.log <==$/\1/p' "$f" | sort | tr '\n' ' ')
    echo "$(basename "$(dirname "$f")"): database servers ran on $got"
    [ "$got" = "$want" ] || sb_fail "$f: servers on '$got', expected '$want'"
  done
}

# no_servers_left: the sweep stopped its databases (no redis-server in any node).
no_servers_left() {
  local k p
  for k in $(seq "$VC_N"); do
    for p in $(ip netns pids "${VC_NS[$k]}" 2>/dev/null); do
      [ "$(cat "/proc/$p/comm" 2>/dev/null)" = redis-server ] &&
        sb_fail "redis-server (pid $p) still runs in node $k after the job"
    done
  done
  return 0
}

# submit TEMPLATE: sbatch --nodes=3 of batch_scripts/slurm/TEMPLATE.sh from
# this machine (outside the nodes), polls until it left the queue; the
# job's output in $SB_TMP/job.out.
submit() {
  local t0 job host
  t0=$(date +%s.%N)
  job=$(sbatch --parsable --nodes 3 --time 2 --chdir "$SB_TMP" --output "$SB_TMP/job.out" \
    "$SB_SOURCE_DIR/batch_scripts/slurm/$1.sh") || sb_fail "sbatch refused the template"
  vc_slurm_wait "$job" "$LIMIT"
  host=$(timeout 5 scontrol show job "$job" | sed -n 's/.*BatchHost=\([^ ]*\).*/\1/p')
  cat "$SB_TMP/job.out"
  echo "job $job: $VC_JOB_STATE after $(elapsed "$t0") s (batch host ${host:-?})"
  [ "$VC_JOB_STATE" = "COMPLETED 0:0" ] || {
    tail -n 20 "$VC_SLURM_DIR"/log/*.log >&2; sb_fail "job $job ended $VC_JOB_STATE"; }
  grep -q "launch: srun" "$out"/*/stderr || sb_fail "cases were not launched with srun"
  [ "$host" = sbnode1 ] || sb_fail "the batch script ran on '$host', expected sbnode1 (the first node)"
}

# slurm_separate TEMPLATE: the template on 3 nodes with the database on
# sbnode1 and two clients on each of sbnode2 and sbnode3.
slurm_separate() {
  vc_start 3
  vc_slurm_start
  export CLIENT_NODES=2 CLIENTS_PER_NODE=2
  sb_template_knobs "$1"
  submit "$1"
  check_cases "$cases" "sbnode2 sbnode2 sbnode3 sbnode3" "tcp://${VC_ADDR[1]}:6379"
  check_db_hosts sbnode1
  no_servers_left
}

# slurm_colocated TEMPLATE: the template on 3 nodes, one database on every
# node at a node-local path (what /tmp is on a real node, the same on every
# node: every node's server makes its own socket there), one rank per node.
slurm_colocated() {
  vc_start 3
  vc_slurm_start
  export SB_COLOCATED_SOCKET=$VC_LOCAL/stagebench/db.sock
  export CLIENT_NODES=3 CLIENTS_PER_NODE=1
  sb_template_knobs "$1"
  submit "$1"
  check_cases "$cases" "sbnode1 sbnode2 sbnode3" "unix://$SB_COLOCATED_SOCKET"
  check_db_hosts sbnode1 sbnode2 sbnode3
  no_servers_left
}

case $case_ in
  slurm_throughput)
    slurm_separate throughput
    grep -q "db on sbnode1, clients on sbnode2,sbnode3" "$SB_TMP/job.out" ||
      sb_fail "the plan does not put the database on sbnode1 and the clients on sbnode2,sbnode3"
    ;;

  slurm_inference_colocated) slurm_colocated inference_colocated ;;

  slurm_inference) slurm_separate inference ;;

  slurm_throughput_colocated) slurm_colocated throughput_colocated ;;

  slurm_aggregation)
    vc_start 3
    vc_slurm_start
    export CLIENT_NODES=2 CLIENTS_PER_NODE=2
    sb_template_knobs aggregation
    submit aggregation
    grep -q "sweep .*: $cases of $cases complete, 0 failed" "$SB_TMP/job.out" ||
      sb_fail "not every case completed"
    sb_template_check_h5 "$out" "$((2 * cases))"
    hosts=""
    for f in "$out"/*/producer.h5 "$out"/*/consumer.h5; do
      hosts="$hosts $(ranks "$f")"
      echo "$(basename "$(dirname "$f")")/$(basename "$f"): /ranks/hostname $(ranks "$f")"
    done
    case " $hosts " in *" sbnode1 "*) sb_fail "a client ran on the database's node sbnode1" ;; esac
    case " $hosts " in *" sbnode2 "*" sbnode3 "*) ;;
      *) sb_fail "the pair did not use both client nodes: $hosts" ;; esac
    check_db_hosts sbnode1
    no_servers_left
    ;;

  pbs_throughput)
    vc_start 3
    # The node file as PBS writes it for select=3:mpiprocs=2 (one line per
    # MPI slot); the job script runs on the first node. Hydra's ssh launcher
    # gets the script that enters a node instead of logging in (a site's
    # ssh); the nodes resolve each other's names (/etc/hosts in every node).
    for k in 1 2 3; do echo "${VC_NAME[$k]}"; echo "${VC_NAME[$k]}"; done > "$SB_TMP/nodefile"
    export CLIENT_NODES=2 CLIENTS_PER_NODE=2
    sb_template_knobs throughput
    t0=$(date +%s.%N)
    vc_exec 1 env PBS_NODEFILE="$SB_TMP/nodefile" PBS_O_WORKDIR="$SB_SOURCE_DIR" PBS_JOBID=4343.sbnode1 \
      HYDRA_LAUNCHER=ssh HYDRA_LAUNCHER_EXEC="$VC_NSEXEC" \
      timeout -k 5 "$LIMIT" bash "$SB_SOURCE_DIR/batch_scripts/pbs/throughput.sh" > "$SB_TMP/job.out" 2>&1 &
    job=$!
    SB_CLEANUP_PIDS="$job $SB_CLEANUP_PIDS"
    wait $job  # in the background: a signal to the test ends it at once
    rc=$?
    cat "$SB_TMP/job.out"
    echo "pbs/throughput.sh in sbnode1: exit $rc after $(elapsed "$t0") s"
    [ $rc = 0 ] || sb_fail "the template exited $rc"
    grep -q "launch: mpiexec .*-hosts sbnode2,sbnode3" "$out"/*/stderr ||
      sb_fail "cases were not launched with mpiexec -hosts sbnode2,sbnode3"
    check_cases "$cases" "sbnode2 sbnode2 sbnode3 sbnode3" "tcp://${VC_ADDR[1]}:6379"
    check_db_hosts sbnode1
    no_servers_left
    ;;

  *) sb_fail "unknown case $case_" ;;
esac
echo "PASS: multinode $case_"
