"""The download fixtures: real archive layouts, real checksum files, stamps, fault injection."""

from __future__ import annotations

import gzip
import hashlib
import io
import tarfile
import time
import zipfile

import pytest

from tests.simulator.downloads import (
    CONTAINERD_BASE,
    CRI_DOCKERD_BASE,
    CRICTL_BASE,
    KUBE_BASE,
    MCR_BASE,
    MCR_INSTALLER_URL,
    DownloadError,
    DownloadFixtures,
    containerd_versions,
    default_builders,
)
from tests.simulator.executables import knowledge
from tests.simulator.executables.stamp import parse_stamp


def _containerd_url(v: str) -> str:
    return f"{CONTAINERD_BASE}/v{v}/containerd-{v}-windows-amd64.tar.gz"


def _tar_members(data: bytes) -> dict[str, bytes | None]:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tf:
        return {m.name: (tf.extractfile(m).read() if m.isfile() else None) for m in tf.getmembers()}


def test_containerd_versions_cover_the_knowledge_base():
    versions = containerd_versions()
    for v in knowledge.known_containerd_releases():
        assert v in versions
    assert {"1.7.28", "2.2.0", "2.3.0"} <= set(versions)
    assert any(v.startswith("2.1.") for v in versions)


@pytest.mark.parametrize("version", ["1.7.28", "2.1.5", "2.2.0", "2.3.5"])
def test_containerd_tarball_layout_and_sha256sum(version):
    d = DownloadFixtures()
    url = _containerd_url(version)
    data = d.get(url)
    members = _tar_members(data)
    assert members["bin"] is None  # the directory entry comes first, as in the release tarball
    for exe in ("containerd.exe", "ctr.exe", "containerd-shim-runhcs-v1.exe", "containerd-stress.exe"):
        assert members[f"bin/{exe}"].startswith(b"MZ")
    stamp = parse_stamp(members["bin/containerd.exe"])
    assert (stamp.name, stamp.version) == ("containerd", version)
    assert len(stamp.get("commit")) == 40
    # sha256sum output: "<hex>  <file name>\n", and the hex is the archive's real digest.
    line = d.get(url + ".sha256sum").decode()
    assert line == f"{hashlib.sha256(data).hexdigest()}  containerd-{version}-windows-amd64.tar.gz\n"


def test_containerd_revision_from_ground_truth():
    members = _tar_members(DownloadFixtures().get(_containerd_url("2.2.0")))
    assert parse_stamp(members["bin/containerd.exe"]).get("commit") == "1c4457e00facac03ce1d75f7b6777a7a851e5c41"


@pytest.mark.parametrize("component", ["kubelet", "kubeadm", "kube-proxy", "kubectl"])
def test_kubernetes_binaries_and_hex_only_checksums(component):
    d = DownloadFixtures()
    url = f"{KUBE_BASE}/v1.33.3/bin/windows/amd64/{component}.exe"
    data = d.get(url)
    stamp = parse_stamp(data)
    assert (stamp.name, stamp.version) == (component, "1.33.3")
    assert d.get(url + ".sha256").decode().strip() == hashlib.sha256(data).hexdigest()
    assert d.get(url + ".sha512").decode().strip() == hashlib.sha512(data).hexdigest()
    assert len(d.get(url + ".sha256").decode().split()) == 1  # hex only, no file name (release.go)


def test_kubectl_release_path_and_stable_marker():
    d = DownloadFixtures()
    default = knowledge.default_kubernetes_version()
    a = d.get(f"{KUBE_BASE}/release/v{default}/bin/windows/amd64/kubectl.exe")
    b = d.get(f"{KUBE_BASE}/v{default}/bin/windows/amd64/kubectl.exe")
    assert a == b
    assert parse_stamp(a).get("kustomize").startswith("v5.")
    assert d.get(f"{KUBE_BASE}/release/stable.txt") == f"v{default}\n".encode()


