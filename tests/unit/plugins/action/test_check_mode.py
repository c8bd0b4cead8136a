# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""check_mode reports the task's resolved check and diff mode, takes no options and never reaches the host."""

from __future__ import annotations

from unittest.mock import MagicMock

import pytest
import yaml
from ansible.errors import AnsibleActionFail
from ansible_collections.winkube.node.plugins.action import check_mode
from ansible_collections.winkube.node.plugins.modules import check_mode as check_mode_docs

from .action_harness import make_action


@pytest.mark.parametrize(("check", "diff"), [(False, False), (True, False), (True, True), (False, True)])
def test_reports_the_task_modes_without_touching_the_host(check: bool, diff: bool) -> None:
    action = make_action(check_mode.ActionModule, "winkube.node.check_mode", {}, check_mode=check)
    action._task.diff = diff
    remote = MagicMock()
    action._execute_module = remote.execute_module
    action._low_level_execute_command = remote.low_level_execute_command
    result = action.run(task_vars={"inventory_hostname": "win-node-1", "ansible_check_mode": not check})
    # ansible_check_mode (only --check) is not what it reports: the task's own attribute is.
    assert (result["check_mode"], result["diff_mode"], result["changed"]) == (check, diff, False)
    assert not result.get("failed")
    remote.execute_module.assert_not_called()
    remote.low_level_execute_command.assert_not_called()
    action._connection.exec_command.assert_not_called()


def test_refuses_options() -> None:
    action = make_action(check_mode.ActionModule, "winkube.node.check_mode", {"bogus": True})
    with pytest.raises(AnsibleActionFail, match=r"Unsupported parameters .*: bogus"):
        action.run(task_vars={})


def test_docs_match_the_result() -> None:
    docs = yaml.safe_load(check_mode_docs.DOCUMENTATION)
    assert docs["module"] == "check_mode" and docs["options"] == {}
    assert set(yaml.safe_load(check_mode_docs.RETURN)) == {"check_mode", "diff_mode"}
