"""Mirantis Container Runtime: the fixture install.ps1 through powershell.exe -File (its inputs from
the process environment), the docker service, docker.exe version and image commands (GT §8) and
cri-dockerd."""

from __future__ import annotations

import json

import pytest

from tests.simulator import executables
from tests.simulator.downloads import CRI_DOCKERD_BASE, MCR_BASE, MCR_INSTALLER_URL
from tests.simulator.executables.testing import WS2019, checked, make_host, sh

PS1 = r"C:\k\mcr\install.ps1"
POWERSHELL = ("powershell.exe", "-NoProfile", "-ExecutionPolicy", "Bypass", "-File", PS1)


@pytest.fixture
def host():
    h = make_host(WS2019)
    h.write_file(PS1, h.downloads.get(MCR_INSTALLER_URL))
    return h


def test_first_install_needs_a_reboot_then_docker_runs(host):
    r = sh(host, *POWERSHELL, "-DockerVersion", "20.10.9")
    assert r.rc == 3010
    assert r.stdout.splitlines()[-1] == "Your machine needs to be rebooted"
    assert host.features["containers"].install_pending and host.reboot_pending
    assert host.exists(r"C:\Program Files\Docker\dockerd.exe") and host.exists(r"C:\Program Files\Docker\docker.exe")
    assert r"C:\Program Files\Docker" in host.env_machine["Path"].split(";")
    svc = host.service("docker")
    assert (svc.display_name, svc.start_mode, svc.path) == (
        "Docker Engine",
        "auto",
        '"C:\\Program Files\\Docker\\dockerd.exe" --run-service',
    )
    # before the reboot the engine cannot start: the Containers role is not there yet
    assert host.start_service("docker") is not None
    assert "ensure the Containers role is installed" in host.extra["service_failures"]["docker"]["reason"]
    host.reboot()
    assert host.service("docker").state == "running"
    out = checked(sh(host, "docker", "version")).stdout
    assert out.startswith("Client: Mirantis Container Runtime\n Version:           20.10.9\n API version:       1.41\n")
    assert " Git commit:        591094d\n Built:             12/21/2021 21:34:30\n" in out
    assert "\nServer: Mirantis Container Runtime\n Engine:\n  Version:          20.10.9\n" in out
    assert "  API version:      1.41 (minimum version 1.24)\n" in out and "  Git commit:       9b96ce992b\n" in out
    # a second run is a no-op success
    assert checked(sh(host, *POWERSHELL, "-DockerVersion", "20.10.9")).rc == 0


def installer(host, *args, env=None):
    """The installer with variables its parent process set for itself (a task's `environment:`)."""
    return executables.run(host, [*POWERSHELL, *args], None, None, environment=env)


def test_version_from_the_channel_index(host):
    host.features["containers"].installed = True
    r = checked(installer(host, env={"CHANNEL": "stable-24.0"}))
    assert "Installing Mirantis Container Runtime 24.0.7 (channel stable-24.0)" in r.stdout
    assert host.service("docker").state == "running"
    assert checked(sh(host, "docker", "--version")).stdout.startswith("Docker version 24.0.7, build ")


def test_docker_version_and_download_url_come_from_the_process_environment(host):
    host.features["containers"].installed = True
    mirror = "https://mirror.example/mcr"
    host.downloads.add(
        f"{mirror}/win/static/stable/x86_64/docker-20.10.9.zip",
        host.downloads.get(f"{MCR_BASE}/stable/x86_64/docker-20.10.9.zip"),
    )
    r = checked(installer(host, "-Verbose", env={"DOWNLOAD_URL": mirror, "DOCKER_VERSION": "20.10.9"}))
    assert "Installing Mirantis Container Runtime 20.10.9 (channel stable)" in r.stdout
    assert host.downloads.requests.get(f"{mirror}/win/static/stable/x86_64/docker-20.10.9.zip") == 1
    # -DockerVersion wins over the variable; an empty variable is no variable at all
    r = checked(installer(host, "-DockerVersion", "24.0.7", env={"DOCKER_VERSION": "20.10.9", "CHANNEL": ""}))
    assert "Installing Mirantis Container Runtime 24.0.7 (channel stable)" in r.stdout
    # the task environment belongs to that process only: the machine has none of it
    assert "DOCKER_VERSION" not in host.env_machine and "DOWNLOAD_URL" not in host.env_machine


