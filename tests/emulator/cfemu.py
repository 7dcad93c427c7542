#!/usr/bin/python3
"""cfemu: an HTTPS emulator of Cloudflare's API-token endpoints for tests.

It serves the calls cftoken (and `wrangler whoami`, `wrangler secret
put/list/delete`) make, under /client/v4, over TLS on 127.0.0.1, keeps tokens
as state (create, list, get, update, roll, delete, verify, expiry, IP
conditions, quotas) and Worker scripts with their secrets, checks every request
and answer against the official OpenAPI extract (openapi_check.py), and can
be told to misbehave (5xx, 429, slow, malformed, truncated, reset, silent,
dripping, oversized answers) through a control API under /__emu/.

Usage:
  cfemu.py --cert server.pem --key server.key --seed seed.json \
           --ready-file PATH [--port 0] [--schema FILE] \
           [--permission-groups FILE] [--max-lifetime 900]

Token values and secret texts are only ever kept as SHA-256 hashes: nothing
the emulator logs or reports can leak one.
"""

import argparse
import datetime
import hashlib
import http.server
import ipaddress
import json
import os
import re
import secrets
import select
import signal
import socket
import ssl
import string
import struct
import sys
import threading
import time
import traceback
import urllib.parse
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# The route modules beside this file (workers_api, storage_api, access)
# "import cfemu" for its errors and helpers: run as a program, this module
# is __main__, and without this alias they would load a second copy of it,
# whose ApiError the dispatcher here would not catch.
sys.modules.setdefault("cfemu", sys.modules[__name__])
import openapi_check  # noqa: E402  (lives next to this file)
import operations  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
API_BASE = "/client/v4"
CONTROL_PREFIX = "/__emu/"

# ---- Cloudflare error and message codes -----------------------------------
# Codes the real API is known to use (see API.md's table) ...
CODE_INVALID_TOKEN = 1000          # 401 Invalid API Token
CODE_ACCOUNTS_LIST_REFUSED = 1001  # 400 List accounts ... account owned tokens
CODE_INVALID_HEADERS = 6003        # 400 Invalid request headers
CODE_MALFORMED_JSON = 6007         # 400 Malformed JSON in request body
CODE_BAD_AUTH_FORMAT = 6111        # error_chain of 6003
CODE_NO_ROUTE = 7000               # 404 No route for that URI
CODE_METHOD_NOT_ALLOWED = 7001     # 405 Method not allowed
CODE_COULD_NOT_ROUTE = 7003        # 404 Could not route to ..., identifier invalid
CODE_RATE_LIMITED = 971            # 429 Please wait and consider throttling
CODE_MISSING_AUTH = 9106           # 400 Missing X-Auth-Key, X-Auth-Email or Authorization
CODE_UNAUTHORIZED = 9109           # 403 Unauthorized to access requested resource
CODE_TOKEN_VALID = 10000           # message of a successful verify
CODE_INTERNAL = 10001              # 5xx
# ... and codes this emulator chose where the real ones are not documented.
# Clients should key on the HTTP status and the message, not on these numbers.
CODE_INVALID_BODY = 1002           # 400 request body fails the schema / semantic checks
CODE_UNKNOWN_PERMISSION_GROUP = 1003  # 400 permission group id unknown / not allowed here
CODE_INVALID_PAGINATION = 1004     # 400 page / per_page out of range
CODE_QUOTA_EXCEEDED = 1005         # 400 maximum number of API tokens reached
# Workers API (outside the token schema extract): the codes wrangler and the
# API are seen to use, not documented, so chosen here too.
CODE_WORKERS_AUTH = 10000          # 403 Authentication error (no Workers Scripts group)
CODE_SCRIPT_NOT_FOUND = 10007      # 404 no such Worker script (wrangler keys on 10007)
CODE_SECRET_NOT_FOUND = 10056      # 404 no such secret on the script

MSG_INVALID_TOKEN = "Invalid API Token"
MSG_UNAUTHORIZED = "Unauthorized to access requested resource"
MSG_TOKEN_VALID = "This API Token is valid and active"
MSG_WORKERS_AUTH = "Authentication error"
MSG_SCRIPT_NOT_FOUND = "workers.api.error.script_not_found"
MSG_SECRET_NOT_FOUND = "workers.api.error.secret_not_found"

# ---- limits -----------------------------------------------------------------
# Worker uploads (multipart: the bundle, its source maps, a metadata part)
# reach tens of MB; bodies are read in chunks of READ_CHUNK.
MAX_REQUEST_BODY = 64 << 20
READ_CHUNK = 1 << 20
HANDSHAKE_TIMEOUT = 10.0
IDLE_TIMEOUT = 60.0            # keep-alive connections idle longer are closed
BLACKHOLE_MAX_SECONDS = 60.0
OVERSIZED_BYTES = 20 << 20
TOKEN_VALUE_RE = re.compile(r"^[A-Za-z0-9_-]{40,80}$")
HEX32_RE = re.compile(r"^[0-9a-f]{32}$")
# Worker names as Cloudflare accepts them: lowercase, digits, "-" and "_".
SCRIPT_NAME_RE = re.compile(r"^[a-z0-9_][a-z0-9_-]{0,62}$")
SECRET_TYPE = "secret_text"
# Request paths whose bodies carry a secret's text (kept out of the log).
SECRETS_PATH_RE = re.compile(r"/workers/scripts/[^/]+/secrets(/|$)")

# Resource keys a policy may name (API.md, "Resource keys").
ACCOUNT_KEY_RE = re.compile(r"^com\.cloudflare\.api\.account\.([0-9a-f]{32}|\*)$")
ZONE_KEY_RE = re.compile(r"^com\.cloudflare\.api\.account\.zone\.([0-9a-f]{32}|\*)$")
USER_KEY_RE = re.compile(r"^com\.cloudflare\.api\.user\.([0-9a-f]{32})$")
R2_KEY_RE = re.compile(r"^com\.cloudflare\.edge\.r2\.bucket\.(\*|[0-9a-f]{32}_[a-z]+_[a-z0-9-]+)$")

SCOPE_ACCOUNT = "com.cloudflare.api.account"
SCOPE_USER = "com.cloudflare.api.user"


class ApiError(Exception):
    """An API failure answered as a Cloudflare failure envelope."""

    def __init__(self, status, code, message, chain=None, headers=None):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.chain = chain
        self.headers = headers or {}

    def envelope(self):
        error = {"code": self.code, "message": self.message}
        if self.chain:
            error["error_chain"] = [{"code": c, "message": m} for c, m in self.chain]
        return failure_envelope([error])


class ControlError(Exception):
    """A bad control-API request (answered as {"error": ...})."""

    def __init__(self, message, status=400):
        super().__init__(message)
        self.status = status


def unauthorized():
    return ApiError(403, CODE_UNAUTHORIZED, MSG_UNAUTHORIZED)


def invalid_token():
    return ApiError(401, CODE_INVALID_TOKEN, MSG_INVALID_TOKEN)


def invalid_body(message):
    return ApiError(400, CODE_INVALID_BODY, message)


def could_not_route(path):
    return ApiError(404, CODE_COULD_NOT_ROUTE,
                    "Could not route to %s, perhaps your object identifier is invalid?" % path)


# ---- envelopes ----------------------------------------------------------------

def success_envelope(result, messages=(), result_info=None):
    envelope = {"success": True, "errors": [], "messages": list(messages), "result": result}
    if result_info is not None:
        envelope["result_info"] = result_info
    return envelope


def failure_envelope(errors):
    return {"success": False, "errors": errors, "messages": [], "result": None}


# ---- time, ids, values ----------------------------------------------------------

def utcnow():
    """Now, to the microsecond: the API's own times (issued_on, modified_on,
    last_used_on) carry fractional seconds, so two events within one second
    still have different times."""
    return datetime.datetime.now(datetime.timezone.utc)


def fmt_time(dt):
    """RFC 3339 in UTC, as precise as the time is: the emulator's own times
    get microseconds ("2018-07-01T05:20:00.123456Z"), and a not_before or
    expires_on a client sent in whole seconds comes back as it was sent."""
    if not dt:
        return None
    fraction = ".%06d" % dt.microsecond if dt.microsecond else ""
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + fraction + "Z"


def parse_time(value):
    """An RFC 3339 string as an aware UTC datetime (to the microsecond);
    ValueError if not."""
    if not openapi_check.is_rfc3339(value):
        raise ValueError("not an RFC 3339 date-time: %r" % (value,))
    dt = datetime.datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    return dt.astimezone(datetime.timezone.utc)


def new_id():
    return secrets.token_hex(16)


# --values-log: every token value this emulator ever holds (seeded, created,
# rolled), one per line, so that a last test can look for each in everything
# the suite printed.  Shared by emulators of one run: appended, mode 0600.
VALUES_LOG = None


def remember_value(value):
    if VALUES_LOG:
        fd = os.open(VALUES_LOG, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, (value + "\n").encode())
        finally:
            os.close(fd)
    return value


def new_token_value(owner):
    """cfat_/cfut_ + 40 random [A-Za-z0-9] + 8 hex of their CRC-32 (API.md)."""
    alphabet = string.ascii_letters + string.digits
    body = "".join(secrets.choice(alphabet) for _ in range(40))
    prefix = "cfat_" if owner == "account" else "cfut_"
    return remember_value("%s%s%08x" % (prefix, body, zlib.crc32(body.encode())))


