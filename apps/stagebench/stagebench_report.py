#!/usr/bin/env python3
"""stagebench report: statistics, plots, a one-page report and a verdict.

    stagebench report DIR [--criteria FILE] [--out REPORTDIR] [--no-plots]

Reads every stagebench timings file (*.h5, schema stagebench-timings v1)
under DIR — a sweep directory or any tree — and writes into REPORTDIR
(default DIR/report): results.csv and results.json (one row per case x
phase), cases/<case>.md, plots/ (PNG and SVG, drawn with gnuplot),
report.md and a self-contained report.html; with --criteria FILE also
criteria.txt and junit.xml, and one PASS/FAIL/ERROR line per criterion on
stdout. Files of another schema or version, or unreadable ones, are named
on stderr and left out. See docs/report.md.

Criteria of an app with no file in DIR are NOT RUN (neither a pass nor a
failure). Exit status: 0 the report is written and every criterion passed
or was NOT RUN, at least one passed (or none was given); 1 a criterion
failed or could not be judged (ERROR), or every one was NOT RUN; 2 usage
error, unreadable criteria file, or no stagebench file under DIR.
"""

import os
import shutil
import sys

USAGE = __doc__.split("\n\n")[1]
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
REPORT_VERSION = 1


def die(msg, code=2):
    print(f"stagebench report: error: {msg}", file=sys.stderr)
    sys.exit(code)


def _need_modules():
    """numpy and h5py, from Debian's python3-numpy and python3-h5py. An
    interpreter without them (a pyenv or venv python3 first on PATH) hands
    over to the system's /usr/bin/python3 once."""
    try:
        import h5py  # noqa: F401, PLC0415
        import numpy  # noqa: F401, PLC0415
        return
    except ImportError as e:
        missing = e.name
    system = "/usr/bin/python3"
    if (os.environ.get("SB_REPORT_REEXEC") != "1" and os.path.exists(system) and
            os.path.realpath(sys.executable) != os.path.realpath(system)):
        os.environ["SB_REPORT_REEXEC"] = "1"
        os.execv(system, [system, os.path.abspath(__file__)] + sys.argv[1:])
    die(f"python module '{missing}' not found (Debian python3-numpy python3-h5py; "
        "stagebench setup installs them)")


def parse(argv):
    opts = {"dir": None, "criteria": None, "out": None, "plots": True}
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in ("-h", "--help"):
            print(__doc__.strip())
            sys.exit(0)
        if a == "--no-plots":
            opts["plots"] = False
        elif a in ("--criteria", "--out") or a.startswith(("--criteria=", "--out=")):
            key, eq, val = a[2:].partition("=")
            if not eq:
                if i + 1 >= len(argv):
                    die(f"{a} needs a value")
                i += 1
                val = argv[i]
            opts[key] = val
        elif a.startswith("-"):
            die(f"unknown option '{a}'\n{USAGE}")
        elif opts["dir"] is None:
            opts["dir"] = a
        else:
            die(f"unexpected argument '{a}' (one DIR)\n{USAGE}")
        i += 1
    if opts["dir"] is None:
        die(f"which directory?\n{USAGE}")
    if not os.path.isdir(opts["dir"]):
        die(f"{opts['dir']}: not a directory")
    return opts


def failed_cases(casedirs, top):
    out = []
    for d in casedirs:
        p = os.path.join(d, "FAILED")
        if os.path.exists(p):
            try:
                why = open(p, errors="replace").read().strip().replace("\n", "; ")
            except OSError as e:
                why = str(e)
            rel = os.path.relpath(d, top)
            out.append((os.path.basename(os.path.abspath(top)) if rel == "." else rel,
                        why or "FAILED"))
    return out


def clear_previous(outdir):
    """A report written again replaces what it wrote before: plots/,
    cases/ and the criteria results (which a run without --criteria would
    otherwise leave stale)."""
    for d in ("plots", "cases"):
        p = os.path.join(outdir, d)
        if os.path.isdir(p) and not os.path.islink(p):
            shutil.rmtree(p)
    for f in ("criteria.txt", "junit.xml"):
        p = os.path.join(outdir, f)
        if os.path.isfile(p):
            os.remove(p)


