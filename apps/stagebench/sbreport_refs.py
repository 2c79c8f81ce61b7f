"""References for the report's headline figures: what a figure could be.

A headline rate alone does not say whether it is good. Where the results
folder holds a reference measured on the same system, the headline table
shows the figure beside it, as a ratio (docs/report.md, References):

- the MPI baseline: sb-baseline files in the folder (a baseline sweep in
  DIR/baseline/, or any sb-baseline run.h5). sb-baseline moves the same
  tensor sizes between ranks over MPI; its loop_time aggregate rate is
  defined as the database apps' (the sum over ranks of each rank's bytes
  over its time, every byte on the wire counted once), so
  "0.42x MPI pingpong at 1M" compares like with like. A database figure is
  compared with the baseline at the same tensor size, preferably with the
  same client ranks and nodes; the reference says which ranks it had.
- redis-benchmark: a CSV written by `redis-benchmark --csv` saved in the
  folder as redis-benchmark*.csv, its value size (-d) and clients (-c) in
  the file name: redis-benchmark-d1M-c4.csv. sb-throughput's put_tensor
  and unpack_tensor rates (ops/s) are compared with its SET and GET at the
  same size.

Only references that exist are shown; with none, the report says so.
"""

import csv
import os
import re

from sbreport_units import fmt_num, fmt_size, natural_key, parse_size, value_key

BASELINE = "sb-baseline"
# Apps whose figure of merit is a byte rate, comparable with the baseline's.
BYTE_RATE_APPS = ("sb-throughput", "sb-agg-producer", "sb-agg-consumer")
PATTERN_ORDER = ("pingpong", "ring", "allgather")
RB_GLOB = re.compile(r"^redis-benchmark.*\.csv$")
RB_SIZE = re.compile(r"(?:^|[-_.])d([0-9]+[KMGT]?)(?=[-_.]|$)")
RB_CLIENTS = re.compile(r"(?:^|[-_.])c([0-9]+)(?=[-_.]|$)")
RB_DEFAULT_SIZE = 3      # redis-benchmark's -d default
RB_DEFAULT_CLIENTS = 50  # and its -c default


def fmt_rate(bps):
    """A byte rate with a decimal unit that shows it as 1..1000."""
    if bps is None:
        return "-"
    for unit, scale in (("GB/s", 1e9), ("MB/s", 1e6), ("KB/s", 1e3)):
        if abs(bps) >= scale:
            return f"{fmt_num(bps / scale)} {unit}"
    return f"{fmt_num(bps)} B/s"


def fmt_ratio(x):
    return f"{x:.2f}x" if x >= 0.01 else f"{x:.2g}x"


class RedisBenchmark:
    def __init__(self, relpath, size, clients, rps, size_given, clients_given):
        self.relpath, self.size, self.clients, self.rps = relpath, size, clients, rps
        self.size_given, self.clients_given = size_given, clients_given

    def describe(self):
        d = f"-d {fmt_size(self.size)}" + ("" if self.size_given else " (default)")
        c = f"-c {self.clients}" + ("" if self.clients_given else " (default)")
        return f"redis-benchmark {d} {c}"


def read_redis_benchmark(path, relpath):
    """One `redis-benchmark --csv` file: {test: requests/s}. Redis 7 writes a
    header ("test","rps",...), older ones none; either is read. Returns None
    (with the reason) when it holds no test row."""
    rps = {}
    try:
        with open(path, newline="", errors="replace") as f:
            for row in csv.reader(f):
                if len(row) < 2 or row[0].strip().lower() == "test":
                    continue
                try:
                    rps[row[0].strip().upper()] = float(row[1])
                except ValueError:
                    continue
    except OSError as e:
        return None, str(e.strerror)
    if not rps:
        return None, "no test rows (expected the output of redis-benchmark --csv)"
    base = os.path.basename(path)[len("redis-benchmark"):-len(".csv")]
    m, c = RB_SIZE.search(base), RB_CLIENTS.search(base)
    size = parse_size(m.group(1)) if m else RB_DEFAULT_SIZE
    clients = int(c.group(1)) if c else RB_DEFAULT_CLIENTS
    return RedisBenchmark(relpath, size, clients, rps, bool(m), bool(c)), None


