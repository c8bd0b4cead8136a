r"""The Kubernetes node binaries (identified by stamp): ``kubelet.exe``/``kube-proxy.exe``
``--version``, ``kubectl.exe version --client``, and what happens when the SCM starts a kubelet or
kube-proxy service.

The kubelet service runs only as the real one would (GT §5): it needs ``--windows-service`` (else
it never reports to the SCM: 1053), flags that exist in its version (``--pod-infra-container-image``
is gone in 1.35, ``--container-runtime`` in 1.27), a readable ``--config``, a kubeconfig or a
bootstrap kubeconfig, and a running CRI runtime on its endpoint. With a bootstrap kubeconfig whose
token the cluster accepts it performs the TLS bootstrap (writes ``--kubeconfig`` and
``pki\kubelet-client-current.pem``); with a working kubeconfig it registers its Node, which is
Ready for as long as the service and the runtime run.

``kube-log-runner.exe`` (k8s.io/component-base/logs/kube-log-runner, in the node release) wraps a
service: ``kube-log-runner.exe --log-file=PATH kubelet.exe ...`` starts kubelet (or kube-proxy) with
the rest of the command line and appends the child's stdout and stderr to PATH, so the kubelet's klog
lines -- its start-up lines, or why it failed -- end up there. Its flags are Go ``flag`` flags (one or
two dashes), parsed up to the child's program name.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import yaml

from tests.simulator.contract import ExecResult
from tests.simulator.executables.common import (
    FlagError,
    Invocation,
    binary_stamp,
    daemon_on,
    fail,
    go_quote,
    klog_line,
    not_emulated,
    ok,
    parse_flags,
    resolve_path,
    service_argv,
    service_failed,
    service_started,
    try_append_log,
)
from tests.simulator.executables.stamp import Stamp
from tests.simulator.host import DiskFullError, Service, WindowsHost

SERVICE_CWD = r"C:\Windows\System32"
DEFAULT_RUNTIME_ENDPOINT = "npipe:////./pipe/containerd-containerd"
KUBELET_ROOT = r"C:\var\lib\kubelet"


# ------------------------------------------------------------------ version output


def version_info(stamp: Stamp) -> dict[str, str]:
    """Fields of ``version.Info`` as Kubernetes binaries print them (GT §5.1)."""
    info = {"Major": str(stamp.major), "Minor": str(stamp.minor)}
    if (stamp.major, stamp.minor) >= (1, 33):
        # Added in 1.33 (compatibility versions); empty for release builds.
        info.update(
            {"EmulationMajor": "", "EmulationMinor": "", "MinCompatibilityMajor": "", "MinCompatibilityMinor": ""}
        )
    info.update(
        {
            "GitVersion": f"v{stamp.version}",
            "GitCommit": stamp.get("commit"),
            "GitTreeState": "clean",
            "BuildDate": stamp.get("build_date"),
            "GoVersion": stamp.get("go"),
            "Compiler": "gc",
            "Platform": "windows/amd64",
        }
    )
    return info


def go_struct(info: dict[str, str]) -> str:
    return "&version.Info{" + ", ".join(f"{k}:{go_quote(v)}" for k, v in info.items()) + "}"


def json_info(info: dict[str, str]) -> dict[str, str]:
    return {k[0].lower() + k[1:]: v for k, v in info.items()}


def run_kubelet(inv: Invocation) -> ExecResult:
    assert inv.stamp is not None
    if inv.args == ["--version"]:
        return ok(f"Kubernetes v{inv.stamp.version}\n")
    return not_emulated(inv)  # the kubelet in the foreground never returns to win_command


def run_kube_proxy(inv: Invocation) -> ExecResult:
    assert inv.stamp is not None
    if inv.args == ["--version"]:
        return ok(f"Kubernetes v{inv.stamp.version}\n")
    return not_emulated(inv)


def run_kubectl(inv: Invocation) -> ExecResult:
    """``kubectl version --client [-o json|yaml]``; anything that needs an API server fails loudly."""
    assert inv.stamp is not None
    args = list(inv.args)
    if not args or args[0] != "version":
        return not_emulated(inv)
    rest = args[1:]
    client = False
    output = ""
    i = 0
    while i < len(rest):
        a = rest[i]
        if a in ("--client", "--client=true"):
            client = True
        elif a in ("-o", "--output") and i + 1 < len(rest):
            output = rest[i + 1]
            i += 1
        elif a.startswith(("--output=", "-o=")):
            output = a.split("=", 1)[1]
        else:
            return not_emulated(inv)
        i += 1
    if not client:
        return not_emulated(inv, "kubectl version without --client (needs an API server)")
    info = version_info(inv.stamp)
    kustomize = inv.stamp.get("kustomize")
    if output == "json":
        doc = {"clientVersion": json_info(info), "kustomizeVersion": kustomize}
        return ok(json.dumps(doc, indent=2) + "\n")
    if output == "yaml":
        return ok(yaml.safe_dump({"clientVersion": json_info(info), "kustomizeVersion": kustomize}, sort_keys=False))
    if output:
        return not_emulated(inv)
    return ok(f"Client Version: v{inv.stamp.version}\nKustomize Version: {kustomize}\n")


# ------------------------------------------------------------------ kubelet as a service

# What kubelet accepts here: the flags node provisioners pass, and every flag kubeadm writes into
# kubeadm-flags.env (flags_windows.go: container-runtime-endpoint, pod-infra-container-image before
# 1.35, hostname-override, register-with-taints, node-ip, and the nodeRegistration.kubeletExtraArgs
# of the join configuration, such as CAPZ's cloud-provider / v / windows-priorityclass, GT §5.3 and
# anchors step 11).
KUBELET_FLAGS = {
    "config": "str",
    "kubeconfig": "str",
    "bootstrap-kubeconfig": "str",
    "cert-dir": "str",
    "root-dir": "str",
    "container-runtime-endpoint": "str",
    "image-service-endpoint": "str",
    "hostname-override": "str",
    "node-ip": "str",
    "node-labels": "list",
    "register-with-taints": "list",
    "windows-service": "bool",
    "windows-priorityclass": "str",
    "v": "str",
    "pod-infra-container-image": "str",
    "container-runtime": "str",
    "enable-debugging-handlers": "bool",
    "cgroups-per-qos": "bool",
    "enforce-node-allocatable": "str",
    "resolv-conf": "str",
    "feature-gates": "str",
    "max-pods": "str",
    "rotate-certificates": "bool",
    "cloud-provider": "str",
    "provider-id": "str",
    "kube-reserved": "str",
    "system-reserved": "str",
    "eviction-hard": "str",
    "image-credential-provider-config": "str",
    "image-credential-provider-bin-dir": "str",
}
# Flags kubelet dropped, by the first minor that no longer knows them (GT §5.3).
REMOVED_KUBELET_FLAGS = {"container-runtime": 27, "pod-infra-container-image": 35}


def _klog_failure(msg: str) -> str:
    return klog_line("E", "run.go:72", f'"command failed" err={go_quote(msg)}', pid=4242)


def _read_yaml(host: WindowsHost, path: str) -> tuple[dict[str, Any] | None, str]:
    entry = host.get(path)
    if entry is None or entry.is_dir:
        return None, f"open {path}: The system cannot find the file specified."
    try:
        doc = yaml.safe_load(entry.data.decode("utf-8-sig"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        return None, f"error converting YAML to JSON: {exc}".replace("\n", " ")
    if not isinstance(doc, dict):
        return None, "object is not a mapping"
    return doc, ""


def kubeconfig_parts(doc: dict[str, Any]) -> tuple[str, str, str]:
    """(server, token, client-certificate) of a kubeconfig's current context, '' when absent."""
    clusters = {c.get("name"): c.get("cluster", {}) for c in doc.get("clusters") or [] if isinstance(c, dict)}
    users = {u.get("name"): u.get("user", {}) for u in doc.get("users") or [] if isinstance(u, dict)}
    contexts = {c.get("name"): c.get("context", {}) for c in doc.get("contexts") or [] if isinstance(c, dict)}
    ctx = contexts.get(doc.get("current-context")) or {}
    cluster = clusters.get(ctx.get("cluster")) or (next(iter(clusters.values())) if clusters else {})
    user = users.get(ctx.get("user")) or (next(iter(users.values())) if users else {})
    return str(cluster.get("server", "")), str(user.get("token", "")), str(user.get("client-certificate", ""))


