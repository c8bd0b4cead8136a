"""containerd.exe: version, config default per release, --register-service, and the service start
deciding from its config (GT §4)."""

from __future__ import annotations

import tomllib

import pytest

from tests.simulator.executables.testing import CONTAINERD_DIR, checked, install_containerd, make_host, sh

LOG = r"C:\ProgramData\containerd\containerd.log"
CONFIG = CONTAINERD_DIR + r"\config.toml"


@pytest.fixture
def host():
    return make_host()


@pytest.mark.parametrize(
    ("version", "line"),
    [
        ("1.7.28", "containerd github.com/containerd/containerd v1.7.28 "),
        ("2.2.0", "containerd github.com/containerd/containerd/v2 v2.2.0 1c4457e00facac03ce1d75f7b6777a7a851e5c41\n"),
    ],
)
def test_version(host, version, line):
    exe = install_containerd(host, version, register=False)
    out = checked(sh(host, exe, "--version")).stdout
    assert out.startswith(line) and out.endswith("\n") and len(out.split()) == 4
    assert checked(sh(host, exe, "-v")).stdout == out
    ctr = checked(sh(host, CONTAINERD_DIR + r"\ctr.exe", "--version")).stdout
    assert ctr == f"ctr {line.split()[1]} v{version}\n"  # ctr prints no revision


@pytest.mark.parametrize(
    ("version", "schema", "sandbox"),
    [
        ("1.7.28", 2, "registry.k8s.io/pause:3.8"),
        ("2.1.5", 3, "registry.k8s.io/pause:3.10"),
        ("2.2.0", 3, "registry.k8s.io/pause:3.10.1"),
        ("2.3.5", 4, "registry.k8s.io/pause:3.10.2"),
    ],
)
def test_config_default(host, version, schema, sandbox):
    exe = install_containerd(host, version, register=False)
    doc = tomllib.loads(checked(sh(host, exe, "config", "default")).stdout)
    assert doc["version"] == schema
    assert doc["root"] == r"C:\ProgramData\containerd\root"
    if schema == 2:
        cri = doc["plugins"]["io.containerd.grpc.v1.cri"]
        assert cri["sandbox_image"] == sandbox
        assert cri["containerd"]["default_runtime_name"] == "runhcs-wcow-process"
        assert doc["grpc"]["address"] == r"\\.\pipe\containerd-containerd"
    else:
        assert doc["plugins"]["io.containerd.cri.v1.images"]["pinned_images"]["sandbox"] == sandbox
        runtimes = doc["plugins"]["io.containerd.cri.v1.runtime"]["containerd"]["runtimes"]
        assert runtimes["runhcs-wcow-hypervisor"]["options"]["SandboxIsolation"] == 1
    if schema == 4:
        assert "grpc" not in doc
        assert doc["plugins"]["io.containerd.server.v1.grpc"]["address"] == r"\\.\pipe\containerd-containerd"


def test_register_service_as_service_windows_go_does(host):
    exe = install_containerd(host, "1.7.28", register=False)
    r = sh(host, exe, "--register-service", "--log-file", LOG, "--config", CONFIG)
    assert (r.rc, r.stdout, r.stderr) == (0, "", "")
    svc = host.service("containerd")
    assert svc.path == f'"{exe}" --run-service --log-file {LOG} --config "{CONFIG}"'
    assert (svc.display_name, svc.description, svc.start_mode, svc.username) == (
        "Containerd",
        "Container runtime",
        "auto",
        "LocalSystem",
    )
    assert svc.failure_actions == [
        {"type": "restart", "delay_ms": 15000},
        {"type": "restart", "delay_ms": 15000},
        {"type": "none", "delay_ms": 0},
    ]
    assert svc.failure_reset_period == 86400
    assert host.isdir(r"C:\ProgramData\containerd\root") and host.isdir(r"C:\ProgramData\containerd\state")
    qc = sh(host, "sc.exe", "qc", "containerd").stdout
    assert "        START_TYPE         : 2   AUTO_START\r\n" in qc and "DISPLAY_NAME       : Containerd" in qc


def test_register_twice_and_unregister(host):
    exe = install_containerd(host, "2.2.0")
    r = sh(host, exe, "--register-service")
    assert r.rc == 1 and 'level=fatal msg="The specified service already exists."' in r.stderr
    assert r.stderr.startswith('time="') and r.stderr.endswith("\n")
    assert sh(host, exe, "--register-service", "--service-name", "containerd2").rc == 0
    assert "--service-name containerd2" in host.service("containerd2").path
    assert checked(sh(host, exe, "--unregister-service")).stdout == ""
    assert "containerd" not in host.services  # (host.service() would match containerd2's display name)
    r = sh(host, exe, "--unregister-service")
    assert "The specified service does not exist as an installed service." in r.stderr
    r = sh(host, exe, "--register-service", "--unregister-service")
    assert (
        r.stderr
        == "containerd: --register-service and --unregister-service cannot be used together: invalid argument\n"
    )


