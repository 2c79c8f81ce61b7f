#!/bin/bash
#PBS -N sb-aggregation
#PBS -l select=2
#PBS -l place=scatter:excl
#PBS -l walltime=01:00:00
#PBS -j oe
#
# stagebench — sb-agg-producer + sb-agg-consumer: datasets through aggregation lists.
#
# What it runs: `stagebench sweep aggregation` over every combination of the
# lists below, one case each, with resume: resubmitting after a walltime kill
# skips the cases whose files say status=complete.
# Nodes: the largest DB_NODES + the largest CLIENT_NODES (the database on nodes of
# its own): 2 by default; CLIENT_NODES='1 2 4' needs 5 (qsub -l select=5: the command
# line overrides the line above). A plan that does not fit is refused before
# anything starts.
# The consumer runs on the first client node.
# Edit: the #PBS -l select/walltime lines to your sizes, plus your site's account,
# partition or queue options; everything else is an environment variable:
#   qsub -v TENSOR_BYTES='1K 1M' batch_scripts/pbs/aggregation.sh
#
# Knobs (default):
#   CLIENT_NODES         "1"          producer nodes
#   CLIENTS_PER_NODE     "4"          producer ranks per node (list length = all producer ranks)
#   DB_NODES             "1"          database nodes
#   DB_CPUS              "4"          Redis io-threads per database
#   TENSOR_BYTES         "1K 1M"      tensor sizes
#   TENSORS_PER_DATASET  "2"          tensors per dataset
#   CLIENT_THREADS       "1 4"        consumer fetch threads
#   ITERATIONS           "20"         timed iterations per case
# and STAGEBENCH or SB_ROOT (where stagebench is), OUT (results folder),
# LAUNCHER (auto: srun under Slurm, mpiexec + $PBS_NODEFILE under PBS),
# SHARE_NODES=1 (let database and clients share nodes in a small allocation),
# DRY_RUN=1 (print the plan against the allocation and stop).
set -euo pipefail
cd "${PBS_O_WORKDIR:-$PWD}"
here=${SB_ROOT:-${SLURM_SUBMIT_DIR:-${PBS_O_WORKDIR:-$PWD}}}/batch_scripts
[ -f "$here/common.sh" ] || here=$(dirname "$(readlink -f "$0")")/..
. "$here/common.sh"

args=()
sb_add args client-nodes "${CLIENT_NODES-1}"
sb_add args clients-per-node "${CLIENTS_PER_NODE-4}"
sb_add args db-nodes "${DB_NODES-1}"
sb_add args db-cpus "${DB_CPUS-4}"
sb_add args tensor-bytes "${TENSOR_BYTES-1K 1M}"
sb_add args tensors-per-dataset "${TENSORS_PER_DATASET-2}"
sb_add args client-threads "${CLIENT_THREADS-1 4}"
sb_add args iterations "${ITERATIONS-20}"
sb_sweep aggregation "${args[@]}"
