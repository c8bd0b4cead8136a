# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Windows Server releases: builds, channels, container base-image tags, lifecycle.

Every row carries its source as recorded in the collection's domain facts (section 1).
Abbreviation used below: VD = MicrosoftDocs/Virtualization-Documentation.

Modelling decisions:
- Build 17763 is shared by Windows Server 2019 (LTSC) and Windows Server, version 1809
  (SAC, Server Core only, long out of support). A build number alone cannot tell them
  apart, so it resolves to Windows Server 2019 unless the caller asks for the SAC
  channel explicitly; the result names the other product in ``shares_build_with``.
- Windows Server, version 23H2 (Annual Channel) publishes no container images of its own:
  "A Windows Server, version 23H2 container host only supports the Windows Server 2022
  LTSC container image" (VD deploy-containers/portability.md). It is modelled as a
  host-only release whose images are ltsc2022 (``image_build`` 20348, version_tag ltsc2022).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Dict, Optional, Tuple

CHANNELS = ("ltsc", "sac", "annual")
IMAGE_REPOSITORIES = ("servercore", "nanoserver", "server", "windows")
MCR_WINDOWS = "mcr.microsoft.com/windows"

_VD = "MicrosoftDocs/Virtualization-Documentation virtualization/windowscontainers/"
_SRC_LIFECYCLE_HEAD = _VD + "deploy-containers/base-image-lifecycle.md (HEAD 77e0742a)"
_SRC_LIFECYCLE_SAC = (
    "MicrosoftDocs/Virtualization-Documentation deploy-containers/base-image-lifecycle.md @d87e2955 (2025-01-23)"
)
_SRC_2019_TAGS = "techcommunity.microsoft.com/t5/containers/windows-server-2019-now-available/ba-p/382430"
_SRC_BASE_IMAGES = _VD + "manage-containers/container-base-images.md"


@dataclass(frozen=True)
class WindowsRelease:
    """One Windows Server product release (a row of domain facts section 1a/1b)."""

    id: str
    name: str
    channel: str
    release: str  # Microsoft's version label: 1607, 1809, 21H2, 23H2, 24H2 ...
    build: int
    version_tag: str  # tag of the container images this host runs natively
    image_build: int  # build of those images (differs from ``build`` only for host-only 23H2)
    image_tags: Tuple[Tuple[str, Tuple[str, ...]], ...]  # (repository, tags) under mcr.microsoft.com/windows
    availability: Optional[str]
    mainstream_end: Optional[str]
    extended_end: Optional[str]
    status: str
    source: str
    host_only: bool = False

    def image_tags_dict(self) -> Dict[str, Tuple[str, ...]]:
        return dict(self.image_tags)


@dataclass(frozen=True)
class WindowsVersion:
    """A parsed Windows version: 10.0.<build>[.<revision>] (revision = UBR, None when unknown)."""

    major: int
    minor: int
    build: int
    revision: Optional[int] = None

    @property
    def os_version(self) -> str:
        """The OCI ``os.version`` form; without a revision only major.minor.build."""
        base = f"{self.major}.{self.minor}.{self.build}"
        return base if self.revision is None else f"{base}.{self.revision}"

    @property
    def node_label(self) -> str:
        """Value kubelet writes to ``node.kubernetes.io/windows-build`` (major.minor.build).

        Source: kubernetes/website content/en/docs/concepts/windows/user-guide.md.
        """
        return f"{self.major}.{self.minor}.{self.build}"