def sha256_hex(value):
    return hashlib.sha256(value.encode()).hexdigest()


# ---- permission groups ---------------------------------------------------------------

class PermissionGroups:
    """The catalogue of permission groups (data/permission-groups.json)."""

    def __init__(self, path):
        with open(path, encoding="utf-8") as f:
            self.groups = [{"id": g["id"], "name": g["name"], "scopes": list(g["scopes"])}
                           for g in json.load(f)]
        self.by_id = {g["id"]: g for g in self.groups}
        self.by_name = {}
        for g in self.groups:
            # Names like "Logs Write" exist at account and zone scope; a name
            # means the account-scoped one.
            if g["name"] not in self.by_name or SCOPE_ACCOUNT in g["scopes"]:
                self.by_name[g["name"]] = g

    @staticmethod
    def usable_by(group, owner):
        """Account-owned tokens cannot hold user-scoped groups."""
        return owner == "user" or SCOPE_USER not in group["scopes"]

    def listing(self, owner):
        return [g for g in self.groups if self.usable_by(g, owner)]

    def resolve(self, ref):
        """{"id"} or {"name"} (seed / control API) -> {"id", "name"}; KeyError."""
        if ref.get("id"):
            group = self.by_id.get(ref["id"])
        else:
            group = self.by_name.get(ref.get("name"))
        if group is None:
            raise KeyError("unknown permission group %s" % json.dumps(ref))
        return {"id": group["id"], "name": group["name"]}


# ---- tokens -----------------------------------------------------------------------

class Token:
    """One API token. Only the SHA-256 of its value is kept."""

    def __init__(self, owner, account_id, name, policies, value_sha256, *, token_id=None,
                 status="active", not_before=None, expires_on=None, condition=None,
                 creator_email=None):
        now = utcnow()
        self.id = token_id or new_id()
        self.owner = owner                # "account" | "user"
        self.account_id = account_id      # None for user-owned tokens
        self.name = name
        self.policies = policies          # [{"id","effect","permission_groups","resources"}]
        self.value_sha256 = value_sha256
        self.status = status              # stored: "active" | "disabled"
        self.not_before = not_before      # datetime or None
        self.expires_on = expires_on      # datetime or None
        self.condition = condition        # dict or None
        self.creator_email = creator_email
        self.issued_on = now
        self.modified_on = now
        self.last_used_on = None
        self.deleted = False

    def is_expired(self, now):
        return self.expires_on is not None and self.expires_on <= now

    def shown_status(self, now):
        return "expired" if self.is_expired(now) else self.status

    def usable(self, now):
        """May this token authenticate a call right now?"""
        return (not self.deleted and self.status == "active" and not self.is_expired(now)
                and (self.not_before is None or self.not_before <= now))

    def render(self, now):
        """The token object of the API (never with its value).

        Absent times are left out rather than sent as null: the schema types
        them as plain date-time strings.
        """
        out = {"id": self.id, "name": self.name, "status": self.shown_status(now),
               "issued_on": fmt_time(self.issued_on),
               "modified_on": fmt_time(self.modified_on)}
        for key in ("last_used_on", "not_before", "expires_on"):
            if getattr(self, key) is not None:
                out[key] = fmt_time(getattr(self, key))
        out["policies"] = json.loads(json.dumps(self.policies))
        out["condition"] = json.loads(json.dumps(self.condition or {}))
        if self.creator_email and self.owner == "account":
            out["creator_email_at_creation"] = self.creator_email
        return out

    def render_verify(self, now):
        out = {"id": self.id, "status": self.shown_status(now)}
        for key in ("not_before", "expires_on"):
            if getattr(self, key) is not None:
                out[key] = fmt_time(getattr(self, key))
        return out

    def render_control(self, now):
        """Everything but the value, for GET /__emu/tokens."""
        return {"id": self.id, "owner": self.owner, "account_id": self.account_id,
                "name": self.name, "status": self.status,
                "effective_status": self.shown_status(now),
                "not_before": fmt_time(self.not_before), "expires_on": fmt_time(self.expires_on),
                "issued_on": fmt_time(self.issued_on), "modified_on": fmt_time(self.modified_on),
                "last_used_on": fmt_time(self.last_used_on),
                "policies": self.policies, "condition": self.condition,
                "value_sha256": self.value_sha256, "deleted": self.deleted}


def key_covers(pattern, key):
    """Does a policy resource key cover a concrete key? ("...account.*" covers
    "...account.<id>" but not "...account.zone.<id>")."""
    if pattern == key:
        return True
    if pattern.endswith(".*"):
        prefix = pattern[:-1]
        return key.startswith(prefix) and "." not in key[len(prefix):]
    return False


def token_allows(token, group_names, resource):
    """True if an allow policy grants one of group_names on resource and no
    deny policy takes it away (deny wins)."""
    allowed = False
    for policy in token.policies:
        if not any(g["name"] in group_names for g in policy["permission_groups"]):
            continue
        if not any(value == "*" and key_covers(key, resource)
                   for key, value in policy["resources"].items()):
            continue
        if policy["effect"] == "deny":
            return False
        allowed = True
    return allowed


def ip_condition_allows(condition, client_ip):
    """Enforce condition["request.ip"] {"in": [...], "not_in": [...]}."""
    rule = (condition or {}).get("request.ip") or {}
    addr = ipaddress.ip_address(client_ip)
    allow = [ipaddress.ip_network(c, strict=False) for c in rule.get("in") or []]
    deny = [ipaddress.ip_network(c, strict=False) for c in rule.get("not_in") or []]
    if allow and not any(addr in net for net in allow):
        return False
    # An address never matches a network of the other IP version.
    return not any(addr in net for net in deny)


# ---- the token-management scope of a call ------------------------------------------

class Scope:
    """Whose tokens a call manages: one account's, or the user's."""

    def __init__(self, owner, account_id=None, user_id=None):
        self.owner = owner
        self.account_id = account_id
        if owner == "account":
            self.resource = "%s.%s" % (SCOPE_ACCOUNT, account_id)
            self.read_groups = {"Account API Tokens Read", "Account API Tokens Write"}
            self.write_groups = {"Account API Tokens Write"}
        else:
            self.resource = "%s.%s" % (SCOPE_USER, user_id)
            self.read_groups = {"API Tokens Read", "API Tokens Write"}
            self.write_groups = {"API Tokens Write"}

    def holds(self, token):
        return (not token.deleted and token.owner == self.owner
                and (self.owner == "user" or token.account_id == self.account_id))

    def require(self, caller, write):
        # Account-owned tokens never act on user resources, whatever a seed says.
        if self.owner == "user" and caller.owner != "user":
            raise unauthorized()
        if not token_allows(caller, self.write_groups if write else self.read_groups,
                            self.resource):
            raise unauthorized()


# ---- Worker scripts and their secrets ---------------------------------------------

class Secret:
    """One secret of a Worker script. Only the SHA-256 of its text is kept:
    the API never gives a secret's text back, and neither may the emulator."""

    def __init__(self, name, text_sha256, now):
        self.name = name
        self.type = SECRET_TYPE
        self.value_sha256 = text_sha256
        self.modified_on = now

    def render(self):
        """The secret object of the API: name and type, never the text."""
        return {"name": self.name, "type": self.type}

    def render_control(self):
        return {"name": self.name, "type": self.type, "value_sha256": self.value_sha256,
                "modified_on": fmt_time(self.modified_on)}


class Script:
    """A Worker script of an account. Only its secrets are modelled: that is
    all `wrangler secret put/list/delete` touch."""

    def __init__(self, account_id, name):
        self.account_id = account_id
        self.name = name
        self.secrets = {}          # name -> Secret

    def sorted_secrets(self):
        return [self.secrets[n] for n in sorted(self.secrets)]

    def put_secret(self, name, text_sha256, now):
        """Create or replace (a PUT of an existing name is an update)."""
        self.secrets[name] = Secret(name, text_sha256, now)
        return self.secrets[name]

    def render_control(self):
        return {"account_id": self.account_id, "name": self.name,
                "secrets": [s.render_control() for s in self.sorted_secrets()]}


class WorkersScope:
    """The Workers scripts of one account. Its scope maker (workers_scope)
    enforces data/api-operations.tsv; require() guards the one secrets call
    the table has no groups for, with the Workers Scripts groups on the
    account's resource key (or a policy on com.cloudflare.api.account.*)."""

    read_groups = {"Workers Scripts Read", "Workers Scripts Write"}
    write_groups = {"Workers Scripts Write"}

    def __init__(self, account_id):
        self.account_id = account_id
        self.resource = "%s.%s" % (SCOPE_ACCOUNT, account_id)

    def require(self, caller, write):
        # The Workers API answers a missing permission with its own 10000,
        # not the 9109 of the token endpoints.
        if not token_allows(caller, self.write_groups if write else self.read_groups,
                            self.resource):
            raise ApiError(403, CODE_WORKERS_AUTH, MSG_WORKERS_AUTH)


# ---- fault rules -------------------------------------------------------------------

FAULT_KINDS = ("status", "malformed", "truncated", "reset", "delay", "blackhole",
               "wrong_content_type", "oversized", "drip")


