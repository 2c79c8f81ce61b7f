#!/usr/bin/env python3
"""stagebench sweep: every combination of the given parameters, one case each.

    stagebench sweep APP [--PARAM v1,v2,..]... [--out DIR] [--dry-run]
                         [--launcher auto|local|srun|mpiexec] [--share-nodes]

Called by the bash front end (apps/stagebench/stagebench), which passes its
own path in SB_FRONTEND. See docs/sweep.md.

- A database is started once per database configuration (db_nodes, db_cpus,
  db_tpq, colocated, net_ifname) and reused for every case under it.
- Inside an allocation the nodes are split into database and client nodes;
  a plan that needs more nodes than there are is refused before anything
  starts.
- Each case has a directory named from its parameters holding run.h5 (for
  aggregation producer.h5 and consumer.h5), stdout, stderr, the launch line,
  the database's log and an attempt counter.
- Resume: a case whose files all say status=complete is skipped; any other
  is run again. A file that still says status=running is a killed run's (the
  apps write it from the start and checkpoint it): the sweep says so before
  running the case again. A leftover F.h5.writing (an older driver's
  temporary file) is removed, and said.
- A failed case is recorded (FAILED in its directory) and the sweep goes on;
  the exit code is the number of failed cases (at most 100).
- Cleanup: after a case that failed or was killed, the keys its app leaves
  (stagebench db clean APP: SCAN + DEL of the app's key patterns, never
  FLUSHALL; inference's model and script stay for the next case) are
  deleted and the sweep prints "cleanup: deleted N keys left by the killed
  run". A database a killed sweep left running is stopped when the sweep is
  started again (its keys go with it: the sweep's databases keep nothing on
  disk), and said.
"""

import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sbapps  # noqa: E402
import sbplan  # noqa: E402

USAGE = __doc__.split("\n\n")[1]


def die(msg, code=2):
    print(f"stagebench sweep: error: {msg}", file=sys.stderr)
    sys.exit(code)


def say(msg):
    print(f"stagebench sweep: {msg}", flush=True)


def print_help(app=None):
    """The usage and the parameters (of APP, or of every app) with their
    defaults."""
    print(USAGE)
    print(f"\napps: {', '.join(sbplan.APPS)}")
    print(f"\nparameters{' of ' + app if app else ''} (default; apps it applies to):")
    for name, (_, default, apps, _, _) in sbplan.PARAMS.items():
        if app and not sbplan.applies(name, app):
            continue
        default = sbplan.default(name, app)
        print(f"  --{name.replace('_', '-'):22s} {default or '(none)':10s} {apps}")
    print("\nValues: one, or a comma-separated list; every combination is one case. See docs/sweep.md.")


def learn_apps(argv):
    """The apps, from the binaries beside the front end (SB_BIN, set by
    stagebench) answering --describe. Without them, --help still prints the
    sweep's own parameters."""
    try:
        sbplan.use_apps(sbapps.discover(os.environ.get("SB_BIN", "")))
    except (sbapps.AppsError, sbplan.PlanError) as e:
        if not argv or "-h" in argv or "--help" in argv:
            print_help()
            print(f"\n(no apps known: {e})")
            sys.exit(0 if argv else 2)
        die(str(e), 1)


