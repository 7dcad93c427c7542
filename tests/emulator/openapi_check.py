"""Validate request and response bodies against an OpenAPI 3.0 document.

The emulator uses this to make sure that what it answers (and what clients
send it) matches Cloudflare's official schema extract, so a test that passes
against the emulator is a test of the real contract and not of our guesses.

OpenAPI 3.0 schema objects are close to, but not the same as, JSON Schema
draft 4.  Before handing a schema to jsonschema we convert it:

* ``$ref`` to ``#/...`` are inlined (the token components have no cycles;
  a cycle would be reported as an error rather than loop forever);
* ``nullable: true`` becomes "or null" (type list, enum, or anyOf);
* ``readOnly`` properties are not required in requests, ``writeOnly``
  properties are not required in responses (OpenAPI 3.0.3, 4.7.25): the
  policy ``id`` is readOnly yet listed as required in the create payload;
* ``oneOf`` becomes ``anyOf``: Cloudflare's unions have overlapping branches
  without a discriminator (every membership list matches both branches of
  the /memberships answer, an empty resource map both branches of
  iam_resources), so strict "exactly one" would reject every valid answer;
* ``example``, ``x-*`` and other annotation-only keywords are dropped;
* ``format: date-time`` is checked (RFC 3339), other formats are not.

Public interface:
    OpenAPI(path)                   load a document
    doc.find_operation(method, path) -> (operation_id, operation) or None
    doc.check_request(op, body)     -> list of short error strings
    doc.check_response(op, status, body) -> list of short error strings
    OpenAPISet(paths)               several documents behind the same three calls
and module-level shortcuts working on the document in data/ next to this file.
"""

import copy
import datetime
import json
import os
import re

import jsonschema

DEFAULT_DOCUMENT = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "data", "cloudflare-tokens-openapi.json")

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

# Keywords that only annotate; jsonschema ignores most unknown keywords anyway,
# dropping them keeps the converted schemas small and readable in errors.
_ANNOTATIONS = {"example", "examples", "externalDocs", "xml", "discriminator",
                "deprecated", "readOnly", "writeOnly", "nullable"}

# Keywords whose value is a map of name -> schema (not a schema itself).
_SCHEMA_MAPS = {"properties", "patternProperties", "definitions"}
# Keywords whose value is one schema.
_SCHEMA_ONE = {"items", "additionalProperties", "not"}
# Keywords whose value is a list of schemas.
_SCHEMA_LIST = {"allOf", "anyOf", "oneOf"}

_RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


def is_rfc3339(value):
    """True if value is an RFC 3339 date-time (what format: date-time means)."""
    if not isinstance(value, str) or not _RFC3339.match(value):
        return False
    try:
        datetime.datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


_FORMATS = jsonschema.FormatChecker(formats=())
_FORMATS.checks("date-time")(lambda v: not isinstance(v, str) or is_rfc3339(v))


class SchemaError(Exception):
    """The OpenAPI document itself is broken (bad $ref, cycle)."""