def find_redis_benchmark(top, exclude=None):
    """(references, unreadable [(relpath, why)]) for every
    redis-benchmark*.csv under top (exclude: the report's own folder)."""
    found, bad = [], []
    exclude = os.path.realpath(exclude) if exclude else None
    for d, dirs, files in os.walk(top):
        dirs[:] = sorted((x for x in dirs if os.path.realpath(os.path.join(d, x)) != exclude),
                         key=natural_key)
        for f in sorted(files, key=natural_key):
            if RB_GLOB.match(f):
                p = os.path.join(d, f)
                rel = os.path.relpath(p, top)
                rb, why = read_redis_benchmark(p, rel)
                if rb:
                    found.append(rb)
                else:
                    bad.append((rel, why))
    return found, bad


class References:
    """The references of one report: baseline rows and redis-benchmark files."""

    def __init__(self, rows, redis_benchmarks=(), rb_unreadable=()):
        self.baseline = [r for r in rows if r["app"] == BASELINE and r["phase"] == "loop_time" and
                         r["status"] == "complete" and r.get("agg_bytes_per_s") and
                         r.get("tensor_bytes") is not None]
        self.rb = list(redis_benchmarks)
        self.rb_unreadable = list(rb_unreadable)

    def any(self):
        return bool(self.baseline or self.rb)

    def mpi_for(self, rate_row):
        """The baseline row to compare a byte-rate headline row with: the
        same tensor size; among those, the same client ranks and nodes,
        else the same ranks, else the nearest rank count; pingpong before
        ring and allgather. None without one at that size."""
        size = rate_row.get("tensor_bytes")
        cands = [b for b in self.baseline if b.get("tensor_bytes") == size]
        if not cands:
            return None
        ct, cn = rate_row.get("client_total") or 0, rate_row.get("client_nodes")

        def key(b):
            pat = b.get("pattern")
            return (abs((b.get("client_total") or 0) - ct), b.get("client_nodes") != cn,
                    PATTERN_ORDER.index(pat) if pat in PATTERN_ORDER else 9,
                    natural_key(b["case"]))
        return min(cands, key=key)

    def rb_for(self, size):
        cands = [x for x in self.rb if x.size == size]
        return cands[0] if cands else None

    def headline_cell(self, app, case_rows, rate_row):
        """The reference column of one headline row (a string)."""
        parts = []
        if app in BYTE_RATE_APPS and rate_row is not None and rate_row.get("agg_bytes_per_s"):
            b = self.mpi_for(rate_row)
            if b is not None:
                ratio = rate_row["agg_bytes_per_s"] / b["agg_bytes_per_s"]
                parts.append(f"{fmt_ratio(ratio)} of MPI {b.get('pattern') or 'baseline'}, "
                             f"{b.get('client_total')} ranks ({fmt_rate(b['agg_bytes_per_s'])})")
        if app == "sb-throughput" and rate_row is not None:
            rb = self.rb_for(rate_row.get("tensor_bytes"))
            if rb is not None:
                got = []
                for phase, test, word in (("put_tensor", "SET", "put"),
                                          ("unpack_tensor", "GET", "get")):
                    r = case_rows.get(phase)
                    if r is not None and r.get("agg_ops_per_s") and rb.rps.get(test):
                        got.append(f"{word} {fmt_ratio(r['agg_ops_per_s'] / rb.rps[test])} of "
                                   f"{test}")
                if got:
                    parts.append(f"{', '.join(got)} ({rb.describe()}, ops/s)")
        if parts:
            return "; ".join(parts)
        if app == "sb-inference":
            return "no reference for images/s"
        if app == BASELINE:
            return "(is the reference)"
        return "no reference at this size"

    def table_rows(self):
        """[source, case or file, what, value] for the References section."""
        out = []
        for b in sorted(self.baseline, key=lambda r: (value_key(r.get("tensor_bytes")),
                                                      value_key(r.get("client_total")),
                                                      natural_key(r["case"]))):
            out.append([f"MPI {b.get('pattern') or 'baseline'}", b["case"],
                        f"{fmt_size(b['tensor_bytes'])}, {b.get('client_total')} ranks on "
                        f"{b.get('client_nodes')} node(s), loop_time aggregate",
                        fmt_rate(b["agg_bytes_per_s"])])
        for rb in self.rb:
            tests = ", ".join(f"{t} {fmt_num(v)}/s" for t, v in rb.rps.items()
                              if t in ("SET", "GET")) or \
                ", ".join(f"{t} {fmt_num(v)}/s" for t, v in list(rb.rps.items())[:4])
            out.append(["redis-benchmark", rb.relpath, rb.describe(), tests])
        return out
