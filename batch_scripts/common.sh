# Sourced by every template in slurm/ and pbs/: finds stagebench and turns
# the environment knobs into `stagebench sweep` options. Not a job script.
#
# A knob holds one value or a list separated by commas or spaces (sbatch's
# --export splits on commas: pass lists there with spaces, or export them
# before submitting — sbatch exports the whole environment by default).

# Where this file is: batch_scripts/ of a source tree, or
# PREFIX/share/stagebench/batch_scripts of an installation.
SB_BATCH_DIR=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")

# stagebench: $STAGEBENCH, else the source tree the job was submitted from
# (or SB_ROOT), else the one beside these templates (source tree or
# installation), else the one on PATH.
sb_find_stagebench() {
  local root=${SB_ROOT:-${SLURM_SUBMIT_DIR:-${PBS_O_WORKDIR:-$PWD}}}
  if [ -n "${STAGEBENCH:-}" ]; then echo "$STAGEBENCH"
  elif [ -x "$root/apps/stagebench/stagebench" ]; then echo "$root/apps/stagebench/stagebench"
  elif [ -x "$SB_BATCH_DIR/../apps/stagebench/stagebench" ]; then readlink -f "$SB_BATCH_DIR/../apps/stagebench/stagebench"
  elif [ -x "$SB_BATCH_DIR/../../../bin/stagebench" ]; then readlink -f "$SB_BATCH_DIR/../../../bin/stagebench"
  elif command -v stagebench >/dev/null; then command -v stagebench
  else echo "stagebench not found: set STAGEBENCH or SB_ROOT, or put it on PATH" >&2; return 1
  fi
}

# sb_add ARRAY NAME VALUE: appends "--NAME v1,v2" to ARRAY unless VALUE is empty.
sb_add() {
  local -n _sb_args=$1
  local v=${3:-}
  v=${v// /,}
  while [[ $v == *,,* ]]; do v=${v//,,/,}; done
  v=${v#,}; v=${v%,}
  if [ -n "$v" ]; then _sb_args+=("--$2" "$v"); fi
}

# sb_sweep APP OPTIONS...: the sweep, with the results folder (OUT), the
# launcher (LAUNCHER, default auto), node sharing (SHARE_NODES=1) and
# DRY_RUN=1 (print the plan against the allocation's nodes and stop) from the
# environment. Its exit code is the number of failed cases.
sb_sweep() {
  local app=$1 sb out
  shift
  sb=$(sb_find_stagebench) || return 2
  out=${OUT:-results/$app-${SLURM_JOB_ID:-${PBS_JOBID:-local}}}
  local extra=(--launcher "${LAUNCHER:-auto}" --out "$out")
  if [ -n "${SHARE_NODES:-}" ] && [ "$SHARE_NODES" != 0 ]; then extra+=(--share-nodes); fi
  if [ -n "${DRY_RUN:-}" ] && [ "$DRY_RUN" != 0 ]; then extra+=(--dry-run); fi
  echo "stagebench: $sb sweep $app $* ${extra[*]}"
  "$sb" sweep "$app" "$@" "${extra[@]}"
}
