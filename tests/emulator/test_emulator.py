#!/usr/bin/python3
"""Self-tests of the Cloudflare API emulator, printing TAP.

Starts its own emulator (temporary directory, fresh certificates, a free
port), drives it over HTTPS like a client would, and tears it down.
Run with /usr/bin/python3 (needs Debian's python3-jsonschema).
"""

import concurrent.futures
import datetime
import hashlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import warnings
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import openapi_check  # noqa: E402
import test_workers_routes  # noqa: E402

PYTHON = sys.executable or "/usr/bin/python3"
ACCOUNT = "0123456789abcdef0123456789abcdef"
OTHER_ACCOUNT = "fedcba9876543210fedcba9876543210"
STRANGER_ACCOUNT = "00000000000000000000000000000abc"   # exists, nobody has a policy on it
USER_ID = "11111111111111111111111111111111"
ZONE = "2222222222222222222222222222222a"          # example.com, in ACCOUNT
OTHER_ZONE = "3333333333333333333333333333333b"    # example.org, in ACCOUNT

PARENT = "Pa" + "r" * 38                 # Account API Tokens Write on ACCOUNT
READER = "Re" + "a" * 38                 # Account API Tokens Read on ACCOUNT
DENIED = "De" + "n" * 38                 # Write allowed, then denied
OTHER = "Ot" + "h" * 38                  # Write on OTHER_ACCOUNT (account-owned there)
USER = "cfut_" + "U" * 40 + "00000000"   # user token: API Tokens Write + accounts.*
USER_RO = "Us" + "r" * 38                # user token: API Tokens Read only
SCRIPTS_W = "Ws" + "w" * 38              # Workers Scripts Write on ACCOUNT
SCRIPTS_R = "Wr" + "r" * 38              # Workers Scripts Read on ACCOUNT
SCRIPTS_ANY = "Wa" + "a" * 38            # Workers Scripts Read on com.cloudflare.api.account.*
USER_W = "cfut_" + "W" * 40 + "00000000"  # user token: Workers Scripts Write on ACCOUNT
ALL_VALUES = [PARENT, READER, DENIED, OTHER, USER, USER_RO, SCRIPTS_W, SCRIPTS_R, SCRIPTS_ANY,
              USER_W]

GROUP_IDS = {}  # name -> id, filled from data/permission-groups.json

# An RFC 3339 UTC time as the emulator writes it: its own times to the
# microsecond, a time a client sent as precise as it was sent.
UTC_TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z$")


def instant(value):
    """An RFC 3339 string as an aware datetime, to compare times as times
    (as strings, "05Z" sorts after "05.5Z")."""
    return datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))


def seed():
    def policy(group, resource, effect="allow"):
        return {"effect": effect, "permission_groups": [{"name": group}],
                "resources": {resource: "*"}}
    acc = "com.cloudflare.api.account."
    user = "com.cloudflare.api.user." + USER_ID
    return {
        "accounts": [{"id": ACCOUNT, "name": "Example Account", "workers_subdomain": "example"},
                     {"id": OTHER_ACCOUNT, "name": "Other Account"},
                     {"id": STRANGER_ACCOUNT, "name": "Stranger Account"}],
        "user": {"id": USER_ID, "email": "dev@example.com"},
        "tokens": [
            {"value": PARENT, "owner": "account", "account_id": ACCOUNT, "name": "parent",
             "status": "active", "not_before": None, "expires_on": None, "condition": None,
             "policies": [policy("Account API Tokens Write", acc + ACCOUNT)]},
            {"value": READER, "owner": "account", "account_id": ACCOUNT, "name": "reader",
             "policies": [policy("Account API Tokens Read", acc + ACCOUNT)]},
            {"value": DENIED, "owner": "account", "account_id": ACCOUNT, "name": "denied",
             "policies": [policy("Account API Tokens Write", acc + ACCOUNT),
                          policy("Account API Tokens Write", acc + "*", "deny")]},
            {"value": OTHER, "owner": "account", "account_id": OTHER_ACCOUNT, "name": "other",
             "policies": [policy("Account API Tokens Write", acc + OTHER_ACCOUNT)]},
            {"value": USER, "owner": "user", "name": "user parent",
             "policies": [policy("API Tokens Write", user),
                          {"effect": "allow",
                           "permission_groups": [{"id": "5bc3f8b21c554832afc660159ab75fa4"}],
                           "resources": {acc + ACCOUNT: "*", acc + OTHER_ACCOUNT: "*"}}]},
            {"value": USER_RO, "owner": "user", "name": "user reader",
             "policies": [policy("API Tokens Read", user)]},
            {"value": SCRIPTS_W, "owner": "account", "account_id": ACCOUNT, "name": "scripts writer",
             "policies": [policy("Workers Scripts Write", acc + ACCOUNT)]},
            {"value": SCRIPTS_R, "owner": "account", "account_id": ACCOUNT, "name": "scripts reader",
             "policies": [policy("Workers Scripts Read", acc + ACCOUNT)]},
            {"value": SCRIPTS_ANY, "owner": "account", "account_id": ACCOUNT, "name": "scripts any",
             "policies": [policy("Workers Scripts Read", acc + "*")]},
            {"value": USER_W, "owner": "user", "name": "user scripts writer",
             "policies": [policy("Workers Scripts Write", acc + ACCOUNT)]},
        ],
        "zones": [{"id": ZONE, "name": "example.com", "account_id": ACCOUNT},
                  {"id": OTHER_ZONE, "name": "example.org", "account_id": ACCOUNT}],
        "scripts": [{"account_id": ACCOUNT, "name": "my-worker"},
                    {"account_id": OTHER_ACCOUNT, "name": "other-worker"}],
        "quota": {"account": 500, "user": 50},
        "accounts_list_refuses_account_tokens": False,
    }


# ---- TAP --------------------------------------------------------------------------

class Tap:
    def __init__(self):
        self.results = []

    def ok(self, condition, description, detail=None):
        self.results.append((bool(condition), description, detail))
        return bool(condition)

    def report(self):
        print("1..%d" % len(self.results))
        failed = 0
        for n, (good, description, detail) in enumerate(self.results, 1):
            print("%s %d - %s" % ("ok" if good else "not ok", n, description))
            if not good:
                failed += 1
                if detail is not None:
                    for line in str(detail).splitlines()[:20]:
                        print("#   " + line)
        if failed:
            print("# %d of %d failed" % (failed, len(self.results)))
        return 1 if failed else 0


T = Tap()


# ---- emulator process ------------------------------------------------------------------

