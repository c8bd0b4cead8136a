# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import re

import pytest
from ansible_collections.winkube.node.plugins.module_utils.pause import (
    KUBEADM_DEFAULT_PAUSE,
    MICROSOFT_PAUSE_TAGS,
    PAUSE_PROFILES,
    PAUSE_WINDOWS_VARIANTS,
    kubeadm_default_pause,
    pause_image_for_profile,
    pause_image_variants,
    pause_windows_variants,
)
from ansible_collections.winkube.node.plugins.module_utils.versions import parse_version


@pytest.mark.parametrize(
    ("profile", "image"),
    [("production", "mcr.microsoft.com/oss/kubernetes/pause:3.6"), ("upstream", "registry.k8s.io/pause:3.6")],
)
def test_profiles(profile: str, image: str) -> None:
    assert pause_image_for_profile(profile) == image


@pytest.mark.parametrize("profile", ["Production", "signed", "", None, ["production"]])
def test_unknown_profile(profile: object) -> None:
    with pytest.raises(ValueError, match=r"unknown pause image profile .*; accepted: production, upstream"):
        pause_image_for_profile(profile)  # type: ignore[arg-type]


def test_windows_variants() -> None:
    assert "ltsc2022" in pause_windows_variants("3.6").windows
    assert "ltsc2025" not in pause_windows_variants("3.6").windows
    assert pause_windows_variants("3.9").windows == ("1809", "ltsc2022")
    assert "20H2" not in pause_windows_variants("3.9").windows
    assert pause_windows_variants("3.7").windows == ("1809", "20H2", "ltsc2022")
    assert "ltsc2025" not in pause_windows_variants("3.10.1").windows
    assert "ltsc2025" in pause_windows_variants("3.10.2").windows
    assert pause_windows_variants("3.10.2").status.startswith("partial")
    with pytest.raises(ValueError, match=r"no Windows variant data for pause:3\.3"):
        pause_windows_variants("3.3")
    assert all(row.source for row in PAUSE_WINDOWS_VARIANTS)


@pytest.mark.parametrize(
    ("kubernetes", "tag", "confirmed"),
    [
        ("1.23", "3.6", True),
        ("1.28", "3.9", True),
        ("1.32", "3.10", True),
        ("1.33", "3.10", False),  # UNCONFIRMED row: informational only
        ("1.35", "3.10.1", False),
        ("1.36.4", "3.10.2", False),
    ],
)
def test_kubeadm_default_pause(kubernetes: str, tag: str, confirmed: bool) -> None:
    row = kubeadm_default_pause(parse_version(kubernetes))
    assert (row.tag, row.confirmed) == (tag, confirmed)


def test_unconfirmed_rows_are_marked() -> None:
    statuses = {row.first_minor: row.status for row in KUBEADM_DEFAULT_PAUSE}
    assert statuses[33] == "UNCONFIRMED"
    assert statuses[35] == "UNCONFIRMED"


def test_kubeadm_default_pause_outside_table() -> None:
    with pytest.raises(ValueError, match=r"no kubeadm pause data for Kubernetes 1\.37"):
        kubeadm_default_pause(parse_version("1.37"))


@pytest.mark.parametrize(
    ("image", "windows"),
    [
        ("registry.k8s.io/pause:3.6", ("1809", "1903", "1909", "2004", "20H2", "ltsc2022")),
        ("registry.k8s.io/pause:3.10.2", ("ltsc2025",)),
        # Microsoft's image is built from the same source: same tag, same variants.
        ("mcr.microsoft.com/oss/kubernetes/pause:3.6", ("1809", "1903", "1909", "2004", "20H2", "ltsc2022")),
        ("mcr.microsoft.com/oss/kubernetes/pause:3.9", ("1809", "ltsc2022")),
        ("  registry.k8s.io/pause:3.9 ", ("1809", "ltsc2022")),
    ],
)
def test_pause_image_variants(image: str, windows: tuple) -> None:
    variants = pause_image_variants(image)
    assert variants.windows == windows
    assert variants.source


def test_microsoft_variants_are_marked_as_modelled() -> None:
    variants = pause_image_variants("mcr.microsoft.com/oss/kubernetes/pause:3.6")
    assert variants.status == "modelled: same variants as registry.k8s.io/pause:3.6 (confirmed)"
    assert "same source" in variants.source
    assert all(pause_image_variants(image).windows for image in PAUSE_PROFILES.values())
    assert all(tag in {row.tag for row in PAUSE_WINDOWS_VARIANTS} for tag in MICROSOFT_PAUSE_TAGS)


@pytest.mark.parametrize(
    ("image", "fragment"),
    [
        ("registry.k8s.io/pause:3.3", "no Windows variant data for registry.k8s.io/pause:3.3; known:"),
        ("mcr.microsoft.com/oss/kubernetes/pause:3.10.1", "no Windows variant data"),
        ("mcr.microsoft.com/oss/v2/kubernetes/pause:3.10.2", "no Windows variant data"),
        ("mirror.example:5000/pause:3.6", "no Windows variant data for mirror.example:5000/pause:3.6"),
        ("mirror.example:5000/pause", "has no tag"),
        ("registry.k8s.io/pause", "has no tag"),
        ("registry.k8s.io/pause@sha256:" + "0" * 64, "pinned by digest"),
        ("", "is not an image reference"),
        (None, "is not an image reference"),
    ],
)
def test_pause_image_variants_unknown(image: object, fragment: str) -> None:
    with pytest.raises(ValueError, match=re.escape(fragment)):
        pause_image_variants(image)  # type: ignore[arg-type]
