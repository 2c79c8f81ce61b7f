"""The apps as they describe themselves: every `sb-*` binary in the bin
folder that answers `--describe` (common/sb_describe.h; the format in
docs/apps.md, "--describe"). The sweep planner, `stagebench run` and the
report learn from here which apps exist, their options, which options a
sweep varies (and their tags in case names), whether an app uses a
database, and which binaries form an MPMD pair, instead of keeping copies.

    python3 sbapps.py list BIN_DIR            the apps, one line each
    python3 sbapps.py binary BIN_DIR APP      the path of the binary that runs APP alone
    python3 sbapps.py json BIN_DIR            every description, as one JSON list
"""
import json
import os
import subprocess
import sys

SCHEMA = "stagebench-app"


class AppsError(Exception):
    """No apps could be learnt; the message says why."""


def describe(binary):
    """The description of one binary, or None when it gives none (it is not
    an app, e.g. sb-model)."""
    try:
        r = subprocess.run([binary, "--describe"], capture_output=True, text=True, timeout=30,
                           stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if r.returncode != 0:
        return None
    try:
        d = json.loads(r.stdout)
    except ValueError:
        return None
    if not isinstance(d, dict) or d.get("schema") != SCHEMA:
        return None
    d["binary"] = os.path.basename(binary)
    return d


def app_dirs(bin_dir):
    """bin_dir, then the folders of SB_APPS_PATH (colon-separated: apps
    built outside the suite, against its common/ library)."""
    extra = [d for d in os.environ.get("SB_APPS_PATH", "").split(":") if d]
    return [d for d in [bin_dir, *extra] if d]


def discover(bin_dir):
    """Every app description in bin_dir and SB_APPS_PATH, ordered by
    binary name (the first folder's binary wins a name)."""
    dirs = [d for d in app_dirs(bin_dir) if os.path.isdir(d)]
    if not dirs:
        raise AppsError(f"no binaries folder {bin_dir or '(none given)'} (stagebench build)")
    found = {}
    for d in dirs:
        for name in sorted(os.listdir(d)):
            path = os.path.join(d, name)
            if name.startswith("sb-") and name not in found and os.access(path, os.X_OK) \
                    and os.path.isfile(path):
                desc = describe(path)
                if desc:
                    desc["path"] = path
                    found[name] = desc
    if not found:
        raise AppsError(f"no app in {', '.join(dirs)} answers --describe (stagebench build)")
    return [found[n] for n in sorted(found)]


def by_app(descriptions):
    """{sweep name: [descriptions]}, by sweep name: one binary, or the
    members of a pair (producer first)."""
    apps = {}
    for d in descriptions:
        apps.setdefault(d["app"], []).append(d)
    order = {"producer": 0, "consumer": 1}
    for members in apps.values():
        members.sort(key=lambda d: (order.get(d.get("role") or "", 2), d["name"]))
    return dict(sorted(apps.items()))


def binary_for(descriptions, app):
    """The path of the binary that runs app alone, or AppsError naming the
    known apps."""
    apps = by_app(descriptions)
    members = apps.get(app) or next((m for m in apps.values() if m[0]["name"] == app), None)
    if not members:
        raise AppsError(f"unknown app '{app}' (known: {', '.join(apps)})")
    if len(members) > 1 or members[0].get("role"):
        raise AppsError(f"{app} is a pair ({', '.join(d['name'] for d in members)}), "
                        "not one binary")
    return members[0]["path"]


def main(argv):
    if len(argv) < 3 or argv[1] not in ("list", "binary", "json"):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    try:
        descs = discover(argv[2])
        if argv[1] == "json":
            print(json.dumps(descs, indent=1))
        elif argv[1] == "binary":
            if len(argv) < 4:
                raise AppsError("binary: which app?")
            print(binary_for(descs, argv[3]))
        else:
            for app, members in by_app(descs).items():
                print(f"{app}: {', '.join(d['name'] + (' (' + d['role'] + ')' if d.get('role') else '') for d in members)}")
    except AppsError as e:
        print(f"stagebench: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