class OpenAPI:
    def __init__(self, path=DEFAULT_DOCUMENT):
        with open(path, encoding="utf-8") as f:
            self.document = json.load(f)
        self.base_path = self._server_base_path()
        self._routes = self._compile_routes()
        self._validators = {}  # (id(schema node), direction) -> validator

    # ---- operations -------------------------------------------------------

    def _server_base_path(self):
        """'/client/v4' from servers[0].url, so callers may pass full paths."""
        servers = self.document.get("servers") or [{}]
        url = servers[0].get("url", "")
        m = re.match(r"^[a-z]+://[^/]+(/.*)?$", url)
        return (m.group(1) or "").rstrip("/") if m else ""

    def _compile_routes(self):
        routes = []
        for template, item in self.document.get("paths", {}).items():
            pattern = "^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)) + "$"
            # Literal segments beat parameters: /tokens/verify before /tokens/{id}.
            params = template.count("{")
            for method, op in item.items():
                if method in HTTP_METHODS:
                    routes.append((params, re.compile(pattern), method.upper(), op))
        routes.sort(key=lambda r: r[0])
        return routes

    def find_operation(self, method, path):
        """(operationId, operation) for METHOD and a concrete path, or None.

        The path may include the server base (/client/v4) and a query string.
        """
        path = path.split("?", 1)[0]
        if self.base_path and path.startswith(self.base_path + "/"):
            path = path[len(self.base_path):]
        method = method.upper()
        for _params, pattern, op_method, op in self._routes:
            if op_method == method and pattern.match(path):
                return op.get("operationId"), op
        return None

    def _operation(self, op):
        if isinstance(op, str):
            for _p, _pat, _m, candidate in self._routes:
                if candidate.get("operationId") == op:
                    return candidate
            raise KeyError("no operation %r" % op)
        return op

    # ---- validation -------------------------------------------------------

    def expects_json(self, op):
        """Does op take a JSON request body (not a multipart one, not none)?"""
        request_body = self._deref(self._operation(op).get("requestBody"))
        content = (request_body or {}).get("content", {})
        return bool(request_body) and (not content or "application/json" in content)

    def check_request(self, op, body):
        """Errors of a request body (parsed JSON; None = no body) for op."""
        op = self._operation(op)
        request_body = self._deref(op.get("requestBody"))
        if not request_body:
            return []
        content = request_body.get("content", {})
        if content and "application/json" not in content:
            return []  # not a JSON body (a multipart upload): not checked here
        if body is None:
            return ["request: body is required"] if request_body.get("required") else []
        schema = self._json_schema(content)
        if schema is None:
            return []
        return self._validate(schema, body, "request", "request")

    def check_response(self, op, status, body):
        """Errors of a response body (parsed JSON) answered with status for op."""
        op = self._operation(op)
        responses = op.get("responses", {})
        status = str(status)
        for key in (status, status[0] + "XX", "default"):
            if key in responses:
                break
        else:
            return ["response: no schema for status %s" % status]
        schema = self._json_schema(self._deref(responses[key]).get("content", {}))
        if schema is None:
            return []
        kind = "error" if status[0] in "45" else "response"
        return self._validate(schema, body, kind, "response %s" % status)

    def _json_schema(self, content):
        media = content.get("application/json")
        if media is None:
            return None
        return media.get("schema")

    def _validate(self, schema, instance, direction, label):
        key = (id(schema), direction)
        validator = self._validators.get(key)
        if validator is None:
            if direction == "error":
                converted = _envelope(self.convert(schema, "response"), error=True)
            else:
                converted = self.convert(schema, direction)
                if direction == "response":
                    converted = _envelope(converted, error=False)
            validator = jsonschema.Draft4Validator(converted, format_checker=_FORMATS)
            self._validators[key] = validator
        errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
        return ["%s: %s: %s" % (label, _json_path(e.absolute_path), _short(e)) for e in errors]

    # ---- OpenAPI 3.0 -> JSON Schema draft 4 -------------------------------

    def _resolve(self, ref):
        if not ref.startswith("#/"):
            raise SchemaError("only local $ref supported: %s" % ref)
        node = self.document
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            try:
                node = node[part]
            except (KeyError, IndexError, TypeError):
                raise SchemaError("unresolvable $ref %s" % ref) from None
        return node

    def _deref(self, node, seen=()):
        """Follow $ref chains (used for requestBody / response objects)."""
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            if ref in seen:
                raise SchemaError("$ref cycle at %s" % ref)
            seen = seen + (ref,)
            node = self._resolve(ref)
        return node

    def convert(self, schema, direction="response"):
        """A JSON Schema (draft 4) equivalent of an OpenAPI 3.0 schema object.

        direction is "request" or "response": it decides whether readOnly or
        writeOnly properties drop out of "required".
        """
        return self._convert(schema, direction, ())

    def _convert(self, node, direction, seen):
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            ref = node["$ref"]
            if ref in seen:
                raise SchemaError("$ref cycle at %s" % ref)
            return self._convert(self._resolve(ref), direction, seen + (ref,))

        out = {}
        for key, value in node.items():
            if key in _ANNOTATIONS or key.startswith("x-"):
                continue
            if key in _SCHEMA_MAPS:
                out[key] = {name: self._convert(sub, direction, seen)
                            for name, sub in value.items()}
            elif key in _SCHEMA_ONE and isinstance(value, dict):
                out[key] = self._convert(value, direction, seen)
            elif key in _SCHEMA_LIST:
                # oneOf -> anyOf: see the module docstring.
                target = "anyOf" if key == "oneOf" else key
                out.setdefault(target, []).extend(
                    self._convert(sub, direction, seen) for sub in value)
            else:
                out[key] = copy.deepcopy(value)

        if "required" in out and "properties" in node:
            skip = "readOnly" if direction == "request" else "writeOnly"
            hidden = {name for name, sub in node["properties"].items()
                      if self._flag(sub, skip, seen)}
            out["required"] = [r for r in out["required"] if r not in hidden]
            if not out["required"]:
                del out["required"]  # draft 4 forbids an empty required list

        if node.get("nullable") is True:
            out = _allow_null(out)
        return out

    def _flag(self, node, flag, seen):
        """True if a property schema is marked readOnly/writeOnly (through $ref)."""
        while isinstance(node, dict):
            if node.get(flag) is True:
                return True
            if "$ref" not in node or node["$ref"] in seen:
                return False
            seen = seen + (node["$ref"],)
            node = self._resolve(node["$ref"])
        return False


