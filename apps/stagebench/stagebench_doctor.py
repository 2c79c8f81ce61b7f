#!/usr/bin/env python3
"""stagebench doctor: the node settings that decide staging results.

    stagebench doctor [--json] [--clients N] [--db ADDRESS]

Reads only and changes nothing. Every check says OK, WARN or INFO, and what
to do about it in one line. The exit code is 0 whatever the checks say (1 only
when the doctor itself fails, 2 for a bad option). See docs/frontend.md.

  --json         one JSON object: {"checks": [{name, status, value, expected,
                 fix}], "host", "time", "clients"}
  --clients N    the planned number of client connections (MPI ranks talking
                 to the database): checked against the open-file limit and the
                 database's maxclients
  --db ADDRESS   the database to ask for maxclients/io-threads (default: SSDB,
                 else the address `stagebench db start` recorded); asked by
                 the sb-dbinfo binary (the suite's client, the apps'
                 SB_DB_* credentials), skipped when it is not built

`stagebench run` calls it with --save PATH --run-args APP [run options]: the
JSON goes to PATH (replaced atomically), PATH is printed, and the client
count, --db and --log-level are taken from the run's own options.
"""

import datetime
import glob
import json
import os
import re
import resource
import shutil
import socket
import subprocess
import sys

USAGE = __doc__.split("\n\n")[1]

OK, WARN, INFO = "OK", "WARN", "INFO"
BACKLOG_MIN = 4096
DB_FD_RESERVE = 32            # Redis keeps 32 descriptors beyond maxclients
DB_DEFAULT_MAXCLIENTS = 10000  # what `stagebench db start` asks for
LOG_LEVELS = ("error", "warn", "info", "debug", "trace")
DB_TIMEOUT_S = 2.0


class Usage(Exception):
    pass


def read(path):
    """A sysfs/procfs file's content, stripped, or None."""
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return None


def check(name, status, value, expected="", fix=""):
    return {"name": name, "status": status, "value": str(value), "expected": expected, "fix": fix}


def persist_hint(key, value):
    return (f"sysctl -w {key}={value} (as root; persist it in /etc/sysctl.d/90-stagebench.conf)")


# ---- kernel network settings ------------------------------------------------------

def sysctl_min(key, clients):
    # Beyond 65535 the accept queue is not the limit any more.
    need = min(max(BACKLOG_MIN, clients or 0), 65535)
    raw = read("/proc/sys/" + key.replace(".", "/"))
    expected = f">= {need}"
    if raw is None or not raw.lstrip("-").isdigit():
        return check(key, INFO, "unreadable", expected,
                     f"cannot read /proc/sys/{key.replace('.', '/')}; check it with sysctl {key}")
    if int(raw) >= need:
        return check(key, OK, raw, expected)
    why = ("connection storms from many ranks overflow the accept queue"
           if key.endswith("somaxconn") else "many ranks connecting at once lose SYNs")
    return check(key, WARN, raw, expected, f"{persist_hint(key, need)}: {why}")


def mtu_checks():
    out = []
    for dev in sorted(os.listdir("/sys/class/net")) if os.path.isdir("/sys/class/net") else []:
        if dev == "lo":
            continue
        mtu = read(f"/sys/class/net/{dev}/mtu")
        if mtu is None or not mtu.isdigit():
            continue
        state = read(f"/sys/class/net/{dev}/operstate") or "unknown"
        value = f"{mtu} ({state})"
        if int(mtu) >= 9000:
            out.append(check(f"mtu.{dev}", OK, value, ">= 9000 (jumbo frames)"))
        else:
            out.append(check(f"mtu.{dev}", INFO, value, ">= 9000 where the fabric allows",
                             f"ip link set dev {dev} mtu 9000, only if every switch and peer on "
                             f"that network takes jumbo frames (InfiniBand/IPoIB: 2044/4092 is normal)"))
    if not out:
        out.append(check("mtu", INFO, "no network interface besides lo", ">= 9000 where the fabric allows"))
    return out


# ---- memory -----------------------------------------------------------------------

