#!/usr/bin/python3
"""The cold-path harness of bench/cold.sh: commands alternated round by
round (machine noise falls on all alike), each timed to its answer and to
its exit, with the API requests it made read from the emulator's log.

    cold.py SPEC.json ROUNDS EMUCTL...

SPEC: {"name": {"argv": [...], "stdin": "path" | null, "before": [...] | null,
                "ms_from": REGEX | null}}
"before" runs untimed ahead of each timed run.  The answer is the moment
the command's standard output reaches EOF (for `cftoken get`, when it has
written the credential and closed its output, which is what git waits
for); the exit follows.  With "ms_from", the time is the one the command
prints itself (group 1 of the regex, in ms; pam-session's
pam_open_session figure).  The command's requests are the emulator-log
entries logged while it ran: "before_answer" counts those that arrived
before the answer, "connections" the TLS connections they came on.
Prints JSON: {"name": {"answer_ms": [...], "exit_ms": [...],
"requests": [...], "before_answer": [...], "connections": [...],
"paths": [[...], ...]}}.
"""
import datetime
import json
import os
import re
import subprocess
import sys
import time


def emulator_log(emuctl, after_seq):
    out = subprocess.run(emuctl + ["GET", "/__emu/log"], check=True, capture_output=True,
                         text=True).stdout
    return [e for e in json.loads(out) if e["seq"] > after_seq]


def last_seq(emuctl):
    log = emulator_log(emuctl, 0)
    return log[-1]["seq"] if log else 0


def instant(value):
    return datetime.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def run_once(cmd):
    stdin = open(cmd["stdin"], "rb") if cmd.get("stdin") else open(os.devnull, "rb")
    try:
        start = time.perf_counter_ns()
        proc = subprocess.Popen(cmd["argv"], stdin=stdin, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL)
        out = proc.stdout.read()   # to EOF: the answer is complete
        answered = time.perf_counter_ns()
        answered_wall = time.time()
        rc = proc.wait()
        exited = time.perf_counter_ns()
    finally:
        stdin.close()
    if rc != 0:
        sys.exit(f"cold.py: {cmd['argv']} exited {rc}")
    answer_ms, exit_ms = (answered - start) / 1e6, (exited - start) / 1e6
    if cmd.get("ms_from"):
        m = re.search(cmd["ms_from"], out.decode(errors="replace"))
        if not m:
            sys.exit(f"cold.py: {cmd['argv']}: no time in its output")
        answer_ms = exit_ms = float(m.group(1))
    return answer_ms, exit_ms, answered_wall


def main():
    spec = json.load(open(sys.argv[1]))
    rounds = int(sys.argv[2])
    emuctl = sys.argv[3:]
    results = {k: {"answer_ms": [], "exit_ms": [], "requests": [], "before_answer": [],
                   "connections": [], "paths": []} for k in spec}
    for _ in range(rounds):
        for name, cmd in spec.items():
            if cmd.get("before"):
                subprocess.run(cmd["before"], check=True, stdout=subprocess.DEVNULL)
            seq = last_seq(emuctl)
            answer_ms, exit_ms, answered_wall = run_once(cmd)
            log = emulator_log(emuctl, seq)
            r = results[name]
            r["answer_ms"].append(answer_ms)
            r["exit_ms"].append(exit_ms)
            r["requests"].append(len(log))
            r["before_answer"].append(sum(1 for e in log if instant(e["time"]) < answered_wall))
            r["connections"].append(len({e["connection"] for e in log}))
            r["paths"].append(["%s %s" % (e["method"], re.sub(r"[0-9a-f]{32}", "{id}", e["path"]))
                               for e in log])
    json.dump(results, sys.stdout, indent=1)


main()
