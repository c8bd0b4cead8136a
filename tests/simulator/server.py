"""The simulator process: one WinRM listener per host on 127.0.0.1, the reboot cycle, and the
in-process Python API (``Simulator``).

Each host has its own port, its own ``WindowsHost`` state (guarded by ``host.lock``), its own
WinRS shells and faults. HTTP/1.1 keep-alive is honoured (NTLM needs it: the security context
belongs to the TCP connection). HTTPS uses a self-signed certificate generated per host at
start-up.

Reboots (``shutdown.exe /r`` from win_reboot):

* ``instant``: the reboot is applied at once (``host.reboot()``: pending features finish, boot
  time and count move, auto services restart); connections and shells survive, so a play only
  pays for the client's own polling.
* ``realistic``: after the ``/t`` delay the listener closes (connections dropped, new ones
  refused), every shell is forgotten, the host stays down ``reboot_seconds`` (or the
  ``reboot_seconds`` fault), then ``host.reboot()`` runs and the listener comes back on the
  same port.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import hashlib
import http.server
import importlib
import ipaddress
import itertools
import json
import logging
import os
import shutil
import socket
import ssl
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.simulator.auth import (
    ENCRYPTED_CONTENT_TYPE,
    AuthError,
    Credentials,
    NtlmConnection,
    check_basic,
    write_ntlm_user_file,
)
from tests.simulator.config import (
    ALLOWED_BIND,
    ConfigError,
    HostConfig,
    SimConfig,
    build_inventory,
    check_bind,
    load_config,
    parse_config,
    write_inventory,
)
from tests.simulator.decoder import CollectionIndex
from tests.simulator.dispatch import Dispatcher, ExecContext, ModuleRunner
from tests.simulator.faults import FaultInjector
from tests.simulator.host import SimulatorError, WindowsHost
from tests.simulator.scripts import LOGON_UI_KEY, ScriptHandler, ScriptRegistry, builtin_registry
from tests.simulator.wsman import Command, Shell, WinRSService, WSManFault, fault_envelope, parse_request

__all__ = ["HostRuntime", "RebootController", "Simulator"]

log = logging.getLogger("tests.simulator")

SOAP_CONTENT_TYPE = "application/soap+xml;charset=UTF-8"
WSMAN_PATH = "/wsman"


# --------------------------------------------------------------------------------------------
# TLS


@dataclasses.dataclass(frozen=True)
class TlsMaterial:
    cert_file: Path
    key_file: Path
    der: bytes
    thumbprint: str  # SHA-1, upper-case hex, as Windows shows it
    not_after: datetime.datetime

    def channel_bindings(self) -> bytes:
        """RFC 5929 tls-server-end-point: the hash of the certificate (SHA-256 here, as the
        certificate is signed with SHA-256)."""
        return b"tls-server-end-point:" + hashlib.sha256(self.der).digest()

    def context(self) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.cert_file, self.key_file)
        return ctx


def make_certificate(hostname: str, directory: Path) -> TlsMaterial:
    """A self-signed certificate for the HTTPS listener, as ``New-SelfSignedCertificate`` +
    ``winrm quickconfig -transport:https`` would give (CN = host name)."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName(hostname), x509.DNSName("localhost"), x509.IPAddress(ipaddress.IPv4Address(ALLOWED_BIND))]
            ),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_file = directory / f"{hostname}.crt"
    key_file = directory / f"{hostname}.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
    der = cert.public_bytes(serialization.Encoding.DER)
    return TlsMaterial(
        cert_file=cert_file,
        key_file=key_file,
        der=der,
        thumbprint=hashlib.sha1(der).hexdigest().upper(),  # noqa: S324 - Windows' certificate thumbprint
        not_after=cert.not_valid_after_utc,
    )


# --------------------------------------------------------------------------------------------
# HTTP


