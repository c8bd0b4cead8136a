# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for winkube.node.image_signature (documentation: plugins/modules/image_signature.py).

Controller only: it reads the image from its registry (or mirrors) and verifies the executable with the
knowledge in ``module_utils/image_signature.py``; it never talks to the managed host.
"""

from __future__ import annotations

import os
from typing import Any, Dict, Optional

from ansible_collections.winkube.node.plugins.module_utils import oci as _oci
from ansible_collections.winkube.node.plugins.module_utils.image_signature import (
    DEFAULT_EXECUTABLE,
    Request,
    SelectionError,
    check_image,
    trusted_roots,
)
from ansible_collections.winkube.node.plugins.plugin_utils.actions import ControllerAction

ARGUMENT_SPEC: Dict[str, Dict[str, Any]] = {
    "image": {"type": "str", "required": True},
    "windows_build": {"type": "raw", "required": True},
    "containerd_version": {"type": "raw"},
    "executable": {"type": "str", "default": DEFAULT_EXECUTABLE},
    "trusted_ca_bundle": {"type": "path"},
    "registry_ca_bundle": {"type": "path"},
    "registry_insecure": {"type": "bool", "default": False},
    "registry_username": {"type": "str", "no_log": True},
    "registry_password": {"type": "str", "no_log": True},
    "registry_mirrors": {"type": "dict", "default": {}},
    "proxy": {"type": "str"},
    "timeout": {"type": "int", "default": 60},
    "fail_on_unsigned": {"type": "bool", "default": True},
}


def _path(value: Optional[str], name: str) -> Optional[str]:
    if value is None:
        return None
    path = os.path.expanduser(value)
    if not os.path.isfile(path):
        raise ValueError(f"{name} {value} is not a file on the controller")
    return path


class ActionModule(ControllerAction):
    # The registry is read from the controller; the managed host is never contacted.

    def run(self, tmp: Optional[str] = None, task_vars: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        result, args = self.start(tmp, task_vars, ARGUMENT_SPEC)
        if args["registry_password"] is not None and args["registry_username"] is None:
            return {**result, "failed": True, "msg": "registry_password needs registry_username"}
        try:
            request = Request(
                image=args["image"],
                windows_build=args["windows_build"],
                containerd_version=None if args["containerd_version"] is None else str(args["containerd_version"]),
                executable=args["executable"],
                trusted_roots=trusted_roots(_path(args["trusted_ca_bundle"], "trusted_ca_bundle")),
                transport=_oci.Transport(
                    ca_bundle=_path(args["registry_ca_bundle"], "registry_ca_bundle"),
                    insecure=args["registry_insecure"],
                    proxy=args["proxy"],
                    username=args["registry_username"],
                    password=args["registry_password"],
                    timeout=float(args["timeout"]),
                ),
                mirrors=args["registry_mirrors"],
            )
            checked = check_image(request)
        except (ValueError, SelectionError, _oci.RegistryError) as exc:
            return {**result, "failed": True, "changed": False, "msg": f"{args['image']}: {exc}"}
        done = {**result, **checked}
        if checked["status"] != "valid" and args["fail_on_unsigned"]:
            done["failed"] = True
            done["msg"] = f"{checked['msg']} (fail_on_unsigned: only a valid signature passes)"
        return done
