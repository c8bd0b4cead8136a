# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Mirantis Container Runtime (MCR) and cri-dockerd on Windows (domain facts section 6).

Abbreviations: LP = Mirantis/launchpad, CRID = Mirantis/cri-dockerd,
VD = MicrosoftDocs/Virtualization-Documentation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

from ansible_collections.winkube.node.plugins.module_utils.versions import Version, ensure_patch

# Installer (VD windows-server-container-tools/Install-MirantisContainerRuntime/install-mirantis-container-runtime.ps1).
INSTALLER_URL = "https://get.mirantis.com/install.ps1"
# Versioned installer script, e.g. install_1_0_5.ps1 (partial: a gist copy of install.ps1's header).
VERSIONED_INSTALLER_URL = "https://get.mirantis.com/install_{version_underscored}.ps1"
# Installer inputs (LP pkg/configurer/windows.go InstallMCR/UninstallMCR).
DEFAULT_DOWNLOAD_URL = "https://repos.mirantis.com"
INDEX_PATH = "win/static/{channel}/index.json"
ARTIFACT_NAME = "docker-{version}.zip"
FIPS_ARTIFACT_NAME = "docker-{version}+fips.zip"
INSTALLER_REBOOT_EXIT_CODE = 3010
# LP windows.go RestartMCR and constant.go WindowsDefaultDockerRoot (confirmed from launchpad usage).
SERVICE_NAME = "com.docker.service"
DEFAULT_DATA_ROOT = r"C:\ProgramData\Docker"
DEFAULT_CHANNEL = "stable"  # launchpad's default (LP pkg/constant/constant.go)

# Channels (LP constant.go, test/smoke/smoke_test.go, pkg/config/migration/v15/v15.go):
# stable, test, stable-<major.minor>, stable-<full>, and FIPS forms stable/fips, stable-<full>/fips.
_CHANNEL_RE = re.compile(r"^(?:test|stable(?:-[0-9]+\.[0-9]+(?:\.[0-9]+)?)?(?:/fips)?)$")
CHANNEL_FORMS = "stable, test, stable-<major.minor>, stable-<major.minor.patch>, stable/fips, stable-<version>/fips"


def validate_channel(channel: object) -> str:
    if not isinstance(channel, str) or not _CHANNEL_RE.match(channel):
        raise ValueError(f"unknown MCR channel {channel!r}; accepted forms: {CHANNEL_FORMS}")
    return channel


def versioned_installer_url(installer_version: Version) -> str:
    """``install_<semver with _>.ps1`` (partial source: a gist copy of the installer header)."""
    v = ensure_patch(installer_version, "MCR installer version")
    return VERSIONED_INSTALLER_URL.format(version_underscored=f"{v.major}_{v.minor}_{v.patch}")


# cri-dockerd (dockershim was removed in Kubernetes 1.24; MCR needs cri-dockerd:
# kubernetes/website tasks/administer-cluster/migrating-from-dockershim/_index.md).
CRI_DOCKERD_RELEASE_BASE = "https://github.com/Mirantis/cri-dockerd/releases/download"
# CRID packaging/static/Makefile (cross-win), .github/workflows/build.yml, publish.yml: amd64 only.
CRI_DOCKERD_ASSET = "cri-dockerd-{version}.win.amd64.zip"
CRI_DOCKERD_EXE_IN_ZIP = "cri-dockerd/cri-dockerd.exe"
# CRID cmd/cri/options/options.go; kubernetes/website install-kubeadm.md.
CRI_DOCKERD_ENDPOINT = "npipe:////./pipe/cri-dockerd"
CRI_DOCKERD_CNI_BIN_DIR = r"C:\k\cni\bin"
CRI_DOCKERD_CNI_CONF_DIR = r"C:\k\cni\config"
CRI_DOCKERD_DEFAULT_POD_INFRA_IMAGE = "registry.k8s.io/pause:3.10"
CRI_DOCKERD_LATEST_KNOWN_TAG = "v0.4.3"  # CRID at HEAD 246bd657


@dataclass(frozen=True)
class CriDockerdArtifact:
    url: str
    # Releases publish no checksum sidecar (CRID publish.yml uploads only tgz/rpm/deb/zip; partial),
    # so verification needs a sha256 the user pins.
    checksum_url: Optional[str]
    exe_in_zip: str


def cri_dockerd_artifact(version: Version, base_url: Optional[str] = None) -> CriDockerdArtifact:
    v = ensure_patch(version, "cri-dockerd version")
    base = (base_url or CRI_DOCKERD_RELEASE_BASE).rstrip("/")
    return CriDockerdArtifact(f"{base}/v{v}/{CRI_DOCKERD_ASSET.format(version=v)}", None, CRI_DOCKERD_EXE_IN_ZIP)
