# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""node_plan runs on the controller only: the fact it sets, the one failure message, no remote call."""

from __future__ import annotations

from typing import Any, Dict, Tuple
from unittest.mock import MagicMock

import pytest
import yaml
from ansible.errors import AnsibleActionFail
from ansible_collections.winkube.node.plugins.action import node_plan
from ansible_collections.winkube.node.plugins.module_utils.node_facts import windows_node_facts
from ansible_collections.winkube.node.plugins.modules import node_plan as node_plan_docs

from .action_harness import assert_no_remote_call, run_controller_action


def windows_node(build: int, ubr: int = 2113) -> Dict[str, Any]:
    return windows_node_facts({"CurrentBuildNumber": str(build), "UBR": ubr, "InstallationType": "Server Core"})


def run_action(args: Dict[str, Any], check_mode: bool = False) -> Tuple[Dict[str, Any], MagicMock]:
    return run_controller_action(node_plan.ActionModule, "winkube.node.node_plan", args, check_mode)


def test_success_sets_the_plan_fact_without_touching_the_host() -> None:
    result, remote = run_action({"windows_node": windows_node(20348)})
    assert_no_remote_call(remote)
    assert result["changed"] is False
    assert not result.get("failed")
    plan = result["ansible_facts"]["winkube_plan"]
    assert (plan["kubernetes_version"], plan["runtime"], plan["runtime_version"]) == ("1.36.4", "containerd", "2.3.5")
    assert plan["pause_image"] == "mcr.microsoft.com/oss/kubernetes/pause:3.6"
    assert plan["host"]["version_tag"] == "ltsc2022"
    assert "warnings" not in result


def test_the_action_is_controller_only_and_check_mode_safe() -> None:
    assert node_plan.ActionModule._requires_connection is False
    result, remote = run_action({"windows_node": windows_node(20348)}, check_mode=True)
    assert_no_remote_call(remote)
    assert "winkube_plan" in result["ansible_facts"]


def test_failure_is_one_message_naming_the_host_with_every_violation() -> None:
    args = {
        "windows_node": windows_node(14393),
        "containerd_version": "1.3.10",
        "winkube_apiserver_version": "1.32",
    }
    result, remote = run_action(args)
    assert_no_remote_call(remote)
    assert result["failed"] is True
    assert result["changed"] is False
    assert "ansible_facts" not in result
    lines = result["msg"].splitlines()
    assert lines[0] == "winkube.node preflight failed for win-node-1:"
    rules = [violation["rule"] for violation in result["violations"]]
    assert rules == [
        "build.kubernetes_support",
        "containerd.windows_minimum",
        "pause.image",
        "skew.kubelet",
        "skew.kubeadm",
        "skew.kube-proxy",
    ]
    assert [line.split("]")[0] for line in lines[1:]] == [f"- [{rule}" for rule in rules]
    assert all(set(v) == {"rule", "problem", "fix", "message"} for v in result["violations"])


def test_hostname_option_names_the_host() -> None:
    result, remote = run_action({"windows_node": windows_node(14393), "hostname": "node-a.corp.example"})
    assert_no_remote_call(remote)
    assert result["msg"].startswith("winkube.node preflight failed for node-a.corp.example:\n- [")


def test_plan_warnings_become_task_warnings() -> None:
    result, remote = run_action({"windows_node": windows_node(17763), "winkube_kubernetes_version": "1.34.3"})
    assert_no_remote_call(remote)
    assert result["warnings"] == result["ansible_facts"]["winkube_plan"]["warnings"]
    assert any("supported by Kubernetes up to 1.34 only" in w for w in result["warnings"])


def test_a_yaml_float_version_reaches_the_strict_parser() -> None:
    # type raw: 1.30 arrives as the float 1.3 and is refused with the reason, inside the one message.
    result, remote = run_action({"windows_node": windows_node(20348), "winkube_kubernetes_version": 1.3})
    assert_no_remote_call(remote)
    assert "[input.winkube_kubernetes_version]" in result["msg"]
    assert "quote the version in YAML" in result["msg"]


def test_mcr_plan_and_proxy_credentials_masked() -> None:
    args = {
        "windows_node": windows_node(20348),
        "winkube_container_runtime": "mcr",
        "mcr_installer_sha256": "0" * 64,
        "winkube_proxy": {"https_proxy": "bob:hunter2@proxy.example:3128"},
    }
    result, remote = run_action(args)
    assert_no_remote_call(remote)
    assert "hunter2" not in result["msg"] and "bob" not in result["msg"]
    assert [v["rule"] for v in result["violations"]] == ["checksum.cri_dockerd_sha256", "input.winkube_proxy"]


def test_missing_windows_node_and_unknown_options_are_argument_errors() -> None:
    with pytest.raises(AnsibleActionFail, match="windows_node"):
        run_action({})
    with pytest.raises(AnsibleActionFail, match="containerd_verison"):
        run_action({"windows_node": windows_node(20348), "containerd_verison": "2.3.5"})


def test_docs_match_the_argument_spec() -> None:
    options = yaml.safe_load(node_plan_docs.DOCUMENTATION)["options"]
    assert set(options) == set(node_plan.ARGUMENT_SPEC)
    for name, spec in node_plan.ARGUMENT_SPEC.items():
        documented = options[name]
        assert documented["type"] == spec["type"], name
        assert documented.get("default") == spec.get("default"), name
        assert documented.get("required", False) == spec.get("required", False), name
        assert documented["description"], name
