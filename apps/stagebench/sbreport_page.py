"""The one-page report: report.md and a self-contained report.html.

Both are rendered from one list of blocks, so they say the same: the
verdict, the system (from /system), the parameters swept, the headline
table, the plots (embedded in the HTML as base64 PNG), the acceptance
results, and what could not be read.
"""

import base64
import datetime
import html
import os
import re

from sbreport_files import status_text
from sbreport_tables import HEADLINE, distinguishing, varying
from sbreport_units import fmt_num, show_value, time_unit_for

SYSTEM_KEYS = ("stagebench_version", "git_commit", "rank0_hostname", "os", "cpu_model",
               "online_cpus", "mpi_library", "mpi_standard", "hdf5_version", "hiredis_version",
               "built_with_cuda", "db_redis_version", "db_redis_mode", "db_module_sbai_version",
               "db_os", "db_multiplexing_api", "db_maxclients")
VOLATILE = {"db_process_id", "db_tcp_port", "db_address", "doctor"}
SHORT = {"client_nodes": "cn", "clients_per_node": "cpn", "client_total": "clients",
         "db_nodes": "dbn", "db_cpus": "dbc", "db_tpq": "tpq", "tensor_bytes": "tb",
         "client_threads": "ct", "tensors_per_dataset": "tpd", "batch_size": "bs",
         "iterations": "it"}


def _one_line(v):
    return re.sub(r"\s+", " ", str(v)).strip()


# -- blocks -----------------------------------------------------------------------------
def h1(t):
    return ("h1", t)


def h2(t):
    return ("h2", t)


def para(t):
    return ("p", t)


def table(head, rows, align=None):
    return ("table", head, rows, align or ["l"] * len(head))


def items(xs):
    return ("list", list(xs))


def image(plot):
    return ("img", plot)


# -- content ------------------------------------------------------------------------------
def verdict_text(results, failed_cases, refused, killed=()):
    if results is None:
        v = "no acceptance criteria given (stagebench report DIR --criteria FILE)"
        word = "NONE"
    else:
        nf = sum(r.verdict == "FAIL" for r in results)
        ne = sum(r.verdict == "ERROR" for r in results)
        if not results:
            word, v = "NONE", "the criteria file holds no criteria"
        elif nf == 0 and ne == 0:
            word, v = "PASS", f"all {len(results)} acceptance criteria passed"
        else:
            word = "FAIL"
            parts = []
            if nf:
                parts.append(f"{nf} of {len(results)} acceptance criteria failed")
            if ne:
                parts.append(f"{ne} of {len(results)} could not be judged (ERROR)")
            v = ", ".join(parts)
    notes = []
    if failed_cases:
        notes.append(f"{len(failed_cases)} case(s) failed")
    if refused:
        notes.append(f"{len(refused)} file(s) refused")
    if killed:
        notes.append(f"{len(killed)} file(s) partial (killed: status running, samples up to the "
                     "last checkpoint)")
    return word, v + (f"; {', '.join(notes)}" if notes else "")


def system_blocks(files):
    first = files[0]
    sysd = first.system
    rows = []
    for k in SYSTEM_KEYS:
        if k in sysd:
            rows.append([k, _one_line(sysd[k])])
    for k in sorted(sysd):
        if k not in SYSTEM_KEYS and k not in VOLATILE:
            rows.append([k, _one_line(sysd[k])[:200]])
    out = [h2("System"), para(f"From /system of {first.relpath}.")]
    out.append(table(["attribute", "value"], rows) if rows else para("(no /system attributes)"))
    differ = []
    for k in sorted({k for rf in files for k in rf.system} - VOLATILE):
        vals = sorted({_one_line(rf.system.get(k, "(absent)")) for rf in files})
        if len(vals) > 1:
            differ.append(f"{k}: {' | '.join(v[:60] for v in vals[:4])}"
                          + (" | ..." if len(vals) > 4 else ""))
    if differ:
        out.append(para("Differs between files:"))
        out.append(items(differ))
    doctor = first.system.get("doctor")
    if isinstance(doctor, str) and doctor.startswith("{"):
        import json  # noqa: PLC0415
        try:
            checks = json.loads(doctor).get("checks", [])
            warns = [f"{c.get('name')}: {c.get('value')} (expected {c.get('expected')}); "
                     f"fix: {c.get('fix')}" for c in checks if c.get("status") == "WARN"]
            out.append(para(f"Node settings (stagebench doctor): {len(checks)} checks, "
                            f"{len(warns)} warnings" + (":" if warns else ".")))
            if warns:
                out.append(items(warns))
        except (ValueError, AttributeError):
            pass
    return out


