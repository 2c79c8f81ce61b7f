#!/usr/bin/env python3
"""The build's ctest tests labelled gpu, on a machine the build was carried to.

    python3 tests/gpu/carried_ctest.py WRAP BUILD_DIR [NAME_REGEX]

The build's CTestTestfiles do not travel (their paths are those of the
machine that built it), so tests/gpu/prepare_carry.sh writes the tests into
.gpu-deps/ctest-gpu.json (`ctest -L gpu --show-only=json-v1`) and
.gpu-deps/carry-paths (where the sources and the build were). Each test runs
here as ctest would run it (its ENVIRONMENT, WORKING_DIRECTORY, TIMEOUT,
SKIP_RETURN_CODE, WILL_FAIL), with the old source and build folders replaced
by this checkout and BUILD_DIR, and with the carried libraries scoped to the
carried programs: a test whose command is a program of the build runs its
wrapper in WRAP (tests/gpu/carry_root.sh), SB_BIN_DIR names WRAP, and WRAP
comes first on PATH (mpiexec, redis-server, redis-cli), so the shell and the
tools of a script test keep this machine's own libraries. This script, like
python3 itself, runs with the environment it was given.

One line per test (PASS, FAIL, SKIP with the reason), the output's tail for
a failure; exit 0 when none failed, 1 otherwise, 2 when the list is missing.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time


def main():
    if len(sys.argv) < 3:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    wrap, build = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    pick = re.compile(sys.argv[3]) if len(sys.argv) > 3 else None
    src = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
    deps = os.environ.get("SB_CARRY_DEBS", os.path.join(src, ".gpu-deps"))
    try:
        with open(os.path.join(deps, "ctest-gpu.json")) as f:
            tests = json.load(f)["tests"]
        old = dict(l.strip().split("=", 1) for l in open(os.path.join(deps, "carry-paths"))
                   if "=" in l)
    except (OSError, ValueError, KeyError) as e:
        print(f"# carried ctest: no test list in {deps} ({e}); run tests/gpu/prepare_carry.sh")
        return 2
    # Longest first: the build folder usually lies inside the source folder.
    swaps = sorted([(old.get("build", ""), build), (old.get("src", ""), src)],
                   key=lambda p: -len(p[0]))
    swaps = [(a, b) for a, b in swaps if a]

    def here(s):
        for a, b in swaps:
            if s == a or s.startswith(a + "/"):
                return b + s[len(a):]
        return s

    def here_all(s):  # paths inside a value (PATH-like lists, KEY=VALUE)
        return ":".join(here(p) for p in s.split(":"))

    failed = ran = skipped = 0
    for t in tests:
        name = t["name"]
        if pick and not pick.search(name):
            continue
        props = {p["name"]: p["value"] for p in t.get("properties", [])}
        if props.get("DISABLED"):
            continue
        cmd = [here(c) for c in t["command"]]
        exe = cmd[0]
        if os.path.dirname(exe) == os.path.join(build, "bin"):
            cmd[0] = os.path.join(wrap, os.path.basename(exe))
        elif not os.path.exists(exe):  # a tool at another place here (bash)
            cmd[0] = shutil.which(os.path.basename(exe)) or exe
        env = dict(os.environ)
        for kv in props.get("ENVIRONMENT", []):
            k, _, v = kv.partition("=")
            env[k] = here_all(v)
        env["SB_BIN_DIR"] = wrap
        env["PATH"] = wrap + ":" + env.get("PATH", "")
        cwd = here(props.get("WORKING_DIRECTORY", build))
        os.makedirs(cwd, exist_ok=True)
        timeout = float(props.get("TIMEOUT", 1500))
        skip_rc = props.get("SKIP_RETURN_CODE")
        t0 = time.time()
        p = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, start_new_session=True)
        try:
            out, _ = p.communicate(timeout=timeout)
            rc = p.returncode
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            out, _ = p.communicate()
            rc = None
        out = out.decode(errors="replace")
        ran += 1
        secs = time.time() - t0
        if rc is not None and skip_rc is not None and rc == int(skip_rc):
            reason = [l for l in out.splitlines() if "SKIP" in l or "skip" in l]
            reason = reason[-1].strip() if reason else (out.strip().splitlines() or [""])[-1]
            print(f"  {name:44s} SKIP ({reason[:160]})")
            skipped += 1
            continue
        ok = rc is not None and ((rc == 0) != bool(props.get("WILL_FAIL")))
        if ok:
            print(f"  {name:44s} PASS ({secs:.1f} s)")
        else:
            why = "timeout" if rc is None else f"exit {rc}"
            print(f"  {name:44s} FAIL ({why}, {secs:.1f} s)")
            for line in out.strip().splitlines()[-12:]:
                print(f"    {line}")
            failed += 1
    print(f"# carried ctest: {ran} tests, {ran - failed - skipped} passed, "
          f"{skipped} skipped, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