class FaultRule:
    def __init__(self, spec):
        if not isinstance(spec, dict):
            raise ControlError("a fault rule is a JSON object")
        self.kind = spec.get("kind", "status")
        if self.kind not in FAULT_KINDS:
            raise ControlError("kind must be one of %s" % ", ".join(FAULT_KINDS))
        self.method = spec.get("method")
        if self.method is not None and not isinstance(self.method, str):
            raise ControlError("method must be a string or null")
        try:
            self.path_source = spec.get("path") or ""
            self.path = re.compile(self.path_source)
        except (re.error, TypeError) as e:
            raise ControlError("path is not a valid regular expression: %s" % e) from None
        self.times = spec.get("times", 1)
        if self.times is not None and (not isinstance(self.times, int) or self.times < 1):
            raise ControlError("times must be a positive integer or null (forever)")
        default_status = 503 if self.kind == "status" else 200
        self.status = spec.get("status", default_status)
        if not isinstance(self.status, int) or not 100 <= self.status <= 599:
            raise ControlError("status must be an HTTP status code")
        self.headers = spec.get("headers") or {}
        if not isinstance(self.headers, dict):
            raise ControlError("headers must be an object")
        self.body = spec.get("body")
        if self.body is not None and not isinstance(self.body, str):
            raise ControlError("body must be a string")
        self.delay_ms = spec.get("delay_ms", 0)
        if not isinstance(self.delay_ms, (int, float)) or self.delay_ms < 0:
            raise ControlError("delay_ms must be a non-negative number")
        # drip: the time between two bytes of the body
        self.drip_ms = spec.get("drip_ms", 1000)
        if not isinstance(self.drip_ms, (int, float)) or self.drip_ms < 0:
            raise ControlError("drip_ms must be a non-negative number")
        # apply: run the call for real first (state changes), then misbehave;
        # models "the server did it but the answer was lost".
        self.apply = bool(spec.get("apply", False))
        # A test that holds a request (a long delay_ms) to look at its
        # client while it waits sees it in "holding", and ends the wait
        # with POST /__emu/faults/release instead of sitting it out.
        self.holding = 0            # requests in this rule's delay now (State.lock)
        self.released = threading.Event()

    def delay(self, lock):
        """delay_ms, or less if a test releases the rule meanwhile."""
        with lock:
            self.holding += 1
        try:
            self.released.wait(self.delay_ms / 1000.0)
        finally:
            with lock:
                self.holding -= 1

    def matches(self, method, path):
        return ((self.method is None or self.method.upper() == method)
                and self.path.search(path) is not None)

    def describe(self):
        return {"method": self.method, "path": self.path_source, "times": self.times,
                "kind": self.kind, "status": self.status, "headers": self.headers,
                "body": self.body, "delay_ms": self.delay_ms, "drip_ms": self.drip_ms,
                "apply": self.apply, "holding": self.holding}


# ---- the emulated account state -------------------------------------------------------

class State:
    """Accounts, the user, tokens, quotas, the request log and fault rules.

    One lock guards everything; every API call holds it while it runs (calls
    are short and never sleep while holding it).
    """

    def __init__(self, seed, groups, operations=None):
        self.lock = threading.RLock()
        self.groups = groups
        self.operations = operations   # operations.OperationTable, enforced by access.py
        self.started = utcnow()
        self.accounts = {}
        for account in seed.get("accounts", []):
            if not HEX32_RE.match(str(account.get("id", ""))):
                raise ValueError("seed account id must be 32 lowercase hex: %r" % account.get("id"))
            self.accounts[account["id"]] = dict(account)
        self.user = dict(seed.get("user") or {"id": new_id(), "email": "dev@example.com"})
        if not HEX32_RE.match(str(self.user.get("id", ""))):
            raise ValueError("seed user id must be 32 lowercase hex")
        quota = seed.get("quota") or {}
        self.quota = {"account": int(quota.get("account", 500)), "user": int(quota.get("user", 50))}
        self.accounts_list_refuses_account_tokens = bool(
            seed.get("accounts_list_refuses_account_tokens", False))
        # Zones only for GET /zones (a client finding a zone id by name):
        # {"id", "name", "account_id"}.
        self.zones = []
        for zone in seed.get("zones", []):
            if not HEX32_RE.match(str(zone.get("id", ""))) or zone.get("account_id") not in self.accounts:
                raise ValueError("seed zone needs a 32-hex id and a known account_id: %r" % zone)
            self.zones.append(dict(zone))
        self.scripts = {}           # (account_id, name) -> Script, in creation order
        for spec in seed.get("scripts", []):
            self.add_script(spec)
        # Worker versions, deployments, routes, subdomains (workers_api.py);
        # KV namespaces, R2 buckets, D1 databases (storage_api.py).
        self.workers = workers_api.WorkersState(self, seed)
        self.storage = storage_api.StorageState(self, seed)
        self.tokens = {}            # id -> Token (deleted ones stay, flagged)
        self.current_values = {}    # sha256 of a usable value -> token id
        self.old_values = {}        # sha256 of a rolled-away value -> token id
        self.log = []
        self.log_seq = 0
        self.faults = []
        for spec in seed.get("tokens", []):
            if not spec.get("value"):
                raise ValueError("seed tokens need a value")
            self.add_token(spec)

    # -- tokens

    def add_token(self, spec):
        """Add a token given in the seed shape; returns (token, value)."""
        owner = spec.get("owner", "account")
        if owner not in ("account", "user"):
            raise ValueError("owner must be account or user")
        account_id = spec.get("account_id") if owner == "account" else None
        if owner == "account" and account_id not in self.accounts:
            raise ValueError("account_id %r is not a seeded account" % account_id)
        value = spec.get("value") or new_token_value(owner)
        if not isinstance(value, str) or not TOKEN_VALUE_RE.match(value):
            # Such a value could never pass the Authorization header check.
            raise ValueError("token values are 40 to 80 characters [A-Za-z0-9_-]")
        remember_value(value)
        if sha256_hex(value) in self.current_values:
            raise ValueError("a token with this value exists")
        policies = []
        for p in spec.get("policies", []):
            if p.get("effect", "allow") not in ("allow", "deny"):
                raise ValueError("effect must be allow or deny")
            if not isinstance(p.get("resources", {}), dict):
                raise ValueError("resources must be an object")
            policies.append({"id": p.get("id") or new_id(), "effect": p.get("effect", "allow"),
                             "permission_groups": [self.groups.resolve(g)
                                                   for g in p.get("permission_groups", [])],
                             "resources": p.get("resources", {})})
        token_id = spec.get("id")
        if token_id is not None and (not HEX32_RE.match(token_id) or token_id in self.tokens):
            raise ValueError("id must be 32 lowercase hex and unused")
        try:
            condition = check_condition(spec.get("condition"))
        except ApiError as e:
            raise ValueError(e.message) from None
        token = Token(owner, account_id, spec.get("name", "token"), policies, sha256_hex(value),
                      token_id=token_id, status=spec.get("status", "active"),
                      condition=condition)
        apply_control_times(token, spec)
        if token.status not in ("active", "disabled"):
            raise ValueError("status must be active or disabled")
        self.tokens[token.id] = token
        self.current_values[token.value_sha256] = token.id
        return token, value

    def lookup_value(self, value):
        """(token, known) for a bearer value: known even if rolled away."""
        digest = sha256_hex(value)
        token_id = self.current_values.get(digest) or self.old_values.get(digest)
        return (self.tokens.get(token_id) if token_id else None), digest in self.current_values

    def roll(self, token):
        value = new_token_value(token.owner)
        self.current_values.pop(token.value_sha256, None)
        self.old_values[token.value_sha256] = token.id
        token.value_sha256 = sha256_hex(value)
        token.modified_on = utcnow()
        self.current_values[token.value_sha256] = token.id
        return value

    def delete(self, token):
        token.deleted = True
        self.current_values.pop(token.value_sha256, None)
        self.old_values[token.value_sha256] = token.id

    def count_tokens(self, scope):
        return sum(1 for t in self.tokens.values() if scope.holds(t))

    def visible_accounts(self, token):
        """Accounts a token has any policy on (what GET /accounts lists)."""
        if token.owner == "account":
            return [self.accounts[token.account_id]] if token.account_id in self.accounts else []
        ids = set()
        for policy in token.policies:
            for key in policy["resources"]:
                m = ACCOUNT_KEY_RE.match(key)
                if m and m.group(1) == "*":
                    ids.update(self.accounts)
                elif m and m.group(1) in self.accounts:
                    ids.add(m.group(1))
        return [self.accounts[i] for i in sorted(ids)]

    # -- Worker scripts

    def add_script(self, spec):
        """Add a script given as {"account_id", "name"} (seed / control API)."""
        if not isinstance(spec, dict):
            raise ValueError("a script is an object {\"account_id\", \"name\"}")
        account_id, name = spec.get("account_id"), spec.get("name")
        if account_id not in self.accounts:
            raise ValueError("script account_id %r is not a seeded account" % (account_id,))
        if not isinstance(name, str) or not SCRIPT_NAME_RE.match(name):
            raise ValueError("script name %r: 1 to 63 characters [a-z0-9_-], not starting "
                             "with -" % (name,))
        if (account_id, name) in self.scripts:
            raise ValueError("script %s exists in account %s" % (name, account_id))
        script = Script(account_id, name)
        self.scripts[(account_id, name)] = script
        return script

    # -- log and faults

    def record(self, entry):
        with self.lock:
            self.log_seq += 1
            entry["seq"] = self.log_seq
            self.log.append(entry)

    def take_fault(self, method, path):
        """The first matching rule with uses left, used once; or None."""
        with self.lock:
            for rule in self.faults:
                if rule.matches(method, path) and (rule.times is None or rule.times > 0):
                    if rule.times is not None:
                        rule.times -= 1
                    return rule
        return None


