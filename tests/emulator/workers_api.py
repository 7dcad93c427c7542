"""Worker routes of the emulator: what `wrangler deploy`, `versions upload`,
`deployments list` and `secret put` (for a Worker that does not exist yet)
call, in the shapes wrangler 4 reads (workers-sdk packages/deploy-helpers)
and Cloudflare's schema describes (data/cloudflare-workers-openapi.json).

State, in memory like the rest: per Worker its modules' hashes, bindings,
versions (newest first), deployments (newest first), settings, its
workers.dev toggle and its routes; per account its workers.dev subdomain;
per zone the routes of its Workers. Permissions: access.py, from
data/api-operations.tsv.
"""

import hashlib
import json
import re
import urllib.parse
import uuid

import access
import cfemu

CODE_SERVICE_NOT_FOUND = 10090      # workers.api.error.service_not_found (wrangler: 10090)
CODE_SUBDOMAIN_NOT_FOUND = 10007    # wrangler keys on 10007 for "no workers.dev subdomain"
CODE_BAD_UPLOAD = 10021             # the upload is not a valid module Worker
CODE_VERSION_NOT_FOUND = 10212      # no such version
CODE_ROUTE_ZONE = 10019             # a route whose zone the account does not have
CODE_CONFLICT = 10020               # subdomain taken, route held by another Worker
SUBDOMAIN_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,61}[a-z0-9]$|^[a-z0-9]$")


class Worker:
    """A Worker's code and configuration (its secrets live in cfemu.Script)."""

    def __init__(self, account_id, name, now):
        self.account_id = account_id
        self.name = name
        self.tag = uuid.uuid4().hex
        self.created_on = now
        self.modified_on = now
        self.versions = []          # newest first
        self.deployments = []       # newest first
        self.settings = {"logpush": False, "tags": None, "tail_consumers": [],
                         "observability": {"enabled": False}}
        self.workers_dev = False
        self.previews = False
        self.routes = []            # [{"id", "pattern", "zone_id"}]

    def latest(self):
        return self.versions[0] if self.versions else None

    def deployed_version(self):
        if not self.deployments:
            return None
        first = self.deployments[0]["versions"][0]["version_id"]
        return next((v for v in self.versions if v["id"] == first), None)


class WorkersState:
    def __init__(self, state, seed):
        self.state = state
        self.workers = {}           # (account_id, name) -> Worker
        # workers.dev subdomain of an account: the seed's accounts[].workers_subdomain.
        self.subdomains = {a["id"]: a["workers_subdomain"] for a in seed.get("accounts", [])
                           if a.get("workers_subdomain")}

    def worker(self, account_id, name, now, create=False):
        """The Worker of a script; a seeded script (secrets only) gets one
        on first use. None when there is no such script."""
        key = (account_id, name)
        if key not in self.state.scripts:
            if not create:
                return None
            self.state.add_script({"account_id": account_id, "name": name})
        if key not in self.workers:
            self.workers[key] = Worker(account_id, name, now)
        return self.workers[key]


# ---- multipart uploads ----------------------------------------------------------

def multipart_parts(call):
    """{name: (content_type, filename, bytes)} of a multipart/form-data body;
    400 when the body is not one."""
    content_type = (call.headers.get("Content-Type", "") if call.headers else "")
    m = re.search(r'boundary="?([^";]+)"?', content_type)
    if not content_type.lower().startswith("multipart/form-data") or not m:
        raise cfemu.invalid_body("expected a multipart/form-data body with a boundary")
    delimiter = b"--" + m.group(1).encode()
    raw = call.raw
    start = raw.find(delimiter)
    if start < 0:
        raise cfemu.invalid_body("multipart body without its boundary")
    parts = {}
    position = start + len(delimiter)
    while not raw.startswith(b"--", position):
        header_end = raw.find(b"\r\n\r\n", position)
        end = raw.find(b"\r\n" + delimiter, header_end)
        if header_end < 0 or end < 0:
            raise cfemu.invalid_body("truncated multipart body")
        headers = raw[position:header_end].decode("utf-8", "replace")
        name = re.search(r'\bname="([^"]*)"', headers)
        filename = re.search(r'\bfilename="([^"]*)"', headers)
        ctype = re.search(r"(?im)^content-type:\s*([^\r\n]+)", headers)
        if name:
            parts[name.group(1)] = (ctype.group(1).strip() if ctype else "text/plain",
                                    filename.group(1) if filename else None,
                                    raw[header_end + 4:end])
        position = end + 2 + len(delimiter)
    return parts


