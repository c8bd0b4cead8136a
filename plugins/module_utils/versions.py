# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Strict release-version parsing shared by every knowledge module.

Accepted: ``X.Y`` or ``X.Y.Z`` with an optional leading lowercase ``v``
(``1.36``, ``1.36.2``, ``v1.36.2``), surrounding whitespace ignored.

Rejected, with a ValueError that says what was wrong and what is accepted:
empty strings, None, booleans, floats (YAML turns an unquoted ``1.30`` into the
float 1.3, so a float can never be trusted to mean a version), wildcards like
``1.x``, leading zeros, and any suffix.

Pre-releases (``1.36.0-rc.1``) are rejected on purpose: no row of the support
tables names a pre-release, and a pre-release must not pass a support check by
comparing like the final release it precedes. The error says so explicitly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Optional, Tuple

ACCEPTED_FORMS = "X.Y or X.Y.Z with an optional leading 'v' (for example 1.36, 1.36.2 or v1.36.2)"

# One number: 0 or a positive integer without leading zeros (as in SemVer).
_NUMBER = r"(?:0|[1-9][0-9]*)"
_VERSION_RE = re.compile(rf"^v?(?P<major>{_NUMBER})\.(?P<minor>{_NUMBER})(?:\.(?P<patch>{_NUMBER}))?$")
# Recognised only to give a precise error message, never to accept.
_PRERELEASE_RE = re.compile(rf"^v?{_NUMBER}\.{_NUMBER}\.{_NUMBER}-(?:alpha|beta|rc)\.?[0-9]+$")


@dataclass(frozen=True)
class Version:
    """A released version; ``patch`` is None when only ``X.Y`` was given."""

    major: int
    minor: int
    patch: Optional[int] = None

    def __str__(self) -> str:
        if self.patch is None:
            return f"{self.major}.{self.minor}"
        return f"{self.major}.{self.minor}.{self.patch}"

    @property
    def minor_line(self) -> Tuple[int, int]:
        """``(major, minor)``: the release line, e.g. (1, 36) or (2, 2)."""
        return (self.major, self.minor)

    @property
    def minor_text(self) -> str:
        return f"{self.major}.{self.minor}"

    def key(self) -> Tuple[int, int, int]:
        """Sort key for full versions; a bare ``X.Y`` cannot be ordered against patches."""
        if self.patch is None:
            raise ValueError(f"version {self} has no patch number; a full X.Y.Z version is needed here")
        return (self.major, self.minor, self.patch)


def parse_version(value: Any, what: str = "version", require_patch: bool = False) -> Version:
    """Parse ``value`` strictly; ``what`` names the input in error messages."""
    if value is None:
        raise ValueError(f"{what} is missing (None); expected {ACCEPTED_FORMS}")
    if isinstance(value, bool):
        raise ValueError(f"{what} must be a string, got the boolean {value!r}; expected {ACCEPTED_FORMS}")
    if isinstance(value, float):
        raise ValueError(
            f"{what} must be a string, got the number {value!r}; quote the version in YAML "
            f"(an unquoted 1.30 becomes 1.3); expected {ACCEPTED_FORMS}"
        )
    if not isinstance(value, str):
        raise ValueError(f"{what} must be a string, got {type(value).__name__}; expected {ACCEPTED_FORMS}")
    text = value.strip()
    if not text:
        raise ValueError(f"{what} is empty; expected {ACCEPTED_FORMS}")
    if _PRERELEASE_RE.match(text):
        raise ValueError(f"{what} {text!r} is a pre-release; only released versions are accepted: {ACCEPTED_FORMS}")
    match = _VERSION_RE.match(text)
    if match is None:
        raise ValueError(f"{what} {text!r} is not a valid version; expected {ACCEPTED_FORMS}")
    patch = match.group("patch")
    version = Version(int(match.group("major")), int(match.group("minor")), None if patch is None else int(patch))
    return ensure_patch(version, what) if require_patch else version


def ensure_patch(version: Version, what: str = "version") -> Version:
    """Return ``version`` unchanged, or raise when it is a bare X.Y."""
    if version.patch is None:
        raise ValueError(f"{what} {version} needs a patch number here (X.Y.Z, for example {version}.0)")
    return version


def at_least(version: Version, minimum: Version) -> bool:
    """True when ``version`` >= ``minimum``; both need a patch number."""
    return version.key() >= minimum.key()