class _HostHTTPServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, runtime: HostRuntime, port: int, tls: ssl.SSLContext | None) -> None:
        self.runtime = runtime
        self.tls = tls
        self.connections: set[socket.socket] = set()
        self.conn_lock = threading.Lock()
        super().__init__((ALLOWED_BIND, port), WinRMHandler)

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, addr = super().get_request()
        if self.tls is not None:
            # The handshake runs in the connection's own thread, on its first read.
            sock = self.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, addr

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("connection from %s ended with an error", client_address, exc_info=True)

    def drop_connections(self) -> None:
        with self.conn_lock:
            conns = list(self.connections)
        for c in conns:
            with contextlib.suppress(OSError):
                c.shutdown(socket.SHUT_RDWR)


class WinRMHandler(http.server.BaseHTTPRequestHandler):
    """One keep-alive connection to a host's WinRM listener."""

    protocol_version = "HTTP/1.1"
    server: _HostHTTPServer
    # One segment per response: headers and body buffered together, Nagle off, or every
    # round trip waits for the client's delayed ACK (~40 ms).
    wbufsize = -1
    disable_nagle_algorithm = True
    timeout = 300  # idle keep-alive connections are closed after 5 minutes
    server_version = "Microsoft-HTTPAPI/2.0"
    sys_version = ""

    def setup(self) -> None:
        super().setup()
        self.ntlm: NtlmConnection | None = None
        with self.server.conn_lock:
            self.server.connections.add(self.connection)
        self.server.runtime.count("connections")

    def finish(self) -> None:
        with self.server.conn_lock:
            self.server.connections.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.server.runtime.name, format % args)

    # ---------------------------------------------------------------- responses

    def _send(self, status: int, body: bytes = b"", content_type: str | None = None, headers: Any = ()) -> None:
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        if content_type:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)
        self.server.runtime.count_bytes(out=len(body))

    def _unauthorized(self, challenge: str) -> None:
        self._send(401, headers=[("WWW-Authenticate", challenge)])

    def do_GET(self) -> None:
        self._send(405, headers=[("Allow", "POST")])

    def do_POST(self) -> None:
        rt = self.server.runtime
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        rt.count_bytes(inp=len(body))
        if self.path.split("?", 1)[0].rstrip("/").lower() != WSMAN_PATH:
            self._send(404)
            return
        user = self._authenticate()
        if user is None:
            return
        encrypted = "multipart/encrypted" in (self.headers.get("Content-Type") or "").lower()
        try:
            soap = self.ntlm.unwrap_message(body) if encrypted and self.ntlm else body
        except AuthError as exc:
            log.warning("%s: %s", rt.name, exc)
            self.ntlm = None
            self._unauthorized("Negotiate")
            return
        if rt.config.auth == "ntlm" and rt.config.scheme == "http" and soap and not encrypted:
            # AllowUnencrypted is false on Windows: NTLM over HTTP must use message encryption.
            log.warning("%s: unencrypted message over HTTP refused", rt.name)
            self._unauthorized("Negotiate")
            return
        if not soap:
            # pywinrm's empty POST that sets up the security context for encryption
            self._send(200)
            return
        self._winrm(soap, user, encrypted)

    def _authenticate(self) -> str | None:
        rt = self.server.runtime
        header = self.headers.get("Authorization")
        if rt.config.auth == "basic":
            if check_basic(header, rt.credentials):
                return rt.credentials.user
            self._unauthorized('Basic realm="WSMAN"')
            return None
        if header and header.split(" ", 1)[0].lower() in ("negotiate", "ntlm"):
            ctx = self.ntlm if self.ntlm is not None else NtlmConnection(rt.ntlm_user_file, rt.channel_bindings)
            try:
                challenge = ctx.step(header)
            except AuthError as exc:
                log.info("%s: %s", rt.name, exc)
                self.ntlm = None
                self._unauthorized("Negotiate")
                return None
            self.ntlm = ctx
            if challenge is not None:
                self._unauthorized(challenge)
                return None
            return ctx.user or rt.credentials.user
        if self.ntlm is not None and self.ntlm.complete:
            return self.ntlm.user or rt.credentials.user
        self._unauthorized("Negotiate")
        return None

    def _winrm(self, soap: bytes, user: str, encrypted: bool) -> None:
        rt = self.server.runtime
        rt.count("winrm_requests")
        planned = rt.faults.on_request()
        if planned.drop:
            log.info("%s: fault drop_connection: closing the connection without an answer", rt.name)
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        if planned.delay:
            time.sleep(planned.delay)
        message_id = ""
        try:
            req = parse_request(soap)
            message_id = req.message_id
            if planned.fault is not None:
                log.info("%s: fault wsman_fault: %s", rt.name, planned.fault.reason)
                raise planned.fault
            status, resp = 200, rt.winrs.handle(req, user=user, client_ip=self.client_address[0])
        except WSManFault as fault:
            status, resp = 500, fault_envelope(fault, message_id, rt.host.hostname)
        if rt.faults.take_drop_after_module():
            log.info("%s: fault drop_connection_after_module: the module ran, its answer is lost", rt.name)
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        if encrypted and self.ntlm is not None:
            self._send(status, self.ntlm.wrap_message(resp), ENCRYPTED_CONTENT_TYPE)
        else:
            self._send(status, resp, SOAP_CONTENT_TYPE)


