# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Windows container host/image compatibility and containerd's manifest selection.

Two different questions live here:

1. ``image_compatible``: can a container built on image build I start on host build H?
   That is Microsoft's rule (VD deploy-containers/version-compatibility.md, revision dated
   2025-01-23, and portability.md for 23H2). VD = MicrosoftDocs/Virtualization-Documentation.
2. ``select_manifest``: which entry of an OCI image index does containerd pull on host H?
   That is containerd's ``platforms`` matcher, which differs by containerd version
   (containerd/platforms ``platform_compat_windows.go`` / ``platform_windows_compat.go``).

What ``select_manifest`` models is ``platforms.Default()`` on Windows, the matcher
``client.Pull`` uses when no other is given (CRI with ``use_local_image_pull``, ``ctr pull``):
entries that Match are stably sorted with ``windowsMatchComparer.Less`` and the first one wins
(``images.LimitManifests``). Not modelled: containerd 2.x CRI pulls through the transfer
service, which wraps the host platform in ``platforms.Ordered``; that wrapper's ``Less`` masks
the Windows comparer (comment in containerd/platforms ``NewMatcher``), so there ties among
matching entries keep index order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from ansible_collections.winkube.node.plugins.module_utils.versions import Version, at_least
from ansible_collections.winkube.node.plugins.module_utils.windows import (
    WindowsVersion,
    parse_image_os_version,
    parse_windows_version,
    release_for_build,
)

ISOLATIONS = ("process", "hyperv", "hostprocess")
_VD_COMPAT = "VD deploy-containers/version-compatibility.md"
_VD_PORTABILITY = "VD deploy-containers/portability.md"
_WS2016 = 14393
_LTSC2022 = 20348
_WS2025 = 26100
_WS23H2 = 25398
# Hosts that may run an older image with process isolation, and the one image build they accept.
_PROCESS_OLDER_IMAGE = {
    _WS2025: (_LTSC2022, _VD_COMPAT + " (Windows Server 2025 tab)"),
    _WS23H2: (_LTSC2022, _VD_PORTABILITY),
}


@dataclass(frozen=True)
class CompatResult:
    compatible: bool
    reason: str


@dataclass(frozen=True)
class MatcherProfile:
    """How one containerd/platforms version matches and orders Windows manifests."""

    platforms_version: str
    ltsc_releases: Tuple[int, ...]
    floor_rule: str  # "at_or_below" | "strictly_below" | "step_back": how the oldest accepted build is found
    order: str  # "revision" | "os_version_string"
    source: str


# containerd 1.7 releases from before the platforms package moved to its own module carried the same
# code in-tree (github.com/containerd/containerd/platforms); that was not re-verified per patch release.
_P_V021 = MatcherProfile(
    "v0.2.1",
    (_LTSC2022,),
    "at_or_below",
    "revision",
    "containerd/platforms v0.2.1 platform_compat_windows.go (vendored by containerd 1.7)",
)
_P_RC1 = MatcherProfile(
    "v1.0.0-rc.1",
    (_LTSC2022,),
    "at_or_below",
    "os_version_string",
    "containerd/platforms v1.0.0-rc.1 platform_windows_compat.go (vendored by containerd 2.0)",
)
_P_RC2 = MatcherProfile(
    "v1.0.0-rc.2",
    (_LTSC2022, _WS2025),
    "strictly_below",
    "os_version_string",
    "containerd/platforms v1.0.0-rc.2 platform_windows_compat.go (vendored by containerd 2.1 and 2.2)",
)
# 2.3.0-2.3.4 vendor rc.4; the v2.3.5 release notes list containerd/platforms#34 ("Fix WS2022 compat on
# hosts past the latest LTSC") as the only platforms change from rc.4 to rc.5, so rc.4 matches like rc.2.
_P_RC4 = MatcherProfile(
    "v1.0.0-rc.4",
    (_LTSC2022, _WS2025),
    "strictly_below",
    "os_version_string",
    "containerd v2.3.5 release notes (platforms rc.4 -> rc.5 = containerd/platforms#34 only)",
)
_P_RC5 = MatcherProfile(
    "v1.0.0-rc.5",
    (_LTSC2022, _WS2025),
    "step_back",
    "os_version_string",
    "containerd/platforms v1.0.0-rc.5 platform_windows_compat.go (containerd 2.3.5, PR #14048; 2.4.0, PR #14001)",
)


