"""Self-tests of the emulator's Worker, KV, R2 and D1 routes and of its
enforcement of data/api-operations.tsv; run by test_emulator.py, whose
emulator, client and TAP they share (run(c, T, ...)).

Every call of wrangler's that the emulator serves is made here as wrangler
makes it: a deploy's multipart upload, versions, deployments, the
workers.dev toggle, routes, KV, R2 and D1 (real SQL). Then each operation
with groups in the table is called by tokens holding exactly one of its
accepted groups (success) and by tokens holding none, or holding the group
on another resource (403 10000).
"""

import json
import os
import re
import sys
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import cfemu  # noqa: E402
import openapi_check  # noqa: E402
import operations  # noqa: E402

EXTRACT = os.path.join(HERE, "data", "cloudflare-workers-openapi.json")

ACC_KEY = "com.cloudflare.api.account."
ZONE_KEY = "com.cloudflare.api.account.zone."


class Ctx:
    def __init__(self, c, tap, account, zone, other_zone, deliberate):
        self.c, self.T = c, tap
        self.deliberate = deliberate   # seqs of requests that break the schema on purpose
        self.account, self.zone, self.other_zone = account, zone, other_zone
        self.serial = 0

    def next(self):
        self.serial += 1
        return self.serial

    def last_seq(self):
        return self.c.emu("GET", "log")[1][-1]["seq"]

    def token(self, groups, resources=None, deny=None):
        """A new account-owned token holding groups on resources (the account)."""
        policies = [{"effect": "allow", "permission_groups": [{"name": g} for g in groups],
                     "resources": resources or {ACC_KEY + self.account: "*"}}]
        if deny:
            policies.append({"effect": "deny", "permission_groups": [{"name": g} for g in deny],
                             "resources": {ACC_KEY + self.account: "*"}})
        status, answer = self.c.emu("POST", "tokens", {
            "owner": "account", "account_id": self.account, "name": "groups probe",
            "policies": policies})
        assert status == 200, answer
        return answer["value"]

    def call(self, token, method, path, body=None, raw=None, content_type=None):
        headers = {"Content-Type": content_type} if content_type else None
        status, response, parsed, payload = self.c.request(
            method, "/client/v4" + path, body, token, raw=raw, headers=headers)
        return status, parsed, payload


def multipart(parts):
    """(content type, body) of a multipart/form-data body, as undici's
    FormData sends wrangler's upload: parts of (name, filename, type, bytes)."""
    boundary = "----formdata-undici-0%s" % uuid.uuid4().hex[:12]
    body = b""
    for name, filename, ctype, data in parts:
        disposition = 'form-data; name="%s"' % name
        if filename:
            disposition += '; filename="%s"' % filename
        body += ("--%s\r\nContent-Disposition: %s\r\nContent-Type: %s\r\n\r\n"
                 % (boundary, disposition, ctype)).encode() + data + b"\r\n"
    body += ("--%s--\r\n" % boundary).encode()
    return "multipart/form-data; boundary=" + boundary, body


WORKER_JS = b"export default { async fetch() { return new Response('hello'); } };\n"


def worker_upload(bindings, extra=None):
    metadata = {"main_module": "index.js", "bindings": bindings,
                "compatibility_date": "2025-01-01", "compatibility_flags": []}
    metadata.update(extra or {})
    return multipart([("metadata", None, "application/json", json.dumps(metadata).encode()),
                      ("index.js", "index.js", "application/javascript+module", WORKER_JS)])


def codes(envelope):
    return [e.get("code") for e in (envelope or {}).get("errors", [])]


def denied(status, env):
    return status == 403 and codes(env) == [10000] and \
        env["errors"][0]["message"] == "Authentication error"


# ---- the table covers what the emulator serves ------------------------------------------

def normal(template):
    return re.sub(r"\{[^}]+\}", "{}", template)


def test_table_covers_routes(ctx):
    table = operations.OperationTable()
    served = set()
    for method, pattern, _handler, _scope in cfemu.ROUTES:
        source = pattern.pattern.strip("^$")
        served.add((method, normal(re.sub(r"\(\?P<\w+>\[\^/\]\+\)", "{x}", source))))
    rows = {(op.method, normal(op.template)) for op in table.operations}
    missing = sorted(served - rows)
    ctx.T.ok(not missing, "every route the emulator serves under /client/v4 is a row of "
             "data/api-operations.tsv", missing)
    with open(os.path.join(HERE, "data", "permission-groups.json")) as f:
        names = {g["name"] for g in json.load(f)}
    unknown = sorted({g for op in table.operations for g in op.groups or [] if g not in names})
    ctx.T.ok(not unknown, "every group of the table is a permission group", unknown)


