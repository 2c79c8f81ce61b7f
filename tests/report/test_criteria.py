"""Unit tests of the acceptance-criteria language (apps/stagebench/
sbreport_criteria.py) and its units: parsing, units, where clauses, the
worst case, status filtering, JUnit XML. The rows are made here; the report
tests (report_*.sh) judge rows computed from real runs."""
import os
import sys
import unittest
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.join(os.environ.get("SB_SOURCE_DIR", "../.."), "apps", "stagebench"))
import sbreport_criteria as C  # noqa: E402
import sbreport_units as U  # noqa: E402


def row(case, p99, gb=1.0, app="sb-throughput", phase="put_tensor", status="complete", **params):
    r = {"case": case, "app": app, "phase": phase, "status": status, "count": 10, "missing": 0,
         "p99_s": p99, "p50_s": p99 / 2, "agg_bytes_per_s": gb * 1e9 if gb is not None else None,
         "agg_ops_per_s": 100.0, "images_per_s": None, "bytes_per_sample": 1024 if gb else 0,
         "client_total": 1, "tensor_bytes": 1024}
    r.update(params)
    return r


ROWS = [row("a", 0.001, 2.0, tensor_bytes=1 << 20, client_total=64, mode="tensor"),
        row("b", 0.003, 1.0, tensor_bytes=1 << 20, client_total=128, mode="tensor"),
        row("c", 0.010, 0.1, tensor_bytes=1024, client_total=128, mode="raw"),
        row("d", 9.000, 0.1, tensor_bytes=1 << 20, client_total=256, status="partial"),
        row("e", 0.002, None, app="sb-agg-consumer", phase="get_list", client_threads=4)]


def judge(text):
    return C.evaluate(C.parse(text)[0], ROWS)


class Ordering(unittest.TestCase):
    def test_sizes_sort_by_value(self):
        self.assertEqual(sorted(["tb1M", "tb64K", "tb1K"], key=U.natural_key),
                         ["tb1K", "tb64K", "tb1M"])
        cases = ["throughput_cn1_cpn4_it200_tb1M_x", "throughput_cn1_cpn4_it200_tb64K_x",
                 "throughput_cn1_cpn16_it200_tb1K_x", "throughput_cn1_cpn4_it200_tb1K_x"]
        self.assertEqual(sorted(cases, key=U.natural_key),
                         [cases[3], cases[1], cases[0], cases[2]])
        self.assertEqual(sorted(["1M", 65536, "1K", "tiny", "resnet50", None], key=U.value_key),
                         ["1K", 65536, "1M", "resnet50", "tiny", None])

    def test_unmatched_lists_values_in_order(self):
        rows = [row(c, 0.001, tensor_bytes=b) for c, b in (("x", 1 << 20), ("y", 1024),
                                                             ("z", 65536))]
        r = C.evaluate(C.parse("throughput.put_tensor.p99 < 1s where tensor_bytes=4M")[0], rows)
        self.assertIn("tensor_bytes: 1K, 64K, 1M", r.message)


class Units(unittest.TestCase):
    def test_sizes_are_binary(self):
        self.assertEqual(U.parse_size("1K"), 1024)
        self.assertEqual(U.parse_size("64K"), 65536)
        self.assertEqual(U.parse_size("1M"), 1 << 20)
        self.assertEqual(U.parse_size("1003"), 1003)
        self.assertIsNone(U.parse_size("1.5M"))
        self.assertEqual(U.fmt_size(65536), "64K")
        self.assertEqual(U.fmt_size(1003), "1003")

    def test_values(self):
        self.assertEqual(U.parse_value("2"), 2)
        self.assertEqual(U.parse_value("0.5"), 0.5)
        self.assertEqual(U.parse_value("tensor"), "tensor")


