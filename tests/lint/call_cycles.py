#!/usr/bin/env python3
"""Call circles between the source files of one library: file A calls a
function of file B and B (directly or through other files) calls back into
A. Read from the object files themselves (nm: the global symbols each file
defines and the ones it leaves undefined), so nothing is parsed and a file
that only includes another's header does not count.

    call_cycles.py LABEL OBJECT...

(An argument may hold several objects separated by ';', as CMake's
$<TARGET_OBJECTS:...> gives them.)

Prints every circle (its files, and the calls that close it) and exits 1
when there is one; 0 and a one-line summary when there is none.
"""
import os
import subprocess
import sys


def symbols(obj):
    """(defined global symbols, undefined symbols) of one object file."""
    out = subprocess.run(["nm", "-P", obj], capture_output=True, text=True, check=True).stdout
    defined, undefined = set(), set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) < 2:
            continue
        name, kind = parts[0], parts[1]
        if kind == "U":
            undefined.add(name)
        elif kind in "TDBRVWCG" and kind.isupper():
            defined.add(name)
    return defined, undefined


def source_name(obj):
    """kernels/CMakeFiles/x.dir/sb_gemm.c.o -> sb_gemm.c"""
    base = os.path.basename(obj)
    return base[:-2] if base.endswith(".o") else base


def strongly_connected(nodes, edges):
    """Tarjan's algorithm; returns the components of more than one node."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return out


def main(argv):
    if len(argv) < 3 or argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if len(argv) > 1 and argv[1] in ("-h", "--help") else 2
    label, objs = argv[1], [o for a in argv[2:] for o in a.split(";") if o]
    owner, uses = {}, {}
    for obj in objs:
        name = source_name(obj)
        defined, undefined = symbols(obj)
        uses[name] = undefined
        for s in defined:
            owner[s] = name
    edges, why = {}, {}
    for a, undefined in uses.items():
        for s in undefined:
            b = owner.get(s)
            if b and b != a:
                edges.setdefault(a, set()).add(b)
                why.setdefault((a, b), []).append(s)
    circles = strongly_connected(uses.keys(), edges)
    for comp in circles:
        print(f"{label}: call circle among {', '.join(comp)}:")
        for a in comp:
            for b in comp:
                if (a, b) in why:
                    calls = sorted(why[(a, b)])
                    more = f" (+{len(calls) - 4} more)" if len(calls) > 4 else ""
                    print(f"  {a} -> {b}: {', '.join(calls[:4])}{more}")
    if circles:
        return 1
    n_edges = sum(len(v) for v in edges.values())
    print(f"{label}: {len(uses)} files, {n_edges} file-to-file call edges, no circle")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