# ---- what a deploy and the storage commands call ------------------------------------------

def test_storage(ctx):
    T, acc = ctx.T, "/accounts/%s" % ctx.account
    tok = ctx.token(["Workers KV Storage Write", "Workers R2 Storage Write", "D1 Write"])
    status, env, _ = ctx.call(tok, "POST", acc + "/storage/kv/namespaces", {"title": "my-kv"})
    T.ok(status == 200 and re.match(r"^[0-9a-f]{32}$", env["result"]["id"])
         and env["result"]["title"] == "my-kv", "kv namespace create: 200, a 32-hex id", env)
    ns = env["result"]["id"]
    status, env, _ = ctx.call(tok, "POST", acc + "/storage/kv/namespaces", {"title": "my-kv"})
    T.ok(status == 400 and codes(env) == [10014], "kv namespace create: a taken title is 400 10014",
         env)
    status, env, _ = ctx.call(tok, "GET", acc + "/storage/kv/namespaces?per_page=1000")
    T.ok(status == 200 and [n["id"] for n in env["result"]] == [ns],
         "kv namespace list (per_page=1000, as wrangler asks)", env)
    base = acc + "/storage/kv/namespaces/%s" % ns
    status, env, _ = ctx.call(tok, "PUT", base + "/values/greeting%2Fone", raw=b"hello, world",
                              content_type="text/plain")
    T.ok(status == 200 and env["success"], "kv key put: the raw body is the value", env)
    ctype, body = multipart([("value", None, "text/plain", b"v2"),
                             ("metadata", None, "text/plain", b'{"k": 1}')])
    status, env, _ = ctx.call(tok, "PUT", base + "/values/second", raw=body, content_type=ctype)
    T.ok(status == 200, "kv key put with metadata (multipart value + metadata)", env)
    status, _, payload = ctx.call(tok, "GET", base + "/values/greeting%2Fone")
    T.ok(status == 200 and payload == b"hello, world",
         "kv key get: the value itself, not an envelope; names are URL-decoded", payload)
    status, env, _ = ctx.call(tok, "GET", base + "/values/nothing")
    T.ok(status == 404 and codes(env) == [10009], "kv key get of a missing key: 404 10009", env)
    status, env, _ = ctx.call(tok, "GET", base + "/keys?prefix=")
    T.ok(status == 200 and env["result"] == [{"name": "greeting/one"},
                                             {"name": "second", "metadata": {"k": 1}}]
         and env["result_info"]["cursor"] == "", "kv key list: names, metadata, an empty cursor",
         env)
    status, env, _ = ctx.call(tok, "GET", acc + "/storage/kv/namespaces/%s/keys" % ("0" * 32))
    T.ok(status == 404 and codes(env) == [10013], "kv: an unknown namespace is 404 10013", env)

    status, env, _ = ctx.call(tok, "POST", acc + "/r2/buckets", {"name": "my-bucket"})
    T.ok(status == 200 and env["result"]["name"] == "my-bucket", "r2 bucket create", env)
    status, env, _ = ctx.call(tok, "POST", acc + "/r2/buckets", {"name": "my-bucket"})
    T.ok(status == 409 and codes(env) == [10004], "r2 bucket create twice: 409 10004", env)
    status, env, _ = ctx.call(tok, "POST", acc + "/r2/buckets", {"name": "No_Such"})
    ctx.deliberate.add(ctx.last_seq())
    T.ok(status == 400, "r2 bucket create: a bad name is 400", env)
    status, env, _ = ctx.call(tok, "GET", acc + "/r2/buckets")
    T.ok(status == 200 and [b["name"] for b in env["result"]["buckets"]] == ["my-bucket"],
         "r2 bucket list: {buckets: [...]}", env)
    status, env, _ = ctx.call(tok, "GET", acc + "/r2/buckets/my-bucket")
    status2, env2, _ = ctx.call(tok, "GET", acc + "/r2/buckets/no-such-bucket")
    T.ok(status == 200 and env["result"]["name"] == "my-bucket" and status2 == 404
         and codes(env2) == [10006], "r2 bucket get (deploy's check of a bound bucket)", (env, env2))

    status, env, _ = ctx.call(tok, "POST", acc + "/d1/database", {"name": "my-db"})
    T.ok(status == 200 and env["result"]["name"] == "my-db"
         and re.match(r"^[0-9a-f-]{36}$", env["result"]["uuid"]), "d1 create: a uuid", env)
    db = env["result"]["uuid"]
    status, env, _ = ctx.call(tok, "GET", acc + "/d1/database?per_page=10&page=1")
    T.ok(status == 200 and [d["uuid"] for d in env["result"]] == [db], "d1 list", env)
    status, env, _ = ctx.call(tok, "GET", acc + "/d1/database/my-db")
    T.ok(status == 200 and env["result"]["uuid"] == db, "d1 get by name (wrangler passes one)", env)
    sql = ("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO t (v) VALUES ('a;b'), "
           "('c'); SELECT v FROM t ORDER BY id;")
    status, env, _ = ctx.call(tok, "POST", acc + "/d1/database/%s/query" % db, {"sql": sql})
    result = (env or {}).get("result") or []
    T.ok(status == 200 and len(result) == 3 and result[1]["meta"]["changes"] == 2
         and result[2]["results"] == [{"v": "a;b"}, {"v": "c"}] and all(r["success"] for r in result),
         "d1 execute --command: real SQL, one result per statement", env)
    status, env, _ = ctx.call(tok, "POST", acc + "/d1/database/%s/query" % db,
                              {"sql": "SELECT v FROM t WHERE id = ?", "params": ["2"]})
    T.ok(status == 200 and env["result"][0]["results"] == [{"v": "c"}], "d1 query with params", env)
    status, env, _ = ctx.call(tok, "POST", acc + "/d1/database/%s/query" % db,
                              {"sql": "INSERT INTO t (v) VALUES ('x'); SELECT nothing FROM t;"})
    status2, env2, _ = ctx.call(tok, "POST", acc + "/d1/database/%s/query" % db,
                                {"sql": "SELECT count(*) AS n FROM t"})
    T.ok(status == 400 and codes(env) == [7500] and env2["result"][0]["results"] == [{"n": 2}],
         "d1: a failing statement is 400 7500 and rolls the batch back", (env, env2))
    return {"kv": ns, "bucket": "my-bucket", "d1": db}


