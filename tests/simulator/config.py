"""HOSTS.yml: loading with defaults and validation, and the Ansible inventory written for it.

Every key is checked; an unknown key or a bad value fails with the path of the offending entry
(``hosts[1] (win2022).auth: must be one of basic, ntlm, got 'kerberos'``). The minimal file of
issue 3 (just ``name`` and ``os_version``) is valid: everything else has a default.
"""

from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path
from typing import Any

import yaml

from tests.simulator.faults import validate_faults
from tests.simulator.host import Service

__all__ = [
    "ALLOWED_BIND",
    "ConfigError",
    "HostConfig",
    "SimConfig",
    "build_inventory",
    "check_bind",
    "load_config",
    "parse_config",
    "validate_updates",
    "write_inventory",
]

ALLOWED_BIND = "127.0.0.1"
INVENTORY_GROUP = "windows_nodes"

EDITIONS = ("ServerStandard", "ServerDatacenter", "ServerStandardEval", "ServerDatacenterEval", "ServerTurbine")
INSTALLATION_TYPES = ("Server", "Server Core")
AUTHS = ("basic", "ntlm")
SCHEMES = ("http", "https")
REBOOT_MODES = ("instant", "realistic")

DEFAULT_USER = "Administrator"
DEFAULT_PASSWORD = "Sim-Passw0rd!"  # a test-only simulator: the inventory carries it (0600)
DEFAULT_REBOOT_SECONDS = 3.0

_TOP_KEYS = {"hosts", "bind", "control_port", "collections_paths", "trace_dir", "cluster", "vars", "downloads"}
# One action per `downloads:` entry (tests.simulator.downloads.DownloadFixtures.configure).
_DOWNLOAD_ACTIONS = ("content", "content_from", "status", "truncate", "absent")
# tests.simulator.cluster.Cluster keyword arguments, plus bootstrap tokens to create at start-up
_CLUSTER_KEYS = {"endpoint", "version", "aliases", "cluster_name", "cluster_dns", "cluster_domain", "tokens", "pods"}
# A `cluster.pods` entry: a workload pod seeded on a node so drain has something to evict.
_POD_KEYS = {"name", "namespace", "node", "daemonset", "pdb_blocks"}
_DNS_LABEL = r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?"
_HOST_KEYS = {
    "name",
    "os_version",
    "edition",
    "installation_type",
    "auth",
    "scheme",
    "reboot",
    "reboot_seconds",
    "port",
    "user",
    "password",
    "hostname",
    "seed",
    "faults",
    "vars",
}
# The connection variables the simulator writes itself; `vars` may not replace them.
_CONNECTION_VARS = {
    "ansible_host",
    "ansible_port",
    "ansible_connection",
    "ansible_winrm_scheme",
    "ansible_winrm_transport",
    "ansible_user",
    "ansible_password",
    "ansible_winrm_server_cert_validation",
}
_SEED_KEYS = {"features", "services", "files", "registry", "environment", "updates", "hns"}
# `seed.hns`: the HNS objects a runtime or CNI created, keyed as Get-HnsNetwork/Get-HnsEndpoint name
# their properties (windows ground truth section 10.2); the probes and hnsdiag.exe read and change them.
_HNS_NETWORK_KEYS = {"ID", "Name", "Type", "State", "ManagementIP", "Subnets"}
_HNS_ENDPOINT_KEYS = {"ID", "Name", "VirtualNetwork", "VirtualNetworkName", "IPAddress", "MacAddress", "State"}
# A `seed.updates` entry: one update the host's Windows Update catalog offers (modules/win_updates.py).
_UPDATE_KEYS = {
    "id",
    "title",
    "kb",
    "categories",
    "reboot_required",
    "revision",
    "failure_hresult",
    "failure_phase",
    "browse_only",
    "hidden",
    "downloaded",
    "installed",
}
_GUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_SERVICE_KEYS = {f.name for f in dataclasses.fields(Service)}


