"""nssm.exe 2.24 (install, get/set/reset, control, remove: texts and exit codes of its sources)
and the services it runs: cri-dockerd as its application, after the engine."""

from __future__ import annotations

import pytest

from tests.simulator.downloads import CRI_DOCKERD_BASE, CRICTL_BASE, MCR_INSTALLER_URL, NSSM_URL
from tests.simulator.executables.testing import WS2022, checked, make_host, sh
from tests.simulator.host import WindowsHost

NSSM = r"C:\Program Files\nssm\nssm.exe"
CRI = r"C:\Program Files\cri-dockerd\cri-dockerd.exe"
PARAMS = r"HKLM:\SYSTEM\CurrentControlSet\Services\cri-dockerd\Parameters"
LOG = r"C:\ProgramData\cri-dockerd\cri-dockerd.log"
ARGS = (
    "--container-runtime-endpoint=npipe:////./pipe/cri-dockerd",
    "--docker-endpoint=npipe:////./pipe/docker_engine",
    "--pod-infra-container-image=mcr.microsoft.com/oss/kubernetes/pause:3.6",
    "--network-plugin=cni",
    r"--cni-bin-dir=C:\k\cni\bin",
    r"--cni-conf-dir=C:\k\cni\config",
)


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
    return h


def engine(host: WindowsHost) -> None:
    """MCR installed and running, the way the role leaves it."""
    host.features["containers"].installed = True
    host.write_file(r"C:\k\mcr\install.ps1", host.downloads.get(MCR_INSTALLER_URL))
    checked(sh(host, "powershell.exe", "-File", r"C:\k\mcr\install.ps1", "-DockerVersion", "24.0.7"))
    assert host.service("docker").state == "running"


def nssm(host: WindowsHost, *args: str):
    return sh(host, NSSM, *args)


def install(host: WindowsHost) -> None:
    assert checked(nssm(host, "install", "cri-dockerd", CRI, *ARGS)).stdout == (
        'Service "cri-dockerd" installed successfully!\r\n'
    )


def test_the_release_zip_has_both_builds(host: WindowsHost) -> None:
    _unzip(host, NSSM_URL, r"nssm-2.24\win32\nssm.exe", r"C:\t\nssm32.exe")
    assert b"name=nssm version=2.24 arch=win32 built=2014-08-31" in host.read_file(r"C:\t\nssm32.exe")
    assert b"name=nssm version=2.24 arch=win64 built=2014-08-31" in host.read_file(NSSM)


def test_install_writes_the_service_and_its_parameters(host: WindowsHost) -> None:
    install(host)
    svc = host.service("cri-dockerd")
    assert (svc.path, svc.start_mode, svc.display_name, svc.service_type, svc.state) == (
        NSSM,
        "auto",
        "cri-dockerd",
        "win32_own_process",
        "stopped",
    )
    assert host.get_reg(PARAMS, "Application") == ("ExpandString", CRI)
    assert host.get_reg(PARAMS, "AppParameters") == ("ExpandString", " ".join(ARGS))
    assert host.get_reg(PARAMS, "AppDirectory") == ("ExpandString", r"C:\Program Files\cri-dockerd")
    assert host.get_reg(PARAMS + r"\AppExit", "") == ("String", "Restart")
    again = nssm(host, "install", "cri-dockerd", CRI)
    assert (again.rc, again.stdout, again.stderr) == (
        5,
        "",
        "Error creating service!\r\nCreateService(): The specified service already exists.\r\n",
    )


