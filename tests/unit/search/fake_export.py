"""A tiny real HTTP server that answers like the profiles service's export API.

Serves `GET /internal/export/{collection}?after=&limit=` from in-memory lists, in id order.
It records the requests, and can fail a number of requests first (to test retries), or refuse
every request as profiles refuses a credential it cannot verify (`refuse`: status and code).
"""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


class FakeExport:
    def __init__(self, collections: dict[str, list[dict]], *, failures_first: int = 0,
                 refuse: tuple[int, str, str] | None = None):
        self.collections = {name: sorted(items, key=lambda i: i["id"])
                            for name, items in collections.items()}
        self.requests: list[tuple[str, dict, dict]] = []
        self.failures_left = failures_first
        self.refuse = refuse
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> "FakeExport":
        export = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output quiet
                return

            def do_GET(self):
                url = urlparse(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                export.requests.append((url.path, query, dict(self.headers)))
                if export.refuse is not None:
                    status, code, message = export.refuse
                    self._reply(status, {"error": {"code": code, "message": message}})
                    return
                if export.failures_left > 0:
                    export.failures_left -= 1
                    self._reply(503, {"error": {"code": "unavailable"}})
                    return
                prefix = "/internal/export/"
                name = url.path[len(prefix):] if url.path.startswith(prefix) else None
                if name not in export.collections:
                    self._reply(404, {"error": {"code": "not_found"}})
                    return
                limit = int(query.get("limit", "1000"))
                after = query.get("after")
                items = [i for i in export.collections[name] if after is None or i["id"] > after]
                page = items[:limit]
                more = len(items) > limit
                self._reply(200, {"items": page, "next": page[-1]["id"] if more else None})

            def _reply(self, status: int, body: dict):
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()
