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

from gateway.domain.routes import ProxyRoute

BEARER = "bearerAuth"
SECURITY_SCHEMES = {BEARER: {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                             "description": "An access token of the identity provider "
                                            "(in dev mode: POST /api/v1/auth/dev-token)."}}
HIDDEN_HEADERS = {"x-auth-sub", "x-auth-tenant", "x-auth-roles", "x-request-id"}
_PARAMETER = re.compile(r"\{([^}]+)\}")


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


def _public_operation(route: ProxyRoute, service_path: str, operation: dict) -> dict:
    operation = copy.deepcopy(operation)
    renamed = dict(zip(_PARAMETER.findall(service_path), route.parameters))
    parameters = []
    for parameter in operation.get("parameters", []):
        if parameter.get("in") == "header" and parameter.get("name", "").lower() in HIDDEN_HEADERS:
            continue
        if parameter.get("in") == "path":
            parameter = {**parameter, "name": renamed.get(parameter.get("name"),
                                                           parameter.get("name"))}
        parameters.append(parameter)
    if parameters or "parameters" in operation:
        operation["parameters"] = parameters
    operation.setdefault("tags", [route.service])
    operation.setdefault("summary", route.summary)
    operation["operationId"] = route.name
    operation["security"] = _security(route)
    return operation


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
                                    "schema": {"type": "string"}} for name in route.parameters]
    return operation


def merge_openapi(*, own: dict, services: dict[str, dict | None],
                  routes: Iterable[ProxyRoute], title: str, version: str,
                  description: str = "") -> dict:
    components: dict[str, dict] = {}
    merge_components(components, own, "gateway")
    paths: dict[str, dict] = {path: copy.deepcopy(item)
                              for path, item in (own.get("paths") or {}).items()}
    documents = {name: merge_components(components, document, name)
                 for name, document in services.items() if document}
    for route in routes:
        found = find_operation(documents.get(route.service), route)
        operation = (_public_operation(route, *found) if found else placeholder_operation(route))
        paths.setdefault(route.public_path, {})[route.method.lower()] = operation
    components.setdefault("securitySchemes", {}).update(SECURITY_SCHEMES)
    unavailable = sorted(name for name, document in services.items() if not document)
    info: dict[str, Any] = {"title": title, "version": version, "description": description}
    if unavailable:
        info["x-services-unavailable"] = unavailable
    return {"openapi": "3.1.0", "info": info, "paths": dict(sorted(paths.items())),
            "components": components}
