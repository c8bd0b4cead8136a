# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for winkube.node.check_mode (documentation: plugins/modules/check_mode.py).

Roles need to know whether their tasks really run, for example to refuse a missing service in a real
run but not in a check run, where the step that registers it did not really happen. The magic variable
``ansible_check_mode`` cannot tell: ansible-core sets it from the command line's ``--check`` only
(``ansible.utils.vars.load_options_vars``), so a role run with the ``check_mode: true`` keyword sees it
false. The task's own ``check_mode`` attribute is the resolved value (keyword, inherited keyword, or the
command line as its default), which is what every module of the task receives as ``_ansible_check_mode``.
"""

from __future__ import annotations

from typing import Any, Dict, Optional

from ansible_collections.winkube.node.plugins.plugin_utils.actions import ControllerAction


class ActionModule(ControllerAction):
    # Reads the task's own attributes: no connection, nothing that could reach the host.

    def run(self, tmp: Optional[str] = None, task_vars: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        result = self.start(tmp, task_vars, {})[0]
        return {
            **result,
            "changed": False,
            "check_mode": bool(self._task.check_mode),
            "diff_mode": bool(self._task.diff),
        }
