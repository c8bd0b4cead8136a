# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Node lifecycle decisions after provisioning: what a reset removes (files, services, HNS networks)
and what an upgrade changes.

Both read the node's plan (``winkube_plan``, resolved by preflight) and, for an upgrade, the Node
object the API server holds; nothing here re-derives what preflight decided. The HNS part of a
reset reads what the reset role's read-only probe (roles/reset/files/hns_state.ps1) found on the
node. Pure functions; every bad input raises ValueError with what was wrong and what would work.

Sources: kubeadm reset (windows ground truth section 5.6: it empties the manifests, kubelet and pki
directories and deletes the kubeconfig files, and says it does not clean up CNI configuration);
the Windows node upgrade procedure (kubernetes/website
content/en/docs/tasks/administer-cluster/kubeadm/upgrading-windows-nodes.md: upgrade kubeadm, drain,
``kubeadm upgrade node``, replace kubelet, uncordon); kubeadm's upgrade rule "Skipping MINOR versions
when upgrading is unsupported" (content/en/docs/tasks/administer-cluster/kubeadm/kubeadm-upgrade.md);
for HNS, RKE2's rke2-uninstall.ps1 (Reset-HNS: the CNI networks, their endpoints, deleted with
``hnsdiag delete``) and the Windows containers troubleshooting guide (``hnsdiag delete endpoints <id>``,
``hnsdiag delete networks <id>``).
"""

from __future__ import annotations

import ntpath
import re
from typing import Any, Dict, List, Mapping, Optional, Set, Tuple

from ansible_collections.winkube.node.plugins.module_utils.versions import Version, parse_version

# Where the collection's roles record what they converged to (the converged-run probe reads them).
STATE_DIR = r"C:\ProgramData\winkube\state"
# The services a kubeadm node runs besides its runtime; kube-proxy is a service only when it does
# not run as a HostProcess pod, and removing an absent service changes nothing.
KUBERNETES_SERVICES = ("kubelet", "kube-proxy")
# kubeadm's own files: when none is there, `kubeadm reset` has nothing to reset.
_KUBEADM_MARKERS = ("kubelet_conf", "bootstrap_kubelet_conf", "ca_cert", "kubelet_config", "kubeadm_flags_env")
# Folders a recursive delete must never be pointed at, whatever a plan says: a reset removes
# folders below these, never these.
_PROTECTED = (
    "c:\\windows",
    "c:\\program files",
    "c:\\program files (x86)",
    "c:\\programdata",
    "c:\\users",
    "c:\\etc",
    "c:\\var",
    "c:\\var\\lib",
    "c:\\var\\log",
)


_LOCAL_PATH = re.compile(r"^[A-Za-z]:\\")


def _required(mapping: Any, key: str, where: str) -> Any:
    if not isinstance(mapping, Mapping):
        raise ValueError(f"{where} must be a mapping, got {type(mapping).__name__}")
    value = mapping.get(key)
    if value is None or value == "":
        raise ValueError(f"{where}.{key} is missing; run the winkube.node.preflight role first")
    return value


def _folder(path: Any, what: str) -> str:
    # A local folder only: a reset removes what the node's own roles put on its disk.
    if not isinstance(path, str) or not _LOCAL_PATH.match(path):
        raise ValueError(f"{what} must be an absolute Windows path with a drive, got {path!r}")
    clean = ntpath.normpath(path).rstrip("\\")
    if len(clean) <= 2 or clean.lower() in _PROTECTED:
        raise ValueError(f"refusing to remove {clean} ({what}): it is a system folder, not one the node's roles own")
    return clean


def _unique(paths: List[str]) -> List[str]:
    seen: Set[str] = set()
    out: List[str] = []
    for p in paths:
        if p.lower() not in seen:
            seen.add(p.lower())
            out.append(p)
    return out


def reset_targets(
    plan: Any, remove_runtime: bool = False, remove_binaries: bool = False, remove_logs: bool = False
) -> Dict[str, Any]:
    """What a reset of the node removes, from its plan.

    Always: the kubelet and kube-proxy services, the CNI configuration and plugin folders of the
    runtime (kubeadm reset leaves them: "The reset process does not perform cleanup of CNI plugin
    configuration"), what kubeadm reset leaves of ``kubernetes_dir`` and ``kubelet_dir`` (the empty
    folders, the pki link), and the state files of the kubernetes and join roles, so a converged-run
    probe cannot take the reset node for a joined one. On request: the Kubernetes binaries
    (``bin_dir``, and its machine Path entry), the kubelet logs, and the containerd runtime (its
    service, install folder, root and state, Path entry and state file). The runtime's CNI folders go
    with its install folder then. Removing MCR is its installer's job and is refused here.
    """
    runtime = _required(plan, "runtime", "winkube_plan")
    kube = _required(plan, "kubernetes_paths", "winkube_plan")

    def paths(key: str) -> str:
        return _folder(_required(kube, key, "winkube_plan.kubernetes_paths"), key)

    if runtime == "containerd":
        rt = _required(plan, "containerd", "winkube_plan")
        where = "winkube_plan.containerd"
    elif runtime == "mcr":
        rt = _required(_required(plan, "mcr", "winkube_plan"), "cri_dockerd", "winkube_plan.mcr")
        where = "winkube_plan.mcr.cri_dockerd"
        if remove_runtime:
            raise ValueError(
                "reset_remove_runtime removes containerd only; remove the Mirantis Container Runtime with its "
                "installer (install.ps1 -Uninstall) and cri-dockerd with its service, or keep the runtime"
            )
    else:
        raise ValueError(f"winkube_plan.runtime {runtime!r} is neither containerd nor mcr")
    cni = [
        _folder(_required(rt, "cni_conf_dir", where), "cni_conf_dir"),
        _folder(_required(rt, "cni_bin_dir", where), "cni_bin_dir"),
    ]
    folders = [paths("kubelet_dir"), paths("kubernetes_dir")]
    path_entries: List[str] = []
    roles = ["join", "kubernetes"]
    if remove_logs:
        folders.append(paths("kubelet_log_dir"))
    if remove_binaries:
        folders.append(paths("bin_dir"))
        path_entries.append(paths("bin_dir"))
    runtime_targets: Optional[Dict[str, Any]] = None
    if remove_runtime:
        install_dir = _folder(_required(rt, "install_dir", where), "install_dir")
        # The CNI folders inside the install folder go with it.
        cni = [f for f in cni if not f.lower().startswith(install_dir.lower() + "\\")]
        runtime_targets = {
            "service": _required(rt, "service_name", where),
            "folders": [
                install_dir,
                _folder(_required(rt, "root", where), "root"),
                _folder(_required(rt, "state", where), "state"),
            ],
            "path_entry": ntpath.join(install_dir, "bin"),
            "state_file": ntpath.join(STATE_DIR, "containerd.json"),
        }
    return {
        "services": list(KUBERNETES_SERVICES),
        "kubeadm": ntpath.join(paths("bin_dir"), "kubeadm.exe"),
        "kubeadm_markers": [_required(kube, key, "winkube_plan.kubernetes_paths") for key in _KUBEADM_MARKERS],
        "cri_socket": _required(plan, "cri_endpoint", "winkube_plan"),
        "folders": _unique(cni + folders),
        "path_entries": path_entries,
        "state_files": [ntpath.join(STATE_DIR, f"{role}.json") for role in roles],
        "runtime": runtime_targets,
    }


# ---------------------------------------------------------------------------------------------
# Upgrade

# containerRuntimeVersion as kubelet reports it: <runtime name>://<version> (the CRI Version API's
# RuntimeName; cri-dockerd answers "docker").
_RUNTIME_NAMES = {"containerd": "containerd", "mcr": "docker"}


def _node_info(node: Any) -> Mapping[str, Any]:
    if not isinstance(node, Mapping) or not isinstance(node.get("metadata"), Mapping):
        raise ValueError(f"expected a Node object (kubernetes.core.k8s_info resources[0]), got {type(node).__name__}")
    status = node.get("status")
    info = status.get("nodeInfo") if isinstance(status, Mapping) else None
    if not isinstance(info, Mapping):
        name = node["metadata"].get("name", "?")
        raise ValueError(f"Node {name} has no status.nodeInfo: its kubelet never posted status; join it first")
    return info


def _reported(info: Mapping[str, Any], key: str, name: str) -> str:
    value = info.get(key)
    if not isinstance(value, str) or not value:
        raise ValueError(f"Node {name} reports no status.nodeInfo.{key}")
    return value


def _runtime(reported: str, name: str) -> Tuple[str, str]:
    runtime, sep, version = reported.partition("://")
    if not sep or not version:
        raise ValueError(f"Node {name} reports containerRuntimeVersion {reported!r}, not <runtime>://<version>")
    return runtime, version


def _step(what: str, current: Version, planned: Version, name: str, one_minor: bool) -> bool:
    if planned.key() < current.key():
        raise ValueError(
            f"Node {name} runs {what} {current}, newer than the planned {planned}: an upgrade never downgrades; "
            f"set the version to {current} or newer"
        )
    if one_minor and (planned.major, planned.minor) > (current.major, current.minor + 1):
        raise ValueError(
            f"Node {name} runs {what} {current}; {planned} skips a minor, which kubeadm does not support: "
            f"upgrade to {current.major}.{current.minor + 1}.z first"
        )
    return planned.key() != current.key()


def upgrade_actions(node: Any, plan: Any) -> Dict[str, Any]:
    """What upgrading a joined node to its plan changes: the Kubernetes binaries when the kubelet
    runs another version than planned, the runtime when it runs another release than planned.

    Refused: a downgrade, a Kubernetes minor skipped (kubeadm upgrades one minor at a time), a node
    whose runtime is not the planned one (changing runtime is a reset and a new provision), and an
    MCR plan without a pinned version when MCR must be compared (the installer picks the channel's
    newest, so nothing can be compared; set mcr_version).
    """
    info = _node_info(node)
    name = str(node["metadata"].get("name") or "?")
    runtime = _required(plan, "runtime", "winkube_plan")
    if runtime not in _RUNTIME_NAMES:
        raise ValueError(f"winkube_plan.runtime {runtime!r} is neither containerd nor mcr")
    kubelet_now = parse_version(_reported(info, "kubeletVersion", name), f"Node {name} kubeletVersion", True)
    kubelet_planned = parse_version(
        _required(plan, "kubernetes_version", "winkube_plan"), "winkube_plan.kubernetes_version", True
    )
    reported_runtime, runtime_now_text = _runtime(_reported(info, "containerRuntimeVersion", name), name)
    expected = _RUNTIME_NAMES[runtime]
    if reported_runtime != expected:
        raise ValueError(
            f"Node {name} runs {reported_runtime}, the plan has {runtime} ({expected}://): changing the runtime is "
            "not an upgrade; reset the node (playbooks/reset.yml) and provision it again"
        )
    planned_runtime_text: Optional[str] = plan.get("runtime_version")
    runtime_now = parse_version(runtime_now_text, f"Node {name} containerRuntimeVersion", True)
    if planned_runtime_text:
        runtime_planned = parse_version(planned_runtime_text, "winkube_plan.runtime_version", True)
        runtime_upgrade = _step(runtime, runtime_now, runtime_planned, name, one_minor=False)
    elif runtime == "mcr":
        raise ValueError(
            f"Node {name} runs MCR {runtime_now} and the plan has no MCR version to compare it with; set mcr_version "
            "to the release to run"
        )
    else:
        raise ValueError("winkube_plan.runtime_version is missing; run the winkube.node.preflight role first")
    kubernetes_upgrade = _step("kubelet", kubelet_now, kubelet_planned, name, one_minor=True)
    return {
        "node": name,
        "kubernetes": {"current": str(kubelet_now), "planned": str(kubelet_planned), "upgrade": kubernetes_upgrade},
        "runtime": {
            "name": runtime,
            "current": str(runtime_now),
            "planned": str(runtime_planned),
            "upgrade": runtime_upgrade,
        },
        "minor_upgrade": (kubelet_planned.major, kubelet_planned.minor) != (kubelet_now.major, kubelet_now.minor),
        "any": kubernetes_upgrade or runtime_upgrade,
    }


# ---------------------------------------------------------------------------------------------
# HNS state a reset removes

# HNS ids are GUIDs; Get-HnsNetwork/Get-HnsEndpoint print them without braces (windows ground
# truth section 10.2: `ID : 28893E01-AC8D-4BE6-85D4-7CD3A78611C1`).
_HNS_ID = re.compile(r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$")
# What roles/reset/files/hns_state.ps1 prints: one object with these properties.
_HNS_PROBE_KEYS = ("Networks", "Endpoints", "Unavailable")


def _hns_probe(result: Any) -> Mapping[str, Any]:
    if not isinstance(result, Mapping):
        raise ValueError(f"expected the win_powershell result of hns_state.ps1, got {type(result).__name__}")
    output = result.get("output")
    if not isinstance(output, list) or len(output) != 1 or not isinstance(output[0], Mapping):
        count = len(output) if isinstance(output, list) else "no"
        raise ValueError(f"the HNS probe printed {count} objects, expected the one object of hns_state.ps1")
    found = output[0]
    missing = [key for key in _HNS_PROBE_KEYS if key not in found]
    if missing:
        raise ValueError(f"the HNS probe's object has no {', '.join(missing)}: it is not hns_state.ps1's")
    return found


def _hns_objects(value: Any, what: str) -> List[Mapping[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
        raise ValueError(f"the HNS probe's {what} must be a list of objects, got {type(value).__name__}")
    return value


def _hns_id(obj: Mapping[str, Any], key: str, what: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not _HNS_ID.match(value):
        raise ValueError(
            f"{what} has {key} {value!r}, not an HNS id (a GUID such as 28893E01-AC8D-4BE6-85D4-7CD3A78611C1)"
        )
    return value


def _hns_text(obj: Mapping[str, Any], key: str, what: str) -> str:
    # A property HNS leaves out of an object comes back as null; only a non-string is bad input.
    value = obj.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError(f"{what} has {key} {value!r}, not a string")
    return value


def _network_names(names: Any) -> Set[str]:
    if isinstance(names, (str, bytes)) or not isinstance(names, (list, tuple)):
        raise ValueError(f"reset_hns_networks must be a list of HNS network names, got {names!r}")
    for name in names:
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"reset_hns_networks holds {name!r}; every entry must be a network name such as Calico")
    # HNS compares network names without case (Get-HnsNetwork | ? Name -eq 'calico' finds Calico).
    return {name.strip().lower() for name in names}


def _parse_networks(raw: List[Mapping[str, Any]], seen: Set[str]) -> List[Dict[str, str]]:
    out = []
    for n in raw:
        nid = _unique_id(_hns_id(n, "ID", "an HNS network"), seen)
        what = f"HNS network {nid}"
        out.append({"id": nid, "name": _hns_text(n, "Name", what), "type": _hns_text(n, "Type", what)})
    return out


def _parse_endpoints(raw: List[Mapping[str, Any]], seen: Set[str]) -> List[Dict[str, str]]:
    out = []
    for e in raw:
        eid = _unique_id(_hns_id(e, "ID", "an HNS endpoint"), seen)
        what = f"HNS endpoint {eid}"
        network = "" if e.get("VirtualNetwork") in (None, "") else _hns_id(e, "VirtualNetwork", what)
        out.append(
            {
                "id": eid,
                "name": _hns_text(e, "Name", what),
                "network_id": network,
                "network_name": _hns_text(e, "VirtualNetworkName", what),
            }
        )
    return out


def _unique_id(obj_id: str, seen: Set[str]) -> str:
    # HNS never lists an object twice; a probe that does is not one to delete from.
    if obj_id.lower() in seen:
        raise ValueError(f"the HNS probe lists the id {obj_id} twice")
    seen.add(obj_id.lower())
    return obj_id


def reset_hns(probe: Any, networks: Any) -> Dict[str, Any]:
    """The HNS endpoints and networks a reset deletes, in the order to delete them.

    ``probe`` is what hns_state.ps1 printed through win_powershell (the HNS networks with ID, Name,
    Type and the endpoints with ID, Name, VirtualNetwork, VirtualNetworkName), ``networks`` the
    names of the networks to delete (``reset_hns_networks``). A network goes when its name is listed
    (without case, as HNS compares names); an endpoint goes when the network it is attached to goes,
    or, when that network no longer exists, when the name it records (VirtualNetworkName) is listed:
    such an endpoint is a leftover of a CNI network removed before it. Endpoints come first: each
    holds a port on its network's switch. Every other network and endpoint stays (``nat``,
    ``External``, a Hyper-V switch's). Without the HNS cmdlets (no Containers feature) there is no
    HNS state and nothing to delete; ``available`` is false and ``reason`` says why.
    """
    listed = _network_names(networks)
    found = _hns_probe(probe)
    raw_networks = _hns_objects(found["Networks"], "Networks")
    raw_endpoints = _hns_objects(found["Endpoints"], "Endpoints")
    unavailable = found["Unavailable"]
    if unavailable is not None:
        if not isinstance(unavailable, str) or not unavailable or raw_networks or raw_endpoints:
            raise ValueError(
                f"the HNS probe says the HNS cmdlets are unavailable ({unavailable!r}) and lists HNS objects"
            )
        return _hns_result(False, unavailable, [], [], [])
    seen: Set[str] = set()
    all_networks = _parse_networks(raw_networks, seen)
    by_id = {n["id"].lower(): n for n in all_networks}
    doomed = [n for n in all_networks if n["name"].lower() in listed]
    doomed_ids = {n["id"].lower() for n in doomed}
    endpoints = []
    for e in _parse_endpoints(raw_endpoints, seen):
        attached = by_id.get(e["network_id"].lower())
        goes = attached["id"].lower() in doomed_ids if attached else e["network_name"].lower() in listed
        if goes:
            network = attached["name"] if attached else e["network_name"]
            endpoints.append({"id": e["id"], "name": e["name"], "network": network})
    kept = [n["name"] for n in all_networks if n["id"].lower() not in doomed_ids]
    return _hns_result(True, None, endpoints, doomed, kept)


def _hns_result(
    available: bool,
    reason: Optional[str],
    endpoints: List[Dict[str, str]],
    networks: List[Dict[str, str]],
    kept: List[str],
) -> Dict[str, Any]:
    endpoint_ids = [e["id"] for e in endpoints]
    network_ids = [n["id"] for n in networks]
    return {
        "available": available,
        "reason": reason,
        "endpoints": endpoints,
        "networks": networks,
        "endpoint_ids": endpoint_ids,
        "network_ids": network_ids,
        "ids": endpoint_ids + network_ids,
        "kept_networks": kept,
    }