class Parsing(unittest.TestCase):
    def test_issue_example(self):
        c = C.parse("throughput.put_tensor.p99 < 2ms where tensor_bytes=1M, client_total>=64")[0]
        self.assertIsNone(c.error)
        self.assertEqual((c.app, c.phase, c.stat, c.op), ("throughput", "put_tensor", "p99", "<"))
        self.assertAlmostEqual(c.value, 0.002)
        self.assertEqual(c.where, [("tensor_bytes", "=", "1M"), ("client_total", ">=", "64")])

    def test_units(self):
        self.assertAlmostEqual(C.parse("x.y.p50 < 250us")[0].value, 250e-6)
        self.assertAlmostEqual(C.parse("x.y.p50 < 1.5 s")[0].value, 1.5)
        self.assertAlmostEqual(C.parse("x.y.gbps >= 3")[0].value, 3e9)
        self.assertAlmostEqual(C.parse("x.y.bytes_per_s >= 2MiB/s")[0].value, 2 * 1024 ** 2)
        self.assertAlmostEqual(C.parse("x.y.ops > 2kops/s")[0].value, 2000)
        self.assertEqual(C.parse("x.y.count >= 100")[0].value, 100)

    def test_comments_and_blank_lines(self):
        cs = C.parse("# a comment\n\n  x.y.p50 < 1ms  # trailing\n")
        self.assertEqual(len(cs), 1)
        self.assertEqual(cs[0].lineno, 3)
        self.assertEqual(cs[0].text, "x.y.p50 < 1ms")

    def test_malformed(self):
        for text, why in (("x.y.p50 < 1", "needs a unit"), ("x.y.p50 < 1GB/s", "does not fit"),
                          ("x.y.p42 < 1ms", "unknown statistic"), ("x.p50 < 1ms", "APP.PHASE.STAT"),
                          ("x.y.p50 = 1ms", "expected"), ("x.y.count < 1ms", "does not fit"),
                          ("x.y.p50 < 1ms where", "empty condition"),
                          ("x.y.p50 < 1ms where tensor_bytes", "expected PARAM OP VALUE"),
                          ("x.y.p50 < 1ms where a=1,,b=2", "empty condition")):
            c = C.parse(text)[0]
            self.assertIsNotNone(c.error, text)
            self.assertIn(why, c.error, text)
            self.assertEqual(C.evaluate(c, ROWS).verdict, "ERROR")