def parse(argv):
    learn_apps(argv)
    if not argv or argv[0] in ("-h", "--help"):
        print_help()
        sys.exit(0 if argv else 2)
    app = argv[0]
    if app not in sbplan.APPS:
        die(f"unknown app '{app}' (known: {', '.join(sbplan.APPS)})")
    if "-h" in argv[1:] or "--help" in argv[1:]:
        print_help(app)
        sys.exit(0)
    opts = {"out": None, "dry_run": False, "launcher": "auto", "share_nodes": False}
    given = {}
    i = 1
    while i < len(argv):
        a = argv[i]
        if a in ("--dry-run", "--share-nodes"):
            opts[a[2:].replace("-", "_")] = True
            i += 1
            continue
        if not a.startswith("--"):
            die(f"unexpected argument '{a}'")
        key, _, val = a[2:].partition("=")
        if not _:
            if i + 1 >= len(argv):
                die(f"{a} needs a value")
            val = argv[i + 1]
            i += 1
        i += 1
        key = sbplan.canonical(key)
        if key in ("out", "launcher"):
            opts[key] = val
        elif key in sbplan.PARAMS:
            given[key] = sbplan.parse_values(val, key, app)
        else:
            die(f"unknown option --{key.replace('_', '-')} (see stagebench sweep --help)")
    if opts["launcher"] not in ("auto", "local", "srun", "mpiexec"):
        die(f"--launcher {opts['launcher']}: expected auto, local, srun or mpiexec")
    return app, given, opts


def allocation_nodes():
    """(nodes, local): the allocation's hosts, or (['localhost'], True)."""
    if os.environ.get("SLURM_JOB_ID") and os.environ.get("SLURM_JOB_NODELIST"):
        if not shutil.which("scontrol"):
            die("SLURM_JOB_ID and SLURM_JOB_NODELIST are set but scontrol is not on PATH: "
                "cannot read the allocation's nodes (unset them to sweep on this machine)")
        out = subprocess.run(["scontrol", "show", "hostnames", os.environ["SLURM_JOB_NODELIST"]],
                             capture_output=True, text=True, check=True).stdout.split()
        return out, False
    nodefile = os.environ.get("PBS_NODEFILE")
    if nodefile and os.path.exists(nodefile):
        seen = []
        with open(nodefile) as f:
            for line in f:
                h = line.strip()
                if h and h not in seen:
                    seen.append(h)
        return seen, False
    return ["localhost"], True


def h5_status(path):
    """The root attribute 'status' of a stagebench HDF5 file, or None."""
    if not os.path.exists(path):
        return None
    try:
        import h5py  # noqa: PLC0415
        with h5py.File(path, "r") as f:
            v = f.attrs.get("status")
            return v.decode() if isinstance(v, bytes) else (str(v) if v is not None else None)
    except ImportError:
        pass
    except OSError:
        return None
    r = subprocess.run(["h5dump", "-a", "/status", path], capture_output=True, text=True)
    m = re.search(r'\(0\): "([a-z]+)"', r.stdout)
    return m.group(1) if m else None


def case_files(app, casedir):
    if app in sbplan.PAIRS:
        return [os.path.join(casedir, role + ".h5") for role in sbplan.PAIRS[app]]
    return [os.path.join(casedir, "run.h5")]


def complete(app, casedir):
    return all(h5_status(p) == "complete" for p in case_files(app, casedir))


def killed_files(app, casedir):
    """The case's files that still say status=running: a killed run's (the
    samples up to its last checkpoint)."""
    return [p for p in case_files(app, casedir) if h5_status(p) == "running"]


def writing_files(casedir):
    """Temporary files an older driver wrote under F.h5.writing and a killed
    run left."""
    try:
        return sorted(os.path.join(casedir, f) for f in os.listdir(casedir)
                      if f.endswith(".h5.writing"))
    except OSError:
        return []


def cleanup_count(text):
    """The keys a 'cleanup: deleted N keys' line of the front end counts."""
    return sum(int(n) for n in re.findall(r"cleanup: deleted (\d+) keys", text))


def figure(stdout_path):
    """The figure of merit of the last '# sb-...:' summary lines."""
    try:
        with open(stdout_path) as f:
            lines = [ln for ln in f if re.match(r"^# sb-[a-z-]+: ", ln)]
    except OSError:
        return ""
    out = []
    for ln in lines:
        m = re.search(r"([0-9.]+ (GB/s|MB/s|images/s)[a-z ]*)", ln)
        app = ln.split(":")[0][2:]
        if m:
            out.append(f"{app} {m.group(1).strip()}" if len(lines) > 1 else m.group(1).strip())
    return ", ".join(out)


