# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""containerd on Windows: accepted versions per Kubernetes minor, config schema, paths, artifacts.

Abbreviation: CD = containerd/containerd.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Dict, Optional, Tuple

from ansible_collections.winkube.node.plugins.module_utils.versions import (
    Version,
    at_least,
    ensure_patch,
    parse_version,
)

_RELEASES_MD = "CD RELEASES.md (Kubernetes support table)"

# Kubernetes documents containerd 1.4.0+ as the Windows runtime (stable since Kubernetes 1.20):
# anything older is never supported, whatever the Kubernetes version.
# Source: kubernetes/website content/en/docs/concepts/windows/intro.md.
WINDOWS_MINIMUM_CONTAINERD = Version(1, 4, 0)


@dataclass(frozen=True)
class KubernetesContainerdRow:
    """containerd releases accepted for one Kubernetes minor: the minimum per containerd line."""

    kubernetes_minor: int
    minimums: Tuple[Version, ...]  # newest line first, as in RELEASES.md
    cri: str
    status: str
    source: str


def _v(text: str) -> Version:
    return parse_version(text, "table version", require_patch=True)


def _row(minor: int, minimums: str, cri: str = "v1", source: str = _RELEASES_MD + " HEAD") -> KubernetesContainerdRow:
    return KubernetesContainerdRow(minor, tuple(_v(m) for m in minimums.split()), cri, "confirmed", source)


# Domain facts section 4a. Kubernetes major is 1 throughout.
KUBERNETES_CONTAINERD: Tuple[KubernetesContainerdRow, ...] = (
    _row(24, "1.7.0 1.6.4", "v1, v1alpha2", _RELEASES_MD + " history"),
    _row(25, "1.7.0 1.6.4", "v1, v1alpha2", _RELEASES_MD + " history"),
    _row(26, "1.7.0 1.6.15", source=_RELEASES_MD + " history"),
    _row(27, "1.7.0 1.6.15", source=_RELEASES_MD + " history"),
    _row(28, "1.7.0 1.6.15", source=_RELEASES_MD + " history"),
    _row(29, "1.7.11 1.6.27", source=_RELEASES_MD + " history"),
    _row(30, "2.1.0 2.0.0 1.7.13 1.6.28", source=_RELEASES_MD + " history"),
    _row(31, "2.1.0 2.0.0 1.7.20 1.6.34", source=_RELEASES_MD + " history"),
    _row(32, "2.1.0 2.0.1 1.7.24 1.6.36"),
    _row(33, "2.1.0 2.0.4 1.7.24 1.6.36"),
    _row(34, "2.1.3 2.0.6 1.7.28 1.6.39"),
    _row(35, "2.2.0 2.1.5 1.7.28"),
    _row(36, "2.3.0 2.2.0"),
)
_BY_MINOR: Dict[int, KubernetesContainerdRow] = {r.kubernetes_minor: r for r in KUBERNETES_CONTAINERD}


@dataclass(frozen=True)
class KnownRelease:
    version: Version
    source: str


# containerd releases this collection knows exist, per line; used to pick the newest accepted one.
# Each is justified by the reference (table minimums) or by a release-notes PR / release page found
# with the search tool, as named.
KNOWN_CONTAINERD_RELEASES: Tuple[KnownRelease, ...] = (
    KnownRelease(_v("1.6.39"), _RELEASES_MD + " (minimum for Kubernetes 1.34)"),
    KnownRelease(_v("1.7.28"), "CD PR #12134 (release notes for v1.7.28)"),
    KnownRelease(_v("1.7.29"), "CD PR #12486 (release notes for v1.7.29)"),
    KnownRelease(_v("1.7.30"), "CD PR #12652 (release notes for v1.7.30)"),
    KnownRelease(_v("1.7.31"), "CD PR #13221 (release notes for v1.7.31, 2026-04-13)"),
    KnownRelease(_v("2.0.6"), _RELEASES_MD + " (minimum for Kubernetes 1.34)"),
    KnownRelease(_v("2.1.5"), _RELEASES_MD + " (minimum for Kubernetes 1.35); siderolabs/pkgs PR #1364"),
    KnownRelease(_v("2.2.0"), _RELEASES_MD + " (minimum for Kubernetes 1.35/1.36)"),
    KnownRelease(_v("2.2.3"), "moby/moby PR #52360 (containerd v2.2.3 release notes link)"),
    KnownRelease(_v("2.3.0"), "CD PR #13325 (release notes for v2.3.0)"),
    KnownRelease(_v("2.3.1"), "CD PR #13405 (release notes for v2.3.1)"),
    KnownRelease(_v("2.3.4"), "moby/moby PR #53409 (containerd v2.3.4 release notes link)"),
    KnownRelease(
        _v("2.3.5"), "github.com/containerd/containerd/releases/tag/v2.3.5 (published 2026-09-04); CD PR #14092"
    ),
)


