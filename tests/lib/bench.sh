# What the benchmarks under tests/bench share (they are not ctest tests and
# run under set -euo pipefail). Source it; do not run it.
#   bench_start_redis FIRST_PORT MODULE [ARGS...]
#       starts a throw-away redis-server on the first free loopback port of
#       FIRST_PORT..FIRST_PORT+100, loading the sbai module MODULE with ARGS,
#       in a new temporary directory; sets tmp (that directory), port and
#       server (its pid), stops it and removes tmp on exit, and waits (5 s at
#       most) until it answers PING.
#   bench_throughput_build [BUILD_DIR]
#       sets build (BUILD_DIR, default $src/build: src is the source tree),
#       tp (its sb-throughput) and fe (the stagebench front end); exits 1
#       unless that build has sb-throughput and the sbai module.

bench_start_redis() {
  local first=$1 p
  shift
  tmp=$(mktemp -d)
  port=$(for p in $(seq "$first" $((first + 100))); do (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null || { echo $p; break; }; done)
  redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --protected-mode no \
    --dir "$tmp" --logfile "$tmp/redis.log" --loadmodule "$@" >/dev/null 2>&1 &
  server=$!
  trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$tmp"' EXIT
  for _ in $(seq 100); do [ "$(redis-cli -p "$port" ping 2>/dev/null)" = PONG ] && break; sleep 0.05; done
}

bench_throughput_build() {
  build=${1:-$src/build}
  tp=$build/bin/sb-throughput
  fe=$src/apps/stagebench/stagebench
  [ -x "$tp" ] && [ -f "$build/lib/sbai.so" ] || { echo "build first (stagebench build): $tp" >&2; exit 1; }
}
