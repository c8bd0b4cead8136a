# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the AWX/AAP pattern playbooks: survey answers (text) into lists and label mappings.

Thin wrappers over ``plugins/module_utils/survey.py``; its ValueError becomes an AnsibleFilterError
that names the filter. Documentation: one ``<filter>.yml`` sidecar per filter.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List

from ansible_collections.winkube.node.plugins.module_utils import survey as _survey
from ansible_collections.winkube.node.plugins.plugin_utils.filters import knowledge_filter


@knowledge_filter("survey_list")
def survey_list(text: Any, what: str = "the answer") -> List[str]:
    """The items of a survey answer, one per line or comma-separated."""
    return _survey.survey_items(text, what)


@knowledge_filter("survey_labels")
def survey_labels(text: Any, what: str = "the answer") -> Dict[str, str]:
    """``key=value`` items of a survey answer as a mapping of Kubernetes labels."""
    return _survey.survey_mapping(text, what)


class FilterModule:
    """winkube.node filters for AWX/AAP survey answers."""

    def filters(self) -> Dict[str, Callable[..., Any]]:
        return {"survey_list": survey_list, "survey_labels": survey_labels}