def test_deploy(ctx, resources):
    T, acc = ctx.T, "/accounts/%s" % ctx.account
    tok = ctx.token(["Workers Scripts Write", "Workers Routes Write"])
    script = acc + "/workers/scripts/deployed"
    status, env, _ = ctx.call(tok, "GET", acc + "/workers/services/deployed")
    T.ok(status == 404 and codes(env) == [10090],
         "services GET of a new Worker: 404 10090 (wrangler: a new Worker)", env)
    status, env, _ = ctx.call(tok, "GET", script + "/deployments")
    T.ok(status == 404 and codes(env) == [10007], "deployments of a new Worker: 404 10007", env)
    bindings = [{"type": "kv_namespace", "name": "KV", "namespace_id": resources["kv"]},
                {"type": "r2_bucket", "name": "BUCKET", "bucket_name": resources["bucket"]},
                {"type": "d1", "name": "DB", "id": resources["d1"]}]
    ctype, body = worker_upload(bindings)
    status, env, _ = ctx.call(tok, "PUT", script + "?excludeScript=true&bindings_inherit=strict",
                              raw=body, content_type=ctype)
    T.ok(status == 200 and env["result"]["id"] == "deployed" and env["result"]["etag"]
         and re.match(r"^[0-9a-f-]{36}$", env["result"]["deployment_id"]),
         "PUT script (multipart, metadata part): a new Worker, deployed", env)
    ctype, bad = worker_upload([{"type": "kv_namespace", "name": "KV", "namespace_id": "f" * 32}])
    status, env, _ = ctx.call(tok, "PUT", script, raw=bad, content_type=ctype)
    T.ok(status == 400 and codes(env) == [10021], "PUT script binding an unknown namespace: 400",
         env)
    ctype2, nometa = multipart([("index.js", "index.js", "application/javascript+module",
                                 WORKER_JS)])
    status, env, _ = ctx.call(tok, "PUT", script, raw=nometa, content_type=ctype2)
    T.ok(status == 400 and codes(env) == [10021], "PUT script without a metadata part: 400", env)
    big_js = b"// " + b"x" * (20 << 20) + b"\n" + WORKER_JS
    ctype3, big = multipart([
        ("metadata", None, "application/json", json.dumps(
            {"main_module": "index.js", "bindings": []}).encode()),
        ("index.js", "index.js", "application/javascript+module", big_js)])
    status, env, _ = ctx.call(tok, "PUT", acc + "/workers/scripts/big-one", raw=big,
                              content_type=ctype3)
    T.ok(status == 200 and env["result"]["id"] == "big-one",
         "a 20 MB multipart upload is accepted", (status, env))

    status, env, _ = ctx.call(tok, "GET", acc + "/workers/services/deployed")
    T.ok(status == 200 and env["result"]["default_environment"]["script"]["tag"]
         and env["result"]["default_environment"]["environment"] == "production",
         "services GET of a deployed Worker: default_environment.script.tag", env)
    status, env, _ = ctx.call(tok, "GET", script + "/settings")
    T.ok(status == 200 and sorted(b["name"] for b in env["result"]["bindings"])
         == ["BUCKET", "DB", "KV"], "settings: the deployed version's bindings", env)
    status, env, _ = ctx.call(tok, "GET", script + "/deployments")
    first = (env or {}).get("result", {}).get("deployments") or [{}]
    T.ok(status == 200 and len(first) == 1 and first[0]["versions"][0]["percentage"] == 100,
         "deployments list: the upload's deployment at 100%", env)

    ctype, body = worker_upload(bindings, {"annotations": {"workers/message": "second"}})
    status, env, _ = ctx.call(tok, "POST", script + "/versions?bindings_inherit=strict",
                              raw=body, content_type=ctype)
    version = (env or {}).get("result") or {}
    T.ok(status == 200 and version.get("number") == 2 and version["resources"]["script"]["etag"]
         and version["annotations"]["workers/message"] == "second",
         "versions upload: a version with its number, etag and annotations", env)
    status, env, _ = ctx.call(tok, "GET", script + "/versions/%s" % version.get("id"))
    T.ok(status == 200 and env["result"]["id"] == version.get("id"), "version detail", env)
    status, env, _ = ctx.call(tok, "GET", script + "/versions/%s" % uuid.uuid4())
    T.ok(status == 404, "an unknown version: 404", env)
    body = {"strategy": "percentage", "versions": [{"version_id": version.get("id"),
                                                    "percentage": 100}],
            "annotations": {"workers/message": "go"}}
    status, env, _ = ctx.call(tok, "POST", script + "/deployments", body)
    T.ok(status == 200 and env["result"]["versions"][0]["version_id"] == version.get("id"),
         "deployments create: the version at 100%", env)
    status, env, _ = ctx.call(tok, "POST", script + "/deployments",
                              dict(body, versions=[{"version_id": version.get("id"),
                                                    "percentage": 50}]))
    T.ok(status == 400, "a deployment whose percentages do not sum to 100: 400", env)
    status, env, _ = ctx.call(tok, "GET", script + "/deployments")
    T.ok(status == 200 and len(env["result"]["deployments"]) == 2
         and env["result"]["deployments"][0]["versions"][0]["version_id"] == version.get("id"),
         "deployments list: newest first", env)
    status, env, _ = ctx.call(tok, "PATCH", script + "/script-settings",
                              {"logpush": False, "tags": [], "observability": {"enabled": False},
                               "tail_consumers": []})
    T.ok(status == 200 and env["result"]["logpush"] is False, "script-settings PATCH", env)

    status, env, _ = ctx.call(tok, "GET", acc + "/workers/subdomain")
    T.ok(status == 200 and env["result"] == {"subdomain": "example"},
         "account workers.dev subdomain", env)
    status, env, _ = ctx.call(tok, "GET", script + "/subdomain")
    T.ok(status == 200 and env["result"] == {"enabled": False, "previews_enabled": False},
         "a Worker's workers.dev toggle starts off", env)
    status, env, _ = ctx.call(tok, "POST", script + "/subdomain",
                              {"enabled": True, "previews_enabled": False})
    status2, env2, _ = ctx.call(tok, "GET", script + "/subdomain")
    T.ok(status == 200 and env2["result"]["enabled"] is True, "workers.dev toggled on", env2)

    status, env, _ = ctx.call(tok, "PUT", script + "/routes",
                              [{"pattern": "api.example.com/*", "zone_name": "example.com"}])
    T.ok(status == 200 and env["result"][0]["pattern"] == "api.example.com/*",
         "PUT the Worker's routes (zone by name)", env)
    status, env, _ = ctx.call(tok, "PUT", script + "/routes", [{"pattern": "nowhere.test/*"}])
    T.ok(status == 400, "a route in no zone of the account: 400", env)
    zroutes = "/zones/%s/workers/routes" % ctx.zone
    status, env, _ = ctx.call(tok, "GET", zroutes)
    T.ok(status == 200 and [(r["pattern"], r["script"]) for r in env["result"]]
         == [("api.example.com/*", "deployed")], "the zone's routes list the Worker's", env)
    status, env, _ = ctx.call(tok, "POST", zroutes, {"pattern": "www.example.com/*",
                                                     "script": "deployed"})
    T.ok(status == 200 and env["result"]["pattern"] == "www.example.com/*",
         "POST a zone route (wrangler's fallback)", env)
    status, env, _ = ctx.call(tok, "GET", "/zones/%s/workers/routes" % ("9" * 32))
    T.ok(status == 404, "routes of an unknown zone: 404", env)