def upload_metadata(call):
    """(metadata, modules) of a Worker upload: the "metadata" JSON part and
    the parts it names; 400 10021 for a body that is no module Worker."""
    parts = multipart_parts(call)
    if "metadata" not in parts:
        raise cfemu.ApiError(400, CODE_BAD_UPLOAD, "No metadata part in the upload")
    try:
        metadata = json.loads(parts["metadata"][2])
    except ValueError:
        raise cfemu.ApiError(400, CODE_BAD_UPLOAD, "The metadata part is not JSON") from None
    if not isinstance(metadata, dict):
        raise cfemu.ApiError(400, CODE_BAD_UPLOAD, "The metadata part is not an object")
    main = metadata.get("main_module") or metadata.get("body_part")
    if not main or main not in parts:
        raise cfemu.ApiError(400, CODE_BAD_UPLOAD,
                             "main_module %r names no part of the upload" % (main,))
    bindings = metadata.get("bindings") or []
    if not isinstance(bindings, list) or not all(
            isinstance(b, dict) and b.get("type") and b.get("name") for b in bindings):
        raise cfemu.ApiError(400, CODE_BAD_UPLOAD, "bindings must be objects with type and name")
    check_bindings(call, bindings)
    modules = {n: p for n, p in parts.items() if n != "metadata"}
    return metadata, modules


def check_bindings(call, bindings):
    """A binding to a KV namespace, R2 bucket or D1 database must name one the
    account has, as Cloudflare refuses an upload that binds to nothing."""
    account_id = call.params["account_id"]
    storage = call.state.storage
    for b in bindings:
        kind = b["type"]
        missing = (
            (kind == "kv_namespace" and (account_id, b.get("namespace_id")) not in storage.kv)
            or (kind == "r2_bucket" and (account_id, b.get("bucket_name")) not in storage.r2)
            or (kind == "d1" and (account_id, b.get("id") or b.get("database_id"))
                not in storage.d1))
        if missing:
            raise cfemu.ApiError(400, CODE_BAD_UPLOAD,
                                 "binding %s of type %s names no resource of this account"
                                 % (b["name"], kind))


def render_binding(binding):
    """A binding as the API shows it: never the text of a secret_text one.
    The schema's D1 binding also names its variable as "binding"."""
    shown = {k: v for k, v in binding.items() if k != "text"}
    if shown["type"] == "d1":
        shown.setdefault("binding", shown["name"])
    return shown


def new_version(call, worker, metadata, modules, triggered_by):
    """Record an uploaded version (newest first) and return it."""
    digest = hashlib.sha256()
    for name in sorted(modules):
        digest.update(name.encode() + b"\0" + modules[name][2])
    now = cfemu.fmt_time(call.now)
    author = call.state.user.get("email", "")
    annotations = {"workers/triggered_by": triggered_by}
    for key in ("workers/message", "workers/tag"):
        if (metadata.get("annotations") or {}).get(key):
            annotations[key] = metadata["annotations"][key]
    version = {
        "id": str(uuid.uuid4()),
        "number": len(worker.versions) + 1,
        "metadata": {"created_on": now, "modified_on": now, "source": "wrangler",
                     "author_id": call.state.user["id"], "author_email": author,
                     "has_preview": False},
        "annotations": annotations,
        "resources": {
            "bindings": [render_binding(b) for b in metadata.get("bindings") or []],
            "script": {"etag": digest.hexdigest(), "handlers": ["fetch"],
                       "last_deployed_from": "wrangler"},
            "script_runtime": {"compatibility_date": metadata.get("compatibility_date"),
                               "compatibility_flags": metadata.get("compatibility_flags") or [],
                               "usage_model": "bundled", "limits": {}},
        },
        "startup_time_ms": 1,
    }
    if not version["resources"]["script_runtime"]["compatibility_date"]:
        del version["resources"]["script_runtime"]["compatibility_date"]
    worker.versions.insert(0, version)
    worker.modified_on = call.now
    return version


def new_deployment(call, worker, versions, message=None):
    now = cfemu.fmt_time(call.now)
    deployment = {"id": str(uuid.uuid4()), "source": "wrangler", "strategy": "percentage",
                  "author_email": call.state.user.get("email", ""), "created_on": now,
                  "versions": versions}
    if message:
        deployment["annotations"] = {"workers/message": message}
    worker.deployments.insert(0, deployment)
    return deployment


# ---- scope makers ------------------------------------------------------------------