def apply_control_times(token, spec):
    """not_before / expires_on from a seed or control request.

    Besides RFC 3339 strings (or null), *_in keys take seconds relative to
    now, which shell tests find easier: {"expires_in": -60} is expired.
    Everything is parsed before anything changes (ValueError leaves the token
    as it was).
    """
    now = utcnow()
    changes = {}
    for key in ("not_before", "expires_on"):
        if key in spec:
            changes[key] = parse_time(spec[key]) if spec[key] is not None else None
    for key, attr in (("not_before_in", "not_before"), ("expires_in", "expires_on")):
        if spec.get(key) is not None:
            try:
                changes[attr] = now + datetime.timedelta(seconds=float(spec[key]))
            except (TypeError, ValueError, OverflowError):
                raise ValueError("%s must be a number of seconds" % key) from None
    for attr, value in changes.items():
        setattr(token, attr, value)


def log_body(state, path, body):
    """A request body as the log keeps it: no token value, and no secret's
    text (the log is a control answer, and those never show a secret)."""
    body = redact(body, state)
    return redact_secret_text(body) if SECRETS_PATH_RE.search(path) else body


def redact_secret_text(obj):
    """obj with every "text" member replaced, at any depth: even a malformed
    secret body (a list, say) may carry one."""
    if isinstance(obj, dict):
        return {k: "<redacted secret text>" if k == "text" else redact_secret_text(v)
                for k, v in obj.items()}
    if isinstance(obj, list):
        return [redact_secret_text(v) for v in obj]
    return obj


def redact(obj, state):
    """obj with every string that is a known token value replaced.

    Clients have no business sending a value in a body or query, but if one
    does, the log must still not show it.
    """
    if isinstance(obj, dict):
        return {k: redact(v, state) for k, v in obj.items()}
    if isinstance(obj, list):
        return [redact(v, state) for v in obj]
    if isinstance(obj, str) and TOKEN_VALUE_RE.match(obj):
        digest = sha256_hex(obj)
        if digest in state.current_values or digest in state.old_values:
            return "<redacted token value>"
    return obj


# ---- one API call --------------------------------------------------------------------

class Call:
    """What a route handler sees of one API request."""

    def __init__(self, state, method, path, query, body, body_error, client_ip):
        self.state = state
        self.method = method
        self.path = path                       # full path, e.g. /client/v4/user/tokens
        self.api_path = path[len(API_BASE):]   # /user/tokens
        self.query = query
        self.body = body                       # parsed JSON, or None
        self.body_error = body_error           # why the body could not be parsed, or None
        self.client_ip = client_ip
        self.params = {}
        self.token = None
        self.request_errors = []               # schema errors of the request body
        self.now = utcnow()
        self.raw = b""                         # the body as sent (multipart, KV values)
        self.headers = None                    # the request's headers


class RawBody:
    """An answer that is not a JSON envelope (a KV value): a handler returns
    (status, RawBody(...)), sent as is and checked against no schema."""

    def __init__(self, data, content_type="application/octet-stream"):
        self.data = data
        self.content_type = content_type


def authenticate(state, headers, call, entry):
    """The calling token, or ApiError (400 bad header, 401 invalid, 403 location)."""
    auth = headers.get_all("Authorization") or []
    bad_header = ApiError(400, CODE_INVALID_HEADERS, "Invalid request headers",
                          chain=[(CODE_BAD_AUTH_FORMAT, "Invalid format for Authorization header")])
    if len(auth) != 1:
        # Missing header, or legacy X-Auth-Key / X-Auth-Email (Global API Key),
        # which cftoken must not use: the token endpoints want a Bearer token.
        raise bad_header
    m = re.match(r"^Bearer (\S+)$", auth[0], re.IGNORECASE)
    if not m or not TOKEN_VALUE_RE.match(m.group(1)):
        raise bad_header
    token, current = state.lookup_value(m.group(1))
    if token is not None:
        entry["token_id"], entry["owner"] = token.id, token.owner
    if token is None or not current or not token.usable(call.now):
        raise invalid_token()
    if not ip_condition_allows(token.condition, call.client_ip):
        raise ApiError(403, CODE_UNAUTHORIZED,
                       "Cannot use the access token from location: %s" % call.client_ip)
    token.last_used_on = call.now
    return token


# ---- request body checks for create / update --------------------------------------------

def parsed_body(call):
    """The JSON body of a create/update, refusing what the real API refuses."""
    if call.body_error:
        raise ApiError(400, CODE_MALFORMED_JSON, "Malformed JSON in request body")
    if call.body is None:
        raise invalid_body("Request body is required")
    if call.request_errors:
        raise invalid_body("Invalid request body: " + "; ".join(
            e.split(": ", 1)[1] for e in call.request_errors[:3]))
    return call.body


def check_token_body(call, scope, body, allow_status):
    """Semantic checks beyond the schema; returns the normalised token fields."""
    groups = call.state.groups
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise invalid_body("name must be a non-empty string")
    if not body.get("policies"):
        raise invalid_body("policies must contain at least one policy")
    policies = [check_policy(call, scope, groups, p) for p in body["policies"]]
    fields = {"name": name, "policies": policies,
              "not_before": body_time(body, "not_before"),
              "expires_on": body_time(body, "expires_on"),
              "condition": check_condition(body.get("condition"))}
    start, end = fields["not_before"], fields["expires_on"]
    if start and end and end <= start:
        raise invalid_body("expires_on must be later than not_before")
    if allow_status and "status" in body:
        if body["status"] not in ("active", "disabled"):
            raise invalid_body("status can only be set to active or disabled")
        fields["status"] = body["status"]
    return fields


def body_time(body, key):
    if body.get(key) is None:
        return None
    try:
        return parse_time(body[key])
    except ValueError:
        raise invalid_body("%s must be an RFC 3339 date-time, e.g. 2026-01-01T00:00:00Z"
                           % key) from None


def check_condition(condition):
    """condition with valid CIDR lists, or None; 400 otherwise."""
    if not condition:
        return None
    rule = condition.get("request.ip") if isinstance(condition, dict) else None
    if rule is None:
        rule = {}
    if not isinstance(condition, dict) or not isinstance(rule, dict):
        raise invalid_body('condition must look like '
                           '{"request.ip": {"in": [...], "not_in": [...]}}')
    for key in ("in", "not_in"):
        cidrs = rule.get(key) or []
        if not isinstance(cidrs, list):
            raise invalid_body("condition request.ip.%s must be a list of CIDRs" % key)
        for cidr in cidrs:
            try:
                ipaddress.ip_network(cidr, strict=False)
            except (ValueError, TypeError):
                raise invalid_body("condition request.ip.%s: invalid CIDR %r"
                                   % (key, cidr)) from None
    return condition


def check_policy(call, scope, groups, policy):
    resolved = []
    for ref in policy.get("permission_groups") or []:
        group = groups.by_id.get(ref.get("id"))
        if group is None or not groups.usable_by(group, scope.owner):
            raise ApiError(400, CODE_UNKNOWN_PERMISSION_GROUP,
                           "Permission group %s does not exist or cannot be used in %s-owned tokens"
                           % (ref.get("id"), scope.owner))
        resolved.append({"id": group["id"], "name": group["name"]})
    if not resolved:
        raise invalid_body("each policy needs at least one permission group")
    resources = policy.get("resources") or {}
    if not resources:
        raise invalid_body("each policy needs at least one resource")
    for key, value in resources.items():
        check_resource(call, scope, key, value)
    return {"id": new_id(), "effect": policy["effect"],
            "permission_groups": resolved, "resources": resources}


def bad_resource(key):
    # API.md: a malformed key such as "com.cloudflare.api.account" is refused with 9109.
    return ApiError(400, CODE_UNAUTHORIZED, "Invalid resource name: %s" % key)


def check_resource(call, scope, key, value):
    account = ACCOUNT_KEY_RE.match(key)
    user = USER_KEY_RE.match(key)
    if account:
        account_id = account.group(1)
        if scope.owner == "account" and account_id not in ("*", scope.account_id):
            raise unauthorized()
        if scope.owner == "user" and account_id != "*" and account_id not in call.state.accounts:
            raise unauthorized()
        if isinstance(value, dict):
            for inner_key, inner_value in value.items():
                if not (ZONE_KEY_RE.match(inner_key) or R2_KEY_RE.match(inner_key)) \
                        or inner_value != "*":
                    raise bad_resource(inner_key)
            return
    elif user:
        if scope.owner != "user":
            raise bad_resource(key)
        if user.group(1) != call.state.user["id"]:
            raise unauthorized()
    elif not (ZONE_KEY_RE.match(key) or R2_KEY_RE.match(key)):
        raise bad_resource(key)
    if value != "*":
        raise bad_resource(key)