class Judging(unittest.TestCase):
    def test_worst_case_for_upper_bounds(self):
        r = judge("throughput.put_tensor.p99 < 5ms where tensor_bytes=1M")
        self.assertEqual((r.verdict, r.case), ("PASS", "b"))  # d is partial: left out
        self.assertAlmostEqual(r.measured, 0.003)
        r = judge("throughput.put_tensor.p99 < 2ms where tensor_bytes=1M")
        self.assertEqual((r.verdict, r.case), ("FAIL", "b"))
        self.assertIn("measured 3.000 ms in b, worst of 2 cases", r.message)

    def test_worst_case_for_lower_bounds(self):
        r = judge("throughput.put_tensor.gbps >= 1.5GB/s where tensor_bytes=1M")
        self.assertEqual((r.verdict, r.case), ("FAIL", "b"))
        r = judge("throughput.put_tensor.gbps > 0.05")
        self.assertEqual((r.verdict, r.case), ("PASS", "c"))

    def test_where_operators(self):
        self.assertEqual(judge("throughput.put_tensor.p99 < 1s where client_total>=128").n, 2)
        self.assertEqual(judge("throughput.put_tensor.p99 < 1s where client_total<128").n, 1)
        self.assertEqual(judge("throughput.put_tensor.p99 < 1s where mode!=raw").n, 2)
        self.assertEqual(judge("throughput.put_tensor.p99 < 1s where mode=raw").case, "c")
        self.assertEqual(judge("throughput.put_tensor.p99 < 1s where case=[ab]").n, 2)
        self.assertEqual(judge("throughput.put_tensor.p99 < 1s where tensor-bytes=1K").case, "c")

    def test_status(self):
        r = judge("throughput.put_tensor.p99 < 1s where status=partial")
        self.assertEqual((r.verdict, r.case), ("FAIL", "d"))
        r = judge("throughput.put_tensor.p99 < 10s where status=*")
        self.assertEqual(r.n, 4)

    def test_unmatched_is_an_error(self):
        for text, why in (("throughput.put_tensor.p99 < 1s where tensor_bytes=4M", "1K, 1M"),
                          ("thruput.put_tensor.p99 < 1s", "unknown app 'thruput'"),
                          ("throughput.get_list.p99 < 1s", "no phase"),
                          ("throughput.put_tensor.p99 < 1s where nope=1", "no case has a parameter")):
            r = judge(text)
            self.assertEqual(r.verdict, "ERROR", text)
            self.assertIn(why, r.message, text)

    def test_app_not_run(self):
        # An app with no row here: NOT RUN, neither PASS nor FAIL, and not an
        # exit failure beside judged lines.
        for text in ("inference.run_model.p99 < 1s", "sb-inference.loop_time.images_per_s > 1",
                     "baseline.loop_time.gbps > 1", "agg-producer.put_dataset.p50 < 1s"):
            rows = [r for r in ROWS if r["app"] != "sb-agg-consumer"] \
                if "agg" in text else ROWS
            r = C.evaluate(C.parse(text)[0], rows)
            self.assertEqual(r.verdict, "NOT RUN", text)
            self.assertIn("not run", r.message, text)
        res = C.evaluate_all(C.parse("throughput.put_tensor.p99 < 1s\n"
                                     "inference.run_model.p99 < 1s\n"), ROWS)
        self.assertEqual([r.verdict for r in res], ["PASS", "NOT RUN"])
        self.assertFalse(C.exit_failed(res))
        self.assertTrue(C.exit_failed(res[1:]))   # nothing judged at all
        self.assertEqual(C.counts(res)["NOT RUN"], 1)
        root = ET.fromstring(C.junit_xml(res))
        self.assertEqual(root.get("skipped"), "1")
        self.assertEqual(len(root.findall(".//testcase/skipped")), 1)
        # Still an ERROR when the app was run but none of its files is left
        # (every case failed, or its files were refused).
        att = C.attempted_apps(["inference/inference_cn1_cpn2_it4_modelresnet50_bs1"])
        self.assertEqual(att, {"sb-inference"})
        r = C.evaluate(C.parse("inference.run_model.p99 < 1s")[0], ROWS, att)
        self.assertEqual(r.verdict, "ERROR")
        self.assertIn("was run here", r.message)
        # A where clause that matches no case of an app that is here: ERROR.
        self.assertEqual(judge("throughput.put_tensor.p99 < 1s where tensor_bytes=4M").verdict,
                         "ERROR")

    def test_app_aliases(self):
        self.assertEqual(judge("aggregation.get_list.p99 < 1s where client_threads=4").verdict, "PASS")
        self.assertEqual(judge("sb-agg-consumer.get_list.p99 < 1s").verdict, "PASS")
        self.assertEqual(judge("*.*.p99 < 1s").n, 4)

    def test_rate_of_a_phase_without_bytes(self):
        r = judge("aggregation.get_list.gbps > 1")
        self.assertEqual(r.verdict, "ERROR")
        self.assertIn("moves no bytes", r.message)

    def test_junit(self):
        res = C.evaluate_all(C.parse("throughput.put_tensor.p99 < 1s\nthroughput.put_tensor.p99 "
                                     "< 1us\nx.y.p1 < 1 & <\n"), ROWS)
        root = ET.fromstring(C.junit_xml(res, source="c.txt"))
        self.assertEqual(root.get("tests"), "3")
        self.assertEqual(root.get("failures"), "1")
        self.assertEqual(root.get("errors"), "1")
        self.assertEqual(len(root.findall(".//testcase/failure")), 1)
        self.assertEqual(len(root.findall(".//testcase/error")), 1)


if __name__ == "__main__":
    unittest.main()