@dataclass(frozen=True)
class SupportResult:
    ok: bool
    reason: str
    minimum: Tuple[Version, ...]


def containerd_row(kubernetes: Version) -> KubernetesContainerdRow:
    row = _BY_MINOR.get(kubernetes.minor) if kubernetes.major == 1 else None
    if row is None:
        first, last = KUBERNETES_CONTAINERD[0].kubernetes_minor, KUBERNETES_CONTAINERD[-1].kubernetes_minor
        raise ValueError(
            f"Kubernetes {kubernetes.minor_text} is outside the containerd support table (1.{first} to 1.{last})"
        )
    return row


def containerd_supported(containerd: Version, kubernetes: Version) -> SupportResult:
    """Whether containerd ``containerd`` (X.Y.Z) is accepted for Kubernetes ``kubernetes`` (X.Y[.Z])."""
    ensure_patch(containerd, "containerd version")  # compared against per-line minimums such as 1.7.28
    if not at_least(containerd, WINDOWS_MINIMUM_CONTAINERD):
        # Checked before the table so that an ancient containerd is refused even for Kubernetes
        # minors the table does not cover.
        known = _BY_MINOR.get(kubernetes.minor) if kubernetes.major == 1 else None
        return SupportResult(
            False,
            f"containerd {containerd} is older than 1.4.0, which is never supported on Windows "
            "(kubernetes/website content/en/docs/concepts/windows/intro.md)",
            known.minimums if known else (),
        )
    row = containerd_row(kubernetes)
    accepted = ", ".join(f"{m.minor_text} (>= {m})" for m in row.minimums)
    where = f"Kubernetes {kubernetes.minor_text} accepts containerd {accepted} ({row.source})"
    for minimum in row.minimums:
        if minimum.minor_line == containerd.minor_line:
            if at_least(containerd, minimum):
                return SupportResult(True, f"containerd {containerd} is accepted: {where}", row.minimums)
            return SupportResult(False, f"containerd {containerd} is older than {minimum}: {where}", row.minimums)
    return SupportResult(False, f"containerd line {containerd.minor_text} is not accepted: {where}", row.minimums)


def newest_containerd_for(kubernetes: Version) -> Version:
    """The newest known containerd release that the table accepts for ``kubernetes``."""
    accepted = [r.version for r in KNOWN_CONTAINERD_RELEASES if containerd_supported(r.version, kubernetes).ok]
    if not accepted:
        raise ValueError(f"no known containerd release is accepted for Kubernetes {kubernetes.minor_text}")
    return max(accepted, key=Version.key)


# ---------------------------------------------------------------------------------------------
# Release-line lifecycle (domain facts 4a, "containerd lifecycle")


@dataclass(frozen=True)
class LineLifecycle:
    """End of life of one containerd release line: ``YYYY-MM-DD``, or ``YYYY-MM`` when upstream names a month."""

    line: Tuple[int, int]
    end_of_life: str
    note: str
    source: str


_RELEASES_MD_LIFECYCLE = "CD RELEASES.md HEAD (release lifecycle table)"
CONTAINERD_LIFECYCLE: Tuple[LineLifecycle, ...] = (
    LineLifecycle((1, 6), "2025-08-23", "end of life", _RELEASES_MD_LIFECYCLE),
    LineLifecycle((1, 7), "2026-09", "LTS, extended (upstream names the month only)", _RELEASES_MD_LIFECYCLE),
    LineLifecycle((2, 0), "2027-03", "LTS (upstream names the month only)", _RELEASES_MD_LIFECYCLE),
    LineLifecycle((2, 1), "2026-07-03", "end of life", _RELEASES_MD_LIFECYCLE),
    LineLifecycle((2, 2), "2026-11-06", "active until then", _RELEASES_MD_LIFECYCLE),
    LineLifecycle((2, 3), "2028-04-30", "LTS", _RELEASES_MD_LIFECYCLE),
)
_LIFECYCLE_BY_LINE: Dict[Tuple[int, int], LineLifecycle] = {row.line: row for row in CONTAINERD_LIFECYCLE}


def line_lifecycle(containerd: Version) -> Optional[LineLifecycle]:
    """The lifecycle row of ``containerd``'s release line, None when the reference has none."""
    return _LIFECYCLE_BY_LINE.get(containerd.minor_line)