WINDOWS_RELEASES: Tuple[WindowsRelease, ...] = (
    WindowsRelease(
        id="ws2016",
        name="Windows Server 2016",
        channel="ltsc",
        release="1607",
        build=14393,
        version_tag="ltsc2016",
        image_build=14393,
        # nanoserver:sac2016 reached end of support on 2018-10-09; listed because it is the tag that exists.
        image_tags=(("servercore", ("ltsc2016",)), ("nanoserver", ("sac2016",))),
        availability="2016-10-15",
        mainstream_end="2022-01-11",
        extended_end="2027-01-11",
        status="confirmed",
        source=_SRC_LIFECYCLE_HEAD + "; tags: base-image-lifecycle.md @39039fd5",
    ),
    WindowsRelease(
        id="ws2019",
        name="Windows Server 2019",
        channel="ltsc",
        release="1809",
        build=17763,
        version_tag="ltsc2019",
        image_build=17763,
        # nanoserver:ltsc2019 is only seen in third-party Dockerfiles (partial): 1809 is the safe tag,
        # so only it is listed.
        image_tags=(("servercore", ("ltsc2019", "1809")), ("nanoserver", ("1809",)), ("windows", ("1809",))),
        availability="2018-11-13",
        mainstream_end="2024-01-09",
        extended_end="2029-01-09",
        status="confirmed",
        source=_SRC_LIFECYCLE_HEAD + "; tags: " + _SRC_2019_TAGS,
    ),
    WindowsRelease(
        id="ws1809sac",
        name="Windows Server, version 1809",
        channel="sac",
        release="1809",
        build=17763,
        version_tag="1809",
        image_build=17763,
        image_tags=(("servercore", ("1809",)), ("nanoserver", ("1809",)), ("windows", ("1809",))),
        availability="2018-11-13",
        mainstream_end="2024-01-09",
        extended_end="2029-01-09",
        status="partial: end dates changed across doc revisions (extended end per the 2025-06 revision)",
        source="base-image-lifecycle.md @64e3c0be / @d87e2955; tags: " + _SRC_2019_TAGS,
    ),
    WindowsRelease(
        id="ws1903",
        name="Windows Server, version 1903",
        channel="sac",
        release="1903",
        build=18362,
        version_tag="1903",
        image_build=18362,
        image_tags=(("servercore", ("1903",)), ("nanoserver", ("1903",)), ("windows", ("1903",))),
        availability="2019-05-21",
        mainstream_end="2020-12-08",
        extended_end=None,
        status="confirmed (tags partial)",
        source=_SRC_LIFECYCLE_SAC,
    ),
    WindowsRelease(
        id="ws1909",
        name="Windows Server, version 1909",
        channel="sac",
        release="1909",
        build=18363,
        version_tag="1909",
        image_build=18363,
        image_tags=(("servercore", ("1909",)), ("nanoserver", ("1909",)), ("windows", ("1909",))),
        availability="2019-11-12",
        mainstream_end="2021-05-11",
        extended_end=None,
        status="confirmed (tags partial)",
        source=_SRC_LIFECYCLE_SAC,
    ),
    WindowsRelease(
        id="ws2004",
        name="Windows Server, version 2004",
        channel="sac",
        release="2004",
        build=19041,
        version_tag="2004",
        image_build=19041,
        image_tags=(("servercore", ("2004",)), ("nanoserver", ("2004",)), ("windows", ("2004",))),
        availability="2020-05-27",
        mainstream_end="2021-12-14",
        extended_end=None,
        status="confirmed (tags partial)",
        source=_SRC_LIFECYCLE_SAC,
    ),
    WindowsRelease(
        id="ws20h2",
        name="Windows Server, version 20H2",
        channel="sac",
        release="20H2",
        build=19042,
        version_tag="20H2",
        image_build=19042,
        image_tags=(("servercore", ("20H2",)), ("nanoserver", ("20H2",)), ("windows", ("20H2",))),
        availability="2020-10-20",
        mainstream_end="2022-08-09",
        extended_end=None,
        status="confirmed (tags partial); the last SAC release",
        source=_SRC_LIFECYCLE_SAC + "; cloud.google.com/kubernetes-engine/docs/deprecations/windows-server-sac",
    ),
    WindowsRelease(
        id="ws2022",
        name="Windows Server 2022",
        channel="ltsc",
        release="21H2",
        build=20348,
        version_tag="ltsc2022",
        image_build=20348,
        # A "windows" (full) image for 2022 is UNCONFIRMED, so that repository is not listed.
        image_tags=(("servercore", ("ltsc2022",)), ("nanoserver", ("ltsc2022",)), ("server", ("ltsc2022",))),
        availability="2021-08-18",
        mainstream_end="2026-10-13",
        extended_end="2031-10-14",
        status="confirmed",
        source=_SRC_LIFECYCLE_HEAD + "; tags: " + _SRC_BASE_IMAGES + "; rancher/rke2 issue #1733",
    ),
    WindowsRelease(
        id="ws23h2",
        name="Windows Server, version 23H2",
        channel="annual",
        release="23H2",
        build=25398,
        version_tag="ltsc2022",
        image_build=20348,
        image_tags=(("servercore", ("ltsc2022",)), ("nanoserver", ("ltsc2022",)), ("server", ("ltsc2022",))),
        # Availability 2023-10-24 and end of servicing around 2025-10 come from a third-party list only
        # (UNCONFIRMED), so no lifecycle dates are encoded.
        availability=None,
        mainstream_end=None,
        extended_end=None,
        status="build confirmed; lifecycle dates UNCONFIRMED; host-only (runs ltsc2022 images)",
        source="containerd/containerd vendor/github.com/containerd/platforms/platform_windows_compat.go "
        "(v23H2 = 25398); " + _VD + "deploy-containers/portability.md",
        host_only=True,
    ),
    WindowsRelease(
        id="ws2025",
        name="Windows Server 2025",
        channel="ltsc",
        release="24H2",
        build=26100,
        version_tag="ltsc2025",
        image_build=26100,
        # "The Windows image isn't available for Windows Server 2025": no "windows" repository tag.
        image_tags=(("servercore", ("ltsc2025",)), ("nanoserver", ("ltsc2025",)), ("server", ("ltsc2025",))),
        availability="2024-11-01",
        mainstream_end="2029-10-09",
        extended_end="2034-10-10",
        status="confirmed",
        source=_SRC_LIFECYCLE_HEAD + "; tags: " + _SRC_BASE_IMAGES,
    ),
)

