# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for winkube.node.artifact_cache (documentation: plugins/modules/artifact_cache.py).

Controller only: it fills the controller's artifact cache (plugins/plugin_utils/artifact_cache.py) and
never contacts the managed host, so every host of a play may run it at once: the cache's per-digest lock
makes each file download once. The requests go through ansible's ``open_url`` (the controller's proxy
environment, ``HTTPS_PROXY``/``NO_PROXY``, applies as for ansible.builtin.get_url).
"""

from __future__ import annotations

from typing import Any, Dict, Optional

from ansible.module_utils.urls import ConnectionError as UrlsConnectionError
from ansible.module_utils.urls import open_url
from ansible_collections.winkube.node.plugins.plugin_utils import artifact_cache
from ansible_collections.winkube.node.plugins.plugin_utils.actions import ControllerAction

ARGUMENT_SPEC: Dict[str, Dict[str, Any]] = {
    "cache": {"type": "path", "required": True},
    "files": {
        "type": "list",
        "elements": "dict",
        "required": True,
        "options": {
            "name": {"type": "str", "required": True},
            "url": {"type": "str", "required": True},
            "sha256": {"type": "str"},
            "checksum_url": {"type": "str"},
            "validate_certs": {"type": "bool", "default": True},
        },
        "required_one_of": [["sha256", "checksum_url"]],
    },
    "retries": {"type": "int", "default": 2},
    "delay": {"type": "float", "default": 2.0},
    "timeout": {"type": "int", "default": 60},
}


def _open(url: str, validate_certs: bool, timeout: float) -> Any:
    """The cache's opener: ansible's open_url (redirects followed, as release hosts such as GitHub answer
    with one to their storage). Its own ConnectionError family (TLS validation, proxy) is not an OSError;
    it becomes one, so the cache reports it as a failed request like any other."""
    try:
        return open_url(url, validate_certs=validate_certs, timeout=timeout, follow_redirects="safe")
    except UrlsConnectionError as exc:
        raise OSError(f"{type(exc).__name__}: {exc}") from exc


class ActionModule(ControllerAction):
    def run(self, tmp: Optional[str] = None, task_vars: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        result, args = self.start(tmp, task_vars, ARGUMENT_SPEC)
        if args["retries"] < 0 or args["delay"] < 0 or args["timeout"] <= 0:
            msg = "artifact_cache: retries and delay must be >= 0 and timeout > 0"
            return {**result, "failed": True, "changed": False, "files": [], "msg": msg}
        policy = artifact_cache.Policy(retries=args["retries"], delay=args["delay"], timeout=float(args["timeout"]))
        try:
            done, errors = artifact_cache.ensure_all(args["cache"], args["files"], _open, policy)
        except ValueError as exc:
            return {**result, "failed": True, "changed": False, "files": [], "msg": f"artifact_cache: {exc}"}
        downloaded = [c.name for c in done if c.downloaded]
        out = {
            **result,
            "changed": bool(downloaded),
            "files": [c.as_dict() for c in done],
        }
        if errors:
            return {**out, "failed": True, "msg": " ".join(errors)}
        reused = len(done) - len(downloaded)
        out["msg"] = (
            f"downloaded and verified {', '.join(downloaded)}; {reused} reused from the cache"
            if downloaded
            else f"all {reused} files were in the cache with their SHA-256"
        )
        return out