# --------------------------------------------------------------------------------------------
# per-host runtime


class RebootController:
    """``shutdown.exe /r /t N`` and ``shutdown.exe /a`` for one host."""

    def __init__(self, runtime: HostRuntime) -> None:
        self.runtime = runtime
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None
        self.state = "up"  # up | scheduled | down
        self.history: list[dict[str, Any]] = []  # one entry per reboot, for tests and the state dump

    def _down_seconds(self) -> float | None:
        """None: reboot instantly."""
        injected = self.runtime.faults.reboot_seconds()
        if injected is not None:
            return injected
        return self.runtime.config.reboot_seconds if self.runtime.config.reboot == "realistic" else None

    def schedule(self, delay: int, message: str) -> tuple[int, str]:
        with self._lock:
            if self.state != "up":
                return 1190, "A system shutdown has already been scheduled.(1190)"
            down = self._down_seconds()
            log.info(
                "%s: shutdown /r /t %d (%r), %s",
                self.runtime.name,
                delay,
                message,
                "instant" if down is None else f"down {down}s",
            )
            if down is None:
                self.runtime.boot()
                self.history.append({"mode": "instant", "message": message, "booted_at": time.time()})
                return 0, ""
            self.state = "scheduled"
            self._timer = threading.Timer(delay, self._cycle, args=(down,))
            self._timer.daemon = True
            self._timer.start()
            return 0, ""

    def abort(self) -> tuple[int, str]:
        with self._lock:
            if self.state == "scheduled" and self._timer is not None:
                self._timer.cancel()
                self._timer = None
                self.state = "up"
                return 0, ""
            return 1116, "Unable to abort the system shutdown because no shutdown was in progress.(1116)"

    def _cycle(self, down_seconds: float) -> None:
        with self._lock:
            if self.state != "scheduled":
                return
            self.state = "down"
            self._timer = None
        entry: dict[str, Any] = {"mode": "realistic", "down_at": time.time()}
        entry["shells_dropped"] = self.runtime.go_down()
        time.sleep(down_seconds)
        self.runtime.boot()
        self.runtime.listen()
        entry["up_at"] = time.time()
        with self._lock:
            self.state = "up"
            self.history.append(entry)

    def cancel(self) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None


