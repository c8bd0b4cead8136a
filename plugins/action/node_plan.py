# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for winkube.node.node_plan (documentation: plugins/modules/node_plan.py).

Controller only: it resolves the node's plan from the task's inputs and the ``windows_node`` fact with
the knowledge base (``module_utils/plan.py``) and never talks to the host, so it needs no connection and
cannot change anything there.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Dict, Optional

from ansible_collections.winkube.node.plugins.module_utils.kubernetes import DEFAULT_KUBERNETES_VERSION
from ansible_collections.winkube.node.plugins.module_utils.plan import (
    DEFAULT_PAUSE_PROFILE,
    DEFAULT_RUNTIME,
    INPUTS,
    PlanError,
    failure_message,
    resolve_plan,
)
from ansible_collections.winkube.node.plugins.plugin_utils.actions import ControllerAction

# Versions, mappings and lists are "raw": the plan validates them itself, so that a bad value becomes one
# line of the single preflight message (with the host) instead of a separate argument error, and so that
# a YAML float such as 1.30 reaches the strict version parser instead of being turned into "1.3".
_RAW = ("raw",)
_INPUT_TYPES = {
    "winkube_kubernetes_version": _RAW,
    "winkube_apiserver_version": _RAW,
    "winkube_registry_mirrors": _RAW,
    "winkube_proxy": _RAW,
    "winkube_service_cidr": _RAW,
    "winkube_pod_cidr": _RAW,
    "containerd_version": _RAW,
    "mcr_version": _RAW,
    "cri_dockerd_version": _RAW,
    "preflight_workload_images": _RAW,
}
_DEFAULTS = {
    "winkube_kubernetes_version": DEFAULT_KUBERNETES_VERSION,
    "winkube_container_runtime": DEFAULT_RUNTIME,
    "winkube_pause_image_profile": DEFAULT_PAUSE_PROFILE,
}
ARGUMENT_SPEC: Dict[str, Dict[str, Any]] = {
    "windows_node": {"type": "dict", "required": True},
    "hostname": {"type": "str"},
}
for input_name in INPUTS:
    ARGUMENT_SPEC[input_name] = {"type": _INPUT_TYPES.get(input_name, ("str",))[0]}
    if input_name in _DEFAULTS:
        ARGUMENT_SPEC[input_name]["default"] = _DEFAULTS[input_name]


class ActionModule(ControllerAction):
    # Pure controller-side computation: no connection, no module, nothing that could change the host.

    def run(self, tmp: Optional[str] = None, task_vars: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        result, args = self.start(tmp, task_vars, ARGUMENT_SPEC)
        host = args.get("hostname") or (task_vars or {}).get("inventory_hostname", "?")
        inputs = {name: args[name] for name in INPUTS if args.get(name) is not None}
        try:
            plan = resolve_plan(inputs, args["windows_node"], today=date.today())
        except PlanError as exc:
            return {
                **result,
                "failed": True,
                "changed": False,
                "msg": failure_message(host, exc.violations),
                "violations": [violation.as_dict() for violation in exc.violations],
            }
        done = {**result, "changed": False, "ansible_facts": {"winkube_plan": plan}}
        if plan["warnings"]:
            # Shown by Ansible as task warnings; they stay in the plan for later roles and reports too.
            done["warnings"] = [*result.get("warnings", []), *plan["warnings"]]
        return done
