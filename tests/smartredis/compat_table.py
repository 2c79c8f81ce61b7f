"""Renders the compatibility table of docs/module.md from the records of
smartredis_api.py (JSON lines: call, mode, outcome, note), one row per call
in the order first recorded, a column per mode.

    python compat_table.py RESULTS > table.md
"""
import json
import sys

rows = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    row = rows.setdefault(r["call"], {"note": ""})
    row[r["mode"]] = r["outcome"]
    if r["note"] and r["note"] not in row["note"]:
        row["note"] = (row["note"] + "; " if row["note"] else "") + r["note"]

print("| Client call | standalone | cluster (3 shards) | Notes |")
print("|---|---|---|---|")
for call, row in rows.items():
    cells = [row.get(m, "not run") for m in ("standalone", "cluster")]
    print(f"| `{call}` | {cells[0]} | {cells[1]} | {row['note']} |")
both = sum(1 for row in rows.values()
           if all(row.get(m) in ("works", "not run") for m in ("standalone", "cluster")))
print()
print(f"{len(rows)} calls or call forms measured: {both} work wherever run, "
      f"{len(rows) - both} are refused (in one mode at least), each with its message checked.")
