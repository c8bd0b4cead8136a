# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters for a node's life after provisioning: what a reset removes, what an upgrade changes.

Thin wrappers over ``plugins/module_utils/lifecycle.py``; every ValueError becomes an
AnsibleFilterError naming the filter. Documentation: ``reset_targets.yml``,
``reset_hns.yml`` and ``upgrade_actions.yml`` beside this file.
"""

from __future__ import annotations

from typing import Any, Callable, Dict

from ansible_collections.winkube.node.plugins.module_utils import lifecycle as _lifecycle
from ansible_collections.winkube.node.plugins.plugin_utils.filters import knowledge_filter


def _flag(value: Any, name: str) -> bool:
    # A string "false" from a survey or -e would be truthy; only real booleans are accepted.
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be true or false, got {value!r}")
    return value


@knowledge_filter("reset_targets")
def reset_targets(
    plan: Any, remove_runtime: Any = False, remove_binaries: Any = False, remove_logs: Any = False
) -> Dict[str, Any]:
    """The services, folders, Path entries and state files a reset of the node removes."""
    return _lifecycle.reset_targets(
        plan,
        _flag(remove_runtime, "remove_runtime"),
        _flag(remove_binaries, "remove_binaries"),
        _flag(remove_logs, "remove_logs"),
    )


@knowledge_filter("reset_hns")
def reset_hns(probe: Any, networks: Any) -> Dict[str, Any]:
    """The HNS endpoints and networks a reset deletes (endpoints first), from the HNS probe's result."""
    return _lifecycle.reset_hns(probe, networks)


@knowledge_filter("upgrade_actions")
def upgrade_actions(node: Any, plan: Any) -> Dict[str, Any]:
    """What upgrading the joined node to its plan changes (Kubernetes binaries, runtime)."""
    return _lifecycle.upgrade_actions(node, plan)


class FilterModule:
    """winkube.node filters for upgrades and resets."""

    def filters(self) -> Dict[str, Callable[..., Any]]:
        return {"reset_targets": reset_targets, "reset_hns": reset_hns, "upgrade_actions": upgrade_actions}
