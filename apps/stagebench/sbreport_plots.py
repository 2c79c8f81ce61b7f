"""The report's plots, drawn by gnuplot (Debian gnuplot-nox) as PNG and SVG.

For every plot the report writes its data (plots/src/NAME.dat) and a
gnuplot script (plots/src/NAME.gp) that draws plots/NAME.png and
plots/NAME.svg, so a plot can be restyled and redrawn by hand:
`cd REPORTDIR/plots/src && gnuplot NAME.gp`. PNG uses the pngcairo
terminal (anti-aliased) where this gnuplot has it, else png (libgd).

The plots (docs/report.md):

- latency_<app>_<phase>[__<facet>]: per phase, the distribution of the
  samples against the client count, one box series per database size
  (db_nodes): box p25..p75, whiskers min..max, a black bar at p50, a
  triangle at p99. Cases that differ in any other swept parameter (tensor
  size, mode, ...) get separate plots (facets), never one pooled box.
- throughput_<app>: the figure-of-merit phase's aggregate GB/s against the
  tensor size (log2 x), one line per database size (and per client count,
  or other swept parameter, where those vary).
- inference_images: inference images/s against total clients.
- aggregation_get_list: consumer get_list p50 (solid) and p99 (dashed)
  against client threads.
- metrics_<case>: the file's /metrics series, where it has any.

A plot whose data is absent is skipped, with the reason returned for the
report.
"""

import os
import re
import shutil
import subprocess

import numpy as np

from sbreport_stats import finite, quantiles
import sbplan
from sbreport_tables import (BOOKKEEPING, HEADLINE, _hashable, determined, distinguishing,
                              safe_name, varying)
from sbreport_units import fmt_size, show_value, time_unit_for, value_key

COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2",
          "#7f7f7f", "#bcbd22", "#17becf")
SIZE = "960,600"
FONT = "Sans,10"
CLIENT_PARAMS = ("client_total", "client_nodes", "clients_per_node")


class Plot:
    def __init__(self, name, title, caption):
        self.name, self.title, self.caption = name, title, caption
        self.png = os.path.join("plots", name + ".png")
        self.svg = os.path.join("plots", name + ".svg")
        self.kind = ""       # latency, throughput, inference, aggregation, metrics
        self.app = self.phase = ""


def gq(s):
    """A gnuplot double-quoted string."""
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def png_terminal():
    """'pngcairo' if this gnuplot has it, else 'png'; None without gnuplot."""
    exe = shutil.which("gnuplot")
    if not exe:
        return None
    r = subprocess.run([exe, "-e", "set terminal"], capture_output=True, text=True)
    return "pngcairo" if re.search(r"\bpngcairo\b", r.stdout + r.stderr) else "png"


def _label(params, names):
    return ", ".join(f"{n}={show_value(n, params.get(n))}" for n in names)


def _app(name):
    """An app's name without the suite's prefix: sb-agg-producer -> agg-producer."""
    return name[3:] if name.startswith("sb-") else name


def _series_names(rows, x, first=("db_nodes",)):
    """The parameters that tell the lines of a plot apart: db_nodes, then
    every other swept parameter but the x axis' own."""
    vary = [v for v in distinguishing(rows) if v != x and v not in BOOKKEEPING]
    if x == "client_total":
        # The total is the x axis; nodes tell lines apart only if they vary
        # independently of it.
        vary = [v for v in vary if v != "clients_per_node"]
        if "client_nodes" in vary and determined(rows, "client_nodes", "client_total"):
            vary.remove("client_nodes")
    return list(first) + [v for v in vary if v not in first]


def _short(name):
    return sbplan.PARAMS[name][0] if name in sbplan.PARAMS else name


def _sortkey(v):
    return value_key(v)