def script_name(call):
    name = urllib.parse.unquote(call.params["script_name"])
    if not cfemu.SCRIPT_NAME_RE.match(name):
        raise cfemu.invalid_body("Worker names are 1 to 63 characters [a-z0-9_-], "
                                 "not starting with -")
    return name


def existing_worker(call, account_id, code=cfemu.CODE_SCRIPT_NOT_FOUND,
                    message=cfemu.MSG_SCRIPT_NOT_FOUND):
    worker = call.state.workers.worker(account_id, script_name(call), call.now)
    if worker is None:
        raise cfemu.ApiError(404, code, message)
    return worker


# ---- handlers ------------------------------------------------------------------------

def get_service(call, account_id):
    """GET /workers/services/{name}: wrangler's "does this Worker exist" (10090 if not)."""
    worker = existing_worker(call, account_id, CODE_SERVICE_NOT_FOUND,
                             "workers.api.error.service_not_found")
    latest = worker.latest()
    script = {"id": worker.name, "tag": worker.tag, "tags": worker.settings["tags"],
              "etag": latest["resources"]["script"]["etag"] if latest else None,
              "handlers": ["fetch"], "last_deployed_from": "wrangler",
              "created_on": cfemu.fmt_time(worker.created_on),
              "modified_on": cfemu.fmt_time(worker.modified_on)}
    return 200, cfemu.success_envelope({
        "id": worker.name, "created_on": cfemu.fmt_time(worker.created_on),
        "modified_on": cfemu.fmt_time(worker.modified_on),
        "default_environment": {"environment": "production",
                                "created_on": cfemu.fmt_time(worker.created_on),
                                "modified_on": cfemu.fmt_time(worker.modified_on),
                                "script": script}})


def upload_script(call, account_id):
    """PUT /workers/scripts/{name}: upload and deploy at once (a new Worker,
    or `secret put`'s draft Worker)."""
    metadata, modules = upload_metadata(call)
    worker = call.state.workers.worker(account_id, script_name(call), call.now, create=True)
    version = new_version(call, worker, metadata, modules, "upload")
    new_deployment(call, worker, [{"version_id": version["id"], "percentage": 100}])
    for key in ("logpush", "tail_consumers", "observability", "tags"):
        if key in metadata:
            worker.settings[key] = metadata[key]
    result = {"id": worker.name, "tag": worker.tag,
              "etag": version["resources"]["script"]["etag"],
              "handlers": ["fetch"], "has_modules": True,
              "created_on": cfemu.fmt_time(worker.created_on),
              "modified_on": cfemu.fmt_time(worker.modified_on),
              "deployment_id": version["id"], "startup_time_ms": version["startup_time_ms"],
              "usage_model": "bundled", "logpush": bool(worker.settings["logpush"]),
              "tail_consumers": worker.settings["tail_consumers"] or [],
              "compatibility_date": metadata.get("compatibility_date") or "",
              "compatibility_flags": metadata.get("compatibility_flags") or []}
    return 200, cfemu.success_envelope(result)


def upload_version(call, account_id):
    """POST /workers/scripts/{name}/versions: a version, not deployed."""
    worker = existing_worker(call, account_id)
    metadata, modules = upload_metadata(call)
    return 200, cfemu.success_envelope(new_version(call, worker, metadata, modules, "version_upload"))


def get_version(call, account_id):
    worker = existing_worker(call, account_id)
    version = next((v for v in worker.versions if v["id"] == call.params["version_id"]), None)
    if version is None:
        raise cfemu.ApiError(404, CODE_VERSION_NOT_FOUND, "workers.api.error.version_not_found")
    return 200, cfemu.success_envelope(version)


def list_deployments(call, account_id):
    worker = existing_worker(call, account_id)
    return 200, cfemu.success_envelope({"deployments": worker.deployments})


def create_deployment(call, account_id):
    """POST /deployments {"strategy": "percentage", "versions": [...]}:
    percentages summing to 100, of versions the Worker has."""
    worker = existing_worker(call, account_id)
    body = cfemu.parsed_body(call)
    if not isinstance(body, dict):
        body = {}
    versions = body.get("versions")
    if body.get("strategy") != "percentage" or not isinstance(versions, list) or not versions:
        raise cfemu.invalid_body('a deployment is {"strategy": "percentage", "versions": '
                                 '[{"version_id", "percentage"}]}')
    known = {v["id"] for v in worker.versions}
    total = 0
    for v in versions:
        if not isinstance(v, dict) or v.get("version_id") not in known:
            raise cfemu.ApiError(404, CODE_VERSION_NOT_FOUND, "workers.api.error.version_not_found")
        if not isinstance(v.get("percentage"), (int, float)) or not 0 < v["percentage"] <= 100:
            raise cfemu.invalid_body("percentage must be a number in (0, 100]")
        total += v["percentage"]
    if abs(total - 100) > 1e-9:
        raise cfemu.invalid_body("the percentages of a deployment sum to 100")
    message = (body.get("annotations") or {}).get("workers/message")
    deployment = new_deployment(call, worker, [{"version_id": v["version_id"],
                                                "percentage": v["percentage"]}
                                               for v in versions], message)
    return 200, cfemu.success_envelope(deployment)


