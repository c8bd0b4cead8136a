# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""AWX/AAP survey answers into the structured variables the roles take.

A survey has text, textarea, password, integer, float, multiplechoice and multiselect questions, and
no lists or mappings: the pattern playbooks under ``extensions/patterns`` ask for those as text (one
item per line or comma-separated) and convert them here, so a typo fails with the item that is wrong
instead of reaching a role as a string.
"""

from __future__ import annotations

import re
from typing import Any, Dict, List

# Kubernetes label keys and values (k8s.io/apimachinery validation: qualified names, DNS-1123 prefix).
_NAME = r"[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?"
_PREFIX = r"[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?)*"
_KEY_RE = re.compile(rf"^(?:{_PREFIX}/)?{_NAME}$")
_VALUE_RE = re.compile(rf"^(?:{_NAME})?$")


def survey_items(text: Any, what: str) -> List[str]:
    """The non-empty items of a survey answer, split on newlines and commas; none for an empty answer."""
    if text is None:
        return []
    if isinstance(text, (list, tuple)):  # a multiselect answer is already a list
        items = [str(t) for t in text]
    elif isinstance(text, str):
        items = re.split(r"[\n,]", text)
    else:
        raise ValueError(f"{what} must be text, got {type(text).__name__}")
    return [i.strip() for i in items if i.strip()]


def survey_mapping(text: Any, what: str = "the answer") -> Dict[str, str]:
    """``key=value`` items into a mapping of Kubernetes labels; a bad key or value is named."""
    out: Dict[str, str] = {}
    for item in survey_items(text, what):
        key, sep, value = item.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not _KEY_RE.match(key) or len(key.rpartition("/")[2]) > 63:
            raise ValueError(f"{what}: {item!r} is not key=value with a Kubernetes label key")
        if not _VALUE_RE.match(value):
            raise ValueError(f"{what}: the value of {key!r} ({value!r}) is not a Kubernetes label value")
        if key in out and out[key] != value:
            raise ValueError(f"{what}: {key!r} is given twice ({out[key]!r} and {value!r})")
        out[key] = value
    return out
