#!/bin/bash
# The one scanner of the leak checks: prints each FILE that holds any of
# the token values listed (one a line) in VALUES, byte for byte, text or
# binary (a core, /proc/PID/environ).  Exit status 0 when it printed none,
# 1 when it printed some, 2 when VALUES is empty or missing (a scan for
# nothing would pass whatever the files hold).
#   find-values.sh VALUES FILE...
set -u
values=$1
shift
[ -s "$values" ] || { echo "find-values.sh: no values in $values" >&2; exit 2; }
# (C locale: bytes, not characters.  In a binary file grep takes NUL bytes
# for line ends, which no token holds; -a would make it read a core's long
# runs of zeros as one line, twenty times slower)
hits=$(LC_ALL=C grep -lFf <(sort -u "$values" | grep .) -- "$@" 2>/dev/null)
[ -z "$hits" ] || { printf '%s\n' "$hits"; exit 1; }
exit 0