class ConfigError(ValueError):
    """HOSTS.yml is not valid."""


@dataclasses.dataclass
class HostConfig:
    name: str
    os_version: str = "10.0.20348.2527"
    edition: str = "ServerStandard"
    installation_type: str = "Server"
    auth: str = "basic"
    scheme: str = "http"
    reboot: str = "instant"
    reboot_seconds: float = DEFAULT_REBOOT_SECONDS
    port: int = 0
    user: str = DEFAULT_USER
    password: str = DEFAULT_PASSWORD
    hostname: str = ""
    seed: dict[str, Any] = dataclasses.field(default_factory=dict)
    faults: dict[str, Any] = dataclasses.field(default_factory=dict)
    vars: dict[str, Any] = dataclasses.field(default_factory=dict)  # host variables for the inventory


@dataclasses.dataclass
class SimConfig:
    hosts: list[HostConfig]
    bind: str = ALLOWED_BIND
    control_port: int = 0
    collections_paths: list[str] = dataclasses.field(default_factory=list)
    trace_dir: str | None = None
    cluster: dict[str, Any] = dataclasses.field(default_factory=dict)
    # `cluster:` present (even empty): the simulator then serves the Kubernetes API (apiserver.py).
    cluster_enabled: bool = False
    vars: dict[str, Any] = dataclasses.field(default_factory=dict)  # group variables for the inventory
    # Changes to the simulated internet, shared by every host (``downloads:``; see _validate_downloads).
    downloads: list[dict[str, Any]] = dataclasses.field(default_factory=list)


def _inventory_vars(value: Any, where: str) -> dict[str, Any]:
    """Extra inventory variables (role inputs for a scenario); never the connection variables."""
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(k, str) and k for k in value):
        raise ConfigError(f"{where}: must be a mapping of variable names to values")
    clash = sorted(set(value) & (_CONNECTION_VARS | {"sim_control_url"}))
    if clash:
        raise ConfigError(f"{where}: {', '.join(clash)} is written by the simulator itself")
    return dict(value)


def check_bind(address: str) -> str:
    """The simulator speaks Basic auth over plain HTTP: it never listens beyond loopback."""
    if address != ALLOWED_BIND:
        raise ConfigError(f"refusing to bind to {address!r}: the simulator only listens on {ALLOWED_BIND}")
    return address


def _one_of(value: Any, allowed: tuple[str, ...], where: str) -> str:
    if value not in allowed:
        raise ConfigError(f"{where}: must be one of {', '.join(allowed)}, got {value!r}")
    return str(value)


def _string(value: Any, where: str, pattern: str | None = None, hint: str = "") -> str:
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{where}: must be a non-empty string, got {value!r}")
    if pattern and not re.fullmatch(pattern, value):
        raise ConfigError(f"{where}: {hint}, got {value!r}")
    return value


