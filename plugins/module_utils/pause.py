# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pause (sandbox) images for Windows nodes.

Abbreviation: KW = kubernetes/website.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Tuple

from ansible_collections.winkube.node.plugins.module_utils.versions import Version

# The image each profile uses. The Kubernetes docs recommend registry.k8s.io/pause:3.6 for
# Windows and name mcr.microsoft.com/oss/kubernetes/pause as the same image with Microsoft
# Authenticode-signed Windows binaries, "recommended for production" (KW concepts/windows/intro.md,
# "Pause container"; the text is unchanged through the current docs).
# 3.6 carries no ltsc2025 variant; process-isolated pods on WS2025 use the 20348 variant through
# the stable-ABI rule (see images.py), which every modelled containerd matcher accepts.
PAUSE_PROFILES: Dict[str, str] = {
    "production": "mcr.microsoft.com/oss/kubernetes/pause:3.6",
    "upstream": "registry.k8s.io/pause:3.6",
}
PAUSE_SOURCE = "KW content/en/docs/concepts/windows/intro.md (Pause container)"


def pause_image_for_profile(profile: str) -> str:
    try:
        return PAUSE_PROFILES[profile]
    except (KeyError, TypeError):
        raise ValueError(f"unknown pause image profile {profile!r}; accepted: {', '.join(PAUSE_PROFILES)}") from None


@dataclass(frozen=True)
class PauseVariants:
    """Windows variants in one registry.k8s.io/pause manifest list (domain facts 5b)."""

    tag: str
    windows: Tuple[str, ...]
    status: str
    source: str


_CHANGELOG = "kubernetes/kubernetes build/pause/CHANGELOG.md"
PAUSE_WINDOWS_VARIANTS: Tuple[PauseVariants, ...] = (
    PauseVariants("3.4", ("1809", "1903", "1909", "2004"), "confirmed", _CHANGELOG),
    PauseVariants(
        "3.4.1",
        ("1809", "1903", "1909", "2004", "20H2"),
        "partial: the CHANGELOG adds 20H2; a maintainer says 20H2 first appears in 3.5",
        _CHANGELOG + "; kubernetes issue #100708",
    ),
    PauseVariants("3.5", ("1809", "1903", "1909", "2004", "20H2"), "partial", _CHANGELOG),
    PauseVariants("3.6", ("1809", "1903", "1909", "2004", "20H2", "ltsc2022"), "confirmed", _CHANGELOG),
    PauseVariants("3.7", ("1809", "20H2", "ltsc2022"), "confirmed", _CHANGELOG),
    PauseVariants("3.8", ("1809", "20H2", "ltsc2022"), "confirmed", _CHANGELOG),
    PauseVariants("3.9", ("1809", "ltsc2022"), "confirmed", _CHANGELOG),
    PauseVariants(
        "3.10",
        ("1809", "ltsc2022"),
        "confirmed",
        _CHANGELOG + "; kubernetes-sigs/windows-testing capz/templates/gmsa-ci.yaml",
    ),
    PauseVariants("3.10.1", ("1809", "ltsc2022"), "confirmed", _CHANGELOG + "; containerd PR #12085"),
    # 3.10.2 adds ltsc2025; whether 1809 is still in it is UNCONFIRMED, so only ltsc2025 is asserted.
    PauseVariants(
        "3.10.2",
        ("ltsc2025",),
        "partial: adds ltsc2025; the rest of the set is UNCONFIRMED",
        "containerd commit 05d3b3158 / PR #13156 (kubernetes PR #138195); windows-testing gmsa-ci.yaml",
    ),
)
_VARIANTS_BY_TAG = {v.tag: v for v in PAUSE_WINDOWS_VARIANTS}


def pause_windows_variants(tag: str) -> PauseVariants:
    try:
        return _VARIANTS_BY_TAG[tag]
    except KeyError:
        raise ValueError(
            f"no Windows variant data for pause:{tag}; known tags: {', '.join(_VARIANTS_BY_TAG)}"
        ) from None


UPSTREAM_PAUSE_REPOSITORY = "registry.k8s.io/pause"
MICROSOFT_PAUSE_REPOSITORY = "mcr.microsoft.com/oss/kubernetes/pause"
# Tags known to exist under Microsoft's oss path (domain facts 5c, partial: third-party usage). The
# newer oss/v2 path and suffixed tags such as 3.6-hotfix.20220114 have no variant data here.
MICROSOFT_PAUSE_TAGS = ("3.6", "3.9")


