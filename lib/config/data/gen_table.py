#!/usr/bin/python3
"""Turns lib/config/data/user-token-only.tsv into a C table (user_token_only.c):
    gen_table.py INPUT.tsv OUTPUT.c"""
import sys


def c_string(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


rows = []
with open(sys.argv[1], encoding="utf-8") as f:
    for number, line in enumerate(f, 1):
        line = line.rstrip("\n")
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 2 or not all(p.strip() for p in parts):
            sys.exit(f"{sys.argv[1]}:{number}: expected SERVICE<TAB>PERMISSION GROUP")
        rows.append((parts[0].strip(), parts[1].strip()))
with open(sys.argv[2], "w", encoding="utf-8") as out:
    out.write("/* Generated from lib/config/data/user-token-only.tsv by gen_table.py. */\n")
    out.write('#include "config/owner.h"\n\n')
    out.write("const cft_user_token_group cft_user_token_only[] = {\n")
    for service, group in rows:
        out.write(f"\t{{ {c_string(service)}, {c_string(group)} }},\n")
    out.write("\t{ NULL, NULL },\n};\n")
