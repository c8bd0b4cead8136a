# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the prepull role: which images to pre-pull onto a node, and what a failed pull means.

Thin wrappers over ``plugins/module_utils/prepull.py``; its ValueError becomes an AnsibleFilterError
that names the filter. Documentation: one ``<filter>.yml`` sidecar per filter.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Mapping

from ansible_collections.winkube.node.plugins.module_utils import prepull as _prepull
from ansible_collections.winkube.node.plugins.plugin_utils.filters import knowledge_filter


def _host_version(plan: Any) -> str:
    if not isinstance(plan, Mapping) or not isinstance(plan.get("host"), Mapping):
        raise ValueError("the plan must be the winkube_plan mapping (with its host block)")
    return str(plan["host"]["os_version"])


@knowledge_filter("prepull_images")
def prepull_images(images: Any, plan: Any) -> Dict[str, List[Any]]:
    """The images to pre-pull on the node the plan is for, and the entries refused for its build."""
    containerd = plan.get("containerd") if isinstance(plan, Mapping) else None
    version = containerd.get("version") if isinstance(containerd, Mapping) else None
    return _prepull.prepull_check(images, _host_version(plan), version)


@knowledge_filter("prepull_failures")
def prepull_failures(results: Any, plan: Any) -> List[str]:
    """One message per failed pull of a registered loop (skipped and successful items are left out)."""
    if isinstance(results, (str, bytes)) or not isinstance(results, (list, tuple)):
        raise ValueError(f"the pull results must be the registered loop's results list, got {type(results).__name__}")
    host = _host_version(plan)
    messages = []
    for res in results:
        if not isinstance(res, Mapping) or not isinstance(res.get("item"), Mapping):
            raise ValueError("every pull result must be a loop result with its item")
        if res.get("skipped") or res.get("rc") == 0:
            continue
        output = f"{res.get('stderr', '')} {res.get('stdout', '')} {res.get('msg', '') if 'rc' not in res else ''}"
        messages.append(_prepull.pull_failure(str(res["item"].get("image")), output, host))
    return messages


class FilterModule:
    """winkube.node filters of the prepull role."""

    def filters(self) -> Dict[str, Callable[..., Any]]:
        return {"prepull_images": prepull_images, "prepull_failures": prepull_failures}
