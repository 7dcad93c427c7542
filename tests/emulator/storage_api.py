"""KV, R2 and D1 routes of the emulator: what `wrangler kv namespace
create/list`, `kv key put/get/list --remote`, `r2 bucket create/list` and
`d1 create/list/execute --remote` call, in the shapes wrangler 4 reads and
Cloudflare's schema describes (data/cloudflare-workers-openapi.json).

State in memory: KV namespaces with their keys, R2 buckets (names only, no
objects), D1 databases, each a real in-memory SQLite database, so that
`d1 execute --command` runs real SQL. Permissions: access.py, from
data/api-operations.tsv.
"""

import json
import re
import sqlite3
import time
import urllib.parse
import uuid

import access
import cfemu
import workers_api

# Codes: KV's and D1's as the API is seen to use them; the others chosen
# here (named, documented in README.md; clients key on status and message).
CODE_KV_NAMESPACE_NOT_FOUND = 10013
CODE_KV_KEY_NOT_FOUND = 10009
CODE_KV_TITLE_TAKEN = 10014
CODE_R2_BUCKET_EXISTS = 10004
CODE_R2_BAD_NAME = 10005
CODE_R2_NO_BUCKET = 10006
CODE_D1_NOT_FOUND = 7404
CODE_D1_NAME_TAKEN = 7502
CODE_D1_SQL = 7500

R2_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")
D1_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
KV_LIST_LIMIT = 1000


class Database:
    """A D1 database: an in-memory SQLite database, used under the state lock."""

    def __init__(self, account_id, name, now, location=None):
        self.account_id = account_id
        self.uuid = str(uuid.uuid4())
        self.name = name
        self.created_at = now
        self.location = location
        self.sqlite = sqlite3.connect(":memory:", check_same_thread=False,
                                      isolation_level=None)

    def render(self):
        tables = self.sqlite.execute(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' "
            "AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'").fetchone()[0]
        size = self.size()
        return {"uuid": self.uuid, "name": self.name, "version": "production",
                "created_at": cfemu.fmt_time(self.created_at), "num_tables": tables,
                "file_size": size}

    def size(self):
        pages = self.sqlite.execute("PRAGMA page_count").fetchone()[0]
        return pages * self.sqlite.execute("PRAGMA page_size").fetchone()[0]


class StorageState:
    def __init__(self, state, seed):
        self.state = state
        self.kv = {}    # (account_id, namespace_id) -> {"title", "keys": {name: (bytes, metadata)}}
        self.r2 = {}    # (account_id, bucket_name) -> {"creation_date", "location"}
        self.d1 = {}    # (account_id, uuid) -> Database


def lenient_page(query, items, max_per_page):
    """(chunk, result_info) for page / per_page (1..max_per_page)."""
    try:
        page = max(1, int(query.get("page", 1)))
        per_page = min(max(1, int(query.get("per_page", 20))), max_per_page)
    except ValueError:
        raise cfemu.ApiError(400, cfemu.CODE_INVALID_PAGINATION,
                             "page and per_page must be integers") from None
    chunk = items[(page - 1) * per_page: page * per_page]
    return chunk, {"page": page, "per_page": per_page, "count": len(chunk),
                   "total_count": len(items)}


# ---- KV ------------------------------------------------------------------------------

def render_namespace(namespace_id, ns):
    return {"id": namespace_id, "title": ns["title"], "supports_url_encoding": True}


def namespace(call, account_id):
    ns = call.state.storage.kv.get((account_id, call.params["namespace_id"]))
    if ns is None:
        raise cfemu.ApiError(404, CODE_KV_NAMESPACE_NOT_FOUND, "namespace not found")
    return ns


def list_namespaces(call, account_id):
    spaces = [(k[1], ns) for k, ns in call.state.storage.kv.items() if k[0] == account_id]
    spaces.sort(key=lambda item: item[1]["title"])
    chunk, info = lenient_page(call.query, spaces, 1000)
    return 200, cfemu.success_envelope([render_namespace(i, ns) for i, ns in chunk],
                                       result_info=info)


def create_namespace(call, account_id):
    body = cfemu.parsed_body(call)
    title = body.get("title") if isinstance(body, dict) else None
    if not isinstance(title, str) or not title.strip() or len(title) > 512:
        raise cfemu.invalid_body("title must be a non-empty string of at most 512 characters")
    kv = call.state.storage.kv
    if any(k[0] == account_id and ns["title"] == title for k, ns in kv.items()):
        raise cfemu.ApiError(400, CODE_KV_TITLE_TAKEN,
                             "a namespace with this account ID and title already exists")
    namespace_id = uuid.uuid4().hex
    kv[(account_id, namespace_id)] = {"title": title, "keys": {}}
    return 200, cfemu.success_envelope(render_namespace(namespace_id, kv[(account_id, namespace_id)]))


