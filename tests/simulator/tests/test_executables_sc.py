"""sc.exe over the host's services: formats and Win32 error codes from the ground truth (§6)."""

from __future__ import annotations

import pytest

from tests.simulator.executables.testing import make_host, sh

BIN = r"C:\k\kubelet.exe --windows-service"


@pytest.fixture
def host():
    return make_host()


def test_create_then_exists(host):
    r = sh(host, "sc.exe", "create", "kubelet", "binPath=", BIN, "start=", "auto", "DisplayName=", "Kubelet")
    assert (r.rc, r.stdout, r.stderr) == (0, "[SC] CreateService SUCCESS\r\n", "")
    svc = host.service("kubelet")
    assert (svc.path, svc.start_mode, svc.display_name, svc.service_type) == (
        BIN,
        "auto",
        "Kubelet",
        "win32_own_process",
    )
    r = sh(host, "sc.exe", "create", "kubelet", "binPath=", BIN)
    assert r.rc == 1073
    assert r.stdout == "[SC] CreateService FAILED 1073:\r\n\r\nThe specified service already exists.\r\n\r\n"


def test_glued_option_is_a_syntax_error(host):
    r = sh(host, "sc.exe", "create", "kubelet", f"binPath={BIN}")
    assert r.rc == 1639 and r.stdout.startswith("DESCRIPTION:\r\n        Creates a service entry")
    assert host.service("kubelet") is None


def test_missing_service_errors(host):
    r = sh(host, "sc.exe", "query", "nope")
    assert r.rc == 1060
    assert r.stdout == (
        "[SC] EnumQueryServicesStatus:OpenService FAILED 1060:\r\n\r\n"
        "The specified service does not exist as an installed service.\r\n\r\n"
    )
    for cmd in (["qc", "nope"], ["delete", "nope"], ["config", "nope", "start=", "auto"], ["start", "nope"]):
        r = sh(host, "sc.exe", *cmd)
        assert r.rc == 1060 and r.stdout.startswith("[SC] OpenService FAILED 1060:\r\n\r\n")


def test_query_running_and_stopped(host):
    r = sh(host, "sc.exe", "query", "WinRM")
    assert r.stdout.split("\r\n") == [
        "",
        "SERVICE_NAME: WinRM ",
        "        TYPE               : 20  WIN32_SHARE_PROCESS  ",
        "        STATE              : 4  RUNNING ",
        "                                (STOPPABLE, NOT_PAUSABLE, ACCEPTS_SHUTDOWN)",
        "        WIN32_EXIT_CODE    : 0  (0x0)",
        "        SERVICE_EXIT_CODE  : 0  (0x0)",
        "        CHECKPOINT         : 0x0",
        "        WAIT_HINT          : 0x0",
        "",
        "",
    ]
    sh(host, "sc.exe", "create", "kubelet", "binPath=", BIN)
    lines = sh(host, "sc.exe", "query", "kubelet").stdout.split("\r\n")
    assert "        STATE              : 1  STOPPED " in lines
    assert "        WIN32_EXIT_CODE    : 1077  (0x435)" in lines
    assert not any("STOPPABLE" in line for line in lines)


def test_qc_config_and_dependencies(host):
    sh(host, "sc.exe", "create", "kubelet", "binPath=", BIN, "depend=", "containerd/hns")
    assert (
        sh(host, "sc.exe", "config", "kubelet", "start=", "delayed-auto").stdout
        == "[SC] ChangeServiceConfig SUCCESS\r\n"
    )
    lines = sh(host, "sc.exe", "qc", "kubelet").stdout.split("\r\n")
    assert lines[:3] == ["[SC] QueryServiceConfig SUCCESS", "", "SERVICE_NAME: kubelet"]
    assert "        START_TYPE         : 2   AUTO_START  (DELAYED)" in lines
    assert f"        BINARY_PATH_NAME   : {BIN}" in lines
    i = lines.index("        DEPENDENCIES       : containerd")
    assert lines[i + 1] == "                           : hns"
    assert "        SERVICE_START_NAME : LocalSystem" in lines
    sh(host, "sc.exe", "config", "kubelet", "depend=", "/")
    assert host.service("kubelet").dependencies == []