# ---- every operation with groups: 403 without, success with any one ---------------------

def requests_by_operation(ctx, resources):
    """(method, template) -> a function(serial) giving (path, json body, raw, content type)
    for a call that succeeds with the right group."""
    acc = "/accounts/%s" % ctx.account
    kv = acc + "/storage/kv/namespaces/%s" % resources["kv"]
    script = acc + "/workers/scripts/deployed"
    d1 = acc + "/d1/database/%s" % resources["d1"]

    def upload(n, path):
        ctype, body = worker_upload([])
        return path, None, body, ctype

    def version_id():
        status, env, _ = ctx.call(ctx.token(["Workers Scripts Read"]), "GET", script + "/deployments")
        return env["result"]["deployments"][0]["versions"][0]["version_id"]

    def secret_to_delete(n):
        ctx.call(ctx.token(["Workers Scripts Write"]), "PUT", script + "/secrets",
                 {"name": "D%d" % n, "text": "t", "type": "secret_text"})
        return script + "/secrets/D%d" % n, None, None, None

    A = "/accounts/{account_id}"
    S = A + "/workers/scripts/{script_name}"
    # Rows whose groups the table may give later ("?" today) have theirs too.
    return {
        ("GET", A + "/workers/services/{service_name}"): lambda n: (
            acc + "/workers/services/deployed", None, None, None),
        ("PUT", S + "/routes"): lambda n: (script + "/routes", [
            {"pattern": "api.example.com/*", "zone_name": "example.com"}], None, None),
        ("GET", S + "/secrets/{secret_name}"): lambda n: (
            script + "/secrets/" + secret_to_delete(n)[0].rsplit("/", 1)[1], None, None, None),
        ("GET", A + "/r2/buckets/{bucket_name}"): lambda n: (
            acc + "/r2/buckets/" + resources["bucket"], None, None, None),
        ("GET", S + "/secrets"): lambda n: (script + "/secrets", None, None, None),
        ("PUT", S + "/secrets"): lambda n: (script + "/secrets", {
            "name": "S%d" % n, "text": "t", "type": "secret_text"}, None, None),
        ("DELETE", S + "/secrets/{secret_name}"): lambda n: secret_to_delete(n),
        ("GET", A + "/workers/subdomain"): lambda n: (acc + "/workers/subdomain", None, None, None),
        ("PUT", A + "/workers/subdomain"): lambda n: (acc + "/workers/subdomain",
                                                      {"subdomain": "example"}, None, None),
        ("GET", S + "/deployments"): lambda n: (script + "/deployments", None, None, None),
        ("POST", S + "/deployments"): lambda n: (script + "/deployments", {
            "strategy": "percentage", "versions": [{"version_id": version_id(),
                                                    "percentage": 100}]}, None, None),
        ("GET", S + "/versions/{version_id}"): lambda n: (
            script + "/versions/" + version_id(), None, None, None),
        ("GET", S + "/settings"): lambda n: (script + "/settings", None, None, None),
        ("PUT", S): lambda n: upload(n, acc + "/workers/scripts/perm-%d" % n),
        ("POST", S + "/versions"): lambda n: upload(n, script + "/versions"),
        ("PATCH", S + "/script-settings"): lambda n: (script + "/script-settings",
                                                      {"logpush": False}, None, None),
        ("GET", S + "/subdomain"): lambda n: (script + "/subdomain", None, None, None),
        ("POST", S + "/subdomain"): lambda n: (script + "/subdomain", {
            "enabled": True, "previews_enabled": False}, None, None),
        ("GET", "/zones/{zone_id}/workers/routes"): lambda n: (
            "/zones/%s/workers/routes" % ctx.zone, None, None, None),
        ("POST", "/zones/{zone_id}/workers/routes"): lambda n: (
            "/zones/%s/workers/routes" % ctx.zone, {"pattern": "p%d.example.com/*" % n,
                                                    "script": "deployed"}, None, None),
        ("GET", A + "/storage/kv/namespaces"): lambda n: (
            acc + "/storage/kv/namespaces", None, None, None),
        ("POST", A + "/storage/kv/namespaces"): lambda n: (
            acc + "/storage/kv/namespaces", {"title": "kv-%d" % n}, None, None),
        ("PUT", A + "/storage/kv/namespaces/{namespace_id}/values/{key_name}"): lambda n: (
            kv + "/values/k%d" % n, None, b"v", "text/plain"),
        ("GET", A + "/storage/kv/namespaces/{namespace_id}/values/{key_name}"): lambda n: (
            kv + "/values/second", None, None, None),
        ("GET", A + "/storage/kv/namespaces/{namespace_id}/keys"): lambda n: (
            kv + "/keys", None, None, None),
        ("POST", A + "/r2/buckets"): lambda n: (acc + "/r2/buckets", {"name": "b-%d" % n},
                                                None, None),
        ("GET", A + "/r2/buckets"): lambda n: (acc + "/r2/buckets", None, None, None),
        ("POST", A + "/d1/database"): lambda n: (acc + "/d1/database", {"name": "db-%d" % n},
                                                 None, None),
        ("GET", A + "/d1/database"): lambda n: (acc + "/d1/database", None, None, None),
        ("GET", A + "/d1/database/{database_id}"): lambda n: (d1, None, None, None),
        ("POST", A + "/d1/database/{database_id}/query"): lambda n: (
            d1 + "/query", {"sql": "SELECT 1 AS one"}, None, None),
    }