class Emulator:
    def __init__(self, workdir, certs, cert="server", seed_data=None, max_lifetime=120):
        self.workdir = workdir
        self.ca = os.path.join(certs, "ca.pem")
        self.ready = os.path.join(workdir, "ready-%s" % cert)
        seed_path = os.path.join(workdir, "seed-%s.json" % cert)
        with open(seed_path, "w") as f:
            json.dump(seed_data or seed(), f)
        self.stderr = open(os.path.join(workdir, "stderr-%s" % cert), "w+")
        self.proc = subprocess.Popen(
            [PYTHON, os.path.join(HERE, "cfemu.py"),
             "--cert", os.path.join(certs, cert + ".pem"),
             "--key", os.path.join(certs, cert + ".key"),
             "--seed", seed_path, "--port", "0", "--ready-file", self.ready,
             "--max-lifetime", str(max_lifetime)],
            stdout=subprocess.PIPE, stderr=self.stderr)
        self.port = None

    def wait_ready(self, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if os.path.exists(self.ready):
                with open(self.ready) as f:
                    self.port = int(f.read().strip())
                return True
            if self.proc.poll() is not None:
                return False
            time.sleep(0.02)
        return False

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return None

    def stderr_text(self):
        self.stderr.flush()
        self.stderr.seek(0)
        return self.stderr.read()


class Client:
    """Minimal HTTPS client; one connection per call unless given one."""

    def __init__(self, port, ca):
        self.port = port
        self.context = ssl.create_default_context(cafile=ca)

    def connection(self, timeout=10):
        return http.client.HTTPSConnection("127.0.0.1", self.port, context=self.context,
                                           timeout=timeout)

    def request(self, method, path, body=None, token=None, headers=None, raw=None,
                conn=None, timeout=10):
        own = conn is None
        conn = conn or self.connection(timeout)
        hdrs = {"Content-Type": "application/json"} if (body is not None or raw is not None) else {}
        if token is not None:
            hdrs["Authorization"] = "Bearer " + token
        hdrs.update(headers or {})
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        try:
            conn.request(method, path, body=data, headers=hdrs)
            response = conn.getresponse()
            payload = response.read()
        finally:
            if own:
                conn.close()
        try:
            parsed = json.loads(payload)
        except ValueError:
            parsed = None
        return response.status, response, parsed, payload

    def api(self, method, path, token=None, body=None, **kw):
        status, response, parsed, _ = self.request(method, "/client/v4" + path, body, token, **kw)
        return status, parsed, response

    def emu(self, method, path, body=None):
        status, _, parsed, _ = self.request(method, "/__emu/" + path, body)
        return status, parsed


def codes(envelope):
    return [e.get("code") for e in (envelope or {}).get("errors", [])]


def is_value(value, prefix):
    m = re.match(r"^%s([A-Za-z0-9]{40})([0-9a-f]{8})$" % prefix, value or "")
    return bool(m) and int(m.group(2), 16) == zlib.crc32(m.group(1).encode())


def create_body(name="child", groups=("Workers Scripts Write",), resources=None, **extra):
    body = {"name": name,
            "policies": [{"effect": "allow",
                          "permission_groups": [{"id": GROUP_IDS[g]} for g in groups],
                          "resources": resources or {"com.cloudflare.api.account." + ACCOUNT: "*"}}]}
    body.update(extra)
    return body


# ---- tests ---------------------------------------------------------------------------------

def test_files(certs):
    shared = os.path.join(HERE, "..", "..", "..", "shared", "cloudflare")
    for name in ("cloudflare-tokens-openapi.json", "cloudflare-workers-openapi.json",
                 "permission-groups.json"):
        mine = os.path.join(HERE, "data", name)
        theirs = os.path.join(shared, name)
        if os.path.exists(theirs):
            with open(mine, "rb") as a, open(theirs, "rb") as b:
                T.ok(a.read() == b.read(), "data/%s is a byte-identical copy" % name)
        else:
            T.ok(os.path.getsize(mine) > 0, "data/%s present" % name)
    expected = ["ca.pem", "ca.key", "server.pem", "server.key", "expired.pem", "expired.key",
                "wronghost.pem", "wronghost.key", "otherca.pem", "untrusted.pem", "untrusted.key"]
    missing = [f for f in expected if not os.path.exists(os.path.join(certs, f))]
    T.ok(not missing, "gen-certs.sh created all certificates", missing)
    before = os.stat(os.path.join(certs, "server.pem")).st_mtime_ns
    run = subprocess.run(["sh", os.path.join(HERE, "gen-certs.sh"), certs], capture_output=True)
    T.ok(run.returncode == 0 and not run.stdout and not run.stderr
         and os.stat(os.path.join(certs, "server.pem")).st_mtime_ns == before,
         "gen-certs.sh is idempotent and quiet", run.stderr)


def test_openapi_check():
    doc = openapi_check.default()
    op_id, _ = doc.find_operation("GET", "/client/v4/accounts/%s/tokens/verify" % ACCOUNT)
    T.ok(op_id == "account-api-tokens-verify-token",
         "find_operation prefers literal segments over {token_id}", op_id)
    T.ok(doc.find_operation("PUT", "/user/tokens/abc/value")[0] == "user-api-tokens-roll-token",
         "find_operation matches templated paths without the base path")
    nullable = doc.convert({"type": "string", "nullable": True, "example": "x", "x-y": 1})
    T.ok(nullable == {"type": ["string", "null"]}, "nullable becomes a null type; example/x-* dropped",
         nullable)
    create = doc.find_operation("POST", "/accounts/%s/tokens" % ACCOUNT)[1]
    T.ok(doc.check_request(create, create_body()) == [],
         "readOnly policy id is not required in a request")
    errors = doc.check_response(create, 200, {"success": True, "errors": [], "messages": [],
                                              "result": {"policies": [{"effect": "allow",
                                                                       "permission_groups": [],
                                                                       "resources": {}}]}})
    T.ok(any("'id' is a required property" in e for e in errors),
         "readOnly policy id is required in a response", errors)
    errors = doc.check_request(create, {"name": "x", "policies": [], "expires_on": "tomorrow"})
    T.ok(any("date-time" in e for e in errors), "format date-time is checked", errors)
    fail = doc.check_response(create, 403, {"success": False, "messages": [], "result": None,
                                            "errors": [{"code": 9109, "message": "x"}]})
    T.ok(fail == [], "4XX answers validate against the failure envelope", fail)


def test_auth(c):
    path = "/accounts/%s/tokens/verify" % ACCOUNT
    status, env, _ = c.api("GET", path)
    chain = (env or {}).get("errors", [{}])[0].get("error_chain", [])
    T.ok(status == 400 and codes(env) == [6003] and [e["code"] for e in chain] == [6111],
         "missing Authorization: 400 6003 with error_chain 6111", env)
    status, env, _ = c.api("GET", path, headers={"Authorization": "Bearer two words here"})
    T.ok(status == 400 and codes(env) == [6003], "token with spaces: 400 6003", env)
    status, env, _ = c.api("GET", path, headers={"Authorization": "Token " + PARENT})
    T.ok(status == 400 and codes(env) == [6003], "not a Bearer header: 400 6003", env)
    status, env, _ = c.api("GET", path, headers={"X-Auth-Key": "0" * 37,
                                                 "X-Auth-Email": "dev@example.com"})
    T.ok(status == 400 and codes(env) == [6003], "legacy X-Auth-Key/X-Auth-Email: 400 6003", env)
    status, env, _ = c.api("GET", path, token="x" * 40)
    T.ok(status == 401 and codes(env) == [1000] and env["errors"][0]["message"] == "Invalid API Token",
         "unknown token: 401 1000 Invalid API Token", env)
    status, env, _ = c.api("GET", "/no/such/thing", token=PARENT)
    T.ok(status == 404 and codes(env) == [7000], "unknown route: 404 7000", env)


def test_verify(c):
    status, env, _ = c.api("GET", "/accounts/%s/tokens/verify" % ACCOUNT, token=PARENT)
    T.ok(status == 200 and env["result"]["status"] == "active"
         and env["messages"] == [{"code": 10000, "message": "This API Token is valid and active"}]
         and set(env["result"]) <= {"id", "status", "not_before", "expires_on"},
         "account verify: result and message 10000", env)
    status, env, _ = c.api("GET", "/accounts/%s/tokens/verify" % ACCOUNT, token=OTHER)
    T.ok(status == 401 and codes(env) == [1000], "account verify with another account's token: 401 1000",
         env)
    status, env, _ = c.api("GET", "/user/tokens/verify", token=PARENT)
    T.ok(status == 401 and codes(env) == [1000], "user verify with an account-owned token: 401 1000",
         env)
    status, env, _ = c.api("GET", "/user/tokens/verify", token=USER)
    T.ok(status == 200 and env["messages"][0]["code"] == 10000, "user verify with a user token: 200",
         env)


def test_permission_groups(c):
    status, env, _ = c.api("GET", "/accounts/%s/tokens/permission_groups" % ACCOUNT, token=PARENT)
    scopes = {s for g in env["result"] for s in g["scopes"]} if status == 200 else set()
    T.ok(status == 200 and len(env["result"]) == 81
         and scopes == {"com.cloudflare.api.account", "com.cloudflare.api.account.zone",
                        "com.cloudflare.edge.r2.bucket"}
         and all(set(g) == {"id", "name", "scopes"} for g in env["result"]),
         "account permission groups: account, zone and r2 scopes only", (status, len(scopes)))
    status, env, _ = c.api("GET", "/accounts/%s/tokens/permission_groups?name=Workers%%20Scripts%%20Write"
                           % ACCOUNT, token=PARENT)
    T.ok(status == 200 and [g["id"] for g in env["result"]] == ["e086da7e2179491d91ee5f35b3ca210a"],
         "permission groups: name filter", env)
    status, env, _ = c.api("GET", "/accounts/%s/tokens/permission_groups?scope=com.cloudflare.api.account.zone"
                           % ACCOUNT, token=PARENT)
    T.ok(status == 200 and env["result"] and all(
        "com.cloudflare.api.account.zone" in g["scopes"] for g in env["result"]),
        "permission groups: scope filter")
    status, env, _ = c.api("GET", "/user/tokens/permission_groups?scope=com.cloudflare.api.user",
                           token=USER)
    T.ok(status == 200 and len(env["result"]) == 6, "user permission groups include user scope", env)
    status, env, _ = c.api("GET", "/accounts/%s/tokens/permission_groups" % ACCOUNT, token=OTHER)
    T.ok(status == 403 and codes(env) == [9109], "permission groups of a foreign account: 403 9109", env)


def test_account_crud(c):
    base = "/accounts/%s/tokens" % ACCOUNT
    status, env, _ = c.api("POST", base, PARENT, create_body(
        expires_on="2099-01-01T00:00:00Z", not_before="2020-01-01T00:00:00Z",
        condition={"request.ip": {"in": ["127.0.0.0/8", "2001:db8::/32"]}}))
    created = env["result"] if status == 200 else {}
    T.ok(status == 200 and is_value(created.get("value"), "cfat_")
         and re.match("^[0-9a-f]{32}$", created.get("id", ""))
         and re.match("^[0-9a-f]{32}$", created["policies"][0]["id"])
         and created["policies"][0]["permission_groups"] == [
             {"id": GROUP_IDS["Workers Scripts Write"], "name": "Workers Scripts Write"}]
         and created["expires_on"] == "2099-01-01T00:00:00Z"
         and created["not_before"] == "2020-01-01T00:00:00Z",
         "create: 200, token object with cfat_ value, ids and resolved groups; the times "
         "sent in whole seconds come back as sent", env)
    tid, value = created.get("id"), created.get("value")
    status, env, _ = c.api("GET", base + "/verify", token=value)
    T.ok(status == 200 and env["result"]["id"] == tid, "the created token verifies", env)

    status, env, _ = c.api("GET", base + "/" + tid, PARENT)
    T.ok(status == 200 and "value" not in env["result"] and env["result"]["name"] == "child"
         and UTC_TIME_RE.match(env["result"]["issued_on"])
         and UTC_TIME_RE.match(env["result"]["modified_on"]),
         "get: no value, RFC 3339 Z times", env)
    status, env, _ = c.api("GET", base, READER)
    T.ok(status == 200 and all("value" not in t for t in env["result"])
         and tid in [t["id"] for t in env["result"]]
         and set(env["result_info"]) == {"page", "per_page", "count", "total_count"},
         "list (with Read): no values, result_info without total_pages", env.get("result_info"))

    body = create_body(name="renamed", status="disabled")
    status, env, _ = c.api("PUT", base + "/" + tid, PARENT, body)
    T.ok(status == 200 and env["result"]["name"] == "renamed" and env["result"]["status"] == "disabled"
         and "value" not in env["result"], "update: renamed and disabled", env)
    # The update follows the create within milliseconds, mostly within its
    # second: the API's times have fractional seconds, so modified_on moves.
    updated = env["result"] if status == 200 else {}
    T.ok(created["issued_on"] == created["modified_on"] == updated.get("issued_on")
         and instant(updated["modified_on"]) > instant(created["modified_on"]),
         "update at once: modified_on moves past the create's, issued_on stays",
         (created.get("modified_on"), updated.get("modified_on")))
    status, env, _ = c.api("GET", base + "/verify", token=value)
    T.ok(status == 401 and codes(env) == [1000], "a disabled token: 401 1000", env)
    body["status"] = "active"
    c.api("PUT", base + "/" + tid, PARENT, body)
    status, env, _ = c.api("GET", base + "/verify", token=value)
    T.ok(status == 200, "update keeps the value (re-enabled token verifies again)", env)

    status, env, _ = c.api("PUT", base + "/" + tid + "/value", PARENT, {})
    new_value = env.get("result") if status == 200 else None
    T.ok(status == 200 and is_value(new_value, "cfat_") and new_value != value,
         "roll: result is a new value string", env)
    status, env, _ = c.api("GET", base + "/verify", token=value)
    log = c.emu("GET", "log")[1]
    T.ok(status == 401 and log[-1]["token_id"] == tid,
         "rolled-away value: 401, the log still names the token", log[-1])
    status, env, _ = c.api("GET", base + "/verify", token=new_value)
    T.ok(status == 200, "the rolled value verifies", env)

    status, env, _ = c.api("DELETE", base + "/" + tid, PARENT, {})
    T.ok(status == 200 and env["result"] == {"id": tid}, "delete: result {id}", env)
    status, env, _ = c.api("GET", base + "/verify", token=new_value)
    T.ok(status == 401 and codes(env) == [1000], "a deleted token: 401 1000", env)
    status, env, _ = c.api("GET", base + "/" + tid, PARENT)
    T.ok(status == 404 and codes(env) == [7003], "a deleted token's id: 404 7003", env)
    tokens = c.emu("GET", "tokens")[1]
    mine = [t for t in tokens if t["id"] == tid]
    T.ok(mine and mine[0]["deleted"] is True and "value" not in mine[0]
         and mine[0]["value_sha256"] == hashlib.sha256(new_value.encode()).hexdigest(),
         "/__emu/tokens: deleted flag and value_sha256, no value", mine)


def test_routing_and_permissions(c):
    status, env, _ = c.api("GET", "/accounts/%s/tokens/%s" % (ACCOUNT, "f" * 32), PARENT)
    T.ok(status == 404 and codes(env) == [7003], "unknown token id: 404 7003", env)
    status, env, _ = c.api("GET", "/accounts/%s/tokens" % ("9" * 32), PARENT)
    T.ok(status == 404 and codes(env) == [7003] and "Could not route to /accounts/" in
         env["errors"][0]["message"] and "perhaps your object identifier is invalid" in
         env["errors"][0]["message"], "unknown account: 404 7003 Could not route to", env)
    status, env, _ = c.api("GET", "/accounts/%s/tokens" % STRANGER_ACCOUNT, PARENT)
    T.ok(status == 403 and codes(env) == [9109], "account without a policy: 403 9109", env)
    status, env, _ = c.api("POST", "/accounts/%s/tokens" % ACCOUNT, READER, create_body())
    T.ok(status == 403 and codes(env) == [9109]
         and env["errors"][0]["message"] == "Unauthorized to access requested resource",
         "create with only Read: 403 9109", env)
    status, env, _ = c.api("GET", "/accounts/%s/tokens" % ACCOUNT, DENIED)
    T.ok(status == 403 and codes(env) == [9109], "a deny policy wins over an allow", env)
    status, env, _ = c.api("GET", "/accounts/%s/tokens" % OTHER_ACCOUNT, PARENT)
    T.ok(status == 403 and codes(env) == [9109], "an account token on another account: 403 9109", env)
    status, env, _ = c.api("GET", "/user/tokens", PARENT)
    T.ok(status == 403 and codes(env) == [9109], "an account token on /user/tokens: 403 9109", env)
    status, env, _ = c.api("POST", "/user/tokens", USER_RO, create_body(
        resources={"com.cloudflare.api.user." + USER_ID: "*"}, groups=("API Tokens Read",)))
    T.ok(status == 403 and codes(env) == [9109], "user create with API Tokens Read only: 403", env)
    status, env, _ = c.api("PATCH", "/accounts/%s/tokens" % ACCOUNT, PARENT, {})
    T.ok(status == 405, "wrong method on a known path: 405", env)


def last_log(c):
    return c.emu("GET", "log")[1][-1]


def test_create_validation(c, deliberate):
    base = "/accounts/%s/tokens" % ACCOUNT
    status, env, _ = c.api("POST", base, PARENT, {"name": 5, "policies": "none"})
    entry = last_log(c)
    deliberate.add(entry["seq"])
    T.ok(status == 400 and codes(env) == [1002] and entry["schema_errors"]
         and all(e.startswith("request") for e in entry["schema_errors"]),
         "schema-invalid create body: 400 and flagged in the log", (env, entry["schema_errors"]))
    body = create_body()
    del body["name"]
    status, env, _ = c.api("POST", base, PARENT, body)
    deliberate.add(last_log(c)["seq"])
    T.ok(status == 400 and "name" in env["errors"][0]["message"], "create without name: 400", env)
    body = create_body()
    body["policies"][0]["effect"] = "maybe"
    status, env, _ = c.api("POST", base, PARENT, body)
    deliberate.add(last_log(c)["seq"])
    T.ok(status == 400, "create with effect maybe: 400", env)
    body = create_body()
    body["policies"][0]["permission_groups"] = [{"id": "f" * 32}]
    status, env, _ = c.api("POST", base, PARENT, body)
    T.ok(status == 400 and codes(env) == [1003] and "ermission group" in env["errors"][0]["message"],
         "unknown permission group id: 400 1003", env)
    status, env, _ = c.api("POST", base, PARENT, create_body(groups=("API Tokens Write",)))
    T.ok(status == 400 and codes(env) == [1003], "user-scoped group in an account token: 400 1003", env)
    status, env, _ = c.api("POST", base, PARENT, create_body(
        resources={"com.cloudflare.api.account": "*"}))
    T.ok(status == 400 and codes(env) == [9109], "malformed resource key: 400 9109", env)
    status, env, _ = c.api("POST", base, PARENT, create_body(
        resources={"com.cloudflare.api.account." + OTHER_ACCOUNT: "*"}))
    T.ok(status == 403 and codes(env) == [9109], "resource in another account: 403 9109", env)
    status, env, _ = c.api("POST", base, PARENT, create_body(
        resources={"com.cloudflare.api.account." + ACCOUNT: {"com.cloudflare.api.account.zone.*": "*"}}))
    T.ok(status == 200, "nested zone resources under the account are accepted", env)
    c.api("DELETE", base + "/" + env["result"]["id"], PARENT, {})
    status, env, _ = c.api("POST", base, PARENT, create_body(expires_on="2026-13-01T00:00:00Z"))
    deliberate.add(last_log(c)["seq"])
    T.ok(status == 400, "invalid expires_on date: 400", env)
    status, env, _ = c.api("POST", base, PARENT, create_body(expires_on="2099-01-01T00:00:00.25Z"))
    T.ok(status == 200 and env["result"]["expires_on"] == "2099-01-01T00:00:00.250000Z",
         "expires_on with fractional seconds: kept to the microsecond", env)
    if status == 200:
        c.api("DELETE", base + "/" + env["result"]["id"], PARENT, {})
    status, env, _ = c.api("POST", base, PARENT, create_body(
        condition={"request.ip": {"in": ["300.1.1.0/24"]}}))
    T.ok(status == 400, "invalid CIDR in condition: 400", env)
    status, env, _ = c.api("POST", base, PARENT, raw=b'{"name": ')
    deliberate.add(last_log(c)["seq"])
    T.ok(status == 400 and codes(env) == [6007], "malformed JSON body: 400 6007", env)


def test_quota(c):
    base = "/accounts/%s/tokens" % ACCOUNT
    held = len([t for t in c.emu("GET", "tokens")[1]
                if t["owner"] == "account" and t["account_id"] == ACCOUNT and not t["deleted"]])
    c.emu("POST", "config", {"quota_account": held + 1})
    status, env, _ = c.api("POST", base, PARENT, create_body())
    first = env["result"]["id"] if status == 200 else None
    status, env, _ = c.api("POST", base, PARENT, create_body())
    T.ok(first and status == 400 and codes(env) == [1005]
         and "maximum number of API tokens" in env["errors"][0]["message"],
         "account quota: the create past it is 400 1005", env)
    c.api("DELETE", base + "/" + first, PARENT, {})
    status, env, _ = c.api("POST", base, PARENT, create_body())
    T.ok(status == 200, "deleting a token frees quota", env)
    c.api("DELETE", base + "/" + env["result"]["id"], PARENT, {})

    # As on Cloudflare, an expired token counts against the cap until it is
    # deleted (tests of issue 17 set the cap low, e.g. 10).
    status, env, _ = c.api("POST", base, PARENT, create_body(name="lives out its minutes"))
    old = env["result"]["id"] if status == 200 else None
    c.emu("PATCH", "tokens/%s" % old, {"expires_in": -60})
    status, env, _ = c.api("POST", base, PARENT, create_body())
    listed = c.api("GET", base, PARENT)[1]["result"]
    T.ok(old and status == 400 and codes(env) == [1005]
         and old not in [t["id"] for t in listed],
         "account quota: an expired token (not listed) still counts until deleted", env)
    c.api("DELETE", base + "/" + old, PARENT, {})
    status, env, _ = c.api("POST", base, PARENT, create_body())
    T.ok(status == 200, "deleting the expired token frees its place", env)
    c.api("DELETE", base + "/" + env["result"]["id"], PARENT, {})
    c.emu("POST", "config", {"quota_account": 10})
    T.ok(c.emu("GET", "config")[1]["quota_account"] == 10, "the account cap can be set low")
    c.emu("POST", "config", {"quota_account": 500})

    T.ok(c.emu("GET", "config")[1]["quota_user"] == 50, "the seed's quota.user is the user quota")
    held = len([t for t in c.emu("GET", "tokens")[1] if t["owner"] == "user" and not t["deleted"]])
    c.emu("POST", "config", {"quota_user": held + 1})
    user_body = create_body(resources={"com.cloudflare.api.user." + USER_ID: "*"},
                            groups=("API Tokens Read",))
    status, env, _ = c.api("POST", "/user/tokens", USER, user_body)
    first = env["result"]["id"] if status == 200 else None
    status, env, _ = c.api("POST", "/user/tokens", USER, user_body)
    T.ok(first and status == 400 and codes(env) == [1005] and env["errors"][0]["message"] ==
         "You have reached the maximum number of API tokens (%d) for this user; "
         "delete unused tokens first" % (held + 1),
         "user quota: the create up to it succeeds, the one past it is 400 1005", env)
    c.api("DELETE", "/user/tokens/%s" % first, USER, {})
    status, env, _ = c.api("POST", "/user/tokens", USER, user_body)
    T.ok(status == 200, "deleting a user token frees user quota", env)
    c.api("DELETE", "/user/tokens/%s" % env["result"]["id"], USER, {})
    status, answer = c.emu("POST", "config", {"quota_user": -1})
    T.ok(status == 400 and "quota_user" in answer["error"], "quota_user must be >= 0", answer)
    c.emu("POST", "config", {"quota_user": 50})


def test_user_tokens(c):
    body = create_body(name="user child", groups=("API Tokens Read", "Workers Scripts Write"),
                       resources={"com.cloudflare.api.user." + USER_ID: "*"})
    status, env, _ = c.api("POST", "/user/tokens", USER, body)
    created = env["result"] if status == 200 else {}
    T.ok(status == 200 and is_value(created.get("value"), "cfut_"), "user create: cfut_ value", env)
    tid = created.get("id")
    status, env, _ = c.api("GET", "/user/tokens", USER_RO)
    T.ok(status == 200 and tid in [t["id"] for t in env["result"]], "user list with API Tokens Read")
    status, env, _ = c.api("GET", "/user/tokens/" + tid, USER)
    T.ok(status == 200 and "value" not in env["result"], "user get", env)
    status, env, _ = c.api("PUT", "/user/tokens/" + tid, USER, dict(body, name="u2"))
    T.ok(status == 200 and env["result"]["name"] == "u2", "user update", env)
    status, env, _ = c.api("PUT", "/user/tokens/%s/value" % tid, USER, {})
    T.ok(status == 200 and is_value(env["result"], "cfut_"), "user roll", env)
    status, env, _ = c.api("GET", "/user/tokens/" + tid, PARENT)
    T.ok(status == 403, "an account token cannot read user tokens", env)
    status, env, _ = c.api("GET", "/accounts/%s/tokens/%s" % (ACCOUNT, tid), PARENT)
    T.ok(status == 404 and codes(env) == [7003], "a user token id under /accounts: 404 7003", env)
    status, env, _ = c.api("DELETE", "/user/tokens/" + tid, USER, {})
    T.ok(status == 200 and env["result"]["id"] == tid, "user delete", env)
    # A user token may manage account-owned tokens where it has the group.
    status, env, _ = c.api("POST", "/accounts/%s/tokens" % OTHER_ACCOUNT, USER, create_body(
        resources={"com.cloudflare.api.account." + OTHER_ACCOUNT: "*"}))
    T.ok(status == 200 and is_value(env["result"]["value"], "cfat_")
         and env["result"].get("creator_email_at_creation") == "dev@example.com",
         "a user token creates account-owned tokens where allowed", env)
    c.api("DELETE", "/accounts/%s/tokens/%s" % (OTHER_ACCOUNT, env["result"]["id"]), USER, {})


SECRET_TEXTS = ["first secret text 1f0e", "second secret text 2a9b", "replaced secret text 3c8d"]


def sha256(text):
    return hashlib.sha256(text.encode()).hexdigest()


def test_worker_secrets(c):
    scripts = "/accounts/%s/workers/scripts" % ACCOUNT
    base = scripts + "/my-worker/secrets"
    answers = []  # every raw answer: no secret text may be in any of them

    def api(method, path, token, body=None, raw=None):
        status, _, parsed, payload = c.request(method, "/client/v4" + path, body, token, raw=raw)
        answers.append(payload)
        return status, parsed

    def control_scripts():
        status, _, parsed, payload = c.request("GET", "/__emu/scripts")
        answers.append(payload)
        mine = [s for s in parsed if s["account_id"] == ACCOUNT and s["name"] == "my-worker"]
        return {x["name"]: x for x in mine[0]["secrets"]} if mine else None

    def put(name, text, token=SCRIPTS_W):
        return api("PUT", base, token, {"name": name, "text": text, "type": "secret_text"})

    def is_error(status, env, http, code, message):
        return status == http and codes(env) == [code] and env["errors"][0]["message"] == message \
            and env["result"] is None and env["success"] is False

    status, env = api("GET", base, SCRIPTS_W)
    T.ok(status == 200 and env == {"success": True, "errors": [], "messages": [], "result": []},
         "secrets: a seeded script without secrets lists []", env)
    T.ok(control_scripts() == {}, "/__emu/scripts: the seeded script, no secrets")

    # -- put, list, get
    status, env = put("B_KEY", SECRET_TEXTS[0])
    T.ok(status == 200 and env["success"] and env["result"] == {"name": "B_KEY", "type": "secret_text"},
         "secret put: 200, result {name, type}", env)
    put("A_KEY", SECRET_TEXTS[1])
    status, env = api("GET", base, SCRIPTS_W)
    T.ok(status == 200 and env["result"] == [{"name": "A_KEY", "type": "secret_text"},
                                              {"name": "B_KEY", "type": "secret_text"}],
         "secret list: {name, type} sorted by name", env)
    status, env = api("GET", base + "/B_KEY", SCRIPTS_W)
    T.ok(status == 200 and env["result"] == {"name": "B_KEY", "type": "secret_text"},
         "secret get: {name, type}, no text", env)
    status, env = api("GET", base + "/%41_KEY", SCRIPTS_W)
    T.ok(status == 200 and env["result"]["name"] == "A_KEY", "secret names are URL-decoded", env)
    shown = control_scripts()
    T.ok(shown and shown["B_KEY"]["value_sha256"] == sha256(SECRET_TEXTS[0])
         and shown["A_KEY"]["value_sha256"] == sha256(SECRET_TEXTS[1])
         and set(shown["B_KEY"]) == {"name", "type", "value_sha256", "modified_on"}
         and UTC_TIME_RE.match(shown["B_KEY"]["modified_on"]),
         "/__emu/scripts: each secret's name, type, value_sha256 and modified_on", shown)

    # -- put replaces (at once: modified_on has microseconds, so it moves
    # even within the second of the first put)
    status, env = put("B_KEY", SECRET_TEXTS[2])
    after = control_scripts()
    T.ok(status == 200 and sorted(after) == ["A_KEY", "B_KEY"]
         and after["B_KEY"]["value_sha256"] == sha256(SECRET_TEXTS[2])
         and instant(after["B_KEY"]["modified_on"]) > instant(shown["B_KEY"]["modified_on"])
         and after["A_KEY"] == shown["A_KEY"],
         "secret put of an existing name replaces it: new sha256, modified_on moves", (shown, after))

    # -- read and write permissions
    for token, label in ((SCRIPTS_R, "Workers Scripts Read"), (SCRIPTS_ANY, "a policy on account.*"),
                         (USER_W, "a user-owned token with Workers Scripts Write")):
        status, env = api("GET", base, token)
        T.ok(status == 200 and len(env["result"]) == 2, "secret list with %s" % label, env)
    status, env = put("C_KEY", "user-put text", USER_W)
    T.ok(status == 200, "secret put with a user-owned token holding Workers Scripts Write", env)
    api("DELETE", base + "/C_KEY", USER_W)
    for method, path, body, token, label in (
            ("GET", base, None, PARENT, "list without a Workers Scripts group"),
            ("GET", base + "/A_KEY", None, PARENT, "get without a Workers Scripts group"),
            ("PUT", base, {"name": "X", "text": "x", "type": "secret_text"}, SCRIPTS_R,
             "put with Workers Scripts Read only"),
            ("DELETE", base + "/A_KEY", None, SCRIPTS_ANY, "delete with Read on account.*"),
            ("PUT", scripts + "/no-such-worker/secrets", {"name": "X", "text": "x",
                                                          "type": "secret_text"}, READER,
             "put to an unknown script without the permission (existence not revealed)")):
        status, env = api(method, path, token, body)
        T.ok(is_error(status, env, 403, 10000, "Authentication error"),
             "secret %s: 403 10000 Authentication error" % label, env)
    other = "/accounts/%s/workers/scripts/other-worker/secrets" % OTHER_ACCOUNT
    for path, token, label in ((base, OTHER, "a token of another account"),
                               (other, SCRIPTS_W, "another account's script"),
                               (other, SCRIPTS_ANY, "account.* of an account-owned token, elsewhere"),
                               ("/accounts/%s/workers/scripts/x/secrets" % STRANGER_ACCOUNT, USER_W,
                                "an account without a policy")):
        status, env = api("GET", path, token)
        T.ok(is_error(status, env, 403, 9109, "Unauthorized to access requested resource"),
             "secrets with %s: 403 9109, as the token endpoints" % label, env)
    status, env = api("GET", "/accounts/%s/workers/scripts/my-worker/secrets" % ("9" * 32), SCRIPTS_W)
    T.ok(status == 404 and codes(env) == [7003] and "Could not route to /accounts/" in
         env["errors"][0]["message"], "secrets of an unknown account: 404 7003", env)
    status, env = api("GET", base, None)
    T.ok(status == 400 and codes(env) == [6003], "secrets without Authorization: 400 6003", env)

    # -- unknown script, unknown secret, wrong method
    for method, path, body in (("GET", "/no-such-worker/secrets", None),
                               ("PUT", "/no-such-worker/secrets",
                                {"name": "X", "text": "x", "type": "secret_text"}),
                               ("GET", "/no-such-worker/secrets/A_KEY", None),
                               ("DELETE", "/no-such-worker/secrets/A_KEY", None),
                               ("GET", "/other-worker/secrets", None)):
        status, env = api(method, scripts + path, SCRIPTS_W, body)
        T.ok(is_error(status, env, 404, 10007, "workers.api.error.script_not_found"),
             "%s %s: 404 10007 script_not_found" % (method, path), env)
    for method in ("GET", "DELETE"):
        status, env = api(method, base + "/NO_SUCH_KEY", SCRIPTS_W)
        T.ok(is_error(status, env, 404, 10056, "workers.api.error.secret_not_found"),
             "%s of an unknown secret: 404 10056 secret_not_found" % method, env)
    status, env = api("POST", base, SCRIPTS_W, {"name": "X", "text": "x", "type": "secret_text"})
    T.ok(status == 405 and codes(env) == [7001], "POST to secrets: 405 7001", env)

    # -- bad bodies: 400, nothing stored
    before = control_scripts()
    good = {"name": "BAD", "text": "bad text", "type": "secret_text"}
    cases = [({k: v for k, v in good.items() if k != "name"}, "name"),
             (dict(good, name=""), "name"), (dict(good, name="a/b"), "name"),
             (dict(good, name=7), "name"),
             ({k: v for k, v in good.items() if k != "text"}, "text"), (dict(good, text=5), "text"),
             ({k: v for k, v in good.items() if k != "type"}, "type"),
             (dict(good, type="secret_key"), "type"), ([good], "JSON object")]
    for body, field in cases:
        status, env = api("PUT", base, SCRIPTS_W, body)
        T.ok(status == 400 and codes(env) == [1002] and field in env["errors"][0]["message"],
             "secret put %s: 400 1002 naming %s" % (json.dumps(body), field), env)
    status, env = api("PUT", base, SCRIPTS_W)
    T.ok(status == 400 and codes(env) == [1002] and "body is required" in env["errors"][0]["message"],
         "secret put without a body: 400 1002", env)
    status, env = api("PUT", base, SCRIPTS_W, raw=b'{"name": "BAD", "text": ')
    T.ok(status == 400 and codes(env) == [6007], "secret put with malformed JSON: 400 6007", env)
    T.ok(control_scripts() == before, "refused puts store nothing")

    # -- delete
    status, env = api("DELETE", base + "/B_KEY", SCRIPTS_W)
    T.ok(status == 200 and env == {"success": True, "errors": [], "messages": [], "result": None},
         "secret delete: 200, success envelope with result null", env)
    status, env = api("GET", base + "/B_KEY", SCRIPTS_W)
    T.ok(status == 404 and codes(env) == [10056], "a deleted secret: 404 10056", env)
    status, env = api("GET", base, SCRIPTS_W)
    T.ok(status == 200 and env["result"] == [{"name": "A_KEY", "type": "secret_text"}]
         and sorted(control_scripts()) == ["A_KEY"], "delete removes only that secret", env)

    # -- control API
    status, answer = c.emu("POST", "scripts", {"account_id": ACCOUNT, "name": "added-worker"})
    T.ok(status == 200 and answer == {"account_id": ACCOUNT, "name": "added-worker", "secrets": []},
         "POST /__emu/scripts adds a script", answer)
    status, env = api("GET", scripts + "/added-worker/secrets", SCRIPTS_W)
    T.ok(status == 200 and env["result"] == [], "an added script answers the secrets API", env)
    for spec, label in (({"account_id": ACCOUNT, "name": "added-worker"}, "a duplicate"),
                        ({"account_id": "9" * 32, "name": "x"}, "an unknown account"),
                        ({"account_id": ACCOUNT, "name": "Bad/Name"}, "a bad name"),
                        ({"account_id": ACCOUNT}, "no name"), (["x"], "not an object")):
        status, answer = c.emu("POST", "scripts", spec)
        T.ok(status == 400 and "error" in answer, "POST /__emu/scripts refuses %s" % label, answer)
    listed = c.emu("GET", "scripts")[1]
    T.ok([(s["account_id"], s["name"]) for s in listed] == [
        (ACCOUNT, "my-worker"), (OTHER_ACCOUNT, "other-worker"), (ACCOUNT, "added-worker")],
        "GET /__emu/scripts: seeded and added scripts in order", listed)

    # -- the texts never come back, and the log keeps none
    status, _, _, payload = c.request("GET", "/__emu/log")
    answers.append(payload)
    answers.append(c.request("GET", "/__emu/tokens")[3])
    leaks = [t for t in SECRET_TEXTS + ["user-put text", "bad text"]
             if any(t.encode() in a for a in answers)]
    T.ok(not leaks and len(answers) > 40, "no secret text in any API or control answer "
         "(%d answers, the log included)" % len(answers), leaks)
    log = [e for e in json.loads(payload) if "/workers/" in e["path"]]
    puts = [e for e in log if e["method"] == "PUT" and isinstance(e["request_body"], dict)
            and "text" in e["request_body"]]
    T.ok(puts and all(e["request_body"]["text"] == "<redacted secret text>" for e in puts),
         "the log shows secret PUT bodies with the text redacted", puts[:1])
    T.ok(log and all(e["operation"] is None and e["schema_errors"] == [] for e in log),
         "workers calls are outside the schema extract: no operation, no schema errors",
         [e for e in log if e["operation"] or e["schema_errors"]][:2])


def add_token(c, **spec):
    base = {"owner": "account", "account_id": ACCOUNT, "name": "probe",
            "policies": [{"effect": "allow",
                          "permission_groups": [{"name": "Account API Tokens Read"}],
                          "resources": {"com.cloudflare.api.account." + ACCOUNT: "*"}}]}
    base.update(spec)
    status, answer = c.emu("POST", "tokens", base)
    return answer["id"], answer["value"]


def test_lifecycle_and_conditions(c):
    verify = "/accounts/%s/tokens/verify" % ACCOUNT
    tid, value = add_token(c)
    T.ok(is_value(value, "cfat_"), "/__emu/tokens generates a value when none is given", value)
    c.emu("PATCH", "tokens/" + tid, {"expires_in": -60})
    status, env, _ = c.api("GET", verify, token=value)
    T.ok(status == 401 and codes(env) == [1000], "expired token: 401 1000", env)
    status, env, _ = c.api("GET", "/accounts/%s/tokens/%s" % (ACCOUNT, tid), PARENT)
    T.ok(status == 200 and env["result"]["status"] == "expired", "get shows status expired", env)
    status, env, _ = c.api("GET", "/accounts/%s/tokens?include_expired=true&per_page=50" % ACCOUNT,
                           PARENT)
    shown = {t["id"]: t["status"] for t in env["result"]}
    T.ok(status == 200 and shown.get(tid) == "expired",
         "list with include_expired shows status expired", shown.get(tid))
    status, env, _ = c.api("GET", "/accounts/%s/tokens?per_page=50" % ACCOUNT, PARENT)
    T.ok(status == 200 and tid not in [t["id"] for t in env["result"]],
         "list without include_expired leaves expired tokens out")
    c.emu("PATCH", "tokens/" + tid, {"expires_on": None, "not_before_in": 3600})
    status, env, _ = c.api("GET", verify, token=value)
    T.ok(status == 401 and codes(env) == [1000], "not_before in the future: 401 1000", env)
    c.emu("PATCH", "tokens/" + tid, {"not_before": None, "status": "disabled"})
    status, env, _ = c.api("GET", verify, token=value)
    T.ok(status == 401, "disabled via control API: 401", env)
    c.emu("PATCH", "tokens/" + tid, {"status": "active"})

    cases = [
        ({"in": ["10.0.0.0/8"]}, False, "IPv4 in-list without the client"),
        ({"in": ["127.0.0.0/8"]}, True, "IPv4 in-list with the client"),
        ({"not_in": ["127.0.0.1/32"]}, False, "IPv4 not_in with the client"),
        ({"in": ["::1/128"]}, False, "IPv6-only in-list"),
        ({"in": ["2001:db8::/32", "127.0.0.1/32"], "not_in": ["2001:db8::1/128"]}, True,
         "mixed IPv6/IPv4 lists"),
    ]
    for rule, allowed, label in cases:
        c.emu("PATCH", "tokens/" + tid, {"condition": {"request.ip": rule}})
        status, env, _ = c.api("GET", verify, token=value)
        if allowed:
            T.ok(status == 200, "condition %s: allowed" % label, env)
        else:
            T.ok(status == 403 and codes(env) == [9109] and env["errors"][0]["message"]
                 == "Cannot use the access token from location: 127.0.0.1",
                 "condition %s: 403 9109 location" % label, env)


def test_whoami(c):
    status, env, _ = c.api("GET", "/user", PARENT)
    T.ok(status == 403 and codes(env) == [9109], "GET /user with an account token: 403 9109", env)
    status, env, _ = c.api("GET", "/user", USER)
    T.ok(status == 200 and env["result"]["email"] == "dev@example.com", "GET /user with a user token",
         env)
    status, env, _ = c.api("GET", "/accounts", PARENT)
    T.ok(status == 200 and [a["id"] for a in env["result"]] == [ACCOUNT]
         and env["result_info"]["total_count"] == 1, "GET /accounts with an account token", env)
    status, env, _ = c.api("GET", "/accounts?per_page=5&page=1", USER)
    T.ok(status == 200 and sorted(a["id"] for a in env["result"]) == sorted([ACCOUNT, OTHER_ACCOUNT]),
         "GET /accounts with a user token lists accounts it has policies on", env)
    c.emu("POST", "config", {"accounts_list_refuses_account_tokens": True})
    status, env, _ = c.api("GET", "/accounts", PARENT)
    T.ok(status == 400 and codes(env) == [1001] and "account owned tokens" in
         env["errors"][0]["message"], "accounts_list_refuses_account_tokens: 400 1001", env)
    status, env, _ = c.api("GET", "/accounts", USER)
    T.ok(status == 200, "... user tokens still list accounts", env)
    c.emu("POST", "config", {"accounts_list_refuses_account_tokens": False})
    status, env, _ = c.api("GET", "/memberships", PARENT)
    T.ok(status == 400 and codes(env) == [9106], "GET /memberships with an account token: 400 9106",
         env)
    status, env, _ = c.api("GET", "/memberships", USER)
    T.ok(status == 200 and len(env["result"]) == 2 and env["result"][0]["status"] == "accepted",
         "GET /memberships with a user token", env)


def test_pagination(c):
    base = "/accounts/%s/tokens" % ACCOUNT
    created = []
    for i in range(7):
        status, env, _ = c.api("POST", base, PARENT, create_body(name="page %d" % i))
        created.append(env["result"]["id"])
    status, env, _ = c.api("GET", base + "?per_page=5&page=1", PARENT)
    total = env["result_info"]["total_count"]
    status2, env2, _ = c.api("GET", base + "?per_page=5&page=2", PARENT)
    T.ok(status == 200 and status2 == 200 and len(env["result"]) == 5
         and env2["result_info"]["count"] == min(5, total - 5)
         and not {t["id"] for t in env["result"]} & {t["id"] for t in env2["result"]},
         "pagination: pages do not overlap and counts add up", (env["result_info"], env2["result_info"]))
    for query in ("per_page=4", "per_page=51", "page=0", "page=abc"):
        status, env, _ = c.api("GET", base + "?" + query, PARENT)
        T.ok(status == 400 and codes(env) == [1004], "pagination %s: 400" % query, env)
    for tid in created:
        c.api("DELETE", base + "/" + tid, PARENT, {})


def test_schema_never_blocks(c, deliberate):
    tid, _ = add_token(c)
    status, env, _ = c.api("PUT", "/accounts/%s/tokens/%s/value" % (ACCOUNT, tid), PARENT, [])
    entry = last_log(c)
    deliberate.add(entry["seq"])
    T.ok(status == 200 and entry["schema_errors"],
         "roll with a non-object body: flagged but answered", entry["schema_errors"])
    status, env, _ = c.api("DELETE", "/accounts/%s/tokens/%s" % (ACCOUNT, tid), PARENT)
    entry = last_log(c)
    deliberate.add(entry["seq"])
    T.ok(status == 200 and entry["schema_errors"] == ["request: body is required"],
         "DELETE without a body: answered; the official schema's required body is flagged",
         entry["schema_errors"])


def test_faults(c):
    verify = "/client/v4/accounts/%s/tokens/verify" % ACCOUNT
    auth = {"Authorization": "Bearer " + PARENT}

    def get(timeout=10, conn=None):
        return c.request("GET", verify, headers=auth, timeout=timeout, conn=conn)

    c.emu("POST", "faults", {"method": "GET", "path": "/tokens/verify$", "kind": "status",
                             "status": 503, "headers": {"Retry-After": "2"}, "times": 1})
    status, response, parsed, _ = get()
    T.ok(status == 503 and response.getheader("Retry-After") == "2" and parsed["success"] is False,
         "fault status 503 with Retry-After and a failure envelope", parsed)
    status, *_ = get()
    T.ok(status == 200, "fault times: 1 is used up after one call")
    c.emu("POST", "faults", {"method": "POST", "path": "/tokens/verify$", "kind": "status"})
    status, *_ = get()
    T.ok(status == 200, "fault method filter: a GET is not hit by a POST rule")
    c.emu("DELETE", "faults")

    c.emu("POST", "faults", {"path": "verify", "kind": "status", "status": 429})
    status, response, parsed, _ = get()
    T.ok(status == 429 and codes(parsed) == [971], "fault 429: default code 971", parsed)
    c.emu("POST", "faults", {"path": "verify", "kind": "status", "status": 502, "body": ""})
    status, response, parsed, raw = get()
    T.ok(status == 502 and raw == b"", "fault with body \"\": empty body", raw)

    c.emu("POST", "faults", {"path": "verify", "kind": "malformed"})
    status, response, parsed, raw = get()
    T.ok(status == 200 and raw == b'{"success": tru' and parsed is None, "fault malformed", raw)

    c.emu("POST", "faults", {"path": "verify", "kind": "truncated"})
    try:
        get()
        T.ok(False, "fault truncated: short body raises")
    except http.client.IncompleteRead:
        T.ok(True, "fault truncated: short body raises")

    c.emu("POST", "faults", {"path": "verify", "kind": "reset"})
    try:
        get()
        T.ok(False, "fault reset: connection reset")
    except (ConnectionResetError, ssl.SSLError, http.client.RemoteDisconnected) as e:
        T.ok(isinstance(e, ConnectionResetError) or "reset" in str(e).lower()
             or isinstance(e, ssl.SSLError), "fault reset: connection reset", repr(e))

    c.emu("POST", "faults", {"path": "verify", "kind": "delay", "delay_ms": 300})
    start = time.monotonic()
    status, *_ = get()
    T.ok(status == 200 and time.monotonic() - start >= 0.3, "fault delay: slow but normal answer")

    # A held request: the rule shows it while it waits, and a release ends
    # the wait (long before the rule's 60 s).
    c.emu("DELETE", "faults")
    c.emu("POST", "faults", {"path": "verify", "kind": "delay", "delay_ms": 60000})
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        start = time.monotonic()
        answer = pool.submit(get, 90)
        holding = 0
        while not answer.done() and time.monotonic() - start < 30:
            holding = c.emu("GET", "faults")[1][0]["holding"]
            if holding:
                break
            time.sleep(0.02)
        T.ok(holding == 1, "fault delay: the rule shows the request it holds", holding)
        _, released = c.emu("POST", "faults/release")
        status = answer.result()[0]
    T.ok(status == 200 and released["released"] == 1 and time.monotonic() - start < 30,
         "fault delay: a release ends it with a normal answer", (status, released))
    T.ok(c.emu("GET", "faults")[1][0]["holding"] == 0, "fault delay: then holds nothing")

    c.emu("POST", "faults", {"path": "verify", "kind": "blackhole"})
    try:
        get(timeout=0.7)
        T.ok(False, "fault blackhole: no answer until the client gives up")
    except (socket.timeout, TimeoutError):
        # (the client's own timeout ended it: an answer or a close would
        # have been a response or RemoteDisconnected, however slow the machine)
        T.ok(True, "fault blackhole: no answer until the client gives up")

    # drip: the answer starts at once, its body a byte per drip_ms
    c.emu("POST", "faults", {"path": "verify", "kind": "drip", "drip_ms": 20})
    start = time.monotonic()
    status, response, parsed, raw = get()
    took = time.monotonic() - start
    T.ok(status == 200 and parsed == {"success": True, "errors": [], "messages": [],
                                      "result": None} and took >= (len(raw) - 1) * 0.02,
         "fault drip: the whole body, a byte per drip_ms (%d bytes in %.2f s)"
         % (len(raw), took), raw)

    c.emu("POST", "faults", {"path": "verify", "kind": "wrong_content_type"})
    status, response, parsed, raw = get()
    T.ok(response.getheader("Content-Type", "").startswith("text/html") and parsed is None
         and b"<html" in raw, "fault wrong_content_type: text/html body", raw[:80])

    c.emu("POST", "faults", {"path": "verify", "kind": "oversized"})
    status, response, parsed, raw = get(timeout=20)
    T.ok(status == 200 and len(raw) >= 19 << 20 and parsed and parsed["success"] is True,
         "fault oversized: a valid ~20 MiB JSON envelope", len(raw))

    c.emu("POST", "faults", {"path": "verify", "kind": "status", "status": 500, "times": None})
    statuses = [get()[0] for _ in range(3)]
    c.emu("DELETE", "faults")
    T.ok(statuses == [500] * 3 and get()[0] == 200, "times null: forever, until DELETE /__emu/faults",
         statuses)

    before = len(c.emu("GET", "tokens")[1])
    c.emu("POST", "faults", {"method": "POST", "path": "/tokens$", "kind": "status", "status": 502,
                             "apply": True})
    status, env, _ = c.api("POST", "/accounts/%s/tokens" % ACCOUNT, PARENT, create_body(name="lost"))
    after = c.emu("GET", "tokens")[1]
    T.ok(status == 502 and len(after) == before + 1,
         "apply: the create happened although the answer was a 502", status)
    lost = [t for t in after if t["name"] == "lost"]
    c.api("DELETE", "/accounts/%s/tokens/%s" % (ACCOUNT, lost[0]["id"]), PARENT, {})
    log = c.emu("GET", "log")[1]
    T.ok(any(e["fault"] == "blackhole" for e in log) and any(e["fault"] == "oversized" for e in log),
         "the log names the fault of each faulted call")
    status, answer = c.emu("POST", "faults", {"path": "(", "kind": "status"})
    T.ok(status == 400 and "error" in answer, "a bad fault rule is refused", answer)


def test_connection_behaviour(c):
    conn = c.connection()
    c.request("GET", "/__emu/health", conn=conn)
    sock = conn.sock
    status, *_ = c.request("GET", "/client/v4/accounts/%s/tokens/verify" % ACCOUNT,
                           headers={"Authorization": "Bearer " + PARENT}, conn=conn)
    T.ok(status == 200 and conn.sock is sock and sock is not None,
         "keep-alive: two requests on one connection")
    conn.close()

    raw = socket.create_connection(("127.0.0.1", c.port), timeout=5)
    tls = c.context.wrap_socket(raw, server_hostname="127.0.0.1")
    tls.sendall(b"THIS IS NOT HTTP\r\n\r\n")
    answer = b""
    while True:  # the server answers and closes
        chunk = tls.recv(65536)
        if not chunk:
            break
        answer += chunk
    tls.close()
    T.ok(answer.startswith(b"HTTP/1.") and b" 400 " in answer.split(b"\r\n")[0]
         and b'"success": false' in answer, "a garbage request line gets a 400 envelope", answer[:100])

    old = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    old.check_hostname = False
    old.verify_mode = ssl.CERT_NONE
    warnings.simplefilter("ignore", DeprecationWarning)  # TLS 1.1 on purpose
    try:
        old.maximum_version = ssl.TLSVersion.TLSv1_1
        old.minimum_version = ssl.TLSVersion.TLSv1
        with socket.create_connection(("127.0.0.1", c.port), timeout=5) as s:
            with old.wrap_socket(s):
                T.ok(False, "TLS 1.1 is refused")
    except (ssl.SSLError, OSError, ValueError):
        T.ok(True, "TLS 1.1 is refused")

    T.ok(c.emu("GET", "health") == (200, {"ok": True}), "the server survives bad requests")


def log_since(c, seq):
    return [e for e in c.emu("GET", "log")[1] if e["seq"] > seq]


def last_seq(c):
    log = c.emu("GET", "log")[1]
    return log[-1]["seq"] if log else 0


def test_keep_alive(c):
    """HTTP/1.1 as the real API speaks it: connections stay open between
    calls, every answer says its length, faults still behave, and the log
    names each call's connection so tests can count TLS handshakes."""
    verify = "/client/v4/accounts/%s/tokens/verify" % ACCOUNT
    auth = {"Authorization": "Bearer " + PARENT}
    start = last_seq(c)
    conn = c.connection()
    answers = [c.request("GET", verify, headers=auth, conn=conn) for _ in range(2)]
    sock = conn.sock
    c.request("GET", verify, headers=auth)  # a connection of its own
    log = log_since(c, start)
    T.ok([a[0] for a in answers] == [200, 200] and sock is not None
         and answers[0][1].version == 11 and answers[0][1].getheader("Connection") != "close",
         "HTTP/1.1 keep-alive: two API calls on one connection", [a[0] for a in answers])
    T.ok(len(log) == 3 and all(isinstance(e["connection"], int) for e in log)
         and log[0]["connection"] == log[1]["connection"] < log[2]["connection"],
         "the log numbers each call's connection: one for the kept-alive pair, a new one after",
         [e.get("connection") for e in log])
    T.ok(all(e["tls_resumed"] is False for e in log), "the log says a full handshake was made",
         [e.get("tls_resumed") for e in log])

    # Every answer says its length (keep-alive depends on it): API answers,
    # errors, control answers, and faults that answer.
    cases = [("GET", verify, auth, None), ("GET", verify, {}, None),
             ("GET", "/client/v4/nowhere", auth, None), ("GET", "/elsewhere", {}, None),
             ("GET", "/__emu/health", {}, None), ("GET", "/__emu/nothing", {}, None),
             ("GET", verify, auth, {"kind": "status", "status": 503,
                                    "headers": {"Content-Length": "1"}}),
             ("GET", verify, auth, {"kind": "status", "status": 502, "body": ""}),
             ("GET", verify, auth, {"kind": "malformed"}),
             ("GET", verify, auth, {"kind": "wrong_content_type", "status": 403}),
             ("GET", verify, auth, {"kind": "delay", "delay_ms": 50})]
    wrong = []
    for method, path, headers, fault in cases:
        if fault:
            fault.update({"path": "/tokens/verify$", "times": 1})
            c.emu("POST", "faults", fault)
        status, response, _, raw = c.request(method, path, headers=headers, conn=conn)
        if response.getheader("Content-Length") != str(len(raw)) or conn.sock is not sock:
            wrong.append((path, fault, status, response.getheader("Content-Length"), len(raw)))
    T.ok(not wrong, "every answer carries its Content-Length, and the connection stays open "
         "(answers, errors, control, status/malformed/wrong_content_type/delay faults)", wrong)

    # An idle kept-alive connection keeps nobody else waiting.
    began = time.monotonic()
    status, *_ = c.request("GET", verify, headers=auth, timeout=5)
    T.ok(status == 200 and time.monotonic() - began < 4.5 and conn.sock is sock,
         "an idle kept-alive connection does not hold up another client")

    # Faults that break the connection still break it on a kept-alive one.
    c.emu("POST", "faults", {"path": "/tokens/verify$", "kind": "truncated", "times": 1})
    try:
        c.request("GET", verify, headers=auth, conn=conn)
        T.ok(False, "truncated on a kept-alive connection: the client sees the short body")
    except http.client.IncompleteRead:
        T.ok(True, "truncated on a kept-alive connection: the client sees the short body")
    sock.settimeout(5)
    try:
        closed = sock.recv(1) == b""
    except (OSError, ssl.SSLError):
        closed = True
    T.ok(closed, "truncated: then the server closes the connection")
    conn.close()

    conn = c.connection()
    c.request("GET", verify, headers=auth, conn=conn)
    c.emu("POST", "faults", {"path": "/tokens/verify$", "kind": "reset", "times": 1})
    try:
        c.request("GET", verify, headers=auth, conn=conn)
        T.ok(False, "reset on a kept-alive connection")
    except (ConnectionResetError, ssl.SSLError, http.client.RemoteDisconnected) as e:
        T.ok(True, "reset on a kept-alive connection", repr(e))
    conn.close()

    conn = c.connection(timeout=0.7)
    c.request("GET", verify, headers=auth, conn=conn)
    c.emu("POST", "faults", {"path": "/tokens/verify$", "kind": "blackhole", "times": 1})
    try:
        c.request("GET", verify, headers=auth, conn=conn)
        T.ok(False, "blackhole on a kept-alive connection: no answer")
    except (socket.timeout, TimeoutError):
        T.ok(True, "blackhole on a kept-alive connection: no answer")
    conn.close()
    c.emu("DELETE", "faults")

    # A client that offers an earlier TLS session: the log says it resumed.
    def raw_call(session=None):
        with socket.create_connection(("127.0.0.1", c.port), timeout=5) as s:
            with c.context.wrap_socket(s, server_hostname="127.0.0.1", session=session) as tls:
                tls.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n"
                             "Connection: close\r\n\r\n" % (verify, PARENT)).encode())
                while tls.recv(65536):
                    pass
                return tls.session, tls.session_reused
    start = last_seq(c)
    session, _ = raw_call()
    _, reused = raw_call(session)
    log = log_since(c, start)
    T.ok(len(log) == 2 and [e["tls_resumed"] for e in log] == [False, reused]
         and log[0]["connection"] != log[1]["connection"],
         "the log says whether a connection resumed a TLS session (the client saw %s)" % reused,
         [(e["connection"], e["tls_resumed"]) for e in log])


