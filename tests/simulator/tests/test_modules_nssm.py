"""community.windows.win_nssm over the emulated nssm.exe: the .ps1's get-compare-set per setting,
idempotence, check mode, its failures, and the services it starts."""

from __future__ import annotations

from typing import Any

import pytest

from tests.simulator.downloads import CRI_DOCKERD_BASE, MCR_INSTALLER_URL, NSSM_URL
from tests.simulator.executables.testing import WS2022, checked, make_host, sh
from tests.simulator.host import WindowsHost
from tests.simulator.modules.testing import call
from tests.simulator.modules.win_nssm import argv_to_string, escape_argument

NSSM = r"C:\Program Files\nssm\nssm.exe"
CRI = r"C:\Program Files\cri-dockerd\cri-dockerd.exe"
PARAMS = r"HKLM:\SYSTEM\CurrentControlSet\Services\cri-dockerd\Parameters"
LOG = r"C:\ProgramData\cri-dockerd\cri-dockerd.log"
MODULE = "community.windows.win_nssm"


def _unzip(host: WindowsHost, url: str, member: str, dest: str) -> None:
    host.write_file(r"C:\t\release.zip", host.downloads.get(url))
    host.remove(r"C:\t\x")
    host.mkdir(r"C:\t\x")
    checked(sh(host, "tar.exe", "-xf", r"C:\t\release.zip", "-C", r"C:\t\x"))
    host.write_file(dest, host.read_file(rf"C:\t\x\{member}"))


@pytest.fixture
def host() -> WindowsHost:
    h = make_host(WS2022)
    _unzip(h, NSSM_URL, r"nssm-2.24\win64\nssm.exe", NSSM)
    _unzip(h, f"{CRI_DOCKERD_BASE}/v0.4.3/cri-dockerd-0.4.3.win.amd64.zip", r"cri-dockerd\cri-dockerd.exe", CRI)
    h.mkdir(r"C:\ProgramData\cri-dockerd")
    return h


def args(**extra: Any) -> dict[str, Any]:
    base = {
        "name": "cri-dockerd",
        "executable": NSSM,
        "application": CRI,
        "arguments": ["--docker-endpoint=npipe:////./pipe/docker_engine", "--pod-infra-container-image=a b"],
        "dependencies": ["docker"],
        "stdout_file": LOG,
        "stderr_file": LOG,
        "app_rotate_online": 1,
        "app_rotate_bytes": 10485760,
    }
    return {**base, **extra}


@pytest.mark.parametrize(
    ("argument", "escaped"),
    [
        ("plain", "plain"),
        ("", '""'),
        ("a b", '"a b"'),
        ('say "hi"', r'"say \"hi\""'),
        ("C:\\dir with space\\", '"C:\\dir with space\\\\"'),
        ('\\\\"', r'"\\\\\""'),  # 2 backslashes before a quote: 2*2+1, then the quote
    ],
)
def test_argv_to_string_escapes_like_argvparser(argument: str, escaped: str) -> None:
    assert escape_argument(argument) == escaped
    assert argv_to_string(["x", argument]) == f"x {escaped}"


def test_creates_and_configures_then_changes_nothing(host: WindowsHost) -> None:
    first = call(host, MODULE, args())
    assert first["changed"] is True and "failed" not in first, first
    assert first["nssm_single_line_app_parameters"] == (
        '--docker-endpoint=npipe:////./pipe/docker_engine "--pod-infra-container-image=a b"'
    )
    svc = host.service("cri-dockerd")
    assert (svc.path, svc.dependencies, svc.start_mode) == (NSSM, ["docker"], "auto")
    values = {name: host.get_reg(PARAMS, name) for name in ("AppParameters", "AppStdout", "AppRotateBytes")}
    assert values == {
        "AppParameters": ("ExpandString", first["nssm_single_line_app_parameters"]),
        "AppStdout": ("ExpandString", LOG),
        "AppRotateBytes": ("DWord", 10485760),
    }
    # the settings the module always forces
    assert host.get_reg(PARAMS, "AppStdoutCreationDisposition") == ("DWord", 2)
    assert host.get_reg(PARAMS, "AppRotateFiles") == ("DWord", 1)
    assert host.get_reg(PARAMS, "AppRotateSeconds") == ("DWord", 86400)
    runs = host.stats["executables"]["nssm.exe"]
    second = call(host, MODULE, args())
    assert second["changed"] is False and "changed_by" not in second
    # the 13 settings the call names (DisplayName and Description are not given) read once more, none written
    assert host.stats["executables"]["nssm.exe"] - runs == 13


