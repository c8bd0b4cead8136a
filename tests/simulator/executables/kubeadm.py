r"""``kubeadm.exe`` (stamp ``kubeadm``): ``version``, ``join`` against the simulated cluster
(``host.cluster``) and ``reset``.

``join``: flag validation, preflight checks (files and dirs kubeadm must not find, port 10250,
the CRI endpoint, ``kubelet --version`` through ``Path`` and kubeadm's minimum kubelet), discovery
(endpoint reachable, bootstrap token known and not expired, its secret, the CA pin), the control
plane version kubeadm supports, a Ready node of the same name; then it writes what kubeadm writes
on Windows (GT §5.2/5.3: ``C:\etc\kubernetes\bootstrap-kubelet.conf``, ``pki\ca.crt``,
``C:\var\lib\kubelet\config.yaml`` and ``kubeadm-flags.env``), restarts the ``kubelet`` service
through the SCM and waits for its TLS bootstrap (``C:\etc\kubernetes\kubelet.conf``). Texts follow
GT §5.4/5.5 (Go ``%q`` doubles the backslashes of Windows paths). The kubelet emulation
(``kube.py``) registers the Node.

``reset``: prompt unless ``-f``, stop the kubelet, delete what GT §5.6 lists. The Node object stays
in the cluster (a worker's reset does not delete it; ``kubectl delete node`` on the control plane
does) and turns NotReady as its kubelet is gone.

``upgrade node`` (a worker's step of the node upgrade): ``kubeadm_upgrade.py``.

``token create`` needs ``admin.conf`` and runs on the control plane: not emulated here.
"""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

from tests.simulator.contract import ExecResult
from tests.simulator.executables import knowledge
from tests.simulator.executables.common import (
    FlagError,
    Invocation,
    daemon_on,
    fail,
    go_quote,
    klog_line,
    normalize_pipe,
    not_emulated,
    ok,
    parse_flags,
)
from tests.simulator.executables.kube import go_struct, json_info, version_info
from tests.simulator.executables.kubeadm_upgrade import run_upgrade
from tests.simulator.executables.stamp import Stamp, parse_stamp, version_tuple
from tests.simulator.host import DiskFullError, WindowsHost

TRACE_HINT = "To see the stack trace of this error execute with --v=5 or higher\n"
ETC = r"C:\etc\kubernetes"
KUBELET_DIR = r"C:\var\lib\kubelet"
KUBELET_CONF = ETC + r"\kubelet.conf"
BOOTSTRAP_CONF = ETC + r"\bootstrap-kubelet.conf"
CA_CRT = ETC + r"\pki\ca.crt"
MANIFESTS = ETC + r"\manifests"
CONTAINERD_SOCKET = "npipe:////./pipe/containerd-containerd"
CRI_DOCKERD_SOCKET = "npipe:////./pipe/cri-dockerd"
TOKEN_RE = re.compile(r"^([a-z0-9]{6})\.([a-z0-9]{16})$")

JOIN_FLAGS = {
    "token": "str",
    "discovery-token": "str",
    "tls-bootstrap-token": "str",
    "discovery-token-ca-cert-hash": "list",
    "discovery-token-unsafe-skip-ca-verification": "bool",
    "cri-socket": "str",
    "ignore-preflight-errors": "list",
    "node-name": "str",
    "v": "str",
}
RESET_FLAGS = {
    "force": "bool",
    "cri-socket": "str",
    "ignore-preflight-errors": "list",
    "v": "str",
    "cleanup-tmp-dir": "bool",
}


def _win(path: str) -> str:
    r"""How kubeadm prints its Linux-style constants on Windows: ``\etc\kubernetes\kubelet.conf``."""
    return path[2:]


def _error(msg: str, stdout: str = "") -> ExecResult:
    return fail(1, msg.rstrip("\n") + "\n" + TRACE_HINT, stdout)


def run(inv: Invocation) -> ExecResult:
    assert inv.stamp is not None
    if not inv.args:
        return not_emulated(inv)
    cmd, rest = inv.args[0], inv.args[1:]
    if cmd == "version":
        return _version(inv, rest)
    if cmd == "join":
        return _join(inv, rest)
    if cmd == "reset":
        return _reset(inv, rest)
    if cmd == "upgrade":
        return run_upgrade(inv, rest)
    return not_emulated(inv)


