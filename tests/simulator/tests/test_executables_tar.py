"""tar.exe (bsdtar): real extraction of tar.gz and zip on the simulated disk, and its errors."""

from __future__ import annotations

import pytest

from tests.simulator.downloads import CONTAINERD_BASE, CRI_DOCKERD_BASE, targz
from tests.simulator.executables.stamp import parse_stamp
from tests.simulator.executables.testing import WS2019, WS2022, WS2025, make_host, sh

TGZ = r"C:\tmp\containerd.tar.gz"
URL = f"{CONTAINERD_BASE}/v1.7.28/containerd-1.7.28-windows-amd64.tar.gz"


@pytest.fixture
def host():
    h = make_host()
    h.write_file(TGZ, h.downloads.get(URL))
    h.mkdir(r"C:\out")
    return h


def names(host, root):
    return sorted(e.path[len(root) + 1 :] for e in host.walk(root))


def test_extracts_the_release_layout(host):
    r = sh(host, "tar.exe", "-xzf", TGZ, "-C", r"C:\out")
    assert (r.rc, r.stdout, r.stderr) == (0, "", "")
    assert names(host, r"C:\out") == [
        "bin",
        r"bin\containerd-shim-runhcs-v1.exe",
        r"bin\containerd-stress.exe",
        r"bin\containerd.exe",
        r"bin\ctr.exe",
    ]
    assert parse_stamp(host.read_file(r"C:\out\bin\ctr.exe")).name == "ctr"


@pytest.mark.parametrize("strip", [["--strip-components", "1"], ["--strip-components=1"], ["--strip=1"]])
def test_strip_components(host, strip):
    assert sh(host, "tar.exe", "-xf", TGZ, *strip, "-C", r"C:\out").rc == 0
    assert host.exists(r"C:\out\containerd.exe") and not host.exists(r"C:\out\bin")


def test_old_style_bundle_verbose_and_relative_paths(host):
    r = sh(host, "tar.exe", "xvzf", "containerd.tar.gz", "-C", r"C:\out", chdir=r"C:\tmp")
    assert r.rc == 0
    assert r.stderr.splitlines()[:2] == ["x bin/", "x bin/containerd-shim-runhcs-v1.exe"]


def test_patterns_select_members_and_missing_patterns_fail(host):
    assert sh(host, "tar.exe", "-xf", TGZ, "-C", r"C:\out", "bin/ctr.exe").rc == 0
    assert names(host, r"C:\out") == ["bin", r"bin\ctr.exe"]
    r = sh(host, "tar.exe", "-xf", TGZ, "-C", r"C:\out", "nope.exe")
    assert r.rc == 1
    assert r.stderr == "tar.exe: nope.exe: Not found in archive\ntar.exe: Error exit delayed from previous errors.\n"


def test_list(host):
    r = sh(host, "tar.exe", "-tf", TGZ)
    assert r.stdout.splitlines()[0] == "bin/" and "bin/containerd.exe" in r.stdout.splitlines()


def test_zip_is_read_too(host):
    host.write_file(
        r"C:\tmp\crid.zip", host.downloads.get(f"{CRI_DOCKERD_BASE}/v0.3.4/cri-dockerd-0.3.4.win.amd64.zip")
    )
    assert sh(host, "tar.exe", "-xf", r"C:\tmp\crid.zip", "-C", r"C:\out", "--strip-components", "1").rc == 0
    assert parse_stamp(host.read_file(r"C:\out\cri-dockerd.exe")).name == "cri-dockerd"


def test_keep_old_files(host):
    host.mkdir(r"C:\out\bin")
    host.write_file(r"C:\out\bin\ctr.exe", b"mine")
    assert sh(host, "tar.exe", "-xkf", TGZ, "-C", r"C:\out").rc == 0
    assert host.read_file(r"C:\out\bin\ctr.exe") == b"mine"
    assert sh(host, "tar.exe", "-xf", TGZ, "-C", r"C:\out").rc == 0
    assert host.read_file(r"C:\out\bin\ctr.exe") != b"mine"


def test_missing_archive_and_missing_directory(host):
    r = sh(host, "tar.exe", "-xf", "definitely-missing.tar")
    assert (r.rc, r.stderr) == (1, "tar.exe: Error opening archive: Failed to open 'definitely-missing.tar'\n")
    r = sh(host, "tar.exe", "-xf", TGZ, "-C", r"C:\nope")
    assert (r.rc, r.stderr) == (1, "tar.exe: could not chdir to 'C:\\nope'\n")


def test_garbage_and_truncated_archives(host):
    host.write_file(r"C:\tmp\bad.tar.gz", b"this is not an archive at all" * 40)
    r = sh(host, "tar.exe", "-xf", r"C:\tmp\bad.tar.gz", "-C", r"C:\out")
    assert (r.rc, r.stderr) == (1, "tar.exe: Error opening archive: Unrecognized archive format\n")
    full = targz([("a.txt", b"a" * 10), ("b.bin", bytes(range(256)) * 400)])
    host.write_file(r"C:\tmp\cut.tar.gz", full[: len(full) // 2])
    r = sh(host, "tar.exe", "-xf", r"C:\tmp\cut.tar.gz", "-C", r"C:\out")
    assert r.rc == 1 and "Truncated input file" in r.stderr
    assert host.read_file(r"C:\out\a.txt") == b"a" * 10  # what preceded the damage is extracted


def test_disk_full(host):
    host.faults["disk_full"] = True
    r = sh(host, "tar.exe", "-xf", TGZ, "-C", r"C:\out")
    assert r.rc == 1 and "Write failed" in r.stderr and r.stderr.endswith("Error exit delayed from previous errors.\n")


@pytest.mark.parametrize(
    ("os_version", "line"),
    [
        (WS2019, "bsdtar 3.3.2 - libarchive 3.3.2 zlib/1.2.5.f-ipp"),
        (WS2022, "bsdtar 3.5.2 - libarchive 3.5.2 zlib/1.2.5.f-ipp"),
        (WS2025, "bsdtar 3.7.7 - libarchive 3.7.7 zlib/1.2.13.1-motley liblzma/5.4.3 bz2lib/1.0.8 libzstd/1.5.5"),
    ],
)
def test_version_per_build(os_version, line):
    h = make_host(os_version)
    assert sh(h, "tar.exe", "--version").stdout == line + "\n"
    assert sh(h, "tar.exe", "--help").stdout.endswith(line + "\n")


def test_usage_and_unemulated_modes(host):
    r = sh(host, "tar.exe")
    assert r.rc == 1 and r.stderr.startswith("Usage:\n  List:    tar.exe -tf <archive-filename>")
    assert sh(host, "tar.exe", "-v").stderr == "tar.exe: Must specify one of -c, -r, -t, -u, -x\n"
    assert "is not emulated" in sh(host, "tar.exe", "-cf", r"C:\x.tar", r"C:\out").stderr
    assert "is not emulated" in sh(host, "tar.exe", "-xf", TGZ, "--transform=s/x/y/").stderr
