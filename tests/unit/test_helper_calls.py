#!/usr/bin/python3
"""The commands of cftoken-backend stand side by side, never on each other:

  - what a helper/cmd_*.c file defines without static (its commands) is
    used by backend.c's dispatch table alone: no other command file, and no
    shared module (cli.c, declared_ops.c, ...), calls it;
  - so code two commands share lives in a shared module, and the command
    files form no circle.

Usage: test_helper_calls.py SOURCE_ROOT.  TAP on stdout."""
import os
import re
import sys

helper = os.path.join(sys.argv[1] if len(sys.argv) > 1 else ".", "helper")
results = []  # (ok, what), printed as TAP at the end


def code(path):
    """The file without its comments, strings and character constants."""
    text = open(path).read()
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    text = re.sub(r'"(?:\\.|[^"\\\n])*"', '""', text)
    return re.sub(r"'(?:\\.|[^'\\\n])*'", "''", text)


# A definition starts at the line's start, names its function before "(",
# and its header ends in "{" (on the same line or a later one), not ";".
definition = re.compile(r"^(?!static\b)(?:[A-Za-z_]\w*[\s*]+)+?([A-Za-z_]\w*)\s*\([^;{]*\)\s*\{",
                        re.M)

sources = sorted(f for f in os.listdir(helper) if f.endswith(".c"))
commands = [f for f in sources if f.startswith("cmd_")]
results.append((len(commands) >= 5, "helper/ has its command files: %s" % ", ".join(commands)))

defined = {}
for f in commands:
    for name in definition.findall(code(os.path.join(helper, f))):
        defined[name] = f
results.append((len(defined) >= 10,
                "the command files define their commands (%d functions)" % len(defined)))

uses = []
for f in sources:
    if f == "backend.c":
        continue
    text = code(os.path.join(helper, f))
    for name, home in sorted(defined.items()):
        if home != f and re.search(r"\b%s\b" % re.escape(name), text):
            uses.append("%s uses %s's %s" % (f, home, name))
results.append((not uses, "only backend.c uses what a command file defines: %s"
                % ("; ".join(uses) or "so it is")))

for i, (ok, what) in enumerate(results, 1):
    print("%s %d - %s" % ("ok" if ok else "not ok", i, what))
print("1..%d" % len(results))
sys.exit(0 if all(ok for ok, _ in results) else 1)
