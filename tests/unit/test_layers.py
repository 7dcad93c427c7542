#!/usr/bin/python3
"""The layers of lib/ (lib/README.md), checked over the include lines:

  - every source of the library sits in one layer's folder;
  - a file includes library headers by folder ("core/error.h"), and only
    from its own layer or one listed before it in lib/meson.build;
  - no include cycle joins two modules (a module: a .c and its .h).

Usage: test_layers.py SOURCE_ROOT.  TAP on stdout."""
import os
import re
import sys

root = sys.argv[1] if len(sys.argv) > 1 else "."
lib = os.path.join(root, "lib")
n = 0
failed = 0


def check(ok, what):
    global n, failed
    n += 1
    if not ok:
        failed += 1
    print("%s %d - %s" % ("ok" if ok else "not ok", n, what))


# The order of the layers is the order lib/meson.build enters them.
layers = re.findall(r"^subdir\('([a-z]+)'\)", open(os.path.join(lib, "meson.build")).read(), re.M)
check(len(layers) >= 4, "lib/meson.build enters the layers in order: %s" % " < ".join(layers))
rank = {name: i for i, name in enumerate(layers)}

stray = [f for f in os.listdir(lib) if f.endswith((".c", ".h"))]
check(not stray, "no source outside a layer's folder: %s" % (", ".join(stray) or "none"))

include = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
sources = []
for layer in layers:
    for f in sorted(os.listdir(os.path.join(lib, layer))):
        if f.endswith((".c", ".h")):
            sources.append((layer, f))

upward = []
unknown = []
edges = {}
for layer, f in sources:
    module = "%s/%s" % (layer, os.path.splitext(f)[0])
    text = open(os.path.join(lib, layer, f)).read()
    for h in include.findall(text):
        if h == "cftoken-config.h" or h.startswith("user_token_only"):
            continue
        folder, _, name = h.partition("/")
        if folder not in rank or not os.path.isfile(os.path.join(lib, h)):
            unknown.append("%s/%s: %s" % (layer, f, h))
            continue
        if rank[folder] > rank[layer]:
            upward.append("%s/%s includes %s" % (layer, f, h))
        dep = "%s/%s" % (folder, os.path.splitext(name)[0])
        if dep != module:
            edges.setdefault(module, set()).add(dep)

check(not unknown, "every include names a header by its folder: %s"
      % ("; ".join(unknown) or "all do"))
check(not upward, "no include crosses upward: %s" % ("; ".join(upward) or "none does"))

# Cycles between modules: Tarjan's strongly connected components.
index = {}
low = {}
stack = []
on_stack = set()
cycles = []
counter = [0]


def visit(v):
    index[v] = low[v] = counter[0]
    counter[0] += 1
    stack.append(v)
    on_stack.add(v)
    for w in sorted(edges.get(v, ())):
        if w not in index:
            visit(w)
            low[v] = min(low[v], low[w])
        elif w in on_stack:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        component = []
        while True:
            w = stack.pop()
            on_stack.discard(w)
            component.append(w)
            if w == v:
                break
        if len(component) > 1:
            cycles.append(" -> ".join(sorted(component)))


sys.setrecursionlimit(10000)
for v in sorted(edges):
    if v not in index:
        visit(v)
check(not cycles, "no include cycle between modules: %s" % ("; ".join(cycles) or "none"))
check(len(sources) > 40 and sum(len(e) for e in edges.values()) > 40,
      "the check saw the library (%d files, %d module edges)"
      % (len(sources), sum(len(e) for e in edges.values())))

print("1..%d" % n)
sys.exit(1 if failed else 0)
