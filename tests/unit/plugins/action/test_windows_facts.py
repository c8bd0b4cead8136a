# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""windows_facts replays recorded win_powershell results: what reaches the host, what comes back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List

import pytest
from ansible_collections.winkube.node.plugins.action import windows_facts
from ansible_collections.winkube.node.plugins.plugin_utils.scripts import probe_script

from .action_harness import make_action

RECORDED: Dict[str, Dict[str, Any]] = json.loads(
    (Path(__file__).parent / "fixtures" / "win_powershell_windows_facts.json").read_text()
)


def run_action(recorded: Dict[str, Any], args: Dict[str, Any] | None = None, check_mode: bool = False):
    """Run the action plugin with ``_execute_module`` answering ``recorded``; return (result, calls)."""
    action = make_action(windows_facts.ActionModule, "winkube.node.windows_facts", args or {}, check_mode)
    calls: List[Dict[str, Any]] = []

    def execute_module(module_name=None, module_args=None, task_vars=None, **kwargs):
        calls.append({"module_name": module_name, "module_args": module_args})
        return json.loads(json.dumps(recorded))

    action._execute_module = execute_module
    result = action.run(task_vars={"inventory_hostname": "win-node-1"})
    return result, calls


def run_result(recorded: Dict[str, Any], args: Dict[str, Any] | None = None) -> Dict[str, Any]:
    return run_action(recorded, args)[0]


def test_one_round_trip_with_the_shipped_read_only_probe() -> None:
    result, calls = run_action(RECORDED["ws2022_core"])
    assert len(calls) == 1
    assert calls[0]["module_name"] == "ansible.windows.win_powershell"
    # The same round trip reads the roles' state files (docs/converged-runs.md), deep enough for their facts.
    assert calls[0]["module_args"] == {
        "script": probe_script("windows_facts"),
        "parameters": {"StateDir": "C:\\ProgramData\\winkube\\state"},
        "depth": 8,
    }
    # The probe must run in check mode too and must never report a change.
    assert "[CmdletBinding(SupportsShouldProcess)]" in calls[0]["module_args"]["script"]
    assert "$Ansible.Changed = $false" in calls[0]["module_args"]["script"]
    assert result["changed"] is False
    assert not result.get("failed")


def test_ws2022_server_core_is_classified() -> None:
    result = run_result(RECORDED["ws2022_core"])
    node = result["ansible_facts"]["windows_node"]
    assert node["build"] == 20348
    assert node["revision"] == 2113
    assert node["os_version"] == "10.0.20348.2113"
    assert node["name"] == "Windows Server 2022"
    assert node["version_tag"] == "ltsc2022"
    assert node["channel"] == "ltsc"
    assert node["edition"] == "ServerStandard"
    assert node["installation_type"] == "Server Core"
    assert node["server_core"] is True
    assert node["display_version"] == "21H2"
    assert node["reboot_pending"] is False
    assert node["supported"] is True
    assert node["windows_build_label"] == "10.0.20348"


def test_ws2019_falls_back_to_release_id_and_reports_pending_reboot() -> None:
    result = run_result(RECORDED["ws2019_desktop_reboot_pending"], {"kubernetes_version": "1.34"})
    node = result["ansible_facts"]["windows_node"]
    assert (node["version_tag"], node["display_version"], node["server_core"]) == ("ltsc2019", "1809", False)
    assert node["reboot_pending"] is True
    assert node["kubernetes_version"] == "1.34"
    assert node["supported"] is True


def test_ws2019_is_not_supported_by_current_kubernetes() -> None:
    result = run_result(RECORDED["ws2019_desktop_reboot_pending"], {"kubernetes_version": "1.36.4"})
    assert result["ansible_facts"]["windows_node"]["supported"] is False


def test_ws2025() -> None:
    result = run_result(RECORDED["ws2025_core"], {"kubernetes_version": "v1.36.4"})
    node = result["ansible_facts"]["windows_node"]
    assert (node["name"], node["version_tag"], node["supported"]) == ("Windows Server 2025", "ltsc2025", True)


def test_ws2016_is_reported_not_supported_rather_than_failing() -> None:
    result = run_result(RECORDED["ws2016"])
    assert not result.get("failed")
    node = result["ansible_facts"]["windows_node"]
    assert (node["id"], node["supported"]) == ("ws2016", False)


def test_windows_client_on_a_server_build_number_fails_clearly() -> None:
    result = run_result(RECORDED["windows11_client"])
    assert result["failed"] is True
    assert "win-node-1" in result["msg"]
    assert "Windows client" in result["msg"] and "Windows Server" in result["msg"]
    assert "ansible_facts" not in result


def test_unknown_build_fails_naming_it_and_the_known_ones() -> None:
    result = run_result(RECORDED["insider_build"])
    assert result["failed"] is True
    assert "26334" in result["msg"] and "20348" in result["msg"]


def test_probe_failure_is_reported_with_the_host() -> None:
    result = run_result(RECORDED["access_denied"])
    assert result["failed"] is True
    assert result["msg"].startswith("windows_facts: could not read the Windows version of win-node-1:")
    assert "Requested registry access is not allowed." in result["msg"]


def test_bad_kubernetes_version_fails_before_touching_the_host() -> None:
    result, calls = run_action(RECORDED["ws2022_core"], {"kubernetes_version": "1.x"})
    assert result["failed"] is True
    assert "kubernetes_version" in result["msg"] and "1.x" in result["msg"]
    assert calls == []


def test_unknown_option_is_rejected() -> None:
    from ansible.errors import AnsibleActionFail

    with pytest.raises(AnsibleActionFail, match="kubernetes"):
        run_action(RECORDED["ws2022_core"], {"kubernets_version": "1.36"})


@pytest.mark.parametrize("output", [[], ["a string"], None])
def test_probe_without_an_object_fails(output: Any) -> None:
    recorded = dict(RECORDED["ws2022_core"], output=output)
    result = run_result(recorded)
    assert result["failed"] is True
    assert "returned no object" in result["msg"]


def test_no_state_folder_means_no_role_is_converged() -> None:
    # The recorded probes predate the state files: no State at all is an error, never "converged".
    state = run_result(RECORDED["ws2022_core"])["ansible_facts"]["winkube_node_state"]
    assert state["roles"] == {}
    assert "no State object" in state["error"]


def test_state_files_become_the_node_state_fact_keyed_by_role() -> None:
    live = [{"kind": "directory", "path": "C:\\k", "exists": True}]
    entry = {"role": "Host_Prep", "owner": "S-1-5-32-544", "text": "{}", "live": live, "error": None}
    recorded = json.loads(json.dumps(RECORDED["ws2022_core"]))
    recorded["output"][0]["State"] = {"current_user": "S-1-5-21-1-500", "error": None, "files": [entry]}
    result = run_result(recorded)
    assert not result.get("failed")
    state = result["ansible_facts"]["winkube_node_state"]
    assert state == {
        "current_user": "S-1-5-21-1-500",
        "error": None,
        "roles": {"host_prep": {"owner": "S-1-5-32-544", "text": "{}", "live": live, "error": None}},
    }


def test_a_broken_state_answer_does_not_fail_the_facts() -> None:
    recorded = json.loads(json.dumps(RECORDED["ws2022_core"]))
    recorded["output"][0]["State"] = {"current_user": "S-1", "error": None, "files": "not a list"}
    result = run_result(recorded)
    assert not result.get("failed")
    assert result["ansible_facts"]["windows_node"]["build"] == 20348
    assert result["ansible_facts"]["winkube_node_state"]["error"] == "the probe's State.files is not a list"
