# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter for roles that record their converged state (docs/converged-runs.md): build the fact
specifications winkube.node.node_state reads. Wraps ``plugins/module_utils/converged.py``; documentation:
``state_facts.yml`` beside this file."""

from __future__ import annotations

from typing import Any, Callable, Dict, List

from ansible_collections.winkube.node.plugins.module_utils import converged as _converged
from ansible_collections.winkube.node.plugins.plugin_utils.filters import knowledge_filter


@knowledge_filter("state_facts")
def state_facts(items: Any, kind: str, folder: Any = None, **extra: Any) -> List[Dict[str, Any]]:
    """One fact specification of ``kind`` per item (a path or name, or a mapping of the kind's keys);
    ``folder`` puts plain file and directory items under a folder (no regex_replace with backslashes)."""
    if isinstance(items, (str, bytes)) or not isinstance(items, (list, tuple)):
        raise ValueError(f"the input must be a list of paths, names or mappings, got {type(items).__name__}")
    if folder is not None:
        if kind not in ("file", "directory") or not isinstance(folder, str) or not folder:
            raise ValueError(f"folder= needs a non-empty folder path and kind file or directory, got {folder!r}")
        if not all(isinstance(item, str) and item for item in items):
            raise ValueError("with folder=, every item must be a relative path")
        items = [folder.rstrip("\\") + "\\" + item.lstrip("\\") for item in items]
    return [_converged.fact_spec(kind, item, **extra) for item in items]


class FilterModule:
    """winkube.node filters for converged runs."""

    def filters(self) -> Dict[str, Callable[..., Any]]:
        return {"state_facts": state_facts}