def test_enforcement(ctx, resources):
    T = ctx.T
    table = operations.OperationTable()
    calls = {(m, normal(t)): make for (m, t), make in requests_by_operation(ctx, resources).items()}
    served = {(m, normal(re.sub(r"\(\?P<\w+>\[\^/\]\+\)", "{x}", p.pattern.strip("^$"))))
              for m, p, _h, scope in cfemu.ROUTES
              if getattr(scope, "__module__", "") == "access" or scope is cfemu.workers_scope}
    enforced = [op for op in table.operations if op.groups
                and (op.method, normal(op.template)) in served]
    untested = [(op.method, op.template) for op in enforced
                if (op.method, normal(op.template)) not in calls]
    T.ok(enforced and not untested, "a request for every enforced operation the emulator serves "
         "(%d)" % len(enforced),
         untested)
    nobody = ctx.token(["Account API Tokens Read"])
    wrong = []
    right = []
    for op in enforced:
        make = calls.get((op.method, normal(op.template)))
        if make is None:
            continue
        path, body, raw, ctype = make(ctx.next())
        status, env, _ = ctx.call(nobody, op.method, path, body, raw, ctype)
        if not denied(status, env):
            wrong.append((op.method, op.template, status, env))
        for group in op.groups:
            path, body, raw, ctype = make(ctx.next())
            status, env, _ = ctx.call(ctx.token([group]), op.method, path, body, raw, ctype)
            if status != 200:
                right.append((op.method, op.template, group, status, env))
    T.ok(enforced and not wrong, "every enforced operation: 403 10000 for a token lacking every "
         "accepted group", wrong)
    T.ok(enforced and not right, "every enforced operation: 200 with any one accepted group", right)

    # Resources matter: the group on another resource, or taken away by a deny.
    kv_list = "/accounts/%s/storage/kv/namespaces" % ctx.account
    on_zone = ctx.token(["Workers KV Storage Read"], {ZONE_KEY + ctx.zone: "*"})
    status, env, _ = ctx.call(on_zone, "GET", kv_list)
    T.ok(denied(status, env), "a group on a zone does not count for an account path", env)
    on_all = ctx.token(["Workers KV Storage Read"], {ACC_KEY + "*": "*"})
    status, env, _ = ctx.call(on_all, "GET", kv_list)
    T.ok(status == 200, "a group on com.cloudflare.api.account.* counts", env)
    taken = ctx.token(["Workers KV Storage Read"], deny=["Workers KV Storage Read"])
    status, env, _ = ctx.call(taken, "GET", kv_list)
    T.ok(denied(status, env), "a deny policy takes the group away", env)
    routes = "/zones/%s/workers/routes" % ctx.zone
    other_zone = ctx.token(["Workers Routes Read"], {ZONE_KEY + ctx.other_zone: "*"})
    status, env, _ = ctx.call(other_zone, "GET", routes)
    T.ok(denied(status, env), "a zone group on another zone does not count", env)
    this_zone = ctx.token(["Workers Routes Read"], {ZONE_KEY + ctx.zone: "*"})
    status, env, _ = ctx.call(this_zone, "GET", routes)
    T.ok(status == 200, "a zone group on the zone counts", env)
    status, env, _ = ctx.call(ctx.token(["Workers Scripts Write"]), "GET",
                              "/accounts/%s/storage/kv/namespaces" % ("f" * 32))
    T.ok(status == 404 and codes(env) == [7003], "an unknown account: 404 7003 before the groups",
         env)