def params_blocks(rows):
    out = [h2("Parameters swept")]
    by_app = {}
    for r in rows:
        by_app.setdefault(r["app"], []).append(r)
    for app, ars in sorted(by_app.items()):
        vary = varying(ars)
        cases = len({r["case"] for r in ars})
        if vary:
            trows = []
            for v in vary:
                vals = sorted({r.get(v) for r in ars if r.get(v) is not None},
                              key=lambda x: (isinstance(x, str), x))
                trows.append([v, ", ".join(show_value(v, x) for x in vals)])
            out.append(para(f"{app}: {cases} case(s)."))
            out.append(table(["parameter", "values"], trows))
        else:
            out.append(para(f"{app}: {cases} case(s), no parameter varies."))
        fixed = []
        for k in ("client_nodes", "clients_per_node", "db_nodes", "db_cpus", "db_tpq",
                  "iterations", "tensor_bytes", "mode", "device", "model", "batch_size",
                  "tensors_per_dataset", "client_threads"):
            vals = {ars[0].get(k)} if ars[0].get(k) is not None else set()
            if vals and k not in vary and all(r.get(k) == ars[0].get(k) for r in ars):
                fixed.append(f"{k}={show_value(k, ars[0].get(k))}")
        if fixed:
            out.append(para("Fixed: " + ", ".join(fixed) + "."))
    return out


def case_label(r, vary):
    lab = " ".join(f"{SHORT.get(v, v)}={show_value(v, r.get(v))}" for v in vary)
    return lab or r["case"]


def headline_blocks(rows, case_links):
    out = [h2("Headline")]
    trows = []
    by_app = {}
    for r in rows:
        by_app.setdefault(r["app"], []).append(r)
    lat_all = [r["p50_s"] for r in rows if r["p50_s"] is not None]
    unit, scale = time_unit_for(lat_all)
    for app, ars in sorted(by_app.items()):
        lat_phase, rate_phase = HEADLINE.get(app, ("loop_time", "loop_time"))
        vary = distinguishing(ars)
        for case in sorted({r["case"] for r in ars}, key=lambda c: _case_order(ars, c, vary)):
            crs = {r["phase"]: r for r in ars if r["case"] == case}
            lat, rate = crs.get(lat_phase), crs.get(rate_phase)
            any_r = next(iter(crs.values()))
            if rate is not None and app == "sb-inference":
                fig = f"{fmt_num(rate['images_per_s'])} images/s" if rate["images_per_s"] else "-"
            elif rate is not None and rate["agg_gb_per_s"] is not None:
                gb = rate["agg_gb_per_s"]
                fig = (f"{fmt_num(gb * 1e3)} MB/s" if gb < 0.01 else f"{fmt_num(gb)} GB/s") + \
                    f" ({rate_phase})"
            else:
                fig = "-"
            link = case_links.get(case)
            trows.append([
                ("link", case_label(any_r, vary), link) if link else case_label(any_r, vary),
                app.replace("sb-", ""), _status_cell(crs.values()), str(any_r["nranks"]),
                lat_phase if lat else "-",
                fmt_num(lat["p50_s"] / scale) if lat and lat["p50_s"] is not None else "-",
                fmt_num(lat["p99_s"] / scale) if lat and lat["p99_s"] is not None else "-",
                fmt_num(lat["max_s"] / scale) if lat and lat["max_s"] is not None else "-",
                fig])
    out.append(table(["case", "app", "status", "ranks", "latency phase", f"p50 ({unit})",
                      f"p99 ({unit})", f"max ({unit})", "aggregate"], trows,
                     ["l", "l", "l", "r", "l", "r", "r", "r", "r"]))
    out.append(para("Every phase of every case, with min, mean, p90, std, the spread of "
                    "per-rank medians and ops/s: results.csv (one row per case x phase), "
                    "results.json, cases/."))
    return out


