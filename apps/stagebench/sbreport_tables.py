"""The report's tables: one row per case x phase, written as results.csv and
results.json, and one summary per case (cases/<case>.md).

Column names are stable (docs/report.md lists them): the identifying and
statistics columns below always appear, in this order; then every sweep
parameter (sbplan.PARAMS, empty where it does not apply); then any other
/params attribute found in the files, in alphabetical order.
"""

import csv
import json
import math
import os
import re

import sbplan
from sbreport_files import status_text
from sbreport_stats import SUMMARY_KEYS, clean, summary
from sbreport_units import fmt_num, fmt_size

ID_COLUMNS = ("case", "app", "file", "status", "phase", "nranks", "client_total",
              "verify_errors")
STAT_COLUMNS = ("count", "missing", "min_s", "mean_s", "p50_s", "p90_s", "p99_s", "max_s",
                "std_s", "rank_p50_min_s", "rank_p50_max_s", "bytes_per_sample",
                "items_per_sample", "agg_bytes_per_s", "agg_gb_per_s", "agg_ops_per_s",
                "images_per_s")
TIME_STATS = ("min", "mean", "p50", "p90", "p99", "max", "std", "rank_p50_min", "rank_p50_max")


def sweep_params():
    """The sweep's parameters, its own and the apps' (as learnt from the
    binaries, sbreport_files.learn_apps), in the planner's order."""
    return tuple(sbplan.PARAMS)


# Each app's headline: the phase whose latency it is judged by, and the
# phase whose aggregate rate is its figure of merit, as its files say (root
# attributes latency_phase and rate_phase, written from the app's sb_app_t:
# the phases its own last line quotes). Filled by learn_headlines.
HEADLINE = {}
# The order apps appear in on the page; apps not named here come after.
APP_ORDER = ("sb-throughput", "sb-inference", "sb-agg-producer", "sb-agg-consumer", "sb-baseline")


def learn_headlines(files):
    """HEADLINE from the files' root attributes. A file written before they
    existed leaves its app to headline_phases' rule."""
    for rf in files:
        lat, rate = rf.root.get("latency_phase"), rf.root.get("rate_phase")
        if lat or rate:
            HEADLINE.setdefault(rf.app, (str(lat) if lat else None,
                                         str(rate) if rate else "loop_time"))


def app_order(app):
    return (APP_ORDER.index(app) if app in APP_ORDER else len(APP_ORDER), app)


def headline_phases(app, phases):
    """(latency phase, rate phase) of app, given the phases a case has:
    the files' (HEADLINE), else the first phase that is not client_init or
    loop_time, and loop_time."""
    lat, rate = HEADLINE.get(app, (None, "loop_time"))
    if lat is None:
        lat = next((p for p in phases if p not in ("loop_time", "client_init")), "loop_time")
    return lat, rate


def rows_of(rf):
    """The rows of one file, one per phase, in the file's phase order. Each
    row keeps its file under the key '_rf' (not written out)."""
    rows = []
    for phase, ph in rf.phases.items():
        s = summary(ph["data"], ph["bytes_per_sample"], ph["items_per_sample"])
        row = {"case": rf.case, "app": rf.app, "file": rf.relpath, "status": rf.status,
               "phase": phase, "nranks": rf.nranks, "client_total": rf.params.get("client_total"),
               "verify_errors": rf.verify_errors}
        for k in SUMMARY_KEYS:
            col = k + "_s" if k in TIME_STATS else k
            row[col] = clean(s[k])
        row["bytes_per_sample"] = ph["bytes_per_sample"]
        row["items_per_sample"] = ph["items_per_sample"]
        b = row["agg_bytes_per_s"]
        row["agg_gb_per_s"] = b / 1e9 if b is not None else None
        row["images_per_s"] = row["agg_ops_per_s"] if rf.app == "sb-inference" else None
        for k, v in rf.params.items():
            if k != "client_total":
                row[k] = v
        row["_rf"] = rf
        rows.append(row)
    return rows


def columns(rows):
    extra = sorted({k for r in rows for k in r if not k.startswith("_")} -
                   set(ID_COLUMNS) - set(STAT_COLUMNS) - set(sweep_params()))
    return list(ID_COLUMNS) + list(STAT_COLUMNS) + list(sweep_params()) + extra


def _csv_value(v):
    if v is None:
        return ""
    if isinstance(v, float):
        return repr(v) if math.isfinite(v) else ""
    if isinstance(v, list):
        return " ".join(str(x) for x in v)
    return str(v)


def write_csv(rows, path):
    cols = columns(rows)
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(cols)
        for r in rows:
            w.writerow([_csv_value(r.get(c)) for c in cols])
    return cols


