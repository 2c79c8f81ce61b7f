"""The one-page report: report.md and a self-contained report.html.

Both are rendered from one list of blocks, so they say the same, in this
order: the verdict (linking to the acceptance table), the headline table
with each figure beside its reference, the references, the acceptance
results (FAIL, ERROR and NOT RUN rows marked), what could not be read, the
parameters swept, the plots (embedded in the HTML as base64 PNG), the
system (from /system), and the verdict again.
"""

import base64
import datetime
import html
import os
import re

from sbreport_files import status_text
from sbreport_tables import (HEADLINE, _hashable, app_order, distinguishing, headline_phases,
                             varying)
from sbreport_units import fmt_num, natural_key, show_value, time_unit_for, value_key

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


def h2(t, anchor=None):
    """A section heading; anchor: its id in the HTML (Markdown viewers
    make the same from the title: "Acceptance" -> #acceptance)."""
    return ("h2", t, anchor or anchor_of(t))


def anchor_of(title):
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


ACCEPTANCE = "acceptance"


def para(t):
    return ("p", t)


def table(head, rows, align=None, classes=None):
    """classes: one CSS class per row (HTML), e.g. the verdict of a criterion."""
    return ("table", head, rows, align or ["l"] * len(head), classes or [""] * len(rows))


def items(xs):
    return ("list", list(xs))


def image(plot):
    return ("img", plot)


# -- content ------------------------------------------------------------------------------
def verdict_text(results, failed_cases, refused, killed=()):
    """(word, sentence): word PASS, FAIL, NOT RUN (every criterion's app
    absent) or NONE (no criteria)."""
    if results is None:
        v = "no acceptance criteria given (stagebench report DIR --criteria FILE)"
        word = "NONE"
    else:
        n = {k: sum(r.verdict == k for r in results) for k in ("PASS", "FAIL", "ERROR", "NOT RUN")}
        nr = (f"; {n['NOT RUN']} NOT RUN (their apps have no file in this folder: neither a pass "
              "nor a failure)" if n["NOT RUN"] else "")
        judged = len(results) - n["NOT RUN"]
        if not results:
            word, v = "NONE", "the criteria file holds no criteria"
        elif judged == 0:
            word, v = "NOT RUN", (f"none of the {len(results)} acceptance criteria could be judged: "
                                  "their apps have no file in this folder")
        elif n["FAIL"] == 0 and n["ERROR"] == 0:
            word, v = "PASS", f"all {judged} judged acceptance criteria passed" + nr
        else:
            word = "FAIL"
            parts = []
            if n["FAIL"]:
                parts.append(f"{n['FAIL']} of {judged} judged acceptance criteria failed")
            if n["ERROR"]:
                parts.append(f"{n['ERROR']} could not be judged (ERROR)")
            v = ", ".join(parts) + nr
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
    for app, ars in sorted(by_app.items(), key=lambda kv: app_order(kv[0])):
        vary = varying(ars)
        cases = len({r["case"] for r in ars})
        if vary:
            trows = []
            for v in vary:
                vals = sorted({_hashable(r.get(v)) for r in ars if r.get(v) is not None},
                              key=value_key)
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


def headline_blocks(rows, case_links, refs=None):
    out = [h2("Headline")]
    trows = []
    by_app = {}
    for r in rows:
        by_app.setdefault(r["app"], []).append(r)
    lat_all = [r["p50_s"] for r in rows if r["p50_s"] is not None]
    unit, scale = time_unit_for(lat_all)
    with_refs = refs is not None and refs.any()
    for app, ars in sorted(by_app.items(), key=lambda kv: app_order(kv[0])):
        vary = distinguishing(ars)
        for case in sorted({r["case"] for r in ars}, key=lambda c: _case_order(ars, c, vary)):
            crs = {r["phase"]: r for r in ars if r["case"] == case}
            lat_phase, rate_phase = headline_phases(app, crs)
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
                fig] + ([refs.headline_cell(app, crs, rate)] if with_refs else []))
    head = ["case", "app", "status", "ranks", "latency phase", f"p50 ({unit})",
            f"p99 ({unit})", f"max ({unit})", "aggregate"] + (["vs reference"] if with_refs else [])
    out.append(table(head, trows, ["l", "l", "l", "r", "l", "r", "r", "r", "r", "l"][:len(head)]))
    if not with_refs:
        out.append(para("Reference: no reference in this folder. Run sb-baseline at the same "
                        "tensor sizes (the MPI figure), or save redis-benchmark --csv output as "
                        "redis-benchmark-d<SIZE>-c<CLIENTS>.csv, and the headline shows each "
                        "figure beside it (docs/report.md, References)."))
    out.append(para("aggregate: the rate of the phase in brackets, summed over ranks (the "
                    "app's last line quotes the same). Every phase of every case, with min, "
                    "mean, p90, std, the spread of per-rank medians and ops/s: results.csv "
                    "(one row per case x phase), results.json, cases/."))
    return out