def key_name(call):
    name = urllib.parse.unquote(call.params["key_name"])
    if not name or len(name.encode()) > 512 or name in (".", ".."):
        raise cfemu.invalid_body("key names are 1 to 512 bytes, not . or ..")
    return name


def put_value(call, account_id):
    """PUT .../values/{key}: the raw body is the value, or a multipart body
    with "value" and "metadata" parts (wrangler sends that with --metadata)."""
    ns = namespace(call, account_id)
    name = key_name(call)
    content_type = call.headers.get("Content-Type", "") if call.headers else ""
    metadata = None
    value = call.raw
    if content_type.lower().startswith("multipart/form-data"):
        parts = workers_api.multipart_parts(call)
        if "value" not in parts:
            raise cfemu.invalid_body("a multipart KV write needs a value part")
        value = parts["value"][2]
        if "metadata" in parts:
            try:
                metadata = json.loads(parts["metadata"][2])
            except ValueError:
                raise cfemu.invalid_body("metadata must be JSON") from None
    if len(value) > 25 << 20:
        raise cfemu.ApiError(413, cfemu.CODE_INVALID_BODY, "value larger than 25 MiB")
    ns["keys"][name] = (bytes(value), metadata)
    return 200, cfemu.success_envelope({})


def get_value(call, account_id):
    """GET .../values/{key}: the value itself, not an envelope."""
    ns = namespace(call, account_id)
    entry = ns["keys"].get(key_name(call))
    if entry is None:
        raise cfemu.ApiError(404, CODE_KV_KEY_NOT_FOUND, "get: 'key not found'")
    return 200, cfemu.RawBody(entry[0])


def list_keys(call, account_id):
    """GET .../keys?prefix=&limit=&cursor=: names in order, a cursor while more remain."""
    ns = namespace(call, account_id)
    prefix = call.query.get("prefix", "")
    try:
        limit = min(max(10, int(call.query.get("limit", KV_LIST_LIMIT))), KV_LIST_LIMIT)
        start = int(call.query.get("cursor") or 0)
    except ValueError:
        raise cfemu.invalid_body("limit and cursor must be what the last answer gave") from None
    names = sorted(n for n in ns["keys"] if n.startswith(prefix))
    chunk = names[start:start + limit]
    cursor = str(start + limit) if start + limit < len(names) else ""
    result = []
    for n in chunk:
        item = {"name": n}
        if ns["keys"][n][1] is not None:
            item["metadata"] = ns["keys"][n][1]
        result.append(item)
    return 200, cfemu.success_envelope(result, result_info={"count": len(chunk), "cursor": cursor})


# ---- R2 ------------------------------------------------------------------------------

def render_bucket(name, bucket):
    return {"name": name, "creation_date": bucket["creation_date"],
            "location": bucket["location"], "storage_class": bucket["storage_class"]}


def create_bucket(call, account_id):
    body = cfemu.parsed_body(call)
    name = body.get("name") if isinstance(body, dict) else None
    if not isinstance(name, str) or not R2_NAME_RE.match(name):
        raise cfemu.ApiError(400, CODE_R2_BAD_NAME, "The specified bucket name is not valid.")
    r2 = call.state.storage.r2
    if (account_id, name) in r2:
        raise cfemu.ApiError(409, CODE_R2_BUCKET_EXISTS,
                             "The bucket you tried to create already exists, and you own it.")
    location = body.get("locationHint") or "enam"
    r2[(account_id, name)] = {"creation_date": cfemu.fmt_time(call.now),
                              "location": location.lower(),
                              "storage_class": body.get("storageClass") or "Standard"}
    return 200, cfemu.success_envelope(render_bucket(name, r2[(account_id, name)]))


def get_bucket(call, account_id):
    """GET .../r2/buckets/{name}: wrangler deploy's "does the bound bucket exist"."""
    name = urllib.parse.unquote(call.params["bucket_name"])
    bucket = call.state.storage.r2.get((account_id, name))
    if bucket is None:
        raise cfemu.ApiError(404, CODE_R2_NO_BUCKET, "The specified bucket does not exist.")
    return 200, cfemu.success_envelope(render_bucket(name, bucket))


def list_buckets(call, account_id):
    buckets = sorted((k[1], b) for k, b in call.state.storage.r2.items() if k[0] == account_id)
    return 200, cfemu.success_envelope({"buckets": [render_bucket(n, b) for n, b in buckets]})


# ---- D1 ------------------------------------------------------------------------------