def matcher_profile(containerd: Version) -> MatcherProfile:
    """The platforms matcher a containerd release vendors; releases outside the table raise."""
    line = containerd.minor_line
    if line == (1, 7):
        return _P_V021
    if line == (2, 0):
        return _P_RC1
    if line in ((2, 1), (2, 2)):
        return _P_RC2
    if line == (2, 3):
        if containerd.patch is None:
            raise ValueError("containerd 2.3 needs a patch number: 2.3.5 changed the Windows matcher")
        return _P_RC5 if at_least(containerd, Version(2, 3, 5)) else _P_RC4
    if line == (2, 4):
        return _P_RC5
    raise ValueError(
        f"the Windows platform matcher of containerd {containerd} is not modelled; "
        "known lines: 1.7, 2.0, 2.1, 2.2, 2.3, 2.4"
    )


def _compat_floor(host_build: int, profile: MatcherProfile) -> int:
    """Oldest image build a host >= 20348 accepts, per the profile's version of the loop."""
    ltsc = profile.ltsc_releases
    if profile.floor_rule == "at_or_below":
        return max(b for b in ltsc if b <= host_build)
    if profile.floor_rule == "strictly_below":
        # "Find the latest LTSC version that is earlier than the host version"; none -> ltsc2022.
        below = [b for b in ltsc if host_build > b]
        return max(below) if below else _LTSC2022
    # step_back (rc.5): the largest LTSC <= host, then one entry back ("a 26200 host ... the floor
    # is still the previous LTSC (20348)").
    index = max(i for i, b in enumerate(ltsc) if host_build >= b)
    return ltsc[index - 1] if index > 0 else ltsc[0]


def containerd_accepts(host_build: int, image: Tuple[int, int, int], profile: MatcherProfile) -> bool:
    """``checkWindowsHostAndContainerCompat`` for a 10.0 host; ``image`` is (major, minor, build)."""
    if image[:2] != (10, 0):
        return False
    if host_build < _LTSC2022:
        return image[2] == host_build
    return _compat_floor(host_build, profile) <= image[2] <= host_build


# ---------------------------------------------------------------------------------------------
# Microsoft's rules


def image_compatible(
    host_version: Any, image_os_version: Any, isolation: str = "process", containerd: Optional[Version] = None
) -> CompatResult:
    """Microsoft's host/image rule; with ``containerd`` also containerd's matcher (process isolation)."""
    if isolation not in ISOLATIONS:
        raise ValueError(f"unknown isolation {isolation!r}; accepted: {', '.join(ISOLATIONS)}")
    host = parse_windows_version(host_version, "host version")
    host_release = release_for_build(host.build)
    image = parse_image_os_version(image_os_version, "image os.version")
    pair = f"{host_release.name} host ({host.os_version}) and a {image.os_version} image"
    if isolation == "hostprocess":
        return _hostprocess(pair, containerd)
    if isolation == "hyperv":
        if containerd is not None:
            raise ValueError("containerd_version is only evaluated for process isolation")
        return _hyperv(pair, host, image)
    result = _process(pair, host, image)
    if not result.compatible or containerd is None:
        return result
    profile = matcher_profile(containerd)
    if containerd_accepts(host.build, (image.major, image.minor, image.build), profile):
        return CompatResult(
            True, f"{result.reason}; containerd {containerd} (platforms {profile.platforms_version}) matches it"
        )
    return CompatResult(
        False, f"{pair}: Windows allows it but containerd {containerd}'s platform matcher rejects it ({profile.source})"
    )


