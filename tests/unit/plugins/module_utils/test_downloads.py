# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import pytest
from ansible_collections.winkube.node.plugins.module_utils.downloads import (
    kube_binary_url,
    parse_sha256_file,
    validate_base_url,
)
from ansible_collections.winkube.node.plugins.module_utils.versions import parse_version

DIGEST = "a" * 64


@pytest.mark.parametrize(
    ("component", "url"),
    [
        ("kubelet", "https://dl.k8s.io/v1.36.4/bin/windows/amd64/kubelet.exe"),
        ("kubeadm", "https://dl.k8s.io/v1.36.4/bin/windows/amd64/kubeadm.exe"),
        ("kube-proxy", "https://dl.k8s.io/v1.36.4/bin/windows/amd64/kube-proxy.exe"),
        ("kubectl", "https://dl.k8s.io/release/v1.36.4/bin/windows/amd64/kubectl.exe"),
    ],
)
def test_kube_binary_url(component: str, url: str) -> None:
    result = kube_binary_url(component, parse_version("v1.36.4"))
    assert result.url == url
    assert result.checksum_url == url + ".sha256"


def test_mirror_base_url() -> None:
    result = kube_binary_url("kubelet", parse_version("1.35.2"), base_url="https://mirror.example.com/k8s/")
    assert result.url == "https://mirror.example.com/k8s/v1.35.2/bin/windows/amd64/kubelet.exe"


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (
            ("kube-scheduler", "1.36.4"),
            "unknown component 'kube-scheduler'; accepted: kubelet, kubeadm, kube-proxy, kubectl",
        ),
        (("kubelet", "1.36"), r"kubelet version 1\.36 needs a patch number"),
    ],
)
def test_kube_binary_url_bad_input(args: tuple, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        kube_binary_url(args[0], parse_version(args[1]))


def test_kube_binary_url_bad_arch() -> None:
    with pytest.raises(ValueError, match="unknown architecture 'arm64'; accepted: amd64"):
        kube_binary_url("kubelet", parse_version("1.36.4"), "arm64")


@pytest.mark.parametrize("base", ["", "ftp://example.com", "dl.k8s.io", "https://", "https://x.example?q=1", 5])
def test_bad_base_url(base: object) -> None:
    with pytest.raises(ValueError, match="base_url"):
        validate_base_url(base)  # type: ignore[arg-type]


def test_default_base_url() -> None:
    assert validate_base_url(None) == "https://dl.k8s.io"


@pytest.mark.parametrize(
    ("content", "filename"),
    [
        (DIGEST + "\n", None),  # dl.k8s.io .sha256: digest only
        (DIGEST.upper(), None),
        (f"{DIGEST}  containerd-2.2.3-windows-amd64.tar.gz\n", "containerd-2.2.3-windows-amd64.tar.gz"),
        (f"{DIGEST} *containerd-2.2.3-windows-amd64.tar.gz", "containerd-2.2.3-windows-amd64.tar.gz"),
        (f"{DIGEST}  anything", None),
    ],
)
def test_parse_sha256_file(content: str, filename: object) -> None:
    assert parse_sha256_file(content, filename) == DIGEST  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("content", "filename", "fragment"),
    [
        ("", None, "is empty"),
        ("abc", None, "64-hex-digit"),
        (f"{DIGEST}\n{DIGEST}", None, "has 2 lines"),
        (f"{DIGEST}  other.tar.gz", "containerd.tar.gz", "names 'other.tar.gz'"),
        (f"{DIGEST}  a b", None, "more than"),
    ],
)
def test_parse_sha256_file_rejects(content: str, filename: object, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        parse_sha256_file(content, filename)  # type: ignore[arg-type]
