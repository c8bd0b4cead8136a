# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the collect_logs role: what to bring back from a node, and the report of what came back.

Thin wrappers over ``plugins/module_utils/diagnostics.py``; its ValueError becomes an
AnsibleFilterError that names the filter. Documentation: one ``<filter>.yml`` sidecar per filter.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Sequence

from ansible_collections.winkube.node.plugins.module_utils import diagnostics as _diagnostics
from ansible_collections.winkube.node.plugins.plugin_utils.filters import knowledge_filter


@knowledge_filter("collect_logs_plan")
def collect_logs_plan(
    probe: Any, *, files: Any, ctr_path: str, docker_path: str, event_logs: Any, temp_dir: str
) -> Dict[str, Any]:
    """What to fetch, which event logs to export and how to list images, from the node's probe."""
    return _diagnostics.collection_plan(
        probe, files, ctr_path=ctr_path, docker_path=docker_path, channels=event_logs, temp_dir=temp_dir
    )


@knowledge_filter("collect_logs_fetch_list")
def collect_logs_fetch_list(plan: Any, export_results: Sequence[Any]) -> List[Dict[str, str]]:
    """The files to fetch: existing log files and the event logs that were exported."""
    return _diagnostics.fetch_list(plan, export_results)


@knowledge_filter("collect_logs_report")
def collect_logs_report(
    probe: Any,
    *,
    plan: Any,
    export_results: Sequence[Any],
    fetch_results: Sequence[Any],
    image_result: Optional[Any],
    node: str,
    when: str,
) -> Dict[str, Any]:
    """The summary, services.json and hns.json of one node, and what was and was not collected."""
    return _diagnostics.report(
        node,
        when,
        probe=probe,
        plan=plan,
        export_results=export_results,
        fetch_results=fetch_results,
        image_result=image_result,
    )


class FilterModule:
    """winkube.node filters of the collect_logs role."""

    def filters(self) -> Dict[str, Callable[..., Any]]:
        return {
            "collect_logs_plan": collect_logs_plan,
            "collect_logs_fetch_list": collect_logs_fetch_list,
            "collect_logs_report": collect_logs_report,
        }