class Sweep:
    def __init__(self, app, given, opts):
        self.app, self.opts, self.given = app, opts, set(given)
        self.frontend = os.environ.get("SB_FRONTEND") or die("SB_FRONTEND not set (run through stagebench)")
        self.cases = sbplan.permutations(app, given)
        self.nodes, self.local = allocation_nodes()
        self.hosts = sbplan.check_plan(app, self.cases, self.nodes, self.local, opts["share_nodes"])
        self.out = os.path.abspath(opts["out"] or os.path.join("results", f"sweep-{app}"))
        self.child = None
        self.stop_signal = None
        self.db_state = None
        self.last_cleanup = None

    # -- signals: a walltime kill reaches the case and the database too --
    def on_signal(self, signum, _frame):
        self.stop_signal = signum
        if self.child and self.child.poll() is None:
            try:
                os.killpg(self.child.pid, signum)
            except ProcessLookupError:
                pass

    def plan_lines(self):
        n = len(self.cases)
        dbs = "no database" if self.app in sbplan.NO_DB_APPS else \
            f"{len(sbplan.groups(self.cases))} database configuration(s)"
        lines = [f"# sweep {self.app}: {n} case(s), {dbs}; "
                 f"nodes: {'this machine' if self.local else ' '.join(self.nodes)}"]
        for key, idx in sbplan.groups(self.cases):
            if self.app in sbplan.NO_DB_APPS:
                lines.append(f"# no database ({self.app} uses none): {len(idx)} case(s)")
            else:
                lines.append(f"# database {sbplan.db_name(key)}: {len(idx)} case(s)")
            for i in idx:
                db, cl = self.hosts[i]
                where = "" if self.local else (f"  db on {','.join(db)}," if db else " ") + \
                    f" clients on {','.join(cl)}"
                lines.append(f"  [{i + 1:{len(str(n))}d}/{n}] {sbplan.case_name(self.app, self.cases[i])}{where}")
        return lines

    def frontend_cmd(self, *args, env=None, capture=True):
        return subprocess.run([self.frontend, *args], env=env, capture_output=capture, text=True)

    def start_db(self, key, idx):
        if self.app in sbplan.NO_DB_APPS:
            return dict(os.environ), None, ""
        d = dict(key)
        state = os.path.join(self.out, sbplan.db_name(key), "state")
        os.makedirs(state, exist_ok=True)
        env = dict(os.environ, SB_STATE=state)
        left = self.frontend_cmd("db", "stop", env=env)  # a database left by a killed sweep
        if "database stopped" in left.stderr:
            say(f"cleanup: stopped database {sbplan.db_name(key)}, left running by a killed sweep "
                f"(its keys went with it)")
        args = ["db", "start", "--nodes", d["db_nodes"], "--cpus", d["db_cpus"], "--tpq", d["db_tpq"]]
        if d["colocated"] == "1":
            args.append("--colocated")
        if d["net_ifname"]:
            args += ["--interface", d["net_ifname"]]
        if not self.local:
            hosts = sorted(set(h for i in idx for h in self.hosts[i][0]), key=self.nodes.index)
            args += ["--hosts", ",".join(hosts)]
        r = self.frontend_cmd(*args, env=env)
        m = re.search(r"export SSDB=(\S+)", r.stdout)
        if r.returncode != 0 or not m:
            return None, env, (r.stderr.strip().splitlines() or ["(no message)"])[-1]
        env["SSDB"] = m.group(1)
        self.db_state = env
        return env, env, ""

    def stop_db(self, env):
        if env and self.app not in sbplan.NO_DB_APPS:
            self.frontend_cmd("db", "stop", env=env)
        self.db_state = None

    def run_case(self, i, env):
        case = self.cases[i]
        name = sbplan.case_name(self.app, case)
        casedir = os.path.join(self.out, name)
        os.makedirs(casedir, exist_ok=True)
        for p in case_files(self.app, casedir) + writing_files(casedir) + \
                [os.path.join(casedir, "FAILED"), os.path.join(casedir, "cleanup")]:
            if os.path.exists(p):
                os.remove(p)
        attempts = os.path.join(casedir, "attempts")
        n = int(open(attempts).read() or 0) if os.path.exists(attempts) else 0
        with open(attempts, "w") as f:
            f.write(f"{n + 1}\n")
        np_ = int(case["client_nodes"]) * int(case["clients_per_node"])
        args = ["run", self.app, "-n", str(np_), "--launcher", self.opts["launcher"],
                "--ppn", case["clients_per_node"]]
        if not self.local:
            args += ["--hosts", ",".join(self.hosts[i][1])]
        if case.get("pin_app_cpus") == "1":
            args += ["--pin-away-from-db", case["db_cpus"]]
        if self.app in sbplan.PAIRS:
            args += ["--out-dir", casedir]
        else:
            args += ["--out", os.path.join(casedir, "run.h5")]
        args += sbplan.app_args(self.app, case)
        with open(os.path.join(casedir, "command"), "w") as f:
            f.write(shlex.join([self.frontend, *args]) + "\n")
        with open(os.path.join(casedir, "stdout"), "w") as out, \
                open(os.path.join(casedir, "stderr"), "w") as err:
            self.child = subprocess.Popen([self.frontend, *args], env=env, stdout=out, stderr=err,
                                          cwd=casedir, start_new_session=True)
            rc = self.child.wait()
            self.child = None
        self.copy_db_log(env, casedir)
        ok = rc == 0 and complete(self.app, casedir)
        self.last_cleanup = None
        if not ok:
            killed = rc < 0 or rc >= 128 or bool(killed_files(self.app, casedir))
            with open(os.path.join(casedir, "FAILED"), "w") as f:
                f.write(f"exit {rc}" + (" (killed)" if killed else "") + "\n")
            if not self.stop_signal and self.app not in sbplan.NO_DB_APPS:
                self.last_cleanup = self.cleanup(env, casedir, killed)
        return ok, rc, casedir

    def cleanup(self, env, casedir, killed):
        """Deletes the keys a failed or killed case left; returns the line
        that says how many. The case's front end deleted them already
        unless it was killed itself: its count (in the case's stderr) and
        this check's are added."""
        why = "the killed run" if killed else "the failed run"
        try:
            with open(os.path.join(casedir, "stderr"), errors="replace") as f:
                n = cleanup_count(f.read())
        except OSError:
            n = 0
        r = self.frontend_cmd("db", "clean", self.app, "--why", why, env=env)
        n += cleanup_count(r.stderr)
        if r.returncode != 0 or "cleanup: deleted" not in r.stderr:
            last = (r.stderr.strip().splitlines() or ["(no message)"])[-1]
            return f"cleanup: {why}'s keys not checked: {last}"
        with open(os.path.join(casedir, "cleanup"), "w") as f:
            f.write(f"deleted {n} keys left by {why}\n")
        return f"cleanup: deleted {n} keys left by {why}"

    def copy_db_log(self, env, casedir):
        state = env.get("SB_STATE") if env and self.app not in sbplan.NO_DB_APPS else None
        if not state or not os.path.isdir(state):
            return
        with open(os.path.join(casedir, "db.log"), "w") as out:
            for fn in sorted(os.listdir(state)):
                if fn.endswith(".log"):
                    out.write(f"==> {fn} <==\n")
                    with open(os.path.join(state, fn), errors="replace") as f:
                        out.write(f.read())

    def label(self, i):
        case = self.cases[i]
        return " ".join(f"{sbplan.PARAMS[k][0]}={v}" for k, v in case.items()
                        if k in self.given or k in ("client_nodes", "clients_per_node", "db_nodes"))

    def run(self):
        for line in self.plan_lines():
            print(line, flush=True)
        if self.opts["dry_run"]:
            return 0
        os.makedirs(self.out, exist_ok=True)
        for s in (signal.SIGTERM, signal.SIGINT, signal.SIGUSR1):
            signal.signal(s, self.on_signal)
        n, failed, done = len(self.cases), 0, 0
        w = len(str(n))
        t_sweep = time.time()
        for key, idx in sbplan.groups(self.cases):
            todo = [i for i in idx
                    if not complete(self.app, os.path.join(self.out, sbplan.case_name(self.app, self.cases[i])))]
            for i in idx:
                if i not in todo:
                    done += 1
                    print(f"[{i + 1:{w}d}/{n}] {self.app} {self.label(i)} ... complete, skipped", flush=True)
            if not todo or self.stop_signal:
                continue
            env, state_env, why = self.start_db(key, idx)
            if env is None:
                for i in todo:
                    failed += 1
                    casedir = os.path.join(self.out, sbplan.case_name(self.app, self.cases[i]))
                    os.makedirs(casedir, exist_ok=True)
                    with open(os.path.join(casedir, "FAILED"), "w") as f:
                        f.write(f"database did not start: {why}\n")
                    print(f"[{i + 1:{w}d}/{n}] {self.app} {self.label(i)} ... FAILED: database "
                          f"{sbplan.db_name(key)} did not start: {why}", flush=True)
                self.stop_db(state_env)
                continue
            try:
                for i in todo:
                    if self.stop_signal:
                        break
                    casedir = os.path.join(self.out, sbplan.case_name(self.app, self.cases[i]))
                    for p in killed_files(self.app, casedir):
                        print(f"[{i + 1:{w}d}/{n}] {self.app} {self.label(i)}: the earlier run was "
                              f"killed ({os.path.basename(p)} says status running; samples up to "
                              f"its last checkpoint): running it again", flush=True)
                    for p in writing_files(casedir):
                        print(f"[{i + 1:{w}d}/{n}] {self.app} {self.label(i)}: removing "
                              f"{os.path.basename(p)}, left by a killed run", flush=True)
                    t0 = time.time()
                    ok, rc, casedir = self.run_case(i, env)
                    dt = time.time() - t0
                    if ok:
                        done += 1
                        fig = figure(os.path.join(casedir, "stdout"))
                        print(f"[{i + 1:{w}d}/{n}] {self.app} {self.label(i)} ... done, {fig} ({dt:.1f} s)",
                              flush=True)
                    elif self.stop_signal:
                        print(f"[{i + 1:{w}d}/{n}] {self.app} {self.label(i)} ... interrupted (signal "
                              f"{self.stop_signal}); resubmit to resume", flush=True)
                    else:
                        failed += 1
                        last = ""
                        try:
                            errs = [ln.strip() for ln in open(os.path.join(casedir, "stderr"))
                                    if "error" in ln.lower()]
                            last = errs[-1] if errs else ""
                        except OSError:
                            pass
                        print(f"[{i + 1:{w}d}/{n}] {self.app} {self.label(i)} ... FAILED (exit {rc}, "
                              f"{dt:.1f} s) {last}  see {casedir}", flush=True)
                    if not ok and self.last_cleanup:
                        print(f"[{i + 1:{w}d}/{n}] {self.app} {self.label(i)}: {self.last_cleanup}",
                              flush=True)
            finally:
                self.stop_db(env)
        print(f"# sweep {self.app}: {done} of {n} complete, {failed} failed, "
              f"{n - done - failed} not run ({time.time() - t_sweep:.0f} s); results in {self.out}",
              flush=True)
        if self.stop_signal:
            return 128 + self.stop_signal
        return min(failed, 100)


def main(argv):
    app, given, opts = parse(argv)
    try:
        sweep = Sweep(app, given, opts)
    except sbplan.PlanError as e:
        die(f"plan refused: {e}")
    except subprocess.CalledProcessError as e:
        die(f"cannot read the allocation's nodes: {e}")
    return sweep.run()


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except sbplan.PlanError as e:
        die(str(e))
