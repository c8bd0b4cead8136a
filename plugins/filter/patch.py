# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of a Windows Update patch run (playbooks/patch.yml, roles/patch).

Thin wrappers over ``plugins/module_utils/patch.py``; every ValueError becomes an AnsibleFilterError
naming the filter. Documentation: ``patch_actions.yml``, ``patch_services.yml``,
``patch_image_check.yml`` and ``patch_report.yml`` beside this file.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List

from ansible_collections.winkube.node.plugins.module_utils import patch as _patch
from ansible_collections.winkube.node.plugins.plugin_utils.filters import knowledge_filter


@knowledge_filter("patch_actions")
def patch_actions(node: Any, search: Any, node_name: str) -> Dict[str, Any]:
    """Whether the node is patched, taken up again or left alone, and whether it stays cordoned."""
    return _patch.patch_actions(node, search, node_name)


@knowledge_filter("patch_services")
def patch_services(plan: Any, cri_dockerd_service: str = "cri-dockerd") -> List[str]:
    """kubelet and the runtime's services, which must run again after the reboots."""
    return _patch.patch_services(plan, cri_dockerd_service)


@knowledge_filter("patch_image_check")
def patch_image_check(windows_node: Any, plan: Any) -> Dict[str, Any]:
    """Whether the pause and workload images still run on the node's build after the update."""
    return _patch.patch_image_check(windows_node, plan)


@knowledge_filter("patch_report")
def patch_report(
    before: Any, after: Any, updates: Any, actions: Any, *, check_mode: Any = False, timeline: Any = None
) -> Dict[str, Any]:
    """What the patch run did to the node: revision before and after, updates, a summary line."""
    if not isinstance(check_mode, bool):
        # A string "false" from -e would be truthy; only real booleans are accepted.
        raise ValueError(f"check_mode must be true or false, got {check_mode!r}")
    return _patch.patch_report(before, after, updates, actions, check_mode=check_mode, timeline=timeline)


class FilterModule:
    """winkube.node filters for patching Windows nodes."""

    def filters(self) -> Dict[str, Callable[..., Any]]:
        return {
            "patch_actions": patch_actions,
            "patch_services": patch_services,
            "patch_image_check": patch_image_check,
            "patch_report": patch_report,
        }