def thp_check():
    raw = read("/sys/kernel/mm/transparent_hugepage/enabled")
    name, expected = "transparent_hugepage", "madvise"
    if raw is None:
        return check(name, INFO, "not available", expected, "")
    m = re.search(r"\[(\w+)\]", raw)
    mode = m.group(1) if m else raw
    fix = "echo madvise > /sys/kernel/mm/transparent_hugepage/enabled (as root; persist with " \
          "transparent_hugepage=madvise on the kernel command line)"
    if mode == "madvise":
        return check(name, OK, mode, expected)
    if mode == "always":
        return check(name, WARN, mode, expected,
                     fix + ": with 'always' Redis sees latency spikes and copy-on-write bloat when it forks")
    return check(name, INFO, mode, expected, fix + ": lets code that asks for huge pages get them")


def overcommit_check():
    raw = read("/proc/sys/vm/overcommit_memory")
    name = "vm.overcommit_memory"
    if raw is None:
        return check(name, INFO, "unreadable", "1")
    if raw == "1":
        return check(name, OK, raw, "1")
    return check(name, WARN, raw, "1",
                 persist_hint(name, 1) + ": Redis forks to save and to sync replicas, "
                 "and the fork fails under strict accounting")


# ---- IOMMU --------------------------------------------------------------------------

def iommu_check():
    name, expected = "iommu", "pass-through (iommu=pt) where RDMA NICs are used"
    cmdline = (read("/proc/cmdline") or "").split(" -- ")[0].split()
    opts = {}
    for tok in cmdline:
        k, _, v = tok.partition("=")
        if k in ("iommu", "intel_iommu", "amd_iommu", "iommu.passthrough"):
            opts[k] = v
    given = " ".join(f"{k}={v}" for k, v in opts.items()) or "no iommu option on the kernel command line"
    rdma = sorted(os.listdir("/sys/class/infiniband")) if os.path.isdir("/sys/class/infiniband") else []
    fix = ("add iommu=pt to the kernel command line (GRUB_CMDLINE_LINUX in /etc/default/grub, "
           "update-grub, reboot): translated DMA costs RDMA bandwidth and latency")
    if opts.get("iommu") == "pt" or opts.get("iommu.passthrough") in ("1", "on", "y"):
        return check(name, OK, f"pass-through ({given})", expected)
    if "off" in (opts.get("iommu"), opts.get("intel_iommu"), opts.get("amd_iommu")):
        return check(name, OK, f"off ({given})", expected)
    groups = glob.glob("/sys/kernel/iommu_groups/*")
    types = set(filter(None, (read(g + "/type") for g in groups)))
    if not groups:
        return check(name, OK, f"no IOMMU groups (IOMMU off or absent); {given}", expected)
    if not types:
        return check(name, INFO, f"{len(groups)} IOMMU groups, domain type unknown; {given}", expected,
                     fix if rdma else "")
    if types <= {"identity"}:
        return check(name, OK, f"identity domains (pass-through); {given}", expected)
    value = f"translating ({', '.join(sorted(types))}); {given}"
    if rdma:
        return check(name, WARN, f"{value}; RDMA devices: {', '.join(rdma)}", expected, fix)
    return check(name, INFO, f"{value}; no RDMA device", expected,
                 "if RDMA NICs are added: " + fix.split(":")[0])


# ---- limits and CPUs ------------------------------------------------------------------

def nofile_check(clients):
    name = "nofile_limit"
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    fmt = lambda v: "unlimited" if v == resource.RLIM_INFINITY else str(v)  # noqa: E731
    value = f"soft {fmt(soft)}, hard {fmt(hard)}"
    enough = lambda lim, n: lim == resource.RLIM_INFINITY or lim >= n  # noqa: E731
    if clients:
        need = clients + DB_FD_RESERVE
        expected = f">= {need} ({clients} clients + {DB_FD_RESERVE})"
        if enough(soft, need):
            return check(name, OK, value, expected)
        if enough(hard, need):
            return check(name, WARN, value, expected,
                         f"ulimit -n {need} in the shell or job script that starts the database "
                         f"(the hard limit allows it); Redis otherwise lowers maxclients to soft - 32")
        return check(name, WARN, value, expected,
                     f"raise the hard limit to {need} or more (nofile in /etc/security/limits.conf, "
                     f"LimitNOFILE= for a service, or ask the admins), then ulimit -n {need}")
    need = DB_DEFAULT_MAXCLIENTS + DB_FD_RESERVE
    expected = f">= clients + {DB_FD_RESERVE} (stagebench db start's maxclients {DB_DEFAULT_MAXCLIENTS} needs {need})"
    if enough(soft, need):
        return check(name, OK, value, expected)
    room = max(0, soft - DB_FD_RESERVE) if soft != resource.RLIM_INFINITY else DB_DEFAULT_MAXCLIENTS
    return check(name, INFO, value, expected,
                 f"enough for {room} clients; pass --clients N to check a planned count, "
                 f"ulimit -n {need} for the full maxclients")


