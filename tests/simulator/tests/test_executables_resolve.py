"""Process start on the simulated host: resolving argv[0], identity from content, loud failures,
command-line splitting, cmd.exe."""

from __future__ import annotations

import pytest

from tests.simulator import executables
from tests.simulator.downloads import KUBE_BASE
from tests.simulator.executables import cmdline
from tests.simulator.executables.stamp import fake_binary, parse_stamp, stamp_line
from tests.simulator.executables.testing import make_host, sh


@pytest.fixture
def host():
    h = make_host()
    h.write_file(r"C:\k\kubelet.exe", h.downloads.get(f"{KUBE_BASE}/v1.33.3/bin/windows/amd64/kubelet.exe"))
    return h


def test_absolute_path(host):
    r = sh(host, r"C:\k\kubelet.exe", "--version")
    assert (r.rc, r.stdout) == (0, "Kubernetes v1.33.3\n")


def test_bare_name_needs_the_directory_on_path(host):
    r = sh(host, "kubelet", "--version")
    assert isinstance(r, executables.StartFailure)
    assert (r.rc, r.win32_error) == (2, 2)
    assert (
        r.stderr == "CreateProcessW() failed (The system cannot find the file specified, Win32ErrorCode 2 - 0x00000002)"
    )
    host.env_machine["Path"] += r";C:\k"
    assert sh(host, "kubelet", "--version").stdout == "Kubernetes v1.33.3\n"
    assert sh(host, "KUBELET.EXE", "--version").rc == 0  # NTFS lookups ignore case


def test_relative_to_chdir(host):
    assert sh(host, r"kubelet.exe", "--version", chdir=r"C:\k").rc == 0
    # Resolve-ExecutablePath joins a relative path with -WorkingDirectory when PATH lookup fails
    assert sh(host, r".\kubelet.exe", "--version", chdir=r"C:\k").rc == 0
    assert sh(host, r".\kubelet.exe", "--version").rc == 2


def test_system32_tools_are_found_through_path(host):
    assert executables.resolve(host, "sc", None) == r"C:\Windows\System32\sc.exe"
    assert executables.resolve(host, "powershell", None).lower().endswith(r"windowspowershell\v1.0\powershell.exe")


def test_missing_working_directory_and_directories_and_non_pe(host):
    assert sh(host, "sc.exe", "query", chdir=r"C:\nope").win32_error == 267
    host.mkdir(r"C:\dir.exe")
    assert sh(host, r"C:\dir.exe").win32_error == 5
    host.write_file(r"C:\k\script.ps1", b"Write-Host hi")
    r = sh(host, r"C:\k\script.ps1")
    assert r.win32_error == 193 and r.message == "%1 is not a valid Win32 application."


def test_identity_comes_from_the_content_not_the_name(host):
    host.write_file(r"C:\tools\renamed.exe", host.read_file(r"C:\k\kubelet.exe"))
    assert sh(host, r"C:\tools\renamed.exe", "--version").stdout == "Kubernetes v1.33.3\n"
    # a real (unstamped) binary, or a stamp naming a tool nobody emulates, fails loudly
    host.write_file(r"C:\tools\real.exe", b"MZ\x90\x00 some vendor binary")
    r = sh(host, r"C:\tools\real.exe", "--help")
    assert (r.rc, r.stderr) == (1, "simulator: real.exe --help is not emulated\n")
    host.write_file(r"C:\tools\winsw.exe", fake_binary("winsw", "2.12.0"))
    assert sh(host, r"C:\tools\winsw.exe", "install", "x").stderr == "simulator: winsw.exe install x is not emulated\n"


def test_unemulated_argument_forms_fail_loudly(host):
    r = sh(host, r"C:\k\kubelet.exe", "--config", r"C:\x.yaml")
    assert r.rc == 1 and "is not emulated" in r.stderr
    for tool in ("shutdown.exe", "wevtutil.exe", "netsh.exe"):
        assert sh(host, tool, "/?").stderr == f"simulator: {tool} /? is not emulated\n"


def test_runs_are_counted(host):
    sh(host, r"C:\k\kubelet.exe", "--version")
    sh(host, r"C:\k\kubelet.exe", "--version")
    assert host.stats["executables"]["kubelet.exe"] == 2


def test_stamp_format_round_trip():
    data = fake_binary("containerd", "1.7.28", commit="abc")
    stamp = parse_stamp(data)
    assert (stamp.name, stamp.version, stamp.get("commit")) == ("containerd", "1.7.28", "abc")
    assert stamp_line("ctr", "2.2.0") == "WINKUBE-SIM-BINARY name=ctr version=2.2.0"
    assert parse_stamp(b"MZ nothing here") is None
    with pytest.raises(ValueError):
        stamp_line("x", "1.0", note="has blanks")


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (["C:\\Program Files\\x.exe", "a b", 'q"x', "c:\\dir\\"], '"C:\\Program Files\\x.exe" "a b" "q\\"x" c:\\dir\\'),
        (["x.exe", "", "--flag=v"], 'x.exe "" --flag=v'),
        (["x.exe", "C:\\a b\\"], 'x.exe "C:\\a b\\\\"'),
    ],
)
def test_command_line_quote_and_split(argv, line):
    assert cmdline.join(argv) == line
    assert cmdline.split(line) == argv


def test_split_follows_commandlinetoargvw():
    assert cmdline.split(r'"C:\Program Files\a.exe" --x="1 2" \\"q\\" a\\b') == [
        r"C:\Program Files\a.exe",
        "--x=1 2",
        "\\q\\",
        r"a\\b",
    ]


def test_cmd_exe(host):
    assert sh(host, "cmd.exe", "/c", "echo", "hello").stdout == "hello\r\n"
    assert sh(host, "cmd.exe", "/c", "ver").stdout == "\r\nMicrosoft Windows [Version 10.0.20348.2527]\r\n"
    r = sh(host, "cmd.exe", "/c", r"C:\k\kubelet.exe --version")
    assert r.stdout == "Kubernetes v1.33.3\n"
    r = sh(host, "cmd.exe", "/c", "nosuchtool")
    assert r.rc == 1 and r.stderr.startswith("'nosuchtool' is not recognized as an internal or external command,")
    assert "is not emulated" in sh(host, "cmd.exe", "/c", "echo a & echo b").stderr
    assert "is not emulated" in sh(host, "cmd.exe").stderr