def _version(inv: Invocation, args: list[str]) -> ExecResult:
    assert inv.stamp is not None
    output = ""
    if args in (["-o", "short"], ["--output", "short"], ["-o=short"], ["--output=short"]):
        output = "short"
    elif args in (["-o", "json"], ["--output=json"], ["-o=json"]):
        output = "json"
    elif args:
        return not_emulated(inv)
    info = version_info(inv.stamp)
    if output == "short":
        return ok(f"v{inv.stamp.version}\n")
    if output == "json":
        return ok(json.dumps({"clientVersion": json_info(info)}, indent=2) + "\n")
    return ok(f"kubeadm version: {go_struct(info)}\n")


# ------------------------------------------------------------------ join


def _parse(inv: Invocation, args: list[str], spec: dict[str, str]) -> tuple[object, ExecResult | None]:
    try:
        return parse_flags(args, spec), None
    except FlagError as exc:
        text = str(exc)
        if text.startswith("flag needs"):
            return None, _error(text)
        known = {"config", "control-plane", "certificate-key", "discovery-file", "skip-phases", "dry-run", "patches"}
        if text.lstrip("-").split("=", 1)[0] in known:
            return None, not_emulated(inv)
        return None, _error(f"unknown flag: {text}")


def _cri_socket(host: WindowsHost, given: str | None) -> tuple[str, str, str | None]:
    """(socket, warning line, error) — kubeadm's CRI endpoint detection on Windows."""
    if given:
        if "://" not in given:
            warning = klog_line(
                "W",
                "initconfiguration.go:120",
                "Usage of CRI endpoints without URL scheme is deprecated and can cause kubelet errors in the future. "
                f'Automatically prepending scheme "npipe" to the "criSocket" with value "{given}". '
                "Please update your configuration!",
            )
            return "npipe://" + given, warning, None
        return given, "", None
    found = [s for s in (CONTAINERD_SOCKET, CRI_DOCKERD_SOCKET) if daemon_on(host, s) is not None]
    if len(found) > 1:
        return (
            "",
            "",
            (
                "found multiple CRI endpoints on the host. Please define which one do you wish to use by setting the "
                f"'criSocket' field in the kubeadm configuration file: {', '.join(found)}"
            ),
        )
    return (found[0] if found else CONTAINERD_SOCKET), "", None


def _kubelet_on_path(host: WindowsHost) -> tuple[Stamp | None, str]:
    from tests.simulator.executables import resolve

    path = resolve(host, "kubelet", None)
    if path is None:
        return None, 'exec: "kubelet": executable file not found in %PATH%'
    entry = host.get(path)
    stamp = parse_stamp(entry.data) if entry else None
    if stamp is None or stamp.name != "kubelet":
        return None, f"cannot execute 'kubelet --version': {path} is not a kubelet binary"
    return stamp, ""