def _flat_allof(schema):
    """The branches of an allOf, nested allOfs flattened (an allOf of allOfs
    means the same as one allOf of all their branches)."""
    branches = []
    for branch in schema.get("allOf", []):
        if set(branch) <= {"allOf", "description", "type"} and "allOf" in branch:
            branches.extend(_flat_allof(branch))
        else:
            branches.append(branch)
    return branches


def _is_placeholder(result):
    types = result.get("type")
    return set(result) <= {"type", "description"} and types in ("object", ["object", "null"])


def _success_enum(branch):
    return ((branch.get("properties") or {}).get("success") or {}).get("enum")


def _envelope(schema, error):
    """Cloudflare's envelopes, made satisfiable. Three patterns of the
    official schema (seen in the Workers, KV, R2 and D1 extract) contradict
    themselves:
    * a success answer is the allOf of the common envelope, whose "result"
      is a bare {"type": "object"}, and of a branch giving the real result
      (an array, for every list): the bare placeholder yields to it;
    * a 4XX answer is the allOf of the success answer (success: true) and
      the failure envelope (success: false): an error is checked against
      the failure envelope's branches alone;
    * a few 4XX answers are the success envelope itself (success: true):
      an error is checked against it with success relaxed to a boolean.
    Anything else is left as it is."""
    branches = _flat_allof(schema) if "allOf" in schema else [schema]
    if error:
        failures = [b for b in branches if _success_enum(b) == [False]]
        if failures:
            branches = failures
        else:
            branches = [dict(b, properties=dict(b["properties"], success={"type": "boolean"}))
                        if _success_enum(b) == [True] else b for b in branches]
    results = [(b.get("properties") or {}).get("result") for b in branches]
    if any(r is not None and not _is_placeholder(r) for r in results):
        branches = [dict(b, properties={k: v for k, v in b["properties"].items() if k != "result"})
                    if r is not None and _is_placeholder(r) else b
                    for b, r in zip(branches, results)]
    if len(branches) == 1 and "allOf" not in schema:
        return branches[0]
    out = {k: v for k, v in schema.items() if k != "allOf"}
    out["allOf"] = branches
    return out


def _allow_null(schema):
    """schema, widened to also accept null (OpenAPI 3.0 nullable: true)."""
    schema = dict(schema)
    if "enum" in schema and None not in schema["enum"]:
        schema["enum"] = list(schema["enum"]) + [None]
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if "null" not in types:
            schema["type"] = types + ["null"]
        return schema
    # No type to widen (e.g. a bare allOf): null or the schema.
    return {"anyOf": [{"type": "null"}, schema]}


def _json_path(path):
    out = "$"
    for part in path:
        out += "[%d]" % part if isinstance(part, int) else "." + str(part)
    return out


def _short(error, limit=160):
    message = error.message
    if error.validator in ("anyOf", "oneOf") and error.context:
        # "x is not valid under any of the given schemas" says nothing; name the
        # closest branch's complaint instead.
        best = jsonschema.exceptions.best_match(error.context)
        message = "no variant matches (%s)" % best.message
    return message if len(message) <= limit else message[:limit - 3] + "..."


class OpenAPISet:
    """Several documents as one: find_operation searches them in order, and
    the checks go to the document that holds the operation (the token
    extract and the Workers extract in data/ are separate files, each the
    copy of a shared original)."""

    def __init__(self, paths):
        self.documents = [OpenAPI(p) for p in paths]
        self._owner = {}  # id(operation object) -> its document

    def find_operation(self, method, path):
        for doc in self.documents:
            found = doc.find_operation(method, path)
            if found:
                self._owner[id(found[1])] = doc
                return found
        return None

    def _doc(self, op):
        if isinstance(op, str):
            for doc in self.documents:
                try:
                    doc._operation(op)
                    return doc
                except KeyError:
                    pass
            raise KeyError("no operation %r" % op)
        return self._owner[id(op)]

    def expects_json(self, op):
        return self._doc(op).expects_json(op)

    def check_request(self, op, body):
        return self._doc(op).check_request(op, body)

    def check_response(self, op, status, body):
        return self._doc(op).check_response(op, status, body)


# ---- module-level shortcuts on the bundled document -----------------------

_default = None


def default():
    global _default
    if _default is None:
        _default = OpenAPI(DEFAULT_DOCUMENT)
    return _default


def find_operation(method, path):
    return default().find_operation(method, path)


def check_request(op, body):
    return default().check_request(op, body)


def check_response(op, status, body):
    return default().check_response(op, status, body)


if __name__ == "__main__":
    # Tiny self-check usable from a shell: convert every schema in the document.
    import sys
    doc = OpenAPI(sys.argv[1] if len(sys.argv) > 1 else DEFAULT_DOCUMENT)
    for name in doc.document.get("components", {}).get("schemas", {}):
        for direction in ("request", "response"):
            jsonschema.Draft4Validator.check_schema(
                doc.convert({"$ref": "#/components/schemas/" + name}, direction))
    print("ok: %d operations" % len(doc._routes))
