# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import pytest
from ansible_collections.winkube.node.plugins.module_utils import mcr
from ansible_collections.winkube.node.plugins.module_utils.versions import parse_version


@pytest.mark.parametrize(
    "channel", ["stable", "test", "stable-25.0", "stable-29.2", "stable-25.0.14", "stable/fips", "stable-29.2.1/fips"]
)
def test_valid_channels(channel: str) -> None:
    assert mcr.validate_channel(channel) == channel


@pytest.mark.parametrize("channel", ["", "Stable", "beta", "stable-25", "stable-x.y", "test/fips/x", None, 25])
def test_invalid_channels(channel: object) -> None:
    with pytest.raises(ValueError, match=r"unknown MCR channel .*; accepted forms: stable, test"):
        mcr.validate_channel(channel)


def test_installer_urls() -> None:
    assert mcr.INSTALLER_URL == "https://get.mirantis.com/install.ps1"
    assert mcr.versioned_installer_url(parse_version("1.0.5")) == "https://get.mirantis.com/install_1_0_5.ps1"
    with pytest.raises(ValueError, match="needs a patch number"):
        mcr.versioned_installer_url(parse_version("1.0"))


def test_cri_dockerd_artifact() -> None:
    artifact = mcr.cri_dockerd_artifact(parse_version("v0.4.3"))
    assert (
        artifact.url
        == "https://github.com/Mirantis/cri-dockerd/releases/download/v0.4.3/cri-dockerd-0.4.3.win.amd64.zip"
    )
    assert artifact.checksum_url is None  # no checksum sidecar is published
    assert artifact.exe_in_zip == "cri-dockerd/cri-dockerd.exe"
    mirrored = mcr.cri_dockerd_artifact(parse_version("0.4.3"), "https://mirror.example.com/cri/")
    assert mirrored.url == "https://mirror.example.com/cri/v0.4.3/cri-dockerd-0.4.3.win.amd64.zip"


def test_service_facts() -> None:
    assert mcr.SERVICE_NAME == "com.docker.service"
    assert mcr.CRI_DOCKERD_ENDPOINT == "npipe:////./pipe/cri-dockerd"
    assert mcr.INSTALLER_REBOOT_EXIT_CODE == 3010
