"""Acceptance criteria for `stagebench report --criteria FILE`.

One criterion per line, `#` starts a comment (docs/report.md):

    APP.PHASE.STAT OP VALUE[UNIT] [where PARAM OP VALUE, PARAM OP VALUE, ...]

    throughput.put_tensor.p99 < 2ms where tensor_bytes=1M, client_total>=64
    throughput.loop_time.gbps >= 1.5GB/s where tensor_bytes>=1M
    aggregation.get_list.p50 <= 20ms where client_threads=4
    inference.loop_time.images_per_s > 100

- APP: throughput, inference, agg-producer, agg-consumer (with or without
  the sb- prefix), aggregation (both of its apps) or * (any app).
- PHASE: a /timings phase name (put_tensor, loop_time, ...) or *.
- STAT and its units (a time or rate needs its unit; count has none):
  count; min, mean, p50, p90, p99, max, std, rank_p50_min, rank_p50_max in
  s, ms, us, ns; gbps (= bytes_per_s; unit optional, GB/s by default) and
  bytes_per_s in B/s, KB/s, MB/s, GB/s, TB/s, KiB/s, MiB/s, GiB/s; ops (=
  ops_per_s) and images_per_s in /s, ops/s, kops/s, Mops/s, images/s
  (optional).
- OP: <, <=, >, >=.
- where: conditions on the case's parameters (the CSV's parameter
  columns, e.g. tensor_bytes, client_total, client_threads, db_nodes, mode,
  status, case), all of which must hold; OP one of =, ==, !=, <, <=, >, >=;
  sizes take K/M/G suffixes (binary); a string value may hold * and ?
  wildcards (= and != only). Unless a condition names status, only cases
  with status=complete are judged.

Every case x phase row that matches is judged; the line reports the worst
value (the largest for < and <=, the smallest for > and >=) and its case.

A criterion whose app has no file in the folder, and no failed case or
refused file either, is NOT RUN: that app was not part of this run, which
is neither a pass nor a failure (an example criteria file can cover every
app). A criterion of an app that is here but that matches no row (unknown
phase or parameter, a value not swept) is an ERROR, as is a malformed line,
and so is one of an app whose cases all failed or were refused.
"""

import fnmatch
import re
import xml.etree.ElementTree as ET


def _hashable(v):
    return tuple(v) if isinstance(v, list) else v

from sbreport_units import (OPS_UNITS, RATE_UNITS, TIME_UNITS, fmt_num, parse_value, show_value,
                            value_key)

# stat -> (row column, kind, default unit or None when the unit is required)
STATS = {
    "count": ("count", "count", ""),
    "missing": ("missing", "count", ""),
    **{s: (s + "_s", "time", None) for s in ("min", "mean", "p50", "p90", "p99", "max", "std",
                                             "rank_p50_min", "rank_p50_max")},
    "gbps": ("agg_bytes_per_s", "rate", "GB/s"),
    "bytes_per_s": ("agg_bytes_per_s", "rate", None),
    "ops": ("agg_ops_per_s", "ops", "ops/s"),
    "ops_per_s": ("agg_ops_per_s", "ops", "ops/s"),
    "images_per_s": ("images_per_s", "ops", "images/s"),
}
UNITS = {"count": {"": 1.0}, "time": TIME_UNITS, "rate": RATE_UNITS, "ops": OPS_UNITS}
APP_ALIASES = {"aggregation": ("sb-agg-producer", "sb-agg-consumer"),
               "agg": ("sb-agg-producer", "sb-agg-consumer")}

_LINE = re.compile(r"^(?P<key>[^\s<>=!]+)\s*(?P<op><=|>=|<|>)\s*"
                   r"(?P<num>[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)\s*"
                   r"(?P<unit>[A-Za-zµ/]*)\s*(?:\bwhere\b\s*(?P<where>.*))?$")
