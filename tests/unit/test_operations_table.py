#!/usr/bin/python3
"""data/api-operations.tsv against the contract files:

  - every group it names is a permission group (permission-groups.json);
  - data/schema-group-names.tsv maps each dashboard-form name of the schema
    to a real group, and the table uses none of those names;
  - no (method, path template) is there twice, not even under other
    placeholder names;
  - every row says where it comes from;
  - the token operations agree with the official extract (operationId,
    groups) the emulator validates against;
  - every operation the emulator serves has a row;
  - rows whose groups are unknown ("?") are listed as diagnostics: a
    known gap, neither a check that passes nor one that fails (the CI's
    totals count every "not ok", a TODO's too).

Usage: test_operations_table.py SOURCE_ROOT PERMISSION_GROUPS.json TOKENS_OPENAPI.json
TAP on stdout."""
import json
import os
import re
import sys

root, groups_json, extract_json = sys.argv[1:4]
sys.path.insert(0, os.path.join(root, "data"))
import gen_operations as table  # noqa: E402  (data/, beside the table)

n = 0
failed = 0


def check(ok, what, detail=None):
    global n, failed
    n += 1
    if not ok:
        failed += 1
    print("%s %d - %s" % ("ok" if ok else "not ok", n, what))
    if not ok and detail:
        print("#   " + detail)


def todo(what, why):
    """A known gap, said as a TAP diagnostic."""
    print("# not yet known: %s (%s)" % (what, why))


def read_tsv(path):
    rows = []
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        if line and not line.startswith("#"):
            rows.append(line.split("\t"))
    return rows[0], rows[1:]


try:
    rows = table.read_table(os.path.join(root, "data", "api-operations.tsv"))
    check(len(rows) > 40, "data/api-operations.tsv reads (%d operations)" % len(rows))
except table.TableError as e:
    check(False, "data/api-operations.tsv reads", str(e))
    print("1..%d" % n)
    sys.exit(1)

known = {g["name"] for g in json.load(open(groups_json))}
named = {}
for r in rows:
    if isinstance(r["groups"], list):
        for g in r["groups"]:
            named.setdefault(g, "%s %s" % (r["method"], r["path_template"]))
unknown = sorted("%r (%s)" % (g, where) for g, where in named.items() if g not in known)
check(named and not unknown,
      "each of the %d groups the table names is in permission-groups.json" % len(named),
      "not groups: " + "; ".join(unknown))

header, mapping = read_tsv(os.path.join(root, "data", "schema-group-names.tsv"))
check(header == ["schema_name", "group"] and mapping and all(len(m) == 2 for m in mapping),
      "data/schema-group-names.tsv has its header and SCHEMA NAME<TAB>GROUP rows")
for m in mapping:
    if len(m) != 2:
        continue
    schema_name, group = m
    check(group in known and schema_name not in known,
          "the schema's %r is the group %r" % (schema_name, group),
          "%r %s a permission group; %r %s" % (
              group, "is" if group in known else "is not",
              schema_name, "is one itself" if schema_name in known else "is not"))
    check(schema_name not in named, "the table writes %r as %r, never in the schema's form"
          % (schema_name, group), "used by " + named.get(schema_name, ""))

keys = [(r["method"], r["path_template"]) for r in rows]
shapes = [(r["method"], table.shape(r["path_template"])) for r in rows]
check(len(set(keys)) == len(keys) and len(set(shapes)) == len(shapes),
      "no (method, path template) is there twice, under any placeholder names")

sourceless = ["%s %s" % (r["method"], r["path_template"]) for r in rows
              if not r["source"] or r["source"] == table.NONE]
check(not sourceless, "every row says where its groups come from",
      "no source: " + "; ".join(sourceless))
unexplained = ["%s %s" % (r["method"], r["path_template"]) for r in rows
               if r["groups"] == table.UNKNOWN
               and not re.match(r"(not found|unknown): \S", r["source"])]
check(not unexplained, "every row with unknown groups says why (\"not found: ...\" or "
      "\"unknown: ...\")", "; ".join(unexplained))

# The operations the official extract holds (verbatim operation objects of
# the schema) must agree with their rows.
extract = json.load(open(extract_json))
by_key = {(r["method"], r["path_template"]): r for r in rows}
disagree = []
count = 0
for path, item in extract["paths"].items():
    for method, op in item.items():
        if not isinstance(op, dict) or "operationId" not in op:
            continue
        count += 1
        r = by_key.get((method.upper(), path))
        want = op.get("x-api-token-group") or table.NONE
        if not r:
            disagree.append("%s %s has no row" % (method.upper(), path))
        elif r["operation_id"] != op["operationId"] or r["groups"] != want:
            disagree.append("%s %s: %s %s, the extract %s %s" % (
                method.upper(), path, r["operation_id"], r["groups"], op["operationId"], want))
check(count > 10 and not disagree,
      "the %d operations of the official extract have rows that agree with it" % count,
      "; ".join(disagree))

# Every operation the emulator serves: a path made from each row's template
# must match one of its routes, and each route must be reached.
sys.path.insert(0, os.path.join(root, "tests", "emulator"))
try:
    import cfemu
    routes = cfemu.ROUTES
except Exception as e:  # the check below says what went wrong
    routes = None
    why = "%s: %s" % (type(e).__name__, e)
if routes is None:
    check(False, "tests/emulator/cfemu.py's ROUTES load", why)
else:
    sample = {}
    for r in rows:
        path = re.sub(r"\{([a-z_0-9]+)\}", lambda m: "x" + m.group(1).replace("_", "x"),
                      r["path_template"])
        sample[(r["method"], path)] = r
    unserved = []
    for method, pattern, _, _ in routes:
        if not any(m == method and pattern.match(p) for m, p in sample):
            unserved.append("%s %s" % (method, pattern.pattern))
    check(len(routes) > 10 and not unserved,
          "each of the emulator's %d routes serves an operation of the table" % len(routes),
          "no row: " + "; ".join(unserved))

for r in rows:
    if r["groups"] == table.UNKNOWN:
        todo("%s %s: groups unknown" % (r["method"], r["path_template"]), r["source"])
print("# %d of %d operations have unknown groups"
      % (sum(r["groups"] == table.UNKNOWN for r in rows), len(rows)))

print("1..%d" % n)
sys.exit(1 if failed else 0)
