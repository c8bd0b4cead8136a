"""wevtutil.exe epl: an empty but valid EVTX export, the overwrite rule and the error exits."""

from __future__ import annotations

import struct
import zlib

import pytest

from tests.simulator.executables.testing import make_host, sh

WEVTUTIL = r"C:\Windows\System32\wevtutil.exe"


@pytest.fixture
def host():
    h = make_host()
    h.mkdir(r"C:\Windows\Temp\logs")
    return h


def test_export_writes_an_evtx_file_header(host):
    r = sh(host, WEVTUTIL, "epl", "System", r"C:\Windows\Temp\logs\System.evtx")
    assert (r.rc, r.stdout, r.stderr) == (0, "", "")
    data = host.read_file(r"C:\Windows\Temp\logs\System.evtx")
    assert len(data) == 4096 and data[:8] == b"ElfFile\x00"
    header_size, minor, major, block = struct.unpack_from("<IHHH", data, 32)
    assert (header_size, minor, major, block) == (128, 1, 3, 4096)
    assert struct.unpack_from("<I", data, 124)[0] == zlib.crc32(data[:120])


def test_channel_names_are_case_insensitive_and_resolved_through_path(host):
    assert sh(host, "wevtutil.exe", "epl", "application", r"C:\Windows\Temp\logs\app.evtx").rc == 0
    assert host.exists(r"C:\Windows\Temp\logs\app.evtx")


def test_an_existing_file_needs_overwrite(host):
    target = r"C:\Windows\Temp\logs\System.evtx"
    host.write_file(target, b"old")
    r = sh(host, WEVTUTIL, "epl", "System", target)
    assert (r.rc, r.stderr) == (80, "Failed to export log System. The file exists.\r\n")
    assert host.read_file(target) == b"old"
    assert sh(host, WEVTUTIL, "epl", "System", target, "/ow:true").rc == 0
    assert host.read_file(target)[:8] == b"ElfFile\x00"


def test_unknown_channel_and_missing_folder_fail_with_the_win32_error(host):
    r = sh(host, WEVTUTIL, "epl", "NoSuchLog", r"C:\Windows\Temp\logs\x.evtx")
    assert (r.rc, r.stderr) == (15007, "Failed to export log NoSuchLog. The specified channel could not be found.\r\n")
    r = sh(host, WEVTUTIL, "epl", "System", r"C:\nowhere\x.evtx")
    assert (r.rc, r.stderr) == (3, "Failed to export log System. The system cannot find the path specified.\r\n")
    assert not host.exists(r"C:\nowhere\x.evtx")


@pytest.mark.parametrize(
    "args",
    [("qe", "System"), ("epl", "System"), ("epl", "System", r"C:\x.evtx", "/lf:true"), ("gl", "System")],
)
def test_everything_else_is_not_emulated(host, args):
    r = sh(host, WEVTUTIL, *args)
    assert r.rc == 1 and "is not emulated" in r.stderr