def test_get_set_and_reset_follow_the_settings_table(host: WindowsHost) -> None:
    install(host)
    assert checked(nssm(host, "get", "cri-dockerd", "AppRotateFiles")).stdout == "0\r\n"  # the default
    assert checked(nssm(host, "get", "cri-dockerd", "AppStdoutCreationDisposition")).stdout == "4\r\n"
    assert checked(nssm(host, "set", "cri-dockerd", "AppRotateFiles", "1")).stdout == (
        'Set parameter "AppRotateFiles" for service "cri-dockerd".\r\n'
    )
    assert host.get_reg(PARAMS, "AppRotateFiles") == ("DWord", 1)
    # a number equal to the default is a reset: the value is deleted
    assert checked(nssm(host, "set", "cri-dockerd", "AppRotateFiles", "0")).stdout == (
        'Reset parameter "AppRotateFiles" for service "cri-dockerd" to its default.\r\n'
    )
    assert host.get_reg(PARAMS, "AppRotateFiles") is None
    bad = nssm(host, "set", "cri-dockerd", "AppRotateBytes", "ten")
    assert (bad.rc, bad.stderr) == (6, 'Error setting parameter "AppRotateBytes" for service "cri-dockerd"!\r\n')
    # values are joined with blanks; names match without case
    checked(nssm(host, "set", "cri-dockerd", "description", "Kubernetes", "CRI"))
    assert host.service("cri-dockerd").description == "Kubernetes CRI"
    assert checked(nssm(host, "get", "cri-dockerd", "Description")).stdout == "Kubernetes CRI\r\n"
    checked(nssm(host, "set", "cri-dockerd", "DependOnService", "docker", "hns"))
    assert host.service("cri-dockerd").dependencies == ["docker", "hns"]
    assert checked(nssm(host, "get", "cri-dockerd", "DependOnService")).stdout == "docker\r\nhns\r\n"
    checked(nssm(host, "set", "cri-dockerd", "Start", "SERVICE_DEMAND_START"))
    assert host.service("cri-dockerd").start_mode == "manual"
    assert checked(nssm(host, "get", "cri-dockerd", "Start")).stdout == "SERVICE_DEMAND_START\r\n"
    assert nssm(host, "set", "cri-dockerd", "Start", "SOMETIMES").rc == 6
    checked(nssm(host, "set", "cri-dockerd", "AppEnvironmentExtra", "A=1", "B=2"))
    assert host.get_reg(PARAMS, "AppEnvironmentExtra") == ("MultiString", ["A=1", "B=2"])
    env = nssm(host, "set", "cri-dockerd", "AppEnvironmentExtra", "NOEQUALS")
    assert env.rc == 6 and env.stderr.startswith("Environment should comprise strings of the form KEY=VALUE.")
    checked(nssm(host, "reset", "cri-dockerd", "AppParameters"))
    assert host.get_reg(PARAMS, "AppParameters") is None
    assert checked(nssm(host, "get", "cri-dockerd", "AppParameters")).stdout == "\r\n"


def test_unknown_parameters_services_and_non_nssm_services(host: WindowsHost) -> None:
    bad = nssm(host, "get", "cri-dockerd", "AppColour")
    assert bad.rc == 1 and bad.stderr.startswith(
        'Invalid parameter "AppColour".  Valid parameters are:\r\nApplication\r\n'
    )
    missing = nssm(host, "get", "cri-dockerd", "Application")
    assert (missing.rc, missing.stderr) == (
        3,
        "Can't open service!\r\nOpenService(): The specified service does not exist as an installed service.\r\n",
    )
    winrm = nssm(host, "get", "WinRM", "AppParameters")
    assert (winrm.rc, winrm.stderr) == (1, 'Parameter "AppParameters" is only valid for services managed by NSSM!\r\n')
    assert checked(nssm(host, "get", "WinRM", "DisplayName")).stdout == "Windows Remote Management (WS-Management)\r\n"
    install(host)
    assert "is not emulated" in nssm(host, "set", "cri-dockerd", "AppPriority", "HIGH_PRIORITY_CLASS").stderr
    assert "is not emulated" in nssm(host, "set", "cri-dockerd", "ObjectName", r".\user", "secret").stderr


def test_the_service_runs_cri_dockerd_after_the_engine(host: WindowsHost) -> None:
    engine(host)
    install(host)
    checked(nssm(host, "set", "cri-dockerd", "DependOnService", "docker"))
    host.mkdir(r"C:\ProgramData\cri-dockerd")
    checked(nssm(host, "set", "cri-dockerd", "AppStderr", LOG))
    assert checked(nssm(host, "status", "cri-dockerd")).stdout == "SERVICE_STOPPED\r\n"
    assert checked(nssm(host, "start", "cri-dockerd")).stdout == (
        "cri-dockerd: START: The operation completed successfully.\r\n"
    )
    assert checked(nssm(host, "status", "cri-dockerd")).stdout == "SERVICE_RUNNING\r\n"
    daemon = host.extra["daemons"]["cri-dockerd"]
    assert daemon["kind"] == "cri-dockerd" and daemon["pipes"] == [r"\\.\pipe\cri-dockerd"]
    assert daemon["version"] == "24.0.7" and daemon["cri_dockerd_version"] == "0.4.3"
    assert daemon["argv"] == [CRI, *ARGS]
    assert daemon["pod_infra_container_image"] == "mcr.microsoft.com/oss/kubernetes/pause:3.6"
    assert (daemon["nssm_version"], daemon["nssm_app_no_console"]) == ("2.24", 0)
    log = host.read_file(LOG).decode()
    assert 'level=info msg="Starting cri-dockerd 0.4.3 (' in log
    assert "Starting the GRPC backend for the Docker CRI interface." in log
    # kubelet's endpoint answers: crictl reaches the engine through cri-dockerd
    host.write_file(
        r"C:\t\crictl.tar.gz", host.downloads.get(f"{CRICTL_BASE}/v1.36.0/crictl-v1.36.0-windows-amd64.tar.gz")
    )
    checked(sh(host, "tar.exe", "-xzf", r"C:\t\crictl.tar.gz", "-C", r"C:\Windows\System32"))
    out = checked(sh(host, "crictl.exe", "--runtime-endpoint", "npipe:////./pipe/cri-dockerd", "version"))
    assert out.stdout == "Version:  0.1.0\nRuntimeName:  docker\nRuntimeVersion:  v24.0.7\nRuntimeApiVersion:  v1\n"
    again = nssm(host, "start", "cri-dockerd")
    assert (again.rc, again.stderr) == (1, "cri-dockerd: START: An instance of the service is already running.\r\n")
    # stopping the engine stops what depends on it
    host.stop_service("docker")
    assert host.service("cri-dockerd").state == "stopped"
    assert (
        checked(nssm(host, "stop", "cri-dockerd")).stderr == "cri-dockerd: STOP: The service has not been started.\r\n"
    )