class HostRuntime:
    """Everything the transport keeps for one simulated host."""

    def __init__(self, sim: Simulator, config: HostConfig) -> None:
        self.sim = sim
        self.config = config
        self.name = config.name
        self.host = WindowsHost(
            config.name,
            os_version=config.os_version,
            edition=config.edition,
            installation_type=config.installation_type,
            seed=config.seed or None,
        )
        self.host.hostname = config.hostname
        self.host.downloads = sim.downloads
        self.host.cluster = sim.cluster
        # LogonUI recreates this volatile key at every boot (win_reboot's default test command).
        self.host.create_reg_key(LOGON_UI_KEY)
        self.host.boot_hooks.append(lambda h: h.create_reg_key(LOGON_UI_KEY))
        self.faults = FaultInjector(self.host)
        self.faults.configure(config.faults)
        self.credentials = Credentials(config.user, config.password, config.hostname)
        self.reboot = RebootController(self)
        self.tls: TlsMaterial | None = None
        self.ntlm_user_file = sim.workdir / f"{config.name}.ntlm"
        self.channel_bindings: bytes | None = None
        self.port = config.port
        self.winrs = WinRSService(config.hostname, self._execute)
        self._server: _HostHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._listen_lock = threading.Lock()
        self.up = False
        self.stopped = False  # set by stop(): a reboot in progress must not reopen the listener

    # ---------------------------------------------------------------- counters

    def count(self, key: str, n: int = 1) -> None:
        with self.host.lock:
            self.host.stats[key] = self.host.stats.get(key, 0) + n

    def count_bytes(self, inp: int = 0, out: int = 0) -> None:
        with self.host.lock:
            self.host.stats["bytes_in"] = self.host.stats.get("bytes_in", 0) + inp
            self.host.stats["bytes_out"] = self.host.stats.get("bytes_out", 0) + out

    # ---------------------------------------------------------------- lifecycle

    @property
    def url(self) -> str:
        return f"{self.config.scheme}://{ALLOWED_BIND}:{self.port}{WSMAN_PATH}"

    def prepare(self) -> None:
        if self.config.scheme == "https":
            self.tls = make_certificate(self.config.hostname, self.sim.workdir)
            self.channel_bindings = self.tls.channel_bindings()
            self.host.extra["winrm_https_certificate"] = {
                "thumbprint": self.tls.thumbprint,
                "expires": self.tls.not_after.strftime("%Y-%m-%d %H:%M:%S"),
            }
        if self.config.auth == "ntlm":
            write_ntlm_user_file(self.ntlm_user_file, self.credentials)
        if self.sim.with_executables:
            _install_executables(self.host)

    def listen(self) -> None:
        """Open (or re-open after a reboot) the listener on the host's port."""
        with self._listen_lock:
            if self._server is not None or self.stopped:
                return
            deadline = time.monotonic() + 5
            while True:
                try:
                    server = _HostHTTPServer(self, self.port, self.tls.context() if self.tls else None)
                    break
                except OSError as exc:
                    if self.port == 0 or time.monotonic() > deadline:
                        raise SimulatorError(
                            f"simulator: {self.name}: cannot listen on port {self.port}: {exc}"
                        ) from exc
                    time.sleep(0.1)
            self.port = server.server_address[1]
            self.winrs.endpoint = self.url
            self._server = server
            # a short poll interval keeps shutdown (reboots, stop) quick
            self._thread = threading.Thread(
                target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=f"winrm-{self.name}", daemon=True
            )
            self._thread.start()
            self.up = True
            log.info("%s: listening on %s (%s)", self.name, self.url, self.config.auth)

    def close_listener(self) -> None:
        with self._listen_lock:
            server, self._server = self._server, None
            if server is not None:
                server.shutdown()
                server.server_close()  # from here on connections are refused
                server.drop_connections()
            self.up = False

    def go_down(self) -> int:
        """The host shuts down: refuse connections, drop the open ones, forget every shell."""
        self.close_listener()
        n = self.winrs.invalidate_all()
        log.info("%s: down (%d shell(s) dropped)", self.name, n)
        return n

    def boot(self) -> None:
        with self.host.lock:
            self.host.reboot()
        log.info("%s: booted (boot count %d)", self.name, self.host.boot_count)

    def stop(self) -> None:
        self.stopped = True
        self.reboot.cancel()
        self.close_listener()

    # ---------------------------------------------------------------- execution

    def _execute(self, shell: Shell, cmd: Command) -> tuple[int, bytes, bytes]:
        ctx = ExecContext(host=self.host, faults=self.faults, reboot=self.reboot)
        res = self.sim.dispatcher.run(ctx, cmd.command, cmd.arguments, cmd.stdin_bytes)
        enc = shell.encoding
        return res.rc, res.stdout.encode(enc, errors="replace"), res.stderr.encode(enc, errors="replace")

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "url": self.url,
            "port": self.port,
            "scheme": self.config.scheme,
            "auth": self.config.auth,
            "reboot": self.config.reboot,
            "up": self.up,
            "reboot_state": self.reboot.state,
            "boot_count": self.host.boot_count,
            "shells": len(self.winrs.shells),
            "reboots": list(self.reboot.history),
        }