def test_crictl_archive_and_checksum():
    d = DownloadFixtures()
    url = f"{CRICTL_BASE}/v1.33.0/crictl-v1.33.0-windows-amd64.tar.gz"
    data = d.get(url)
    assert set(_tar_members(data)) == {"crictl.exe"}
    assert d.get(url + ".sha256").decode().strip() == hashlib.sha256(data).hexdigest()


def test_cri_dockerd_zip_has_no_checksum_sidecar():
    d = DownloadFixtures()
    url = f"{CRI_DOCKERD_BASE}/v0.3.4/cri-dockerd-0.3.4.win.amd64.zip"
    with zipfile.ZipFile(io.BytesIO(d.get(url))) as zf:
        exe = zf.read("cri-dockerd/cri-dockerd.exe")
    assert parse_stamp(exe).get("commit") == "e88b1605"
    for suffix in (".sha256", ".sha256sum"):
        with pytest.raises(DownloadError) as err:
            d.get(url + suffix)
        assert err.value.status == 404


def test_mcr_installer_index_and_zip():
    d = DownloadFixtures()
    assert parse_stamp(d.get(MCR_INSTALLER_URL)).name == "mcr-install"
    versions = __import__("json").loads(d.get(f"{MCR_BASE}/stable/index.json"))["versions"]
    assert "20.10.9" in versions
    with zipfile.ZipFile(io.BytesIO(d.get(f"{MCR_BASE}/stable/x86_64/docker-20.10.9.zip"))) as zf:
        names = set(zf.namelist())
    assert {"docker/docker.exe", "docker/dockerd.exe"} <= names


def test_content_is_deterministic_across_instances():
    url = _containerd_url("1.7.28")
    assert DownloadFixtures().get(url) == DownloadFixtures().get(url)
    # gzip header carries no timestamp or name, so the digest cannot drift between runs
    assert gzip.decompress(DownloadFixtures().get(url))[:5]


def test_unknown_url_is_a_404():
    with pytest.raises(DownloadError) as err:
        DownloadFixtures().get("https://example.invalid/nothing.zip")
    assert (err.value.status, err.value.reason) == (404, "Not Found")


def test_injected_failure_for_the_first_n_requests():
    d = DownloadFixtures()
    url = _containerd_url("1.7.28")
    d.fail(url, 500, times=2)
    for _ in range(2):
        with pytest.raises(DownloadError) as err:
            d.get(url)
        assert (err.value.status, err.value.reason) == (500, "Internal Server Error")
    assert d.get(url).startswith(b"\x1f\x8b")
    assert d.requests[url] == 3


def test_truncated_body_is_short_and_announced_full():
    d = DownloadFixtures()
    url = _containerd_url("2.2.0")
    full = d.get(url)
    d.truncate(url, 100)
    resp = d.response(url)
    assert resp.truncated and len(resp.body) == 100 and resp.content_length == len(full)
    assert hashlib.sha256(d.get(url)).hexdigest() != d.get(url + ".sha256sum").split()[0].decode()


def test_override_breaks_the_checksum_and_add_remove():
    d = DownloadFixtures()
    url = _containerd_url("1.7.28")
    published = d.get(url + ".sha256sum").split()[0].decode()
    d.override(url, b"tampered")
    assert hashlib.sha256(d.get(url)).hexdigest() != published
    with pytest.raises(KeyError):
        d.override("https://example.invalid/x", b"")
    d.add("https://example.invalid/x", b"hello")
    assert d.get("https://example.invalid/x") == b"hello"
    d.remove("https://example.invalid/x")
    assert not d.has("https://example.invalid/x")
    assert "https://example.invalid/x" not in d.urls()


def test_building_every_default_url_is_fast():
    from tests.simulator import downloads

    downloads.cached.cache_clear()
    start = time.perf_counter()
    d = DownloadFixtures()
    for url in default_builders():
        assert isinstance(d.get(url), bytes)
    assert time.perf_counter() - start < 1.0