def _process(pair: str, host: WindowsVersion, image: WindowsVersion) -> CompatResult:
    if image.build > host.build:
        return CompatResult(False, f"{pair}: an image newer than the host never runs ({_VD_COMPAT})")
    if image.build == host.build:
        if host.build != _WS2016:
            return CompatResult(True, f"{pair}: same build; the revision need not match from 1809 on ({_VD_COMPAT})")
        if host.revision is None or image.revision is None:
            raise ValueError(
                "Windows Server 2016 process isolation needs the revision of host and image to match: "
                "pass full versions such as 10.0.14393.1066 for both"
            )
        if host.revision == image.revision:
            return CompatResult(True, f"{pair}: Windows Server 2016 with matching revision ({_VD_COMPAT})")
        return CompatResult(
            False, f"{pair}: Windows Server 2016 requires the same revision with process isolation ({_VD_COMPAT})"
        )
    older = _PROCESS_OLDER_IMAGE.get(host.build)
    if older is not None and image.build == older[0]:
        return CompatResult(True, f"{pair}: this host runs ltsc2022 images with process isolation ({older[1]})")
    return CompatResult(
        False, f"{pair}: process isolation needs the same build; use Hyper-V isolation for older images ({_VD_COMPAT})"
    )


def _hyperv(pair: str, host: WindowsVersion, image: WindowsVersion) -> CompatResult:
    note = (
        "note: Kubernetes does not support Hyper-V isolated containers (kubernetes/website concepts/windows/intro.md)"
    )
    if image.build > host.build:
        return CompatResult(
            False, f"{pair}: an image newer than the host never runs, not even with Hyper-V isolation ({_VD_COMPAT})"
        )
    if host.build == _WS23H2:
        return CompatResult(
            False,
            f"{pair}: Hyper-V isolation on a 23H2 host is not documented "
            f"({_VD_PORTABILITY} covers process isolation only)",
        )
    return CompatResult(True, f"{pair}: Hyper-V isolation runs same or older images ({_VD_COMPAT}); {note}")


def _hostprocess(pair: str, containerd: Optional[Version]) -> CompatResult:
    source = "kubernetes/website tasks/configure-pod-container/create-hostprocess-pod.md"
    if containerd is not None and containerd.minor_line < (1, 6):
        return CompatResult(False, f"{pair}: HostProcess containers need containerd 1.6 or later ({source})")
    return CompatResult(
        True, f"{pair}: HostProcess containers do not need the image version to match the host ({source})"
    )


# ---------------------------------------------------------------------------------------------
# containerd manifest selection

_GO_UINT = re.compile(r"^[0-9]+$")
_GO_INT = re.compile(r"^[+-]?[0-9]+$")
# Features a Windows Server (Core) host has; containerd main detects win32k from user32.dll and
# strips it before matching, older matchers ignore os.features. Anything else is not modelled.
_HOST_FEATURES = frozenset({"win32k"})


def _go_windows_os_version(value: str) -> Tuple[int, int, int]:
    """``getWindowsOSVersion``: (major, minor, build) or (0, 0, 0) when it does not parse."""
    if value.count(".") < 2:
        return (0, 0, 0)
    major, minor, rest = value.split(".", 2)
    build = rest.split(".", 1)[0]
    limits = ((major, 0xFF), (minor, 0xFF), (build, 0xFFFF))
    if not all(_GO_UINT.match(text) and int(text) <= limit for text, limit in limits):
        return (0, 0, 0)
    return (int(major), int(minor), int(build))


def _go_revision(value: str) -> int:
    """``winRevision`` of containerd 1.7: the 4th field as an int, 0 when absent or not a number."""
    parts = value.split(".")
    if len(parts) < 4 or not _GO_INT.match(parts[3]):
        return 0
    return int(parts[3])