def _install_executables(host: WindowsHost) -> None:
    """Let the executables layer wire its service starters and boot hooks, when it exists."""
    try:
        mod = importlib.import_module("tests.simulator.executables")
    except ModuleNotFoundError as exc:
        if exc.name != "tests.simulator.executables":
            raise
        log.warning("tests.simulator.executables is not available: win_command binaries are not emulated")
        return
    install = getattr(mod, "install", None)
    if install is not None:
        install(host)


def _make_cluster(spec: dict[str, Any]) -> Any:
    """The simulated cluster hosts can join, from HOSTS.yml ``cluster:`` (defaults otherwise)."""
    kwargs = {k: v for k, v in spec.items() if k not in ("tokens", "pods")}
    if "aliases" in kwargs:
        kwargs["aliases"] = tuple(kwargs["aliases"])
    try:
        from tests.simulator.cluster import Cluster
    except ModuleNotFoundError as exc:
        if exc.name != "tests.simulator.cluster":
            raise
        if spec:
            raise ConfigError("cluster: configured, but tests.simulator.cluster is not available") from exc
        log.warning("tests.simulator.cluster is not available")
        return None
    cluster = Cluster(**kwargs)
    for token in spec.get("tokens", []):
        cluster.create_token(ttl=None, token=token, description="from HOSTS.yml")
    return cluster


def _configure_downloads(downloads: Any, entries: list[dict[str, Any]]) -> None:
    """Apply HOSTS.yml ``downloads:`` (already validated) to the fixtures every host shares."""
    if downloads is None:
        raise ConfigError("downloads: configured, but the download fixtures are not available")
    try:
        downloads.configure(entries)
    except KeyError as exc:
        raise ConfigError(f"downloads: {exc.args[0]}") from None


def _shared(module: str, attr: str) -> Any:
    """The objects all hosts share (download fixtures, the cluster), when their layer exists."""
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name != module:
            raise
        log.warning("%s is not available", module)
        return None
    return getattr(mod, attr)()


# --------------------------------------------------------------------------------------------
# trace


