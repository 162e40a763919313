"""A stand-in for the services behind the gateway, for the gateway's own integration tests.

Run as `python -m tests.integration.gateway.fake_service PORT`. The gateway reaches it under a
path prefix per service (PROFILES_URL=http://127.0.0.1:PORT/profiles, ...), so one process
answers for all of them. Every request is echoed back as JSON (method, path, query, headers,
body); `?echo_status=409` answers with that status, `?echo_sleep=3` answers late.
"""
from __future__ import annotations

import asyncio
import json
import sys

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)


def service_document(service: str) -> dict:
    """A small OpenAPI document like the real services', with a schema name that clashes."""
    item_ref = {"$ref": "#/components/schemas/Item"}
    paths = {
        "/search": {"get": {"summary": "Search", "operationId": "search",
                            "parameters": [{"name": "q", "in": "query",
                                            "schema": {"type": "string"}}],
                            "responses": {"200": {"description": "ok",
                                                  "content": {"application/json": {
                                                      "schema": item_ref}}}}}},
    } if service == "search" else {
        "/offers/{offer_id}": {"get": {"summary": "One offer", "operationId": "get_offer",
                                       "parameters": [{"name": "offer_id", "in": "path",
                                                       "required": True,
                                                       "schema": {"type": "string"}},
                                                      {"name": "X-Auth-Sub", "in": "header",
                                                       "schema": {"type": "string"}}],
                                       "responses": {"200": {"description": "ok",
                                                             "content": {"application/json": {
                                                                 "schema": item_ref}}}}}},
        "/internal/rebuild": {"post": {"summary": "not public",
                                       "responses": {"200": {"description": "ok"}}}},
    }
    return {"openapi": "3.1.0", "info": {"title": service, "version": "1"}, "paths": paths,
            "components": {"schemas": {"Item": {"type": "object", "title": f"{service} item",
                                                "properties": {"id": {"type": "string"}}}}}}


@app.api_route("/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
async def echo(path: str, request: Request):
    service, _, rest = path.partition("/")
    if rest == "openapi.json":
        return JSONResponse(service_document(service))
    sleep = float(request.query_params.get("echo_sleep", 0))
    if sleep:
        await asyncio.sleep(sleep)
    body = await request.body()
    return JSONResponse(
        {"service": service, "method": request.method, "path": "/" + rest,
         "raw_path": request.scope.get("raw_path", b"").decode(),
         "query": request.url.query, "headers": dict(request.headers),
         "json": json.loads(body) if body else None},
        status_code=int(request.query_params.get("echo_status", 200)),
        headers={"Location": f"/{rest}", "X-Internal-Secret": "not for clients"})


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
