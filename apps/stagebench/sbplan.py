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

import sbapps

# The sweep's own parameters: name: (short name in case names, default,
# which apps: "all" or "database" (the apps that use one) or "alone-database"
# (those of them that run alone, not as a pair), app flag or None when the
# driver itself uses it, kind). The apps' own parameters come from the
# binaries (use_apps).
DRIVER_PARAMS = {
    "client_nodes": ("cn", "1", "all", None, "int"),
    "clients_per_node": ("cpn", "2", "all", None, "int"),
    "db_nodes": ("dbn", "1", "database", None, "int"),
    "db_cpus": ("dbc", "1", "database", None, "int"),
    "db_tpq": ("tpq", "1", "database", None, "int"),
    "net_ifname": ("if", "", "database", None, "str"),
    "colocated": ("col", "0", "alone-database", None, "bool"),
    "pin_app_cpus": ("pin", "0", "database", None, "bool"),
    "iterations": ("it", "20", "all", "--iterations", "int"),
}
# Driver parameters that must be at least 1.
_POSITIVE = ("client_nodes", "clients_per_node", "db_nodes", "db_cpus", "db_tpq", "iterations")

# Filled by use_apps() from the apps' descriptions:
# PARAMS: name: (short, default (the first app's), "app1,app2", flag, kind)
PARAMS = dict(DRIVER_PARAMS)
APPS = ()
# Apps that use no database: the sweep starts none for them, and their
# cases need only client nodes.
NO_DB_APPS = ()
# Apps that are an MPMD pair: {app: [roles]}; a case writes ROLE.h5 each.
PAIRS = {}
# Per app: its parameters in case-name order, their defaults, int bounds,
# and the app options that take a driver flag (inference's --colocated).
_APP_PARAMS, _DEFAULTS, _BOUNDS, _FLAGS_OF_DRIVER = {}, {}, {}, {}

# The parameters that describe a database: cases that agree on all of them
# share one database, started once.
DB_PARAMS = ("db_nodes", "db_cpus", "db_tpq", "colocated", "net_ifname")

_KINDS = {"int": "int", "size": "size", "str": "str", "choice": "str", "flag": "bool"}


def use_apps(descriptions):
    """Learns the apps from their descriptions (sbapps.discover): fills
    PARAMS, APPS, NO_DB_APPS, PAIRS. A pair (members with a role) is one app
    whose parameters are its members' swept options, the producer's first."""
    global PARAMS, APPS, NO_DB_APPS, PAIRS
    params, apps, no_db, pairs = dict(DRIVER_PARAMS), [], [], {}
    users = {}
    _APP_PARAMS.clear(), _DEFAULTS.clear(), _BOUNDS.clear(), _FLAGS_OF_DRIVER.clear()
    for d in [d for members in sbapps.by_app(descriptions).values() for d in members]:
        app = d["app"]
        if app not in apps:
            apps.append(app)
            _APP_PARAMS[app], _DEFAULTS[app], _BOUNDS[app], _FLAGS_OF_DRIVER[app] = [], {}, {}, []
        if not d.get("database", True) and app not in no_db:
            no_db.append(app)
        if d.get("role"):
            pairs.setdefault(app, []).append(d["role"])
        opts = {o["name"]: o for o in d.get("options", [])}
        for name in DRIVER_PARAMS:
            o = opts.get(name.replace("_", "-"))
            if o and o["kind"] == "flag" and DRIVER_PARAMS[name][4] == "bool":
                _FLAGS_OF_DRIVER[app].append(name)
        for sw in d.get("sweep", []):
            o = opts[sw["option"]]
            name = canonical(sw["option"])
            if name in DRIVER_PARAMS:
                raise PlanError(f"{d['name']}: its option --{sw['option']} is one of the sweep's own")
            kind = _KINDS.get(o["kind"], "str")
            default = "0" if kind == "bool" else (o.get("default") or "")
            if name not in params:
                params[name] = (sw["short"], default, "", "--" + sw["option"], kind)
            elif params[name][0] != sw["short"]:
                raise PlanError(f"{d['name']}: --{sw['option']} is tagged '{sw['short']}', "
                                f"elsewhere '{params[name][0]}'")
            users.setdefault(name, [])
            if app not in users[name]:
                users[name].append(app)
            if name not in _APP_PARAMS[app]:
                _APP_PARAMS[app].append(name)
                _DEFAULTS[app][name] = default
            if o["kind"] == "int":
                _BOUNDS[app][name] = (o.get("min", 0), o.get("max"))
    for name, apps_of in users.items():
        p = params[name]
        params[name] = (p[0], p[1], ",".join(apps_of), p[3], p[4])
    for name, p in DRIVER_PARAMS.items():
        which = {"all": apps, "database": [a for a in apps if a not in no_db],
                 "alone-database": [a for a in apps if a not in no_db and a not in pairs]}[p[2]]
        params[name] = (p[0], p[1], ",".join(which), p[3], p[4])
    PARAMS, APPS, NO_DB_APPS, PAIRS = params, tuple(apps), tuple(no_db), pairs


