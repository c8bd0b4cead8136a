# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import re

import pytest
from ansible_collections.winkube.node.plugins.module_utils.windows import (
    WINDOWS_RELEASES,
    WindowsVersion,
    parse_image_os_version,
    parse_windows_version,
    release_by_id,
    release_for_build,
    shares_build_with,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("10.0.20348.2527", WindowsVersion(10, 0, 20348, 2527)),
        ("10.0.20348", WindowsVersion(10, 0, 20348, None)),
        ("20348", WindowsVersion(10, 0, 20348, None)),
        (20348, WindowsVersion(10, 0, 20348, None)),
        (" 10.0.17763.6414 ", WindowsVersion(10, 0, 17763, 6414)),
        ("10.0.14393.0", WindowsVersion(10, 0, 14393, 0)),
    ],
)
def test_parse_windows_version(value: object, expected: WindowsVersion) -> None:
    assert parse_windows_version(value) == expected


def test_os_version_and_node_label() -> None:
    v = parse_windows_version("10.0.26100.1742")
    assert v.os_version == "10.0.26100.1742"
    assert v.node_label == "10.0.26100"
    assert parse_windows_version(26100).os_version == "10.0.26100"


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        (None, "missing (None)"),
        ("", "is empty"),
        (True, "boolean"),
        (20348.0, "got float"),
        ("10.0", "is not a Windows version"),
        ("ltsc2022", "is not a Windows version"),
        ("10.0.20348.x", "is not a Windows version"),
        ("6.3.9600", "not a Windows 10.0 kernel"),
        ("0", "outside 1..65535"),
        (70000, "outside 1..65535"),
        ("10.0.20348.4294967296", "revision 4294967296"),
        (-1, "outside 1..65535"),
    ],
)
def test_parse_windows_version_rejects(value: object, fragment: str) -> None:
    with pytest.raises(ValueError, match=re.escape(fragment)):
        parse_windows_version(value)


@pytest.mark.parametrize(
    ("build", "name", "channel", "version_tag"),
    [
        (14393, "Windows Server 2016", "ltsc", "ltsc2016"),
        (17763, "Windows Server 2019", "ltsc", "ltsc2019"),
        (18362, "Windows Server, version 1903", "sac", "1903"),
        (18363, "Windows Server, version 1909", "sac", "1909"),
        (19041, "Windows Server, version 2004", "sac", "2004"),
        (19042, "Windows Server, version 20H2", "sac", "20H2"),
        (20348, "Windows Server 2022", "ltsc", "ltsc2022"),
        (25398, "Windows Server, version 23H2", "annual", "ltsc2022"),
        (26100, "Windows Server 2025", "ltsc", "ltsc2025"),
    ],
)
def test_release_for_build(build: int, name: str, channel: str, version_tag: str) -> None:
    release = release_for_build(build)
    assert (release.name, release.channel, release.version_tag) == (name, channel, version_tag)


def test_17763_is_shared_by_ws2019_and_1809_sac() -> None:
    ltsc = release_for_build(17763)
    sac = release_for_build(17763, "sac")
    assert ltsc.id == "ws2019"
    assert sac.id == "ws1809sac"
    assert sac.version_tag == "1809"
    assert shares_build_with(ltsc) == ("ws1809sac",)
    assert shares_build_with(sac) == ("ws2019",)
    assert shares_build_with(release_for_build(20348)) == ()


def test_channel_must_match_the_build() -> None:
    assert release_for_build(20348, "ltsc").id == "ws2022"
    with pytest.raises(ValueError, match="Windows Server 2022 \\(channel ltsc\\), not channel 'sac'"):
        release_for_build(20348, "sac")
    with pytest.raises(ValueError, match="unknown channel 'lts'; accepted: ltsc, sac, annual"):
        release_for_build(20348, "lts")


def test_unknown_build_raises_and_lists_known_builds() -> None:
    with pytest.raises(
        ValueError, match=r"unknown Windows Server build 22621; known builds: 14393 \(Windows Server 2016\)"
    ):
        release_for_build(22621)


def test_23h2_is_host_only_and_runs_ltsc2022_images() -> None:
    release = release_for_build(25398)
    assert release.host_only is True
    assert release.image_build == 20348
    assert release.image_tags_dict()["servercore"] == ("ltsc2022",)
    assert release.availability is None  # third-party dates only: UNCONFIRMED, not encoded


def test_image_tags_per_repository() -> None:
    assert release_by_id("ws2019").image_tags_dict() == {
        "servercore": ("ltsc2019", "1809"),
        "nanoserver": ("1809",),
        "windows": ("1809",),
    }
    ws2025 = release_by_id("ws2025").image_tags_dict()
    assert "windows" not in ws2025  # "The Windows image isn't available for Windows Server 2025"
    assert ws2025["server"] == ("ltsc2025",)
    assert set(release_by_id("ws2022").image_tags_dict()) == {"servercore", "nanoserver", "server"}


def test_lifecycle_dates() -> None:
    ws2022 = release_by_id("ws2022")
    assert (ws2022.availability, ws2022.mainstream_end, ws2022.extended_end) == (
        "2021-08-18",
        "2026-10-13",
        "2031-10-14",
    )
    assert release_by_id("ws20h2").mainstream_end == "2022-08-09"
    assert release_by_id("ws20h2").extended_end is None


def test_every_row_has_a_source_and_a_status() -> None:
    for release in WINDOWS_RELEASES:
        assert release.source.strip(), release.id
        assert release.status.strip(), release.id
    assert len({r.id for r in WINDOWS_RELEASES}) == len(WINDOWS_RELEASES)


def test_release_by_id_unknown() -> None:
    with pytest.raises(ValueError, match="unknown Windows release id 'ws2012'"):
        release_by_id("ws2012")


@pytest.mark.parametrize(
    ("value", "build", "revision"),
    [
        ("ltsc2022", 20348, None),
        ("LTSC2019", 17763, None),
        ("1809", 17763, None),
        ("20H2", 19042, None),
        ("2004", 19041, None),
        ("10.0.20348.2527", 20348, 2527),
        (26100, 26100, None),
    ],
)
def test_parse_image_os_version(value: object, build: int, revision: object) -> None:
    parsed = parse_image_os_version(value)
    assert (parsed.build, parsed.revision) == (build, revision)


def test_image_version_for_23h2_points_to_ltsc2022() -> None:
    with pytest.raises(ValueError, match="23H2 publishes no container images; 23H2 hosts run ltsc2022"):
        parse_image_os_version("10.0.25398.1")


def test_image_version_unknown_build() -> None:
    with pytest.raises(ValueError, match="no Windows Server container images with build 22621"):
        parse_image_os_version(22621)
