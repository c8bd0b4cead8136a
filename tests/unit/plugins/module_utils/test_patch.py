# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Patch run decisions: what happens to a node, which services must run again, whether the images still
run on the updated build, and the report; with real plans and win_updates result shapes."""

from __future__ import annotations

import copy
from typing import Any, Dict, Optional

import pytest
from ansible_collections.winkube.node.plugins.module_utils import patch
from ansible_collections.winkube.node.plugins.module_utils.node_facts import windows_node_facts
from ansible_collections.winkube.node.plugins.module_utils.plan import resolve_plan

SHA = "ab" * 32
CU = "6a1f6f1e-3e55-4b3a-9a4e-1c2d3e4f5a60"
MSRT = "0b2c3d4e-5f60-4718-8293-a4b5c6d7e8f9"


def windows_node(build: int = 20348, ubr: int = 2527) -> Dict[str, Any]:
    return windows_node_facts({"CurrentBuildNumber": str(build), "UBR": ubr, "InstallationType": "Server"})


def plan(**inputs: Any) -> Dict[str, Any]:
    """A plan exactly as preflight resolves it for a WS2022 node."""
    return resolve_plan({"winkube_kubernetes_version": "1.34.2", **inputs}, windows_node())


CONTAINERD = plan(
    containerd_version="2.1.4", preflight_workload_images=[{"image": "web:1", "os_version": "10.0.20348.2527"}]
)
MCR = plan(winkube_container_runtime="mcr", mcr_version="25.0.14", mcr_installer_sha256=SHA, cri_dockerd_sha256=SHA)


def node(
    ready: str = "True", unschedulable: bool = False, annotations: Optional[Dict[str, str]] = None
) -> Dict[str, Any]:
    obj: Dict[str, Any] = {
        "metadata": {"name": "win2022", "annotations": annotations or {}},
        "spec": {"unschedulable": True} if unschedulable else {},
        "status": {"conditions": [{"type": "Ready", "status": ready, "reason": "KubeletReady"}]},
    }
    if ready != "True":
        obj["status"]["conditions"][0].update(
            reason="NodeStatusUnknown", message="Kubelet stopped posting node status."
        )
    return obj


def update(uid: str, title: str, kb: str, **extra: Any) -> Dict[str, Any]:
    return {"id": uid, "title": title, "kb": [kb], "categories": ["Security Updates"], **extra}


SEARCH = {
    "changed": False,
    "found_update_count": 1,
    "updates": {CU: update(CU, "2024-08 Cumulative Update (KB5041160)", "5041160", installed=False)},
    "filtered_updates": {
        MSRT: update(MSRT, "Malicious Software Removal Tool (KB890830)", "890830", filtered_reasons=["category_names"])
    },
}
NOTHING = {"changed": False, "found_update_count": 0, "updates": {}, "filtered_updates": {}}
INSTALL = {
    "changed": True,
    "rebooted": True,
    "updates": {
        CU: update(CU, "2024-08 Cumulative Update (KB5041160)", "5041160", installed=True, downloaded=True),
        MSRT: update(
            MSRT,
            "Malicious Software Removal Tool (KB890830)",
            "890830",
            installed=False,
            failure_hresult_code=0x80240022,
            failure_msg="Operation failed for all the updates (WU_E_ALL_UPDATES_FAILED 0x80240022)",
        ),
    },
    "filtered_updates": {},
}


# --------------------------------------------------------------------------------------------
# patch_actions


def test_a_ready_node_with_updates_is_patched_and_uncordoned() -> None:
    actions = patch.patch_actions(node(), SEARCH, "win2022")
    assert actions["patch"] and actions["run"] and not actions["resume"] and not actions["keep_cordoned"]
    assert actions["mark"] == patch.UNCORDON
    assert [u["id"] for u in actions["updates"]] == [CU]
    assert actions["filtered_updates"][0]["filtered_reasons"] == ["category_names"]
    assert actions["reason"] == "1 update(s) to install"


def test_a_node_without_updates_is_left_alone_even_when_not_ready() -> None:
    actions = patch.patch_actions(node(ready="Unknown"), NOTHING, "win2022")
    assert not actions["run"] and not actions["patch"] and actions["reason"] == "no update to install"


def test_a_node_cordoned_before_stays_cordoned() -> None:
    actions = patch.patch_actions(node(unschedulable=True), SEARCH, "win2022")
    assert actions["patch"] and actions["keep_cordoned"] and actions["mark"] == patch.KEEP_CORDONED


@pytest.mark.parametrize(("mark", "keep"), [(patch.UNCORDON, False), (patch.KEEP_CORDONED, True)])
def test_a_node_left_by_a_stopped_run_is_finished_even_without_updates(mark: str, keep: bool) -> None:
    left = node(ready="Unknown", unschedulable=True, annotations={patch.PATCHING_ANNOTATION: mark})
    actions = patch.patch_actions(left, NOTHING, "win2022")
    assert actions["resume"] and actions["run"] and not actions["patch"]
    assert actions["keep_cordoned"] is keep and actions["mark"] == mark
    assert "left Node win2022 cordoned" in actions["reason"]


def test_a_not_ready_node_is_not_patched() -> None:
    with pytest.raises(ValueError, match=r"Node win2022 is not Ready before its patch \(status=Unknown, reason=Node"):
        patch.patch_actions(node(ready="Unknown"), SEARCH, "win2022")


@pytest.mark.parametrize(
    ("obj", "search", "message"),
    [
        (None, SEARCH, "the cluster has no Node win2022: a patch run needs a joined node"),
        (node(), {"failed": True, "msg": "boom"}, "the update search failed: boom"),
        (node(), {"changed": False}, "has no 'updates': it is not a win_updates result"),
        (node(), {"updates": {CU: {"kb": []}}}, r"updates\[6a1f6f1e.*\] has no title"),
        (node(annotations={patch.PATCHING_ANNOTATION: "yes"}), SEARCH, "which a patch run never writes"),
        ("win2022", SEARCH, "Node win2022 must be a mapping, got str"),
    ],
)
def test_bad_inputs_are_refused(obj: Any, search: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        patch.patch_actions(obj, search, "win2022")


# --------------------------------------------------------------------------------------------
# patch_services


def test_services_are_kubelet_and_the_runtimes() -> None:
    assert patch.patch_services(CONTAINERD) == ["kubelet", "containerd"]
    assert patch.patch_services(MCR) == ["kubelet", "com.docker.service", "cri-dockerd"]
    assert patch.patch_services(MCR, "cri-dockerd-svc")[-1] == "cri-dockerd-svc"


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        ({"runtime": "crio"}, "winkube_plan.runtime 'crio' is neither containerd nor mcr"),
        ({"containerd": {"service_name": ""}}, "names no service for runtime containerd"),
        ({"containerd": None}, "winkube_plan.containerd must be a mapping"),
    ],
)
def test_services_of_a_broken_plan_are_refused(broken: Dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        patch.patch_services({**CONTAINERD, **broken})


# --------------------------------------------------------------------------------------------
# patch_image_check


def test_a_new_revision_keeps_every_image_running() -> None:
    check = patch.patch_image_check(windows_node(ubr=2582), CONTAINERD)
    assert check["ok"] and check["problems"] == [] and check["os_version"] == "10.0.20348.2582"
    assert check["pause"]["checked"] is True and check["pause"]["variant"] == "ltsc2022"
    assert check["workloads"][0]["checked"] is True
    assert "containerd 2.1.4" in check["workloads"][0]["reason"]


def test_a_changed_build_refuses_the_old_workload_image() -> None:
    # A node planned on Windows Server 2019 whose update moved it to the 2022 build (an in-place upgrade):
    # its 1809 workload image no longer runs with process isolation, the pause image has an ltsc2022 variant.
    older = copy.deepcopy(CONTAINERD)
    older["workload_images"] = [{"image": "app:1809", "os_version": "10.0.17763.6414"}]
    check = patch.patch_image_check(windows_node(ubr=2582), older)
    assert not check["ok"] and check["pause"]["checked"] is True
    assert check["problems"] == [
        "workload image app:1809 (os.version 10.0.17763.6414): " + check["workloads"][0]["reason"]
    ]
    assert "process isolation needs the same build" in check["workloads"][0]["reason"]


def test_windows_server_2016_needs_the_image_revision_to_follow_the_host() -> None:
    ws2016 = {**CONTAINERD, "workload_images": [{"image": "legacy:1", "os_version": "10.0.14393.7000"}]}
    check = patch.patch_image_check({"os_version": "10.0.14393.7259"}, ws2016)
    assert not check["ok"]
    assert "requires the same revision" in check["workloads"][0]["reason"]
    assert any(p.startswith("pause image mcr.microsoft.com/oss/kubernetes/pause:3.6 has no") for p in check["problems"])


def test_mcr_is_checked_by_microsofts_rule_only() -> None:
    check = patch.patch_image_check(windows_node(ubr=2582), MCR)
    assert check["ok"] and check["pause"]["checked"] is None
    assert "manifest matcher is not checked" in check["pause"]["reason"]


def test_an_unknown_pause_image_falls_back_to_the_plans_variants() -> None:
    pinned = {**CONTAINERD, "pause_image": "registry.example/pause@sha256:" + SHA, "pause_image_variants": []}
    check = patch.patch_image_check(windows_node(ubr=2582), pinned)
    assert check["ok"] and check["pause"]["checked"] is None
    assert check["pause"]["reason"].startswith("not checked: the variants the plan accepted (pause image")
    with_variants = {**pinned, "pause_image_variants": ["ltsc2022"]}
    assert patch.patch_image_check(windows_node(ubr=2582), with_variants)["pause"]["variant"] == "ltsc2022"


@pytest.mark.parametrize(
    ("facts", "message"),
    [
        ({"os_version": "10.0.20348"}, r"windows_node.os_version must be 10.0.<build>.<revision>"),
        (None, "windows_node must be a mapping"),
    ],
)
def test_image_check_refuses_bad_facts(facts: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        patch.patch_image_check(facts, CONTAINERD)


# --------------------------------------------------------------------------------------------
# patch_report


def test_report_of_a_patched_node() -> None:
    actions = patch.patch_actions(node(), SEARCH, "win2022")
    report = patch.patch_report(
        windows_node(), windows_node(ubr=2582), INSTALL, actions, timeline={"drain_started": 1.0}
    )
    assert report["status"] == "failed"  # one update failed
    assert (report["revision_before"], report["revision_after"]) == (2527, 2582)
    assert not report["build_changed"] and report["rebooted"]
    assert [u["id"] for u in report["installed"]] == [CU]
    assert report["failed"][0]["failure_hresult_code"] == 0x80240022
    assert report["timeline"] == {"drain_started": 1.0}
    assert report["summary"] == (
        "win2022: 10.0.20348.2527 -> 10.0.20348.2582; 1 update(s) installed: KB5041160; 1 failed"
    )


def test_report_in_check_mode_lists_what_would_be_installed() -> None:
    actions = patch.patch_actions(node(), SEARCH, "win2022")
    report = patch.patch_report(windows_node(), None, SEARCH, actions, check_mode=True)
    assert report["status"] == "would install" and report["installed"] == []
    assert [u["kb"] for u in report["would_install"]] == [["5041160"]]
    assert report["revision_after"] == report["revision_before"] == 2527
    assert report["summary"] == "win2022: 10.0.20348.2527; would install 1 update(s): KB5041160"


def test_report_of_a_node_with_nothing_to_do() -> None:
    actions = patch.patch_actions(node(), NOTHING, "win2022")
    report = patch.patch_report(windows_node(), None, NOTHING, actions)
    assert report["status"] == "up to date" and report["summary"] == "win2022: 10.0.20348.2527; no update to install"


def test_report_of_a_finished_run() -> None:
    left = node(unschedulable=True, annotations={patch.PATCHING_ANNOTATION: patch.UNCORDON})
    actions = patch.patch_actions(left, NOTHING, "win2022")
    report = patch.patch_report(windows_node(ubr=2582), windows_node(ubr=2582), NOTHING, actions)
    assert report["status"] == "patched"
    assert report["summary"].endswith("0 update(s) installed; finished the run that had left it cordoned")


def test_report_refuses_a_timeline_that_is_not_a_mapping() -> None:
    actions = patch.patch_actions(node(), NOTHING, "win2022")
    with pytest.raises(ValueError, match="timeline must be a mapping"):
        patch.patch_report(windows_node(), None, NOTHING, actions, timeline=["x"])
