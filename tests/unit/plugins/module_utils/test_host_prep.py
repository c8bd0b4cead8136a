# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""host_prep decisions: Defender exclusions from real plans, firewall rules per CNI, and loud refusals."""

from __future__ import annotations

import copy
from typing import Any, Dict, List

import pytest
from ansible_collections.winkube.node.plugins.module_utils import host_prep
from ansible_collections.winkube.node.plugins.module_utils.node_facts import windows_node_facts
from ansible_collections.winkube.node.plugins.module_utils.plan import resolve_plan

SHA = "ab" * 32


def plan(**inputs: Any) -> Dict[str, Any]:
    """A plan exactly as preflight resolves it for a WS2022 node."""
    node = windows_node_facts({"CurrentBuildNumber": "20348", "UBR": 2527, "InstallationType": "Server"})
    return resolve_plan(inputs, node)


CONTAINERD = plan()
MCR = plan(winkube_container_runtime="mcr", mcr_installer_sha256=SHA, cri_dockerd_sha256=SHA)


# --------------------------------------------------------------------------------------------
# Defender exclusions


@pytest.mark.parametrize(
    ("the_plan", "paths", "processes"),
    [
        (
            CONTAINERD,
            [
                r"C:\ProgramData\containerd\root",
                r"C:\ProgramData\containerd\state",
                r"C:\var\lib\kubelet",
                r"C:\var\log\kubelet",
            ],
            ["containerd.exe", "containerd-shim-runhcs-v1.exe", r"C:\k\kubelet.exe", "kube-proxy.exe"],
        ),
        (
            MCR,
            [r"C:\ProgramData\Docker", r"C:\var\lib\kubelet", r"C:\var\log\kubelet"],
            [r"C:\Program Files\Docker\dockerd.exe", "cri-dockerd.exe", r"C:\k\kubelet.exe", "kube-proxy.exe"],
        ),
    ],
    ids=["containerd", "mcr"],
)
def test_exclusions_follow_the_plan(the_plan: Dict[str, Any], paths: List[str], processes: List[str]) -> None:
    assert host_prep.defender_exclusions(the_plan) == {"paths": paths, "processes": processes}


def test_exclusions_use_the_plan_paths_not_defaults() -> None:
    moved = copy.deepcopy(CONTAINERD)
    moved["containerd"]["root"] = r"D:\containerd\root"
    moved["kubernetes_paths"]["bin_dir"] = r"D:\kube"
    result = host_prep.defender_exclusions(moved)
    assert result["paths"][0] == r"D:\containerd\root"
    assert r"D:\kube\kubelet.exe" in result["processes"]


def test_binary_directories_are_not_excluded_by_default() -> None:
    paths = [p.lower() for p in host_prep.defender_exclusions(CONTAINERD)["paths"]]
    assert r"c:\k" not in paths and CONTAINERD["containerd"]["install_dir"].lower() not in paths


def test_extra_entries_are_appended_once_without_case() -> None:
    result = host_prep.defender_exclusions(
        CONTAINERD, [r"C:\k", r"c:\VAR\lib\kubelet\\"], ["calico.exe", "CONTAINERD.EXE", r"C:\opt\cni\bin\calico.exe"]
    )
    assert result["paths"][-1] == r"C:\k" and len(result["paths"]) == 5
    assert result["processes"][-2:] == ["calico.exe", r"C:\opt\cni\bin\calico.exe"]
    assert len(result["processes"]) == 6


@pytest.mark.parametrize(
    ("extra_paths", "extra_processes", "message"),
    [
        (["C:\\"], None, r"refusing to exclude whole drives \['C:\\\\'\]"),
        ([r"e:\\", "E:/"], None, r"whole drives \['e:\\\\\\\\', 'E:/'\]"),
        (["d:"], None, "refusing to exclude whole drives"),
        ("C:\\k", None, "extra_paths must be a list of strings, got str"),
        ([""], None, "extra_paths must hold non-empty strings"),
        ([" C:\\k"], None, "surrounding blanks"),
        (None, ["kubelet.exe\n"], "extra_processes entry .* control characters"),
        (None, [1], "extra_processes must hold non-empty strings, got 1"),
    ],
)
def test_bad_extra_entries_are_refused(extra_paths: Any, extra_processes: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        host_prep.defender_exclusions(CONTAINERD, extra_paths, extra_processes)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda p: p.pop("runtime"), r"winkube_plan\.runtime is missing: run winkube.node.preflight first"),
        (lambda p: p.update(runtime="docker"), "winkube_plan.runtime 'docker' is neither containerd nor mcr"),
        (lambda p: p.update(containerd=None), r"winkube_plan\.containerd is missing"),
        (lambda p: p["containerd"].pop("state"), r"winkube_plan\.containerd\.state is missing"),
        (lambda p: p["kubernetes_paths"].pop("kubelet_log_dir"), r"kubernetes_paths\.kubelet_log_dir is missing"),
    ],
)
def test_an_incomplete_plan_is_refused(mutate: Any, message: str) -> None:
    broken = copy.deepcopy(CONTAINERD)
    mutate(broken)
    with pytest.raises(ValueError, match=message):
        host_prep.defender_exclusions(broken)


