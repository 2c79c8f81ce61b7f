#!/bin/bash
#SBATCH --job-name=sb-throughput
#SBATCH --nodes=2
#SBATCH --exclusive
#SBATCH --time=01:00:00
#SBATCH --output=sb-throughput-%j.out
#
# stagebench — sb-throughput: put and get of one tensor per rank and iteration.
#
# What it runs: `stagebench sweep throughput` over every combination of the
# lists below, one case each, with resume: resubmitting after a walltime kill
# skips the cases whose files say status=complete.
# Nodes: the largest DB_NODES + the largest CLIENT_NODES (the database on nodes of
# its own): 2 by default; CLIENT_NODES='1 2 4' needs 5 (sbatch --nodes=5: the command
# line overrides the line above). A plan that does not fit is refused before
# anything starts.
# The database takes the first DB_NODES nodes, the clients the next ones.
# Edit: the #SBATCH --nodes/--time lines to your sizes, plus your site's account,
# partition or queue options; everything else is an environment variable:
#   TENSOR_BYTES='1K 1M' sbatch batch_scripts/slurm/throughput.sh
#
# Knobs (default):
#   CLIENT_NODES         "1"          client nodes
#   CLIENTS_PER_NODE     "4"          MPI ranks per client node
#   DB_NODES             "1"          database nodes (1: standalone, >1: Redis Cluster)
#   DB_CPUS              "4"          Redis io-threads per database
#   TENSOR_BYTES         "1K 64K 1M"  tensor sizes
#   MODE                 "tensor"     tensor (AI.TENSORSET/GET) or raw (SET/GET)
#   ITERATIONS           "100"        timed iterations per case
#   NET_IFNAME           (empty)      network interface the database binds to (empty: default)
# and STAGEBENCH or SB_ROOT (where stagebench is), OUT (results folder),
# LAUNCHER (auto: srun under Slurm, mpiexec + $PBS_NODEFILE under PBS),
# SHARE_NODES=1 (let database and clients share nodes in a small allocation),
# DRY_RUN=1 (print the plan against the allocation and stop).
set -euo pipefail
here=${SB_ROOT:-${SLURM_SUBMIT_DIR:-${PBS_O_WORKDIR:-$PWD}}}/batch_scripts
[ -f "$here/common.sh" ] || here=$(dirname "$(readlink -f "$0")")/..
. "$here/common.sh"

args=()
sb_add args client-nodes "${CLIENT_NODES-1}"
sb_add args clients-per-node "${CLIENTS_PER_NODE-4}"
sb_add args db-nodes "${DB_NODES-1}"
sb_add args db-cpus "${DB_CPUS-4}"
sb_add args tensor-bytes "${TENSOR_BYTES-1K 64K 1M}"
sb_add args mode "${MODE-tensor}"
sb_add args iterations "${ITERATIONS-100}"
sb_add args net-ifname "${NET_IFNAME-}"
sb_sweep throughput "${args[@]}"