def governor_check():
    name, expected = "cpu_governor", "performance"
    govs = {}
    for path in glob.glob("/sys/devices/system/cpu/cpu[0-9]*/cpufreq/scaling_governor"):
        g = read(path)
        if g:
            govs[g] = govs.get(g, 0) + 1
    if not govs:
        return check(name, INFO, "no cpufreq in sysfs", expected,
                     "frequency is managed by the hypervisor or firmware: check the BIOS power profile")
    value = ", ".join(f"{g} ({n} CPUs)" for g, n in sorted(govs.items()))
    if set(govs) == {"performance"}:
        return check(name, OK, value, expected)
    return check(name, WARN, value, expected,
                 "cpupower frequency-set -g performance (as root): other governors add latency "
                 "jitter to every request")


def numa_nodes():
    """{node number: cpulist} from sysfs, or None."""
    base = "/sys/devices/system/node"
    if not os.path.isdir(base):
        return None
    nodes = {}
    for d in glob.glob(os.path.join(base, "node[0-9]*")):
        nodes[int(os.path.basename(d)[4:])] = read(os.path.join(d, "cpulist")) or "?"
    return nodes


def numa_check(nodes):
    name = "numa_nodes"
    if nodes is None:
        return check(name, INFO, "no NUMA information in sysfs", "")
    value = f"{len(nodes)}: " + "; ".join(f"node{n} cpus {c}" for n, c in sorted(nodes.items()))
    if len(nodes) <= 1:
        return check(name, OK, value, "")
    return check(name, INFO, value, "database and ranks placed per NUMA node",
                 "keep the database on the NIC's node and ranks on their GPU's node "
                 "(numactl --cpunodebind, stagebench run --pin-away-from-db C)")


# ---- GPUs ---------------------------------------------------------------------------------

def pci_numa(bus_id):
    """NUMA node of a PCI device: bus id as nvidia-smi (00000000:3B:00.0) or sysfs writes it."""
    m = re.match(r"^(?:([0-9a-fA-F]+):)?([0-9a-fA-F]{2}):([0-9a-fA-F]{2})\.([0-7])$", bus_id.strip())
    if not m:
        return None
    dom = int(m.group(1) or "0", 16)
    path = f"/sys/bus/pci/devices/{dom:04x}:{m.group(2).lower()}:{m.group(3).lower()}.{m.group(4)}/numa_node"
    v = read(path)
    return int(v) if v is not None and v.lstrip("-").isdigit() else None


def gpus_from_nvidia_smi():
    exe = shutil.which("nvidia-smi")
    if not exe:
        return None
    try:
        r = subprocess.run([exe, "--query-gpu=index,name,pci.bus_id", "--format=csv,noheader"],
                           capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    if r.returncode != 0:
        return None
    gpus = []
    for line in r.stdout.splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) >= 3:
            gpus.append((f"GPU{parts[0]} {parts[1]}", parts[2], pci_numa(parts[2])))
    return gpus


def gpus_from_sysfs():
    gpus = []
    for d in sorted(glob.glob("/sys/bus/pci/devices/*")):
        cls, vendor = read(d + "/class") or "", read(d + "/vendor") or ""
        if vendor.lower() == "0x10de" and cls[:6].lower() in ("0x0302", "0x0300"):
            bus = os.path.basename(d)
            gpus.append((f"NVIDIA {read(d + '/device') or ''} at", bus, pci_numa(bus)))
    return gpus


def gpu_check(nodes):
    name, expected = "gpus", "each rank on its GPU's NUMA node"
    gpus = gpus_from_nvidia_smi()
    source = "nvidia-smi"
    if gpus is None:
        gpus, source = gpus_from_sysfs(), "sysfs"
    if not gpus:
        return check(name, INFO, "none", "", "")
    parts = []
    for label, bus, node in gpus:
        parts.append(f"{label} {bus} numa {node if node is not None and node >= 0 else 'unknown'}")
    value = f"{len(gpus)} ({source}): " + "; ".join(parts)
    fix = ""
    if nodes and len(nodes) > 1:
        fix = "bind each rank to its GPU's NUMA node (numactl --cpunodebind=N, or the launcher's " \
              "GPU binding: srun --gpu-bind=closest)"
    return check(name, INFO, value, expected, fix)