def references_blocks(refs):
    if refs is None or not (refs.any() or refs.rb_unreadable):
        return []
    out = [h2("References")]
    out.append(para("What the headline figures are compared with, measured on this system and "
                    "found in this folder. MPI: sb-baseline's loop_time aggregate at the same "
                    "tensor size (the same definition: every byte on the wire counted once, "
                    "summed over ranks), with the same client ranks where it has them, else "
                    "the nearest count it has (the column says which). redis-benchmark: "
                    "sb-throughput's put_tensor and unpack_tensor ops/s against its SET and GET "
                    "at the same value size."))
    if refs.any():
        out.append(table(["reference", "case or file", "what", "value"], refs.table_rows(),
                         ["l", "l", "l", "r"]))
    if refs.rb_unreadable:
        out.append(para("redis-benchmark files not read:"))
        out.append(items(f"{p}: {why}" for p, why in refs.rb_unreadable))
    return out


def _status_cell(case_rows):
    """A case's status on the page: a killed run's file says so."""
    rfs = [r["_rf"] for r in case_rows if "_rf" in r]
    for rf in rfs:
        if rf.killed:
            return status_text(rf)
    return next(iter(case_rows))["status"]


def _case_order(rows, case, vary):
    """Cases by the values of the parameters that tell them apart (sizes
    and counts by value: 1K, 64K, 1M), then by name in natural order."""
    r = next(x for x in rows if x["case"] == case)
    return tuple(value_key(r.get(v)) for v in vary) + (natural_key(case),)


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
    metrics = []
    for p in sorted(plots, key=lambda p: order.get(p.kind, 9)):
        if p.kind == "metrics":
            metrics.append(p)
        elif p.kind == "latency" and HEADLINE.get(p.app, ("",))[0] != p.phase:
            more.append(p)
        else:
            main.append(p)
    for p in main:
        out.append(image(p))
    if more:
        out.append(("details", f"Latency of the other phases ({len(more)} plots)", more))
    if metrics:
        out.append(("details", f"Node metrics during each run: CPU busy and network rates "
                               f"against time ({len(metrics)} plots)", metrics))
    if not plots:
        out.append(para("No plots."))
    if skipped:
        out.append(para("Skipped:"))
        out.append(items(f"{what}: {why}" for what, why in skipped))
    return out


def criteria_blocks(results, source):
    out = [h2("Acceptance", ACCEPTANCE)]
    if results is None:
        out.append(para("No criteria file given (stagebench report DIR --criteria FILE; "
                        "results/acceptance-example.txt is one to start from)."))
        return out
    out.append(para(f"Criteria from {source}; each line judged on its worst matching case "
                    "(status=complete cases unless the line says otherwise). FAIL: the worst "
                    "case misses the bound. ERROR: the line cannot be judged (malformed, or it "
                    "matches no case of an app that is here). NOT RUN: the line's app has no "
                    "file in this folder, neither a pass nor a failure. Also criteria.txt and "
                    "junit.xml."))
    out.append(table(["result", "line", "criterion", "measured"],
                     [[("result", r.verdict), str(r.crit.lineno), r.crit.text, r.message]
                      for r in results], ["l", "r", "l", "l"],
                     ["v-" + r.verdict.replace(" ", "-") for r in results]))
    return out


def _verdict_block(word, v, results):
    """The verdict box: the word, the sentence, the lines that did not pass
    (at most 5) and a link to the acceptance table."""
    bad = [r for r in (results or []) if r.verdict in ("FAIL", "ERROR")]
    return ("verdict", word, v, [f"{r.verdict} line {r.crit.lineno}: {r.crit.text}"
                                 for r in bad[:5]] + ([f"... and {len(bad) - 5} more"]
                                                      if len(bad) > 5 else []),
            results is not None)


