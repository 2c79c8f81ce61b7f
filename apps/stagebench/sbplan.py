"""The sweep plan: parameters, their combinations, case names, node splits.

Pure functions (no processes, no files), so that they can be unit-tested
(tests/frontend/test_plan.py). The driver (stagebench_sweep.py) executes a
plan made here.

Parameters keep the names of SmartSim's scaling-test driver (client_nodes,
clients_per_node, db_nodes, ...), which acceptance scripts already use; on
the command line they are also accepted with dashes.
"""

import itertools
import re

# name: (short name in case names, default, apps it applies to, app flag or
# None when the driver itself uses it, kind)
PARAMS = {
    "client_nodes": ("cn", "1", "all", None, "int"),
    "clients_per_node": ("cpn", "2", "all", None, "int"),
    "db_nodes": ("dbn", "1", "throughput,inference,aggregation", None, "int"),
    "db_cpus": ("dbc", "1", "throughput,inference,aggregation", None, "int"),
    "db_tpq": ("tpq", "1", "throughput,inference,aggregation", None, "int"),
    "net_ifname": ("if", "", "throughput,inference,aggregation", None, "str"),
    "colocated": ("col", "0", "throughput,inference", None, "bool"),
    "pin_app_cpus": ("pin", "0", "throughput,inference,aggregation", None, "bool"),
    "iterations": ("it", "20", "all", "--iterations", "int"),
    "tensor_bytes": ("tb", "1M", "throughput,aggregation,baseline", "--tensor-bytes", "size"),
    "mode": ("mode", "tensor", "throughput", "--mode", "str"),
    "device": ("dev", "cpu", "throughput,inference,baseline", "--device", "str"),
    "num_devices": ("nd", "1", "inference", "--num-devices", "int"),
    "model": ("model", "resnet50", "inference", "--model", "str"),
    "batch_size": ("bs", "1", "inference", "--batch-size", "int"),
    "tensors_per_dataset": ("tpd", "2", "aggregation", "--tensors-per-dataset", "int"),
    "client_threads": ("ct", "1", "aggregation", "--client-threads", "int"),
    "pattern": ("pat", "pingpong", "baseline", "--pattern", "str"),
}

APPS = ("throughput", "inference", "aggregation", "baseline")

# Apps that use no database: the sweep starts none for them, and their
# cases need only client nodes.
NO_DB_APPS = ("baseline",)

# The parameters that describe a database: cases that agree on all of them
# share one database, started once.
DB_PARAMS = ("db_nodes", "db_cpus", "db_tpq", "colocated", "net_ifname")


class PlanError(Exception):
    """A plan that cannot run; the message says why."""


def canonical(name):
    """'client-nodes' or 'client_nodes' -> 'client_nodes'."""
    return name.replace("-", "_")


def applies(name, app):
    apps = PARAMS[name][2]
    return apps == "all" or app in apps.split(",")


_SIZE = re.compile(r"^[0-9]+[KMG]?$")


def check_value(name, value):
    kind = PARAMS[name][4]
    if kind == "int" and not re.fullmatch(r"[0-9]+", value):
        raise PlanError(f"--{name.replace('_', '-')}: '{value}' is not a non-negative integer")
    if kind == "bool" and value not in ("0", "1"):
        raise PlanError(f"--{name.replace('_', '-')}: '{value}' is not 0 or 1")
    if kind == "size" and not _SIZE.match(value):
        raise PlanError(f"--{name.replace('_', '-')}: '{value}' is not a size like 1K, 64K, 1M")
    if kind == "int" and name in ("client_nodes", "clients_per_node", "db_nodes", "db_cpus",
                                  "db_tpq", "iterations", "batch_size", "num_devices",
                                  "tensors_per_dataset", "client_threads") and int(value) < 1:
        raise PlanError(f"--{name.replace('_', '-')}: must be at least 1")
    return value


def parse_values(text, name):
    """'1,2,4' -> ['1', '2', '4'], each checked."""
    values = [v.strip() for v in text.split(",") if v.strip() != ""]
    if not values:
        raise PlanError(f"--{name.replace('_', '-')}: no values")
    if len(set(values)) != len(values):
        raise PlanError(f"--{name.replace('_', '-')}: a value is given twice")
    return [check_value(name, v) for v in values]


