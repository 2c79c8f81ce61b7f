"""Unit tests of the sweep plan (apps/stagebench/sbplan.py): permutations,
case naming, database grouping, node splitting and refusal of plans that do
not fit."""
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.environ.get("SB_SOURCE_DIR", "../.."), "apps", "stagebench"))
import sbapps  # noqa: E402
import sbplan  # noqa: E402

# The apps as the built binaries describe themselves (--describe).
sbplan.use_apps(sbapps.discover(os.environ.get("SB_BIN_DIR", "../bin")))


class Permutations(unittest.TestCase):
    def test_every_combination_once(self):
        cases = sbplan.permutations("throughput", {"tensor_bytes": ["1K", "1M"],
                                                   "clients_per_node": ["1", "2", "4"]})
        self.assertEqual(len(cases), 6)
        pairs = {(c["clients_per_node"], c["tensor_bytes"]) for c in cases}
        self.assertEqual(len(pairs), 6)
        # Parameters not given keep their defaults.
        self.assertTrue(all(c["db_nodes"] == "1" for c in cases))

    def test_only_parameters_of_the_app(self):
        cases = sbplan.permutations("aggregation", {})
        self.assertIn("client_threads", cases[0])
        self.assertNotIn("batch_size", cases[0])
        with self.assertRaises(sbplan.PlanError):
            sbplan.permutations("throughput", {"batch_size": ["8"]})
        with self.assertRaises(sbplan.PlanError):
            sbplan.permutations("throughput", {"frobnicate": ["1"]})
        with self.assertRaises(sbplan.PlanError):
            sbplan.permutations("nosuchapp", {})

    def test_values_are_checked(self):
        self.assertEqual(sbplan.parse_values("1,2, 4", "client_nodes"), ["1", "2", "4"])
        for name, text in [("client_nodes", "0"), ("client_nodes", "two"), ("colocated", "yes"),
                           ("tensor_bytes", "1Q"), ("db_nodes", "1,1"), ("iterations", "")]:
            with self.assertRaises(sbplan.PlanError, msg=f"{name}={text}"):
                sbplan.parse_values(text, name)


class Naming(unittest.TestCase):
    def test_names_are_stable_and_distinct(self):
        cases = sbplan.permutations("inference", {"batch_size": ["1", "8"], "colocated": ["0", "1"]})
        names = [sbplan.case_name("inference", c) for c in cases]
        self.assertEqual(len(set(names)), 4)
        self.assertEqual(names, [sbplan.case_name("inference", c) for c in
                                 sbplan.permutations("inference", {"batch_size": ["1", "8"],
                                                                   "colocated": ["0", "1"]})])
        self.assertTrue(names[0].startswith("inference_cn1_cpn2_dbn1"))
        self.assertIn("bs8", names[1])  # the last parameter varies fastest
        for n in names:
            self.assertRegex(n, r"^[A-Za-z0-9._-]+$")

    def test_empty_and_odd_values_are_safe(self):
        c = sbplan.permutations("throughput", {"net_ifname": ["", "ib0/1"]})
        self.assertIn("ifnone", sbplan.case_name("throughput", c[0]))
        self.assertIn("ifib0-1", sbplan.case_name("throughput", c[1]))


class Groups(unittest.TestCase):
    def test_one_database_per_configuration(self):
        cases = sbplan.permutations("throughput", {"db_nodes": ["1", "3"], "tensor_bytes": ["1K", "1M"],
                                                   "clients_per_node": ["1", "2"]})
        groups = sbplan.groups(cases)
        self.assertEqual(len(groups), 2)
        self.assertEqual(sorted(len(idx) for _, idx in groups), [4, 4])
        self.assertEqual(sbplan.db_name(groups[1][0]), "db_n3_c1_t1")

    def test_app_args(self):
        c = sbplan.permutations("inference", {"colocated": ["1"], "batch_size": ["8"]})[0]
        args = sbplan.app_args("inference", c)
        self.assertIn("--colocated", args)
        self.assertEqual(args[args.index("--batch-size") + 1], "8")
        self.assertNotIn("--db-nodes", args)


class Nodes(unittest.TestCase):
    nodes = ["n1", "n2", "n3", "n4"]

    def case(self, **kw):
        c = sbplan.permutations("throughput", {})[0]
        c.update({k: str(v) for k, v in kw.items()})
        return c

    def test_standard_split(self):
        db, cl = sbplan.split_nodes(self.nodes, self.case(db_nodes=1, client_nodes=2), False)
        self.assertEqual((db, cl), (["n1"], ["n2", "n3"]))
        db, cl = sbplan.split_nodes(self.nodes, self.case(db_nodes=3, client_nodes=1), False)
        self.assertEqual((db, cl), (["n1", "n2", "n3"], ["n4"]))

    def test_colocated_split(self):
        db, cl = sbplan.split_nodes(self.nodes, self.case(colocated=1, client_nodes=4), False)
        self.assertEqual(db, cl)
        self.assertEqual(cl, self.nodes)

    def test_refused_before_start(self):
        too_big = [self.case(db_nodes=2, client_nodes=3)]
        with self.assertRaisesRegex(sbplan.PlanError, "needs 5 nodes"):
            sbplan.check_plan("throughput", too_big, self.nodes, False)
        with self.assertRaisesRegex(sbplan.PlanError, "db_nodes must be 1"):
            sbplan.check_plan("throughput", [self.case(colocated=1, db_nodes=2)], self.nodes, False)
        with self.assertRaisesRegex(sbplan.PlanError, "only one client node"):
            sbplan.check_plan("throughput", [self.case(client_nodes=2)], ["localhost"], True)

    def test_sharing_a_small_allocation(self):
        db, cl = sbplan.split_nodes(["n1"], self.case(db_nodes=1, client_nodes=1), False, share=True)
        self.assertEqual((db, cl), (["n1"], ["n1"]))
        db, cl = sbplan.split_nodes(["n1", "n2"], self.case(db_nodes=1, client_nodes=2), False, share=True)
        self.assertEqual((db, cl), (["n1"], ["n1", "n2"]))
        with self.assertRaisesRegex(sbplan.PlanError, "even when sharing"):
            sbplan.split_nodes(["n1"], self.case(client_nodes=2), False, share=True)

    def test_local_cluster_is_emulated(self):
        db, cl = sbplan.split_nodes(["localhost"], self.case(db_nodes=3), True)
        self.assertEqual(len(db), 3)
        self.assertEqual(cl, ["localhost"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