@pytest.mark.parametrize("param", ["-Channel", "-DownloadUrl", "-Version"])
def test_parameters_the_script_does_not_declare_are_refused_by_powershell(host, param):
    r = installer(host, param, "x")
    assert r.rc == 1 and not host.exists(r"C:\Program Files\Docker")
    assert r.stderr.splitlines()[0] == (
        f"C:\\k\\mcr\\install.ps1 : A parameter cannot be found that matches parameter name '{param[1:]}'."
    )
    assert "FullyQualifiedErrorId : NamedParameterNotFound,install.ps1" in r.stderr


def test_channel_from_the_environment_and_no_service_start(host):
    host.features["containers"].installed = True
    host.env_machine["CHANNEL"] = "stable-25.0"
    checked(sh(host, *POWERSHELL, "-NoServiceStarts"))
    assert host.service("docker").state == "stopped"
    assert checked(sh(host, r"C:\Program Files\Docker\dockerd.exe", "--version")).stdout.startswith(
        "Docker version 25.0.14"
    )


def test_offline_package(host):
    host.features["containers"].installed = True
    host.write_file(r"C:\k\mcr\docker-20.10.9.zip", host.downloads.get(f"{MCR_BASE}/stable/x86_64/docker-20.10.9.zip"))
    host.downloads.fail(f"{MCR_BASE}/stable/x86_64/docker-20.10.9.zip", 503)
    checked(sh(host, *POWERSHELL, "-DockerVersion", "20.10.9", "-Offline", "-OfflinePackagesPath", r"C:\k\mcr"))
    r = sh(host, *POWERSHELL, "-DockerVersion", "20.10.9")
    assert r.rc == 1 and "503 Service Unavailable" in r.stderr


def test_uninstall(host):
    host.features["containers"].installed = True
    checked(sh(host, *POWERSHELL, "-DockerVersion", "20.10.9"))
    checked(sh(host, *POWERSHELL, "-Uninstall"))
    assert host.service("docker") is None and not host.exists(r"C:\Program Files\Docker")


def test_only_the_fixture_installer_is_emulated(host):
    host.write_file(r"C:\k\other.ps1", b"Write-Host 'hello'")
    r = sh(host, "powershell.exe", "-NoProfile", "-File", r"C:\k\other.ps1")
    assert r.rc == 1 and "only the fixture MCR installer is emulated" in r.stderr
    assert "is not emulated" in sh(host, "powershell.exe", "-Command", "Get-Service").stderr
    r = sh(host, "powershell.exe", "-File", r"C:\k\missing.ps1")
    assert r.rc == -196608
    assert r.stderr.startswith("The argument 'C:\\k\\missing.ps1' to the -File parameter does not exist.")
    assert "is not emulated" in sh(host, *POWERSHELL, "-ContainerDVersion", "1.7.28").stderr


def test_docker_version_without_the_engine(host):
    host.features["containers"].installed = True
    checked(sh(host, *POWERSHELL, "-DockerVersion", "20.10.9", "-NoServiceStarts"))
    r = sh(host, "docker", "version")
    assert r.rc == 1 and r.stdout.startswith("Client: Mirantis Container Runtime\n")
    assert "open //./pipe/docker_engine: The system cannot find the file specified." in r.stderr


def test_cri_dockerd_version_and_its_service_needs_a_wrapper(host):
    host.write_file(
        r"C:\tmp\crid.zip", host.downloads.get(f"{CRI_DOCKERD_BASE}/v0.3.4/cri-dockerd-0.3.4.win.amd64.zip")
    )
    host.mkdir(r"C:\k")
    checked(sh(host, "tar.exe", "-xf", r"C:\tmp\crid.zip", "-C", r"C:\k"))
    exe = r"C:\k\cri-dockerd\cri-dockerd.exe"
    assert checked(sh(host, exe, "--version")).stdout == "cri-dockerd 0.3.4 (e88b1605)\n"
    checked(
        sh(
            host,
            "sc.exe",
            "create",
            "cri-dockerd",
            "binPath=",
            f"{exe} --container-runtime-endpoint npipe:////./pipe/cri-dockerd",
        )
    )
    r = sh(host, "sc.exe", "start", "cri-dockerd")
    assert r.rc == 1053
    assert "The service did not respond to the start or control request in a timely fashion." in r.stdout