# ---- route handlers: token management -------------------------------------------------

def visible_account(call, route):
    """The {account_id} of the path: 404 unknown, 403 foreign (route names it)."""
    account_id = call.params["account_id"]
    state = call.state
    if account_id not in state.accounts:
        raise could_not_route(route % account_id)
    if account_id not in {a["id"] for a in state.visible_accounts(call.token)}:
        raise unauthorized()
    return account_id


def account_scope(call):
    """Scope of /accounts/{account_id}/tokens...: 404 unknown, 403 foreign."""
    return Scope("account", account_id=visible_account(call, "/accounts/%s/tokens"))


def workers_scope(call):
    """Scope of /accounts/{account_id}/workers/scripts/{script_name}/secrets...:
    the same 404 / 403 for the account as the token endpoints, then the
    groups data/api-operations.tsv accepts (access.py)."""
    return WorkersScope(access.account_access(call))


def verify_scope(call):
    """Verify checks ownership itself (401 when the token is not the account's)."""
    return Scope("account", account_id=call.params["account_id"])


def user_scope(call):
    return Scope("user", user_id=call.state.user["id"])


def find_token(call, scope):
    token = call.state.tokens.get(call.params["token_id"])
    if token is None or not scope.holds(token):
        raise could_not_route(call.api_path)
    return token


def pagination(query):
    """(page, per_page) from the query; 400 when out of the schema's range."""
    def number(key, default, low, high):
        raw = query.get(key)
        if raw is None:
            return default
        try:
            value = float(raw)
        except ValueError:
            value = None
        if value is None or value != int(value) or not low <= value <= high:
            raise ApiError(400, CODE_INVALID_PAGINATION,
                           "Invalid pagination: %s must be an integer between %d and %s"
                           % (key, low, high if high < 1e9 else "infinity"))
        return int(value)
    return number("page", 1, 1, 1e12), number("per_page", 20, 5, 50)


def paginate(items, query):
    page, per_page = pagination(query)
    if query.get("direction") == "desc":
        items = list(reversed(items))
    chunk = items[(page - 1) * per_page: page * per_page]
    return chunk, {"page": page, "per_page": per_page, "count": len(chunk),
                   "total_count": len(items)}


def list_tokens(call, scope):
    scope.require(call.token, write=False)
    include_expired = call.query.get("include_expired", "false").lower() == "true"
    # state.tokens keeps creation order, which is the listing order.
    tokens = [t for t in call.state.tokens.values() if scope.holds(t)
              and (include_expired or not t.is_expired(call.now))]
    chunk, info = paginate(tokens, call.query)
    return 200, success_envelope([t.render(call.now) for t in chunk], result_info=info)


def create_token(call, scope):
    scope.require(call.token, write=True)
    fields = check_token_body(call, scope, parsed_body(call), allow_status=False)
    state = call.state
    limit = state.quota[scope.owner]
    if state.count_tokens(scope) >= limit:
        raise ApiError(400, CODE_QUOTA_EXCEEDED,
                       "You have reached the maximum number of API tokens (%d) for this %s; "
                       "delete unused tokens first" % (limit, scope.owner))
    value = new_token_value(scope.owner)
    creator = state.user.get("email") if call.token.owner == "user" else None
    token = Token(scope.owner, scope.account_id, fields["name"], fields["policies"],
                  sha256_hex(value), not_before=fields["not_before"],
                  expires_on=fields["expires_on"], condition=fields["condition"],
                  creator_email=creator)
    state.tokens[token.id] = token
    state.current_values[token.value_sha256] = token.id
    result = token.render(call.now)
    result["value"] = value
    return 200, success_envelope(result)


def get_token(call, scope):
    scope.require(call.token, write=False)
    return 200, success_envelope(find_token(call, scope).render(call.now))


def update_token(call, scope):
    scope.require(call.token, write=True)
    token = find_token(call, scope)
    fields = check_token_body(call, scope, parsed_body(call), allow_status=True)
    # PUT replaces: times and condition not given are cleared.
    for key, value in fields.items():
        setattr(token, key, value)
    token.modified_on = call.now
    return 200, success_envelope(token.render(call.now))


def delete_token(call, scope):
    scope.require(call.token, write=True)
    token = find_token(call, scope)
    call.state.delete(token)
    return 200, success_envelope({"id": token.id})


def roll_token(call, scope):
    scope.require(call.token, write=True)
    token = find_token(call, scope)
    return 200, success_envelope(call.state.roll(token))


def verify_token(call, scope):
    # A token only verifies where it belongs: /user/tokens/verify answers 1000
    # for an account-owned token (that is how wrangler tells them apart).
    if not scope.holds(call.token):
        raise invalid_token()
    return 200, success_envelope(call.token.render_verify(call.now),
                                 messages=[{"code": CODE_TOKEN_VALID, "message": MSG_TOKEN_VALID}])


def list_permission_groups(call, scope):
    scope.require(call.token, write=False)
    groups = call.state.groups.listing(scope.owner)
    if call.query.get("name") is not None:
        groups = [g for g in groups if g["name"] == call.query["name"]]
    if call.query.get("scope") is not None:
        groups = [g for g in groups if call.query["scope"] in g["scopes"]]
    result = [dict(g) for g in groups]
    return 200, success_envelope(result, result_info={
        "page": 1, "per_page": len(result), "count": len(result), "total_count": len(result)})


# ---- route handlers: what wrangler whoami calls -------------------------------------------

def render_account(state, account):
    return {"id": account["id"], "name": account["name"], "type": "standard",
            "settings": {"enforce_twofactor": False, "default_nameservers": "cloudflare.standard",
                         "use_account_custom_ns_by_default": False},
            "created_on": account.get("created_on") or fmt_time(state.started)}


def get_user(call, _scope):
    if call.token.owner != "user":
        raise unauthorized()
    user = call.state.user
    result = {"id": user["id"], "email": user["email"],
              "username": user.get("username", user["id"]),
              "first_name": None, "last_name": None, "telephone": None, "country": None,
              "zipcode": None, "two_factor_authentication_enabled": False,
              "two_factor_authentication_locked": False, "suspended": False,
              "has_pro_zones": False, "has_business_zones": False,
              "has_enterprise_zones": False, "betas": [], "organizations": [],
              "created_on": fmt_time(call.state.started),
              "modified_on": fmt_time(call.state.started)}
    result.update({k: v for k, v in user.items() if k not in ("id", "email")})
    return 200, success_envelope(result)


def list_accounts(call, _scope):
    state = call.state
    if call.token.owner == "account" and state.accounts_list_refuses_account_tokens:
        raise ApiError(400, CODE_ACCOUNTS_LIST_REFUSED,
                       "List accounts endpoint does not support account owned tokens")
    accounts = state.visible_accounts(call.token)
    if call.query.get("name"):
        accounts = [a for a in accounts if call.query["name"].lower() in a["name"].lower()]
    chunk, info = paginate(accounts, call.query)
    return 200, success_envelope([render_account(state, a) for a in chunk], result_info=info)


def list_memberships(call, _scope):
    state = call.state
    if call.token.owner != "user":
        raise ApiError(400, CODE_MISSING_AUTH,
                       "Missing X-Auth-Key, X-Auth-Email or Authorization headers")
    grants = {"read": True, "write": True}
    memberships = [{
        "id": hashlib.md5((a["id"] + state.user["id"]).encode()).hexdigest(),
        "account": render_account(state, a), "status": "accepted",
        "roles": ["Super Administrator - All Privileges"], "api_access_enabled": None,
        "permissions": {k: dict(grants) for k in ("analytics", "billing", "cache_purge", "dns",
                                                  "dns_records", "lb", "logs", "organization",
                                                  "ssl", "waf", "zone_settings", "zones")},
    } for a in state.visible_accounts(call.token)]
    chunk, info = paginate(memberships, call.query)
    return 200, success_envelope(chunk, result_info=info)


ZONE_READ_GROUPS = ("Zone Read", "Zone Write")


def zone_readable(token, zone):
    return zone_allows(token, ZONE_READ_GROUPS, zone)


def zone_allows(token, group_names, zone):
    """One of group_names on the zone, on every zone, or on its account
    (flat or with the zone nested under the account)."""
    zone_key = "com.cloudflare.api.account.zone." + zone["id"]
    account_key = "com.cloudflare.api.account." + zone["account_id"]
    if token.owner == "account" and token.account_id != zone["account_id"]:
        return False
    if token_allows(token, group_names, zone_key) or \
            token_allows(token, group_names, account_key):
        return True
    for policy in token.policies:
        if policy["effect"] != "allow" or \
                not any(g["name"] in group_names for g in policy["permission_groups"]):
            continue
        nested = policy["resources"].get(account_key)
        if isinstance(nested, dict) and any(v == "*" and key_covers(k, zone_key)
                                            for k, v in nested.items()):
            return True
    return False