def _port(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 65535:
        raise ConfigError(f"{where}: must be a port number 0-65535 (0 picks a free one), got {value!r}")
    return value


def _seconds(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ConfigError(f"{where}: must be a number of seconds >= 0, got {value!r}")
    return float(value)


def _unknown(keys: Any, known: set[str], where: str) -> None:
    extra = sorted(set(keys) - known)
    if extra:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(extra)} (known: {', '.join(sorted(known))})")


def _list_of_dicts(value: Any, where: str) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ConfigError(f"{where}: must be a list of mappings")
    return value


def _flag(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{where}: must be true or false, got {value!r}")
    return value


def validate_updates(raw: Any, where: str, host_revision: int) -> list[dict[str, Any]]:
    """``seed.updates``: the updates Windows Update offers the host, normalised with their defaults.

    Each entry: ``id`` (the update GUID), ``title``, ``kb`` (KB article numbers, digits), ``categories``
    (WUA category names such as ``Security Updates``), ``reboot_required`` (true: installed, it completes at
    the next reboot), ``revision`` (the UBR the host has once it is complete; above the host's own),
    ``failure_hresult`` (the HRESULT its ``failure_phase``, ``install`` or ``download``, fails with: an
    error code 0x8xxxxxxx), ``browse_only`` (optional update), ``hidden``, ``downloaded``, ``installed``
    (already installed: a search never finds it). ``status`` (available, downloaded, pending_reboot,
    installed) is the emulation's own record, derived here from ``downloaded``/``installed``.
    """
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i, u in enumerate(_list_of_dicts(raw, where)):
        w = f"{where}[{i}]"
        _unknown(u, _UPDATE_KEYS, w)
        uid = _string(u.get("id"), f"{w}.id", _GUID, "must be an update GUID (8-4-4-4-12 hex digits)").lower()
        if uid in seen:
            raise ConfigError(f"{w}.id: update {uid} is listed twice")
        seen.add(uid)
        kb = u.get("kb", [])
        if not isinstance(kb, list) or not all(re.fullmatch(r"\d+", str(k)) and not isinstance(k, bool) for k in kb):
            raise ConfigError(f"{w}.kb: must be a list of KB article numbers (digits, without 'KB'), got {kb!r}")
        categories = u.get("categories")
        if not isinstance(categories, list) or not categories or not all(isinstance(c, str) and c for c in categories):
            raise ConfigError(f"{w}.categories: must be a non-empty list of category names, got {categories!r}")
        revision = u.get("revision")
        bad_revision = isinstance(revision, bool) or not isinstance(revision, int) or revision <= host_revision
        if revision is not None and bad_revision:
            raise ConfigError(f"{w}.revision: must be a UBR above the host's {host_revision}, got {revision!r}")
        hresult = u.get("failure_hresult")
        if hresult is not None:
            # An error HRESULT has its severity bit set; either 32-bit form (signed or not) is accepted.
            is_int = isinstance(hresult, int) and not isinstance(hresult, bool)
            in_range = is_int and -0x80000000 <= hresult <= 0xFFFFFFFF
            if not in_range or not hresult & 0x80000000:
                raise ConfigError(f"{w}.failure_hresult: must be an error HRESULT such as 0x80240022, got {hresult!r}")
        phase = u.get("failure_phase", "install")
        _one_of(phase, ("install", "download"), f"{w}.failure_phase")
        if "failure_phase" in u and hresult is None:
            raise ConfigError(f"{w}.failure_phase: only goes with failure_hresult")
        flags = {
            key: _flag(u.get(key, default), f"{w}.{key}")
            for key, default in (
                ("reboot_required", True),
                ("browse_only", False),
                ("hidden", False),
                ("downloaded", False),
                ("installed", False),
            )
        }
        out.append(
            {
                "id": uid,
                "title": _string(u.get("title"), f"{w}.title"),
                "kb": [str(k) for k in kb],
                "categories": list(categories),
                "revision": revision,
                # Signed, as PowerShell hands IUpdateInstallationResult.HResult to the action plugin.
                "failure_hresult": None if hresult is None else (hresult & 0xFFFFFFFF) - ((hresult & 0x80000000) << 1),
                "failure_phase": phase,
                **flags,
                "status": "installed" if flags["installed"] else "downloaded" if flags["downloaded"] else "available",
            }
        )
    return out


def validate_hns(raw: Any, where: str) -> dict[str, list[dict[str, Any]]]:
    """``seed.hns``: ``networks`` (``ID``, ``Name``, ``Type``, ...) and ``endpoints`` (``ID``, ``VirtualNetwork``:
    a seeded network's ID, ``Name``, ...), normalised: each endpoint gets its network's ``VirtualNetworkName``
    (HNS records it with the endpoint). Ids are GUIDs, unique across both lists."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: must be a mapping with networks and endpoints")
    _unknown(raw, {"networks", "endpoints"}, where)
    seen: set[str] = set()

    def object_id(obj: dict[str, Any], w: str) -> str:
        oid = _string(obj.get("ID"), f"{w}.ID", _GUID, "must be an HNS id (a GUID, 8-4-4-4-12 hex digits)")
        if oid.lower() in seen:
            raise ConfigError(f"{w}.ID: {oid} is seeded twice")
        seen.add(oid.lower())
        return oid

    networks: list[dict[str, Any]] = []
    for i, n in enumerate(_list_of_dicts(raw.get("networks") or [], f"{where}.networks")):
        w = f"{where}.networks[{i}]"
        _unknown(n, _HNS_NETWORK_KEYS, w)
        object_id(n, w)
        _string(n.get("Name"), f"{w}.Name")
        _string(n.get("Type"), f"{w}.Type")
        networks.append(dict(n))
    by_id = {n["ID"].lower(): n for n in networks}
    endpoints: list[dict[str, Any]] = []
    for i, e in enumerate(_list_of_dicts(raw.get("endpoints") or [], f"{where}.endpoints")):
        w = f"{where}.endpoints[{i}]"
        _unknown(e, _HNS_ENDPOINT_KEYS, w)
        object_id(e, w)
        network = by_id.get(str(e.get("VirtualNetwork", "")).lower())
        if network is None:
            raise ConfigError(
                f"{w}.VirtualNetwork: must be the ID of a seeded network, got {e.get('VirtualNetwork')!r}"
            )
        if "VirtualNetworkName" in e and e["VirtualNetworkName"] != network["Name"]:
            raise ConfigError(f"{w}.VirtualNetworkName: network {network['ID']} is {network['Name']!r}")
        endpoints.append({**e, "VirtualNetwork": network["ID"], "VirtualNetworkName": network["Name"]})
    return {"networks": networks, "endpoints": endpoints}


def _validate_seed(seed: Any, where: str, host_revision: int = 0) -> dict[str, Any]:
    if seed is None:
        return {}
    if not isinstance(seed, dict):
        raise ConfigError(f"{where}: must be a mapping")
    _unknown(seed, _SEED_KEYS, where)
    features = seed.get("features") or []
    if not isinstance(features, list) or not all(isinstance(f, str) and f for f in features):
        raise ConfigError(f"{where}.features: must be a list of feature names")
    for i, svc in enumerate(_list_of_dicts(seed.get("services") or [], f"{where}.services")):
        w = f"{where}.services[{i}]"
        _unknown(svc, _SERVICE_KEYS, w)
        _string(svc.get("name"), f"{w}.name")
        env = svc.get("environment")
        if env is not None and (not isinstance(env, list) or not all(isinstance(e, str) for e in env)):
            raise ConfigError(f"{w}.environment: must be a list of NAME=value strings (the REG_MULTI_SZ value)")
    for i, f in enumerate(_list_of_dicts(seed.get("files") or [], f"{where}.files")):
        w = f"{where}.files[{i}]"
        _unknown(f, {"path", "content", "directory"}, w)
        _string(f.get("path"), f"{w}.path", r"(?i)[a-z]:[\\/].*", "must be an absolute Windows path")
        if "content" in f and not isinstance(f["content"], str):
            raise ConfigError(f"{w}.content: must be a string")
        if f.get("directory") and "content" in f:
            raise ConfigError(f"{w}: a directory has no content")
    for i, r in enumerate(_list_of_dicts(seed.get("registry") or [], f"{where}.registry")):
        w = f"{where}.registry[{i}]"
        _unknown(r, {"path", "name", "type", "data"}, w)
        _string(r.get("path"), f"{w}.path", r"(?i)(HK(LM|CU|CR|U|CC):?\\|HKEY_).*", "must be a registry key path")
        if not isinstance(r.get("name"), str):
            raise ConfigError(f"{w}.name: must be a string (use '' for the default value)")
        _one_of(
            r.get("type", "String"),
            ("String", "ExpandString", "MultiString", "DWord", "QWord", "Binary", "None"),
            f"{w}.type",
        )
    env = seed.get("environment") or {}
    if not isinstance(env, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in env.items()):
        raise ConfigError(f"{where}.environment: must map variable names to strings")
    if "updates" in seed:
        seed = {**seed, "updates": validate_updates(seed["updates"] or [], f"{where}.updates", host_revision)}
    if "hns" in seed:
        hns = {} if seed["hns"] is None else seed["hns"]
        seed = {**seed, "hns": validate_hns(hns, f"{where}.hns")}
    return seed


def _host(raw: Any, index: int) -> HostConfig:
    where = f"hosts[{index}]"
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: must be a mapping with at least a name")
    name = _string(
        raw.get("name"), f"{where}.name", r"[A-Za-z0-9][A-Za-z0-9_.-]*", "must be letters, digits, '-', '_' or '.'"
    )
    where = f"{where} ({name})"
    _unknown(raw, _HOST_KEYS, where)
    cfg = HostConfig(name=name)
    if "os_version" in raw:
        cfg.os_version = _string(
            raw["os_version"], f"{where}.os_version", r"10\.0\.\d{5}(\.\d+)?", "must look like 10.0.20348.2527"
        )
    if "edition" in raw:
        cfg.edition = _one_of(raw["edition"], EDITIONS, f"{where}.edition")
    if "installation_type" in raw:
        cfg.installation_type = _one_of(raw["installation_type"], INSTALLATION_TYPES, f"{where}.installation_type")
    if "auth" in raw:
        cfg.auth = _one_of(raw["auth"], AUTHS, f"{where}.auth")
    if "scheme" in raw:
        cfg.scheme = _one_of(raw["scheme"], SCHEMES, f"{where}.scheme")
    if "reboot" in raw:
        cfg.reboot = _one_of(raw["reboot"], REBOOT_MODES, f"{where}.reboot")
    if "reboot_seconds" in raw:
        cfg.reboot_seconds = _seconds(raw["reboot_seconds"], f"{where}.reboot_seconds")
    if "port" in raw:
        cfg.port = _port(raw["port"], f"{where}.port")
    if "user" in raw:
        cfg.user = _string(raw["user"], f"{where}.user", r"[^:\\/@]+", "must be a local user name (no : \\ / @)")
    if "password" in raw:
        cfg.password = _string(raw["password"], f"{where}.password")
    cfg.hostname = (
        _string(
            raw["hostname"],
            f"{where}.hostname",
            r"[A-Za-z0-9-]{1,15}",
            "must be a NetBIOS name (1-15 letters, digits, -)",
        )
        if "hostname" in raw
        else re.sub(r"[^A-Za-z0-9-]", "-", name).upper()[:15]
    )
    fields = cfg.os_version.split(".")
    cfg.seed = _validate_seed(raw.get("seed"), f"{where}.seed", int(fields[3]) if len(fields) == 4 else 0)
    cfg.vars = _inventory_vars(raw.get("vars"), f"{where}.vars")
    try:
        cfg.faults = {k: v for k, v in validate_faults(raw.get("faults") or {}).items() if v is not None}
    except ValueError as exc:
        raise ConfigError(f"{where}.faults: {exc}") from exc
    return cfg


def parse_config(data: Any, source: str = "HOSTS.yml") -> SimConfig:
    try:
        return _parse(data)
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc}") from None


def _parse(data: Any) -> SimConfig:
    if not isinstance(data, dict):
        raise ConfigError("must be a mapping with a 'hosts' list")
    _unknown(data, _TOP_KEYS, "top level")
    hosts_raw = data.get("hosts")
    if not isinstance(hosts_raw, list) or not hosts_raw:
        raise ConfigError("hosts: must be a non-empty list")
    hosts = [_host(h, i) for i, h in enumerate(hosts_raw)]
    names = [h.name.lower() for h in hosts]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ConfigError(f"hosts: duplicate name(s) {', '.join(dupes)}")
    ports = [h.port for h in hosts if h.port]
    if len(ports) != len(set(ports)):
        raise ConfigError("hosts: two hosts ask for the same port (each host has its own port)")
    cfg = SimConfig(hosts=hosts)
    if "bind" in data:
        cfg.bind = check_bind(_string(data["bind"], "bind"))
    if "control_port" in data:
        cfg.control_port = _port(data["control_port"], "control_port")
        if cfg.control_port and cfg.control_port in ports:
            raise ConfigError("control_port: already used by a host")
    paths = data.get("collections_paths") or []
    if not isinstance(paths, list) or not all(isinstance(p, str) and p for p in paths):
        raise ConfigError("collections_paths: must be a list of directories")
    cfg.collections_paths = paths
    if data.get("trace_dir") is not None:
        cfg.trace_dir = _string(data["trace_dir"], "trace_dir")
    cfg.cluster = _validate_cluster(data.get("cluster"))
    cfg.cluster_enabled = "cluster" in data
    cfg.vars = _inventory_vars(data.get("vars"), "vars")
    cfg.downloads = _validate_downloads(data.get("downloads"))
    return cfg


def _validate_downloads(raw: Any) -> list[dict[str, Any]]:
    """``downloads:``: entries applied in order to the download fixtures every host shares, each
    ``url`` and exactly one of ``content`` (text), ``content_from`` (another URL's body), ``status``
    (an HTTP error status, with optional ``times``), ``truncate`` (bytes served) or ``absent: true``."""
    if raw is None:
        return []
    entries = _list_of_dicts(raw, "downloads")
    for i, entry in enumerate(entries):
        where = f"downloads[{i}]"
        _unknown(entry, {"url", "times", *_DOWNLOAD_ACTIONS}, where)
        _string(entry.get("url"), f"{where}.url", r"https?://[^\s/]+/.*", "must be an http(s) URL with a path")
        actions = [a for a in _DOWNLOAD_ACTIONS if a in entry]
        if len(actions) != 1:
            raise ConfigError(f"{where}: give exactly one of {', '.join(_DOWNLOAD_ACTIONS)}, got {actions or 'none'}")
        action = actions[0]
        value = entry[action]
        if action == "content" and not isinstance(value, str):
            raise ConfigError(f"{where}.content: must be a string")
        if action == "content_from":
            _string(value, f"{where}.content_from", r"https?://[^\s/]+/.*", "must be an http(s) URL with a path")
        if action == "status" and (isinstance(value, bool) or not isinstance(value, int) or not 400 <= value <= 599):
            raise ConfigError(f"{where}.status: must be an HTTP error status 400-599, got {value!r}")
        if action == "truncate" and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise ConfigError(f"{where}.truncate: must be a number of bytes >= 0, got {value!r}")
        if action == "absent" and value is not True:
            raise ConfigError(f"{where}.absent: must be true")
        if "times" in entry:
            times = entry["times"]
            if action != "status":
                raise ConfigError(f"{where}.times: only goes with status")
            if isinstance(times, bool) or not isinstance(times, int) or times < 1:
                raise ConfigError(f"{where}.times: must be a number of requests >= 1, got {times!r}")
    return entries


def _validate_cluster(raw: Any) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ConfigError("cluster: must be a mapping")
    _unknown(raw, _CLUSTER_KEYS, "cluster")
    for key in ("endpoint", "version", "cluster_name", "cluster_dns", "cluster_domain"):
        if key in raw:
            _string(raw[key], f"cluster.{key}")
    if "endpoint" in raw and not re.fullmatch(r"[^:/\s]+:\d+", raw["endpoint"]):
        raise ConfigError(f"cluster.endpoint: must be host:port, got {raw['endpoint']!r}")
    for key in ("aliases", "tokens"):
        value = raw.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise ConfigError(f"cluster.{key}: must be a list of strings")
    for token in raw.get("tokens", []):
        if not re.fullmatch(r"[a-z0-9]{6}\.[a-z0-9]{16}", token):
            raise ConfigError(f"cluster.tokens: {token!r} is not a bootstrap token (abcdef.0123456789abcdef)")
    _validate_pods(raw.get("pods"))
    return raw


def _validate_pods(raw: Any) -> None:
    """``cluster.pods``: ``{name, node, namespace?, daemonset?, pdb_blocks?}`` per seeded pod."""
    if raw is None:
        return
    seen: set[tuple[str, str]] = set()
    for i, pod in enumerate(_list_of_dicts(raw, "cluster.pods")):
        where = f"cluster.pods[{i}]"
        _unknown(pod, _POD_KEYS, where)
        hint = "must be a DNS label (lower-case letters, digits, '-')"
        _string(pod.get("name"), f"{where}.name", _DNS_LABEL, hint)
        _string(pod.get("node"), f"{where}.node", r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?", "must be a node name (lower case)")
        ns = _string(pod.get("namespace", "default"), f"{where}.namespace", _DNS_LABEL, hint)
        if "daemonset" in pod:
            _string(pod["daemonset"], f"{where}.daemonset", _DNS_LABEL, hint)
        blocks = pod.get("pdb_blocks", False)
        if not isinstance(blocks, bool) and not (isinstance(blocks, str) and re.fullmatch(_DNS_LABEL, blocks)):
            raise ConfigError(f"{where}.pdb_blocks: must be true/false or a PodDisruptionBudget name, got {blocks!r}")
        if (ns, pod["name"]) in seen:
            raise ConfigError(f"{where}: pod {ns}/{pod['name']} is seeded twice")
        seen.add((ns, pod["name"]))


def load_config(path: str | os.PathLike[str]) -> SimConfig:
    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{p}: not valid YAML: {exc}") from exc
    return parse_config(data, str(p))


# --------------------------------------------------------------------------------------------
# inventory


# Inputs every simulated fleet gets (HOSTS.yml ``vars:`` may override them), each with the reason:
# - the pause image's Authenticode check needs the real image from Microsoft's registry, whose
#   Windows layer holds a Microsoft-signed pause.exe; the simulated registries hold no such binary and
#   the controller has no network. The check itself runs for real in tests/integration/
#   test_image_signature.py against a local registry with images signed at test time.
SIMULATION_VARS: dict[str, Any] = {"preflight_pause_signature": False}


def build_inventory(
    hosts: list[dict[str, Any]],
    control_url: str,
    group_vars: dict[str, Any] | None = None,
    cluster_vars: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """``hosts``: one mapping per host with name, port, scheme, auth, user, password (and ``vars``).
    ``cluster_vars`` (winkube_kubeconfig, join_command, …) yield to HOSTS.yml ``vars``: a scenario
    may give its own join_command (an expired token, say)."""
    entries: dict[str, Any] = {}
    for h in hosts:
        entry = {
            "ansible_host": ALLOWED_BIND,
            "ansible_port": h["port"],
            "ansible_connection": "winrm",
            # a non-5985 port would make the plugin default to https
            "ansible_winrm_scheme": h["scheme"],
            "ansible_winrm_transport": h["auth"],
            "ansible_user": h["user"],
            "ansible_password": h["password"],
        }
        if h["scheme"] == "https":
            entry["ansible_winrm_server_cert_validation"] = "ignore"
        entry.update(h.get("vars") or {})
        entries[h["name"]] = entry
    group = {**SIMULATION_VARS, **(cluster_vars or {}), **(group_vars or {}), "sim_control_url": control_url}
    return {"all": {"children": {INVENTORY_GROUP: {"hosts": entries, "vars": group}}}}


def write_inventory(path: str | os.PathLike[str], inventory: dict[str, Any]) -> Path:
    """Write the inventory readable by its owner only: it holds the hosts' passwords."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write("# Written by `python -m tests.simulator serve`; holds passwords, keep it 0600.\n")
        yaml.safe_dump(inventory, f, sort_keys=False, default_flow_style=False)
    os.chmod(p, 0o600)  # an existing file keeps its mode through O_TRUNC
    return p