def create_database(call, account_id):
    body = cfemu.parsed_body(call)
    name = body.get("name") if isinstance(body, dict) else None
    if not isinstance(name, str) or not D1_NAME_RE.match(name):
        raise cfemu.invalid_body("name must be 1 to 64 characters [a-z0-9_-]")
    d1 = call.state.storage.d1
    if any(k[0] == account_id and db.name == name for k, db in d1.items()):
        raise cfemu.ApiError(400, CODE_D1_NAME_TAKEN, "A database with that name already exists")
    db = Database(account_id, name, call.now, body.get("primary_location_hint"))
    d1[(account_id, db.uuid)] = db
    result = {"uuid": db.uuid, "name": db.name, "version": "production",
              "created_at": cfemu.fmt_time(db.created_at), "created_in_region": "WEUR"}
    return 200, cfemu.success_envelope(result)


def list_databases(call, account_id):
    dbs = sorted((db for k, db in call.state.storage.d1.items() if k[0] == account_id),
                 key=lambda db: db.name)
    if call.query.get("name"):
        dbs = [db for db in dbs if db.name == call.query["name"]]
    chunk, info = lenient_page(call.query, dbs, 10000)
    return 200, cfemu.success_envelope([db.render() for db in chunk], result_info=info)


def database(call, account_id):
    """The database of the path, by uuid (or by name: wrangler passes one)."""
    ref = urllib.parse.unquote(call.params["database_id"])
    for (account, _), db in call.state.storage.d1.items():
        if account == account_id and ref in (db.uuid, db.name):
            return db
    raise cfemu.ApiError(404, CODE_D1_NOT_FOUND, "The database %s could not be found" % ref)


def get_database(call, account_id):
    return 200, cfemu.success_envelope(database(call, account_id).render())


def split_statements(sql):
    """The statements of sql, split where SQLite says a statement is complete
    (so a ";" inside a string or a trigger body does not split)."""
    statements, current = [], ""
    for piece in sql.split(";"):
        current += piece + ";"
        if sqlite3.complete_statement(current):
            if current.strip(" \t\r\n;"):
                statements.append(current.strip())
            current = ""
    if current.strip(" \t\r\n;"):
        statements.append(current.strip().rstrip(";"))
    return statements


def query_database(call, account_id):
    """POST .../query {"sql", "params"}: one result per statement, run in
    one transaction (all or nothing, as D1 runs a batch)."""
    db = database(call, account_id)
    body = cfemu.parsed_body(call)
    if not isinstance(body, dict):
        body = {}
    sql, params = body.get("sql"), body.get("params") or []
    if not isinstance(sql, str) or not sql.strip() or not isinstance(params, list):
        raise cfemu.invalid_body('a query is {"sql": "...", "params": [...]}')
    statements = split_statements(sql)
    results = []
    conn = db.sqlite
    conn.execute("BEGIN")
    try:
        for statement in statements:
            started = time.monotonic()
            before = conn.total_changes
            cursor = conn.execute(statement, params if len(statements) == 1 else [])
            columns = [d[0] for d in cursor.description or []]
            rows = [dict(zip(columns, row)) for row in cursor.fetchall()]
            changes = conn.total_changes - before
            results.append({"results": rows, "success": True, "meta": {
                "changed_db": changes > 0, "changes": changes,
                "duration": (time.monotonic() - started) * 1000.0,
                "last_row_id": cursor.lastrowid or 0, "rows_read": len(rows),
                "rows_written": changes, "size_after": db.size(), "served_by": "cfemu"}})
        conn.execute("COMMIT")
    except sqlite3.Error as e:
        conn.execute("ROLLBACK")
        raise cfemu.ApiError(400, CODE_D1_SQL, "%s: SQLITE_ERROR" % e) from None
    return 200, cfemu.success_envelope(results)


_A = r"/accounts/(?P<account_id>[^/]+)"
_KV = _A + r"/storage/kv/namespaces"
_NS = _KV + r"/(?P<namespace_id>[^/]+)"
_D1 = _A + r"/d1/database"
ROUTES = [
    ("GET", _KV, list_namespaces, access.account_access),
    ("POST", _KV, create_namespace, access.account_access),
    ("PUT", _NS + r"/values/(?P<key_name>[^/]+)", put_value, access.account_access),
    ("GET", _NS + r"/values/(?P<key_name>[^/]+)", get_value, access.account_access),
    ("GET", _NS + r"/keys", list_keys, access.account_access),
    ("POST", _A + r"/r2/buckets", create_bucket, access.account_access),
    ("GET", _A + r"/r2/buckets", list_buckets, access.account_access),
    ("GET", _A + r"/r2/buckets/(?P<bucket_name>[^/]+)", get_bucket, access.account_access),
    ("POST", _D1, create_database, access.account_access),
    ("GET", _D1, list_databases, access.account_access),
    ("GET", _D1 + r"/(?P<database_id>[^/]+)", get_database, access.account_access),
    ("POST", _D1 + r"/(?P<database_id>[^/]+)/query", query_database, access.account_access),
]
