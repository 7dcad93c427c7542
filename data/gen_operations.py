#!/usr/bin/python3
"""Turns data/api-operations.tsv into a C table (api_operations_table.c) for
lib/api/operations.c:
    gen_operations.py INPUT.tsv OUTPUT.c

It refuses a table the matcher could not use: a malformed row, a template
with a placeholder that is not a whole segment, two rows that differ only in
their placeholders' names.  tests/unit/test_operations_table.py reads the
table through read_table() too, and checks it against the contract files."""
import re
import sys

HEADER = ["method", "path_template", "operation_id", "groups", "used_by", "source"]
METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"}
PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")
LITERAL = re.compile(r"[A-Za-z0-9._~!$&'()*+,;=:@-]+")
# lib/api/operations.h's CFT_OPERATION_MAX_PARAMS, operations.c's MAX_SEGMENTS
MAX_PARAMS = 8
MAX_SEGMENTS = 32
NONE = "-"      # the operation carries no x-api-token-group
UNKNOWN = "?"   # not known (the source says why)


class TableError(Exception):
    pass


def shape(template):
    """The template with its placeholders' names left out: two rows of one
    method with the same shape would match the same paths."""
    return PLACEHOLDER.sub("{}", template)


def check_template(template):
    if not template.startswith("/") or (template.endswith("/") and template != "/"):
        raise TableError("the path template must start with '/' and not end with one")
    segments = template[1:].split("/")
    if len(segments) > MAX_SEGMENTS:
        raise TableError("more than %d segments" % MAX_SEGMENTS)
    params = []
    for seg in segments:
        m = PLACEHOLDER.fullmatch(seg)
        if m:
            params.append(m.group(1))
        elif not LITERAL.fullmatch(seg):
            raise TableError("segment %r is neither a literal nor a whole {placeholder}" % seg)
    if len(params) > MAX_PARAMS:
        raise TableError("more than %d placeholders" % MAX_PARAMS)
    if len(set(params)) != len(params):
        raise TableError("a placeholder is named twice")


def read_table(path):
    """The rows of the table as dicts (groups as a list, or NONE / UNKNOWN),
    each with its line number; raises TableError naming the line."""
    rows = []
    seen = {}
    header = None
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            fields = line.split("\t")
            where = "%s:%d: " % (path, number)
            if header is None:
                if fields != HEADER:
                    raise TableError(where + "the first line must be the header: "
                                     + "<TAB>".join(HEADER))
                header = fields
                continue
            if len(fields) != len(HEADER):
                raise TableError(where + "expected %d tab-separated columns, found %d"
                                 % (len(HEADER), len(fields)))
            row = dict(zip(HEADER, fields), line=number)
            for k in HEADER:
                if not row[k] or row[k] != row[k].strip():
                    raise TableError(where + "column %s is empty or has spaces around it" % k)
            if row["method"] not in METHODS:
                raise TableError(where + "unknown method %r" % row["method"])
            try:
                check_template(row["path_template"])
            except TableError as e:
                raise TableError(where + str(e)) from None
            g = row["groups"]
            if g not in (NONE, UNKNOWN):
                names = g.split("; ")
                if any(not n or n != n.strip() or n in (NONE, UNKNOWN) for n in names):
                    raise TableError(where + "groups are names separated by \"; \", or - or ?")
                if len(set(names)) != len(names):
                    raise TableError(where + "a group is named twice")
                row["groups"] = names
            key = (row["method"], shape(row["path_template"]))
            if key in seen:
                raise TableError(where + "%s %s is already on line %d"
                                 % (row["method"], row["path_template"], seen[key]))
            seen[key] = number
            rows.append(row)
    if header is None:
        raise TableError("%s: no header line" % path)
    return rows


def c_string(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_c(rows, out):
    out.write("/* Generated from data/api-operations.tsv by data/gen_operations.py. */\n")
    out.write('#include "api/operations.h"\n\n')
    out.write("static const char *const no_groups[] = { NULL };\n")
    for i, row in enumerate(rows):
        if isinstance(row["groups"], list):
            names = ", ".join(c_string(n) for n in row["groups"])
            out.write("static const char *const groups_%d[] = { %s, NULL };\n" % (i, names))
    out.write("\nstatic const struct cft_operation table[] = {\n")
    for i, row in enumerate(rows):
        groups = "groups_%d" % i if isinstance(row["groups"], list) else "no_groups"
        opid = "NULL" if row["operation_id"] == NONE else c_string(row["operation_id"])
        out.write("\t{ .method = %s, .template = %s, .operation_id = %s, .groups = %s,"
                  " .groups_unknown = %s, .used_by = %s, .source = %s },\n" % (
            c_string(row["method"]), c_string(row["path_template"]), opid, groups,
            "true" if row["groups"] == UNKNOWN else "false",
            c_string(row["used_by"]), c_string(row["source"])))
    out.write("};\n\n")
    out.write("const struct cft_operation *cft_operations(size_t *count)\n{\n")
    out.write("\t*count = sizeof(table) / sizeof(table[0]);\n")
    out.write("\treturn table;\n}\n")


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: gen_operations.py INPUT.tsv OUTPUT.c")
    try:
        rows = read_table(sys.argv[1])
    except TableError as e:
        sys.exit(str(e))
    with open(sys.argv[2], "w", encoding="utf-8") as out:
        write_c(rows, out)


if __name__ == "__main__":
    main()
