# The README's commands and what the docs tests do with each. Source it after
# tests/lib/sbtest.sh; do not run it.
#
# Every command line of every ```sh block in README.md must be a key of
# SB_README_LINES below, exactly as written (comments and spacing included):
# docs_readme_inventory fails on a README line that is not listed, and on a
# listed line the README no longer has, so the README cannot gain or change a
# command that no test runs or knowingly skips. Values:
#   yourself   run, in order, as one script: the "Running it yourself" block
#   direct     run, with the test's own database address for dbhost:6379
#   sbatch     the Slurm line (tests/docs/readme_cluster.sh)
#   qsub       the PBS line (tests/docs/readme_cluster.sh)
#   report     the report line, on the results folder the Slurm job wrote
#   skip:WHY   not run by these tests, and why (printed)

declare -A SB_README_LINES=(
  ['apps/stagebench/stagebench demo    # build, then a tiny sweep of every app on local databases, then the report']='skip:the demo itself is run by frontend_install_demo (tests/frontend), from an installation'
  ['apps/stagebench/stagebench test    # build, then the whole test suite (ctest)']='skip:the test command runs this test suite; it cannot run inside itself'
  ["TENSOR_BYTES='1K 1M' CLIENT_NODES='1 2 4' sbatch --nodes=5 batch_scripts/slurm/throughput.sh"]='sbatch'
  ['qsub -v "MODEL=resnet50,BATCH_SIZE=1" batch_scripts/pbs/inference.sh']='qsub'
  ['apps/stagebench/stagebench report results/throughput-<jobid> --criteria results/acceptance-example.txt']='report'
  ['apps/stagebench/stagebench build                    # or: cmake -S . -B build && cmake --build build']='yourself'
  ['eval "$(apps/stagebench/stagebench db start --tpq 4)"   # local redis-server + sbai.so; prints export SSDB=...']='yourself'
  ['apps/stagebench/stagebench run throughput -n 8 --tensor-bytes 4M --iterations 500 --out tp.h5']='yourself'
  ['apps/stagebench/stagebench db stop']='yourself'
  ['mpiexec -n 64 build/bin/sb-throughput --db tcp://dbhost:6379 --tensor-bytes 1M']='direct'
)

SB_README=${SB_README:-$SB_SOURCE_DIR/README.md}

# sb_readme_lines: every command line of the README's shell blocks, one per
# line (continuation lines joined); a fence of another shell language
# (bash, shell, console) counts as sh, so it cannot slip past.
sb_readme_lines() {
  awk '
    /^```(sh|bash|shell|console)[ \t]*$/ { inblock = 1; next }
    /^```/ { inblock = 0; next }
    inblock {
      if (cont != "") { $0 = cont $0; cont = "" }
      if ($0 ~ /\\$/) { cont = substr($0, 1, length($0) - 1); next }
      if ($0 ~ /^[ \t]*$/ || $0 ~ /^[ \t]*#/) next
      print
    }' "$SB_README"
}

# sb_readme_part TAG: the README lines listed with value TAG, in README order.
sb_readme_part() {
  local line
  while IFS= read -r line; do
    [ "${SB_README_LINES[$line]-}" = "$1" ] && printf '%s\n' "$line"
  done < <(sb_readme_lines)
  return 0
}

# sb_readme_workdir DIR BUILD: a scratch folder in which the README's
# relative paths mean what they mean at the repository root, with the test's
# build as build/: apps/ and batch_scripts/ link to the source tree,
# results/ is a real folder (jobs write into it) holding a link to the
# example criteria. Outputs of the commands (tp.h5, results/...) stay in DIR.
sb_readme_workdir() {
  local dir=$1 build=$2
  mkdir -p "$dir/results"
  ln -s "$SB_SOURCE_DIR/apps" "$dir/apps"
  ln -s "$SB_SOURCE_DIR/batch_scripts" "$dir/batch_scripts"
  ln -s "$build" "$dir/build"
  ln -s "$SB_SOURCE_DIR/results/acceptance-example.txt" "$dir/results/acceptance-example.txt"
}
