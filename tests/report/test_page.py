"""Unit tests of the one-page report and the plots' data (apps/stagebench/
sbreport_page.py, sbreport_plots.py, sbreport_refs.py) on made-up files:
the verdict box links to the acceptance table, FAIL/ERROR/NOT RUN rows are
marked, cases are ordered by their parameters' values (1K, 64K, 1M), each
headline is shown beside its MPI baseline or redis-benchmark reference (or
says there is none), and the metrics plots have one quantity per axis, the
byte counters drawn as rates against time in seconds. The report tests
(report_*.sh) check the same on real runs.

Needs numpy (Debian python3-numpy); gnuplot for the drawn part."""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

try:
    import numpy as np
except ImportError:
    if os.path.exists("/usr/bin/python3") and os.environ.get("SB_TEST_REEXEC") != "1" and \
            os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3"):
        os.environ["SB_TEST_REEXEC"] = "1"
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    print("SKIP: numpy not found (python3-numpy)", file=sys.stderr)
    sys.exit(77)

sys.path.insert(0, os.path.join(os.environ.get("SB_SOURCE_DIR", "../.."), "apps", "stagebench"))
import sbreport_criteria as C  # noqa: E402
import sbreport_files as F  # noqa: E402
import sbreport_page as P  # noqa: E402
import sbreport_plots as PL  # noqa: E402
import sbreport_refs as R  # noqa: E402
import sbreport_tables as T  # noqa: E402


def runfile(case, app, phases, params, metrics=None):
    """A RunFile as sbreport_files.load makes it. phases: {name: (seconds
    per sample, bytes_per_sample)}, 4 ranks x 10 samples each."""
    rf = F.RunFile()
    rf.case, rf.app, rf.status, rf.status_file = case, app, "complete", "complete"
    rf.relpath = case + "/run.h5"
    rf.nranks = 4
    rf.hostnames = ["node0"] * 4
    rf.params = dict(params, client_total=4, client_nodes=1, clients_per_node=4, db_nodes=1)
    for name, (sec, nbytes) in phases.items():
        rf.phases[name] = {"data": np.full((4, 10), sec), "bytes_per_sample": nbytes,
                           "items_per_sample": 1}
    rf.metrics = metrics or {}
    rf.metrics_hosts = ["node0"]
    return rf


SIZES = (("1M", 1 << 20), ("64K", 65536), ("1K", 1024))  # in the wrong order on purpose


def throughput_files():
    return [runfile(f"tp/throughput_cn1_cpn4_tb{n}", "sb-throughput",
                    {"put_tensor": (1e-4 * b / 1024, b), "unpack_tensor": (1e-4 * b / 1024, b),
                     "loop_time": (2e-4 * b / 1024, 2 * b)}, {"tensor_bytes": b})
            for n, b in SIZES]


def baseline_files():
    # 4 ranks, each rank 1 sample of b bytes per (b / 2e9) s: 8e9 B/s in all.
    return [runfile(f"baseline/baseline_cn1_cpn4_tb{n}", "sb-baseline",
                    {"pingpong": (b / 2e9, b), "loop_time": (b / 2e9, b)},
                    {"tensor_bytes": b, "pattern": "pingpong"}) for n, b in SIZES]


def page(files, criteria_text=None, refs=True, rb=()):
    rows = [r for rf in files for r in T.rows_of(rf)]
    results = C.evaluate_all(C.parse(criteria_text), rows) if criteria_text else None
    references = R.References(rows, rb) if refs else None
    meta = {"dir": "/x", "dir_name": "x", "generated_utc": "now"}
    blocks = P.build(meta, files, rows, [], [], results, [], [], [], {}, "c.txt", references)
    return rows, results, blocks


CRITERIA = """throughput.put_tensor.p99 < 10s
throughput.put_tensor.p99 < 1ns
throughput.put_tensor.p99 < 1s where tensor_bytes=4M
inference.run_model.p99 < 1s
"""