def _preflight(inv: Invocation, cri: str, ignore: set[str], kubeadm: Stamp) -> tuple[list[str], str | None]:
    """Run the join node checks; (warning lines, fatal error text or None)."""
    host = inv.host
    checks: list[tuple[str, str, bool]] = []  # (name, message, is_error)
    for p in (KUBELET_CONF, BOOTSTRAP_CONF, CA_CRT):
        if host.exists(p):
            checks.append((f"FileAvailable-{_win(p)}", f"{_win(p)} already exists", True))
    if host.isdir(MANIFESTS) and host.listdir(MANIFESTS):
        checks.append((f"DirAvailable-{_win(MANIFESTS)}", f"{_win(MANIFESTS)} is not empty", True))
    kubelet_svc = host.service("kubelet")
    if kubelet_svc is not None and kubelet_svc.state == "running":
        checks.append(("Port-10250", "Port 10250 is in use", True))
    if daemon_on(host, cri) is None:
        pipe = normalize_pipe(cri).replace("\\", "\\\\")
        checks.append(
            (
                "CRI",
                f'container runtime is not running: validate CRI v1 runtime API for endpoint "{cri}": rpc error: '
                f'code = Unavailable desc = connection error: desc = "transport: Error while dialing: open {pipe}: '
                'The system cannot find the file specified."',
                True,
            )
        )
    kubelet, why = _kubelet_on_path(host)
    if kubelet is None:
        checks.append(
            ("KubeletVersion", f"couldn't get kubelet version: cannot execute 'kubelet --version': {why}", True)
        )
    else:
        # kubeadm's MinimumKubeletVersion: three minors below its own (since 1.28).
        minimum = (kubeadm.major, kubeadm.minor - 3, 0)
        if version_tuple(kubelet.version) < minimum:
            checks.append(
                (
                    "KubeletVersion",
                    f'Kubelet version "{kubelet.version}" is lower than kubeadm can support. Please upgrade kubelet',
                    True,
                )
            )
    if kubelet_svc is None:
        checks.append(("Service-Kubelet", "kubelet service does not exist", False))
    elif kubelet_svc.start_mode not in ("auto", "delayed"):
        checks.append(
            (
                "Service-Kubelet",
                "kubelet service is not enabled, please run 'Set-Service 'kubelet' -StartupType Automatic'",
                False,
            )
        )
    warnings, errors = [], []
    for name, msg, is_error in checks:
        if is_error and not ({"all", name.lower()} & ignore):
            errors.append(f"\t[ERROR {name}]: {msg}")
        else:
            warnings.append(f"\t[WARNING {name}]: {msg}")
    if errors:
        return warnings, (
            "error execution phase preflight: [preflight] Some fatal errors occurred:\n"
            + "\n".join(errors)
            + "\n[preflight] If you know what you are doing, you can make a check non-fatal with "
            "`--ignore-preflight-errors=...`"
        )
    return warnings, None


def _pin_error(hashes: list[str]) -> str | None:
    for h in hashes:
        fmt, sep, value = h.partition(":")
        if not sep:
            return 'invalid hash, expected "format:hex-value". Known format(s) are: sha256'
        if fmt != "sha256":
            return f'unknown hash format "{fmt}". Known format(s) are: sha256'
        try:
            raw = bytes.fromhex(value)
        except ValueError:
            return f"invalid hash {go_quote(h)}: encoding/hex: invalid byte"
        if len(raw) != 32:
            return f"invalid hash {go_quote(h)}, expected a 32 byte SHA-256 hash, found {len(raw)} bytes"
    return None


def _flags_env(kubeadm: Stamp, cri: str, node_name: str, hostname: str) -> str:
    """kubeadm-flags.env: ``KUBELET_KUBEADM_ARGS=%q``, sorted ``--name=value`` (GT §5.3)."""
    args = {"container-runtime-endpoint": cri}
    if node_name != hostname:
        args["hostname-override"] = node_name
    if kubeadm.minor < 35:  # kubeadm stopped writing it in 1.35 (kubernetes PR #133778)
        tag = knowledge.kubeadm_default_pause_tag(kubeadm.version)
        args["pod-infra-container-image"] = f"registry.k8s.io/pause:{tag}"
    line = " ".join(f"--{k}={v}" for k, v in sorted(args.items()))
    return f"KUBELET_KUBEADM_ARGS={go_quote(line)}\n"


def _bootstrap_kubeconfig(cluster: object, token: str) -> str:
    return f"""apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: {cluster.ca_data_b64()}
    server: {cluster.server_url()}
  name: {cluster.cluster_name}
contexts:
- context:
    cluster: {cluster.cluster_name}
    user: tls-bootstrap-token-user
  name: tls-bootstrap-token-user@{cluster.cluster_name}
current-context: tls-bootstrap-token-user@{cluster.cluster_name}
kind: Config
preferences: {{}}
users:
- name: tls-bootstrap-token-user
  user:
    token: {token}
"""