def get_settings(call, account_id):
    """GET /settings: the deployed version's bindings and the Worker's settings."""
    worker = existing_worker(call, account_id)
    version = worker.deployed_version() or worker.latest()
    runtime = version["resources"]["script_runtime"] if version else {}
    result = {"bindings": version["resources"]["bindings"] if version else [],
              "compatibility_flags": runtime.get("compatibility_flags", []),
              "usage_model": "bundled", "placement": {},
              "logpush": bool(worker.settings["logpush"]),
              "tags": worker.settings["tags"] or [],
              "tail_consumers": worker.settings["tail_consumers"] or [],
              "observability": worker.settings["observability"]}
    if runtime.get("compatibility_date"):
        result["compatibility_date"] = runtime["compatibility_date"]
    return 200, cfemu.success_envelope(result)


def patch_script_settings(call, account_id):
    worker = existing_worker(call, account_id)
    body = cfemu.parsed_body(call)
    if not isinstance(body, dict):
        raise cfemu.invalid_body("script settings are a JSON object")
    for key in ("logpush", "tags", "tail_consumers", "observability"):
        if key in body:
            worker.settings[key] = body[key]
    worker.modified_on = call.now
    return 200, cfemu.success_envelope({
        "logpush": bool(worker.settings["logpush"]), "tags": worker.settings["tags"] or [],
        "tail_consumers": worker.settings["tail_consumers"] or [],
        "observability": worker.settings["observability"]})


def get_script_subdomain(call, account_id):
    worker = existing_worker(call, account_id)
    return 200, cfemu.success_envelope({"enabled": worker.workers_dev,
                                        "previews_enabled": worker.previews})


def post_script_subdomain(call, account_id):
    """POST /subdomain {"enabled", "previews_enabled"}: the workers.dev toggle."""
    worker = existing_worker(call, account_id)
    body = cfemu.parsed_body(call)
    if not isinstance(body, dict) or not isinstance(body.get("enabled"), bool) or \
            not isinstance(body.get("previews_enabled", False), bool):
        raise cfemu.invalid_body("enabled (and previews_enabled) must be booleans")
    if body["enabled"] and account_id not in call.state.workers.subdomains:
        raise cfemu.ApiError(400, CODE_SUBDOMAIN_NOT_FOUND,
                             "workers.api.error.subdomain_not_found")
    worker.workers_dev = body["enabled"]
    worker.previews = body.get("previews_enabled", worker.previews)
    return get_script_subdomain(call, account_id)


def get_account_subdomain(call, account_id):
    subdomain = call.state.workers.subdomains.get(account_id)
    if subdomain is None:
        raise cfemu.ApiError(404, CODE_SUBDOMAIN_NOT_FOUND, "workers.api.error.subdomain_not_found")
    return 200, cfemu.success_envelope({"subdomain": subdomain})


def put_account_subdomain(call, account_id):
    body = cfemu.parsed_body(call)
    name = body.get("subdomain") if isinstance(body, dict) else None
    if not isinstance(name, str) or not SUBDOMAIN_RE.match(name):
        raise cfemu.invalid_body("subdomain must be 1 to 63 characters [a-z0-9-]")
    taken = {v for k, v in call.state.workers.subdomains.items() if k != account_id}
    if name in taken:
        raise cfemu.ApiError(409, CODE_CONFLICT, "subdomain_unavailable")
    call.state.workers.subdomains[account_id] = name
    return 200, cfemu.success_envelope({"subdomain": name})


def zone_of_route(state, account_id, route):
    """The seeded zone a route pattern (or its zone_id / zone_name) belongs to."""
    zones = [z for z in state.zones if z["account_id"] == account_id]
    if route.get("zone_id"):
        return next((z for z in zones if z["id"] == route["zone_id"]), None)
    host = route.get("zone_name") or route["pattern"].split("/", 1)[0].lstrip("*.")
    labels = host.lower().split(".")
    for i in range(len(labels) - 1):
        zone = next((z for z in zones if z["name"] == ".".join(labels[i:])), None)
        if zone:
            return zone
    return None


