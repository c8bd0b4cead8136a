"""The control API: state, counters and faults of the simulated hosts over HTTP (JSON).

Listens on 127.0.0.1 only, on its own port (``sim_control_url`` in the inventory):

``GET /hosts``                      every host: url, port, scheme, auth, up, boot count
``GET /hosts/NAME/state``           services, features, files (path, size, sha256), registry, PATH,
                                    firewall rules, Defender exclusions, images, boot count, ...
``GET /hosts/NAME/stats``           winrm_requests, commands, module_runs_total, module_runs,
                                    scripts, bytes_in, bytes_out (+ connections, become)
``POST /hosts/NAME/stats/reset``    zero the counters
``GET /hosts/NAME/faults``          the faults in force
``POST /hosts/NAME/faults``         merge faults (JSON mapping, see ``faults.py``; null removes)
``GET /cluster``                    the simulated Kubernetes cluster, when one is configured
"""

from __future__ import annotations

import http.server
import json
import logging
import threading
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from tests.simulator.config import ALLOWED_BIND, ConfigError
from tests.simulator.host import SimulatorError

if TYPE_CHECKING:
    from tests.simulator.server import Simulator

__all__ = ["ControlServer"]

log = logging.getLogger("tests.simulator.control")


def _cluster_dump(cluster: Any) -> Any:
    for method in ("dump", "state", "to_dict"):
        fn = getattr(cluster, method, None)
        if callable(fn):
            return fn()
    raise SimulatorError(f"simulator: the cluster object {type(cluster).__name__} has no dump()")


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _ControlHTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        log.debug(format, *args)

    def _reply(self, status: int, payload: Any) -> None:
        body = (json.dumps(payload, indent=1, default=str) + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _parts(self) -> list[str]:
        return [unquote(p) for p in self.path.split("?", 1)[0].strip("/").split("/") if p]

    def _route(self, method: str) -> tuple[int, Any]:
        sim = self.server.sim
        parts = self._parts()
        if method == "GET" and parts == ["hosts"]:
            return 200, [rt.describe() for rt in sim.hosts.values()]
        if method == "GET" and parts == ["cluster"]:
            if sim.cluster is None:
                return 404, {"error": "no simulated cluster is configured"}
            return 200, _cluster_dump(sim.cluster)
        if len(parts) >= 3 and parts[0] == "hosts":
            name, rest = parts[1], parts[2:]
            sim.runtime(name)  # 404 for an unknown host
            if method == "GET" and rest == ["state"]:
                return 200, sim.state(name)
            if method == "GET" and rest == ["stats"]:
                return 200, sim.stats(name)
            if method == "POST" and rest == ["stats", "reset"]:
                return 200, sim.reset_stats(name)
            if method == "GET" and rest == ["faults"]:
                return 200, sim.faults(name)
            if method == "POST" and rest == ["faults"]:
                return 200, sim.set_faults(name, self._json_body())
        return 404, {"error": f"no such endpoint: {method} {self.path}"}

    def _json_body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            return json.loads(raw or b"null")
        except json.JSONDecodeError as exc:
            raise ConfigError(f"request body is not JSON: {exc}") from exc

    def _handle(self, method: str) -> None:
        try:
            status, payload = self._route(method)
        except ConfigError as exc:
            status, payload = 400, {"error": str(exc)}
        except SimulatorError as exc:
            status, payload = 404, {"error": str(exc)}
        self._reply(status, payload)

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")


class _ControlHTTPServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, sim: Simulator, port: int) -> None:
        self.sim = sim
        super().__init__((ALLOWED_BIND, port), _Handler)


class ControlServer:
    def __init__(self, sim: Simulator, port: int = 0) -> None:
        self._server = _ControlHTTPServer(sim, port)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="sim-control", daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://{ALLOWED_BIND}:{self._server.server_address[1]}"

    def start(self) -> None:
        self._thread.start()
        log.info("control API on %s", self.url)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