def test_concurrency(c):
    def create(i):
        return c.api("POST", "/accounts/%s/tokens" % ACCOUNT, PARENT, create_body(name="par %d" % i))
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(create, range(16)))
    ids = {env["result"]["id"] for status, env, _ in results if status == 200}
    T.ok(len(ids) == 16, "16 parallel creates: 16 distinct tokens", len(ids))
    for tid in ids:
        c.api("DELETE", "/accounts/%s/tokens/%s" % (ACCOUNT, tid), PARENT, {})


def test_emuctl(emu):
    base = [PYTHON, os.path.join(HERE, "emuctl.py"), "--url", "https://127.0.0.1:%d" % emu.port,
            "--ca", emu.ca]
    run = subprocess.run(base + ["GET", "/__emu/health"], capture_output=True, text=True)
    T.ok(run.returncode == 0 and json.loads(run.stdout) == {"ok": True}, "emuctl GET health",
         run.stdout + run.stderr)
    run = subprocess.run(base + ["POST", "/__emu/config", '{"quota_user": 50}'],
                         capture_output=True, text=True)
    T.ok(run.returncode == 0 and json.loads(run.stdout)["quota_user"] == 50, "emuctl POST with a body",
         run.stdout + run.stderr)
    run = subprocess.run(base + ["GET", "/__emu/nothing"], capture_output=True, text=True)
    T.ok(run.returncode == 1 and "error" in json.loads(run.stdout), "emuctl exits 1 on an HTTP error",
         run.stdout)


