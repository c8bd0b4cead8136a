# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A web server on 127.0.0.1 for the artifact cache's tests: path -> body, with request counts, HTTP errors
for the first N requests, a slow answer (so concurrent callers really overlap) and truncated bodies."""

from __future__ import annotations

import dataclasses
import http.server
import ssl
import threading
import time
from typing import Dict, Iterator, Optional

import pytest


@dataclasses.dataclass
class Route:
    body: bytes
    # Answer this status instead of the body for the first `fail_times` requests (None: always).
    status: Optional[int] = None
    fail_times: Optional[int] = None
    delay: float = 0.0
    # Announce the whole body but send this many bytes less, then close: the client sees a short body.
    truncate_by: int = 0


class LocalWeb:
    def __init__(self, tls: Optional[ssl.SSLContext] = None) -> None:
        self.routes: Dict[str, Route] = {}
        self.requests: Dict[str, int] = {}
        self._lock = threading.Lock()
        web = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                return None

            def do_GET(self) -> None:
                with web._lock:
                    count = web.requests[self.path] = web.requests.get(self.path, 0) + 1
                route = web.routes.get(self.path)
                if route is None:
                    self.send_error(404, "Not Found")
                    return
                time.sleep(route.delay)
                failing = route.status is not None and (route.fail_times is None or count <= route.fail_times)
                if failing:
                    self.send_error(route.status or 500)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(route.body)))
                self.end_headers()
                self.wfile.write(route.body[: len(route.body) - route.truncate_by])
                self.close_connection = True

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.scheme = "http"
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
            self.scheme = "https"
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def url(self, path: str) -> str:
        return f"{self.scheme}://127.0.0.1:{self.server.server_address[1]}{path}"

    def serve(self, path: str, body: bytes, **options: object) -> str:
        self.routes[path] = Route(body, **options)  # type: ignore[arg-type]
        return self.url(path)

    def count(self, path: str) -> int:
        return self.requests.get(path, 0)


def _running(server: LocalWeb, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalWeb]:
    # Nothing may leave 127.0.0.1: no proxy from the environment running the tests.
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    server.thread.start()
    try:
        yield server
    finally:
        server.server.shutdown()
        server.server.server_close()


@pytest.fixture
def web(monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalWeb]:
    yield from _running(LocalWeb(), monkeypatch)


@pytest.fixture
def web_tls(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalWeb]:
    """The same over HTTPS with a self-signed certificate (the simulator's, for 127.0.0.1)."""
    from tests.simulator.server import make_certificate

    material = make_certificate("artifacts.test", tmp_path_factory.mktemp("tls"))
    yield from _running(LocalWeb(material.context()), monkeypatch)