def put_script_routes(call, account_id):
    """PUT /workers/scripts/{name}/routes [{"pattern", "zone_id"|"zone_name"}]:
    replaces the Worker's routes; each pattern needs a zone of the account."""
    worker = existing_worker(call, account_id)
    body = cfemu.parsed_body(call)
    if not isinstance(body, list) or not all(isinstance(r, dict) and isinstance(
            r.get("pattern"), str) and r["pattern"] for r in body):
        raise cfemu.invalid_body('routes are a list of {"pattern", "zone_id" or "zone_name"}')
    routes = []
    for route in body:
        zone = zone_of_route(call.state, account_id, route)
        if zone is None:
            raise cfemu.ApiError(400, CODE_ROUTE_ZONE,
                                 "No zone of this account matches route %s" % route["pattern"])
        routes.append({"id": uuid.uuid4().hex, "pattern": route["pattern"], "zone_id": zone["id"],
                       "zone_name": zone["name"], "script": worker.name})
    for other in call.state.workers.workers.values():
        if other is not worker:
            taken = {r["pattern"] for r in other.routes} & {r["pattern"] for r in routes}
            if taken:
                raise cfemu.ApiError(409, CODE_CONFLICT,
                                     "Route %s is assigned to another Worker" % sorted(taken)[0])
    worker.routes = routes
    return 200, cfemu.success_envelope(routes)


def zone_routes(state, zone):
    return [r for w in state.workers.workers.values() for r in w.routes
            if r["zone_id"] == zone["id"]]


def list_zone_routes(call, zone):
    routes = [{"id": r["id"], "pattern": r["pattern"], "script": r["script"]}
              for r in zone_routes(call.state, zone)]
    return 200, cfemu.success_envelope(routes)


def create_zone_route(call, zone):
    """POST /zones/{zone_id}/workers/routes {"pattern", "script"}: wrangler's
    fallback when the Worker's routes PUT answered 10000."""
    body = cfemu.parsed_body(call)
    if not isinstance(body, dict) or not isinstance(body.get("pattern"), str):
        raise cfemu.invalid_body('a route is {"pattern", "script"}')
    if any(r["pattern"] == body["pattern"] for r in zone_routes(call.state, zone)):
        raise cfemu.ApiError(409, CODE_CONFLICT, "duplicate route pattern")
    worker = call.state.workers.worker(zone["account_id"], body.get("script") or "", call.now)
    if worker is None:
        raise cfemu.ApiError(404, cfemu.CODE_SCRIPT_NOT_FOUND, cfemu.MSG_SCRIPT_NOT_FOUND)
    route = {"id": uuid.uuid4().hex, "pattern": body["pattern"], "zone_id": zone["id"],
             "zone_name": zone["name"], "script": worker.name}
    worker.routes.append(route)
    return 200, cfemu.success_envelope({"id": route["id"], "pattern": route["pattern"],
                                        "script": route["script"]})


_A = r"/accounts/(?P<account_id>[^/]+)/workers"
_S = _A + r"/scripts/(?P<script_name>[^/]+)"
_Z = r"/zones/(?P<zone_id>[^/]+)/workers/routes"
ROUTES = [
    ("GET", _A + r"/services/(?P<script_name>[^/]+)", get_service, access.account_access),
    ("PUT", _S, upload_script, access.account_access),
    ("GET", _S + r"/settings", get_settings, access.account_access),
    ("PATCH", _S + r"/script-settings", patch_script_settings, access.account_access),
    ("POST", _S + r"/versions", upload_version, access.account_access),
    ("GET", _S + r"/versions/(?P<version_id>[^/]+)", get_version, access.account_access),
    ("GET", _S + r"/deployments", list_deployments, access.account_access),
    ("POST", _S + r"/deployments", create_deployment, access.account_access),
    ("GET", _S + r"/subdomain", get_script_subdomain, access.account_access),
    ("POST", _S + r"/subdomain", post_script_subdomain, access.account_access),
    ("PUT", _S + r"/routes", put_script_routes, access.account_access),
    ("GET", _A + r"/subdomain", get_account_subdomain, access.account_access),
    ("PUT", _A + r"/subdomain", put_account_subdomain, access.account_access),
    ("GET", _Z, list_zone_routes, access.zone_access),
    ("POST", _Z, create_zone_route, access.zone_access),
]
