# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for winkube.node.node_state (documentation: plugins/modules/node_state.py).

Run as a role's last step: one round trip of the read-only windows_facts probe reads the live value of
every fact the role declares it produced, and the plugin returns the state file's text (the role writes
it with ansible.windows.win_copy). Recording what the probe reads, rather than values the controller
computed, means the converged check later compares like with like: the same probe code, the same
formatting. A fact that is not what the role declares it must be fails the task: the role did not
produce what it says, and no state is recorded for it.
"""

from __future__ import annotations

import json
from typing import Any, Dict, Optional

from ansible.plugins.action import ActionBase
from ansible_collections.winkube.node.plugins.module_utils import converged
from ansible_collections.winkube.node.plugins.plugin_utils.node_state import PROBE_MODULE, probe_args

ARGUMENT_SPEC = {
    "role": {"type": "str", "required": True},
    "inputs_sha256": {"type": "str", "required": True},
    "facts": {"type": "list", "elements": "raw", "required": True},
}


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = True
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp: Optional[str] = None, task_vars: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        result = super().run(tmp, task_vars)
        del tmp
        args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)[1]
        role = args["role"]
        host = self._task.delegate_to or (task_vars or {}).get("inventory_hostname", "?")
        try:
            path = converged.state_path(role)
            specs = converged.validate_spec(args["facts"])
        except ValueError as exc:
            return {**result, "failed": True, "msg": f"node_state: {exc}"}
        # One more fact, the state folder itself: the role creates it only when it is missing (win_copy
        # does not create the folder of its dest), which saves a module run on every node but the first role.
        folder = {"kind": "directory", "path": converged.STATE_DIR}
        request = json.dumps([*converged.probe_request(specs), folder], separators=(",", ":"))
        probe = self._execute_module(
            module_name=PROBE_MODULE, module_args=probe_args(facts=request), task_vars=task_vars
        )
        output = probe.get("output") or []
        if probe.get("failed") or not output or not isinstance(output[0], dict):
            reason = probe.get("msg") or f"no object in its output {output!r}"
            return {**result, "failed": True, "msg": f"node_state: the probe on {host} failed: {reason}"}
        live = output[0].get("Facts")
        if not isinstance(live, list) or not live or not isinstance(live[-1], dict):
            return {**result, "failed": True, "msg": f"node_state: the probe on {host} returned no facts ({live!r})"}
        try:
            record = converged.build_record(role, args["inputs_sha256"], specs, live[:-1])
        except ValueError as exc:
            return {**result, "failed": True, "msg": f"node_state: {host}: {exc}"}
        return {
            **result,
            "changed": False,
            "path": path,
            "folder": converged.STATE_DIR,
            "folder_exists": live[-1].get("exists") is True and not live[-1].get("error"),
            "content": converged.render_record(record),
            "facts": len(record["facts"]),
        }