def _status_cell(case_rows):
    """A case's status on the page: a killed run's file says so."""
    rfs = [r["_rf"] for r in case_rows if "_rf" in r]
    for rf in rfs:
        if rf.killed:
            return status_text(rf)
    return next(iter(case_rows))["status"]


def _case_order(rows, case, vary):
    r = next(x for x in rows if x["case"] == case)
    return tuple((0, r.get(v), "") if isinstance(r.get(v), (int, float)) else
                 (1, 0, str(r.get(v))) for v in vary) + ((1, 0, case),)


def problems_blocks(refused, failed_cases, writing, killed=()):
    out = []
    if refused or failed_cases or writing or killed:
        out.append(h2("Not covered"))
    if killed:
        out.append(para("Files of killed runs (status still running): read as partial, with the "
                        "samples up to their last checkpoint; criteria judge status=complete "
                        "cases unless a line names status:"))
        out.append(items(killed))
    if refused:
        out.append(para("Files refused (the report covers the rest):"))
        out.append(items(f"{p}: {why}" for p, why in refused))
    if failed_cases:
        out.append(para("Failed cases (a FAILED file in the case directory):"))
        out.append(items(f"{c}: {why}" for c, why in failed_cases))
    if writing:
        out.append(para("Temporary files left by a killed run of an older driver "
                        "(*.h5.writing; the sweep removes them when it runs the case again), "
                        "skipped:"))
        out.append(items(writing))
    return out


def plots_blocks(plots, skipped):
    """The figure-of-merit plots and each app's headline latency plots on
    the page; every other phase's latency plot folded away (HTML) or
    linked (Markdown)."""
    out = [h2("Plots")]
    order = {"throughput": 0, "inference": 1, "aggregation": 2, "latency": 3, "metrics": 4}
    main, more = [], []
    for p in sorted(plots, key=lambda p: order.get(p.kind, 9)):
        if p.kind == "latency" and HEADLINE.get(p.app, ("",))[0] != p.phase:
            more.append(p)
        else:
            main.append(p)
    for p in main:
        out.append(image(p))
    if more:
        out.append(("details", f"Latency of the other phases ({len(more)} plots)", more))
    if not plots:
        out.append(para("No plots."))
    if skipped:
        out.append(para("Skipped:"))
        out.append(items(f"{what}: {why}" for what, why in skipped))
    return out


def criteria_blocks(results, source):
    out = [h2("Acceptance")]
    if results is None:
        out.append(para("No criteria file given."))
        return out
    out.append(para(f"Criteria from {source}; each line judged on its worst matching case "
                    "(status=complete cases unless the line says otherwise). Also junit.xml."))
    out.append(table(["result", "criterion", "measured"],
                     [[r.verdict, r.crit.text, r.message] for r in results]))
    return out


def build(meta, files, rows, plots, skipped, results, refused, failed_cases, writing,
          case_links, criteria_source):
    killed = [rf.relpath for rf in files if rf.killed]
    word, v = verdict_text(results, failed_cases, refused, killed)
    apps = sorted({rf.app for rf in files})
    blocks = [h1(f"stagebench report: {meta['dir_name']}"),
              ("verdict", word, v),
              para(f"{len(files)} file(s) in {len({rf.case for rf in files})} case(s) "
                   f"({', '.join(apps)}) under {meta['dir']}; generated {meta['generated_utc']}.")]
    blocks += system_blocks(files)
    blocks += params_blocks(rows)
    blocks += headline_blocks(rows, case_links)
    blocks += problems_blocks(refused, failed_cases, writing, killed)
    blocks += plots_blocks(plots, skipped)
    blocks += criteria_blocks(results, criteria_source)
    blocks += [h2("Verdict"), ("verdict", word, v)]
    return blocks


# -- rendering -----------------------------------------------------------------------------
def _md_cell(c):
    if isinstance(c, tuple) and c[0] == "link":
        return f"[{_md_escape(c[1])}]({c[2]})"
    return _md_escape(str(c))


def _md_escape(s):
    return s.replace("|", "\\|").replace("\n", " ")


