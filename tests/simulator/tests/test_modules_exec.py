"""win_command (over the real executables and over a double), win_shell and win_powershell."""

from __future__ import annotations

import io
import re
import tarfile
from typing import Any

import pytest

from tests.simulator import executables
from tests.simulator.contract import ExecResult
from tests.simulator.executables.stamp import fake_binary
from tests.simulator.host import WindowsHost
from tests.simulator.modules import POWERSHELL_SCRIPTS, SHELL_COMMANDS, PSResult, win_command
from tests.simulator.modules._winutil import command_line_to_argv, escape_argument
from tests.simulator.modules.testing import call

CONTAINERD = r"C:\Program Files\containerd\bin\containerd.exe"


@pytest.fixture
def host() -> WindowsHost:
    h = WindowsHost("exec", os_version="10.0.17763.6414")
    executables.install(h)
    h.write_file(CONTAINERD, fake_binary("containerd", "1.7.28", commit="8fc6bcff51318944179630522a095cc9dbf9f353"))
    return h


# --------------------------------------------------------------------------------------------
# Windows command-line rules


@pytest.mark.parametrize(
    ("line", "argv"),
    [
        ('"C:\\Program Files\\x.exe" a "b c"', ["C:\\Program Files\\x.exe", "a", "b c"]),
        (r'x.exe "a\"b" c\\d "e\\"', ["x.exe", 'a"b', "c\\\\d", "e\\"]),
        (r"C:\dir\x.exe a\b", ["C:\\dir\\x.exe", "a\\b"]),
        ('x.exe ""  "say ""hi"""', ["x.exe", "", 'say "hi"']),
    ],
)
def test_command_line_to_argv(line: str, argv: list[str]) -> None:
    assert command_line_to_argv(line) == argv


@pytest.mark.parametrize("arg", ["plain", "with space", 'quo"te', "trailing\\", 'C:\\a b\\"c', ""])
def test_escape_argument_round_trips_through_argv_parsing(arg: str) -> None:
    assert command_line_to_argv("x.exe " + escape_argument(arg))[1:] == [arg]


# --------------------------------------------------------------------------------------------
# win_command over the real executables (piece C)


def test_cmd_runs_the_binary_and_reports_like_win_command(host: WindowsHost) -> None:
    result = call(host, "win_command", {"cmd": f'"{CONTAINERD}" --version'})
    assert result["changed"] is True and result["rc"] == 0 and result["stderr"] == ""
    assert (
        result["stdout"]
        == "containerd github.com/containerd/containerd v1.7.28 8fc6bcff51318944179630522a095cc9dbf9f353\n"
    )
    assert result["cmd"] == f'"{CONTAINERD}" --version'
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}", result["start"])
    assert re.fullmatch(r"\d+:\d\d:\d\d\.\d{6}", result["delta"])
    assert "stdout_lines" not in result  # added by the controller, not printed by the module


def test_argv_is_escaped_into_cmd_with_the_resolved_path(host: WindowsHost) -> None:
    result = call(
        host, "win_command", {"argv": ["containerd", "--version"], "chdir": r"C:\Program Files\containerd\bin"}
    )
    assert result["cmd"] == f'"{CONTAINERD}" --version' and result["rc"] == 0


def test_tar_extraction_with_creates_is_idempotent(host: WindowsHost) -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as archive:
        data = fake_binary("ctr", "1.7.28")
        info = tarfile.TarInfo("bin/ctr.exe")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    host.write_file(r"C:\k\containerd.tar.gz", buf.getvalue())
    host.mkdir(r"C:\Program Files\containerd")
    args = {
        "cmd": r'tar.exe -xzf C:\k\containerd.tar.gz -C "C:\Program Files\containerd"',
        "creates": r"C:\Program Files\containerd\bin\ctr.exe",
    }
    first = call(host, "win_command", args)
    assert first["changed"] is True and first["rc"] == 0, first
    assert host.read_file(r"C:\Program Files\containerd\bin\ctr.exe") == data
    second = call(host, "win_command", args)
    assert second == {
        "changed": False,
        "cmd": args["cmd"],
        "rc": 0,
        "msg": r"skipped, since C:\Program Files\containerd\bin\ctr.exe exists",
        "skipped": True,
        "invocation": second["invocation"],
    }


