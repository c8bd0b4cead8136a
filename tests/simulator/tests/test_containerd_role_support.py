"""What the containerd role needs from the simulator: ``downloads:`` in the hosts file (a tampered
archive, an air-gapped mirror, a missing checksum file), ``ctr version`` against the running daemon
(the pipe wait), and ``ctr images pull --hosts-dir`` (registry mirrors)."""

from __future__ import annotations

import hashlib
import re

import pytest

from tests.simulator.config import ConfigError, parse_config
from tests.simulator.downloads import CONTAINERD_BASE, DownloadError, DownloadFixtures
from tests.simulator.executables.testing import CONTAINERD_DIR, checked, make_host, sh, start_containerd
from tests.simulator.server import Simulator

CTR = CONTAINERD_DIR + r"\ctr.exe"
PIPE = r"\\.\pipe\containerd-containerd"


def _archive(v: str) -> str:
    return f"{CONTAINERD_BASE}/v{v}/containerd-{v}-windows-amd64.tar.gz"


def _config(downloads: object) -> dict:
    return {"hosts": [{"name": "win2022"}], "downloads": downloads}


# --- downloads: in the hosts file ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("downloads", "message"),
    [
        ("nope", "downloads: must be a list of mappings"),
        ([{"url": _archive("2.3.5")}], "downloads[0]: give exactly one of content, content_from, status"),
        ([{"url": _archive("2.3.5"), "content": "x", "absent": True}], "got ['content', 'absent']"),
        ([{"url": "ftp://x/y", "content": "x"}], "downloads[0].url: must be an http(s) URL with a path"),
        ([{"url": _archive("2.3.5"), "status": 200}], "downloads[0].status: must be an HTTP error status 400-599"),
        ([{"url": _archive("2.3.5"), "content": 3}], "downloads[0].content: must be a string"),
        ([{"url": _archive("2.3.5"), "content": "x", "times": 1}], "downloads[0].times: only goes with status"),
        ([{"url": _archive("2.3.5"), "status": 503, "times": 0}], "downloads[0].times: must be a number of requests"),
        ([{"url": _archive("2.3.5"), "absent": False}], "downloads[0].absent: must be true"),
        ([{"url": _archive("2.3.5"), "truncate": -1}], "downloads[0].truncate: must be a number of bytes >= 0"),
        ([{"url": _archive("2.3.5"), "content": "x", "sha": 1}], "downloads[0]: unknown key(s) sha"),
    ],
)
def test_downloads_entries_are_validated(downloads, message):
    with pytest.raises(ConfigError) as err:
        parse_config(_config(downloads))
    assert message in str(err.value)


def test_a_tampered_archive_keeps_the_published_checksum():
    """content_from serves another release's (valid) archive under this URL; the .sha256sum file still
    holds the published digest, so a verifying client sees a mismatch, not a broken tarball."""
    url = _archive("2.3.5")
    published = DownloadFixtures().get(url + ".sha256sum").decode()
    d = DownloadFixtures()
    d.configure([{"url": url, "content_from": _archive("2.3.4")}])
    body = d.get(url)
    assert body == DownloadFixtures().get(_archive("2.3.4"))
    assert d.get(url + ".sha256sum").decode() == published
    assert not published.startswith(hashlib.sha256(body).hexdigest())


def test_a_mirror_url_and_the_other_actions():
    mirror = "https://mirror.example/containerd/v2.3.5/containerd-2.3.5-windows-amd64.tar.gz"
    d = DownloadFixtures()
    d.configure(
        [
            {"url": mirror, "content_from": _archive("2.3.5")},
            {"url": mirror + ".sha256sum", "content_from": _archive("2.3.5") + ".sha256sum"},
            {"url": _archive("2.2.3") + ".sha256sum", "absent": True},
            {"url": _archive("2.3.4"), "status": 503, "times": 1},
            {"url": _archive("1.7.31"), "truncate": 10},
            {"url": "https://mirror.example/notes.txt", "content": "hello"},
        ]
    )
    assert d.get(mirror) == DownloadFixtures().get(_archive("2.3.5"))
    assert d.get(mirror + ".sha256sum").startswith(hashlib.sha256(d.get(mirror)).hexdigest().encode())
    with pytest.raises(DownloadError) as err:
        d.get(_archive("2.2.3") + ".sha256sum")
    assert err.value.status == 404
    with pytest.raises(DownloadError) as err:
        d.get(_archive("2.3.4"))
    assert err.value.status == 503
    assert d.get(_archive("2.3.4")).startswith(b"\x1f\x8b")  # only the first request failed
    assert d.response(_archive("1.7.31")).truncated
    assert d.get("https://mirror.example/notes.txt") == b"hello"