def test_a_changed_setting_is_set_and_a_removed_one_reset(host: WindowsHost) -> None:
    call(host, MODULE, args())
    changed = call(host, MODULE, args(arguments="--network-plugin=cni", dependencies=[]))
    assert changed["changed"] is True and changed["changed_by"] == "DependOnService"
    assert host.get_reg(PARAMS, "AppParameters") == ("ExpandString", "--network-plugin=cni")
    assert host.service("cri-dockerd").dependencies == []
    env = call(host, MODULE, args(arguments="--network-plugin=cni", dependencies=[], app_environment={"A": "1"}))
    assert env["changed_by"] == "AppEnvironmentExtra"
    assert host.get_reg(PARAMS, "AppEnvironmentExtra") == ("MultiString", ["A=1"])


def test_check_mode_reads_but_changes_nothing(host: WindowsHost) -> None:
    created = call(host, MODULE, args(), check=True, diff=True)
    assert created["changed"] is True and created["changed_by"] == "install_service"
    assert created["diff"] == {"prepared": "+[cri-dockerd]\n"}
    assert host.service("cri-dockerd") is None
    call(host, MODULE, args())
    planned = call(host, MODULE, args(arguments="--network-plugin=cni"), check=True, diff=True)
    assert planned["changed"] is True and planned["changed_by"] == "AppParameters"
    assert "+AppParameters = --network-plugin=cni\n" in planned["diff"]["prepared"]
    assert host.get_reg(PARAMS, "AppParameters")[1].startswith("--docker-endpoint")


def test_failures(host: WindowsHost) -> None:
    missing_app = call(host, MODULE, args(application=r"C:\nope\cri-dockerd.exe"))
    assert missing_app["failed"] is True
    assert missing_app["msg"] == r'The application specified "C:\nope\cri-dockerd.exe" does not exist on the host.'
    no_nssm = call(host, MODULE, args(executable=r"C:\nope\nssm.exe"))
    assert no_nssm["msg"] == (
        "Unhandled exception while executing module: "
        'Exception calling "SearchPath" with "1" argument(s): "Could not find file \'C:\\nope\\nssm.exe\'."'
    )
    # an existing service that nssm does not manage
    checked(sh(host, "sc.exe", "create", "cri-dockerd", "binPath=", CRI))
    foreign = call(host, MODULE, args())
    assert foreign["failed"] is True and foreign["msg"] == 'Error retrieving Application for service "cri-dockerd"'
    assert foreign["nssm_error_log"] == 'Parameter "Application" is only valid for services managed by NSSM!\r\n'
    assert foreign["nssm_error_cmd"] == f'"{NSSM}" get cri-dockerd Application'


def test_started_and_absent(host: WindowsHost) -> None:
    host.features["containers"].installed = True
    host.write_file(r"C:\k\mcr\install.ps1", host.downloads.get(MCR_INSTALLER_URL))
    checked(sh(host, "powershell.exe", "-File", r"C:\k\mcr\install.ps1", "-DockerVersion", "25.0.14"))
    started = call(host, MODULE, args(state="started", arguments="--docker-endpoint=npipe:////./pipe/docker_engine"))
    assert started["changed_by"] == "start_service" and host.service("cri-dockerd").state == "running"
    assert (
        call(host, MODULE, args(state="started", arguments="--docker-endpoint=npipe:////./pipe/docker_engine"))[
            "changed"
        ]
        is False
    )
    removed = call(host, MODULE, {"name": "cri-dockerd", "executable": NSSM, "state": "absent"})
    assert removed["changed_by"] == "remove_service" and host.service("cri-dockerd") is None
    assert call(host, MODULE, {"name": "cri-dockerd", "executable": NSSM, "state": "absent"})["changed"] is False
