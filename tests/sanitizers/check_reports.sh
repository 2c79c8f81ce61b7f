#!/usr/bin/env bash
# sanitizer_reports: runs after every other test of a sanitizer build and
# fails if a sanitizer wrote a report from a process whose stderr no test
# saw (redis-server with the instrumented module; see redis-server.in).
logs=${1:?usage: check_reports.sh LOGDIR}
shopt -s nullglob
reports=("$logs"/*)
if [ ${#reports[@]} -eq 0 ]; then
  echo "no sanitizer reports in $logs"
  exit 0
fi
for r in "${reports[@]}"; do
  echo "==== $r"
  cat "$r"
done
echo "FAIL: ${#reports[@]} sanitizer report(s) in $logs" >&2
exit 1