def kubelet_kubeconfig(server: str, ca_b64: str, cert_path: str) -> str:
    """The kubeconfig kubelet writes after the TLS bootstrap (its fixed context names)."""
    return f"""apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: {ca_b64}
    server: {server}
  name: default-cluster
contexts:
- context:
    cluster: default-cluster
    namespace: default
    user: default-auth
  name: default-context
current-context: default-context
kind: Config
preferences: {{}}
users:
- name: default-auth
  user:
    client-certificate: {cert_path}
    client-key: {cert_path}
"""


def _taint(spec: str) -> dict[str, str] | None:
    kv, sep, effect = spec.rpartition(":")
    if not sep or effect not in ("NoSchedule", "PreferNoSchedule", "NoExecute"):
        return None
    key, _, value = kv.partition("=")
    return {"key": key, "value": value, "effect": effect} if value else {"key": key, "effect": effect}


@dataclasses.dataclass
class _Kubelet:
    """One start of a kubelet service: what it was given and what it found."""

    host: WindowsHost
    svc: Service
    stamp: Stamp
    flags: dict[str, Any]
    node_name: str = ""
    endpoint: str = ""
    runtime: dict[str, Any] | None = None
    log_file: str | None = None

    def path(self, p: str) -> str:
        return resolve_path(self.host, p, SERVICE_CWD)

    def fail(self, msg: str, win32: int = 1067) -> str:
        return service_failed(self.host, self.svc, win32, msg, self.log_file)


