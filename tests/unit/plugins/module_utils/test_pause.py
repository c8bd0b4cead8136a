# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import pytest
from ansible_collections.winkube.node.plugins.module_utils.pause import (
    KUBEADM_DEFAULT_PAUSE,
    PAUSE_WINDOWS_VARIANTS,
    kubeadm_default_pause,
    pause_image_for_profile,
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
