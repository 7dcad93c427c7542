"""The table of API operations and the permission groups each accepts.

data/api-operations.tsv at the top of the repository (tab-separated, "#"
comments, a header line first): method, path_template, operation_id, groups
(names as in permission-groups.json separated by "; ", "-" for none, "?"
for not yet looked up), used_by, source. cftoken explains a 403 with it;
the emulator enforces it, so that a token lacking every accepted group of
an operation is refused here as Cloudflare refuses it.

Columns are found by their header name: nothing but these six is assumed.
"""

import os
import re

DEFAULT_TABLE = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                             "..", "..", "data", "api-operations.tsv")
UNKNOWN = None   # groups of a row whose "?" says they were not looked up


class Operation:
    def __init__(self, method, template, operation_id, groups):
        self.method = method
        self.template = template
        self.operation_id = operation_id
        self.groups = groups        # list of names ([] for "-"), or UNKNOWN
        self.params = template.count("{")
        self.pattern = re.compile(
            "^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)) + "$")


class OperationTable:
    def __init__(self, path=DEFAULT_TABLE):
        self.path = path
        self.operations = []
        header = None
        with open(path, encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                line = line.rstrip("\n")
                if not line.strip() or line.startswith("#"):
                    continue
                fields = line.split("\t")
                if header is None:
                    header = {name: i for i, name in enumerate(fields)}
                    missing = {"method", "path_template", "groups"} - set(header)
                    if missing:
                        raise ValueError("%s: header lacks %s" % (path, ", ".join(sorted(missing))))
                    continue
                try:
                    groups = fields[header["groups"]].strip()
                    op_id = fields[header["operation_id"]] if "operation_id" in header else ""
                    self.operations.append(Operation(
                        fields[header["method"]].strip().upper(),
                        fields[header["path_template"]].strip(), op_id.strip(),
                        UNKNOWN if groups == "?" else
                        [] if groups == "-" else [g.strip() for g in groups.split(";")]))
                except IndexError:
                    raise ValueError("%s:%d: too few columns" % (path, number)) from None
        # Literal segments win: /tokens/verify before /tokens/{token_id}.
        self.operations.sort(key=lambda op: op.params)

    def lookup(self, method, api_path):
        """The row for METHOD and a concrete path under /client/v4, or None."""
        for op in self.operations:
            if op.method == method and op.pattern.match(api_path):
                return op
        return None

    def has_template(self, method, template):
        return any(op.method == method and op.template == template for op in self.operations)