def main(argv):
    opts = parse(argv)
    _need_modules()
    import sbreport_criteria as crit  # noqa: PLC0415
    import sbreport_files as files_mod  # noqa: PLC0415
    import sbreport_page as page  # noqa: PLC0415
    import sbreport_plots as plots_mod  # noqa: PLC0415
    import sbreport_refs as refs_mod  # noqa: PLC0415
    import sbreport_tables as tables  # noqa: PLC0415
    import sbreport_units as units  # noqa: PLC0415

    top = os.path.abspath(opts["dir"])
    outdir = os.path.abspath(opts["out"] or os.path.join(top, "report"))
    criteria = None
    if opts["criteria"]:
        try:
            with open(opts["criteria"]) as f:
                criteria = crit.parse(f.read())
        except OSError as e:
            die(f"criteria file {opts['criteria']}: {e.strerror}")

    files_mod.learn_apps()
    paths, writing, casedirs = files_mod.discover(top, exclude=outdir)
    # Cases in the order of their parameters' values (tb1K, tb64K, tb1M),
    # not of their names' letters: every table, plot and list follows it.
    paths.sort(key=lambda p: units.natural_key(os.path.relpath(p, top)))
    files, refused = [], []
    for p in paths:
        try:
            files.append(files_mod.load(p, top))
        except files_mod.Refused as e:
            rel = os.path.relpath(p, top)
            refused.append((rel, str(e)))
            print(f"stagebench report: error: {p}: {e} (left out)", file=sys.stderr)
    if not files:
        die(f"no stagebench timings file under {top}" +
            (f" ({len(refused)} refused)" if refused else ""))
    os.makedirs(outdir, exist_ok=True)
    clear_previous(outdir)

    tables.learn_headlines(files)
    rows = [r for rf in files for r in tables.rows_of(rf)]
    failed = failed_cases(casedirs, top)
    writing_rel = [os.path.relpath(p, top) for p in writing]

    rbs, rb_bad = refs_mod.find_redis_benchmark(top, exclude=outdir)
    refs = refs_mod.References(rows, rbs, rb_bad)

    plots, skipped = ([], [("all plots", "--no-plots")])
    if opts["plots"]:
        plots, skipped = plots_mod.make_plots(outdir, rows, files, refs)

    results = None
    if criteria is not None:
        attempted = crit.attempted_apps([c for c, _ in failed] + [p for p, _ in refused])
        results = crit.evaluate_all(criteria, rows, attempted)
        lines = [r.line() for r in results]
        for ln in lines:
            print(ln)
        with open(os.path.join(outdir, "criteria.txt"), "w") as f:
            f.write("\n".join(lines) + ("\n" if lines else ""))
        with open(os.path.join(outdir, "junit.xml"), "wb") as f:
            f.write(crit.junit_xml(results, source=os.path.abspath(opts["criteria"])))

    meta = {"schema": "stagebench-report", "version": REPORT_VERSION, "dir": top,
            "dir_name": os.path.basename(top), "generated_utc": page.now_utc()}
    killed = [rf.relpath for rf in files if rf.killed]
    word, verdict = page.verdict_text(results, failed, refused, killed)
    tables.write_csv(rows, os.path.join(outdir, "results.csv"))
    tables.write_json(os.path.join(outdir, "results.json"), meta, rows, {
        "verdict": {"result": word, "text": verdict},
        "criteria": [{"line": r.crit.lineno, "criterion": r.crit.text, "result": r.verdict,
                      "message": r.message, "measured": r.measured, "case": r.case}
                     for r in (results or [])],
        "refused": [{"file": p, "why": w} for p, w in refused],
        "failed_cases": [{"case": c, "why": w} for c, w in failed],
        "incomplete_writes": writing_rel,
        "killed_runs": [{"file": rf.relpath, "case": rf.case, "status": rf.status,
                         "status_in_file": rf.status_file} for rf in files if rf.killed],
        "plots": [{"name": p.name, "png": p.png, "svg": p.svg, "title": p.title}
                  for p in plots],
        "plots_skipped": [{"plot": w, "why": y} for w, y in skipped],
        "references": [dict(zip(("reference", "source", "what", "value"), r))
                       for r in refs.table_rows()],
    })
    links = tables.write_case_summaries(outdir, files, rows)
    blocks = page.build(meta, files, rows, plots, skipped, results, refused, failed, writing_rel,
                        links, os.path.abspath(opts["criteria"]) if opts["criteria"] else "",
                        refs)
    with open(os.path.join(outdir, "report.md"), "w") as f:
        f.write(page.to_markdown(blocks))
    with open(os.path.join(outdir, "report.html"), "w") as f:
        f.write(page.to_html(blocks, outdir))

    ncases = len({rf.case for rf in files})
    print(f"stagebench report: {len(files)} file(s), {ncases} case(s), {len(rows)} rows, "
          f"{len(plots)} plot(s); {len(refused)} refused; verdict {word}: {verdict}; "
          f"report in {os.path.join(outdir, 'report.html')}", file=sys.stderr)
    if results is not None and crit.exit_failed(results):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