def permutations(app, given):
    """Every combination of the given value lists for app, the other
    parameters at their defaults. given: {name: [values]}. Returns a list of
    dicts {name: value} over the parameters that apply to app, in a stable
    order (the order of PARAMS, the last parameter varying fastest)."""
    if app not in APPS:
        raise PlanError(f"unknown app '{app}' (known: {', '.join(APPS)})")
    for name in given:
        if name not in PARAMS:
            raise PlanError(f"unknown parameter --{name.replace('_', '-')}")
        if not applies(name, app):
            raise PlanError(f"--{name.replace('_', '-')} does not apply to {app}")
    names = [n for n in PARAMS if applies(n, app)]
    lists = [given.get(n, [PARAMS[n][1]]) for n in names]
    return [dict(zip(names, combo)) for combo in itertools.product(*lists)]


def case_name(app, case):
    """A directory name from every parameter of the case, stable across
    submissions (resume depends on it): 'throughput_cn1_cpn2_dbn1_..'."""
    parts = [app]
    for name, value in case.items():
        if PARAMS[name][4] == "str" and value == "":
            value = "none"
        value = re.sub(r"[^A-Za-z0-9.]", "-", value)
        parts.append(f"{PARAMS[name][0]}{value}")
    return "_".join(parts)


def db_key(case):
    """The database configuration of a case, as a tuple."""
    return tuple((n, case.get(n, PARAMS[n][1])) for n in DB_PARAMS)


def db_name(key):
    d = dict(key)
    name = f"db_n{d['db_nodes']}_c{d['db_cpus']}_t{d['db_tpq']}"
    if d["colocated"] == "1":
        name += "_colocated"
    if d["net_ifname"]:
        name += "_" + re.sub(r"[^A-Za-z0-9.]", "-", d["net_ifname"])
    return name


def nodes_needed(case):
    cn, dbn = int(case["client_nodes"]), int(case.get("db_nodes", "0"))
    if case.get("colocated", "0") == "1":
        return cn
    return cn + dbn


def split_nodes(nodes, case, local, share=False):
    """(database hosts, client hosts) of a case. Standard: the first
    db_nodes nodes hold the database, the next client_nodes run the app.
    Colocated: one database on every client node. Local (no allocation):
    everything runs here, databases of several nodes as several processes;
    only one client node is possible. A case without db_nodes (an app that
    uses no database) gets no database hosts."""
    cn, dbn = int(case["client_nodes"]), int(case.get("db_nodes", "0"))
    colocated = case.get("colocated", "0") == "1"
    if local:
        if cn != 1:
            raise PlanError(f"client_nodes={cn}: outside an allocation only one client node "
                            "(this machine) exists")
        if colocated and dbn != 1:
            raise PlanError("colocated: one database per client node, so db_nodes must be 1")
        return ["localhost"] * (1 if colocated else dbn), ["localhost"]
    if colocated:
        if dbn != 1:
            raise PlanError("colocated: one database per client node, so db_nodes must be 1")
        if cn > len(nodes):
            raise PlanError(f"needs {cn} nodes, the allocation has {len(nodes)}")
        return nodes[:cn], nodes[:cn]
    if cn + dbn > len(nodes) and share:
        # A small allocation: the database keeps the first nodes, the
        # clients take the last ones, overlapping where they must.
        if max(cn, dbn) > len(nodes):
            raise PlanError(f"needs {max(cn, dbn)} nodes even when sharing, the allocation has "
                            f"{len(nodes)}")
        return nodes[:dbn], nodes[len(nodes) - cn:]
    if cn + dbn > len(nodes):
        raise PlanError(f"needs {cn + dbn} nodes ({dbn} database + {cn} client), the allocation "
                        f"has {len(nodes)}")
    return nodes[:dbn], nodes[dbn:dbn + cn]


def check_plan(app, cases, nodes, local, share=False):
    """Refuses, before anything starts, a plan with a case that cannot run
    on these nodes. Returns the (db hosts, client hosts) of every case."""
    out = []
    for case in cases:
        try:
            out.append(split_nodes(nodes, case, local, share))
        except PlanError as e:
            raise PlanError(f"case {case_name(app, case)}: {e}") from None
    return out


def app_args(app, case):
    """The app's own options for a case."""
    args = []
    for name, value in case.items():
        flag = PARAMS[name][3]
        if flag:
            args += [flag, value]
    if app == "inference" and case.get("colocated") == "1":
        args.append("--colocated")
    return args


def groups(cases):
    """Cases grouped by database configuration, in first-seen order:
    [(db key, [indices])]."""
    order, by = [], {}
    for i, case in enumerate(cases):
        k = db_key(case)
        if k not in by:
            by[k] = []
            order.append(k)
        by[k].append(i)
    return [(k, by[k]) for k in order]