# ---- the database ---------------------------------------------------------------------------

def state_dir():
    # The front end passes its SB_STATE (with the batch job's suffix).
    st = os.environ.get("SB_STATE")
    if st:
        return st
    return os.path.join(os.environ.get("XDG_RUNTIME_DIR") or "/tmp", f"stagebench-{os.getuid()}")


DBINFO = "sb-dbinfo"
# The database's part is asked by sb-dbinfo (apps/dbinfo/), the suite's own
# client: addresses, SB_DB_* credentials and timeouts as for the apps.
DBINFO_ARGS = ["--config", "maxclients", "--config", "io-threads", "--config", "tcp-backlog",
               "--info", "clients", "--info", "server", "--info", "stats"]
# sb-dbinfo ends within about 3 x its --timeout; this bound is only for a
# binary that misbehaves.
DBINFO_WAIT_S = 3 * DB_TIMEOUT_S + 5


def db_address(given):
    """(the --db argument for sb-dbinfo or None, where the address comes
    from), or (None, None) when there is no database: --db, else SSDB (read
    by sb-dbinfo itself, as the apps read it), else the address `stagebench
    db start` recorded."""
    if given:
        return given, "--db"
    if os.environ.get("SSDB"):
        return None, "SSDB"
    path = os.path.join(state_dir(), "ssdb")
    addr = read(path)
    if addr:
        return addr, path
    return None, None


def dbinfo_binary():
    """The path of sb-dbinfo, or None when it is not built: in SB_BIN (what
    the front end passes: its build's or its installation's bin/), else
    beside an installed front end (PREFIX/libexec/stagebench -> PREFIX/bin),
    in the source tree's build (SB_BUILD, else build/), on PATH."""
    def runnable(p):
        return p if p and os.path.isfile(p) and os.access(p, os.X_OK) else None
    if os.environ.get("SB_BIN"):
        return runnable(os.path.join(os.environ["SB_BIN"], DBINFO))
    here = os.path.dirname(os.path.realpath(__file__))
    src = os.path.normpath(os.path.join(here, "..", ".."))
    for d in (os.path.join(src, "bin"), os.path.join(os.environ.get("SB_BUILD") or
                                                     os.path.join(src, "build"), "bin")):
        p = runnable(os.path.join(d, DBINFO))
        if p:
            return p
    return runnable(shutil.which(DBINFO))


def ask_db(exe, addr):
    """sb-dbinfo's JSON object, or (None, why). A database that cannot be
    asked is an object with "error" and "error_kind"."""
    cmd = [exe, "--timeout", f"{DB_TIMEOUT_S:g}"] + DBINFO_ARGS + (["--db", addr] if addr else [])
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=DBINFO_WAIT_S,
                           stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return None, f"{DBINFO} gave no answer within {DBINFO_WAIT_S:g} s"
    except OSError as e:
        return None, f"cannot run {exe}: {e.strerror or e}"
    err = (r.stderr.strip().splitlines() or [""])[-1].replace(f" ({DBINFO} --help for usage)", "")
    if r.returncode in (0, 1) and r.stdout.strip():
        try:
            d = json.loads(r.stdout)
        except ValueError:
            d = None
        if isinstance(d, dict):
            return d, None
    return None, err or f"{DBINFO} exited {r.returncode} with no output"


