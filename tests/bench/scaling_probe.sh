#!/usr/bin/env bash
# Benchmark (not a ctest test): what each part of a run costs as it grows,
# measured at small scale on one machine, for docs/scaling.md.
#
#   tests/bench/scaling_probe.sh [BUILD_DIR]
#
# Parts (SB_PROBE_PARTS, default all: "conn tensor fd hdf5 sweep cluster storm"):
#   conn     one redis-server + sbai.so; K idle client connections (each sent
#            one PING), K in SB_PROBE_CONNS (default "0 1 16 64 256 1024");
#            connected_clients, used_memory, RSS and the server's open
#            descriptors at each K; the slope per connection
#   tensor   N tensors (SB_PROBE_TENSORS, default 1000) of S bytes (1K, 63K,
#            64K, 1023K, 1M) stored with AI.TENSORSET (and, for comparison,
#            SET): used_memory per key and its overhead beyond the payload
#   fd       file descriptors and database connections of every rank of each
#            app during its loop (sb-throughput, sb-inference tiny, the
#            aggregation pair), against the standalone server
#   hdf5     sb-throughput --out with R ranks (SB_PROBE_RANKS, default
#            "1 2 4 8 16 32 64"; oversubscribed) and I iterations
#            (SB_PROBE_ITERS, default "1000 2000"; the 2000 only up to 16
#            ranks) of 16-byte tensors: file size, and the time of the last
#            write (from the last table line to the "wrote" line)
#   sweep    a 2-case `stagebench sweep baseline`: bytes per case besides
#            the HDF5 files
#   storm    K connections (SB_PROBE_STORM, default "1024 4096 8192") opened
#            at once against a server with tcp-backlog B (SB_PROBE_BACKLOGS,
#            default "511 4096"; 511 is Redis's default, which `stagebench db
#            start` keeps): time until each answered a PING, the kernel's
#            ListenOverflows/ListenDrops counters (machine-wide) meanwhile
#   cluster  `stagebench db start --nodes N` for N in SB_PROBE_SHARDS
#            (default "1 2 3 4 5 6"): per shard used_memory and RSS at rest,
#            the CLUSTER SLOTS reply and the state folder; at 3 and 6 shards
#            the database connections of every rank of each app and every
#            shard's connected clients
#
# Servers listen on loopback from SB_PROBE_PORT (default 23100) and, for the
# cluster, SB_PROBE_CLUSTER_PORT (default 22200; bus ports +10000, below the
# ephemeral range); every server it starts is stopped on exit. Sizes and
# counts are exact; times are noisy on a shared machine.
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
. "$src/tests/lib/bench.sh"
bench_throughput_build "${1:-}"
bin=$build/bin
parts=${SB_PROBE_PARTS:-conn tensor fd hdf5 sweep cluster storm}
first=${SB_PROBE_PORT:-23100}
conns=${SB_PROBE_CONNS:-0 1 16 64 256 1024}
ntensors=${SB_PROBE_TENSORS:-1000}
ranks_list=${SB_PROBE_RANKS:-1 2 4 8 16 32 64}
iters_list=${SB_PROBE_ITERS:-1000 2000}
shards_list=${SB_PROBE_SHARDS:-1 2 3 4 5 6}
storm_conns=${SB_PROBE_STORM:-1024 4096 8192}
storm_backlogs=${SB_PROBE_BACKLOGS:-511 4096}
export SB_BUILD=$build SB_MODULE=$build/lib/sbai.so SB_LOG_LEVEL=info
has() { [[ " $parts " == *" $1 "* ]]; }