def test_non_zero_rc_fails_and_keeps_the_output(host: WindowsHost) -> None:
    result = call(host, "win_command", {"cmd": "sc.exe query nosuchservice"})
    assert result["failed"] is True and result["msg"] == "non-zero return code"
    assert result["rc"] == 1060 and "FAILED 1060" in result["stdout"] and result["changed"] is True


def test_missing_program_and_working_directory(host: WindowsHost) -> None:
    missing = call(host, "win_command", {"cmd": "kubeadm.exe join"})
    assert missing["rc"] == 2 and missing["changed"] is False
    assert missing["msg"] == (
        "Failed to run: 'kubeadm.exe join': CreateProcessW() failed (The system cannot find the file specified, "
        "Win32ErrorCode 2 - 0x00000002)"
    )
    no_dir = call(host, "win_command", {"cmd": "tar.exe --version", "chdir": r"C:\missing"})
    assert (
        no_dir["msg"] == r"Failed to run: 'tar.exe --version': Could not find specified -WorkingDirectory 'C:\missing'"
    )


def test_removes_skips_when_the_path_is_absent(host: WindowsHost) -> None:
    result = call(host, "win_command", {"cmd": "tar.exe --version", "removes": r"C:\gone"})
    assert result["skipped"] is True and result["msg"] == r"skipped, since C:\gone does not exist"


# --------------------------------------------------------------------------------------------
# win_command over a double: the injection point


def test_win_command_hands_argv_stdin_and_chdir_to_the_runner(
    host: WindowsHost, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, Any] = {}

    def fake(h: WindowsHost, argv: list[str], stdin: bytes | None, chdir: str | None) -> ExecResult:
        seen.update(argv=argv, stdin=stdin, chdir=chdir)
        return ExecResult(0, "out\r\n", "warn\r\n")

    monkeypatch.setattr(win_command, "run_executable", fake)
    host.mkdir(r"C:\k")
    result = call(
        host, "win_command", {"cmd": 'kubeadm.exe join "10.0.0.1:6443" --token a\\"b', "stdin": "y", "chdir": r"C:\k"}
    )
    assert seen == {"argv": ["kubeadm.exe", "join", "10.0.0.1:6443", "--token", 'a"b'], "stdin": b"y", "chdir": r"C:\k"}
    assert result["stdout"] == "out\r\n" and result["stderr"] == "warn\r\n" and result["rc"] == 0


# --------------------------------------------------------------------------------------------
# win_shell


def test_win_shell_refuses_unknown_commands_loudly(host: WindowsHost) -> None:
    result = call(host, "win_shell", {"_raw_params": "Get-HnsNetwork | ConvertTo-Json\nWrite-Output done"})
    assert result["failed"] is True and result["rc"] == 1 and result["changed"] is False
    assert result["msg"] == (
        "simulator: win_shell command not emulated (register a handler in SHELL_COMMANDS): "
        "'Get-HnsNetwork | ConvertTo-Json'"
    )


def test_win_shell_runs_a_registered_handler(host: WindowsHost) -> None:
    def handler(h: WindowsHost, params: dict[str, Any]) -> ExecResult:
        return ExecResult(0, h.hostname + "\r\n", "")

    with SHELL_COMMANDS.registered(re.compile(r"hostname(\.exe)?"), handler):
        result = call(host, "win_shell", {"_raw_params": "hostname"})
    assert result["changed"] is True and result["stdout"] == "EXEC\r\n" and result["cmd"] == "hostname"
    assert "invocation" not in result  # win_shell is a Legacy module
    assert call(host, "win_shell", {"_raw_params": "hostname"})["failed"] is True  # unregistered again
    host.mkdir(r"C:\done")
    skipped = call(host, "win_shell", {"_raw_params": "anything", "creates": r"C:\done"})
    assert skipped == {
        "msg": r"skipped, since C:\done exists",
        "cmd": "anything",
        "changed": False,
        "skipped": True,
        "rc": 0,
    }


