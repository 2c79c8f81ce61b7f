"""Finding and reading the timings files under a results directory.

Every *.h5 file under the directory is a candidate; one of schema
"stagebench-timings" version 1 (docs/hdf5-schema.md) is read, any other
(another schema or version, unreadable, truncated) is refused with the
reason, and the report goes on with the rest.

A file's case is its directory when it is named as the sweep names them
(run.h5; producer.h5 and consumer.h5 for aggregation), else the file's path
without .h5. The case's parameters are, in this order of precedence:

1. /params, names as on the command line with dashes made underscores
   (tensor-bytes -> tensor_bytes); labels as label.KEY, and a label that
   names a sweep parameter (--label db_nodes=3) also as that parameter;
2. the sweep's case directory name (throughput_cn1_cpn2_dbn1_.., see
   sbplan.case_name), which holds the parameters the driver used but the
   app never saw (client_nodes, clients_per_node, db_nodes, db_cpus, ..);
3. derived: client_nodes = distinct hostnames in /ranks/hostname,
   clients_per_node = nranks / client_nodes, db_nodes = 1 for a
   standalone database (/system db_redis_mode); and always client_total =
   the client ranks of the case: nranks, or for sb-agg-consumer its
   list_length (the producer ranks it serves).
"""

import os

import numpy as np

import sbapps
import sbplan
from sbreport_units import TIME_UNITS, parse_size

SCHEMA = "stagebench-timings"
SCHEMA_VERSION = 1
CASE_FILES = ("run.h5", "producer.h5", "consumer.h5")
CASE_MARKERS = ("attempts", "command", "FAILED")
# A file whose status is still "running" is a killed run's: the apps write
# it from the start and checkpoint it every --checkpoint-interval seconds,
# so it holds the samples up to the last checkpoint. The report treats it
# as partial and says why (status_text).
KILLED_NOTE = "killed: status running, last checkpoint"


class Refused(Exception):
    """A file the report does not read; the message says why."""


class RunFile:
    """One timings file, read: identity, parameters, per-rank facts and the
    samples of every phase."""

    def __init__(self):
        self.path = self.relpath = self.case = self.app = self.status = ""
        self.status_file = ""  # the file's own status attribute
        self.killed = False    # status_file "running": a killed run's file
        self.nranks = 0
        self.root = {}      # root attributes
        self.params = {}    # parameters, see the module's docstring
        self.system = {}    # /system attributes
        self.hostnames = []
        self.verify_errors = 0
        self.phases = {}    # name -> {"data" (seconds), "bytes_per_sample", "items_per_sample"}
        self.metrics = {}   # name -> {"data", "units"}
        self.metrics_hosts = []  # /metrics "hosts": the nodes of its columns 1..


def status_text(rf):
    """The status as the report's tables and pages show it."""
    return f"{rf.status} ({KILLED_NOTE})" if rf.killed else rf.status


def value(v):
    """An HDF5 attribute value as plain Python: str, int, float or list."""
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    if isinstance(v, np.ndarray):
        if v.shape == ():
            return value(v[()])
        return [value(x) for x in v.tolist()]
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        return float(v)
    if isinstance(v, np.bool_):
        return bool(v)
    return v


def discover(top, exclude=None):
    """(h5 files, files still being written, case directories) under top,
    sorted; exclude: a directory not to descend into (the report's own)."""
    h5, writing, cases = [], [], []
    exclude = os.path.realpath(exclude) if exclude else None
    for d, dirs, files in os.walk(top):
        dirs[:] = sorted(x for x in dirs if os.path.realpath(os.path.join(d, x)) != exclude)
        for f in sorted(files):
            if f.endswith(".h5"):
                h5.append(os.path.join(d, f))
            elif f.endswith(".h5.writing"):
                writing.append(os.path.join(d, f))
        if any(m in files for m in CASE_MARKERS):
            cases.append(d)
    return h5, writing, cases


def case_of(path, top):
    """The case a file belongs to, as a path relative to top."""
    d, f = os.path.split(os.path.abspath(path))
    top = os.path.abspath(top)
    if f in CASE_FILES:
        rel = os.path.relpath(d, top)
        return os.path.basename(top) if rel == "." else rel
    rel = os.path.relpath(os.path.abspath(path), top)
    return rel[:-3]


def learn_apps():
    """The apps' sweep parameters from the binaries (SB_BIN, set by
    stagebench), so that case folder names are read fully; without them
    only the sweep's own parameters are read from the names."""
    try:
        sbplan.use_apps(sbapps.discover(os.environ.get("SB_BIN", "")))
        return True
    except (sbapps.AppsError, sbplan.PlanError):
        return False


def params_from_case_name(name):
    """The sweep parameters a case directory's name holds ({} if it is not
    one sbplan.case_name made). Values converted like /params: sizes to
    bytes, integers and 0/1 flags to int, 'none' to ''."""
    parts = name.split("_")
    app = parts[0]
    if app in sbplan.APPS:
        names = sbplan.app_params(app)
        if len(parts) - 1 != len(names):
            return {}
        pairs = list(zip(names, parts[1:]))
    else:
        # An app the binaries here do not describe: the sweep's own
        # parameters come first, in their order (the app's own options are
        # in the file's /params).
        pairs, tokens = [], parts[1:]
        for n, (short, _, _, _, _) in sbplan.DRIVER_PARAMS.items():
            if tokens and tokens[0].startswith(short) and \
                    (tokens[0][len(short):][:1].isdigit() or sbplan.DRIVER_PARAMS[n][4] == "str"):
                pairs.append((n, tokens.pop(0)))
        if not pairs:
            return {}
    out = {}
    for n, token in pairs:
        short, _, _, _, kind = sbplan.PARAMS[n]
        if not token.startswith(short):
            return {}
        v = token[len(short):]
        if kind == "size":
            v = parse_size(v)
            if v is None:
                return {}
        elif kind in ("int", "bool"):
            if not v.isdigit():
                return {}
            v = int(v)
        elif kind == "str" and v == "none":
            v = ""
        out[n] = v
    return out