def test_schema(ctx):
    """The Workers extract validates what it should, and its contradictions
    (openapi_check._envelope) do not hide a wrong answer."""
    T = ctx.T
    doc = openapi_check.OpenAPI(EXTRACT)
    op_id, op = doc.find_operation("GET", "/accounts/%s/workers/scripts/w/deployments"
                                   % ctx.account)
    ok = {"success": True, "errors": [], "messages": [], "result": {"deployments": []}}
    T.ok(op_id == "worker-deployments-list-deployments" and doc.check_response(op, 200, ok) == [],
         "Workers extract: a list answer validates (the common envelope's result yields)")
    wrong = dict(ok, result=[])
    T.ok(doc.check_response(op, 200, wrong) != [],
         "Workers extract: a result of the wrong type is still caught")
    failure = {"success": False, "errors": [{"code": 10000, "message": "Authentication error"}],
               "messages": [], "result": None}
    T.ok(doc.check_response(op, 403, failure) == [],
         "Workers extract: a failure envelope validates against a 4XX of success + failure")
    T.ok(doc.check_response(op, 403, dict(failure, errors=[{"message": "no code"}])) != [],
         "Workers extract: a failure without a code is caught")
    _, op = doc.find_operation("GET", "/accounts/%s/r2/buckets" % ctx.account)
    T.ok(doc.check_response(op, 200, {"success": True, "errors": [], "messages": [],
                                      "result": {"buckets": [{"name": "bucket-1"}]}}) == [],
         "Workers extract: R2 buckets list as {buckets: [...]} (2026 operation)")


def test_exercised(ctx):
    """Every operation of the Workers extract was answered in this run."""
    doc = openapi_check.OpenAPI(EXTRACT)
    ids = {op.get("operationId") for item in doc.document["paths"].values()
           for op in item.values() if isinstance(op, dict) and op.get("operationId")}
    seen = {e["operation"] for e in ctx.c.emu("GET", "log")[1] if e["status"] == 200}
    ctx.T.ok(ids and not ids - seen, "every operation of the Workers extract was answered 200 "
             "and checked (%d)" % len(ids), sorted(ids - seen))


def run(c, tap, account, zone, other_zone, deliberate):
    ctx = Ctx(c, tap, account, zone, other_zone, deliberate)
    test_table_covers_routes(ctx)
    resources = test_storage(ctx)
    test_deploy(ctx, resources)
    test_enforcement(ctx, resources)
    test_schema(ctx)
    test_exercised(ctx)
