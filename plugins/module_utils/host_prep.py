# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Host preparation decisions: which Defender exclusions and which firewall rules a node needs.

Both are derived from the node's plan (``winkube_plan``, resolved by preflight) and the role's own
options; nothing here re-derives what preflight decided, it only maps the plan's paths and the
chosen CNI to the entries Windows needs. Pure functions; every bad input raises ValueError.

Abbreviations: AB = Azure/AgentBaker, IB = kubernetes-sigs/image-builder, SWT =
kubernetes-sigs/sig-windows-tools, RKE2 = rancher/rke2, MSD = Microsoft Defender Antivirus docs
(MicrosoftDocs/microsoft-365-docs, defender-endpoint/configure-*-exclusions-*.md).
"""

from __future__ import annotations

import ipaddress
import ntpath
import re
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

# ---------------------------------------------------------------------------------------------
# Microsoft Defender exclusions

# MCR's installer always puts the engine here (windows ground truth section 8.1: "Installed engine:
# C:\Program Files\Docker\dockerd.exe"); the plan records the data root, not the binary.
MCR_ENGINE = r"C:\Program Files\Docker\dockerd.exe"

# Process exclusions only stop Defender scanning the files a process opens; the process image
# itself is still scanned (MSD configure-process-opened-file-exclusions). An entry is either a full
# path (only that binary) or an image name (any process of that name, MSD's "test.exe" example).
# A full path is used where the plan or an installer fixes the binary's location, the image name
# where it does not:
# - kubelet.exe: the plan's kubernetes_paths.bin_dir is where the collection installs and registers it.
# - dockerd.exe: MCR's installer fixes C:\Program Files\Docker.
# - containerd.exe and containerd-shim-runhcs-v1.exe: the plan fixes containerd's install_dir but not the
#   layout of the release archive under it (bin\ or flattened), and containerd starts the shim from its
#   own directory; AB excludes both by name.
# - kube-proxy.exe: it may run as a HostProcess pod from a per-container sandbox mount, not from bin_dir.
# - cri-dockerd.exe: its location is the mcr role's choice, not part of the plan.
_CONTAINERD_PROCESSES = ("containerd.exe", "containerd-shim-runhcs-v1.exe")
_KUBE_PROXY_PROCESS = "kube-proxy.exe"
_CRI_DOCKERD_PROCESS = "cri-dockerd.exe"

_DRIVE_ROOT = re.compile(r"^[A-Za-z]:[\\/]*$")
_CONTROL = re.compile(r"[\x00-\x1f]")


def _required(mapping: Any, key: str, where: str) -> Any:
    if not isinstance(mapping, Mapping) or mapping.get(key) in (None, ""):
        raise ValueError(f"{where}.{key} is missing: run winkube.node.preflight first (it sets winkube_plan)")
    return mapping[key]


def _entries(values: Any, what: str) -> List[str]:
    if values is None:
        return []
    if isinstance(values, str) or not isinstance(values, Sequence):
        raise ValueError(f"{what} must be a list of strings, got {type(values).__name__}")
    out = []
    for value in values:
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"{what} must hold non-empty strings, got {value!r}")
        if value != value.strip() or _CONTROL.search(value):
            raise ValueError(f"{what} entry {value!r} has surrounding blanks or control characters")
        out.append(value)
    return out


def _unique(values: Sequence[str]) -> List[str]:
    """First spelling of each entry; Defender compares exclusions without case, as NTFS names do."""
    seen: Dict[str, str] = {}
    for value in values:
        seen.setdefault(value.lower().rstrip("\\"), value)
    return list(seen.values())


def _refuse_drive_roots(paths: Sequence[str]) -> None:
    # Excluding a whole drive switches real-time protection off for it: never by mistake.
    roots = [p for p in paths if _DRIVE_ROOT.match(p)]
    if roots:
        raise ValueError(f"refusing to exclude whole drives {roots} from Defender; exclude the directories instead")


def defender_exclusions(
    plan: Mapping[str, Any], extra_paths: Any = None, extra_processes: Any = None
) -> Dict[str, List[str]]:
    """The Defender path and process exclusions of a node: its runtime's data directories and the
    kubelet's, the runtime and Kubernetes processes, then the user's extra entries.

    Paths: containerd's root and state (image layers and snapshots, the churn AB excludes) or MCR's
    data root, and the kubelet's directory and log directory. The binary directories (containerd's
    install_dir, bin_dir ``C:\\k``) are deliberately not excluded: they hold executables, which is
    what Defender must keep scanning; add them to ``extra_paths`` to decide otherwise.
    """
    runtime = _required(plan, "runtime", "winkube_plan")
    kube = _required(plan, "kubernetes_paths", "winkube_plan")
    paths: List[str] = []
    processes: List[str] = []
    if runtime == "containerd":
        containerd = _required(plan, "containerd", "winkube_plan")
        paths += [
            _required(containerd, "root", "winkube_plan.containerd"),
            _required(containerd, "state", "winkube_plan.containerd"),
        ]
        processes += list(_CONTAINERD_PROCESSES)
    elif runtime == "mcr":
        mcr = _required(plan, "mcr", "winkube_plan")
        paths.append(_required(mcr, "data_root", "winkube_plan.mcr"))
        processes += [MCR_ENGINE, _CRI_DOCKERD_PROCESS]
    else:
        raise ValueError(f"winkube_plan.runtime {runtime!r} is neither containerd nor mcr")
    paths += [
        _required(kube, "kubelet_dir", "winkube_plan.kubernetes_paths"),
        _required(kube, "kubelet_log_dir", "winkube_plan.kubernetes_paths"),
    ]
    processes += [
        ntpath.join(_required(kube, "bin_dir", "winkube_plan.kubernetes_paths"), "kubelet.exe"),
        _KUBE_PROXY_PROCESS,
    ]
    paths = _unique(paths + _entries(extra_paths, "extra_paths"))
    _refuse_drive_roots(paths)
    return {"paths": paths, "processes": _unique(processes + _entries(extra_processes, "extra_processes"))}


# ---------------------------------------------------------------------------------------------
# Firewall rules

# kubelet's --port default (kubelet command-line reference); IB and SWT open exactly this, inbound TCP.
KUBELET_PORT = 10250
# The IANA VXLAN port. Calico's VXLAN backend on Windows uses it (RKE2 pkg/windows/utils.go adds
# OverlayTraffic4789UDP for it) and so does flannel's vxlan backend for Windows (SWT flannel-overlay.yml:
# VNI 4096, Port 4789). Calico's BGP mode (TCP 179) is not covered: only the VXLAN backends are.
VXLAN_PORT = 4789

PROFILES = ("domain", "private", "public")
CNIS = ("none", "calico", "flannel")
# INetFwRule.RemoteAddresses keywords besides addresses, ranges and subnets (Windows Firewall COM docs).
_ADDRESS_KEYWORDS = {
    "localsubnet": "LocalSubnet",
    "dns": "DNS",
    "dhcp": "DHCP",
    "wins": "WINS",
    "defaultgateway": "DefaultGateway",
}


@dataclass(frozen=True)
class FirewallRule:
    name: str
    protocol: str
    port: int
    description: str
    cni: Optional[str]  # None: needed on every node


# Every rule the role manages. A rule not wanted for the node is made absent, so changing host_prep_cni
# closes what the previous CNI opened: the node never keeps a port nobody asked for.
FIREWALL_RULES: Tuple[FirewallRule, ...] = (
    FirewallRule("winkube-kubelet", "tcp", KUBELET_PORT, "kubelet API (logs, exec, port-forward, metrics)", None),
    FirewallRule("winkube-calico-vxlan", "udp", VXLAN_PORT, "Calico VXLAN overlay between nodes", "calico"),
    FirewallRule("winkube-flannel-vxlan", "udp", VXLAN_PORT, "flannel VXLAN overlay between nodes", "flannel"),
)


def _address(entry: str) -> str:
    """One RemoteAddresses token, validated: an address, a subnet, a range or a keyword."""
    keyword = _ADDRESS_KEYWORDS.get(entry.lower())
    if keyword:
        return keyword
    try:
        if "-" in entry:
            low, high = (ipaddress.ip_address(part.strip()) for part in entry.split("-", 1))
            if low.version != high.version or int(low) > int(high):
                raise ValueError(entry)
        elif "/" in entry:
            ipaddress.ip_network(entry, strict=False)
        else:
            ipaddress.ip_address(entry)
    except ValueError:
        raise ValueError(
            f"remote address {entry!r} is not an IP address, a subnet (10.0.0.0/8), a range (10.0.0.1-10.0.0.9) "
            f"or one of {', '.join(sorted(_ADDRESS_KEYWORDS.values()))}"
        ) from None
    return entry


def remote_addresses(value: Any) -> str:
    """The win_firewall_rule ``remoteip`` for ``any`` or a list (or comma-separated string) of entries."""
    if isinstance(value, str):
        items = [i.strip() for i in value.split(",")]
    elif isinstance(value, Sequence) and all(isinstance(i, str) for i in value):
        items = [i.strip() for i in value]
    else:
        raise ValueError(f"remote addresses must be 'any' or a list of strings, got {value!r}")
    if not items or any(not i for i in items):
        raise ValueError(f"remote addresses {value!r} has empty entries; use 'any' to allow every address")
    if [i.lower() for i in items] in (["any"], ["*"]):
        return "any"
    if any(i.lower() in ("any", "*") for i in items):
        raise ValueError(f"remote addresses {value!r} mixes 'any' with other entries")
    return ",".join(_address(i) for i in items)


def firewall_profiles(value: Any) -> List[str]:
    if isinstance(value, str) or not isinstance(value, Sequence) or not value:
        raise ValueError(f"firewall profiles must be a non-empty list of {', '.join(PROFILES)}, got {value!r}")
    bad = [p for p in value if p not in PROFILES]
    if bad:
        raise ValueError(f"unknown firewall profiles {bad!r}; use {', '.join(PROFILES)}")
    return [p for p in PROFILES if p in value]


def firewall_rules(cni: Any, remote: Any = "any", profiles: Any = PROFILES) -> List[Dict[str, Any]]:
    """Every managed rule, ``state: present`` with its full definition when the node needs it and
    ``state: absent`` otherwise (each entry is a set of win_firewall_rule arguments)."""
    if cni not in CNIS:
        raise ValueError(f"unknown CNI {cni!r}; use one of {', '.join(CNIS)}")
    remoteip = remote_addresses(remote)
    wanted_profiles = firewall_profiles(profiles)
    rules = []
    for rule in FIREWALL_RULES:
        if rule.cni is not None and rule.cni != cni:
            rules.append({"name": rule.name, "state": "absent"})
            continue
        rules.append(
            {
                "name": rule.name,
                "state": "present",
                "description": f"winkube.node: {rule.description}",
                "direction": "in",
                "action": "allow",
                "protocol": rule.protocol,
                "localport": str(rule.port),
                "remoteip": remoteip,
                "profiles": wanted_profiles,
                "enabled": True,
            }
        )
    return rules