def test_a_plan_that_is_not_a_mapping_is_refused() -> None:
    with pytest.raises(ValueError, match=r"winkube_plan\.runtime is missing"):
        host_prep.defender_exclusions(None)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# firewall rules


def states(rules: List[Dict[str, Any]]) -> Dict[str, str]:
    return {r["name"]: r["state"] for r in rules}


@pytest.mark.parametrize(
    ("cni", "expected"),
    [
        ("none", {"winkube-kubelet": "present", "winkube-calico-vxlan": "absent", "winkube-flannel-vxlan": "absent"}),
        (
            "calico",
            {"winkube-kubelet": "present", "winkube-calico-vxlan": "present", "winkube-flannel-vxlan": "absent"},
        ),
        (
            "flannel",
            {"winkube-kubelet": "present", "winkube-calico-vxlan": "absent", "winkube-flannel-vxlan": "present"},
        ),
    ],
)
def test_each_cni_opens_only_its_own_port(cni: str, expected: Dict[str, str]) -> None:
    assert states(host_prep.firewall_rules(cni)) == expected


def test_present_rules_are_complete_inbound_allow_rules() -> None:
    kubelet, calico, flannel = host_prep.firewall_rules("calico", ["10.0.0.0/8"], ["private", "domain"])
    assert kubelet == {
        "name": "winkube-kubelet",
        "state": "present",
        "description": "winkube.node: kubelet API (logs, exec, port-forward, metrics)",
        "direction": "in",
        "action": "allow",
        "protocol": "tcp",
        "localport": "10250",
        "remoteip": "10.0.0.0/8",
        "profiles": ["domain", "private"],
        "enabled": True,
    }
    assert (calico["protocol"], calico["localport"], calico["remoteip"]) == ("udp", "4789", "10.0.0.0/8")
    assert flannel == {"name": "winkube-flannel-vxlan", "state": "absent"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("any", "any"),
        ("ANY", "any"),
        (["*"], "any"),
        (["10.0.0.0/8", "192.168.1.10"], "10.0.0.0/8,192.168.1.10"),
        ("10.0.0.0/8, fd00::/64", "10.0.0.0/8,fd00::/64"),
        (["10.0.0.1-10.0.0.9"], "10.0.0.1-10.0.0.9"),
        (["10.0.0.0/255.0.0.0"], "10.0.0.0/255.0.0.0"),
        (["localsubnet", "DefaultGateway"], "LocalSubnet,DefaultGateway"),
    ],
)
def test_remote_addresses(value: Any, expected: str) -> None:
    assert host_prep.remote_addresses(value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("10.0.0.0/33", "is not an IP address, a subnet"),
        (["proxy.example"], "'proxy.example' is not an IP address"),
        (["10.0.0.9-10.0.0.1"], "'10.0.0.9-10.0.0.1' is not"),
        (["10.0.0.1-fd00::1"], "is not an IP address"),
        (["any", "10.0.0.0/8"], "mixes 'any' with other entries"),
        ([], "has empty entries"),
        ("10.0.0.0/8,", "has empty entries"),
        (None, "must be 'any' or a list of strings"),
        ([10], "must be 'any' or a list of strings"),
    ],
)
def test_bad_remote_addresses_are_refused(value: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        host_prep.firewall_rules("none", value)


@pytest.mark.parametrize(
    ("profiles", "message"),
    [
        ([], "must be a non-empty list"),
        ("public", "must be a non-empty list"),
        (["Public"], r"unknown firewall profiles \['Public'\]"),
    ],
)
def test_bad_profiles_are_refused(profiles: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        host_prep.firewall_rules("none", "any", profiles)


@pytest.mark.parametrize("cni", ["Calico", "cilium", None, ""])
def test_unknown_cni_is_refused(cni: Any) -> None:
    with pytest.raises(ValueError, match="unknown CNI"):
        host_prep.firewall_rules(cni)


def test_profiles_are_deduplicated_in_a_fixed_order() -> None:
    rule = host_prep.firewall_rules("none", "any", ["public", "domain", "public"])[0]
    assert rule["profiles"] == ["domain", "public"]