def test_failure_actions_and_flag(host):
    sh(host, "sc.exe", "create", "kubelet", "binPath=", BIN)
    r = sh(host, "sc.exe", "failure", "kubelet", "reset=", "86400", "actions=", "restart/5000/restart/10000//0")
    assert r.stdout == "[SC] ChangeServiceConfig2 SUCCESS\r\n"
    assert sh(host, "sc.exe", "failureflag", "kubelet", "1").rc == 0
    lines = sh(host, "sc.exe", "qfailure", "kubelet").stdout.split("\r\n")
    assert lines[:6] == [
        "[SC] QueryServiceConfig2 SUCCESS",
        "",
        "SERVICE_NAME: kubelet",
        "        RESET_PERIOD (in seconds)    : 86400",
        "        REBOOT_MESSAGE               : ",
        "        COMMAND_LINE                 : ",
    ]
    assert lines[6:9] == [
        "        FAILURE_ACTIONS              : RESTART -- Delay = 5000 milliseconds.",
        "                                       RESTART -- Delay = 10000 milliseconds.",
        "                                       NONE -- Delay = 0 milliseconds.",
    ]
    assert "FAILURE_ACTIONS_ON_NONCRASH_FAILURES: TRUE" in sh(host, "sc.exe", "qfailureflag", "kubelet").stdout
    assert host.service("kubelet").failure_actions[0] == {"type": "restart", "delay_ms": 5000}
    assert sh(host, "sc.exe", "failure", "kubelet", "actions=", "explode/1").rc == 1639


def test_description(host):
    sh(host, "sc.exe", "create", "kubelet", "binPath=", BIN)
    assert sh(host, "sc.exe", "description", "kubelet", "Kubernetes node agent").rc == 0
    assert sh(host, "sc.exe", "qdescription", "kubelet").stdout.endswith("DESCRIPTION:  Kubernetes node agent\r\n")


def test_delete_stopped_and_running(host):
    sh(host, "sc.exe", "create", "a", "binPath=", r"C:\Windows\system32\svchost.exe -k a")
    assert sh(host, "sc.exe", "delete", "a").stdout == "[SC] DeleteService SUCCESS\r\n"
    assert host.service("a") is None
    sh(host, "sc.exe", "create", "b", "binPath=", r"C:\Windows\system32\svchost.exe -k b")
    assert sh(host, "sc.exe", "start", "b").rc == 0
    assert sh(host, "sc.exe", "delete", "b").rc == 0
    assert host.service("b") is not None  # marked for deletion while it runs
    assert sh(host, "sc.exe", "create", "b", "binPath=", "x.exe").rc == 1072
    assert sh(host, "sc.exe", "delete", "b").rc == 1072
    assert sh(host, "sc.exe", "stop", "b").rc == 0
    assert host.service("b") is None


def test_start_stop_codes(host):
    r = sh(host, "sc.exe", "start", "WinRM")
    assert r.rc == 1056 and "An instance of the service is already running." in r.stdout
    sh(host, "sc.exe", "create", "x", "binPath=", r"C:\missing\x.exe", "start=", "disabled")
    assert sh(host, "sc.exe", "start", "x").rc == 1058
    sh(host, "sc.exe", "config", "x", "start=", "demand")
    assert sh(host, "sc.exe", "start", "x").rc == 1053  # the binary is not there
    assert sh(host, "sc.exe", "stop", "x").rc == 1062
    host.services["rpcss"].dependencies = []
    host.service("WinRM").dependencies = ["RpcSs"]
    r = sh(host, "sc.exe", "stop", "RpcSs")
    assert r.rc == 1051


def test_unemulated_forms(host):
    assert "is not emulated" in sh(host, "sc.exe", r"\\other", "query", "WinRM").stderr
    assert "is not emulated" in sh(host, "sc.exe", "sdshow", "WinRM").stderr
    assert "is not emulated" in sh(host, "sc.exe", "create", "k", "binPath=", "x", "start=", "boot").stderr
