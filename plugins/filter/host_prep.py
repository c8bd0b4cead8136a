# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters for the host_prep role: the Defender exclusions and firewall rules a node needs.

Thin wrappers over ``plugins/module_utils/host_prep.py``; every ValueError becomes an
AnsibleFilterError naming the filter. Documentation: ``defender_exclusions.yml`` and
``firewall_rules.yml`` beside this file.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List

from ansible_collections.winkube.node.plugins.module_utils import host_prep as _host_prep
from ansible_collections.winkube.node.plugins.plugin_utils.filters import knowledge_filter


@knowledge_filter("defender_exclusions")
def defender_exclusions(plan: Any, extra_paths: Any = None, extra_processes: Any = None) -> Dict[str, List[str]]:
    """The Defender path and process exclusions for a node's plan."""
    return _host_prep.defender_exclusions(plan, extra_paths, extra_processes)


@knowledge_filter("firewall_rules")
def firewall_rules(
    cni: Any, remote_addresses: Any = "any", profiles: Any = _host_prep.PROFILES
) -> List[Dict[str, Any]]:
    """win_firewall_rule arguments for every rule the role manages (present or absent)."""
    return _host_prep.firewall_rules(cni, remote_addresses, profiles)


class FilterModule:
    """winkube.node filters for host preparation."""

    def filters(self) -> Dict[str, Callable[..., Any]]:
        return {"defender_exclusions": defender_exclusions, "firewall_rules": firewall_rules}