def db_checks(given, clients):
    names = ("db.maxclients", "db.io-threads", "db.tcp-backlog")
    addr, source = db_address(given)
    if not source:
        return [check(n, INFO, "no database (SSDB unset, none started by stagebench db start)", "",
                      "") for n in names]
    shown = addr or os.environ.get("SSDB", "")
    exe = dbinfo_binary()
    if not exe:
        return [check(n, INFO, f"skipped: {DBINFO} not built (run stagebench build); database "
                      f"{shown} (from {source}) not asked", "", "stagebench build")
                for n in names]
    d, why = ask_db(exe, addr)
    if d is None:
        return [check(n, INFO, f"database {shown} (from {source}): {why}", "", "") for n in names]
    if d.get("error"):
        # The client's message names the address; for a refused AUTH it holds the
        # server's words, never the password.
        kind, err = d.get("error_kind"), d["error"]
        fix = {"auth": "check SB_DB_USER / SB_DB_PASSWORD / SB_DB_PASSWORD_FILE",
               "noauth": "set SB_DB_PASSWORD (and SB_DB_USER) or SB_DB_PASSWORD_FILE as for the apps"}
        value = f"not reachable (address from {source}): {err}" if kind == "unreachable" \
            else f"database {err}"
        return [check(n, INFO, value, "", fix.get(kind, "")) for n in names]
    config, info = d.get("config") or {}, d.get("info") or {}

    def info_field(section, field):
        return (info.get(section) or {}).get(field)

    maxclients = config.get("maxclients") or info_field("clients", "maxclients")
    iothreads = config.get("io-threads")
    io_active = info_field("server", "io_threads_active") or info_field("stats", "io_threads_active")
    connected = info_field("clients", "connected_clients")
    out = []
    where = f" at {d.get('address') or shown}"
    if maxclients is None or not str(maxclients).isdigit():
        out.append(check(names[0], INFO, f"unreadable{where} (CONFIG GET and INFO refused)", ""))
    else:
        mc = int(maxclients)
        val = f"{mc}{where}" + (f", {connected} connected" if connected else "")
        if clients:
            need = clients
            if mc >= need:
                out.append(check(names[0], OK, val, f">= {need} clients"))
            else:
                out.append(check(names[0], WARN, val, f">= {need} clients",
                                 f"restart it with redis-server --maxclients {need + 64} (stagebench db "
                                 f"start sets {DB_DEFAULT_MAXCLIENTS}) after ulimit -n "
                                 f"{need + 64 + DB_FD_RESERVE}"))
        else:
            out.append(check(names[0], OK if mc >= 1024 else INFO, val, ">= the planned clients",
                             "" if mc >= 1024 else f"pass --clients N to check; --maxclients {DB_DEFAULT_MAXCLIENTS} for large runs"))
    if iothreads is None and io_active is None:
        out.append(check(names[1], INFO, f"unreadable{where}", ""))
    else:
        val = f"{iothreads if iothreads is not None else '?'}{where}" + \
            (f" (active: {io_active})" if io_active is not None else "")
        if iothreads is not None and str(iothreads).isdigit() and int(iothreads) > 1:
            out.append(check(names[1], OK, val, "> 1 for many clients"))
        else:
            out.append(check(names[1], INFO, val, "> 1 for many clients",
                             "stagebench db start --cpus C (io-threads C) when hundreds of clients "
                             "share one database"))
    out.append(backlog_check(names[2], config.get("tcp-backlog"), where, clients))
    return out


def backlog_check(name, backlog, where, clients):
    """The server's accept queue: min(tcp-backlog, this node's somaxconn) must
    hold a connection storm of the planned clients (Redis's default 511 does
    not: docs/scaling.md)."""
    need = min(max(BACKLOG_MIN, clients or 0), 65535)
    expected = f">= {need}"
    if backlog is None or not str(backlog).isdigit():
        return check(name, INFO, f"unreadable{where}", expected)
    tb = int(backlog)
    som = read("/proc/sys/net/core/somaxconn")
    som = int(som) if som and som.isdigit() else None
    val = f"{tb}{where}" + (f" (this node's somaxconn {som})" if som is not None else "")
    if tb < need:
        return check(name, WARN, val, expected,
                     f"restart it with redis-server --tcp-backlog {need} (stagebench db start sets "
                     f"SB_DB_TCP_BACKLOG, default 4096): many ranks connecting at once overflow "
                     f"the accept queue")
    if som is not None and som < tb:
        return check(name, WARN, val, expected,
                     f"the kernel caps the queue at somaxconn {som}: {persist_hint('net.core.somaxconn', tb)}")
    return check(name, OK, val, expected)


# ---- the log level ----------------------------------------------------------------------------

def log_check(run_level):
    name, expected = "log_level", "info, warn or error"
    if run_level:
        level, source = run_level, "--log-level of the run"
    elif os.environ.get("SB_LOG_LEVEL"):
        level, source = os.environ["SB_LOG_LEVEL"], "SB_LOG_LEVEL"
    else:
        level, source = "info", "app default"
    value = f"{level} ({source})"
    lv = level.lower()
    if lv not in LOG_LEVELS:
        return check(name, WARN, value, expected, f"'{level}' is not a level: use one of {', '.join(LOG_LEVELS)}")
    if lv in ("debug", "trace"):
        return check(name, WARN, value, expected,
                     "--log-level info for measurements: debug and trace log every request and cost performance")
    return check(name, OK, value, expected)


# ---- driver --------------------------------------------------------------------------------------