_BY_ID: Dict[str, WindowsRelease] = {r.id: r for r in WINDOWS_RELEASES}

# Image tags (and the os.version builds they stand for) accepted where an image version is
# expected. 23H2 has no images, so its build never appears here.
IMAGE_TAG_BUILDS: Dict[str, int] = {
    "ltsc2016": 14393,
    "sac2016": 14393,
    "1809": 17763,
    "ltsc2019": 17763,
    "1903": 18362,
    "1909": 18363,
    "2004": 19041,
    "20h2": 19042,
    "ltsc2022": 20348,
    "ltsc2025": 26100,
}
IMAGE_BUILDS = frozenset(r.image_build for r in WINDOWS_RELEASES)

_ACCEPTED_VERSION = "a Windows version like 10.0.20348.2527 or 10.0.20348, or a build number like 20348"
_FULL_RE = re.compile(r"^(?P<major>[0-9]+)\.(?P<minor>[0-9]+)\.(?P<build>[0-9]+)(?:\.(?P<revision>[0-9]+))?$")
_BUILD_RE = re.compile(r"^[0-9]+$")
# containerd keeps the build in a uint16 and Windows the revision (UBR) in a DWORD.
_MAX_BUILD = 0xFFFF
_MAX_REVISION = 0xFFFFFFFF


def known_builds() -> str:
    """Human-readable list of known host builds for error messages."""
    return ", ".join(f"{r.build} ({r.name})" for r in WINDOWS_RELEASES if r.id != "ws1809sac")


