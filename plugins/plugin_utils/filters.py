# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every filter of this collection shares: knowledge-base errors become AnsibleFilterError."""

from __future__ import annotations

import functools
from typing import Any, Callable

from ansible.errors import AnsibleFilterError


def knowledge_filter(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorate a filter so a ValueError from the knowledge base becomes an AnsibleFilterError that
    names the filter (``winkube.node.<name>: <what was wrong and what is accepted>``)."""

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return func(*args, **kwargs)
            except ValueError as exc:
                raise AnsibleFilterError(f"winkube.node.{name}: {exc}") from exc

        return wrapper

    return decorate
