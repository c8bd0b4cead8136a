# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

from datetime import date

import pytest
from ansible_collections.winkube.node.plugins.module_utils.containerd import (
    CONTAINERD_LIFECYCLE,
    DEFAULT_SANDBOX_IMAGE,
    KNOWN_CONTAINERD_RELEASES,
    KUBERNETES_CONTAINERD,
    WINDOWS_DEFAULT_PATHS,
    LineLifecycle,
    config_schema,
    containerd_supported,
    end_of_life_date,
    line_lifecycle,
    newest_containerd_for,
    release_tarball,
)
from ansible_collections.winkube.node.plugins.module_utils.versions import Version, parse_version


def v(text: str) -> Version:
    return parse_version(text)


@pytest.mark.parametrize(
    ("containerd", "kubernetes", "ok"),
    [
        # From the issue.
        ("1.7.20", "1.35", False),
        ("1.7.28", "1.35", True),
        ("2.1.5", "1.36", False),
        ("2.1.9", "1.36", False),  # the whole 2.1 line is not accepted for 1.36
        ("2.2.0", "1.36", True),
        ("2.3.0", "1.36", True),
        ("1.3.10", "1.36", False),
        ("1.3.10", "1.24", False),
        # Edges of the per-line minimums.
        ("2.1.4", "1.35", False),
        ("2.1.5", "1.35", True),
        ("1.7.27", "1.34", False),
        ("1.6.39", "1.34", True),
        ("1.6.38", "1.34", False),
        ("1.6.39", "1.35", False),  # 1.6 is gone from the 1.35 row
        ("1.7.0", "1.28", True),
        ("1.6.14", "1.26", False),  # CRI v1 needs 1.6.15+
        ("1.5.18", "1.26", False),
        ("2.0.0", "1.29", False),  # 2.x lines appear from Kubernetes 1.30
        ("2.0.0", "1.30", True),
        ("2.3.5", "1.35", False),  # 2.3 is not listed for 1.35
        ("1.7.28", "1.36.4", False),  # 1.7 is not listed for 1.36
    ],
)
def test_containerd_supported(containerd: str, kubernetes: str, ok: bool) -> None:
    assert containerd_supported(v(containerd), v(kubernetes)).ok is ok


def test_result_lists_minimums_and_source() -> None:
    result = containerd_supported(v("2.1.5"), v("1.36"))
    assert [str(m) for m in result.minimum] == ["2.3.0", "2.2.0"]
    assert "containerd line 2.1 is not accepted" in result.reason
    assert "2.3 (>= 2.3.0), 2.2 (>= 2.2.0)" in result.reason
    assert "RELEASES.md" in result.reason
    older = containerd_supported(v("1.7.20"), v("1.35"))
    assert "older than 1.7.28" in older.reason


def test_containerd_older_than_1_4_is_never_supported() -> None:
    result = containerd_supported(v("1.3.10"), v("1.20"))  # 1.20 is not in the table: still a clear no
    assert result.ok is False
    assert "never supported on Windows" in result.reason
    assert result.minimum == ()


def test_kubernetes_outside_table_raises() -> None:
    with pytest.raises(
        ValueError, match=r"Kubernetes 1\.23 is outside the containerd support table \(1\.24 to 1\.36\)"
    ):
        containerd_supported(v("1.7.28"), v("1.23"))
    with pytest.raises(ValueError, match="outside the containerd support table"):
        containerd_supported(v("2.3.0"), v("1.37"))


def test_containerd_needs_patch() -> None:
    with pytest.raises(ValueError, match=r"containerd version 2\.2 needs a patch number"):
        containerd_supported(Version(2, 2), v("1.36"))


@pytest.mark.parametrize(
    ("kubernetes", "expected"),
    [("1.36", "2.3.5"), ("1.35", "2.2.3"), ("1.34", "2.1.5"), ("1.29", "1.7.31"), ("1.24", "1.7.31")],
)
def test_newest_containerd_for(kubernetes: str, expected: str) -> None:
    assert str(newest_containerd_for(v(kubernetes))) == expected


def test_table_rows_are_sourced_and_ordered() -> None:
    assert [r.kubernetes_minor for r in KUBERNETES_CONTAINERD] == list(range(24, 37))
    for row in KUBERNETES_CONTAINERD:
        assert row.source
        lines = [m.minor_line for m in row.minimums]
        assert lines == sorted(lines, reverse=True), row.kubernetes_minor
    assert all(r.source for r in KNOWN_CONTAINERD_RELEASES)


@pytest.mark.parametrize(
    ("containerd", "write", "latest"),
    [("1.6.39", 2, 2), ("1.7.28", 2, 2), ("2.0.6", 3, 3), ("2.2.3", 3, 3), ("2.3.0", 3, 4)],
)
def test_config_schema(containerd: str, write: int, latest: int) -> None:
    schema = config_schema(v(containerd))
    assert (schema.write, schema.latest) == (write, latest)


def test_config_schema_unknown() -> None:
    with pytest.raises(ValueError, match="predates config version 2"):
        config_schema(v("1.2.13"))
    with pytest.raises(ValueError, match="only majors 1 and 2 are known"):
        config_schema(v("3.0.0"))


def test_release_tarball() -> None:
    artifact = release_tarball(v("v2.2.3"))
    assert artifact.url == (
        "https://github.com/containerd/containerd/releases/download/v2.2.3/containerd-2.2.3-windows-amd64.tar.gz"
    )
    assert artifact.checksum_url == artifact.url + ".sha256sum"
    assert artifact.checksum_format == "sha256sum"
    mirror = release_tarball(v("1.7.28"), "https://mirror.example.com/containerd/")
    assert mirror.url == "https://mirror.example.com/containerd/v1.7.28/containerd-1.7.28-windows-amd64.tar.gz"
    with pytest.raises(ValueError, match="needs a patch number"):
        release_tarball(v("2.2"))


def test_windows_defaults() -> None:
    assert WINDOWS_DEFAULT_PATHS["config"] == r"C:\Program Files\containerd\config.toml"
    assert WINDOWS_DEFAULT_PATHS["grpc_address"] == r"\\.\pipe\containerd-containerd"
    assert DEFAULT_SANDBOX_IMAGE[(2, 3)] == "registry.k8s.io/pause:3.10.2"


@pytest.mark.parametrize(
    ("containerd", "end"),
    [
        ("1.6.39", date(2025, 8, 23)),
        ("1.7.28", date(2026, 9, 30)),  # upstream says "Sept 2026": the whole month counts
        ("2.0.6", date(2027, 3, 31)),
        ("2.1.5", date(2026, 7, 3)),
        ("2.2.3", date(2026, 11, 6)),
        ("2.3.5", date(2028, 4, 30)),
    ],
)
def test_line_lifecycle(containerd: str, end: date) -> None:
    row = line_lifecycle(v(containerd))
    assert row is not None
    assert end_of_life_date(row) == end
    assert row.source


def test_line_lifecycle_unknown_line_and_december() -> None:
    assert line_lifecycle(v("1.5.18")) is None
    assert line_lifecycle(v("2.4.0")) is None
    december = LineLifecycle((9, 9), "2030-12", "test row", "test")
    assert end_of_life_date(december) == date(2030, 12, 31)
    assert [row.line for row in CONTAINERD_LIFECYCLE] == sorted(row.line for row in CONTAINERD_LIFECYCLE)
