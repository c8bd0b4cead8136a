# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for winkube.node.windows_facts (documentation: plugins/modules/windows_facts.py).

One round trip: the read-only ``windows_facts`` probe runs through ansible.windows.win_powershell
and returns the raw registry values; what they mean (release, tag, channel, support) is decided
here on the controller by the knowledge base, so it is unit-tested without Windows.

The same round trip reads the roles' state files and the live value of every fact they record
(docs/converged-runs.md), returned as the ``winkube_node_state`` fact: merged here rather than in a
separate probe because preflight makes this round trip on every run anyway, so deciding which roles may
skip costs no module run at all. What the state means is decided later, per role, by
winkube.node.converged; a problem with the state files never fails this task, it only makes every role
run (it is reported in ``winkube_node_state.error``).
"""

from __future__ import annotations

from typing import Any, Dict, Optional

from ansible.plugins.action import ActionBase
from ansible_collections.winkube.node.plugins.module_utils.converged import STATE_DIR, node_state_fact
from ansible_collections.winkube.node.plugins.module_utils.kubernetes import parse_kubernetes_version
from ansible_collections.winkube.node.plugins.module_utils.node_facts import windows_node_facts
from ansible_collections.winkube.node.plugins.plugin_utils.node_state import PROBE_MODULE, probe_args

ARGUMENT_SPEC = {
    "kubernetes_version": {"type": "str"},
}


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = True
    # Read-only: the probe declares SupportsShouldProcess, so win_powershell runs it in check mode too.
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp: Optional[str] = None, task_vars: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        result = super().run(tmp, task_vars)
        del tmp
        args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)[1]
        host = self._task.delegate_to or (task_vars or {}).get("inventory_hostname", "?")

        kubernetes = None
        if args.get("kubernetes_version") is not None:
            try:
                kubernetes = parse_kubernetes_version(args["kubernetes_version"], "kubernetes_version")
            except ValueError as exc:
                return {**result, "failed": True, "msg": f"windows_facts: {exc}"}

        probe = self._execute_module(
            module_name=PROBE_MODULE,
            module_args=probe_args(state_dir=STATE_DIR),
            task_vars=task_vars,
        )
        if probe.get("failed"):
            reason = probe.get("msg", "unknown error")
            return {
                **result,
                "failed": True,
                "msg": f"windows_facts: could not read the Windows version of {host}: {reason}",
            }
        output = probe.get("output") or []
        if not output or not isinstance(output[0], dict):
            return {
                **result,
                "failed": True,
                "msg": f"windows_facts: the probe on {host} returned no object (output: {output!r})",
            }
        try:
            facts = windows_node_facts(output[0], kubernetes)
        except ValueError as exc:
            return {**result, "failed": True, "msg": f"windows_facts: {host}: {exc}"}
        node_state = node_state_fact(output[0].get("State"))
        return {**result, "changed": False, "ansible_facts": {"windows_node": facts, "winkube_node_state": node_state}}
