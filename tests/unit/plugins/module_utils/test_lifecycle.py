# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Lifecycle decisions: what a reset removes from real plans, what an upgrade changes, and loud refusals."""

from __future__ import annotations

import copy
from typing import Any, Dict

import pytest
from ansible_collections.winkube.node.plugins.module_utils import lifecycle
from ansible_collections.winkube.node.plugins.module_utils.node_facts import windows_node_facts
from ansible_collections.winkube.node.plugins.module_utils.plan import resolve_plan

SHA = "ab" * 32


def plan(**inputs: Any) -> Dict[str, Any]:
    """A plan exactly as preflight resolves it for a WS2022 node."""
    node = windows_node_facts({"CurrentBuildNumber": "20348", "UBR": 2527, "InstallationType": "Server"})
    return resolve_plan(inputs, node)


CONTAINERD = plan(winkube_kubernetes_version="1.34.2", containerd_version="2.1.4")
MCR = plan(
    winkube_kubernetes_version="1.34.2",
    winkube_container_runtime="mcr",
    mcr_version="25.0.14",
    mcr_installer_sha256=SHA,
    cri_dockerd_sha256=SHA,
)
STATE = r"C:\ProgramData\winkube\state"


# --------------------------------------------------------------------------------------------
# reset_targets


def test_a_default_reset_keeps_runtime_binaries_and_logs() -> None:
    t = lifecycle.reset_targets(CONTAINERD)
    assert t == {
        "services": ["kubelet", "kube-proxy"],
        "kubeadm": r"C:\k\kubeadm.exe",
        "kubeadm_markers": [
            r"C:\etc\kubernetes\kubelet.conf",
            r"C:\etc\kubernetes\bootstrap-kubelet.conf",
            r"C:\etc\kubernetes\pki\ca.crt",
            r"C:\var\lib\kubelet\config.yaml",
            r"C:\var\lib\kubelet\kubeadm-flags.env",
        ],
        "cri_socket": "npipe:////./pipe/containerd-containerd",
        "folders": [
            r"C:\Program Files\containerd\cni\conf",
            r"C:\Program Files\containerd\cni\bin",
            r"C:\var\lib\kubelet",
            r"C:\etc\kubernetes",
        ],
        "path_entries": [],
        "state_files": [STATE + r"\join.json", STATE + r"\kubernetes.json"],
        "runtime": None,
    }


def test_removing_the_runtime_takes_its_folders_service_path_and_state() -> None:
    t = lifecycle.reset_targets(CONTAINERD, remove_runtime=True, remove_binaries=True, remove_logs=True)
    assert t["services"] == ["kubelet", "kube-proxy"]
    # The CNI folders are inside the install folder, which goes as a whole.
    assert t["folders"] == [r"C:\var\lib\kubelet", r"C:\etc\kubernetes", r"C:\var\log\kubelet", r"C:\k"]
    assert t["path_entries"] == [r"C:\k"]
    assert t["state_files"] == [STATE + r"\join.json", STATE + r"\kubernetes.json"]
    assert t["runtime"] == {
        "service": "containerd",
        "folders": [
            r"C:\Program Files\containerd",
            r"C:\ProgramData\containerd\root",
            r"C:\ProgramData\containerd\state",
        ],
        "path_entry": r"C:\Program Files\containerd\bin",
        "state_file": STATE + r"\containerd.json",
    }


def test_cni_folders_outside_the_install_folder_are_removed_with_the_runtime() -> None:
    moved = copy.deepcopy(CONTAINERD)
    moved["containerd"]["cni_bin_dir"] = r"C:\opt\cni\bin"
    t = lifecycle.reset_targets(moved, remove_runtime=True)
    assert t["folders"] == [r"C:\opt\cni\bin", r"C:\var\lib\kubelet", r"C:\etc\kubernetes"]


def test_mcr_cni_folders_and_socket_come_from_cri_dockerd() -> None:
    t = lifecycle.reset_targets(MCR)
    cri = MCR["mcr"]["cri_dockerd"]
    assert t["folders"][:2] == [cri["cni_conf_dir"], cri["cni_bin_dir"]]
    assert t["cri_socket"] == "npipe:////./pipe/cri-dockerd"
    assert t["services"] == ["kubelet", "kube-proxy"]
    assert t["runtime"] is None