# --------------------------------------------------------------------------------------------
# win_powershell


PROBE = "$ErrorActionPreference = 'Stop'\n$Ansible.Changed = $false\nGet-Service -Name $Name | Select-Object Status"


def _probe(h: WindowsHost, params: dict[str, Any]) -> PSResult:
    svc = h.service(params["Name"])
    return PSResult(output=[{"Status": 4 if svc and svc.state == "running" else 1}], changed=False)


def test_win_powershell_unknown_script_fails_naming_its_first_line(host: WindowsHost) -> None:
    result = call(host, "win_powershell", {"script": "\n  Restart-Computer -Force\n"})
    assert result["failed"] is True
    assert result["msg"] == (
        "simulator: win_powershell script not emulated (register a handler in POWERSHELL_SCRIPTS): "
        "'Restart-Computer -Force'"
    )
    for key in ("result", "host_out", "host_err", "output", "error", "warning", "verbose", "debug", "information"):
        assert key in result


def test_win_powershell_runs_a_registered_read_only_probe(host: WindowsHost) -> None:
    with POWERSHELL_SCRIPTS.registered(PROBE, _probe):
        result = call(host, "win_powershell", {"script": PROBE.replace("\n", "\r\n"), "parameters": {"Name": "WinRM"}})
    assert result["changed"] is False and result["output"] == [{"Status": 4}] and "failed" not in result
    assert result["error"] == [] and result["result"] == {}


def test_win_powershell_check_mode_and_should_process(host: WindowsHost) -> None:
    seen: list[dict[str, Any]] = []

    def handler(h: WindowsHost, params: dict[str, Any]) -> PSResult:
        seen.append(params)
        return PSResult()

    skipped = call(host, "win_powershell", {"script": "Remove-Item C:\\x"}, check=True)
    assert skipped["changed"] is True and skipped["msg"] == "skipped, running in check mode"
    script = "[CmdletBinding(SupportsShouldProcess)]\nparam()\nRemove-Item C:\\x"
    with POWERSHELL_SCRIPTS.registered(script, handler):
        result = call(host, "win_powershell", {"script": script}, check=True)
    assert result["changed"] is True and seen == [{"WhatIf": True}]  # $Ansible.Changed defaults to true


def test_win_powershell_creates_and_missing_path(host: WindowsHost) -> None:
    host.mkdir(r"C:\marker")
    assert (
        call(host, "win_powershell", {"script": "x", "creates": r"C:\marker"})["msg"]
        == r"skipped, since C:\marker exists"
    )
    missing = call(host, "win_powershell", {"path": r"C:\scripts\a.ps1", "remote_src": True})
    assert missing["msg"] == r"Could not find or access 'C:\scripts\a.ps1' on Windows host"


def test_a_defender_exclusion_script_registered_by_a_test_updates_the_host(host: WindowsHost) -> None:
    # No module manages Defender exclusions: a role's win_powershell script gets a handler that does
    # what Add-MpPreference would, on host.defender_exclusions (part of the state dump).
    script = (
        "param([string]$Path)\n"
        "$Ansible.Changed = $Path -notin (Get-MpPreference).ExclusionPath\n"
        "if ($Ansible.Changed) { Add-MpPreference -ExclusionPath $Path }"
    )

    def add_exclusion(h: WindowsHost, params: dict[str, Any]) -> PSResult:
        paths = h.defender_exclusions["path"]
        changed = params["Path"] not in paths
        if changed:
            paths.append(params["Path"])
        return PSResult(changed=changed)

    with POWERSHELL_SCRIPTS.registered(script, add_exclusion):
        args = {"script": script, "parameters": {"Path": r"C:\ProgramData\containerd"}}
        assert call(host, "win_powershell", args)["changed"] is True
        assert call(host, "win_powershell", args)["changed"] is False
    assert host.state()["defender_exclusions"]["path"] == [r"C:\ProgramData\containerd"]