def to_markdown(blocks):
    out = []
    for b in blocks:
        k = b[0]
        if k == "h1":
            out += [f"# {b[1]}", ""]
        elif k == "h2":
            out += [f"## {b[1]}", ""]
        elif k == "p":
            out += [b[1], ""]
        elif k == "verdict":
            out += [f"**Verdict: {b[1]}** — {b[2]}", ""]
        elif k == "list":
            out += [f"- {_md_escape(str(x))}" for x in b[1]] + [""]
        elif k == "table":
            _, head, rows, align = b
            out.append("| " + " | ".join(_md_escape(h) for h in head) + " |")
            out.append("|" + "|".join("---:" if a == "r" else "---" for a in align) + "|")
            for r in rows:
                out.append("| " + " | ".join(_md_cell(c) for c in r) + " |")
            out.append("")
        elif k == "img":
            p = b[1]
            out += [f"![{_alt(p)}]({p.png})", "", f"*{p.caption}* ([SVG]({p.svg}))", ""]
        elif k == "details":
            out += [f"{b[1]}:", ""] + [f"- [{_alt(p)}]({p.png}) ([SVG]({p.svg}))"
                                       for p in b[2]] + [""]
    return "\n".join(out)


CSS = """
body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
h1{font-size:1.6em}h2{font-size:1.25em;border-bottom:1px solid #ccc;padding-bottom:.2em}
table{border-collapse:collapse;margin:.5em 0;font-size:.9em}
td,th{border:1px solid #ccc;padding:.25em .5em;vertical-align:top}th{background:#f3f3f3}
td.r{text-align:right;font-variant-numeric:tabular-nums}
.verdict{font-size:1.15em;padding:.5em .8em;border-radius:4px;display:inline-block}
.PASS{background:#dff5e1;border:1px solid #3a3}.FAIL{background:#fde2e2;border:1px solid #c33}
.NONE{background:#eee;border:1px solid #999}
.fig{margin:1em 0}.fig img{max-width:100%;border:1px solid #eee}
.cap{font-size:.85em;color:#555;margin-top:.2em}summary{cursor:pointer;margin:.5em 0}
"""


def _html_cell(c):
    if isinstance(c, tuple) and c[0] == "link":
        return f'<a href="{html.escape(c[2])}">{html.escape(c[1])}</a>'
    return html.escape(str(c))


def _alt(p):
    return " — ".join(p.title.splitlines())


def _html_img(p, outdir):
    with open(os.path.join(outdir, p.png), "rb") as f:
        data = base64.b64encode(f.read()).decode("ascii")
    return (f'<div class="fig"><img alt="{html.escape(_alt(p))}" '
            f'src="data:image/png;base64,{data}"><p class="cap">{html.escape(p.caption)} '
            f'(<a href="{html.escape(p.svg)}">SVG</a>)</p></div>')


def to_html(blocks, outdir):
    title = next((b[1] for b in blocks if b[0] == "h1"), "stagebench report")
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           f"<title>{html.escape(title)}</title><style>{CSS}</style></head><body>"]
    for b in blocks:
        k = b[0]
        if k in ("h1", "h2"):
            out.append(f"<{k}>{html.escape(b[1])}</{k}>")
        elif k == "p":
            out.append(f"<p>{html.escape(b[1])}</p>")
        elif k == "verdict":
            out.append(f'<p><span class="verdict {b[1]}"><b>Verdict: {b[1]}</b> — '
                       f"{html.escape(b[2])}</span></p>")
        elif k == "list":
            out.append("<ul>" + "".join(f"<li>{html.escape(str(x))}</li>" for x in b[1]) +
                       "</ul>")
        elif k == "table":
            _, head, rows, align = b
            out.append("<table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in head) +
                       "</tr>")
            for r in rows:
                out.append("<tr>" + "".join(
                    f'<td class="{a}">{_html_cell(c)}</td>' for c, a in zip(r, align)) + "</tr>")
            out.append("</table>")
        elif k == "img":
            out.append(_html_img(b[1], outdir))
        elif k == "details":
            out.append(f"<details><summary>{html.escape(b[1])}</summary>")
            out += [_html_img(p, outdir) for p in b[2]]
            out.append("</details>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def now_utc():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