def test_log(c, deliberate):
    # A client that (wrongly) sends a token value in a body or query: still
    # nothing in the log.
    status, env, _ = c.api("POST", "/accounts/%s/tokens?probe=%s" % (ACCOUNT, READER), PARENT,
                           create_body(name=PARENT))
    c.api("DELETE", "/accounts/%s/tokens/%s" % (ACCOUNT, env["result"]["id"]), PARENT, {})
    status, log = c.emu("GET", "log")
    text = json.dumps(log)
    T.ok(not any(v in text for v in ALL_VALUES) and "cfat_" not in text and "cfut_" not in text,
         "no token value anywhere in the log")
    keys = {"seq", "method", "path", "query", "status", "token_id", "owner", "request_body",
            "schema_errors", "fault", "connection", "tls_resumed"}
    T.ok(log and all(keys <= set(e) for e in log), "log entries carry all documented fields")
    T.ok(all("?" not in e["path"] for e in log) and any(e["query"] for e in log),
         "log paths are without query; the query is a dict")
    bad = [(e["seq"], e["method"], e["path"], e["schema_errors"]) for e in log
           if e["schema_errors"] and e["seq"] not in deliberate]
    T.ok(not bad, "every answer (and non-deliberate request) of the run matched the schema", bad)
    flagged = [e for e in log if e["seq"] in deliberate]
    T.ok(flagged and all(e["schema_errors"] for e in flagged),
         "every deliberately invalid request body was flagged", [e["seq"] for e in flagged])
    T.ok(any(e["status"] == 200 for e in log) and any(e["status"] == 401 for e in log),
         "the log records statuses")
    c.emu("DELETE", "log")
    T.ok(c.emu("GET", "log")[1] == [], "DELETE /__emu/log clears it")