def test_cri_dockerd_without_the_engine_exits_and_the_start_fails(host: WindowsHost) -> None:
    install(host)
    host.mkdir(r"C:\ProgramData\cri-dockerd")
    checked(nssm(host, "set", "cri-dockerd", "AppStderr", LOG))
    failed = nssm(host, "start", "cri-dockerd")
    assert (failed.rc, failed.stderr) == (
        1,
        "cri-dockerd: Unexpected status SERVICE_STOPPED in response to START control.\r\n",
    )
    reason = host.extra["service_failures"]["cri-dockerd"]["reason"]
    assert reason.startswith(CRI + " exited: failed to get docker version from dockerd: error during connect")
    assert 'level=fatal msg="failed to get docker version from dockerd' in host.read_file(LOG).decode()


def test_what_the_service_refuses_to_start_with(host: WindowsHost) -> None:
    engine(host)
    install(host)
    checked(nssm(host, "set", "cri-dockerd", "AppStdout", r"C:\nowhere\out.log"))
    assert host.start_service("cri-dockerd") is not None
    assert "Error setting up one or more I/O filehandles." in host.extra["service_failures"]["cri-dockerd"]["reason"]
    checked(nssm(host, "reset", "cri-dockerd", "AppStdout"))
    checked(nssm(host, "set", "cri-dockerd", "AppParameters", "--pod-infra-image=x"))
    assert host.start_service("cri-dockerd") is not None
    assert "unknown flag: --pod-infra-image" in host.extra["service_failures"]["cri-dockerd"]["reason"]
    checked(nssm(host, "set", "cri-dockerd", "Application", r"C:\k\missing.exe"))
    assert host.start_service("cri-dockerd") is not None
    assert (
        "CreateProcess() failed: The system cannot find the file specified."
        in (host.extra["service_failures"]["cri-dockerd"]["reason"])
    )
    checked(nssm(host, "set", "cri-dockerd", "Application", r"C:\Windows\System32\tar.exe"))
    assert host.start_service("cri-dockerd") is not None
    assert "is not emulated" in host.extra["service_failures"]["cri-dockerd"]["reason"]


def test_remove(host: WindowsHost) -> None:
    install(host)
    no = nssm(host, "remove", "cri-dockerd")
    assert (no.rc, no.stderr) == (
        100,
        "To remove a service without confirmation: nssm remove <servicename> confirm\r\n",
    )
    assert checked(nssm(host, "remove", "cri-dockerd", "confirm")).stdout == (
        'Service "cri-dockerd" removed successfully!\r\n'
    )
    assert host.service("cri-dockerd") is None and host.get_reg(PARAMS, "Application") is None
    assert nssm(host, "remove", "cri-dockerd", "confirm").rc == 3


def test_cri_dockerd_cannot_be_a_service_by_itself(host: WindowsHost) -> None:
    checked(sh(host, "sc.exe", "create", "cri-dockerd", "binPath=", f'"{CRI}" {" ".join(ARGS)}'))
    r = sh(host, "sc.exe", "start", "cri-dockerd")
    assert r.rc == 1053
    assert "run it under a service wrapper such as nssm" in host.extra["service_failures"]["cri-dockerd"]["reason"]
