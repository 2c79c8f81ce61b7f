#!/bin/bash
#SBATCH --job-name=sb-throughput_colocated
#SBATCH --nodes=1
#SBATCH --exclusive
#SBATCH --time=01:00:00
#SBATCH --output=sb-throughput_colocated-%j.out
#
# stagebench — sb-throughput, colocated: one database on every client node, clients use the local one.
#
# What it runs: `stagebench sweep throughput` over every combination of the
# lists below, one case each, with resume: resubmitting after a walltime kill
# skips the cases whose files say status=complete.
# Nodes: the largest CLIENT_NODES (each client node also runs its database): 1 by
# default; CLIENT_NODES='1 2 4' needs 4 (sbatch --nodes=4: the command line overrides
# the line above).
# Edit: the #SBATCH --nodes/--time lines to your sizes, plus your site's account,
# partition or queue options; everything else is an environment variable:
#   TENSOR_BYTES='1K 1M' sbatch batch_scripts/slurm/throughput_colocated.sh
#
# Knobs (default):
#   CLIENT_NODES         "1"          client nodes (each with its database)
#   CLIENTS_PER_NODE     "4"          MPI ranks per node
#   DB_CPUS              "2"          Redis io-threads per database
#   PIN_APP_CPUS         "1"          1: keep the app's ranks off the database's DB_CPUS cores
#   TENSOR_BYTES         "1K 64K 1M"  tensor sizes
#   ITERATIONS           "100"        timed iterations per case
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
sb_add args db-cpus "${DB_CPUS-2}"
sb_add args pin-app-cpus "${PIN_APP_CPUS-1}"
sb_add args tensor-bytes "${TENSOR_BYTES-1K 64K 1M}"
sb_add args iterations "${ITERATIONS-100}"
args+=(--colocated 1)
sb_sweep throughput "${args[@]}"