class Plotter:
    def __init__(self, outdir, terminal):
        self.outdir = outdir
        self.plotdir = os.path.join(outdir, "plots")
        self.srcdir = os.path.join(self.plotdir, "src")
        self.terminal = terminal
        self.plots, self.skipped = [], []

    # -- drawing ------------------------------------------------------------------------
    def _draw(self, plot, data_blocks, body, multiplot=False, size=SIZE):
        """Writes NAME.dat (blocks separated by two blank lines, gnuplot's
        'index') and NAME.gp, runs gnuplot; records the plot or the error.
        multiplot: body draws several panels, so the SVG draws it again
        (replot redraws only the last panel)."""
        os.makedirs(self.srcdir, exist_ok=True)
        with open(os.path.join(self.srcdir, plot.name + ".dat"), "w") as f:
            for i, block in enumerate(data_blocks):
                if i:
                    f.write("\n\n")
                f.write(f"# block {i}\n")
                for line in block:
                    f.write(" ".join(line) + "\n")
        png_term = (f"set terminal pngcairo size {size} font {gq(FONT)} noenhanced"
                    if self.terminal == "pngcairo" else f"set terminal png size {size} noenhanced")
        script = "\n".join([
            f"# {plot.title.splitlines()[0]} (written by stagebench report; redraw: gnuplot "
            f"{plot.name}.gp)",
            "set encoding utf8",
            png_term,
            f"set output '../{plot.name}.png'",
            f"set title {gq(plot.title)} noenhanced",
            "set grid lc rgb '#dddddd'",
            "set key outside right top vertical noenhanced box lc rgb '#bbbbbb'",
            "set border lc rgb '#444444'",
            f"DAT = '{plot.name}.dat'",
            body,
            f"set terminal svg size {size} font {gq(FONT)} noenhanced background rgb 'white'",
            f"set output '../{plot.name}.svg'",
            body if multiplot else "replot",
            "unset output",
            ""])
        gp = os.path.join(self.srcdir, plot.name + ".gp")
        with open(gp, "w") as f:
            f.write(script)
        r = subprocess.run(["gnuplot", plot.name + ".gp"], cwd=self.srcdir, capture_output=True,
                           text=True)
        ok = r.returncode == 0 and all(
            os.path.getsize(os.path.join(self.outdir, p)) > 0 if os.path.exists(
                os.path.join(self.outdir, p)) else False for p in (plot.png, plot.svg))
        if not ok:
            err = (r.stderr.strip().splitlines() or ["no output"])[-1]
            self.skipped.append((plot.title, f"gnuplot failed: {err} (script {gp})"))
            return
        self.plots.append(plot)

    # -- latency distributions ------------------------------------------------------------
    def latency(self, rows):
        by = {}
        for r in rows:
            by.setdefault((r["app"], r["phase"]), []).append(r)
        if not by:
            self.skipped.append(("latency distributions", "no phases with samples"))
        for (app, phase), prs in by.items():
            prs = [r for r in prs if r["count"]]
            if not prs:
                self.skipped.append((f"{_app(app)} {phase} latency", "no samples"))
                continue
            facet_names = [v for v in varying(prs)
                           if v not in CLIENT_PARAMS and v != "db_nodes"]
            clients = {(r.get("client_total"), r.get("client_nodes"), r.get("clients_per_node"))
                       for r in prs}
            if len(clients) == 1 and facet_names:
                # One client count: the other swept parameters go on the x
                # axis instead, so that one plot shows every case.
                tot, cn, cpn = next(iter(clients))
                self._latency_one(app, phase, prs, facet_names, f"{tot} client ranks "
                                  f"({cn}x{cpn})", None)
                continue
            facets = {}
            for r in prs:
                facets.setdefault(tuple(_hashable(r.get(n)) for n in facet_names), []).append(r)
            for raw, frs in sorted(facets.items(), key=lambda kv: tuple(map(_sortkey, kv[0]))):
                fkey = tuple(show_value(n, v) for n, v in zip(facet_names, raw))
                facet = ", ".join(f"{n}={v}" for n, v in zip(facet_names, fkey))
                suffix = safe_name("_".join(f"{n}-{v}" for n, v in zip(facet_names, fkey))) \
                    if len(facets) > 1 else None
                self._latency_one(app, phase, frs, None, facet, suffix)

    def _latency_one(self, app, phase, rows, x_params, facet, suffix):
        """One box plot. x_params None: x is the client count; else x is
        the combination of those parameters (a single client count)."""
        name = f"latency_{_app(app)}_{phase}" + (f"__{suffix}" if suffix else "")
        if x_params is None:
            def cat(r):
                return (r.get("client_total"), r.get("client_nodes"), r.get("clients_per_node"))
        else:
            def cat(r):
                return tuple(r.get(n) for n in x_params)
        cats = sorted({cat(r) for r in rows}, key=lambda c: tuple(_sortkey(x) for x in c))
        if x_params is None:
            totals = [c[0] for c in cats]
            ambiguous = len(set(totals)) != len(totals)
            labels = [f"{c[0]}" + (f" ({c[1]}x{c[2]})" if ambiguous else "") for c in cats]
            xlabel = "total client ranks (client_total)" + (
                ", (client_nodes x clients_per_node)" if ambiguous else "")
            against = "client count"
        else:
            if len(x_params) == 1:
                labels = [show_value(x_params[0], c[0]) for c in cats]
                xlabel = x_params[0]
            else:
                labels = [" ".join(f"{_short(n)}={show_value(n, v)}" for n, v in zip(x_params, c))
                          for c in cats]
                xlabel = ", ".join(f"{_short(n)} = {n}" for n in x_params)
            against = ", ".join(x_params)
        series = sorted({r.get("db_nodes") for r in rows}, key=_sortkey)
        pooled = {}
        for r in rows:
            key = (series.index(r.get("db_nodes")), cats.index(cat(r)))
            pooled.setdefault(key, []).append(finite(r["_rf"].phases[phase]["data"]))
        stats = {}
        for key, arrays in pooled.items():
            x = np.concatenate(arrays)
            if x.size:
                q = quantiles(x, (0.25, 0.5, 0.75, 0.99))
                stats[key] = (float(x.min()), q[0], q[1], q[2], q[3], float(x.max()))
        unit, scale = time_unit_for([s[2] for s in stats.values()])
        lo = min(s[0] for s in stats.values())
        hi = max(s[5] for s in stats.values())
        logy = lo > 0 and hi / lo > 30
        ns = len(series)
        width = 0.8 / ns
        blocks = []
        for si in range(ns):
            block = []
            for ci in range(len(cats)):
                if (si, ci) not in stats:
                    continue
                xpos = ci + (si - (ns - 1) / 2) * width
                mn, p25, p50, p75, p99, mx = (v / scale for v in stats[(si, ci)])
                block.append([f"{xpos:.4f}"] + [repr(v) for v in (mn, p25, p50, p75, p99, mx)])
            blocks.append(block or [["NaN"] * 7])
        xt = [f"{gq(lab)} {ci}" for ci, lab in enumerate(labels)]
        plots = []
        for si, db in enumerate(series):
            col = COLORS[si % len(COLORS)]
            title = f"db_nodes={show_value('db_nodes', db)}"
            plots.append(f"DAT index {si} using 1:3:2:7:5 with candlesticks whiskerbars 0.6 "
                         f"lc rgb '{col}' lw 1.2 title {gq(title)}")
            plots.append(f"DAT index {si} using 1:4:4:4:4 with candlesticks lc rgb 'black' "
                         "lw 2.5 notitle")
            plots.append(f"DAT index {si} using 1:6 with points pt 9 ps 1.3 lc rgb '{col}' notitle")
        plots.append("NaN with lines lc rgb 'black' lw 2.5 title 'p50'")
        plots.append("NaN with points pt 9 ps 1.3 lc rgb 'black' title 'p99'")
        body = "\n".join([
            f"set xrange [-0.6:{len(cats) - 0.4}]",
            f"set xtics ({', '.join(xt)})",
            f"set xlabel {gq(xlabel)}",
            "set ylabel " + gq(f"{phase} latency ({unit})" + (", log scale" if logy else "")),
            "set logscale y" if logy else "set yrange [0:*]",
            f"set boxwidth {width * 0.75:.4f} absolute",
            "set style fill solid 0.35 border",
            "plot " + ", \\\n     ".join(plots),
        ])
        title = f"{_app(app)} {phase}: latency against {against}" + (
            f"\n{facet}" if facet else "")
        plot = Plot(name, title,
                    f"{_app(app)} {phase} latency per sample against {against}, one box "
                    f"series per db_nodes" + (f" ({facet})" if facet else "") +
                    ": box p25..p75, whiskers min..max, black bar p50, triangle p99.")
        plot.kind, plot.app, plot.phase = "latency", app, phase
        self._draw(plot, blocks, body)

    # -- line plots ---------------------------------------------------------------------
    def _lines(self, name, title, caption, rows, x, ycols, xlabel, ylabel, xsize=False,
               ylog_ok=True, kind="", refs=()):
        """One line per series (db_nodes and the other swept parameters),
        x the parameter x, y from each of ycols [(column, scale, label,
        dashtype, point)]; refs: reference lines [(label, [(x, y)])], drawn
        grey and dashed."""
        rows = [r for r in rows if r.get(x) is not None and
                any(r.get(c) is not None for c, *_ in ycols)]
        snames = _series_names(rows, x)
        groups = {}
        for r in rows:
            groups.setdefault(tuple(r.get(n) for n in snames), []).append(r)
        keys = sorted(groups, key=lambda k: tuple(_sortkey(v) for v in k))
        blocks, plots, ys = [], [], []
        for gi, key in enumerate(keys):
            pts = sorted(groups[key], key=lambda r: _sortkey(r[x]))
            block = []
            for r in pts:
                vals = []
                for c, scale, *_ in ycols:
                    v = r.get(c)
                    vals.append(repr(v / scale) if v is not None else "NaN")
                    if v is not None:
                        ys.append(v / scale)
                block.append([repr(float(r[x]))] + vals)
            blocks.append(block)
            col = COLORS[gi % len(COLORS)]
            label = _label(dict(zip(snames, key)), snames)
            for yi, (_, _, ylab, dt, pt) in enumerate(ycols):
                t = f"{label}" + (f" {ylab}" if len(ycols) > 1 else "")
                plots.append(f"DAT index {gi} using 1:{yi + 2} with linespoints lc rgb '{col}' "
                             f"dt {dt} pt {pt} ps 1.2 lw 2 title {gq(t)}")
        for ri, (rlabel, pts) in enumerate(refs):
            gi = len(blocks)
            blocks.append([[repr(float(a)), repr(float(b))] for a, b in sorted(pts)])
            ys += [b for _, b in pts]
            grey = ("#555555", "#999999", "#333333")[ri % 3]
            plots.append(f"DAT index {gi} using 1:2 with linespoints lc rgb '{grey}' dt 3 pt 4 "
                         f"ps 1.0 lw 2 title {gq(rlabel)}")
        xs = sorted({float(r[x]) for r in rows})
        lines = []
        if xsize or (xs[0] > 0 and xs[-1] / xs[0] >= 8):
            lines.append("set logscale x 2")
            if "log" not in xlabel:
                xlabel += ", log scale"
            lo, hi = xs[0] / 1.6, xs[-1] * 1.6
        else:
            pad = max(0.5, (xs[-1] - xs[0]) * 0.08)
            lo, hi = xs[0] - pad, xs[-1] + pad
        lines.append(f"set xrange [{lo!r}:{hi!r}]")
        tics = [f"{gq(fmt_size(v) if xsize else show_value(x, v))} {v!r}" for v in xs]
        lines.append(f"set xtics ({', '.join(tics)})")
        pos = [v for v in ys if v > 0]
        logy = ylog_ok and pos and len(pos) == len(ys) and max(pos) / min(pos) > 30
        lines.append("set logscale y" if logy else "set yrange [0:*]")
        lines.append(f"set xlabel {gq(xlabel)}")
        lines.append(f"set ylabel {gq(ylabel + (', log scale' if logy else ''))}")
        lines.append("plot " + ", \\\n     ".join(plots))
        plot = Plot(name, title, caption)
        plot.kind = kind
        self._draw(plot, blocks, "\n".join(lines))

    def throughput(self, rows):
        """Per app with a tensor size: the figure-of-merit phase's aggregate
        rate against the tensor size (when it takes 2+ values) and against
        the client count (when that does)."""
        done = False
        for app in ("sb-throughput", "sb-agg-consumer", "sb-agg-producer"):
            phase = HEADLINE.get(app, (None, "loop_time"))[1]
            prs = [r for r in rows if r["app"] == app and r["phase"] == phase and
                   r.get("tensor_bytes") is not None and r.get("agg_gb_per_s") is not None]
            if not prs:
                continue
            done = True
            sizes = sorted({r["tensor_bytes"] for r in prs})
            clients = sorted({r["client_total"] for r in prs})
            what = (f"{_app(app)} {phase} aggregate throughput (sum over ranks of each rank's "
                    "bytes / time in the phase)")
            if len(sizes) > 1:
                refs = self._baseline_lines(prs) if app == "sb-throughput" else []
                self._lines(f"throughput_{_app(app)}",
                            f"{_app(app)}: {phase} aggregate throughput against tensor size",
                            f"{what} against the tensor size, one line per db_nodes and other "
                            "swept parameter." + (
                                " Grey dotted: the MPI baseline (sb-baseline loop_time "
                                "aggregate, same definition) at the same sizes, for reference."
                                if refs else ""),
                            prs, "tensor_bytes", [("agg_gb_per_s", 1.0, "", 1, 7)],
                            "tensor size (bytes, log scale)",
                            f"{phase} aggregate throughput (GB/s)", xsize=True, kind="throughput",
                            refs=refs)
            else:
                self.skipped.append((f"{_app(app)} throughput against tensor size",
                                     f"one tensor size only ({fmt_size(sizes[0])})"))
            if len(clients) > 1:
                self._lines(f"throughput_{_app(app)}_clients",
                            f"{_app(app)}: {phase} aggregate throughput against client count",
                            f"{what} against total client ranks, one line per db_nodes and "
                            "other swept parameter (tensor size, ...).",
                            prs, "client_total", [("agg_gb_per_s", 1.0, "", 1, 7)],
                            "total client ranks (client_total)",
                            f"{phase} aggregate throughput (GB/s)", kind="throughput")
        if not done:
            self.skipped.append(("throughput against tensor size",
                                 "no throughput or aggregation case with a tensor size and "
                                 "aggregate rate"))

    def _baseline_lines(self, prs):
        """The MPI baseline as reference lines for a plot against tensor
        size: one per pattern and rank count among the client counts
        plotted (all rank counts when none of them is)."""
        base = getattr(self, "refs", None)
        base = base.baseline if base is not None else []
        sizes = {r["tensor_bytes"] for r in prs}
        base = [b for b in base if b["tensor_bytes"] in sizes]
        totals = {r["client_total"] for r in prs}
        if any(b.get("client_total") in totals for b in base):
            base = [b for b in base if b.get("client_total") in totals]
        groups = {}
        for b in base:
            groups.setdefault((b.get("pattern") or "baseline", b.get("client_total")), []).append(
                (b["tensor_bytes"], b["agg_bytes_per_s"] / 1e9))
        return [(f"MPI {pat}, {n} ranks (reference)", pts)
                for (pat, n), pts in sorted(groups.items(), key=lambda kv: tuple(
                    map(_sortkey, kv[0])))]

    def inference(self, rows):
        prs = [r for r in rows if r["app"] == "sb-inference" and r["phase"] == "loop_time" and
               r.get("images_per_s") is not None]
        if not prs:
            self.skipped.append(("inference images/s against clients", "no sb-inference files"))
            return
        self._lines("inference_images", "inference: images/s against client count",
                    "sb-inference aggregate images/s (loop_time; sum over ranks) against total "
                    "client ranks, one line per db_nodes and other swept parameter.",
                    prs, "client_total", [("images_per_s", 1.0, "", 1, 7)],
                    "total client ranks (client_total)", "aggregate inference rate (images/s)",
                    kind="inference")

    def aggregation(self, rows):
        prs = [r for r in rows if r["app"] == "sb-agg-consumer" and r["phase"] == "get_list" and
               r.get("client_threads") is not None and r["count"]]
        if not prs:
            self.skipped.append(("aggregation get_list time against client threads",
                                 "no sb-agg-consumer files"))
            return
        unit, scale = time_unit_for([r["p50_s"] for r in prs])
        self._lines("aggregation_get_list", "aggregation: get_list time against consumer threads",
                    "sb-agg-consumer get_list time (LRANGE and every dataset fetched) against "
                    "the consumer's client threads: p50 solid, p99 dashed; one colour per "
                    "db_nodes and other swept parameter.",
                    prs, "client_threads",
                    [("p50_s", scale, "p50", 1, 7), ("p99_s", scale, "p99", 2, 9)],
                    "consumer client threads (client_threads)", f"get_list time ({unit})",
                    ylog_ok=False, kind="aggregation")

    def metrics(self, files):
        """One figure per file with /metrics: one panel per quantity, all
        against the time since the timed loop started (s), node 0's column.
        Cumulative byte counters (net_*_bytes, lo_*_bytes) are drawn as
        rates: the difference between samples over the time between them."""
        with_m = [rf for rf in files if rf.metrics]
        if not with_m:
            self.skipped.append(("metrics time series", "no file has /metrics"))
            return
        for rf in with_m:
            panels = metric_panels(rf.metrics)
            name = "metrics_" + safe_name(rf.case + "_" + _app(rf.app))
            title = f"{rf.case}: node metrics ({_app(rf.app)})"
            if not panels:
                self.skipped.append((title, "no /metrics series with a time column"))
                continue
            blocks, body = [], ["set multiplot layout %d,1 title %s noenhanced"
                                % (len(panels), gq(title)),
                                "unset title", "set key outside right top vertical noenhanced opaque box "
                                "lc rgb '#bbbbbb'",
                                "set lmargin 12", "set rmargin 24"]
            tmax = max((float(np.nanmax(t)) for p in panels for _, t, _ in p["series"]
                        if t.size and np.any(np.isfinite(t))), default=1.0)
            for pi, p in enumerate(panels):
                last = pi == len(panels) - 1
                plots = []
                for label, t, v in p["series"]:
                    gi = len(blocks)
                    blocks.append([[repr(float(a)), repr(float(b))] for a, b in zip(t, v)] or
                                  [["NaN", "NaN"]])
                    col = COLORS[gi % len(COLORS)]
                    # tx dashed: loopback's rx and tx are the same bytes.
                    dt = 2 if "_tx" in label else 1
                    plots.append(f"DAT index {gi} using 1:2 with lines lw 1.8 dt {dt} "
                                 f"lc rgb '{col}' title {gq(label)}")
                body += [f"set xrange [0:{tmax * 1.02!r}]",
                         "set xlabel " + gq("time since the timed loop started (s)") if last
                         else "unset xlabel",
                         f"set ylabel {gq(p['ylabel'])}",
                         p.get("yrange", "set yrange [0:*]"),
                         "plot " + ", \\\n     ".join(plots)]
            body.append("unset multiplot")
            host = rf.metrics_hosts[0] if rf.metrics_hosts else "rank 0's node"
            plot = Plot(name, title,
                        f"/metrics of {rf.relpath}, node 0 ({host}), against the time since "
                        "the timed loop started: one panel per quantity; the network counters "
                        "as rates (bytes per second between samples).")
            plot.kind = "metrics"
            self._draw(plot, blocks, "\n".join(body), multiplot=True,
                       size=f"960,{180 + 230 * len(panels)}")