def list_zones(call, _scope):
    """GET /zones (name, account.id filters): only the zones the token may
    read, as the real API answers; outside the token schema extract."""
    state = call.state
    zones = [z for z in state.zones if zone_readable(call.token, z)]
    if call.query.get("name"):
        zones = [z for z in zones if z["name"] == call.query["name"].lower()]
    if call.query.get("account.id"):
        zones = [z for z in zones if z["account_id"] == call.query["account.id"]]
    chunk, info = paginate(zones, call.query)
    result = [{"id": z["id"], "name": z["name"], "status": "active", "paused": False,
               "type": "full",
               "account": {"id": z["account_id"], "name": state.accounts[z["account_id"]]["name"]},
               "created_on": fmt_time(state.started), "modified_on": fmt_time(state.started)}
              for z in chunk]
    return 200, success_envelope(result, result_info=info)


# ---- route handlers: Worker secrets (wrangler secret put/list/delete) ----------------
# Outside the token schema extract, like /zones: find_operation finds no
# operation for these paths, so nothing is checked against a schema.

def find_script(call, scope):
    """The script of the path in the scope's account, or 404 10007."""
    name = urllib.parse.unquote(call.params["script_name"])
    script = call.state.scripts.get((scope.account_id, name))
    if script is None:
        raise ApiError(404, CODE_SCRIPT_NOT_FOUND, MSG_SCRIPT_NOT_FOUND)
    return script


def find_secret(call, script):
    secret = script.secrets.get(urllib.parse.unquote(call.params["secret_name"]))
    if secret is None:
        raise ApiError(404, CODE_SECRET_NOT_FOUND, MSG_SECRET_NOT_FOUND)
    return secret


def check_secret_body(call):
    """(name, text) of a secret PUT body; 400 naming the field otherwise."""
    body = parsed_body(call)
    if not isinstance(body, dict):
        raise invalid_body('Request body must be a JSON object '
                           '{"name": ..., "text": ..., "type": "secret_text"}')
    name = body.get("name")
    if not isinstance(name, str) or not name or "/" in name:
        raise invalid_body("name must be a non-empty string without \"/\" (the secret's name)")
    if not isinstance(body.get("text"), str):
        raise invalid_body("text must be a string (the secret's value)")
    if body.get("type") != SECRET_TYPE:
        raise invalid_body('type must be "%s"' % SECRET_TYPE)
    return name, body["text"]


def list_secrets(call, scope):
    script = find_script(call, scope)
    return 200, success_envelope([s.render() for s in script.sorted_secrets()])


def get_secret(call, scope):
    # Where the table gives no groups for this operation (no wrangler
    # command reads one secret), the emulator keeps its own check.
    if access.table_groups(call) is None:
        scope.require(call.token, write=False)
    return 200, success_envelope(find_secret(call, find_script(call, scope)).render())


def put_secret(call, scope):
    script = find_script(call, scope)
    name, text = check_secret_body(call)
    return 200, success_envelope(script.put_secret(name, sha256_hex(text), call.now).render())


def delete_secret(call, scope):
    script = find_script(call, scope)
    del script.secrets[find_secret(call, script).name]
    return 200, success_envelope(None)


# Dispatch table: (method, path pattern under /client/v4, handler, scope maker).
# Literal paths (verify, permission_groups) come before {token_id}.
_ACC = r"/accounts/(?P<account_id>[^/]+)/tokens"
_USR = r"/user/tokens"
_TID = r"/(?P<token_id>[^/]+)"
_SEC = r"/accounts/(?P<account_id>[^/]+)/workers/scripts/(?P<script_name>[^/]+)/secrets"
ROUTES = [
    ("GET", _ACC + r"/verify", verify_token, verify_scope),
    ("GET", _ACC + r"/permission_groups", list_permission_groups, account_scope),
    ("GET", _ACC, list_tokens, account_scope),
    ("POST", _ACC, create_token, account_scope),
    ("GET", _ACC + _TID, get_token, account_scope),
    ("PUT", _ACC + _TID, update_token, account_scope),
    ("DELETE", _ACC + _TID, delete_token, account_scope),
    ("PUT", _ACC + _TID + r"/value", roll_token, account_scope),
    ("GET", _USR + r"/verify", verify_token, user_scope),
    ("GET", _USR + r"/permission_groups", list_permission_groups, user_scope),
    ("GET", _USR, list_tokens, user_scope),
    ("POST", _USR, create_token, user_scope),
    ("GET", _USR + _TID, get_token, user_scope),
    ("PUT", _USR + _TID, update_token, user_scope),
    ("DELETE", _USR + _TID, delete_token, user_scope),
    ("PUT", _USR + _TID + r"/value", roll_token, user_scope),
    ("GET", r"/user", get_user, None),
    ("GET", r"/accounts", list_accounts, None),
    ("GET", r"/memberships", list_memberships, None),
    ("GET", r"/zones", list_zones, None),
    ("GET", _SEC, list_secrets, workers_scope),
    ("PUT", _SEC, put_secret, workers_scope),
    ("GET", _SEC + r"/(?P<secret_name>[^/]+)", get_secret, workers_scope),
    ("DELETE", _SEC + r"/(?P<secret_name>[^/]+)", delete_secret, workers_scope),
]
import access  # noqa: E402  (these import this module: see the alias at the top)
import storage_api  # noqa: E402
import workers_api  # noqa: E402
ROUTES += workers_api.ROUTES + storage_api.ROUTES
ROUTES = [(m, re.compile("^" + p + "$"), h, s) for m, p, h, s in ROUTES]


def match_route(method, api_path):
    """(handler, scope maker, params) or ApiError 404 / 405."""
    path_known = False
    for route_method, pattern, handler, scope in ROUTES:
        m = pattern.match(api_path)
        if m:
            if route_method == method:
                return handler, scope, m.groupdict()
            path_known = True
    if path_known:
        raise ApiError(405, CODE_METHOD_NOT_ALLOWED, "Method not allowed")
    raise ApiError(404, CODE_NO_ROUTE, "No route for that URI")


def check_request_schema(openapi, method, api_path, body, body_error, entry):
    """(operation or None, request errors); the errors also go into the log entry."""
    op = openapi.find_operation(method, api_path)
    if not op:
        return None, []
    entry["operation"] = op[0]
    if body_error and openapi.expects_json(op[1]):
        errors = ["request: body is not JSON (%s)" % body_error]
    else:
        errors = openapi.check_request(op[1], body)
    entry["schema_errors"].extend(errors)
    return op, errors


def run_api_call(state, openapi, headers, call, entry):
    """Route, authenticate, run the handler; returns (status, envelope, headers).

    Also checks request and answer against the schema into entry["schema_errors"].
    """
    op, call.request_errors = check_request_schema(openapi, call.method, call.api_path,
                                                   call.body, call.body_error, entry)
    try:
        handler, make_scope, call.params = match_route(call.method, call.api_path)
        with state.lock:
            call.token = authenticate(state, headers, call, entry)
            scope = make_scope(call) if make_scope else None
            status, envelope = handler(call, scope)
        extra = {}
    except ApiError as e:
        status, envelope, extra = e.status, e.envelope(), e.headers
    except Exception:  # an emulator bug must not take the server down
        traceback.print_exc(file=sys.stderr)
        status, envelope, extra = 500, failure_envelope(
            [{"code": CODE_INTERNAL, "message": "Internal emulator error"}]), {}
    if op and not isinstance(envelope, RawBody):
        entry["schema_errors"].extend(openapi.check_response(op[1], status, envelope))
    return status, envelope, extra


# ---- control API ----------------------------------------------------------------------

def c_health(server, body, params):
    return {"ok": True}


def c_log_get(server, body, params):
    with server.state.lock:
        return json.loads(json.dumps(server.state.log))


def c_log_clear(server, body, params):
    with server.state.lock:
        server.state.log.clear()
    return {"ok": True}


def c_faults_get(server, body, params):
    with server.state.lock:
        return [rule.describe() for rule in server.state.faults]


def c_faults_add(server, body, params):
    rule = FaultRule(body)
    with server.state.lock:
        server.state.faults.append(rule)
        return {"ok": True, "index": len(server.state.faults) - 1}


def c_faults_release(server, body, params):
    """Ends every rule's delay: of the requests it holds, and of those to come."""
    with server.state.lock:
        held = sum(rule.holding for rule in server.state.faults)
        for rule in server.state.faults:
            rule.released.set()
    return {"ok": True, "released": held}


def c_faults_clear(server, body, params):
    with server.state.lock:
        server.state.faults.clear()
    return {"ok": True}


def c_tokens_get(server, body, params):
    state = server.state
    with state.lock:
        now = utcnow()
        return [t.render_control(now) for t in state.tokens.values()]


def c_tokens_add(server, body, params):
    if not isinstance(body, dict):
        raise ControlError("expected a token object (seed shape)")
    with server.state.lock:
        try:
            token, value = server.state.add_token(body)
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            raise ControlError(str(e)) from None
    # The value is returned only when the emulator generated it.
    return {"id": token.id} if body.get("value") else {"id": token.id, "value": value}


def c_tokens_patch(server, body, params):
    if not isinstance(body, dict):
        raise ControlError("expected an object")
    allowed = {"status", "expires_on", "not_before", "expires_in", "not_before_in",
               "condition", "name"}
    unknown = set(body) - allowed
    if unknown:
        raise ControlError("cannot change %s" % ", ".join(sorted(unknown)))
    state = server.state
    with state.lock:
        token = state.tokens.get(params["token_id"])
        if token is None:
            raise ControlError("no such token", 404)
        if "status" in body and body["status"] not in ("active", "disabled"):
            raise ControlError("status must be active or disabled")
        try:
            check_condition(body.get("condition"))
            apply_control_times(token, body)
        except (ValueError, ApiError) as e:
            raise ControlError(str(e)) from None
        for key in ("status", "condition", "name"):
            if key in body:
                setattr(token, key, body[key])
        token.modified_on = utcnow()
        return token.render_control(utcnow())