def end_of_life_date(row: LineLifecycle) -> date:
    """The last supported day; a month-only end (``2026-09``) counts as the last day of that month."""
    parts = [int(p) for p in row.end_of_life.split("-")]
    if len(parts) == 3:
        return date(parts[0], parts[1], parts[2])
    year, month = parts
    first_of_next = date(year + month // 12, month % 12 + 1, 1)
    return first_of_next - timedelta(days=1)


# ---------------------------------------------------------------------------------------------
# config.toml schema (domain facts 4b)


@dataclass(frozen=True)
class ConfigSchema:
    """``version = N`` of config.toml: what this collection writes and the newest the release knows."""

    write: int
    latest: int
    note: str


def config_schema(containerd: Version) -> ConfigSchema:
    """Config schema per containerd major: v2 for 1.x, v3 for 2.x (2.3 introduced v4 but still reads v3).

    Sources: CD RELEASES.md "Daemon configuration"; CD docs/cri/config.md; CD version/version.go
    (ConfigVersion = 4, commit 06c23567, in v2.3.0).
    """
    if containerd.major == 1:
        if containerd.minor < 3:
            raise ValueError(f"containerd {containerd} predates config version 2 (introduced in 1.3.0)")
        return ConfigSchema(2, 2, "version 2 (introduced in containerd 1.3.0)")
    if containerd.major == 2:
        if containerd.minor >= 3:
            return ConfigSchema(
                3,
                4,
                "version 3; containerd 2.3 introduced version 4 (debug server became a server plugin) and still "
                "accepts and migrates version 3",
            )
        return ConfigSchema(3, 3, "version 3 (introduced in containerd 2.0.0; version 2 is still migrated on start)")
    raise ValueError(f"containerd {containerd}: only majors 1 and 2 are known")


# ---------------------------------------------------------------------------------------------
# Windows defaults and artifacts (domain facts 4c, 4d)

# Source: CD defaults/defaults_windows.go, cmd/containerd/command/main.go, pkg|internal/cri/config/config_windows.go.
WINDOWS_DEFAULT_PATHS: Dict[str, str] = {
    "config": r"C:\Program Files\containerd\config.toml",
    "root": r"C:\ProgramData\containerd\root",
    "state": r"C:\ProgramData\containerd\state",
    "cni_bin_dir": r"C:\Program Files\containerd\cni\bin",
    "cni_conf_dir": r"C:\Program Files\containerd\cni\conf",
    "grpc_address": r"\\.\pipe\containerd-containerd",
    "debug_address": r"\\.\pipe\containerd-debug",
}
# Only containerd 2.3+ reads drop-in files from here (CD HEAD defaults_windows.go).
WINDOWS_DROP_IN_GLOB = r"C:\Program Files\containerd\conf.d\*.toml"
KUBELET_RUNTIME_ENDPOINT = "npipe:////./pipe/containerd-containerd"
DEFAULT_RUNTIME_HANDLER = "runhcs-wcow-process"
HYPERV_RUNTIME_HANDLER = "runhcs-wcow-hypervisor"  # defined by default from containerd 1.7
SERVICE_NAME = "containerd"

# Built-in default sandbox image per containerd line (CD config files per release branch).
DEFAULT_SANDBOX_IMAGE: Dict[Tuple[int, int], str] = {
    (1, 6): "registry.k8s.io/pause:3.6",
    (1, 7): "registry.k8s.io/pause:3.8",
    (2, 0): "registry.k8s.io/pause:3.10",
    (2, 1): "registry.k8s.io/pause:3.10",
    (2, 2): "registry.k8s.io/pause:3.10.1",
    (2, 3): "registry.k8s.io/pause:3.10.2",
}

RELEASE_BASE_URL = "https://github.com/containerd/containerd/releases/download"


@dataclass(frozen=True)
class ReleaseArtifact:
    url: str
    checksum_url: str
    checksum_format: str


def release_tarball(containerd: Version, base_url: Optional[str] = None) -> ReleaseArtifact:
    """Windows amd64 release tarball and its ``.sha256sum`` (``sha256sum`` output: "hash  filename").

    Sources: CD docs/getting-started.md; CD Makefile (RELEASE name and ``release:`` target).
    windows/arm64 is Tier 3 in RELEASES.md and has no release artifacts, so only amd64 exists.
    """
    version = ensure_patch(containerd, "containerd version")
    base = (base_url or RELEASE_BASE_URL).rstrip("/")
    url = f"{base}/v{version}/containerd-{version}-windows-amd64.tar.gz"
    return ReleaseArtifact(url, url + ".sha256sum", "sha256sum")
