#!/usr/bin/python3
"""Whole-process wall time and peak RSS of commands, alternated round by
round so that machine noise falls on all of them alike.

    measure.py SPEC.json ROUNDS

SPEC: {"name": {"argv": [...], "stdin": "path" | null, "before": [...] | null}}
("before" runs untimed ahead of each timed run).  Prints JSON:
{"name": {"median_ms", "p90_ms", "runs"}}.  (Peak RSS is rss.c's: a child
spawned from Python shares Python's memory until exec, which ru_maxrss
counts.)"""
import json
import os
import statistics
import subprocess
import sys
import time


def run_once(argv, stdin_path):
    stdin = open(stdin_path, "rb") if stdin_path else open(os.devnull, "rb")
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        start = time.perf_counter_ns()
        pid = os.posix_spawn(argv[0], argv, os.environ,
                             file_actions=[(os.POSIX_SPAWN_DUP2, stdin.fileno(), 0),
                                           (os.POSIX_SPAWN_DUP2, devnull, 1)])
        _, status, _ = os.wait4(pid, 0)
        elapsed = time.perf_counter_ns() - start
    finally:
        stdin.close()
        os.close(devnull)
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"measure: {argv} exited {os.waitstatus_to_exitcode(status)}")
    return elapsed / 1e6


def main():
    spec = json.load(open(sys.argv[1]))
    rounds = int(sys.argv[2])
    times = {k: [] for k in spec}
    for _ in range(rounds):
        for name, cmd in spec.items():
            if cmd.get("before"):
                subprocess.run(cmd["before"], check=True, stdout=subprocess.DEVNULL)
            times[name].append(run_once(cmd["argv"], cmd.get("stdin")))
    out = {}
    for name, values in times.items():
        values.sort()
        out[name] = {"median_ms": statistics.median(values),
                     "p90_ms": values[int(len(values) * 0.9) - 1],
                     "runs": len(values)}
    json.dump(out, sys.stdout, indent=1)


main()
