# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kubernetes Windows release binaries on dl.k8s.io (domain facts section 7) and checksum files.

Sources: kubernetes/website tasks/administer-cluster/kubeadm/upgrading-windows-nodes.md
(kubelet/kube-proxy URLs), tasks/tools/install-kubectl-windows.md (kubectl, ``/release/`` form,
``.sha256``), kubernetes/release pkg/release/release.go (``writeSHAFile``: the ``.sha256`` file
holds only the hex digest). The kubeadm.exe URL is partial (third-party usage, same bucket layout).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional
from urllib.parse import urlsplit

from ansible_collections.winkube.node.plugins.module_utils.versions import Version, ensure_patch

DEFAULT_BASE_URL = "https://dl.k8s.io"
STABLE_MARKER_URL = "https://dl.k8s.io/release/stable.txt"
# Every Windows binary of a Kubernetes release the collection downloads (kube-log-runner runs the kubelet service).
KUBE_COMPONENTS = ("kubelet", "kubeadm", "kube-proxy", "kubectl", "kube-log-runner")
# windows/amd64 is the only architecture the reference documents for these binaries.
KUBE_ARCHITECTURES = ("amd64",)
_SHA256_RE = re.compile(r"^[0-9a-fA-F]{64}$")


@dataclass(frozen=True)
class BinaryUrl:
    url: str
    checksum_url: str


def validate_base_url(base_url: Optional[str]) -> str:
    """An http(s) URL with a host, without trailing slash; None means dl.k8s.io."""
    if base_url is None:
        return DEFAULT_BASE_URL
    if not isinstance(base_url, str) or not base_url.strip():
        raise ValueError("base_url must be a non-empty http(s) URL such as https://dl.k8s.io")
    parts = urlsplit(base_url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ValueError(
            f"base_url {base_url!r} must be an http(s) URL with a host and no query, like https://dl.k8s.io"
        )
    return base_url.strip().rstrip("/")


def kube_binary_url(component: str, version: Version, arch: str = "amd64", base_url: Optional[str] = None) -> BinaryUrl:
    """``<base>/v<X.Y.Z>/bin/windows/<arch>/<component>.exe``; kubectl uses ``<base>/release/v<X.Y.Z>/...``."""
    if component not in KUBE_COMPONENTS:
        raise ValueError(f"unknown component {component!r}; accepted: {', '.join(KUBE_COMPONENTS)}")
    if arch not in KUBE_ARCHITECTURES:
        raise ValueError(f"unknown architecture {arch!r}; accepted: {', '.join(KUBE_ARCHITECTURES)}")
    v = ensure_patch(version, f"{component} version")
    base = validate_base_url(base_url)
    # kubectl's install page uses the /release/ path (both forms resolve on dl.k8s.io).
    prefix = f"{base}/release" if component == "kubectl" else base
    url = f"{prefix}/v{v}/bin/windows/{arch}/{component}.exe"
    return BinaryUrl(url, url + ".sha256")


def parse_sha256_file(content: str, filename: Optional[str] = None) -> str:
    """The digest from a ``.sha256`` (hex only, dl.k8s.io) or ``.sha256sum`` ("hash  name", containerd) file.

    With ``filename`` given, a ``.sha256sum`` line must name that file. Returns lowercase hex.
    """
    if not isinstance(content, str) or not content.strip():
        raise ValueError("checksum file is empty; expected a 64-hex-digit SHA-256 digest")
    lines = [line for line in content.strip().splitlines() if line.strip()]
    if len(lines) != 1:
        raise ValueError(f"checksum file has {len(lines)} lines; expected exactly one digest line")
    fields = lines[0].split()
    digest = fields[0]
    if not _SHA256_RE.match(digest):
        raise ValueError("checksum file does not start with a 64-hex-digit SHA-256 digest")
    if len(fields) > 2:
        raise ValueError("checksum line has more than 'digest  filename'")
    if len(fields) == 2 and filename is not None and fields[1].lstrip("*") != filename:
        raise ValueError(f"checksum line names {fields[1]!r}, not {filename!r}")
    return digest.lower()