def _join(inv: Invocation, args: list[str]) -> ExecResult:
    host, kubeadm = inv.host, inv.stamp
    assert kubeadm is not None
    parsed, refused = _parse(inv, args, JOIN_FLAGS)
    if refused is not None:
        return refused
    f = parsed  # type: ignore[assignment]
    if len(f.positional) > 1:
        return _error(f'unknown command "{f.positional[1]}" for "kubeadm join"')
    token = str(f.get("discovery-token") or f.get("token") or "")
    if not f.positional or not token:
        return _error('discovery: Invalid value: "": bootstrapToken or file must be set')
    endpoint = f.positional[0]
    if not TOKEN_RE.match(token):
        return _error(
            f"couldn't validate the identity of the API Server: could not construct token string for token: {token}: "
            f'the bootstrap token "{token}" was not of the form "^([a-z0-9]{{6}})\\\\.([a-z0-9]{{16}})$"'
        )
    hashes = f.get("discovery-token-ca-cert-hash", [])
    if not hashes and not f.get("discovery-token-unsafe-skip-ca-verification"):
        return _error(
            'discovery.bootstrapToken: Invalid value: "": using token-based discovery without caCertHashes can be '
            "unsafe. Set unsafeSkipCAVerification as true in your kubeadm config file or pass "
            "--discovery-token-unsafe-skip-ca-verification flag to continue"
        )
    bad = _pin_error(hashes)
    if bad:
        return _error(f"invalid discovery token CA certificate hash: {bad}")
    cri, cri_warning, cri_error = _cri_socket(host, f.get("cri-socket"))
    if cri_error:
        return _error(cri_error)
    ignore = {s.lower() for s in f.get("ignore-preflight-errors", [])}
    out = ["[preflight] Running pre-flight checks"]
    warnings, fatal = _preflight(inv, cri, ignore, kubeadm)
    out += warnings

    def stdout() -> str:
        return "\n".join(out) + "\n"  # the text printed so far, at every exit

    if fatal:
        return _error(cri_warning + fatal, stdout())
    cluster = host.cluster
    prefix = "error execution phase preflight: couldn't validate the identity of the API Server: "
    url = f"https://{endpoint}/api/v1/namespaces/kube-public/configmaps/cluster-info?timeout=10s"
    if cluster is None or not cluster.accepts_endpoint(endpoint):
        return _error(
            prefix + f'failed to request the cluster-info ConfigMap: Get "{url}": dial tcp {endpoint}: connectex: '
            "No connection could be made because the target machine actively refused it.",
            stdout(),
        )
    status = cluster.token_status(token)
    if status == "unknown":
        tid = token.split(".", 1)[0]
        return _error(
            prefix + f'could not find a JWS signature in the cluster-info ConfigMap for token ID "{tid}"', stdout()
        )
    if status == "bad_secret":
        return _error(
            prefix + "failed to verify JWS signature of received cluster info object, can't trust this API Server",
            stdout(),
        )
    if hashes and cluster.ca_cert_hash.lower() not in [h.lower() for h in hashes]:
        pinned = f'none of the public keys "{cluster.ca_cert_hash}" are pinned'
        return _error(prefix + f"cluster CA found in cluster-info ConfigMap is invalid: {pinned}", stdout())
    out += [
        "[preflight] Reading configuration from the cluster...",
        "[preflight] FYI: You can look at this config file with 'kubectl -n kube-system get cm kubeadm-config -o yaml'",
    ]
    cp = version_tuple(cluster.version)
    if cp[:2] < (kubeadm.major, kubeadm.minor - 1):
        return _error(
            "error execution phase preflight: unable to fetch the kubeadm-config ConfigMap: this version of kubeadm "
            "only supports deploying clusters with the control plane version >= "
            f"{kubeadm.major}.{kubeadm.minor - 1}.0. "
            f"Current version: {cluster.git_version}",
            stdout(),
        )
    node_name = str(f.get("node-name") or host.hostname).lower()
    existing = cluster.node(node_name)
    if existing is not None and existing.ready:
        return _error(
            f'error execution phase kubelet-start: a Node with name "{node_name}" and status "Ready" already exists in '
            "the cluster. You must delete the existing Node or change the name of this new joining Node",
            stdout(),
        )
    return _kubelet_start(_Join(inv, cluster, token, cri, node_name, out, cri_warning))