def run_checks(clients, db, run_level):
    nodes = numa_nodes()
    checks = [sysctl_min("net.core.somaxconn", clients),
              sysctl_min("net.ipv4.tcp_max_syn_backlog", clients)]
    checks += mtu_checks()
    checks += [thp_check(), iommu_check(), nofile_check(clients), governor_check(), numa_check(nodes)]
    checks += db_checks(db, clients)
    checks += [gpu_check(nodes), overcommit_check(), log_check(run_level)]
    return {
        "checks": checks,
        "host": socket.gethostname(),
        "time": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "clients": clients,
    }


def positive_int(opt, v):
    if not re.fullmatch(r"[0-9]+", v or "") or int(v) < 1:
        raise Usage(f"{opt} '{v}': expected a positive integer")
    return int(v)


def from_run_args(args):
    """(clients, db, log level) from `stagebench run APP [options]`; never fails."""
    clients, db, level = None, None, None
    if not args:
        return clients, db, level
    app, rest = args[0], args[1:]
    np_ = 4  # cmd_run's default
    i = 0
    while i < len(rest):
        a = rest[i]
        key, eq, val = a.partition("=")
        if not eq:
            val = rest[i + 1] if i + 1 < len(rest) else ""
        if key in ("-n", "--np", "--db", "--log-level"):
            if key in ("-n", "--np") and re.fullmatch(r"[0-9]+", val):
                np_ = int(val)
            elif key == "--db":
                db = val or None
            elif key == "--log-level":
                level = val or None
            i += 1 if eq else 2
        else:
            i += 1
    clients = np_ + 1 if app in ("aggregation", "agg") else np_
    return clients, db, level


def parse(argv):
    opts = {"json": False, "clients": None, "db": None, "save": None, "run_args": None}
    i = 0
    while i < len(argv):
        a = argv[i]
        key, eq, val = a.partition("=")
        if a in ("-h", "--help"):
            print(USAGE)
            sys.exit(0)
        if a == "--json":
            opts["json"] = True
            i += 1
            continue
        if key == "--run-args":
            opts["run_args"] = argv[i + 1:]
            break
        if key in ("--clients", "--db", "--save"):
            if not eq:
                if i + 1 >= len(argv):
                    raise Usage(f"{a} needs a value")
                val = argv[i + 1]
                i += 1
            i += 1
            if key == "--clients":
                opts["clients"] = positive_int("--clients", val)
            else:
                opts[key[2:]] = val
            continue
        raise Usage(f"unknown option '{a}' (see stagebench doctor --help)")
    return opts


def text_report(rep):
    lines = [f"stagebench doctor: {rep['host']}, {rep['time']}"
             + (f", planned clients {rep['clients']}" if rep["clients"] else "")]
    wn = max(len(c["name"]) for c in rep["checks"])
    for c in rep["checks"]:
        exp = f"  (expected {c['expected']})" if c["expected"] and c["status"] != OK else ""
        lines.append(f"  {c['status']:<4}  {c['name']:<{wn}}  {c['value']}{exp}")
        if c["fix"] and c["status"] != OK:
            lines.append(f"  {'':<4}  {'':<{wn}}  fix: {c['fix']}")
    counts = {s: sum(1 for c in rep["checks"] if c["status"] == s) for s in (OK, WARN, INFO)}
    lines.append(f"stagebench doctor: {counts[OK]} OK, {counts[WARN]} WARN, {counts[INFO]} INFO "
                 f"(reads only; nothing was changed)")
    return "\n".join(lines)


def save(path, rep):
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w") as f:
        json.dump(rep, f, separators=(",", ":"))
        f.write("\n")
    os.replace(tmp, path)


def main(argv):
    try:
        opts = parse(argv)
    except Usage as e:
        print(f"stagebench doctor: error: {e}", file=sys.stderr)
        return 2
    clients, db, level = opts["clients"], opts["db"], None
    if opts["run_args"] is not None:
        rc, rdb, level = from_run_args(opts["run_args"])
        clients = clients or rc
        db = db or rdb
    rep = run_checks(clients, db, level)
    if opts["save"]:
        save(opts["save"], rep)
        print(os.path.abspath(opts["save"]))
    elif opts["json"]:
        print(json.dumps(rep, indent=1))
    else:
        print(text_report(rep))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except SystemExit:
        raise
    except BaseException as e:  # the doctor's own failure
        print(f"stagebench doctor: error: {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)
