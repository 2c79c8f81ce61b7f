#!/bin/bash
#PBS -N sb-inference_colocated
#PBS -l select=1
#PBS -l place=scatter:excl
#PBS -l walltime=01:00:00
#PBS -j oe
#
# stagebench — sb-inference, colocated: every client node runs its database and model.
#
# What it runs: `stagebench sweep inference` over every combination of the
# lists below, one case each, with resume: resubmitting after a walltime kill
# skips the cases whose files say status=complete.
# Nodes: the largest CLIENT_NODES (each client node also runs its database): 1 by
# default; CLIENT_NODES='1 2 4' needs 4 (qsub -l select=4: the command line overrides
# the line above).
# Edit: the #PBS -l select/walltime lines to your sizes, plus your site's account,
# partition or queue options; everything else is an environment variable:
#   qsub -v "MODEL=resnet18,BATCH_SIZE=1 8 32" batch_scripts/pbs/inference_colocated.sh
#
# Knobs (default):
#   CLIENT_NODES         "1"          client nodes (each with its database)
#   CLIENTS_PER_NODE     "2"          MPI ranks per node
#   DB_CPUS              "2"          Redis io-threads per database
#   DB_TPQ               "1"          THREADS_PER_QUEUE of the module
#   PIN_APP_CPUS         "1"          1: keep the app's ranks off the database's cores
#   MODEL                "resnet50"   tiny, resnet18, resnet34 or resnet50
#   BATCH_SIZE           "1 8"        images per request
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
sb_add args clients-per-node "${CLIENTS_PER_NODE-2}"
sb_add args db-cpus "${DB_CPUS-2}"
sb_add args db-tpq "${DB_TPQ-1}"
sb_add args pin-app-cpus "${PIN_APP_CPUS-1}"
sb_add args model "${MODEL-resnet50}"
sb_add args batch-size "${BATCH_SIZE-1 8}"
sb_add args iterations "${ITERATIONS-20}"
args+=(--colocated 1)
sb_sweep inference "${args[@]}"