@dataclasses.dataclass
class _Join:
    """A join past discovery: what the kubelet-start phase works with."""

    inv: Invocation
    cluster: Any
    token: str
    cri: str
    node_name: str
    out: list[str]
    warn: str  # stderr lines printed before the result (e.g. the CRI scheme warning)

    def stdout(self) -> str:
        return "\n".join(self.out) + "\n"

    def error(self, msg: str) -> ExecResult:
        return _error(self.warn + msg, self.stdout())


KUBELET_HEALTHZ_FAILURE = (
    "error execution phase kubelet-start: The HTTP call equal to 'curl -sSL http://127.0.0.1:10248/healthz' "
    'returned error: Get "http://127.0.0.1:10248/healthz": dial tcp 127.0.0.1:10248: connectex: '
    "No connection could be made because the target machine actively refused it."
)


def _write_kubelet_files(j: _Join) -> ExecResult | None:
    host, kubeadm = j.inv.host, j.inv.stamp
    assert kubeadm is not None
    try:
        host.write_file(BOOTSTRAP_CONF, _bootstrap_kubeconfig(j.cluster, j.token).encode())
        host.write_file(CA_CRT, j.cluster.ca_cert_pem)
        kubelet = host.service("kubelet")
        if kubelet is not None and kubelet.state == "running":
            host.stop_service(kubelet.name)  # TryStopKubelet: no race while the config is rewritten
        host.write_file(KUBELET_DIR + r"\config.yaml", j.cluster.kubelet_config_yaml().encode())
        flags_env = _flags_env(kubeadm, j.cri, j.node_name, host.hostname.lower())
        host.write_file(KUBELET_DIR + r"\kubeadm-flags.env", flags_env.encode())
    except DiskFullError:
        host.remove(BOOTSTRAP_CONF)
        return j.error("error execution phase kubelet-start: write: There is not enough space on the disk.")
    config_yaml = go_quote(_win(KUBELET_DIR + r"\config.yaml"))
    env_file = go_quote(_win(KUBELET_DIR + r"\kubeadm-flags.env"))
    j.out += [
        f"[kubelet-start] Writing kubelet configuration to file {config_yaml}",
        f"[kubelet-start] Writing kubelet environment file with flags to file {env_file}",
        "[kubelet-start] Starting the kubelet",
    ]
    return None


def _restart_kubelet(j: _Join) -> bool:
    """TryStartKubelet through the SCM; whether the kubelet runs afterwards."""
    host = j.inv.host
    kubelet = host.service("kubelet")
    if kubelet is None:
        j.out += [
            "[kubelet-start] Couldn't detect a kubelet service, can't make sure the kubelet is running properly.",
            "[kubelet-start] WARNING: unable to start the kubelet service: [service kubelet does not exist]",
            "[kubelet-start] Please ensure kubelet is reloaded and running manually.",
        ]
        return False
    err = host.start_service(kubelet.name)
    if err:
        j.out += [
            f"[kubelet-start] WARNING: unable to start the kubelet service: [{err}]",
            "[kubelet-start] Please ensure kubelet is reloaded and running manually.",
        ]
    return kubelet.state == "running"


def _wait_for_kubelet(j: _Join, running: bool) -> ExecResult | None:
    """The health wait (1.31+ ``[kubelet-check]`` lines, GT §5.4) and the TLS bootstrap wait: the
    kubelet must have written ``kubelet.conf``. Waits are instant; their timeouts are not."""
    if j.inv.stamp.minor >= 31:
        j.out.append(
            "[kubelet-check] Waiting for a healthy kubelet at http://127.0.0.1:10248/healthz. This can take up to 4m0s"
        )
        if not running:
            j.out += [
                "[kubelet-check] The kubelet is not healthy after 4m0.000516178s",
                "",
                "Unfortunately, an error has occurred, likely caused by:",
                "\t- The kubelet is not running",
                "\t- The kubelet is unhealthy due to a misconfiguration of the node in some way "
                "(required cgroups disabled)",
                "",
            ]
            return j.error(KUBELET_HEALTHZ_FAILURE)
        j.out.append("[kubelet-check] The kubelet is healthy after 1.050735187s")
        j.out.append("[kubelet-start] Waiting for the kubelet to perform the TLS Bootstrap")
    else:
        j.out.append("[kubelet-start] Waiting for the kubelet to perform the TLS Bootstrap...")
    if not running or not j.inv.host.exists(KUBELET_CONF):
        return j.error("error execution phase kubelet-start: timed out waiting for the condition")
    return None