def c_scripts_get(server, body, params):
    """Scripts with their secrets: a secret's SHA-256, never its text."""
    with server.state.lock:
        return [s.render_control() for s in server.state.scripts.values()]


def c_scripts_add(server, body, params):
    with server.state.lock:
        try:
            return server.state.add_script(body).render_control()
        except ValueError as e:
            raise ControlError(str(e)) from None


def c_config_get(server, body, params):
    state = server.state
    return {"quota_account": state.quota["account"], "quota_user": state.quota["user"],
            "accounts_list_refuses_account_tokens": state.accounts_list_refuses_account_tokens}


def c_config_set(server, body, params):
    if not isinstance(body, dict):
        raise ControlError("expected an object")
    state = server.state
    with state.lock:
        for key, owner in (("quota_account", "account"), ("quota_user", "user")):
            if key in body:
                if not isinstance(body[key], int) or body[key] < 0:
                    raise ControlError("%s must be a non-negative integer" % key)
                state.quota[owner] = body[key]
        if "accounts_list_refuses_account_tokens" in body:
            state.accounts_list_refuses_account_tokens = bool(
                body["accounts_list_refuses_account_tokens"])
    return c_config_get(server, None, params)


CONTROL_ROUTES = [
    ("GET", r"health", c_health),
    ("GET", r"log", c_log_get),
    ("DELETE", r"log", c_log_clear),
    ("GET", r"faults", c_faults_get),
    ("POST", r"faults", c_faults_add),
    ("DELETE", r"faults", c_faults_clear),
    ("POST", r"faults/release", c_faults_release),
    ("GET", r"tokens", c_tokens_get),
    ("POST", r"tokens", c_tokens_add),
    ("PATCH", r"tokens/(?P<token_id>[^/]+)", c_tokens_patch),
    ("GET", r"scripts", c_scripts_get),
    ("POST", r"scripts", c_scripts_add),
    ("GET", r"config", c_config_get),
    ("POST", r"config", c_config_set),
]
CONTROL_ROUTES = [(m, re.compile("^" + re.escape(CONTROL_PREFIX) + p + "$"), h)
                  for m, p, h in CONTROL_ROUTES]


# ---- HTTP ----------------------------------------------------------------------------

_oversized_cache = []


def oversized_body():
    """A valid JSON envelope of about 20 MiB (built once)."""
    if not _oversized_cache:
        item = json.dumps({"id": "0" * 32, "name": "padding " + "x" * 60, "status": "active"})
        count = OVERSIZED_BYTES // (len(item) + 1)
        text = ('{"success": true, "errors": [], "messages": [], "result": ['
                + ",".join([item] * count) + "]}")
        _oversized_cache.append(text.encode())
    return _oversized_cache[0]


DEFAULT_FAULT_ERRORS = {
    400: (CODE_INVALID_HEADERS, "Invalid request headers"),
    401: (CODE_INVALID_TOKEN, MSG_INVALID_TOKEN),
    403: (CODE_UNAUTHORIZED, MSG_UNAUTHORIZED),
    404: (CODE_COULD_NOT_ROUTE, "Could not route to the requested resource"),
    429: (CODE_RATE_LIMITED, "Please wait and consider throttling your request speed"),
}