def _normalize_arch(arch: str, variant: str) -> Tuple[str, str]:
    """``normalizeArch`` for the two architectures Windows images use."""
    arch, variant = arch.lower(), variant.lower()
    if arch in ("x86_64", "x86-64", "amd64"):
        return "amd64", "" if variant == "v1" else variant
    if arch in ("aarch64", "arm64"):
        return "arm64", "" if variant in ("8", "v8", "v8.0") else variant
    return arch, variant


def _platform_of(entry: Any, index: int) -> Mapping[str, Any]:
    if not isinstance(entry, Mapping):
        raise ValueError(f"manifest #{index} is a {type(entry).__name__}, not an OCI index entry (a mapping)")
    platform = entry.get("platform")
    if not isinstance(platform, Mapping):
        raise ValueError(f"manifest #{index} has no platform object; entries without a platform are not modelled")
    for key in ("os", "architecture"):
        if not isinstance(platform.get(key), str):
            raise ValueError(f"manifest #{index}: platform.{key} must be a string")
    for key in ("os.version", "variant"):
        if not isinstance(platform.get(key, ""), str):
            raise ValueError(f"manifest #{index}: platform.{key} must be a string when present")
    features = platform.get("os.features", [])
    if not isinstance(features, list) or not all(isinstance(f, str) for f in features):
        raise ValueError(f"manifest #{index}: platform.os.features must be a list of strings")
    unknown = sorted(set(features) - _HOST_FEATURES)
    if unknown:
        raise ValueError(f"manifest #{index}: os.features {unknown} are not modelled (only win32k is)")
    return platform


def _matches(platform: Mapping[str, Any], host_build: int, arch: str, profile: MatcherProfile) -> bool:
    if platform["os"].lower() != "windows":
        return False
    if _normalize_arch(platform["architecture"], platform.get("variant", "")) != (arch, ""):
        return False
    os_version = platform.get("os.version", "")
    if os_version == "":
        return True  # "A missing version on either side means don't care, and always matches."
    return containerd_accepts(host_build, _go_windows_os_version(os_version), profile)


def rank_manifests(
    host_build: Any, manifests: Any, containerd_version: Version, architecture: str = "amd64"
) -> List[Dict[str, Any]]:
    """The index entries containerd would accept on the host, best first (stable sort, as in Go)."""
    if architecture != "amd64":
        raise ValueError(
            f"architecture {architecture!r} is not modelled; containerd publishes Windows builds for amd64 only"
        )
    host = parse_windows_version(host_build, "host build").build
    entries = _entries(manifests)
    profile = matcher_profile(containerd_version)
    matching = [e for i, e in enumerate(entries) if _matches(_platform_of(e, i), host, architecture, profile)]
    if profile.order == "revision":
        # Less(p1, p2) = winRevision(p1) > winRevision(p2); sorted() is stable like sort.SliceStable.
        return sorted(matching, key=lambda e: -_go_revision(e["platform"].get("os.version", "")))
    # Less(p1, p2) = p1.OSVersion > p2.OSVersion: a byte-wise string compare, so "...20348.999" sorts
    # before "...20348.1000". Python compares str code points, the same order for ASCII.
    return sorted(matching, key=lambda e: _Descending(e["platform"].get("os.version", "")))


def select_manifest(
    host_build: Any, manifests: Any, containerd_version: Version, architecture: str = "amd64"
) -> Optional[Dict[str, Any]]:
    """The entry containerd pulls on this host, or None when nothing matches ("no match for platform")."""
    ranked = rank_manifests(host_build, manifests, containerd_version, architecture)
    return ranked[0] if ranked else None


def _entries(manifests: Any) -> Sequence[Any]:
    if isinstance(manifests, Mapping):
        manifests = manifests.get("manifests")
    if not isinstance(manifests, list):
        raise ValueError("manifests must be a list of OCI index entries or an index with a 'manifests' list")
    return manifests


@dataclass(frozen=True)
class _Descending:
    """Sort key that orders strings from greatest to least while keeping the sort stable."""

    text: str

    def __lt__(self, other: _Descending) -> bool:
        return self.text > other.text
