# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import pytest
from ansible_collections.winkube.node.plugins.module_utils.versions import (
    Version,
    at_least,
    ensure_patch,
    parse_version,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.36.2", Version(1, 36, 2)),
        ("v1.36.2", Version(1, 36, 2)),
        ("1.36", Version(1, 36, None)),
        ("v1.36", Version(1, 36, None)),
        (" 1.36.2\n", Version(1, 36, 2)),  # command output usually ends with a newline
        ("2.0.0", Version(2, 0, 0)),
        ("0.4.3", Version(0, 4, 3)),
        ("1.7.100", Version(1, 7, 100)),
    ],
)
def test_parse_accepts(text: str, expected: Version) -> None:
    assert parse_version(text) == expected


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        (None, "missing (None)"),
        ("", "is empty"),
        ("   ", "is empty"),
        ("1.x", "'1.x' is not a valid version"),
        ("v1.36.1-garbage", "'v1.36.1-garbage' is not a valid version"),
        ("1.36.0-rc.1", "is a pre-release"),
        ("v1.37.0-alpha.2", "is a pre-release"),
        ("1.36.1+k3s1", "is not a valid version"),
        ("1", "is not a valid version"),
        ("1.36.2.1", "is not a valid version"),
        ("01.36", "is not a valid version"),
        ("1.036", "is not a valid version"),
        ("V1.36", "is not a valid version"),
        ("vv1.36", "is not a valid version"),
        (1.3, "quote the version in YAML"),
        (True, "got the boolean True"),
        (136, "must be a string, got int"),
        (["1.36"], "must be a string, got list"),
    ],
)
def test_parse_rejects_with_clear_message(value: object, fragment: str) -> None:
    with pytest.raises(ValueError, match=r"expected X\.Y or X\.Y\.Z|pre-release") as info:
        parse_version(value, "Kubernetes version")
    assert fragment in str(info.value)
    assert str(info.value).startswith("Kubernetes version")


def test_accepted_forms_are_named_in_errors() -> None:
    with pytest.raises(ValueError, match=r"X\.Y or X\.Y\.Z with an optional leading 'v'"):
        parse_version("1.x")


def test_require_patch() -> None:
    assert parse_version("1.7.28", require_patch=True) == Version(1, 7, 28)
    with pytest.raises(ValueError, match=r"containerd version 1\.7 needs a patch number"):
        parse_version("1.7", "containerd version", require_patch=True)
    with pytest.raises(ValueError, match="needs a patch number"):
        ensure_patch(Version(2, 2))


def test_str_and_lines() -> None:
    assert str(Version(1, 36, 2)) == "1.36.2"
    assert str(Version(1, 36)) == "1.36"
    assert Version(2, 2, 3).minor_line == (2, 2)
    assert Version(2, 2, 3).minor_text == "2.2"


@pytest.mark.parametrize(
    ("version", "minimum", "expected"),
    [
        ("1.7.28", "1.7.28", True),
        ("1.7.29", "1.7.28", True),
        ("1.7.20", "1.7.28", False),
        ("1.7.100", "1.7.28", True),  # numeric, not string, comparison
        ("2.0.0", "1.7.28", True),
    ],
)
def test_at_least(version: str, minimum: str, expected: bool) -> None:
    assert at_least(parse_version(version), parse_version(minimum)) is expected


def test_key_refuses_bare_minor() -> None:
    with pytest.raises(ValueError, match="no patch number"):
        Version(1, 36).key()
