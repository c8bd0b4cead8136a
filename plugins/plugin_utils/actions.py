# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the collection's controller-only action plugins share.

They compute on the controller (a plan, a digest comparison, a registry read) and never contact the
managed host: no connection is opened for them, check mode is supported (nothing on the host could
change), async is not. Their documentation says the same through the ``controller_action`` doc
fragment.
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Tuple

from ansible.plugins.action import ActionBase


class ControllerAction(ActionBase):
    """Base of an action plugin that never reaches the host."""

    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True
    _supports_async = False

    def start(
        self, tmp: Optional[str], task_vars: Optional[Dict[str, Any]], argument_spec: Dict[str, Any]
    ) -> Tuple[Dict[str, Any], Dict[str, Any]]:
        """ActionBase's result skeleton and the task's arguments validated against ``argument_spec``
        (an invalid argument raises AnsibleActionFail with the validator's message)."""
        result = super().run(tmp, task_vars)
        return result, self.validate_argument_spec(argument_spec=argument_spec)[1]