def _missing(path: str) -> str:
    # os.Stat on Windows reports the API that failed.
    return f"GetFileAttributesEx {path}: The system cannot find the file specified."


def kubelet_starter(host: WindowsHost, svc: Service) -> str | None:
    return start_kubelet(host, svc, service_argv(host, svc))


def _kubelet_version_line(stamp: Stamp) -> str:
    # kubelet's first lines at start (cmd/kubelet/app/server.go: klog.InfoS("Kubelet version", ...)).
    return klog_line("I", "server.go:486", f'"Kubelet version" kubeletVersion="v{stamp.version}"', pid=4242)


def start_kubelet(host: WindowsHost, svc: Service, argv: list[str], log_file: str | None = None) -> str | None:
    """The kubelet process ``argv`` started for ``svc``; its klog output goes to ``log_file`` when it
    runs under kube-log-runner (a service's own stderr goes nowhere)."""
    stamp = binary_stamp(host, argv[0])
    if stamp is None or stamp.name != "kubelet":
        return service_failed(host, svc, 1053, f"simulator: {argv[0]} is not a kubelet binary", log_file)
    try:
        flags = parse_flags(argv[1:], KUBELET_FLAGS).values
    except FlagError as exc:
        return service_failed(host, svc, 1067, f"simulator: kubelet flag {exc} is not emulated", log_file)
    try_append_log(host, log_file, _kubelet_version_line(stamp))
    k = _Kubelet(host, svc, stamp, flags, log_file=log_file)
    if not flags.get("windows-service"):
        return k.fail("kubelet started by the SCM without --windows-service did not report to it", 1053)
    for flag, minor in REMOVED_KUBELET_FLAGS.items():
        if flag in flags and stamp.minor >= minor:
            return k.fail(f"unknown flag: --{flag}")
    error = _load_config(k) or _connect_runtime(k) or _credentials(k)
    if error:
        return error
    registered = _kubeconfig_server_is_cluster(k)
    daemon = {"kind": "kubelet", "version": stamp.version, "binary": argv[0], "pipes": [], "log_file": log_file}
    service_started(host, svc, {**daemon, "node": k.node_name if registered else None, "runtime_endpoint": k.endpoint})
    if registered:
        _register(k)
    return None