def build(meta, files, rows, plots, skipped, results, refused, failed_cases, writing,
          case_links, criteria_source, refs=None):
    killed = [rf.relpath for rf in files if rf.killed]
    word, v = verdict_text(results, failed_cases, refused, killed)
    apps = sorted({rf.app for rf in files}, key=app_order)
    blocks = [h1(f"stagebench report: {meta['dir_name']}"),
              _verdict_block(word, v, results),
              para(f"{len(files)} file(s) in {len({rf.case for rf in files})} case(s) "
                   f"({', '.join(apps)}) under {meta['dir']}; generated {meta['generated_utc']}.")]
    blocks += headline_blocks(rows, case_links, refs)
    blocks += references_blocks(refs)
    blocks += criteria_blocks(results, criteria_source)
    blocks += problems_blocks(refused, failed_cases, writing, killed)
    blocks += params_blocks(rows)
    blocks += plots_blocks(plots, skipped)
    blocks += system_blocks(files)
    blocks += [h2("Verdict", "verdict-again"), _verdict_block(word, v, results)]
    return blocks


# -- rendering -----------------------------------------------------------------------------
def _md_cell(c):
    if isinstance(c, tuple) and c[0] == "link":
        return f"[{_md_escape(c[1])}]({c[2]})"
    if isinstance(c, tuple) and c[0] == "result":
        # FAIL and ERROR stand out in bold, NOT RUN in italics.
        return {"FAIL": "**FAIL**", "ERROR": "**ERROR**", "NOT RUN": "*NOT RUN*"}.get(c[1], c[1])
    return _md_escape(str(c))


def _verdict_class(word):
    return "NOTRUN" if word == "NOT RUN" else word


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
            link = f" ([acceptance results](#{ACCEPTANCE}))" if b[4] else ""
            out += [f"**Verdict: {b[1]}** — {b[2]}{link}", ""]
            if b[3]:
                out += [f"- {_md_escape(x)}" for x in b[3]] + [""]
        elif k == "list":
            out += [f"- {_md_escape(str(x))}" for x in b[1]] + [""]
        elif k == "table":
            _, head, rows, align, _classes = b
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
.verdict a{color:inherit}.verdict ul{margin:.3em 0 0 0;padding-left:1.2em;font-size:.85em}
.PASS{background:#dff5e1;border:1px solid #3a3}.FAIL{background:#fde2e2;border:1px solid #c33}
.NONE{background:#eee;border:1px solid #999}.NOTRUN{background:#eee;border:1px solid #777}
tr.v-PASS td:first-child{color:#1a7a2a;font-weight:bold}
tr.v-FAIL td{background:#fde2e2}tr.v-FAIL td:first-child{color:#a00;font-weight:bold}
tr.v-ERROR td{background:#fff0d0}tr.v-ERROR td:first-child{color:#a35a00;font-weight:bold}
tr.v-NOT-RUN td{color:#777;font-style:italic;background:#f7f7f7}
tr[class^="v-"] td:first-child{white-space:nowrap}
.badge{display:inline-block;padding:0 .35em;border-radius:3px;font-size:.85em}
.fig{margin:1em 0}.fig img{max-width:100%;border:1px solid #eee}
.cap{font-size:.85em;color:#555;margin-top:.2em}summary{cursor:pointer;margin:.5em 0}
"""


def _html_cell(c):
    if isinstance(c, tuple) and c[0] == "link":
        return f'<a href="{html.escape(c[2])}">{html.escape(c[1])}</a>'
    if isinstance(c, tuple) and c[0] == "result":
        return html.escape(c[1])
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
        if k == "h1":
            out.append(f"<h1>{html.escape(b[1])}</h1>")
        elif k == "h2":
            out.append(f'<h2 id="{html.escape(b[2])}">{html.escape(b[1])}</h2>')
        elif k == "p":
            out.append(f"<p>{html.escape(b[1])}</p>")
        elif k == "verdict":
            link = (f' <a href="#{ACCEPTANCE}">See the acceptance results</a>.' if b[4] else "")
            lst = ("<ul>" + "".join(f"<li>{html.escape(x)}</li>" for x in b[3]) + "</ul>"
                   if b[3] else "")
            out.append(f'<div class="verdict {_verdict_class(b[1])}"><b>Verdict: '
                       f"{html.escape(b[1])}</b> — {html.escape(b[2])}.{link}{lst}</div>")
        elif k == "list":
            out.append("<ul>" + "".join(f"<li>{html.escape(str(x))}</li>" for x in b[1]) +
                       "</ul>")
        elif k == "table":
            _, head, rows, align, classes = b
            out.append("<table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in head) +
                       "</tr>")
            for r, cls in zip(rows, classes):
                attr = f' class="{html.escape(cls)}"' if cls else ""
                out.append(f"<tr{attr}>" + "".join(
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

