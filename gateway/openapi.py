"""One OpenAPI document for clients: the gateway's own routes plus the services' routes that the
gateway exposes, rewritten to their public /api/v1 paths.

Components of all documents are merged; a name that two documents define differently is
prefixed with the service name in that service's part. A service whose document is not
available still gets its routes listed, with a minimal description.
"""
from __future__ import annotations

import copy
import re
from typing import Any, Iterable

from gateway.domain.routes import API_PREFIX, SEGMENT_PATTERN, ProxyRoute
from platform_common.http.openapi import error_response_document, error_schema_components

BEARER = "bearerAuth"
SECURITY_SCHEMES = {BEARER: {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                             "description": "An access token of the identity provider "
                                            "(in dev mode: POST /api/v1/auth/dev-token)."}}
HIDDEN_HEADERS = {"x-auth-sub", "x-auth-tenant", "x-auth-roles", "x-request-id"}
_PARAMETER = re.compile(r"\{([^}]+)\}")
# What the gateway itself may answer on every /api/v1 route, before or instead of a service:
# refused input (400), a refused token (401), a body or URI too long (413, 414), the rate
# limit (429), a service or the identity provider unavailable (503).
GATEWAY_STATUSES = (400, 401, 413, 414, 429, 503)


def _shape(path: str) -> str:
    return _PARAMETER.sub("{}", path)


def rewrite_refs(node: Any, renames: dict[str, str]) -> Any:
    """A copy of node with every `$ref` to a renamed component pointing at its new name."""
    if isinstance(node, dict):
        result = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value in renames:
                result[key] = renames[value]
            else:
                result[key] = rewrite_refs(value, renames)
        return result
    if isinstance(node, list):
        return [rewrite_refs(item, renames) for item in node]
    return node


def merge_components(merged: dict[str, dict], document: dict, prefix: str) -> dict:
    """Add document's components to merged; returns the document with its refs rewritten."""
    components = document.get("components") or {}
    renames: dict[str, str] = {}  # "#/components/schemas/Item" -> "#/components/schemas/x_Item"
    changed = True
    while changed:  # a rename changes the schemas that refer to it: repeat until stable
        changed = False
        rewritten = rewrite_refs(components, renames)
        for section, entries in rewritten.items():
            for name, value in (entries or {}).items():
                ref = f"#/components/{section}/{name}"
                existing = merged.get(section, {}).get(name)
                if ref not in renames and existing is not None and existing != value:
                    renames[ref] = f"#/components/{section}/{prefix}_{name}"
                    changed = True
    document = rewrite_refs(document, renames)
    for section, entries in (document.get("components") or {}).items():
        target = merged.setdefault(section, {})
        for name, value in (entries or {}).items():
            ref = f"#/components/{section}/{name}"
            target[renames.get(ref, ref).rsplit("/", 1)[1]] = value
    return document


def find_operation(document: dict | None, route: ProxyRoute) -> tuple[str, dict] | None:
    """The service's own path template and operation for this route, if it documents it."""
    if not document:
        return None
    wanted = _shape(route.upstream)
    for path, item in (document.get("paths") or {}).items():
        if _shape(path) == wanted and route.method.lower() in item:
            return path, item[route.method.lower()]
    return None


def _security(route: ProxyRoute) -> list:
    return [] if route.access.public else [{BEARER: []}]


# What the gateway lets through as one path segment (routes.upstream_path; "." and ".." not).
PATH_SEGMENT_SCHEMA = {"type": "string", "pattern": SEGMENT_PATTERN.pattern,
                       "minLength": 1, "maxLength": 256}


def _without_null(schema: dict) -> dict:
    """A query or header parameter is either sent or not: FastAPI's `anyOf [..., null]` of an
    optional one would tell clients to send the text "null"."""
    branches = schema.get("anyOf")
    if not branches or {"type": "null"} not in branches:
        return schema
    rest = [branch for branch in branches if branch != {"type": "null"}]
    outer = {key: value for key, value in schema.items() if key not in ("anyOf", "default")}
    if schema.get("default") is not None:
        outer["default"] = schema["default"]
    return {**outer, **rest[0]} if len(rest) == 1 else {**outer, "anyOf": rest}