def _json_value(v):
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def write_json(path, meta, rows, extra):
    cols = columns(rows)
    doc = dict(meta)
    doc["columns"] = cols
    doc["rows"] = [{c: _json_value(r.get(c)) for c in cols} for r in rows]
    doc.update(extra)
    with open(path, "w") as f:
        json.dump(doc, f, indent=1, default=str)
        f.write("\n")


def safe_name(case):
    return re.sub(r"[^A-Za-z0-9._-]", "_", case.replace(os.sep, "__")) or "case"


def _ms(v):
    return fmt_num(v * 1e3) if v is not None else "-"


def case_summary(case, files, rows):
    """A Markdown summary of one case: its files, parameters and phases."""
    lines = [f"# {case}", ""]
    params = {}
    for rf in files:
        params.update(rf.params)
        lines.append(f"- `{rf.relpath}`: {rf.app}, status **{status_text(rf)}**, {rf.nranks} ranks on "
                     f"{len(set(rf.hostnames)) or '?'} host(s), verify errors "
                     f"{rf.verify_errors}, {rf.root.get('start_utc', '?')} .. "
                     f"{rf.root.get('end_utc', '?')}")
        lines.append(f"  command: `{rf.root.get('command_line', '')}`")
    lines += ["", "Parameters: " + ", ".join(
        f"{k}={fmt_size(v) if k == 'tensor_bytes' and isinstance(v, int) else v}"
        for k, v in sorted(params.items()) if k not in ("out", "db")), ""]
    lines.append("| app | phase | samples | min (ms) | p50 (ms) | p90 (ms) | p99 (ms) | "
                 "max (ms) | mean (ms) | std (ms) | rank p50 min..max (ms) | agg GB/s | agg ops/s |")
    lines.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        gb = fmt_num(r["agg_gb_per_s"]) if r["agg_gb_per_s"] is not None else "-"
        ops = fmt_num(r["agg_ops_per_s"]) if r["agg_ops_per_s"] is not None else "-"
        lines.append(f"| {r['app']} | {r['phase']} | {r['count']} | {_ms(r['min_s'])} | "
                     f"{_ms(r['p50_s'])} | {_ms(r['p90_s'])} | {_ms(r['p99_s'])} | "
                     f"{_ms(r['max_s'])} | {_ms(r['mean_s'])} | {_ms(r['std_s'])} | "
                     f"{_ms(r['rank_p50_min_s'])}..{_ms(r['rank_p50_max_s'])} | {gb} | {ops} |")
    lines.append("")
    return "\n".join(lines)


def write_case_summaries(outdir, files, rows):
    """cases/<case>.md for every case; returns {case: relative path}."""
    d = os.path.join(outdir, "cases")
    os.makedirs(d, exist_ok=True)
    by_case = {}
    for rf in files:
        by_case.setdefault(rf.case, []).append(rf)
    out = {}
    for case, fs in by_case.items():
        name = safe_name(case) + ".md"
        with open(os.path.join(d, name), "w") as f:
            f.write(case_summary(case, fs, [r for r in rows if r["case"] == case]))
        out[case] = os.path.join("cases", name)
    return out


# Parameters that record how a run was done rather than what was measured:
# never treated as swept, never a plot series.
BOOKKEEPING = {"out", "db", "log_level", "db_connect_timeout", "db_command_timeout", "timeout",
               "consume_timeout", "poll_interval", "wait", "verify_every", "model_file",
               "model_tag", "set_model", "image_size_used", "gflop_per_image", "list_length",
               "warmup"}


def param_columns(rows):
    """The parameter columns present in rows, client_total included."""
    cols = columns(rows)
    first = len(ID_COLUMNS) + len(STAT_COLUMNS)
    return ["client_total"] + [c for c in cols[first:] if any(r.get(c) is not None for r in rows)]


def varying(rows):
    """The parameters (not bookkeeping) that take more than one value among
    rows, in column order."""
    out = []
    for c in param_columns(rows):
        if c in BOOKKEEPING or c.startswith("_"):
            continue
        if len({_hashable(r.get(c)) for r in rows}) > 1:
            out.append(c)
    return out


def _hashable(v):
    return tuple(v) if isinstance(v, list) else v


def determined(rows, p, by):
    """Whether parameter p takes one value for each value of `by` (as
    clients_per_node does for client_total on one client node)."""
    seen = {}
    for r in rows:
        if seen.setdefault(r.get(by), r.get(p)) != r.get(p):
            return False
    return True


def distinguishing(rows):
    """varying(rows) without client_nodes and clients_per_node where
    client_total already tells the cases apart."""
    vary = varying(rows)
    if "client_total" in vary:
        vary = [v for v in vary if v not in ("client_nodes", "clients_per_node") or
                not determined(rows, v, "client_total")]
    return vary
