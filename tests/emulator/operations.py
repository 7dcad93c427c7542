"""The table of API operations and the permission groups each accepts.

data/api-operations.tsv at the top of the repository (tab-separated, "#"
comments, a header line first): method, path_template, operation_id, groups
(names as in permission-groups.json separated by "; ", "-" for none, "?"
for not yet looked up), used_by, source. cftoken explains a 403 with it;
the emulator enforces it, so that a token lacking every accepted group of
an operation is refused here as Cloudflare refuses it.

It is read by data/gen_operations.py's read_table, as the build reads it.
"""

import os
import re
import sys

DATA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "data")
sys.path.insert(0, DATA_DIR)
import gen_operations  # noqa: E402  (data/: the table's one reader)

DEFAULT_TABLE = os.path.join(DATA_DIR, "api-operations.tsv")
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
        """The table as the build reads it (data/gen_operations.py's
        read_table: one parser, one set of rules); a malformed table
        raises its TableError."""
        self.path = path
        self.operations = []
        for row in gen_operations.read_table(path):
            groups = row["groups"]
            self.operations.append(Operation(
                row["method"], row["path_template"], row["operation_id"],
                UNKNOWN if groups == gen_operations.UNKNOWN else
                [] if groups == gen_operations.NONE else groups))
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