# One throw-away server (tests/lib/bench.sh), then our own cleanup around it.
bench_start_redis "$first" "$build/lib/sbai.so"
work=$(mktemp -d)
launched=()   # mpiexec pids still running
extra=()      # other servers started here
states=()     # stagebench db state folders
cleanup() {
  local p s
  for p in "${launched[@]}"; do kill -TERM "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  for p in "${extra[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  for s in "${states[@]}"; do SB_STATE=$s bash "$fe" db stop >/dev/null 2>&1 || true; done
  kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true
  rm -rf "$tmp" "$work"
}
trap cleanup EXIT
db=tcp://127.0.0.1:$port

# ---- Python helpers: raw RESP on a socket, no client library ---------------------
cat > "$work/probe.py" <<'EOF'
import os, resource, socket, struct, sys, time

def conn(port):
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s

def cmd(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out += [b"$%d\r\n" % len(a), a, b"\r\n"]
    return b"".join(out)

class Reader:
    def __init__(self, s):
        self.s, self.buf = s, b""
    def _fill(self):
        d = self.s.recv(1 << 20)
        if not d:
            raise EOFError("server closed the connection")
        self.buf += d
    def line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        l, _, self.buf = self.buf.partition(b"\r\n")
        return l
    def exact(self, n):
        while len(self.buf) < n + 2:
            self._fill()
        d, self.buf = self.buf[:n], self.buf[n + 2:]
        return d
    def reply(self):
        l = self.line()
        t, rest = l[:1], l[1:]
        if t in (b"+", b":"):
            return rest
        if t == b"-":
            raise RuntimeError(rest.decode())
        if t == b"$":
            n = int(rest)
            return None if n < 0 else self.exact(n)
        if t == b"*":
            return [self.reply() for _ in range(int(rest))]
        raise RuntimeError("unexpected reply %r" % l)

def info(port):
    s = conn(port); r = Reader(s)
    s.sendall(cmd("INFO", "memory") + cmd("INFO", "clients"))
    d = {}
    for _ in range(2):
        for l in r.reply().decode().splitlines():
            k, _, v = l.partition(":")
            d[k] = v
    s.close()
    return d

def fit(xs, ys):
    n = len(xs); mx = sum(xs) / n; my = sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx if sxx else 0.0
    return my - b * mx, b

def nfds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))

def p_conn(port, spid, ks):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    held, rows = [], []
    idle = 4.0
    print("# %8s %10s %14s %14s %14s %10s" % ("K", "connected", "used_memory", "used idle", "rss idle", "server_fds"))
    for k in ks:
        while len(held) < k:
            s = conn(port); s.sendall(cmd("PING"))
            if Reader(s).reply() != b"PONG":
                raise RuntimeError("no PONG")
            held.append(s)
        time.sleep(0.3)
        d = info(port)
        # Redis's clientsCron shrinks an idle client's buffers after ~2 s
        time.sleep(idle)
        e = info(port)
        row = (k, int(d["connected_clients"]), int(d["used_memory"]), int(e["used_memory"]),
               int(e["used_memory_rss"]), nfds(spid))
        rows.append(row)
        print("  %8d %10d %14d %14d %14d %10d" % row)
    for col, what in ((2, "used_memory just after the PING"), (3, "used_memory idle %g s" % idle),
                      (4, "rss idle"), (5, "server fds")):
        a, b = fit([r[0] for r in rows], [r[col] for r in rows])
        print("# fit: %s = %.0f + %.2f x K" % (what, a, b))
    for s in held:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()

def p_tensor(port, n, sizes):
    s = conn(port); r = Reader(s)
    print("# %6s %8s %6s %14s %14s %12s %12s %12s" % ("kind", "bytes", "N", "used before", "used after", "per key", "overhead", "rss per key"))
    for kind in ("tensor", "raw"):
        for size in sizes:
            payload = os.urandom(size)
            keys = ["sb:probe:%s:%d:%d" % (kind, size, i) for i in range(n)]
            d0 = info(port); before = int(d0["used_memory"])
            for i0 in range(0, n, 50):
                batch = keys[i0:i0 + 50]
                if kind == "tensor":
                    s.sendall(b"".join(cmd("AI.TENSORSET", k, "UINT8", size, "BLOB", payload) for k in batch))
                else:
                    s.sendall(b"".join(cmd("SET", k, payload) for k in batch))
                for _ in batch:
                    r.reply()
            time.sleep(0.2)
            d1 = info(port); after = int(d1["used_memory"])
            per = (after - before) / n
            rss = (int(d1["used_memory_rss"]) - int(d0["used_memory_rss"])) / n
            print("  %6s %8d %6d %14d %14d %12.0f %12.0f %12.0f" % (kind, size, n, before, after, per, per - size, rss))
            for i0 in range(0, n, 500):
                s.sendall(cmd("DEL", *keys[i0:i0 + 500])); r.reply()
            time.sleep(0.2)
    s.close()

def p_slots(port):
    """raw bytes of the CLUSTER SLOTS and CLUSTER NODES replies"""
    s = conn(port); r = Reader(s)
    out = []
    for c in (("CLUSTER", "SLOTS"), ("CLUSTER", "NODES")):
        s.sendall(cmd(*c))
        out.append(wire(r.reply()))
    s.close()
    print(*out)

def wire(rep):
    if rep is None:
        return 5
    if isinstance(rep, list):
        return len(b"*%d\r\n" % len(rep)) + sum(wire(x) for x in rep)
    if isinstance(rep, bytes):
        return len(b"$%d\r\n" % len(rep)) + len(rep) + 2
    return 0

def netstat(field):
    t = open("/proc/net/netstat").read().split("\n")
    for i in range(0, len(t) - 1, 2):
        h, v = t[i].split(), t[i + 1].split()
        if field in h:
            return int(v[h.index(field)])
    return 0

def p_storm(port, k):
    """k connections opened at once (non-blocking connects, then a PING on
    each): how long until every one answered, and the kernel's count of
    accept-queue overflows meanwhile (machine-wide)"""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    import select
    o0, d0 = netstat("ListenOverflows"), netstat("ListenDrops")
    t0 = time.monotonic(); socks = {}
    for i in range(k):
        s = socket.socket(); s.setblocking(False)
        try:
            s.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        socks[s.fileno()] = s
    ep = select.epoll()
    for fd in socks:
        ep.register(fd, select.EPOLLOUT)
    pending, lat, sent = dict(socks), [], set()
    deadline = t0 + 30
    while pending and time.monotonic() < deadline:
        for fd, ev in ep.poll(0.2):
            s = pending.get(fd)
            if s is None:
                continue
            if fd not in sent:
                try:
                    s.send(b"PING\r\n"); sent.add(fd); ep.modify(fd, select.EPOLLIN)
                except OSError:
                    pending.pop(fd); ep.unregister(fd)
                continue
            try:
                d = s.recv(64)
            except OSError:
                d = b""
            pending.pop(fd); ep.unregister(fd)
            if d.startswith(b"+PONG"):
                lat.append(time.monotonic() - t0)
    lat.sort()
    print("  %6d %9d %9.3f %9.3f %9d %10d %8d" % (k, len(lat), lat[len(lat) // 2] if lat else -1,
          lat[-1] if lat else -1, sum(1 for l in lat if l > 0.9), netstat("ListenOverflows") - o0,
          netstat("ListenDrops") - d0))
    for s in socks.values():
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()

if __name__ == "__main__":
    what = sys.argv[1]
    if what == "conn":
        p_conn(int(sys.argv[2]), int(sys.argv[3]), [int(k) for k in sys.argv[4:]])
    elif what == "tensor":
        p_tensor(int(sys.argv[2]), int(sys.argv[3]), [int(x) for x in sys.argv[4:]])
    elif what == "slots":
        p_slots(int(sys.argv[2]))
    elif what == "info":
        d = info(int(sys.argv[2]))
        print(" ".join(d.get(k, "-") for k in sys.argv[3:]))
    elif what == "storm":
        p_storm(int(sys.argv[2]), int(sys.argv[3]))
EOF
py() { python3 "$work/probe.py" "$@"; }

# The pids of every process below $1.
descendants() {
  ps -e -o pid=,ppid= | awk -v root="$1" '
    { kids[$2] = kids[$2] " " $1 }
    END { n = split(kids[root], q, " "); for (i = 1; i <= n; i++) { p = q[i]; print p; m = split(kids[p], c, " "); for (j = 1; j <= m; j++) q[++n] = c[j] } }'
}
# Ranks (pid comm) of the launch $1.
ranks_of() { local p; for p in $(descendants "$1"); do c=$(cat "/proc/$p/comm" 2>/dev/null) || continue; [[ $c == sb-* ]] && echo "$p $c"; done; }
# Established TCP connections of pid $1 to the ports $2 (comma-separated).
db_conns() {
  ss -tnpH state established 2>/dev/null | awk -v pid="pid=$1," -v ports=",$2," '
    index($0, pid) { n = split($4, a, ":"); if (index(ports, "," a[n] ",")) c++ } END { print c + 0 }'
}
# Launch "$@" in the background (output to $work/app.out), wait until $want
# ranks each hold a database connection on the ports $dbports and have run a
# second longer, then print one line per rank: comm pid fds sockets db-conns;
# then stop the launch with SIGTERM (the app writes a partial file and ends).
sample_ranks() {
  local want=$1 dbports=$2 t pid n line p comm
  shift 2
  "$@" > "$work/app.out" 2>&1 &
  pid=$!
  launched+=("$pid")
  for t in $(seq 300); do
    n=0
    while read -r p comm; do [ "$(db_conns "$p" "$dbports")" -gt 0 ] && n=$((n + 1)); done < <(ranks_of "$pid")
    [ "$n" -ge "$want" ] && break
    kill -0 "$pid" 2>/dev/null || { echo "launch ended early:" >&2; tail -5 "$work/app.out" >&2; return 1; }
    sleep 0.1
  done
  sleep 1.5
  while read -r p comm; do
    printf '    %-16s pid %-8s fds %4d  sockets %4d  db connections %3d\n' "$comm" "$p" \
      "$(ls "/proc/$p/fd" 2>/dev/null | wc -l)" \
      "$(find "/proc/$p/fd" -lname 'socket:*' 2>/dev/null | wc -l)" "$(db_conns "$p" "$dbports")"
  done < <(ranks_of "$pid") | if [ "${summary:-0}" = 1 ]; then
    awk '{ n++; split("5 7 10", ks, " "); for (j = 1; j <= 3; j++) { k = ks[j]; v = $k + 0; if (n == 1 || v < lo[k]) lo[k] = v; if (v > hi[k]) hi[k] = v } }
         END { printf "    %d ranks: fds %d..%d  sockets %d..%d  db connections %d..%d\n", n, lo[5], hi[5], lo[7], hi[7], lo[10], hi[10] }'
  else cat; fi
  if [[ $dbports == *,* ]]; then
    printf '    connected_clients per shard (less this query):'
    for p in ${dbports//,/ }; do printf ' %d' $(($(py info "$p" connected_clients) - 1)); done
    echo
  fi
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  launched=("${launched[@]/$pid/}")
}
# The apps' fd probe against the database $1 (addresses) on ports $2.
app_fds() {
  local addr=$1 ports=$2
  echo "  sb-throughput, 4 ranks, 1K tensors:"
  sample_ranks 4 "$ports" mpiexec -n 4 "$bin/sb-throughput" --db "$addr" --tensor-bytes 1K \
    --iterations 200000 --out "$work/tp.h5"
  echo "  sb-inference, 2 ranks, tiny model:"
  sample_ranks 2 "$ports" mpiexec -n 2 "$bin/sb-inference" --db "$addr" --model tiny \
    --iterations 200000 --out "$work/inf.h5"
  echo "  sb-agg-producer (2 ranks) + sb-agg-consumer (1 rank, --client-threads 2):"
  sample_ranks 3 "$ports" mpiexec -n 2 "$bin/sb-agg-producer" --db "$addr" --iterations 200000 \
    --out "$work/p.h5" : -n 1 "$bin/sb-agg-consumer" --db "$addr" --list-length 2 \
    --client-threads 2 --iterations 200000 --out "$work/c.h5"
}

printf '# scaling_probe: %s, %s, %d cores, %s\n' "$(date -u +%Y-%m-%dT%H:%MZ)" \
  "$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)" "$(nproc)" \
  "$(redis-server --version | awk '{ print $3 }')"
printf '# server: port %d, pid %d, maxclients %s; ulimit -n here %s\n' "$port" "$server" \
  "$(redis-cli -p "$port" config get maxclients | tail -1)" "$(ulimit -n)"

if has conn; then
  echo; echo "## conn: idle connections to one server (each sent one PING)"
  # shellcheck disable=SC2086
  py conn "$port" "$server" $conns
fi

if has tensor; then
  echo; echo "## tensor: $ntensors keys of each size; overhead = per key - payload"
  # 63K and 1023K beside 64K and 1M: the allocator's size classes
  py tensor "$port" "$ntensors" 1024 64512 65536 1047552 1048576
fi

if has fd; then
  echo; echo "## fd: every rank during its loop, standalone server on port $port"
  app_fds "$db" "$port"
  for r in 16 32; do
    echo "  sb-throughput, $r ranks (oversubscribed), 1K tensors:"
    summary=1 sample_ranks "$r" "$port" mpiexec -n "$r" "$bin/sb-throughput" --db "$db" --tensor-bytes 1K \
      --iterations 20000 --out "$work/tp.h5"
  done
  redis-cli -p "$port" --scan --pattern 'sb:*' | xargs -r -n 500 redis-cli -p "$port" del >/dev/null
  printf '  redis-server: %d fds with %s clients connected\n' "$(ls "/proc/$server/fd" | wc -l)" \
    "$(py info "$port" connected_clients)"
fi

if has hdf5; then
  echo; echo "## hdf5: sb-throughput --out, 16-byte tensors (oversubscribed ranks)"
  printf '# %6s %6s %12s %14s %10s %8s\n' ranks iters "file bytes" "bytes/sample" "last write" "wall"
  for r in $ranks_list; do
    for it in $iters_list; do
      [ "$it" -gt 1000 ] && [ "$r" -gt 16 ] && continue
      rm -f "$work/h.h5"
      t0=$EPOCHREALTIME
      mpiexec -n "$r" "$bin/sb-throughput" --db "$db" --tensor-bytes 16 --iterations "$it" \
        --out "$work/h.h5" 2>&1 | while IFS= read -r l; do printf '%s %s\n' "$EPOCHREALTIME" "$l"; done > "$work/h.log"
      t1=$EPOCHREALTIME
      # the last write: from the summary line (printed after the loop) to "wrote"
      tl=$(awk -v t0="$t0" -v t1="$t1" '$2 == "#" && $3 == "sb-throughput:" { a = $1 } /info: wrote / { b = $1 }
             END { printf "%.3f %.2f\n", (a && b) ? b - a : -1, t1 - t0 }' "$work/h.log")
      sz=$(stat -c %s "$work/h.h5")
      # samples: 3 phases x iterations per rank, plus client_init
      printf '  %6d %6d %12d %14.2f %9ss %7ss\n' "$r" "$it" "$sz" \
        "$(awk -v s="$sz" -v r="$r" -v i="$it" 'BEGIN { print s / (r * (3 * i + 1)) }')" $tl
    done
  done
fi

if has sweep; then
  echo; echo "## sweep: stagebench sweep baseline, 2 cases of 2 ranks (no database)"
  bash "$fe" sweep baseline --clients_per_node 2 --iterations 5 --tensor_bytes 1K,64K \
    --out "$work/sweep" > "$work/sweep.out" 2>&1 || { tail -5 "$work/sweep.out"; }
  for d in "$work/sweep"/*/; do
    printf '  case %-40s files %3d  bytes besides .h5 %8d  .h5 %8d\n' "$(basename "$d")" \
      "$(find "$d" -type f | wc -l)" \
      "$(find "$d" -type f ! -name '*.h5' -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')" \
      "$(find "$d" -type f -name '*.h5' -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')"
  done
  printf '  top level: %d files, %d bytes\n' "$(find "$work/sweep" -maxdepth 1 -type f | wc -l)" \
    "$(find "$work/sweep" -maxdepth 1 -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')"
  find "$work/sweep" -type f ! -name '*.h5' -printf '    %s %P\n' | sort -k2 | head -30
fi

if has cluster; then
  echo; echo "## cluster: stagebench db start --nodes N, at rest"
  printf '# %3s %12s %12s %12s %12s %12s %12s\n' N "used/shard" "rss/shard" "slots reply" \
    "nodes reply" "state bytes" "start s"
  # below the ephemeral range (32768 on Linux by default), bus ports included
  cport=${SB_PROBE_CLUSTER_PORT:-22200}
  for n in $shards_list; do
    st=$work/state$n
    states+=("$st")
    t0=$(date +%s.%N)
    addr=$(SB_STATE=$st bash "$fe" db start --nodes "$n" --port "$cport" --no-pin 2> "$work/db.err" |
           sed -n 's/^export SSDB=//p') || true
    t1=$(date +%s.%N)
    [ -n "$addr" ] || { echo "db start --nodes $n failed:"; tail -3 "$work/db.err"; continue; }
    sleep 1
    used=0; rss=0; slots=0; nodes=0
    for k in $(seq 0 $((n - 1))); do
      u=$(py info $((cport + k)) used_memory); used=$((used + u))
      pid=$(awk -v p=":$((cport + k))" 'index($1, p) { print $2 }' "$st/db.nodes")
      r=$(awk '/^VmRSS/ { print $2 * 1024 }' "/proc/$pid/status"); rss=$((rss + r))
    done
    [ "$n" -gt 1 ] && read -r slots nodes < <(py slots "$cport")
    printf '  %3d %12d %12d %12d %12d %12d %12.1f\n' "$n" $((used / n)) $((rss / n)) "$slots" "$nodes" \
      "$(du -sb "$st" | awk '{ print $1 }')" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')"
    if [ "$n" -eq 3 ] || [ "$n" -eq 6 ]; then
      echo "  apps against $n shards (db connections = to any shard):"
      app_fds "$addr" "$(seq -s, "$cport" $((cport + n - 1)))"
    fi
    SB_STATE=$st bash "$fe" db stop >/dev/null 2>&1 || true
  done
fi

if has storm; then
  echo; echo "## storm: K connections opened at once against a server with tcp-backlog B"
  printf '# somaxconn %s, tcp_max_syn_backlog %s\n' "$(cat /proc/sys/net/core/somaxconn)" \
    "$(cat /proc/sys/net/ipv4/tcp_max_syn_backlog)"
  for b in $storm_backlogs; do
    sp=$((first + 50))
    while (exec 3<>"/dev/tcp/127.0.0.1/$sp") 2>/dev/null; do sp=$((sp + 1)); done
    redis-server --port "$sp" --bind 127.0.0.1 --save '' --appendonly no --protected-mode no \
      --tcp-backlog "$b" --maxclients 20000 --dir "$work" --logfile "$work/storm.log" \
      --loadmodule "$build/lib/sbai.so" >/dev/null 2>&1 &
    spid=$!
    extra+=("$spid")
    for _ in $(seq 100); do [ "$(redis-cli -p "$sp" ping 2>/dev/null)" = PONG ] && break; sleep 0.05; done
    echo "  tcp-backlog $b (port $sp):"
    printf '# %6s %9s %9s %9s %9s %10s %8s\n' K answered "p50 s" "max s" "> 0.9 s" overflows drops
    for k in $storm_conns; do py storm "$sp" "$k"; sleep 1; done
    kill "$spid"; wait "$spid" 2>/dev/null || true
  done
fi