def test_content_from_an_unknown_url_fails_when_the_simulator_is_built():
    cfg = _config([{"url": _archive("2.3.5"), "content_from": "https://nowhere.example/x.tar.gz"}])
    with pytest.raises(ConfigError) as err:
        Simulator(cfg)
    assert str(err.value) == "downloads: no fixture for https://nowhere.example/x.tar.gz"


def test_the_simulator_serves_the_configured_downloads():
    sim = Simulator(_config([{"url": _archive("2.3.5"), "content": "not an archive"}]))
    try:
        assert sim.host("win2022").downloads.get(_archive("2.3.5")) == b"not an archive"
    finally:
        sim.stop()


# --- ctr version ---------------------------------------------------------------------------------


def _client_block(version: str, host) -> str:
    commit = re.search(rb"commit=(\S+)", host.read_file(CTR)).group(1).decode()
    return f"Client:\n  Version:  v{version}\n  Revision: {commit}\n  Go version: go1.25.3\n\n"


def test_ctr_version_before_the_daemon_runs_prints_the_client_and_fails_to_dial():
    host = make_host()
    start_containerd(host, "2.3.5")
    host.stop_service("containerd")
    r = sh(host, CTR, "--address", PIPE, "version")
    assert r.rc == 1
    assert r.stdout == _client_block("2.3.5", host)
    assert r.stderr.startswith(r'ctr: failed to dial "\\\\.\\pipe\\containerd-containerd": context deadline exceeded')


def test_ctr_version_shows_the_running_server():
    host = make_host()
    start_containerd(host, "2.3.5")
    r = checked(sh(host, CTR, "version"))
    client = _client_block("2.3.5", host)
    assert r.stdout.startswith(client)
    server = r.stdout[len(client) :].splitlines()
    assert server[:3] == ["Server:", "  Version:  v2.3.5", client.splitlines()[2]]
    assert re.fullmatch(r"  UUID: [0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}", server[3])
    assert r.stderr == ""
    host.stop_service("containerd")
    assert host.start_service("containerd") is None
    assert checked(sh(host, CTR, "version")).stdout.splitlines()[-1] == server[3]  # one UUID per root


def test_ctr_version_warns_when_client_and_server_differ():
    host = make_host()
    start_containerd(host, "2.2.3")
    newer = make_host(name="other")
    start_containerd(newer, "2.3.5")
    host.write_file(r"C:\tools\ctr.exe", newer.read_file(CTR))
    r = checked(sh(host, r"C:\tools\ctr.exe", "version"))
    assert "  Version:  v2.3.5\n" in r.stdout and "Server:\n  Version:  v2.2.3\n" in r.stdout
    assert r.stderr == "WARNING: version mismatch\nWARNING: revision mismatch\n"


def test_ctr_pull_accepts_a_hosts_dir():
    host = make_host()
    start_containerd(host, "1.7.31")
    ref = "mcr.microsoft.com/oss/kubernetes/pause:3.6"
    hosts_dir = r"C:\ProgramData\containerd\certs.d"
    r = checked(sh(host, CTR, "-n", "k8s.io", "images", "pull", "--hosts-dir", hosts_dir, ref))
    assert r.stdout.endswith("done: 25.013ms\n")
    assert "k8s.io" in host.images[ref]["namespaces"]
