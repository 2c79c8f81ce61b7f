#!/usr/bin/env bash
# ctest driver of one fuzz target (tests/fuzz/CMakeLists.txt):
#   run_fuzz.sh replay BINARY TARGET SRCDIR          every seed and regression input once
#   run_fuzz.sh fuzz   BINARY TARGET SRCDIR SECONDS  a time-boxed run on a scratch corpus
# Exits non-zero on any crash, leak, sanitizer report or timeout. Never
# writes into the source tree: new inputs and artifacts go to a temporary
# folder, removed afterwards (kept, and named, when the run fails).
set -u
mode=${1:?usage: run_fuzz.sh replay|fuzz BINARY TARGET SRCDIR [SECONDS]}
bin=${2:?binary}
target=${3:?target}
src=${4:?source dir}
seconds=${5:-60}

corpus=$src/corpus/$target
regressions=$src/regressions/$target
opts=(-timeout=30 -rss_limit_mb=2048)
[ -f "$src/$target.dict" ] && opts+=(-dict="$src/$target.dict")
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

work=$(mktemp -d "${TMPDIR:-/tmp}/sb-fuzz-$target.XXXXXX") || exit 1
cleanup() { [ "${keep:-0}" = 1 ] || rm -rf "$work"; }
trap cleanup EXIT

case $mode in
replay)
  mapfile -t files < <(find "$corpus" "$regressions" -type f ! -name '.*' ! -name 'README*' 2>/dev/null | sort)
  if [ ${#files[@]} -eq 0 ]; then
    echo "no seed or regression inputs for $target under $src" >&2
    exit 1
  fi
  echo "# replaying ${#files[@]} input(s) of $target"
  # Given files (not folders), libFuzzer runs each once and exits.
  (cd "$work" && "$bin" "${opts[@]}" -runs=1 "${files[@]}")
  rc=$?
  ;;
fuzz)
  mkdir -p "$work/corpus" "$work/artifacts"
  cp -r "$corpus"/. "$work/corpus/"
  [ -d "$regressions" ] && cp -r "$regressions"/. "$work/corpus/"
  echo "# fuzzing $target for $seconds s on a copy of the corpus in $work"
  (cd "$work" && "$bin" "${opts[@]}" -max_total_time="$seconds" -print_final_stats=1 \
    -artifact_prefix="$work/artifacts/" "$work/corpus")
  rc=$?
  ;;
*)
  echo "unknown mode $mode" >&2
  exit 2
  ;;
esac

if [ $rc -ne 0 ]; then
  keep=1
  echo "FAIL: fuzz target $target ($mode) exited $rc; inputs and artifacts kept in $work" >&2
  ls -l "$work/artifacts" 2>/dev/null >&2
fi
exit $rc
