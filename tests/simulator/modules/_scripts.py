"""Registries of known scripts for the modules that run arbitrary code (win_shell, win_powershell).

Arbitrary PowerShell cannot be emulated; a script runs only when a handler is registered for it.
A key is the exact script text (compared after trimming, CRLF read as LF) or a compiled regex
that must match the whole text. Registrations are process-wide; ``registered()`` scopes one to a
``with`` block (tests).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Generic, TypeVar

H = TypeVar("H")

__all__ = ["ScriptRegistry", "first_line"]


@dataclasses.dataclass
class _Entry(Generic[H]):
    key: str | re.Pattern[str]
    handler: H


def _normalise(text: str) -> str:
    return text.replace("\r\n", "\n").strip()


def first_line(text: str) -> str:
    """The first non-blank line of a script, for error messages."""
    lines = [line.strip() for line in _normalise(text).splitlines() if line.strip()]
    return lines[0] if lines else ""


class ScriptRegistry(Generic[H]):
    """Script text or regex → handler; the latest matching registration wins."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: list[_Entry[H]] = []

    def register(self, key: str | re.Pattern[str], handler: H) -> None:
        self._entries.append(_Entry(_normalise(key) if isinstance(key, str) else key, handler))

    def unregister(self, key: str | re.Pattern[str]) -> None:
        wanted = _normalise(key) if isinstance(key, str) else key
        self._entries = [e for e in self._entries if e.key != wanted]

    @contextmanager
    def registered(self, key: str | re.Pattern[str], handler: H) -> Iterator[None]:
        self.register(key, handler)
        try:
            yield
        finally:
            self.unregister(key)

    def find(self, text: str) -> H | None:
        normal = _normalise(text)
        for entry in reversed(self._entries):
            if isinstance(entry.key, str) and entry.key == normal:
                return entry.handler
            if isinstance(entry.key, re.Pattern) and entry.key.fullmatch(normal):
                return entry.handler
        return None
