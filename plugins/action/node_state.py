# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for winkube.node.node_state (documentation: plugins/modules/node_state.py).

Run as a role's last step: one round trip of the read-only windows_facts probe reads the live value of
every fact the role declares it produced (and the state file already there), and the plugin writes the
state file when its text differs. Recording what the probe reads, rather than values the controller
computed, means the converged check later compares like with like: the same probe code, the same
formatting. A fact that is not what the role declares it must be fails the task: the role did not
produce what it says, and no state is recorded for it.

The file is written the way ansible.windows.win_copy's own action writes one file: the text goes to the
remote temporary folder, then the win_copy module copies it in its ``single`` mode. The probe has just
read the old file's digest, so win_copy's ``query`` round trip would only repeat it; and a dest ending
in a backslash makes the module create the state folder. Two module runs per record instead of four.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Dict, Optional

from ansible.plugins.action import ActionBase
from ansible_collections.winkube.node.plugins.module_utils import converged
from ansible_collections.winkube.node.plugins.plugin_utils.node_state import PROBE_MODULE, probe_args

COPY_MODULE = "ansible.windows.win_copy"

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
        # One more fact, the state file already there: an identical one is not written again.
        current = {"kind": "file", "path": path}
        request = json.dumps([*converged.probe_request(specs), current], separators=(",", ":"))
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
        content = converged.render_record(record)
        done = {**result, "changed": False, "path": path, "facts": len(record["facts"])}
        if record_is_current(live[-1], content):
            return done
        if self._task.check_mode:
            # The roles never record in a check run; called in one anyway, it only says what it would do.
            return {**done, "changed": True}
        written = self._write(path, content, task_vars)
        if written.get("failed"):
            reason = written.get("msg")
            return {**result, "failed": True, "msg": f"node_state: writing {path} on {host} failed: {reason}"}
        return {**done, "changed": True}

    def _write(self, path: str, content: str, task_vars: Optional[Dict[str, Any]]) -> Dict[str, Any]:
        """ansible.windows.win_copy's one-file protocol (its action plugin, _copy_single_file)."""
        tmp = self._make_tmp_path()
        try:
            source = self._connection._shell.join_path(tmp, "source")
            self._transfer_data(source, content)
            folder, name = path.rsplit("\\", 1)
            return self._execute_module(
                module_name=COPY_MODULE,
                module_args={
                    "src": source,
                    "dest": folder + "\\",
                    "_original_basename": name,
                    "_copy_mode": "single",
                    "force": True,
                },
                task_vars=task_vars,
            )
        finally:
            self._remove_tmp_path(tmp)


def record_is_current(live: Any, content: str) -> bool:
    """Whether the probe found the state file with exactly ``content`` (no error reading it)."""
    if not isinstance(live, dict) or live.get("error") or live.get("exists") is not True:
        return False
    return live.get("sha256") == hashlib.sha256(content.encode("utf-8")).hexdigest()