def _load_config(k: _Kubelet) -> str | None:
    config: dict[str, Any] = {}
    if k.flags.get("config"):
        cfg_path = k.path(str(k.flags["config"]))
        doc, why = _read_yaml(k.host, cfg_path)
        if doc is None or doc.get("kind") != "KubeletConfiguration":
            why = why or f'no kind "{doc.get("kind") if doc else ""}" is registered for version'
            return k.fail(_klog_failure(f"failed to load kubelet config file, path: {cfg_path}, error: {why}"))
        config = doc
    k.endpoint = str(
        k.flags.get("container-runtime-endpoint") or config.get("containerRuntimeEndpoint") or DEFAULT_RUNTIME_ENDPOINT
    )
    k.node_name = str(k.flags.get("hostname-override") or k.host.hostname).lower()
    return None


def _connect_runtime(k: _Kubelet) -> str | None:
    k.runtime = daemon_on(k.host, k.endpoint)
    if k.runtime is not None and k.runtime.get("kind") in ("containerd", "cri-dockerd"):
        return None
    pipe = k.endpoint.removeprefix("npipe://").replace("/", "\\")
    msg = (
        "failed to run Kubelet: validate service connection: validate CRI v1 runtime API for endpoint "
        f'"{k.endpoint}": rpc error: code = Unavailable desc = connection error: desc = "transport: Error while '
        f'dialing: open {pipe}: The system cannot find the file specified."'
    )
    return k.fail(_klog_failure(msg))


def _credentials(k: _Kubelet) -> str | None:
    """No kubeconfig yet: the TLS bootstrap with the bootstrap kubeconfig's token. If the API server
    is not reachable or refuses the token the real kubelet keeps retrying: it runs, uncredentialed."""
    host, cluster = k.host, k.host.cluster
    kubeconfig = k.path(str(k.flags["kubeconfig"])) if k.flags.get("kubeconfig") else None
    if kubeconfig is None or host.exists(kubeconfig):
        return None
    if not k.flags.get("bootstrap-kubeconfig"):
        return k.fail(_klog_failure(f"failed to run Kubelet: invalid kubeconfig: {_missing(kubeconfig)}"))
    bootstrap = k.path(str(k.flags["bootstrap-kubeconfig"]))
    doc, _ = _read_yaml(host, bootstrap)
    if doc is None:
        return k.fail(
            _klog_failure(f"failed to run Kubelet: unable to load bootstrap kubeconfig: {_missing(bootstrap)}")
        )
    server, token, _ = kubeconfig_parts(doc)
    if cluster is None or not cluster.accepts_endpoint(server) or cluster.token_status(token) != "ok":
        return None
    cert_dir = k.path(str(k.flags.get("cert-dir") or k.path(str(k.flags.get("root-dir") or KUBELET_ROOT)) + r"\pki"))
    pem_path = cert_dir + r"\kubelet-client-current.pem"
    try:
        host.mkdir(cert_dir)
        host.write_file(pem_path, cluster.issue_kubelet_client_cert(k.node_name))
        host.write_file(kubeconfig, kubelet_kubeconfig(server, cluster.ca_data_b64(), pem_path).encode())
    except DiskFullError:
        return k.fail(_klog_failure("failed to run Kubelet: There is not enough space on the disk."))
    return None


def _kubeconfig_server_is_cluster(k: _Kubelet) -> bool:
    kubeconfig = k.path(str(k.flags["kubeconfig"])) if k.flags.get("kubeconfig") else None
    if kubeconfig is None or not k.host.exists(kubeconfig) or k.host.cluster is None:
        return False
    doc, _ = _read_yaml(k.host, kubeconfig)
    return bool(doc) and k.host.cluster.accepts_endpoint(kubeconfig_parts(doc)[0])