def _public_parameter(parameter: dict, renamed: dict[str, str]) -> dict:
    schema = parameter.get("schema") or {}
    if parameter.get("in") == "path":
        # What both the gateway and the service accept: the stricter length limits.
        segment = {**{k: v for k, v in schema.items() if k != "type"}, **PATH_SEGMENT_SCHEMA}
        segment["minLength"] = max(schema.get("minLength", 1), PATH_SEGMENT_SCHEMA["minLength"])
        segment["maxLength"] = min(schema.get("maxLength", 256), PATH_SEGMENT_SCHEMA["maxLength"])
        return {**parameter, "schema": segment,
                "name": renamed.get(parameter.get("name"), parameter.get("name"))}
    return {**parameter, "schema": _without_null(schema)}


def _public_operation(route: ProxyRoute, service_path: str, operation: dict) -> dict:
    operation = copy.deepcopy(operation)
    renamed = dict(zip(_PARAMETER.findall(service_path), route.parameters))
    parameters = []
    for parameter in operation.get("parameters", []):
        if parameter.get("in") == "header" and parameter.get("name", "").lower() in HIDDEN_HEADERS:
            continue
        parameters.append(_public_parameter(parameter, renamed))
    if parameters or "parameters" in operation:
        operation["parameters"] = parameters
    operation.setdefault("tags", [route.service])
    operation.setdefault("summary", route.summary)
    operation["operationId"] = route.name
    operation["security"] = _security(route)
    return operation


def add_error_statuses(operation: dict, statuses: Iterable[int]) -> dict:
    """operation with these error statuses documented (the shared error schema), unless the
    operation documents them already."""
    responses = operation.setdefault("responses", {})
    for status in statuses:
        responses.setdefault(str(status), error_response_document(status))
    return operation


def gateway_statuses(route: ProxyRoute | None) -> tuple[int, ...]:
    """The gateway's own statuses for a route (None: one of the gateway's own routes)."""
    if route is None:
        return GATEWAY_STATUSES
    extra = (403,) if route.access.roles else ()
    # A path parameter with characters that may not reach a service: 422 with its name.
    extra += (422,) if route.parameters else ()
    return GATEWAY_STATUSES + extra


def placeholder_operation(route: ProxyRoute) -> dict:
    operation: dict[str, Any] = {
        "tags": [route.service], "summary": route.summary, "operationId": route.name,
        "description": f"Served by the {route.service} service, whose description is "
                       "not available right now.",
        "responses": {"default": {"description": "See the service's documentation."}},
        "security": _security(route),
    }
    if route.parameters:
        operation["parameters"] = [{"name": name, "in": "path", "required": True,
                                    "schema": dict(PATH_SEGMENT_SCHEMA)}
                                   for name in route.parameters]
    return operation


def merge_openapi(*, own: dict, services: dict[str, dict | None],
                  routes: Iterable[ProxyRoute], title: str, version: str,
                  description: str = "") -> dict:
    components: dict[str, dict] = {}
    merge_components(components, own, "gateway")
    paths: dict[str, dict] = {path: copy.deepcopy(item)
                              for path, item in (own.get("paths") or {}).items()}
    for path, item in paths.items():
        if path.startswith(API_PREFIX):
            for operation in item.values():
                add_error_statuses(operation, gateway_statuses(None))
    documents = {name: merge_components(components, document, name)
                 for name, document in services.items() if document}
    for route in routes:
        found = find_operation(documents.get(route.service), route)
        operation = (_public_operation(route, *found) if found else placeholder_operation(route))
        add_error_statuses(operation, gateway_statuses(route))
        paths.setdefault(route.public_path, {})[route.method.lower()] = operation
    components.setdefault("securitySchemes", {}).update(SECURITY_SCHEMES)
    for name, schema in error_schema_components().items():
        components.setdefault("schemas", {}).setdefault(name, schema)
    unavailable = sorted(name for name, document in services.items() if not document)
    info: dict[str, Any] = {"title": title, "version": version, "description": description}
    if unavailable:
        info["x-services-unavailable"] = unavailable
    return {"openapi": "3.1.0", "info": info, "paths": dict(sorted(paths.items())),
            "components": components}