class PlanError(Exception):
    """A plan that cannot run; the message says why."""


def canonical(name):
    """'client-nodes' or 'client_nodes' -> 'client_nodes'."""
    return name.replace("-", "_")


def applies(name, app):
    return app in PARAMS[name][2].split(",")


def default(name, app=None):
    """A parameter's default, for app where apps differ."""
    return _DEFAULTS.get(app, {}).get(name, PARAMS[name][1])


def app_params(app):
    """The parameters of app in case-name order: the sweep's, then the
    app's own in the order it gives them."""
    return [n for n in DRIVER_PARAMS if applies(n, app)] + _APP_PARAMS.get(app, [])


_SIZE = re.compile(r"^[0-9]+[KMG]?$")


def check_value(name, value, app=None):
    kind = PARAMS[name][4]
    if kind == "int" and not re.fullmatch(r"[0-9]+", value):
        raise PlanError(f"--{name.replace('_', '-')}: '{value}' is not a non-negative integer")
    if kind == "bool" and value not in ("0", "1"):
        raise PlanError(f"--{name.replace('_', '-')}: '{value}' is not 0 or 1")
    if kind == "size" and not _SIZE.match(value):
        raise PlanError(f"--{name.replace('_', '-')}: '{value}' is not a size like 1K, 64K, 1M")
    if kind == "int" and name in _POSITIVE and int(value) < 1:
        raise PlanError(f"--{name.replace('_', '-')}: must be at least 1")
    if kind == "int":
        for a in ([app] if app else list(_BOUNDS)):
            lo, hi = _BOUNDS.get(a, {}).get(name, (None, None))
            if lo is not None and int(value) < lo:
                raise PlanError(f"--{name.replace('_', '-')}: must be at least {lo}")
            if hi is not None and int(value) > hi:
                raise PlanError(f"--{name.replace('_', '-')}: must be at most {hi}")
    return value


def parse_values(text, name, app=None):
    """'1,2,4' -> ['1', '2', '4'], each checked (against app's bounds)."""
    values = [v.strip() for v in text.split(",") if v.strip() != ""]
    if not values:
        raise PlanError(f"--{name.replace('_', '-')}: no values")
    if len(set(values)) != len(values):
        raise PlanError(f"--{name.replace('_', '-')}: a value is given twice")
    return [check_value(name, v, app) for v in values]


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
    names = app_params(app)
    lists = [given.get(n, [default(n, app)]) for n in names]
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
        if flag and PARAMS[name][4] == "bool":
            args += [flag] if value == "1" else []
        elif flag:
            args += [flag, value]
    # A sweep parameter the app also takes as a flag (inference's
    # --colocated: the model and script go to the colocated database).
    for name in _FLAGS_OF_DRIVER.get(app, []):
        if case.get(name) == "1":
            args.append("--" + name.replace("_", "-"))
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