def test_unemulated_forms(host):
    exe = install_containerd(host, "1.7.28", register=False)
    assert "is not emulated" in sh(host, exe).stderr  # the daemon in the foreground
    assert "is not emulated" in sh(host, exe, "config", "dump").stderr
    assert sh(host, exe, "--bogus").stderr == "containerd: flag provided but not defined: --bogus\n"


def test_service_starts_with_the_default_config_and_logs(host):
    install_containerd(host, "1.7.28")
    assert host.start_service("containerd") is None
    assert host.service("containerd").state == "running"
    log = host.read_file(LOG).decode()
    assert 'level=info msg="starting containerd" revision=' in log and "version=v1.7.28" in log
    daemon = host.extra["daemons"]["containerd"]
    assert daemon["pipes"] == [r"\\.\pipe\containerd-containerd"]
    assert daemon["sandbox_image"] == "registry.k8s.io/pause:3.8"


def test_missing_config_means_defaults_as_real_containerd(host):
    install_containerd(host, "2.2.0")
    host.remove(CONFIG)
    assert host.start_service("containerd") is None
    assert host.extra["daemons"]["containerd"]["sandbox_image"] == "registry.k8s.io/pause:3.10.1"


def _start_fails(host, reason_part):
    err = host.start_service("containerd")
    assert err == (
        "Service 'Containerd (containerd)' cannot be started due to the following error: "
        "Cannot start service containerd on computer '.'."
    )
    assert host.service("containerd").state == "stopped"
    failure = host.extra["service_failures"]["containerd"]
    assert failure["win32_exit_code"] == 1067
    assert reason_part in failure["reason"]
    assert reason_part in host.read_file(LOG).decode()
    r = sh(host, "sc.exe", "start", "containerd")
    assert r.rc == 1067 and "The process terminated unexpectedly." in r.stdout
    return failure["reason"]


def test_broken_toml_refuses_to_start(host):
    install_containerd(host, "2.2.0", config=b'version = 3\n[plugins\nroot = "x"\n')
    reason = _start_fails(host, "failed to unmarshal TOML at row 2")
    assert reason.startswith("containerd: ")


def test_broken_toml_on_1_7_uses_its_loader_text(host):
    install_containerd(host, "1.7.28", config=b"version = 2\nroot = \n")
    _start_fails(host, rf"failed to load TOML: {CONFIG}: (2, ")


def test_utf16_config_from_out_file_refuses_to_start(host):
    text = "version = 2\n".encode("utf-16")
    install_containerd(host, "1.7.28", config=text)
    _start_fails(host, "failed to load TOML")


@pytest.mark.parametrize(("version", "config_version", "top"), [("1.7.28", 3, 2), ("2.2.0", 4, 3)])
def test_config_version_newer_than_the_binary_refuses(host, version, config_version, top):
    install_containerd(host, version, config=f"version = {config_version}\n".encode())
    _start_fails(
        host,
        f"failed to load TOML from {CONFIG}: expected containerd config version equal to or less than "
        f"`{top}`, got `{config_version}`",
    )


def test_version_2_config_on_containerd_2_is_migrated(host):
    install_containerd(
        host, "2.2.0", config=b'version = 2\n[plugins."io.containerd.grpc.v1.cri"]\n  sandbox_image = "my/pause:1"\n'
    )
    assert host.start_service("containerd") is None
    assert "Configuration migrated from version 2" in host.read_file(LOG).decode()
    assert host.extra["daemons"]["containerd"]["sandbox_image"] == "my/pause:1"


def test_invalid_disabled_plugin_uri(host):
    install_containerd(host, "2.2.0", config=b'version = 3\ndisabled_plugins = ["cri"]\n')
    _start_fails(host, 'invalid disabled plugin URI "cri" expect io.containerd.x.vx')


def test_service_without_run_service_times_out(host):
    exe = install_containerd(host, "1.7.28", register=False)
    checked(sh(host, "sc.exe", "create", "containerd", "binPath=", f'"{exe}"', "start=", "auto"))
    assert host.start_service("containerd") is not None
    assert host.extra["service_failures"]["containerd"]["win32_exit_code"] == 1053
    assert sh(host, "sc.exe", "start", "containerd").rc == 1053


def test_second_daemon_on_the_same_pipe_fails(host):
    exe = install_containerd(host, "1.7.28")
    assert host.start_service("containerd") is None
    checked(sh(host, exe, "--register-service", "--service-name", "containerd2", "--log-file", LOG))
    _ = host.start_service("containerd2")
    assert "Access is denied." in host.extra["service_failures"]["containerd2"]["reason"]


def test_reboot_restarts_containerd(host):
    install_containerd(host, "2.1.5")
    host.reboot()
    assert host.service("containerd").state == "running"