_COND = re.compile(r"^\s*(?P<name>[A-Za-z0-9_.\-]+)\s*(?P<op>==|!=|<=|>=|=|<|>)\s*(?P<val>.+?)\s*$")
CMP = {"<": lambda a, b: a < b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b,
       ">=": lambda a, b: a >= b, "=": lambda a, b: a == b, "==": lambda a, b: a == b,
       "!=": lambda a, b: a != b}


class CriteriaError(Exception):
    """A malformed criterion; the message says what is wrong."""


class Criterion:
    def __init__(self, lineno, text):
        self.lineno, self.text = lineno, text
        self.app = self.phase = self.stat = self.op = self.unit = ""
        self.column = self.kind = ""
        self.value = 0.0      # threshold in the column's base unit (s, bytes/s, ops/s)
        self.scale = 1.0      # base units per displayed unit
        self.where = []       # [(param, op, value)]
        self.error = None     # why the line is malformed


# The apps a criterion may name (with or without sb-).
KNOWN_APPS = ("sb-throughput", "sb-inference", "sb-agg-producer", "sb-agg-consumer", "sb-baseline")

# Verdicts of one criterion. NOT RUN: the criterion's app was not run here.
VERDICTS = ("PASS", "FAIL", "ERROR", "NOT RUN")

# The sweep's app names (case directories start with them) and the files'
# apps they stand for.
SWEEP_APPS = {"throughput": ("sb-throughput",), "inference": ("sb-inference",),
              "aggregation": ("sb-agg-producer", "sb-agg-consumer"),
              "baseline": ("sb-baseline",)}


class Result:
    def __init__(self, crit, verdict, message, measured=None, case=None, n=0):
        self.crit, self.verdict, self.message = crit, verdict, message
        self.measured, self.case, self.n = measured, case, n

    def line(self):
        return f"{self.verdict:<5} {self.crit.text}  {self.message}"


def attempted_apps(paths):
    """The apps that a failed case directory or a refused file (paths
    relative to the folder) says were run: case directories are named
    after the sweep's app (throughput_cn1_.., aggregation_..)."""
    out = set()
    for p in paths:
        for part in p.replace("\\", "/").split("/"):
            head = part.split("_", 1)[0]
            if head in SWEEP_APPS and "_" in part:
                out.update(SWEEP_APPS[head])
    return out


def parse_line(lineno, text):
    c = Criterion(lineno, text)
    m = _LINE.match(text)
    if not m:
        c.error = "expected APP.PHASE.STAT OP VALUE[UNIT] [where PARAM OP VALUE, ...]"
        return c
    parts = m.group("key").split(".")
    if len(parts) != 3 or not all(parts):
        c.error = f"'{m.group('key')}': expected APP.PHASE.STAT (e.g. throughput.put_tensor.p99)"
        return c
    c.app, c.phase, c.stat = parts
    if c.stat not in STATS:
        c.error = f"unknown statistic '{c.stat}' (known: {', '.join(STATS)})"
        return c
    c.column, c.kind, default_unit = STATS[c.stat]
    c.op = m.group("op")
    unit = m.group("unit") or default_unit
    if unit is None:
        c.error = (f"'{c.stat}' needs a unit ({', '.join(u for u in UNITS[c.kind] if u)}), "
                   f"e.g. {m.group('num')}{'ms' if c.kind == 'time' else 'GB/s'}")
        return c
    if unit not in UNITS[c.kind]:
        known = ", ".join(u for u in UNITS[c.kind] if u) or "none"
        c.error = f"unit '{unit}' does not fit '{c.stat}' (units: {known})"
        return c
    c.unit, c.scale = unit, UNITS[c.kind][unit]
    c.value = float(m.group("num")) * c.scale
    where = m.group("where")
    if where is not None:
        for cond in where.split(","):
            if not cond.strip():
                c.error = "empty condition in the where clause"
                return c
            cm = _COND.match(cond)
            if not cm:
                c.error = f"condition '{cond.strip()}': expected PARAM OP VALUE (e.g. tensor_bytes=1M)"
                return c
            c.where.append((cm.group("name").replace("-", "_"), cm.group("op"),
                            cm.group("val")))
    return c


