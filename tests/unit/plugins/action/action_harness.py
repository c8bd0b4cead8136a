# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Build an action plugin the way the task executor does, with mocks for everything remote."""

from __future__ import annotations

from typing import Any, Dict, Tuple, Type
from unittest.mock import MagicMock

from ansible.playbook.task import Task
from ansible.plugins.action import ActionBase
from ansible.template import Templar


def make_action(plugin: Type[ActionBase], name: str, args: Dict[str, Any], check_mode: bool = False) -> ActionBase:
    """An instance of ``plugin`` for a task ``name`` with ``args``; its connection is a MagicMock."""
    task = MagicMock(Task)
    task.args = args
    task.async_val = 0
    task.check_mode = check_mode
    task.diff = False
    task.delegate_to = None
    task.action = name
    play_context = MagicMock()
    play_context.check_mode = check_mode
    connection = MagicMock()
    connection._shell.tmpdir = None
    loader = MagicMock()
    return plugin(task, connection, play_context, loader, Templar(loader=loader), None)


def run_controller_action(
    plugin: Type[ActionBase], name: str, args: Dict[str, Any], check_mode: bool = False
) -> Tuple[Dict[str, Any], MagicMock]:
    """Run a controller-only action; return its result and a mock whose children record any attempt
    to reach the host (see assert_no_remote_call)."""
    action = make_action(plugin, name, args, check_mode)
    remote = MagicMock()
    action._execute_module = remote.execute_module
    action._low_level_execute_command = remote.low_level_execute_command
    remote.connection = action._connection
    return action.run(task_vars={"inventory_hostname": "win-node-1"}), remote


def assert_no_remote_call(remote: MagicMock) -> None:
    remote.execute_module.assert_not_called()
    remote.low_level_execute_command.assert_not_called()
    for method in ("exec_command", "put_file", "fetch_file", "_connect"):
        getattr(remote.connection, method).assert_not_called()