def test_tls_certs(workdir, certs):
    """Emulators on the fault certificates: clients trusting ca.pem must refuse them."""
    cases = [("expired", "certificate has expired"),
             ("wronghost", "match"),     # hostname mismatch / IP address mismatch
             ("untrusted", "unable to get local issuer")]
    emus = [(Emulator(workdir, certs, cert=name, max_lifetime=2), name, why)
            for name, why in cases]
    for emu, name, why in emus:
        if not emu.wait_ready():
            T.ok(False, "emulator starts with %s.pem" % name, emu.stderr_text())
            continue
        client = Client(emu.port, emu.ca)
        try:
            client.emu("GET", "health")
            T.ok(False, "%s.pem is refused by a client trusting ca.pem" % name)
        except ssl.SSLCertVerificationError as e:
            T.ok(why in str(e).lower() or why in str(e.verify_message).lower(),
                 "%s.pem is refused by a client trusting ca.pem" % name, str(e))
    for emu, name, _ in emus:
        try:
            rc = emu.proc.wait(6)
        except subprocess.TimeoutExpired:
            rc = None
            emu.proc.kill()
        if name == "expired":
            T.ok(rc == 0 and not os.path.exists(emu.ready),
                 "--max-lifetime: the emulator exits by itself", rc)


def main():
    with open(os.path.join(HERE, "data", "permission-groups.json")) as f:
        for g in json.load(f):
            if "com.cloudflare.api.account" in g["scopes"] or g["name"] not in GROUP_IDS:
                GROUP_IDS[g["name"]] = g["id"]

    workdir = tempfile.mkdtemp(prefix="cfemu-test-")
    certs = os.path.join(workdir, "certs")
    emu = None
    try:
        subprocess.run(["sh", os.path.join(HERE, "gen-certs.sh"), certs], check=True)
        emu = Emulator(workdir, certs)
        started = emu.wait_ready()
        T.ok(started, "emulator starts and writes its port to the ready file", emu.stderr_text())
        if not started:
            return T.report()
        c = Client(emu.port, emu.ca)
        T.ok(c.emu("GET", "health") == (200, {"ok": True}), "GET /__emu/health")
        deliberate = set()
        test_files(certs)
        test_openapi_check()
        test_auth(c)
        test_verify(c)
        test_permission_groups(c)
        test_account_crud(c)
        test_routing_and_permissions(c)
        test_create_validation(c, deliberate)
        test_quota(c)
        test_user_tokens(c)
        test_worker_secrets(c)
        test_lifecycle_and_conditions(c)
        test_whoami(c)
        test_pagination(c)
        test_schema_never_blocks(c, deliberate)
        test_faults(c)
        test_connection_behaviour(c)
        test_keep_alive(c)
        test_concurrency(c)
        test_emuctl(emu)
        test_workers_routes.run(c, T, ACCOUNT, ZONE, OTHER_ZONE, deliberate)
        test_log(c, deliberate)
        test_tls_certs(workdir, certs)
        idle = c.connection()
        c.request("GET", "/__emu/health", conn=idle)  # kept alive, then idle
        began = time.monotonic()
        rc = emu.stop()
        T.ok(rc == 0 and not os.path.exists(emu.ready), "SIGTERM: clean exit, ready file removed", rc)
        T.ok(time.monotonic() - began < 4.5, "an idle kept-alive connection does not delay the exit",
             time.monotonic() - began)
        idle.close()
        out = emu.proc.stdout.read()
        errors = emu.stderr_text()
        T.ok(not out and not errors, "nothing on stdout or stderr", (out, errors))
    except Exception as e:  # report, don't hide, a crash of the test itself
        import traceback
        T.ok(False, "test run completed", traceback.format_exc())
        del e
    finally:
        if emu is not None:
            emu.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    return T.report()


if __name__ == "__main__":
    sys.exit(main())