def _kubelet_start(j: _Join) -> ExecResult:
    host = j.inv.host
    failed = _write_kubelet_files(j)
    if failed is not None:
        return failed
    try:
        failed = _wait_for_kubelet(j, _restart_kubelet(j))
    finally:
        host.remove(BOOTSTRAP_CONF)  # kubeadm defers its removal: the token must not stay on disk
    if failed is not None:
        return failed
    host.extra.setdefault("kubeadm", {}).update({"joined": True, "node": j.node_name, "endpoint": j.cluster.endpoint})
    j.out += [
        "",
        "This node has joined the cluster:",
        "* Certificate signing request was sent to apiserver and a response was received.",
        "* The Kubelet was informed of the new secure connection details.",
        "",
        "Run 'kubectl get nodes' on the control-plane to see this node join the cluster.",
        "",
    ]
    return ok(j.stdout(), j.warn)


# ------------------------------------------------------------------ reset


def _reset(inv: Invocation, args: list[str]) -> ExecResult:
    host, kubeadm = inv.host, inv.stamp
    assert kubeadm is not None
    try:
        f = parse_flags(args, RESET_FLAGS, {"f": "force"})
    except FlagError as exc:
        if str(exc).lstrip("-") in ("dry-run", "skip-phases", "kubeconfig"):
            return not_emulated(inv)
        return _error(f"unknown flag: {exc}")
    if f.positional:
        return _error(f'unknown command "{f.positional[0]}" for "kubeadm reset"')
    out: list[str] = []
    if not f.get("force"):
        out.append("[reset] WARNING: Changes made to this host by 'kubeadm init' or 'kubeadm join' will be reverted.")
        answer = (inv.stdin or b"").decode("utf-8", "replace").strip().lower()
        prompt = "[reset] Are you sure you want to proceed? [y/N]: "
        if answer not in ("y", "yes"):
            return _error(
                "error execution phase preflight: won't proceed; the user didn't answer (Y|y) in order to continue",
                "\n".join(out) + "\n" + prompt,
            )
        # The prompt has no newline and the answer is not echoed from a pipe.
        out.append(prompt + "[preflight] Running pre-flight checks")
    else:
        out.append("[preflight] Running pre-flight checks")
    kubelet = host.service("kubelet")
    out.append("[reset] Stopping the kubelet service")
    if kubelet is not None and kubelet.state == "running":
        host.stop_service(kubelet.name)
    out.append(f"[reset] Unmounting mounted directories in {go_quote(_win(KUBELET_DIR))}")
    dirs = [MANIFESTS, KUBELET_DIR, ETC + r"\pki"]
    for d in dirs:
        if host.isdir(d):
            for child in host.listdir(d):
                host.remove(child.path)
    out.append(f"[reset] Deleting contents of directories: [{' '.join(_win(d) for d in dirs)}]")
    names = (
        ["admin.conf"]
        + (["super-admin.conf"] if kubeadm.minor >= 29 else [])
        + [
            "kubelet.conf",
            "bootstrap-kubelet.conf",
            "controller-manager.conf",
            "scheduler.conf",
        ]
    )
    files = [ETC + "\\" + n for n in names]
    for p in files:
        host.remove(p)
    out.append(f"[reset] Deleting files: [{' '.join(_win(p) for p in files)}]")
    out += [
        "",
        "The reset process does not perform cleanup of CNI plugin configuration,",
        "network filtering rules and kubeconfig files.",
        "",
        "For information on how to perform this manually, refer to the documentation:",
        "    https://k8s.io/docs/reference/setup-tools/kubeadm/kubeadm-reset/",
    ]
    state = host.extra.setdefault("kubeadm", {})
    state["joined"] = False
    for d in (host.extra.get("daemons") or {}).values():
        if d.get("kind") == "kubelet":
            d["node"] = None  # its credentials are gone: it no longer posts node status
    return ok("\n".join(out) + "\n")