def _params(rf, raw, casedir_name):
    """The case's parameters (see the module's docstring)."""
    p = {k.replace("-", "_"): v for k, v in raw.items()}
    for k in list(p):
        if k.startswith("label."):
            name = k[len("label."):].replace("-", "_")
            if name in sbplan.PARAMS and name not in p:
                text = str(p[k])
                kind = sbplan.PARAMS[name][4]
                if kind == "size" and parse_size(text) is not None:
                    p[name] = parse_size(text)
                elif kind in ("int", "bool") and text.isdigit():
                    p[name] = int(text)
                else:
                    p[name] = text
    if casedir_name is not None:
        for k, v in params_from_case_name(casedir_name).items():
            p.setdefault(k, v)
    hosts = len(set(rf.hostnames)) or 1
    p.setdefault("client_nodes", hosts)
    p.setdefault("clients_per_node", max(1, rf.nranks // hosts))
    if "db_nodes" not in p and rf.system.get("db_redis_mode") == "standalone":
        p["db_nodes"] = 1
    if rf.app == "sb-agg-consumer" and isinstance(p.get("list_length"), int):
        p["client_total"] = p["list_length"]
    else:
        p["client_total"] = rf.nranks
    return p


def load(path, top):
    """Reads one file; raises Refused (naming what is wrong) for anything
    that is not a readable stagebench-timings v1 file."""
    import h5py  # noqa: PLC0415 (checked by the caller)
    rf = RunFile()
    rf.path = path
    rf.relpath = os.path.relpath(path, top)
    rf.case = case_of(path, top)
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        raise Refused(f"not a readable HDF5 file (truncated or damaged?): {e}") from None
    try:
        with f:
            attrs = {k: value(v) for k, v in f.attrs.items()}
            schema = attrs.get("schema")
            if schema is None:
                raise Refused("not a stagebench timings file (no 'schema' attribute)")
            if schema != SCHEMA:
                raise Refused(f"schema '{schema}', not '{SCHEMA}'")
            version = attrs.get("schema_version")
            if version != SCHEMA_VERSION:
                raise Refused(f"schema_version {version}; this report reads version "
                              f"{SCHEMA_VERSION}")
            if "timings" not in f:
                raise Refused("no /timings group")
            rf.root = attrs
            rf.app = str(attrs.get("app", "unknown"))
            rf.status = rf.status_file = str(attrs.get("status", "unknown"))
            if rf.status == "running":
                rf.status, rf.killed = "partial", True
            rf.nranks = int(attrs.get("nranks", 0))
            raw_params = {k: value(v) for k, v in f["params"].attrs.items()} if "params" in f else {}
            if "system" in f:
                rf.system = {k: value(v) for k, v in f["system"].attrs.items()}
            if "ranks" in f:
                r = f["ranks"]
                if "hostname" in r:
                    rf.hostnames = [value(h).rstrip("\0") for h in r["hostname"][...]]
                if "verify_errors" in r:
                    rf.verify_errors = int(np.sum(r["verify_errors"][...]))
            for name, ds in f["timings"].items():
                if not isinstance(ds, h5py.Dataset) or ds.ndim not in (1, 2) or \
                        ds.dtype.kind != "f":
                    raise Refused(f"/timings/{name} is not a [nranks][samples] float dataset")
                units = str(value(ds.attrs.get("units", "s")))
                if units not in TIME_UNITS:
                    raise Refused(f"/timings/{name}: units '{units}', expected s")
                data = np.asarray(ds[...], dtype=np.float64)
                if data.ndim == 1:
                    data = data.reshape(1, data.shape[0])
                rf.phases[name] = {
                    "data": data * TIME_UNITS[units],
                    "bytes_per_sample": int(value(ds.attrs.get("bytes_per_sample", 0))),
                    "items_per_sample": int(value(ds.attrs.get("items_per_sample", 1))),
                }
            if "metrics" in f:
                hosts = value(f["metrics"].attrs.get("hosts", ""))
                rf.metrics_hosts = [h for h in str(hosts).split(",") if h] if hosts else []
                for name, ds in f["metrics"].items():
                    if isinstance(ds, h5py.Dataset) and ds.dtype.kind in "fiu" and ds.ndim in (1, 2):
                        rf.metrics[name] = {"data": np.asarray(ds[...], dtype=np.float64),
                                            "units": str(value(ds.attrs.get("units", "")))}
    except Refused:
        raise
    except (OSError, KeyError, ValueError, TypeError, RuntimeError) as e:
        raise Refused(f"unreadable (truncated or damaged?): {e}") from None
    d, fn = os.path.split(os.path.abspath(path))
    rf.params = _params(rf, raw_params, os.path.basename(d) if fn in CASE_FILES else None)
    return rf