def _register(k: _Kubelet) -> None:
    """kubelet's node registration: the labels it sets itself, ``--node-labels``, taints."""
    from tests.simulator.cluster import Node

    host, name = k.host, k.node_name
    labels = {
        "beta.kubernetes.io/arch": "amd64",
        "beta.kubernetes.io/os": "windows",
        "kubernetes.io/arch": "amd64",
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "windows",
        "node.kubernetes.io/windows-build": f"10.0.{host.build}",
    }
    for item in k.flags.get("node-labels", []):
        key, _, value = item.partition("=")
        labels[key] = value
    taints = [t for t in (_taint(spec) for spec in k.flags.get("register-with-taints", [])) if t]
    svc_name = k.svc.name

    def probe() -> tuple[bool, str]:
        s = host.service(svc_name)
        if s is None or s.state != "running":
            return False, "Kubelet stopped posting node status."
        d = (host.extra.get("daemons") or {}).get(svc_name.lower()) or {}
        if d.get("node") != name:
            return False, "Kubelet stopped posting node status."
        if daemon_on(host, d.get("runtime_endpoint", "")) is None:
            return False, "container runtime is down"
        return True, ""

    runtime = k.runtime or {}
    product = host.get_reg(r"HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion", "ProductName")
    kind = "containerd" if runtime.get("kind") == "containerd" else "docker"
    existing = host.cluster.node(name)
    node = host.cluster.register_node(
        Node(
            name=name,
            kubelet_version=f"v{k.stamp.version}",
            labels=labels,
            taints=taints,
            os_image=str(product[1]) if product else f"Windows Server (build {host.build})",
            kernel_version=f"10.0.{host.build}.{host.revision}",
            container_runtime_version=f"{kind}://{runtime.get('version', '')}",
            host=host.name,
            ready_probe=probe,
        )
    )
    if existing is None:
        node.taints = taints


# ------------------------------------------------------------------ kube-proxy as a service

KUBE_PROXY_FLAGS = {
    "kubeconfig": "str",
    "config": "str",
    "windows-service": "bool",
    "hostname-override": "str",
    "v": "str",
    "proxy-mode": "str",
    "cluster-cidr": "str",
    "feature-gates": "str",
    "source-vip": "str",
    "network-name": "str",
    "enable-dsr": "bool",
    "bind-address": "str",
}


def _proxy_error(msg: str) -> str:
    return klog_line("E", "server.go:558", f'"Error running ProxyServer" err={go_quote(msg)}')


def kube_proxy_starter(host: WindowsHost, svc: Service) -> str | None:
    return start_kube_proxy(host, svc, service_argv(host, svc))


def start_kube_proxy(host: WindowsHost, svc: Service, argv: list[str], log_file: str | None = None) -> str | None:
    """The kube-proxy process ``argv`` started for ``svc`` (its output to ``log_file`` under kube-log-runner)."""
    stamp = binary_stamp(host, argv[0])
    if stamp is None or stamp.name != "kube-proxy":
        return service_failed(host, svc, 1053, f"simulator: {argv[0]} is not a kube-proxy binary", log_file)
    try:
        flags = parse_flags(argv[1:], KUBE_PROXY_FLAGS).values
    except FlagError as exc:
        return service_failed(host, svc, 1067, f"simulator: kube-proxy flag {exc} is not emulated", log_file)
    if not flags.get("windows-service"):
        return service_failed(
            host, svc, 1053, "kube-proxy started by the SCM without --windows-service did not report to it", log_file
        )
    for key in ("config", "kubeconfig"):
        if flags.get(key):
            p = resolve_path(host, str(flags[key]), SERVICE_CWD)
            if not host.exists(p):
                return service_failed(
                    host, svc, 1067, _proxy_error(f"open {p}: The system cannot find the file specified."), log_file
                )
    if not flags.get("config") and not flags.get("kubeconfig"):
        msg = (
            "invalid configuration: no configuration has been provided, "
            "try setting KUBERNETES_MASTER environment variable"
        )
        return service_failed(host, svc, 1067, _proxy_error(msg), log_file)
    daemon = {"kind": "kube-proxy", "version": stamp.version, "binary": argv[0], "pipes": [], "log_file": log_file}
    service_started(host, svc, daemon)
    return None


# ------------------------------------------------------------------ kube-log-runner

# kube-log-runner's flags (component-base/logs/kube-log-runner/kube-log-runner.go, Go ``flag``).
LOG_RUNNER_FLAGS = {
    "log-file": "str",
    "also-stdout": "bool",
    "redirect-stderr": "bool",
    "flush-interval": "str",
    "log-file-size": "str",
    "log-file-age": "str",
}
# The children kube-log-runner can start as a service here, by stamp.
_WRAPPED = {"kubelet": start_kubelet, "kube-proxy": start_kube_proxy}