def parse(text):
    """Criteria of a file's text, one per non-blank, non-comment line."""
    out = []
    for i, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if line:
            out.append(parse_line(i, line))
    return out


def _app_match(spec, app):
    if spec == "*":
        return True
    if spec in APP_ALIASES:
        return app in APP_ALIASES[spec]
    return app == spec or app == "sb-" + spec


def _cond_holds(row, name, op, raw):
    if name not in row or row[name] is None:
        return False
    have = row[name]
    want = parse_value(raw)
    if isinstance(have, (int, float)) and not isinstance(have, bool) and \
            isinstance(want, (int, float)):
        return CMP[op](float(have), float(want))
    have, want = str(have), raw.strip()
    if op in ("=", "=="):
        return fnmatch.fnmatchcase(have, want)
    if op == "!=":
        return not fnmatch.fnmatchcase(have, want)
    return False


def matching_rows(c, rows):
    conds = list(c.where)
    if not any(n == "status" for n, _, _ in conds):
        conds.append(("status", "=", "complete"))
    return [r for r in rows if _app_match(c.app, r["app"]) and
            (c.phase == "*" or r["phase"] == c.phase) and
            all(_cond_holds(r, n, op, v) for n, op, v in conds)]


def _why_unmatched(c, rows):
    apps = [r for r in rows if _app_match(c.app, r["app"])]
    if not apps:
        return f"no case of app '{c.app}' (apps here: {', '.join(sorted({r['app'] for r in rows}))})"
    phases = [r for r in apps if c.phase == "*" or r["phase"] == c.phase]
    if not phases:
        return (f"app '{c.app}' has no phase '{c.phase}' (phases: "
                f"{', '.join(sorted({r['phase'] for r in apps}))})")
    for n, _, _ in c.where:
        if not any(r.get(n) is not None for r in phases):
            return f"no case has a parameter '{n}'"
    seen = []
    for n, _, _ in c.where:
        vals = [show_value(n, v) for v in sorted(
            {_hashable(r.get(n)) for r in phases if r.get(n) is not None}, key=value_key)]
        seen.append(f"{n}: {', '.join(vals[:8])}{', ...' if len(vals) > 8 else ''}")
    status = "" if any(n == "status" for n, _, _ in c.where) else \
        "; only status=complete cases count unless the line names status"
    return f"no case matches the where clause (values here: {'; '.join(seen)}{status})"


def _show(c, v):
    if c.kind == "count":
        return str(int(v))
    return f"{fmt_num(v / c.scale)} {c.unit}"


def _app_names(spec):
    if spec in APP_ALIASES:
        return APP_ALIASES[spec]
    return (spec if spec.startswith("sb-") else "sb-" + spec,)