# ------------------------------------------------------------------ docker.exe image commands

PAUSE = "mcr.microsoft.com/oss/kubernetes/pause:3.6"


@pytest.fixture
def engine():
    """WS2022 with MCR 24.0.7 installed and running."""
    h = make_host()
    h.features["containers"].installed = True
    h.write_file(PS1, h.downloads.get(MCR_INSTALLER_URL))
    checked(installer(h, "-DockerVersion", "24.0.7"))
    return h


def test_images_pull_and_inspect(engine):
    assert checked(sh(engine, "docker.exe", "images", "-q", PAUSE)).stdout == ""
    pulled = checked(sh(engine, "docker.exe", "pull", PAUSE)).stdout.splitlines()
    record = engine.images[PAUSE]
    assert pulled[0] == "3.6: Pulling from oss/kubernetes/pause"
    assert pulled[-3:] == [f"Digest: {record['digest']}", f"Status: Downloaded newer image for {PAUSE}", PAUSE]
    assert record["namespaces"] == ["moby"] and record["os_version"].startswith("10.0.20348.")
    image_id = record["config_digest"].split(":")[1][:12]
    assert checked(sh(engine, "docker.exe", "images", "-q", PAUSE)).stdout == f"{image_id}\n"
    assert checked(sh(engine, "docker.exe", "images", "-q")).stdout == f"{image_id}\n"
    again = checked(sh(engine, "docker.exe", "pull", PAUSE)).stdout.splitlines()
    assert again[1:] == [f"Digest: {record['digest']}", f"Status: Image is up to date for {PAUSE}", PAUSE]
    [doc] = json.loads(checked(sh(engine, "docker.exe", "image", "inspect", PAUSE)).stdout)
    assert doc["RepoDigests"] == [f"mcr.microsoft.com/oss/kubernetes/pause@{record['digest']}"]
    assert (doc["Id"], doc["RepoTags"], doc["Os"], doc["Architecture"]) == (
        record["config_digest"],
        [PAUSE],
        "windows",
        "amd64",
    )


def test_image_errors(engine):
    missing = sh(engine, "docker.exe", "image", "inspect", PAUSE)
    assert (missing.rc, missing.stdout, missing.stderr) == (1, "[]\n", f"Error: No such image: {PAUSE}\n")
    unknown = sh(engine, "docker.exe", "pull", "mcr.microsoft.com/oss/kubernetes/pause:9.9")
    assert unknown.rc == 1 and unknown.stderr.startswith(
        "Error response from daemon: manifest for mcr.microsoft.com/oss/kubernetes/pause:9.9 not found"
    )
    # registry.k8s.io/pause:3.10.2 carries an ltsc2022 variant (executables/registry.py): it pulls
    checked(sh(engine, "docker.exe", "pull", "registry.k8s.io/pause:3.10.2"))
    # nanoserver:ltsc2025 is build 26100 only: the engine finds no manifest for 20348
    wrong = sh(engine, "docker.exe", "pull", "mcr.microsoft.com/windows/nanoserver:ltsc2025")
    assert wrong.rc == 1
    assert wrong.stderr == "no matching manifest for windows/amd64 10.0.20348 in the manifest list entries\n"
    engine.stop_service("docker")
    down = sh(engine, "docker.exe", "images", "-q", PAUSE)
    assert down.rc == 1 and "open //./pipe/docker_engine: The system cannot find the file specified." in down.stderr
    assert "is not emulated" in sh(engine, "docker.exe", "images", PAUSE).stderr


def test_the_engine_pulls_the_variant_of_its_own_build(host):
    """On WS2019 (the module fixture's host) the engine takes pause:3.6's 1809 variant."""
    host.features["containers"].installed = True
    checked(installer(host, "-DockerVersion", "20.10.9"))
    checked(sh(host, "docker.exe", "pull", PAUSE))
    assert host.images[PAUSE]["os_version"].startswith("10.0.17763.")
    assert host.extra["mcr_install"] == {
        "version": "20.10.9",
        "channel": "stable",
        "download_url": "https://repos.mirantis.com",
        "offline": False,
    }