def _log_runner_args(args: list[str]) -> tuple[dict[str, Any], list[str], str | None]:
    """(flags, child argv, error): Go's flag package stops at the first argument that is not a flag."""
    flags: dict[str, Any] = {}
    i = 0
    while i < len(args) and args[i].startswith("-") and args[i] != "-":
        if args[i] == "--":
            i += 1
            break
        name, eq, value = args[i].lstrip("-").partition("=")
        kind = LOG_RUNNER_FLAGS.get(name)
        if kind is None:
            return {}, [], f"flag provided but not defined: -{name}"
        if kind == "bool":
            flags[name] = value.lower() not in ("false", "0") if eq else True
        elif eq:
            flags[name] = value
        elif i + 1 < len(args):
            flags[name] = args[i + 1]
            i += 1
        else:
            return {}, [], f"flag needs an argument: -{name}"
        i += 1
    return flags, args[i:], None


def _log_file_error(host: WindowsHost, path: str) -> str | None:
    """os.OpenFile(O_APPEND|O_CREATE): a missing folder fails before the child starts."""
    parent = path.rsplit("\\", 1)[0]
    if host.isdir(parent) and not host.isdir(path):
        return None
    why = "Access is denied." if host.isdir(path) else "The system cannot find the path specified."
    # log.Fatal(fmt.Errorf("failed to create log file %v: %w", ...)) [RECONSTRUCTED wording]
    return f"failed to create log file {path}: open {path}: {why}"


def kube_log_runner_starter(host: WindowsHost, svc: Service) -> str | None:
    """The SCM starts kube-log-runner; it starts the child and keeps its output in ``--log-file``."""
    argv = service_argv(host, svc)
    stamp = binary_stamp(host, argv[0])
    if stamp is None or stamp.name != "kube-log-runner":
        return service_failed(host, svc, 1053, f"simulator: {argv[0]} is not a kube-log-runner binary")
    flags, child, error = _log_runner_args(argv[1:])
    if error:
        return service_failed(host, svc, 1067, error)
    if not child:
        return service_failed(host, svc, 1067, "Please provide a command to run")
    log_file = resolve_path(host, str(flags["log-file"]), SERVICE_CWD) if flags.get("log-file") else None
    if log_file is not None:
        why = _log_file_error(host, log_file)
        if why:
            return service_failed(host, svc, 1067, why)
        try_append_log(host, log_file, "")  # created (empty) before the child starts
    program = resolve_path(host, child[0], SERVICE_CWD)
    child_stamp = binary_stamp(host, program)
    if child_stamp is None:
        reason = f"exec: {go_quote(child[0])}: file does not exist" if not host.exists(program) else "not a binary"
        return service_failed(host, svc, 1067, f"simulator: kube-log-runner cannot start {program}: {reason}", log_file)
    starter = _WRAPPED.get(child_stamp.name)
    if starter is None:
        return service_failed(host, svc, 1067, f"simulator: {child_stamp.name} under kube-log-runner is not emulated")
    return starter(host, svc, [program, *child[1:]], log_file)


def run_kube_log_runner(inv: Invocation) -> ExecResult:
    """kube-log-runner from win_command: run the child, keep its output in ``--log-file``."""
    from tests.simulator.executables import run

    flags, child, error = _log_runner_args(inv.args)
    if error:
        return fail(2, error + "\n")
    if not child:
        return fail(1, "Please provide a command to run\n")
    result = run(inv.host, child, inv.stdin, inv.cwd, inv.environment)
    log_file = resolve_path(inv.host, str(flags["log-file"]), inv.cwd) if flags.get("log-file") else None
    if log_file is None:
        return ExecResult(rc=result.rc, stdout=result.stdout + result.stderr, stderr="")
    why = _log_file_error(inv.host, log_file)
    if why:
        return fail(1, why + "\n")
    try_append_log(inv.host, log_file, result.stdout + result.stderr)
    shown = result.stdout + result.stderr if flags.get("also-stdout") else ""
    return ExecResult(rc=result.rc, stdout=shown, stderr="")