def evaluate(c, rows, attempted=frozenset()):
    """The Result of one criterion over the report's rows. attempted: apps
    with a failed case or refused file here (their criteria are ERROR, not
    NOT RUN, when no row of theirs is left)."""
    if c.error:
        return Result(c, "ERROR", f"line {c.lineno}: {c.error}")
    if c.app != "*" and not any(_app_match(c.app, r["app"]) for r in rows):
        names = _app_names(c.app)
        if not all(a in KNOWN_APPS for a in names):
            # A misspelt app is never NOT RUN: it would never be judged.
            return Result(c, "ERROR", f"matches no case: unknown app '{c.app}' (known: "
                                      f"{', '.join(a[3:] for a in KNOWN_APPS)}, aggregation, *)")
        tried = [a for a in names if a in attempted]
        if tried:
            return Result(c, "ERROR", f"matches no case: {', '.join(tried)} was run here but no "
                                      "file of it could be read (failed cases or refused files, "
                                      "listed in the report)")
        return Result(c, "NOT RUN", f"no {' or '.join(names)} file in this folder "
                                    "(app not run; neither a pass nor a failure)")
    matched = matching_rows(c, rows)
    if not matched:
        return Result(c, "ERROR", f"matches no case: {_why_unmatched(c, rows)}")
    if c.kind == "rate" and all(r["bytes_per_sample"] == 0 for r in matched):
        return Result(c, "ERROR", f"phase '{c.phase}' moves no bytes; {c.stat} is undefined")
    worst_is_max = c.op in ("<", "<=")
    worst, worst_row, empty = None, None, []
    for r in matched:
        v = r.get(c.column)
        if v is None:
            if not (c.kind == "rate" and r["bytes_per_sample"] == 0):
                empty.append(r)
            continue
        if worst is None or (v > worst if worst_is_max else v < worst):
            worst, worst_row = v, r
    n = len({(r["case"], r["app"]) for r in matched})
    if empty:
        r = empty[0]
        return Result(c, "FAIL", f"no samples in {r['case']} ({r['app']} {r['phase']}); "
                                 f"{len(empty)} of {len(matched)} matching rows empty",
                      None, r["case"], n)
    ok = CMP[c.op](worst, c.value)
    where = f"{worst_row['case']}" + (f" ({worst_row['app']})" if c.app in APP_ALIASES or
                                       c.app == "*" else "")
    msg = f"measured {_show(c, worst)} in {where}" + (f", worst of {n} cases" if n > 1 else "")
    return Result(c, "PASS" if ok else "FAIL", msg, worst, worst_row["case"], n)


def evaluate_all(criteria, rows, attempted=frozenset()):
    return [evaluate(c, rows, attempted) for c in criteria]


def counts(results):
    """{verdict: number of lines} for every verdict."""
    return {v: sum(r.verdict == v for r in results) for v in VERDICTS}


def exit_failed(results):
    """Whether the criteria make the report's exit status 1: a FAIL or an
    ERROR, or no line judged at all (every line NOT RUN). NOT RUN lines
    beside judged ones do not."""
    n = counts(results)
    return bool(results) and (n["FAIL"] > 0 or n["ERROR"] > 0 or n["PASS"] == 0)


def junit_xml(results, suite_name="stagebench acceptance", source=""):
    """The results as JUnit XML (one testcase per criterion; FAIL is a
    failure, ERROR an error), as bytes."""
    fails = sum(r.verdict == "FAIL" for r in results)
    errors = sum(r.verdict == "ERROR" for r in results)
    skipped = sum(r.verdict == "NOT RUN" for r in results)
    root = ET.Element("testsuites", name="stagebench", tests=str(len(results)),
                      failures=str(fails), errors=str(errors), skipped=str(skipped))
    suite = ET.SubElement(root, "testsuite", name=suite_name, tests=str(len(results)),
                          failures=str(fails), errors=str(errors), skipped=str(skipped),
                          time="0")
    if source:
        props = ET.SubElement(suite, "properties")
        ET.SubElement(props, "property", name="criteria", value=source)
    for r in results:
        c = r.crit
        cls = f"stagebench.{c.app}.{c.phase}" if c.app else "stagebench.criteria"
        tc = ET.SubElement(suite, "testcase", classname=cls,
                           name=f"line {c.lineno}: {c.text}", time="0")
        if r.verdict == "FAIL":
            ET.SubElement(tc, "failure", message=r.message, type="criterion").text = r.line()
        elif r.verdict == "ERROR":
            ET.SubElement(tc, "error", message=r.message, type="criterion").text = r.line()
        elif r.verdict == "NOT RUN":
            ET.SubElement(tc, "skipped", message=r.message).text = r.line()
        else:
            ET.SubElement(tc, "system-out").text = r.line()
    ET.indent(root)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="utf-8") + b"\n"