class TraceWriter:
    """``--trace-dir``: one JSON file per WinRS command, decoded (script bodies as digests)."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self._seq = itertools.count(1)
        self._lock = threading.Lock()

    def __call__(self, record: dict[str, Any]) -> None:
        with self._lock:
            seq = next(self._seq)
        name = record.get("module") or record.get("helper") or record.get("handler") or record.get("kind") or "x"
        safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in str(name))
        path = self.dir / f"{seq:05d}-{record.get('host')}-{record.get('kind')}-{safe}.json"
        path.write_text(json.dumps({"seq": seq, **record}, indent=1, default=str), encoding="utf-8")


# --------------------------------------------------------------------------------------------
# the simulator


class Simulator:
    """All simulated hosts of one HOSTS.yml, in this process.

    ``Simulator(config).start()`` (or ``with Simulator(config) as sim:``) opens one listener per
    host and the control API; ``sim.host(name)`` is the ``WindowsHost`` to inspect or seed.
    ``module_runner`` replaces the module emulations (tests); ``scripts`` the plain-script
    registry (default: the built-in snippets; ``register_script`` adds to it);
    ``with_executables=False`` leaves the executables/downloads/cluster layer out.
    """

    def __init__(
        self,
        config: SimConfig | dict[str, Any] | str | os.PathLike[str],
        *,
        module_runner: ModuleRunner | None = None,
        scripts: ScriptRegistry | None = None,
        trace_dir: str | os.PathLike[str] | None = None,
        collections_paths: list[str] | None = None,
        with_executables: bool = True,
    ) -> None:
        if isinstance(config, SimConfig):
            self.config = config
        elif isinstance(config, dict):
            self.config = parse_config(config, "<dict>")
        else:
            self.config = load_config(config)
        check_bind(self.config.bind)
        self.workdir = Path(tempfile.mkdtemp(prefix="winkube-sim-"))
        # The executables layer (binaries, download fixtures, cluster) is optional so the
        # transport can be tested on its own; by default it is wired in when present.
        self.with_executables = with_executables
        self.downloads = _shared("tests.simulator.downloads", "DownloadFixtures") if with_executables else None
        if self.config.downloads:
            _configure_downloads(self.downloads, self.config.downloads)
        self.cluster = _make_cluster(self.config.cluster) if with_executables else None
        # HOSTS.yml `cluster:` present: the cluster's Kubernetes API over HTTPS (started in start()).
        self.api: Any = None
        trace = trace_dir or self.config.trace_dir
        self.tracer = TraceWriter(trace) if trace else None
        self.scripts = scripts if scripts is not None else builtin_registry()
        self.index = CollectionIndex.default([*(collections_paths or []), *self.config.collections_paths])
        self.dispatcher = Dispatcher(
            index=self.index, scripts=self.scripts, module_runner=module_runner, trace=self.tracer
        )
        self.hosts: dict[str, HostRuntime] = {h.name: HostRuntime(self, h) for h in self.config.hosts}
        self._control: Any = None
        self.kubeconfig_path: Path | None = None
        self.started = False

    # ---------------------------------------------------------------- lifecycle

    def start(self) -> Simulator:
        from tests.simulator.control import ControlServer

        try:
            self._start_api()
            for rt in self.hosts.values():
                rt.prepare()
                rt.listen()
            self._control = ControlServer(self, self.config.control_port)
            self._control.start()
        except BaseException:
            self.stop()
            raise
        self.started = True
        return self

    def _start_api(self) -> None:
        """The API first: without a configured endpoint the cluster's endpoint is its port."""
        if not self.config.cluster_enabled:
            return
        if self.cluster is None:
            raise ConfigError("cluster: configured, but the simulator runs without its executables layer")
        from tests.simulator.apiserver import ApiServer

        spec = self.config.cluster
        self.api = ApiServer(self.cluster, self.workdir, endpoint_given="endpoint" in spec, pods=spec.get("pods"))
        self.api.start()

    def stop(self) -> None:
        if self.api is not None:
            self.api.stop()
            self.api = None
        for rt in self.hosts.values():
            rt.stop()
        if self._control is not None:
            self._control.stop()
            self._control = None
        shutil.rmtree(self.workdir, ignore_errors=True)
        self.started = False

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---------------------------------------------------------------- API

    @property
    def control_url(self) -> str:
        if self._control is None:
            raise SimulatorError("simulator: not started")
        return self._control.url

    def runtime(self, name: str) -> HostRuntime:
        try:
            return self.hosts[name]
        except KeyError:
            raise SimulatorError(f"simulator: unknown host {name!r} (hosts: {', '.join(self.hosts)})") from None

    def host(self, name: str) -> WindowsHost:
        return self.runtime(name).host

    def state(self, name: str) -> dict[str, Any]:
        rt = self.runtime(name)
        return {**rt.host.state(), "boot_time": rt.host.boot_time, "transport": rt.describe()}

    def stats(self, name: str) -> dict[str, Any]:
        host = self.host(name)
        with host.lock:
            return json.loads(json.dumps(host.stats))

    def reset_stats(self, name: str) -> dict[str, Any]:
        host = self.host(name)
        with host.lock:
            host.reset_stats()
        return self.stats(name)

    def set_faults(self, name: str, faults: dict[str, Any]) -> dict[str, Any]:
        try:
            return self.runtime(name).faults.configure(faults)
        except ValueError as exc:
            raise ConfigError(f"{name}.faults: {exc}") from None

    def faults(self, name: str) -> dict[str, Any]:
        return self.runtime(name).faults.current()

    def register_script(self, name: str, pattern: str, handler: ScriptHandler, *, first: bool = True) -> None:
        self.scripts.register(name, pattern, handler, first=first)

    def endpoints(self) -> list[dict[str, Any]]:
        return [
            {
                "name": rt.name,
                "port": rt.port,
                "scheme": rt.config.scheme,
                "auth": rt.config.auth,
                "user": rt.config.user,
                "password": rt.config.password,
                "url": rt.url,
                "vars": rt.config.vars,
            }
            for rt in self.hosts.values()
        ]

    def _require_api(self) -> Any:
        if self.api is None:
            raise SimulatorError("simulator: no Kubernetes API (HOSTS.yml has no cluster:, or it is not started)")
        return self.api

    def kubeconfig(self) -> str:
        """The admin kubeconfig of the simulated cluster (client certificate of system:masters)."""
        return self._require_api().kubeconfig()

    def write_kubeconfig(self, path: str | os.PathLike[str]) -> Path:
        from tests.simulator.apiserver import write_private

        return write_private(path, self.kubeconfig())

    def cluster_vars(self, kubeconfig_path: str | os.PathLike[str]) -> dict[str, Any]:
        """The group variables a cluster gives the inventory: the controller's kubeconfig, a join
        command with a fresh 24 h token (as a role registers ``kubeadm token create
        --print-join-command``: the trailing newline stripped, the blank kept), and the mirror of
        dl.k8s.io on the control API."""
        self._require_api()
        return {
            "winkube_kubeconfig": str(Path(kubeconfig_path).resolve()),
            "join_command": self.cluster.join_command().rstrip("\r\n"),
            "winkube_kubernetes_download_base_url": f"{self.control_url}/mirror/https/dl.k8s.io",
        }

    def inventory(self, kubeconfig_path: str | os.PathLike[str] | None = None) -> dict[str, Any]:
        cluster_vars = self.cluster_vars(kubeconfig_path) if kubeconfig_path is not None else None
        return build_inventory(self.endpoints(), self.control_url, self.config.vars, cluster_vars)

    def write_inventory(
        self, path: str | os.PathLike[str], kubeconfig_path: str | os.PathLike[str] | None = None
    ) -> Path:
        """Write the inventory (0600); with a cluster also its kubeconfig (default: beside it as
        ``PATH.kubeconfig``), named by the inventory's ``winkube_kubeconfig``."""
        if self.api is not None:
            kubeconfig_path = kubeconfig_path or f"{path}.kubeconfig"
            self.write_kubeconfig(kubeconfig_path)
        elif kubeconfig_path is not None:
            raise SimulatorError("simulator: a kubeconfig needs a cluster: in HOSTS.yml")
        self.kubeconfig_path = Path(kubeconfig_path).resolve() if kubeconfig_path else None
        return write_inventory(path, self.inventory(kubeconfig_path))

    def wait_until_up(self, name: str, timeout: float = 30.0) -> None:
        rt = self.runtime(name)
        deadline = time.monotonic() + timeout
        while not (rt.up and rt.reboot.state == "up"):
            if time.monotonic() > deadline:
                raise SimulatorError(f"simulator: {name} did not come up within {timeout}s")
            time.sleep(0.05)