class Page(unittest.TestCase):
    def test_verdict_links_and_rows_marked(self):
        _, results, blocks = page(throughput_files(), CRITERIA)
        self.assertEqual([r.verdict for r in results], ["PASS", "FAIL", "ERROR", "NOT RUN"])
        html = P.to_html(blocks, "/nonexistent")
        box = html[html.index('class="verdict FAIL"'):]
        box = box[:box.index("</div>")]
        self.assertIn('href="#acceptance"', box)
        self.assertIn("FAIL line 2: throughput.put_tensor.p99 &lt; 1ns", box)
        self.assertIn("ERROR line 3", box)
        self.assertNotIn("line 4", box)   # NOT RUN is not listed as a problem
        self.assertIn('<h2 id="acceptance">Acceptance</h2>', html)
        for cls in ("v-PASS", "v-FAIL", "v-ERROR", "v-NOT-RUN"):
            self.assertEqual(html.count(f'<tr class="{cls}">'), 1, cls)
            self.assertIn(f"tr.{cls}", html)   # and the style sheet marks it
        # The acceptance table comes before the plots.
        self.assertLess(html.index('id="acceptance"'), html.index('id="plots"'))
        md = P.to_markdown(blocks)
        self.assertIn("([acceptance results](#acceptance))", md)
        self.assertIn("| **FAIL** |", md)
        self.assertIn("| *NOT RUN* |", md)

    def test_not_run_is_not_fail(self):
        _, results, _ = page(throughput_files(), "throughput.put_tensor.p99 < 10s\n"
                                                 "inference.run_model.p99 < 1s\n")
        word, text = P.verdict_text(results, [], [])
        self.assertEqual(word, "PASS")
        self.assertIn("1 NOT RUN", text)
        _, results, _ = page(throughput_files(), "inference.run_model.p99 < 1s\n")
        self.assertEqual(P.verdict_text(results, [], [])[0], "NOT RUN")

    def test_cases_in_size_order(self):
        _, _, blocks = page(throughput_files())
        md = P.to_markdown(blocks)
        order = [md.index(f"| tb={n} |") for n in ("1K", "64K", "1M")]
        self.assertEqual(order, sorted(order), "headline rows not in size order")
        self.assertIn("| tensor_bytes | 1K, 64K, 1M |", md)

    def test_no_reference(self):
        _, _, blocks = page(throughput_files())
        md = P.to_markdown(blocks)
        self.assertIn("no reference in this folder", md)
        self.assertNotIn("vs reference", md)

    def test_mpi_and_redis_benchmark_references(self):
        d = tempfile.mkdtemp()
        try:
            p = os.path.join(d, "redis-benchmark-d1M-c4.csv")
            with open(p, "w") as f:
                f.write('"test","rps","avg_latency_ms"\n"SET","2000.0","1.0"\n'
                        '"GET","4000.0","0.5"\n')
            rbs, bad = R.find_redis_benchmark(d)
        finally:
            shutil.rmtree(d)
        self.assertEqual(bad, [])
        self.assertEqual((rbs[0].size, rbs[0].clients, rbs[0].rps["GET"]), (1 << 20, 4, 4000.0))
        rows, _, blocks = page(throughput_files() + baseline_files(), rb=rbs)
        md = P.to_markdown(blocks)
        self.assertIn("vs reference", md)
        # loop_time: 4 ranks x 2 MiB / (2e-4 x 1024 s) = 40.96 MB/s; baseline 8e9 B/s.
        tp = next(r for r in rows if r["app"] == "sb-throughput" and r["phase"] == "loop_time"
                  and r["tensor_bytes"] == 1 << 20)
        self.assertAlmostEqual(tp["agg_bytes_per_s"], 4 * 2 * (1 << 20) / (0.2048), delta=1)
        ratio = tp["agg_bytes_per_s"] / 8e9
        line = next(ln for ln in md.splitlines() if ln.startswith("| tb=1M | throughput"))
        self.assertIn(f"{R.fmt_ratio(ratio)} of MPI pingpong, 4 ranks (8.000 GB/s)", line)
        # put_tensor: 4 ranks / 0.1024 s = 39.06 ops/s against SET 2000/s.
        self.assertIn(f"put {R.fmt_ratio(4 / 0.1024 / 2000)} of SET", line)
        self.assertIn(f"get {R.fmt_ratio(4 / 0.1024 / 4000)} of GET", line)
        self.assertIn("redis-benchmark -d 1M -c 4", line)
        self.assertIn("## References", md)


class MetricsPlots(unittest.TestCase):
    def metrics(self):
        t = np.arange(1, 11) * 0.1
        return {"cpu_util": {"data": np.column_stack([t, np.full(10, 40.0)]), "units": "%"},
                # 5 MB every 0.1 s: 50 MB/s
                "lo_rx_bytes": {"data": np.column_stack([t, np.arange(1, 11) * 5e6]),
                                "units": "bytes"},
                "net_tx_bytes": {"data": np.column_stack([t, np.zeros(10)]), "units": "bytes"}}

    def test_one_quantity_per_panel_rates_not_counters(self):
        panels = PL.metric_panels(self.metrics())
        self.assertEqual([p["ylabel"] for p in panels], ["busy (%)", "network rate (MB/s)"])
        self.assertEqual([s[0] for s in panels[0]["series"]], ["cpu_util"])
        rate = dict((s[0], s) for s in panels[1]["series"])["lo_rx rate"]
        np.testing.assert_allclose(rate[2], np.full(10, 50.0))   # MB/s, the first one too
        np.testing.assert_allclose(rate[1], np.arange(1, 11) * 0.1)   # seconds

    @unittest.skipUnless(shutil.which("gnuplot"), "gnuplot not found (gnuplot-nox)")
    def test_drawn(self):
        d = tempfile.mkdtemp()
        try:
            rf = runfile("tp/throughput_cn1_cpn4_tb1K", "sb-throughput",
                         {"loop_time": (1e-4, 2048)}, {"tensor_bytes": 1024}, self.metrics())
            plots, skipped = PL.make_plots(d, T.rows_of(rf), [rf])
            self.assertEqual([s for s in skipped if "metrics" in s[0]], [])
            m = [p for p in plots if p.kind == "metrics"]
            self.assertEqual(len(m), 1)
            with open(os.path.join(d, "plots", "src", m[0].name + ".gp")) as f:
                gp = f.read()
            ylabels = re.findall(r'^set ylabel "([^"]*)"', gp, re.M)
            self.assertEqual(ylabels[:2], ["busy (%)", "network rate (MB/s)"])
            self.assertIn('set xlabel "time since the timed loop started (s)"', gp)
            self.assertNotIn("sample number", gp)
            self.assertNotIn('"value"', gp)
            for f in (m[0].png, m[0].svg):
                self.assertGreater(os.path.getsize(os.path.join(d, f)), 2000, f)
            # The SVG has both panels (a multiplot is drawn again, not replotted).
            with open(os.path.join(d, m[0].svg)) as f:
                svg = f.read()
            self.assertIn("busy (%)", svg)
            self.assertIn("network rate (MB/s)", svg)
            r = subprocess.run(["gnuplot", m[0].name + ".gp"], cwd=os.path.join(d, "plots", "src"),
                               capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stderr)
        finally:
            shutil.rmtree(d)


if __name__ == "__main__":
    unittest.main()
