# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for winkube.node.converged (documentation: plugins/modules/converged.py).

Pure controller: it compares what preflight's probe read (the ``winkube_node_state`` fact) with the
digest of the calling role's effective inputs and own code. Nothing reaches the node, so the check costs
no module run. The comparison is plugins/module_utils/converged.py (unit-tested without Windows).
"""

from __future__ import annotations

from typing import Any, Dict, Optional

from ansible_collections.winkube.node.plugins.module_utils import converged
from ansible_collections.winkube.node.plugins.plugin_utils.actions import ControllerAction
from ansible_collections.winkube.node.plugins.plugin_utils.node_state import role_code_sha256

ARGUMENT_SPEC = {
    "role": {"type": "str", "required": True},
    "inputs": {"type": "raw", "required": True},
    "node_state": {"type": "raw"},
}


class ActionModule(ControllerAction):
    def run(self, tmp: Optional[str] = None, task_vars: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        result, args = self.start(tmp, task_vars, ARGUMENT_SPEC)
        role = args["role"]
        owner = getattr(self._task, "_role", None)
        # The digest covers the role's own files: the task must belong to the role it speaks for.
        if owner is None or owner.get_name(include_role_fqcn=False) != role:
            found = owner.get_name(include_role_fqcn=False) if owner is not None else "no role"
            msg = f"converged: role={role} must run inside that role (found {found})"
            return {**result, "failed": True, "msg": msg}
        try:
            digest = converged.inputs_sha256(role, args["inputs"], role_code_sha256(owner.get_role_path()))
        except ValueError as exc:
            return {**result, "failed": True, "msg": f"converged: {role}: {exc}"}
        node_state = args.get("node_state")
        if node_state is None:
            node_state = (task_vars or {}).get("winkube_node_state")
        verdict = converged.verdict(role, digest, node_state)
        return {
            **result,
            "changed": False,
            "converged": verdict["converged"],
            "reasons": verdict["reasons"],
            "inputs_sha256": digest,
            "state_path": converged.state_path(role),
            "check_mode": bool(self._task.check_mode),
        }
