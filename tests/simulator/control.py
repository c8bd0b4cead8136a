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
``POST /cluster``                   ``{"version": "X.Y.Z"}``: upgrade the control plane (what ``kubeadm upgrade
                                    apply`` changes for the nodes: the API server's version), one minor at a time
``GET|HEAD /mirror/SCHEME/HOST/PATH``  what the simulated internet serves for SCHEME://HOST/PATH
                                    (contract B: the bytes, or its HTTP error status)
``GET /downloads``                  the download fixtures: added/removed URLs, faults, request counts
``POST /downloads``                 apply HOSTS.yml ``downloads:`` entries (a JSON list) now
``POST /downloads/restore``         serve the listed URLs (JSON list; null: every changed one) as by default
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


def _upgrade_control_plane(cluster: Any, body: Any) -> Any:
    """The control plane upgraded first, as before a node upgrade: ``kubeadm upgrade apply vX.Y.Z``
    on a control-plane node moves the API server one minor at a time, never back."""
    if not isinstance(body, dict) or set(body) != {"version"} or not isinstance(body["version"], str):
        raise ConfigError('POST /cluster takes {"version": "X.Y.Z"}')
    new = body["version"].lstrip("v")
    parts = new.split(".")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        raise ConfigError(f"POST /cluster: version must be X.Y.Z, got {body['version']!r}")
    with cluster.lock:
        old = [int(p) for p in cluster.version.split(".")]
        target = [int(p) for p in parts]
        if target <= old:
            raise ConfigError(f"POST /cluster: {new} is not newer than the control plane's v{cluster.version}")
        if target[:2] > [old[0], old[1] + 1]:
            raise ConfigError(
                f"POST /cluster: {new} skips a minor from v{cluster.version}; the control plane is upgraded "
                "one minor at a time"
            )
        cluster.version = new
    log.info("cluster: control plane upgraded to v%s", new)
    return _cluster_dump(cluster)


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
        if method == "POST" and parts == ["cluster"]:
            if sim.cluster is None:
                return 404, {"error": "no simulated cluster is configured"}
            return 200, _upgrade_control_plane(sim.cluster, self._json_body())
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
        if not _serve_downloads(self, "GET"):
            self._handle("GET")

    def do_HEAD(self) -> None:
        if not _serve_downloads(self, "HEAD"):
            self._reply(405, {"error": f"HEAD is only served under /mirror/, not {self.path}"})

    def do_POST(self) -> None:
        if not _serve_downloads(self, "POST"):
            self._handle("POST")


# --------------------------------------------------------------------------------------------
# The simulated internet (contract B): its mirror and its changes


def _serve_downloads(handler: _Handler, method: str) -> bool:
    """Answer ``/mirror/...`` and ``/downloads...``; False for every other path (the JSON routes)."""
    path = handler.path.split("?", 1)[0]
    downloads = handler.server.sim.downloads
    if path.startswith("/mirror/") and method in ("GET", "HEAD"):
        _mirror_reply(handler, downloads, method, path)
        return True
    if path.rstrip("/") not in ("/downloads", "/downloads/restore"):
        return False
    if downloads is None:
        handler._reply(404, {"error": "the simulator runs without download fixtures"})
        return True
    try:
        if method == "GET" and path.rstrip("/") == "/downloads":
            handler._reply(200, downloads.state())
        elif method == "POST" and path.rstrip("/") == "/downloads":
            from tests.simulator.config import _validate_downloads

            downloads.configure(_validate_downloads(handler._json_body()))
            handler._reply(200, downloads.state())
        elif method == "POST":
            urls = handler._json_body()
            if urls is not None and not (isinstance(urls, list) and all(isinstance(u, str) for u in urls)):
                raise ConfigError("POST /downloads/restore takes a JSON list of URLs, or null for all")
            state = downloads.state()
            changed = {*state["added"], *state["removed"], *state["faults"], *state["truncated"]}
            for url in changed if urls is None else urls:
                downloads.restore(url)
            handler._reply(200, downloads.state())
        else:
            handler._reply(405, {"error": f"{method} {path} is not served"})
    except ConfigError as exc:
        handler._reply(400, {"error": str(exc)})
    except KeyError as exc:
        handler._reply(400, {"error": f"downloads: {exc.args[0]}"})
    return True


def _mirror_reply(handler: _Handler, downloads: Any, method: str, path: str) -> None:
    """The web server's answer for the URL behind a mirror path, raw bytes (a truncated body announces
    its full length and the connection closes early, as a broken download looks to a client)."""
    from tests.simulator.downloads import DownloadError, original_url

    parts = path[len("/mirror/") :].split("/", 2)
    if downloads is None or len(parts) < 3 or parts[0] not in ("http", "https") or not parts[1]:
        handler._reply(404, {"error": f"no such mirror URL: {path} (use /mirror/<http|https>/<host>/<path>)"})
        return
    url = original_url(f"{handler.server.sim.control_url}{path}")
    try:
        answer = downloads.head(url) if method == "HEAD" else downloads.response(url)
    except DownloadError as exc:
        body = f"{exc.status} {exc.reason}\n".encode()
        handler.send_response(exc.status, exc.reason)
        handler.send_header("Content-Type", "text/plain")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        if method == "GET":
            handler.wfile.write(body)
        return
    handler.send_response(200)
    handler.send_header("Content-Type", "application/octet-stream")
    handler.send_header("Content-Length", str(answer.content_length))
    handler.send_header("Last-Modified", answer.last_modified)
    if method == "GET" and answer.truncated:
        handler.send_header("Connection", "close")
        handler.close_connection = True
    handler.end_headers()
    if method == "GET":
        handler.wfile.write(answer.body)


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