def pause_image_variants(image: str) -> PauseVariants:
    """The Windows variants of a pause image reference, or a ValueError saying why they are unknown.

    registry.k8s.io/pause:<tag> uses the table above. Modelling decision for
    mcr.microsoft.com/oss/kubernetes/pause:<tag>: Microsoft's image is "built from the same source as
    the Kubernetes maintained image" with Authenticode-signed Windows binaries (PAUSE_SOURCE), so a tag
    known to exist there is given the Windows variants of the registry.k8s.io tag of the same name.
    Anything else (other registries or mirrors' names, digests, untagged or unknown tags) is not guessed.
    """
    if not isinstance(image, str) or not image.strip():
        raise ValueError(f"pause image {image!r} is not an image reference")
    reference = image.strip()
    if "@" in reference:
        raise ValueError(f"pause image {reference} is pinned by digest; the variants behind a digest are not known")
    slash = reference.rfind("/")
    repository, colon, tag = reference.rpartition(":")
    if not colon or repository.rfind("/") != slash:
        # No ':' in the last path component: an untagged reference (":latest" implied) or a registry port.
        raise ValueError(f"pause image {reference} has no tag; variant data exists only for tagged pause images")
    if repository == UPSTREAM_PAUSE_REPOSITORY and tag in _VARIANTS_BY_TAG:
        return _VARIANTS_BY_TAG[tag]
    if repository == MICROSOFT_PAUSE_REPOSITORY and tag in MICROSOFT_PAUSE_TAGS:
        upstream = _VARIANTS_BY_TAG[tag]
        return PauseVariants(
            tag,
            upstream.windows,
            f"modelled: same variants as {UPSTREAM_PAUSE_REPOSITORY}:{tag} ({upstream.status})",
            f"{PAUSE_SOURCE} (same source); {upstream.source}",
        )
    known = [f"{UPSTREAM_PAUSE_REPOSITORY}:{t}" for t in _VARIANTS_BY_TAG]
    known += [f"{MICROSOFT_PAUSE_REPOSITORY}:{t}" for t in MICROSOFT_PAUSE_TAGS]
    raise ValueError(f"no Windows variant data for {reference}; known: {', '.join(known)}")


@dataclass(frozen=True)
class KubeadmPause:
    """kubeadm's default pause tag for a range of Kubernetes minors (domain facts 5a)."""

    first_minor: int
    last_minor: int
    tag: str
    status: str
    source: str

    @property
    def confirmed(self) -> bool:
        return self.status == "confirmed"


_MINIKUBE = "kubernetes/minikube pkg/minikube/constants/constants_kubeadm_images.go"
# Rows with status UNCONFIRMED are informational only: callers must not enforce them.
KUBEADM_DEFAULT_PAUSE: Tuple[KubeadmPause, ...] = (
    KubeadmPause(21, 21, "3.4.1", "partial", "minikube issue #11425"),
    KubeadmPause(22, 22, "3.5", "partial", "kubernetes/website PR #30947"),
    KubeadmPause(23, 23, "3.6", "confirmed", _MINIKUBE),
    KubeadmPause(24, 24, "3.7", "confirmed", _MINIKUBE),
    KubeadmPause(25, 25, "3.8", "confirmed", _MINIKUBE),
    KubeadmPause(26, 30, "3.9", "confirmed", _MINIKUBE),
    KubeadmPause(31, 32, "3.10", "confirmed", _MINIKUBE),
    KubeadmPause(33, 33, "3.10", "UNCONFIRMED", "none"),
    KubeadmPause(34, 34, "3.10.1", "partial", "third-party `kubeadm config images list` output for v1.34.0"),
    KubeadmPause(35, 35, "3.10.1", "UNCONFIRMED", "inferred from kubeclipper/kubeclipper PR #947"),
    KubeadmPause(36, 36, "3.10.2", "partial", "kubeclipper/kubeclipper PR #947"),
)


def kubeadm_default_pause(kubernetes: Version) -> KubeadmPause:
    if kubernetes.major == 1:
        for row in KUBEADM_DEFAULT_PAUSE:
            if row.first_minor <= kubernetes.minor <= row.last_minor:
                return row
    first, last = KUBEADM_DEFAULT_PAUSE[0].first_minor, KUBEADM_DEFAULT_PAUSE[-1].last_minor
    raise ValueError(f"no kubeadm pause data for Kubernetes {kubernetes.minor_text} (known: 1.{first} to 1.{last})")
