# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller helpers of the converged-run mechanism (docs/converged-runs.md) that need the file system
or a connection: the digest of a role's own files, and the probe's module arguments."""

from __future__ import annotations

import hashlib
import os
from typing import Any, Dict, List, Optional

from ansible_collections.winkube.node.plugins.plugin_utils.scripts import probe_script

PROBE_MODULE = "ansible.windows.win_powershell"
# win_powershell converts the output objects to this depth (its default, 2, would turn a state file's
# live facts into type names): output > State > files > entry > live > fact > dependencies.
PROBE_DEPTH = 8
# What a role's behaviour is made of; meta/ only describes it, and editor or cache files are not code.
_CODE_DIRS = ("defaults", "files", "handlers", "tasks", "templates", "vars")


def probe_args(state_dir: Optional[str] = None, facts: Optional[str] = None) -> Dict[str, Any]:
    """win_powershell arguments for the windows_facts probe: read the state files under ``state_dir``
    and/or the facts in the JSON text ``facts``."""
    parameters: Dict[str, str] = {}
    if state_dir:
        parameters["StateDir"] = state_dir
    if facts:
        parameters["Facts"] = facts
    return {"script": probe_script("windows_facts"), "parameters": parameters, "depth": PROBE_DEPTH}


def role_code_sha256(role_path: str) -> str:
    """sha256 over the role's code files (relative path and content, in a fixed order), so a new release
    of a role never trusts a state recorded by an older one."""
    if not os.path.isdir(os.path.join(role_path, "tasks")):
        raise ValueError(f"{role_path} is not a role (no tasks folder)")
    digest = hashlib.sha256()
    files: List[str] = []
    for top in _CODE_DIRS:
        for folder, dirs, names in os.walk(os.path.join(role_path, top)):
            dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "__pycache__")
            files.extend(os.path.join(folder, n) for n in names if not n.startswith(".") and not n.endswith(".pyc"))
    for path in sorted(files, key=lambda p: os.path.relpath(p, role_path).replace(os.sep, "/")):
        relative = os.path.relpath(path, role_path).replace(os.sep, "/")
        with open(path, "rb") as handle:
            content = handle.read()
        digest.update(relative.encode("utf-8") + b"\0" + hashlib.sha256(content).digest())
    return digest.hexdigest()