# /metrics series that count bytes since the loop started (drawn as rates).
CUMULATIVE = re.compile(r"^(net|lo)_(rx|tx)_bytes$")


def _rate_unit(values):
    top = max((abs(v) for v in values if np.isfinite(v)), default=0.0)
    for unit, scale in (("GB/s", 1e9), ("MB/s", 1e6), ("KB/s", 1e3)):
        if top >= scale:
            return unit, scale
    return "B/s", 1.0


def metric_panels(metrics):
    """The panels of one file's metrics figure: [{"ylabel", "series":
    [(label, t, v)], "yrange"?}], one quantity (and unit) per panel:
    utilisation %, network rates, GPU memory, GPU power, then any other
    series by its units. Column 0 is time (s), column 1 node 0."""
    groups = {}
    for name in sorted(metrics):
        m = metrics[name]
        d = m["data"]
        if d.ndim != 2 or d.shape[1] < 2 or d.shape[0] == 0:
            continue
        t, v = d[:, 0], d[:, 1]
        ok = np.isfinite(t)
        t, v = t[ok], v[ok]
        if CUMULATIVE.match(name):
            # From 0 at the loop's start: the first sample's rate too.
            t0 = np.concatenate(([0.0], t)) if t.size and t[0] > 0 else t
            v0 = np.concatenate(([0.0], v)) if t.size and t[0] > 0 else v
            dt = np.diff(t0)
            with np.errstate(invalid="ignore", divide="ignore"):
                rate = np.where(dt > 0, np.diff(v0) / dt, np.nan)
            groups.setdefault("rate", []).append((name.replace("_bytes", ""), t0[1:], rate))
        elif m["units"] == "%":
            groups.setdefault("%", []).append((name, t, v))
        elif name == "gpu_mem_used_bytes":
            groups.setdefault("gpumem", []).append((name, t, v / 2.0 ** 30))
        else:
            groups.setdefault(m["units"] or name, []).append((name, t, v))
    panels = []
    if "%" in groups:
        panels.append({"ylabel": "busy (%)", "series": groups.pop("%"),
                       "yrange": "set yrange [0:105]"})
    if "rate" in groups:
        series = groups.pop("rate")
        unit, scale = _rate_unit([x for _, _, v in series for x in v])
        panels.append({"ylabel": f"network rate ({unit})",
                       "series": [(lab + " rate", t, v / scale) for lab, t, v in series]})
    if "gpumem" in groups:
        panels.append({"ylabel": "GPU memory used (GiB)", "series": groups.pop("gpumem")})
    for units, series in groups.items():
        label = series[0][0] if len(series) == 1 else ", ".join(s[0] for s in series)
        panels.append({"ylabel": f"{label} ({units})", "series": series})
    return panels


def make_plots(outdir, rows, files, refs=None):
    """Draws every plot the data allows; returns (plots, skipped) with
    skipped a list of (what, why)."""
    term = png_terminal()
    if term is None:
        return [], [("all plots", "gnuplot not found (Debian gnuplot-nox; stagebench setup)")]
    p = Plotter(outdir, term)
    p.refs = refs
    p.latency(rows)
    p.throughput(rows)
    p.inference(rows)
    p.aggregation(rows)
    p.metrics(files)
    return p.plots, p.skipped