def parse_windows_version(value: Any, what: str = "Windows version") -> WindowsVersion:
    """Parse ``10.0.B[.R]``, ``"B"`` or the integer B; no knowledge of which builds exist."""
    if value is None:
        raise ValueError(f"{what} is missing (None); expected {_ACCEPTED_VERSION}")
    if isinstance(value, bool):
        raise ValueError(f"{what} must be a string or integer, got the boolean {value!r}; expected {_ACCEPTED_VERSION}")
    if isinstance(value, int):
        return _checked(WindowsVersion(10, 0, value), what, str(value))
    if not isinstance(value, str):
        raise ValueError(
            f"{what} must be a string or integer, got {type(value).__name__}; expected {_ACCEPTED_VERSION}"
        )
    text = value.strip()
    if not text:
        raise ValueError(f"{what} is empty; expected {_ACCEPTED_VERSION}")
    if _BUILD_RE.match(text):
        return _checked(WindowsVersion(10, 0, int(text)), what, text)
    match = _FULL_RE.match(text)
    if match is None:
        raise ValueError(f"{what} {text!r} is not a Windows version; expected {_ACCEPTED_VERSION}")
    revision = match.group("revision")
    parsed = WindowsVersion(
        int(match.group("major")),
        int(match.group("minor")),
        int(match.group("build")),
        None if revision is None else int(revision),
    )
    return _checked(parsed, what, text)


def _checked(version: WindowsVersion, what: str, text: str) -> WindowsVersion:
    if (version.major, version.minor) != (10, 0):
        raise ValueError(
            f"{what} {text!r} is not a Windows 10.0 kernel version; Windows containers need "
            "Windows Server 2016 (10.0.14393) or later"
        )
    if not 0 < version.build <= _MAX_BUILD:
        raise ValueError(f"{what} {text!r} has build {version.build}, outside 1..{_MAX_BUILD}")
    if version.revision is not None and version.revision > _MAX_REVISION:
        raise ValueError(f"{what} {text!r} has revision {version.revision}, outside 0..{_MAX_REVISION}")
    return version


def release_by_id(release_id: str) -> WindowsRelease:
    try:
        return _BY_ID[release_id]
    except KeyError:
        raise ValueError(f"unknown Windows release id {release_id!r}; known: {', '.join(_BY_ID)}") from None


def release_for_build(build: int, channel: Optional[str] = None) -> WindowsRelease:
    """The Windows Server release for a host build; 17763 is WS2019 unless ``channel='sac'``."""
    if channel is not None and channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}; accepted: {', '.join(CHANNELS)}")
    candidates = [r for r in WINDOWS_RELEASES if r.build == build]
    if not candidates:
        raise ValueError(f"unknown Windows Server build {build}; known builds: {known_builds()}")
    if channel is None:
        # Only 17763 has two rows; the LTSC product is the one still supported, so it is the default.
        return next(r for r in candidates if r.channel != "sac") if len(candidates) > 1 else candidates[0]
    for release in candidates:
        if release.channel == channel:
            return release
    raise ValueError(
        f"Windows Server build {build} is {candidates[0].name} (channel {candidates[0].channel}), "
        f"not channel {channel!r}"
    )


def shares_build_with(release: WindowsRelease) -> Tuple[str, ...]:
    """Ids of the other releases with the same build (only WS2019 and 1809 SAC share one)."""
    return tuple(r.id for r in WINDOWS_RELEASES if r.build == release.build and r.id != release.id)


def parse_image_os_version(value: Any, what: str = "image os.version") -> WindowsVersion:
    """Parse an image version: an os.version/build (as above) or a base-image tag like ``ltsc2022``.

    The build must be one Microsoft publishes images for (23H2's 25398 is not one).
    """
    if isinstance(value, str) and value.strip().lower() in IMAGE_TAG_BUILDS:
        return WindowsVersion(10, 0, IMAGE_TAG_BUILDS[value.strip().lower()])
    version = parse_windows_version(value, what)
    if version.build not in IMAGE_BUILDS:
        if version.build == 25398:
            raise ValueError(
                f"{what} {value!r}: Windows Server, version 23H2 publishes no container images; "
                "23H2 hosts run ltsc2022 (10.0.20348) images"
            )
        known = ", ".join(str(b) for b in sorted(IMAGE_BUILDS))
        raise ValueError(
            f"{what} {value!r}: no Windows Server container images with build {version.build}; known: {known}"
        )
    return version