class BodyError(Exception):
    pass


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"   # keep-alive: libcurl reuses connections
    timeout = IDLE_TIMEOUT

    def version_string(self):
        return "cloudflare"  # the Server header of the real API

    # -- plumbing

    def log_message(self, fmt, *args):
        pass  # quiet: stdout/stderr are for errors only

    def send_error(self, code, message=None, explain=None):
        """http.server's own errors (bad request line, unknown method ...) as envelopes."""
        self.close_connection = True
        if self.request_version == "HTTP/0.9":
            # An unparsable request line leaves http.server assuming HTTP/0.9,
            # which would send the body without a status line.
            self.request_version = "HTTP/1.0"
        error_code = CODE_NO_ROUTE if code == 404 else CODE_INVALID_HEADERS
        body = json.dumps(failure_envelope(
            [{"code": error_code, "message": message or "Bad request"}])).encode()
        try:
            self.send_response(code, message)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD" and code >= 200 and code not in (204, 304):
                self.wfile.write(body)
        except OSError:
            pass

    def setup(self):
        super().setup()
        # The log names the connection of every call, so a test counts TLS
        # handshakes as distinct numbers (1, 2, ... in accept order) and
        # sees whether a handshake resumed an earlier TLS session.
        self.connection_number = self.server.number_connection()
        self.tls_resumed = bool(getattr(self.connection, "session_reused", False))

    def handle(self):
        try:
            super().handle()
        except (ConnectionError, ssl.SSLError, socket.timeout, OSError, ValueError):
            self.close_connection = True  # the client went away; nothing to answer

    def send_raw(self, status, body, headers=None, content_length=None):
        """One answer with one Content-Length (the body's unless told), so a
        kept-alive connection stays in step; a fault rule's own
        Content-Length is ignored, its "Connection: close" is kept."""
        self.send_response(status)
        headers = {k: v for k, v in (headers or {}).items() if k.lower() != "content-length"}
        if not any(k.lower() == "content-type" for k in headers):
            headers["Content-Type"] = "application/json"
        for name, value in headers.items():
            self.send_header(name, str(value))
        self.send_header("Content-Length", str(len(body) if content_length is None
                                               else content_length))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.wfile.flush()

    def send_json(self, status, obj, headers=None):
        self.send_raw(status, json.dumps(obj).encode(), headers)

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            return self.read_chunked()
        length = self.headers.get("Content-Length")
        if length is None:
            return b""
        try:
            length = int(length)
        except ValueError:
            raise BodyError("bad Content-Length") from None
        if length < 0 or length > MAX_REQUEST_BODY:
            raise BodyError("request body too large")
        data = bytearray()
        while len(data) < length:
            chunk = self.rfile.read(min(READ_CHUNK, length - len(data)))
            if not chunk:
                break  # the client went away; the short body fails its checks
            data += chunk
        return bytes(data)

    def read_chunked(self):
        data = bytearray()
        while True:
            line = self.rfile.readline(65537)
            try:
                size = int(line.split(b";")[0].strip(), 16)
            except ValueError:
                raise BodyError("bad chunked encoding") from None
            if size == 0:
                while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return bytes(data)
            if len(data) + size > MAX_REQUEST_BODY:
                raise BodyError("request body too large")
            data += self.rfile.read(size)
            self.rfile.readline(3)
            if len(data) > MAX_REQUEST_BODY:
                raise BodyError("request body too large")

    # -- dispatch

    def do_any(self):
        url = urllib.parse.urlsplit(self.path)
        try:
            raw = self.read_body()
        except BodyError as e:
            self.close_connection = True
            self.send_json(400, ApiError(400, CODE_INVALID_HEADERS, str(e)).envelope(),
                           {"Connection": "close"})
            return
        if url.path.startswith(CONTROL_PREFIX):
            self.handle_control(url.path, raw)
        else:
            self.handle_api(url, raw)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_any

    def handle_control(self, path, raw):
        try:
            body = json.loads(raw) if raw.strip() else None
        except ValueError:
            self.send_json(400, {"error": "body is not JSON"})
            return
        for method, pattern, handler in CONTROL_ROUTES:
            m = pattern.match(path)
            if m and method == self.command:
                try:
                    self.send_json(200, handler(self.server, body, m.groupdict()))
                except ControlError as e:
                    self.send_json(e.status, {"error": str(e)})
                except Exception as e:  # an emulator bug: say so, keep serving
                    traceback.print_exc(file=sys.stderr)
                    self.send_json(500, {"error": "internal emulator error: %r" % e})
                return
        self.send_json(404, {"error": "no control endpoint %s %s" % (self.command, path)})

    def handle_api(self, url, raw):
        state = self.server.state
        query = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
        body, body_error = None, None
        # Any body but a multipart one is taken for JSON, whatever its
        # Content-Type says (wrangler sends some JSON as text/plain); a KV
        # value that is not JSON is the handler's to read from raw.
        multipart = self.headers.get("Content-Type", "").lower().startswith("multipart/")
        if raw.strip() and not multipart:
            try:
                body = json.loads(raw)
            except ValueError as e:
                body_error = str(e)
        entry = {"method": self.command, "path": url.path, "query": redact(query, state),
                 "status": None, "token_id": None, "owner": None,
                 "request_body": log_body(state, url.path, body), "schema_errors": [],
                 "fault": None, "operation": None, "error_codes": [],
                 "time": fmt_time(utcnow()), "connection": self.connection_number,
                 "tls_resumed": self.tls_resumed}
        envelope = None
        rule = state.take_fault(self.command, url.path)
        if rule:
            entry["fault"] = rule.kind
            # delay_ms slows down any kind (a slow 503 is a fault of its own);
            # kind "delay" then answers normally.
            rule.delay(state.lock)
            if rule.kind == "delay":
                rule = None
        try:
            if rule is None or rule.apply:
                status, envelope, headers = self.api_answer(url, query, body, body_error, entry,
                                                            raw)
            elif url.path.startswith(API_BASE + "/"):
                # The call never reaches the "backend"; its body is still checked.
                check_request_schema(self.server.openapi, self.command,
                                     url.path[len(API_BASE):], body, body_error, entry)
            if rule is None:
                entry["status"] = status
                if isinstance(envelope, RawBody):
                    state.record(entry)
                    self.send_raw(status, envelope.data,
                                  dict(headers, **{"Content-Type": envelope.content_type}))
                    return
                entry["error_codes"] = [e.get("code") for e in envelope.get("errors", [])]
                state.record(entry)
                self.send_json(status, envelope, headers)
                return
            # Misbehave. The answer is not what the schema describes, on purpose:
            # entry["schema_errors"] only keeps what the request itself got wrong.
            entry["schema_errors"] = [e for e in entry["schema_errors"]
                                      if e.startswith("request")]
            entry["status"] = None if rule.kind in ("reset", "blackhole") else rule.status
            state.record(entry)
            self.misbehave(rule, envelope)
        except (ConnectionError, ssl.SSLError, socket.timeout):
            self.close_connection = True

    def api_answer(self, url, query, body, body_error, entry, raw=b""):
        if not (url.path == API_BASE or url.path.startswith(API_BASE + "/")):
            return 404, ApiError(404, CODE_NO_ROUTE, "No route for that URI").envelope(), {}
        call = Call(self.server.state, self.command, url.path, query, body, body_error,
                    self.client_address[0])
        call.raw, call.headers = raw, self.headers
        # The log's time is the time the call was judged at (after a delay
        # fault), so a test can tell from the log alone whether a request
        # came before or after a token's expires_on.
        entry["time"] = fmt_time(call.now)
        return run_api_call(self.server.state, self.server.openapi, self.headers, call, entry)

    # -- faults

    def misbehave(self, rule, real_envelope):
        kind = rule.kind
        if kind == "reset":
            self.reset_connection()
        elif kind == "blackhole":
            self.blackhole()
        elif kind == "status":
            self.send_raw(rule.status, self.fault_body(rule), rule.headers)
        elif kind == "malformed":
            self.send_raw(rule.status, b'{"success": tru', rule.headers)
        elif kind == "truncated":
            body = self.fault_answer_body(real_envelope)
            self.close_connection = True
            self.send_raw(rule.status, body[:len(body) // 2], rule.headers,
                          content_length=len(body) + 1000)
        elif kind == "drip":
            self.drip(rule, self.fault_answer_body(real_envelope))
        elif kind == "wrong_content_type":
            html = (b"<!DOCTYPE html><html><head><title>Attention Required! | Cloudflare"
                    b"</title></head><body><h1>Sorry, you have been blocked</h1></body></html>")
            headers = dict(rule.headers)
            headers["Content-Type"] = "text/html; charset=UTF-8"
            self.send_raw(rule.status, html, headers)
        elif kind == "oversized":
            self.send_raw(rule.status, oversized_body(), rule.headers)

    @staticmethod
    def fault_answer_body(real_envelope):
        """The body a truncated or dripping answer breaks up: the call's own
        (with "apply"), else an empty success envelope."""
        if isinstance(real_envelope, RawBody):
            return real_envelope.data
        return json.dumps(real_envelope or success_envelope(None)).encode()

    def fault_body(self, rule):
        if rule.body is not None:
            return rule.body.encode()
        try:
            phrase = http.HTTPStatus(rule.status).phrase
        except ValueError:
            phrase = "Error"
        code, message = DEFAULT_FAULT_ERRORS.get(
            rule.status, (CODE_INTERNAL, "%d %s" % (rule.status, phrase)))
        return json.dumps(failure_envelope([{"code": code, "message": message}])).encode()

    def reset_connection(self):
        """Close with SO_LINGER 0: the kernel sends RST instead of FIN."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
        except OSError:
            pass
        # The socket only really closes once rfile (a makefile() of it) lets go too.
        try:
            self.rfile.close()
        except OSError:
            pass
        self.connection.close()

    def blackhole(self):
        """Answer nothing until the client gives up (or 60 s), then close."""
        self.close_connection = True
        self.client_left(time.monotonic() + BLACKHOLE_MAX_SECONDS)

    def client_left(self, until):
        """Waits until the monotonic time until: True when the client closed
        the connection (or the server stops) first."""
        sock = self.connection
        while time.monotonic() < until:
            if self.server.stopping.is_set():
                return True
            readable, _, _ = select.select([sock], [], [],
                                           max(0.0, min(0.25, until - time.monotonic())))
            if not readable:
                continue
            try:
                if not sock.recv(4096):
                    return True  # the client closed
            except ssl.SSLWantReadError:
                continue
            except (OSError, ssl.SSLError):
                return True
        return False

    def drip(self, rule, body):
        """The status, the headers (the whole body's Content-Length) and
        the body's first byte at once, then a byte every drip_ms until the
        body is sent or the client goes away (at most 60 s); then close."""
        self.close_connection = True
        self.send_raw(rule.status, body[:1], rule.headers, content_length=len(body))
        end = time.monotonic() + BLACKHOLE_MAX_SECONDS
        for i in range(1, len(body)):
            if self.client_left(min(end, time.monotonic() + rule.drip_ms / 1000.0)) or \
                    time.monotonic() >= end:
                return
            self.wfile.write(body[i:i + 1])
            self.wfile.flush()


class Server(http.server.ThreadingHTTPServer):
    """ThreadingHTTPServer that does the TLS handshake in the request thread,
    so a client that connects and says nothing cannot stall accept()."""

    daemon_threads = True
    request_queue_size = 128

    def __init__(self, address, ssl_context, state, openapi):
        self.ssl_context = ssl_context
        self.state = state
        self.openapi = openapi
        self.stopping = threading.Event()
        self.connections = 0
        self.connections_lock = threading.Lock()
        super().__init__(address, Handler)

    def number_connection(self):
        with self.connections_lock:
            self.connections += 1
            return self.connections

    def finish_request(self, request, client_address):
        request.settimeout(HANDSHAKE_TIMEOUT)
        # Headers and body go out in two writes; without NODELAY, Nagle and the
        # client's delayed ACK add 40 ms to every keep-alive answer.
        request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            tls = self.ssl_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return  # a client that does not trust us, or speaks plain HTTP
        try:
            self.RequestHandlerClass(tls, client_address, self)
        finally:
            try:
                tls.close()
            except OSError:
                pass

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, ssl.SSLError, socket.timeout)):
            return
        sys.stderr.write("cfemu: error serving %s:\n" % (client_address,))
        traceback.print_exc(file=sys.stderr)


def make_ssl_context(cert, key):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert, key)
    context.set_alpn_protocols(["http/1.1"])  # no h2: this server speaks HTTP/1.1 only
    return context


def write_ready_file(path, port):
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.replace(tmp, path)


def parse_args(argv):
    p = argparse.ArgumentParser(description="Cloudflare API-token endpoint emulator (tests only)")
    p.add_argument("--cert", required=True, help="server certificate (PEM)")
    p.add_argument("--key", required=True, help="server private key (PEM)")
    p.add_argument("--seed", required=True, help="seed state (JSON)")
    p.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free one)")
    p.add_argument("--ready-file", required=True,
                   help="written (atomically) with the port number once listening")
    p.add_argument("--schema", default=os.path.join(HERE, "data", "cloudflare-tokens-openapi.json"))
    p.add_argument("--schema-extra", action="append",
                   default=[os.path.join(HERE, "data", "cloudflare-workers-openapi.json")],
                   help="more OpenAPI extracts (the Workers, KV, R2 and D1 operations)")
    p.add_argument("--permission-groups",
                   default=os.path.join(HERE, "data", "permission-groups.json"))
    p.add_argument("--operations", default=operations.DEFAULT_TABLE,
                   help="data/api-operations.tsv: the groups each operation accepts")
    p.add_argument("--max-lifetime", type=float, default=900,
                   help="exit by itself after this many seconds")
    p.add_argument("--values-log", help="append every token value held to this file")
    return p.parse_args(argv)


def main(argv=None):
    global VALUES_LOG
    args = parse_args(argv)
    VALUES_LOG = args.values_log
    try:
        with open(args.seed, encoding="utf-8") as f:
            seed = json.load(f)
        state = State(seed, PermissionGroups(args.permission_groups),
                      operations.OperationTable(args.operations))
        openapi = openapi_check.OpenAPISet([args.schema] + args.schema_extra)
        server = Server(("127.0.0.1", args.port), make_ssl_context(args.cert, args.key),
                        state, openapi)
    except (OSError, ValueError, KeyError, TypeError, AttributeError, ssl.SSLError) as e:
        sys.stderr.write("cfemu: cannot start: %s\n" % e)
        return 1

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2},
                              daemon=True)
    thread.start()
    write_ready_file(args.ready_file, server.server_address[1])
    if not stop.wait(args.max_lifetime):
        sys.stderr.write("cfemu: --max-lifetime of %gs reached, exiting\n" % args.max_lifetime)
    server.stopping.set()
    server.shutdown()
    server.server_close()
    try:
        os.unlink(args.ready_file)
    except OSError:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
