# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""winkube.node.converged (controller only) and winkube.node.node_state (one probe round trip)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Dict, List
from unittest.mock import MagicMock

from ansible_collections.winkube.node.plugins.action import converged as converged_action
from ansible_collections.winkube.node.plugins.action import node_state as node_state_action
from ansible_collections.winkube.node.plugins.module_utils import converged
from ansible_collections.winkube.node.plugins.plugin_utils.node_state import role_code_sha256
from ansible_collections.winkube.node.plugins.plugin_utils.scripts import probe_script

from .action_harness import make_action

ROLE = Path(__file__).resolve().parents[4] / "roles" / "host_prep"
SPEC = [{"kind": "service", "name": "containerd", "expect": {"state": "Running"}}]
SERVICE = {
    "kind": "service",
    "name": "containerd",
    "exists": True,
    "path": "c.exe",
    "start_mode": "Auto",
    "delayed_auto_start": False,
    "state": "Running",
    "username": "LocalSystem",
    "display_name": "Containerd",
    "dependencies": [],
}


def run_converged(args: Dict[str, Any], role_name: str | None = "host_prep", task_vars: Any = None) -> Dict[str, Any]:
    action = make_action(converged_action.ActionModule, "winkube.node.converged", args)
    if role_name is None:
        action._task._role = None
    else:
        action._task._role = MagicMock()
        action._task._role.get_name.return_value = role_name
        action._task._role.get_role_path.return_value = str(ROLE)
    return action.run(task_vars=task_vars or {})


def test_converged_without_a_probe_is_not_converged_and_gives_the_digest() -> None:
    result = run_converged({"role": "host_prep", "inputs": {"a": 1}})
    assert result["converged"] is False and "no probe" in result["reasons"][0]
    assert result["inputs_sha256"] == converged.inputs_sha256("host_prep", {"a": 1}, role_code_sha256(str(ROLE)))
    assert result["state_path"] == "C:\\ProgramData\\winkube\\state\\host_prep.json"
    assert result["changed"] is False and result["check_mode"] is False


def test_converged_reads_the_node_state_fact_and_matches_a_recorded_state() -> None:
    digest = run_converged({"role": "host_prep", "inputs": {"a": 1}})["inputs_sha256"]
    text = converged.render_record(converged.build_record("host_prep", digest, SPEC, [SERVICE]))
    state = {
        "current_user": "S-1",
        "error": None,
        "roles": {"host_prep": {"owner": "S-1-5-18", "text": text, "live": [SERVICE]}},
    }
    result = run_converged({"role": "host_prep", "inputs": {"a": 1}}, task_vars={"winkube_node_state": state})
    assert result["converged"] is True and result["reasons"] == []
    other = run_converged({"role": "host_prep", "inputs": {"a": 2}}, task_vars={"winkube_node_state": state})
    assert other["converged"] is False


def test_converged_must_run_inside_the_role_it_speaks_for() -> None:
    assert (
        "must run inside that role (found containerd)"
        in run_converged({"role": "host_prep", "inputs": {}}, role_name="containerd")["msg"]
    )
    assert "found no role" in run_converged({"role": "host_prep", "inputs": {}}, role_name=None)["msg"]
    assert "has no JSON form" in run_converged({"role": "host_prep", "inputs": {"x": object()}})["msg"]


def run_node_state(
    args: Dict[str, Any], *answers: Dict[str, Any], check_mode: bool = False
) -> tuple[Dict[str, Any], List[Dict[str, Any]], MagicMock]:
    """Run the action with recorded module results, one per module run, in order."""
    action = make_action(node_state_action.ActionModule, "winkube.node.node_state", args, check_mode=check_mode)
    calls: List[Dict[str, Any]] = []
    replies = list(answers)

    def execute_module(module_name=None, module_args=None, task_vars=None, **kwargs):
        calls.append({"module_name": module_name, "module_args": module_args})
        return replies.pop(0)

    action._execute_module = execute_module
    action._make_tmp_path = MagicMock(return_value="C:\\Users\\a\\AppData\\Local\\Temp\\ansible-tmp-1")
    action._remove_tmp_path = MagicMock()
    action._transfer_data = MagicMock()
    action._connection._shell.join_path = lambda *parts: "\\".join(parts)
    return action.run(task_vars={"inventory_hostname": "w1"}), calls, action


STATE_FILE = {"kind": "file", "path": "C:\\ProgramData\\winkube\\state\\containerd.json"}