def test_removing_mcr_is_left_to_its_installer() -> None:
    with pytest.raises(ValueError, match=r"removes containerd only; remove the Mirantis Container Runtime"):
        lifecycle.reset_targets(MCR, remove_runtime=True)


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("C:\\", r"refusing to remove C: \(cni_conf_dir\)"),
        ("C:", "must be an absolute Windows path with a drive"),
        ("C:\\Windows\\", r"refusing to remove C:\\Windows \(cni_conf_dir\): it is a system folder"),
        (r"c:\program files", "it is a system folder"),
        (r"C:\Program Files\.", "it is a system folder"),
        (r"C:\var", "it is a system folder"),
        (r"cni\conf", "must be an absolute Windows path with a drive"),
        (r"\\server\share", "must be an absolute Windows path with a drive"),
        (None, r"winkube_plan.containerd.cni_conf_dir is missing"),
    ],
)
def test_a_dangerous_or_missing_folder_is_refused(path: Any, message: str) -> None:
    bad = copy.deepcopy(CONTAINERD)
    bad["containerd"]["cni_conf_dir"] = path
    with pytest.raises(ValueError, match=message):
        lifecycle.reset_targets(bad)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"runtime": "podman"}, "winkube_plan.runtime 'podman' is neither containerd nor mcr"),
        ({"kubernetes_paths": None}, "winkube_plan.kubernetes_paths is missing; run the winkube.node.preflight"),
        ({"containerd": "yes"}, "winkube_plan.containerd must be a mapping, got str"),
    ],
)
def test_a_plan_that_is_not_preflights_is_refused(change: Dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        lifecycle.reset_targets({**CONTAINERD, **change})


def test_not_a_plan_at_all() -> None:
    with pytest.raises(ValueError, match="winkube_plan must be a mapping, got list"):
        lifecycle.reset_targets([])


# --------------------------------------------------------------------------------------------
# upgrade_actions


def node(kubelet: str = "v1.33.5", runtime: str = "containerd://2.1.4", name: str = "win2022") -> Dict[str, Any]:
    """A Node object as kubernetes.core.k8s_info returns it (the fields the decision reads)."""
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": {"kubernetes.io/os": "windows"}},
        "spec": {},
        "status": {
            "nodeInfo": {
                "kubeletVersion": kubelet,
                "kubeProxyVersion": kubelet,
                "containerRuntimeVersion": runtime,
                "operatingSystem": "windows",
            }
        },
    }


@pytest.mark.parametrize(
    ("kubelet", "runtime", "kubernetes", "runtime_upgrade", "minor"),
    [
        ("v1.33.5", "containerd://2.1.4", True, False, True),  # the next minor
        ("v1.34.0", "containerd://2.1.4", True, False, False),  # a patch
        ("v1.34.2", "containerd://2.0.6", False, True, False),  # the runtime only
        ("v1.33.5", "containerd://1.7.31", True, True, True),  # both
        ("v1.34.2", "containerd://2.1.4", False, False, False),  # converged: nothing to do
    ],
)
def test_what_an_upgrade_changes(
    kubelet: str, runtime: str, kubernetes: bool, runtime_upgrade: bool, minor: bool
) -> None:
    a = lifecycle.upgrade_actions(node(kubelet, runtime), CONTAINERD)
    assert a["node"] == "win2022"
    assert a["kubernetes"] == {"current": kubelet.lstrip("v"), "planned": "1.34.2", "upgrade": kubernetes}
    assert a["runtime"] == {
        "name": "containerd",
        "current": runtime.split("://")[1],
        "planned": "2.1.4",
        "upgrade": runtime_upgrade,
    }
    assert a["minor_upgrade"] is minor
    assert a["any"] is (kubernetes or runtime_upgrade)


def test_mcr_is_compared_with_the_pinned_release() -> None:
    a = lifecycle.upgrade_actions(node("v1.34.2", "docker://25.0.13"), MCR)
    assert a["runtime"] == {"name": "mcr", "current": "25.0.13", "planned": "25.0.14", "upgrade": True}
    assert a["kubernetes"]["upgrade"] is False


@pytest.mark.parametrize(
    ("obj", "plan_", "message"),
    [
        (
            node("v1.35.0"),
            CONTAINERD,
            r"runs kubelet 1.35.0, newer than the planned 1.34.2: an upgrade never downgrades",
        ),
        (node("v1.32.9"), CONTAINERD, r"1.34.2 skips a minor, which kubeadm does not support: upgrade to 1.33.z first"),
        (node(runtime="containerd://2.2.0"), CONTAINERD, r"runs containerd 2.2.0, newer than the planned 2.1.4"),
        (node(runtime="docker://25.0.14"), CONTAINERD, r"runs docker, the plan has containerd \(containerd://\)"),
        (node(runtime="containerd"), CONTAINERD, r"containerRuntimeVersion 'containerd', not <runtime>://<version>"),
        (node(kubelet="v1.34"), CONTAINERD, r"kubeletVersion 1.34 needs a patch number"),
        (node(kubelet="v1.34.1-rc.1"), CONTAINERD, r"is a pre-release"),
        ({"metadata": {"name": "w"}}, CONTAINERD, r"Node w has no status.nodeInfo: its kubelet never posted status"),
        ({"kind": "Node"}, CONTAINERD, r"expected a Node object"),
        (node("v1.34.2", "docker://25.0.14"), {**MCR, "runtime_version": None}, r"set mcr_version"),
        (node(), {**CONTAINERD, "runtime_version": None}, r"winkube_plan.runtime_version is missing"),
        (node(), {**CONTAINERD, "runtime": "cri-o"}, r"'cri-o' is neither containerd nor mcr"),
    ],
)
def test_an_upgrade_that_cannot_be_done_is_refused(obj: Any, plan_: Dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        lifecycle.upgrade_actions(obj, plan_)


def test_a_node_without_the_runtime_version_is_refused() -> None:
    obj = node()
    del obj["status"]["nodeInfo"]["containerRuntimeVersion"]
    with pytest.raises(ValueError, match=r"Node win2022 reports no status.nodeInfo.containerRuntimeVersion"):
        lifecycle.upgrade_actions(obj, CONTAINERD)