def test_node_state_reads_the_facts_and_the_old_record_in_one_round_trip_then_writes_it() -> None:
    args = {"role": "containerd", "inputs_sha256": "a" * 64, "facts": SPEC}
    absent = {**STATE_FILE, "exists": False, "sha256": None}
    result, calls, action = run_node_state(args, {"output": [{"Facts": [SERVICE, absent]}]}, {"changed": True})
    assert [c["module_name"] for c in calls] == ["ansible.windows.win_powershell", "ansible.windows.win_copy"]
    assert calls[0]["module_args"]["script"] == probe_script("windows_facts")
    requested = json.loads(calls[0]["module_args"]["parameters"]["Facts"])
    assert requested == [{"kind": "service", "name": "containerd"}, STATE_FILE]
    assert "StateDir" not in calls[0]["module_args"]["parameters"]
    # win_copy's one-file mode: a dest ending in a backslash makes the module create the state folder.
    copy = calls[1]["module_args"]
    assert copy == {
        "src": "C:\\Users\\a\\AppData\\Local\\Temp\\ansible-tmp-1\\source",
        "dest": converged.STATE_DIR + "\\",
        "_original_basename": "containerd.json",
        "_copy_mode": "single",
        "force": True,
    }
    remote, text = action._transfer_data.call_args.args
    assert remote == copy["src"]
    record = json.loads(text)
    assert record["facts"][0]["observed"]["state"] == "Running" and record["inputs_sha256"] == "a" * 64
    action._remove_tmp_path.assert_called_once_with("C:\\Users\\a\\AppData\\Local\\Temp\\ansible-tmp-1")
    assert result["changed"] is True and result["facts"] == 1
    assert result["path"] == "C:\\ProgramData\\winkube\\state\\containerd.json"


def test_node_state_leaves_an_identical_record_alone_and_writes_a_different_one() -> None:
    args = {"role": "containerd", "inputs_sha256": "a" * 64, "facts": SPEC}
    text = converged.render_record(converged.build_record("containerd", "a" * 64, SPEC, [SERVICE]))
    same = {**STATE_FILE, "exists": True, "sha256": hashlib.sha256(text.encode()).hexdigest()}
    result, calls, action = run_node_state(args, {"output": [{"Facts": [SERVICE, same]}]})
    assert result["changed"] is False and len(calls) == 1
    action._transfer_data.assert_not_called()
    other = {**same, "sha256": "0" * 64}
    result, calls = run_node_state(args, {"output": [{"Facts": [SERVICE, other]}]}, {"changed": True})[:2]
    assert result["changed"] is True and [c["module_name"] for c in calls][-1] == "ansible.windows.win_copy"
    # An unreadable old record is no proof that it is current.
    unreadable = {**same, "error": "access denied"}
    assert run_node_state(args, {"output": [{"Facts": [SERVICE, unreadable]}]}, {"changed": True})[0]["changed"]


def test_node_state_in_a_check_run_writes_nothing_and_a_failed_write_fails() -> None:
    args = {"role": "containerd", "inputs_sha256": "a" * 64, "facts": SPEC}
    absent = {**STATE_FILE, "exists": False, "sha256": None}
    result, calls, action = run_node_state(args, {"output": [{"Facts": [SERVICE, absent]}]}, check_mode=True)
    assert result["changed"] is True and len(calls) == 1
    action._transfer_data.assert_not_called()
    failed, calls, action = run_node_state(
        args, {"output": [{"Facts": [SERVICE, absent]}]}, {"failed": True, "msg": "Access is denied"}
    )
    assert failed["failed"] is True and "writing C:\\ProgramData\\winkube\\state\\containerd.json" in failed["msg"]
    assert "Access is denied" in failed["msg"] and len(calls) == 2
    action._remove_tmp_path.assert_called_once()


def test_node_state_refuses_a_node_that_is_not_what_the_role_declares() -> None:
    args = {"role": "containerd", "inputs_sha256": "a" * 64, "facts": SPEC}
    stopped = dict(SERVICE, state="Stopped")
    result = run_node_state(args, {"output": [{"Facts": [stopped, STATE_FILE]}]})[0]
    assert result["failed"] is True and 'state is "Stopped", the role needs "Running"' in result["msg"]
    failed = run_node_state(args, {"failed": True, "msg": "access denied"})[0]
    assert failed["failed"] is True and "access denied" in failed["msg"]
    bad, calls = run_node_state({**args, "facts": [{"kind": "socket"}]}, {})[:2]
    assert bad["failed"] is True and "kind must be one of" in bad["msg"] and calls == []
