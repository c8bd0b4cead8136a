r"""Mirantis Container Runtime: the installer run through ``powershell.exe -File``, ``docker.exe``,
``dockerd.exe`` and ``cri-dockerd.exe`` (identified by stamp), and their services.

The installer (``install.ps1`` is PowerShell, which the simulator cannot run): the collection runs
it as ``powershell.exe [-NoProfile] [-NonInteractive] [-ExecutionPolicy Bypass] -File
<dir>\install.ps1 [args]`` through ``win_command``; only a file that is the fixture installer
(stamp ``mcr-install``, built by ``downloads.py``) is emulated. Inputs as the real one takes them
(domain facts §6, GT §8.1): environment ``DOWNLOAD_URL``/``CHANNEL``/``DOCKER_VERSION``, and
``-DockerVersion``, ``-Offline -OfflinePackagesPath``, ``-NoServiceStarts``, ``-EngineOnly``,
``-Uninstall``, ``-Verbose``; ``-Channel``/``-DownloadUrl`` are simulator conveniences with the same
meaning as the variables (the real script reads those from the environment). It resolves the
version from ``<DOWNLOAD_URL>/win/static/<channel>/index.json``, fetches ``docker-<v>.zip`` (or
takes it from the offline folder), installs ``dockerd.exe``/``docker.exe`` in
``C:\Program Files\Docker``, adds that to ``Path``, registers the ``docker`` service and, when the
Containers feature is not installed yet, enables it pending a reboot and exits 3010 with "Your
machine needs to be rebooted". Only that message is confirmed; the other lines are the
simulator's (GT gap 5).

cri-dockerd has no Windows service support (GT §8.3): a service whose ImagePath is cri-dockerd.exe
itself never reports to the SCM and fails with 1053. It needs a service wrapper, which the
simulator does not emulate.
"""

from __future__ import annotations

import io
import json
import zipfile

from tests.simulator.contract import ExecResult
from tests.simulator.executables.common import (
    FlagError,
    Invocation,
    binary_stamp,
    daemon_on,
    fail,
    getenv,
    normalize_pipe,
    not_emulated,
    ok,
    parse_flags,
    resolve_path,
    service_argv,
    service_failed,
    service_started,
)
from tests.simulator.executables.stamp import Stamp, parse_stamp, version_tuple
from tests.simulator.host import DiskFullError, Service, WindowsHost

DOCKER_DIR = r"C:\Program Files\Docker"
DOCKER_PIPE = r"\\.\pipe\docker_engine"
DEFAULT_DOWNLOAD_URL = "https://repos.mirantis.com"
REBOOT_EXIT = 3010  # ERROR_SUCCESS_REBOOT_REQUIRED


def api_version(engine_version: str) -> str:
    """Docker Engine API version per engine line (moby release notes)."""
    major, minor, _ = version_tuple(engine_version)
    table = {(20, 10): "1.41", (23, 0): "1.42", (24, 0): "1.43", (25, 0): "1.44", (26, 0): "1.45"}
    return table.get((major, minor), "1.44")


def _built(stamp: Stamp) -> str:
    return stamp.get("built").replace("_", " ")


# ------------------------------------------------------------------ docker.exe / dockerd.exe


def run_docker(inv: Invocation) -> ExecResult:
    stamp = inv.stamp
    assert stamp is not None
    if inv.args == ["--version"]:
        return ok(f"Docker version {stamp.version}, build {stamp.get('commit')}\n")
    if inv.args != ["version"]:
        return not_emulated(inv)
    client = (
        "Client: Mirantis Container Runtime\n"
        f" Version:           {stamp.version}\n"
        f" API version:       {api_version(stamp.version)}\n"
        f" Go version:        {stamp.get('go')}\n"
        f" Git commit:        {stamp.get('commit')}\n"
        f" Built:             {_built(stamp)}\n"
        " OS/Arch:           windows/amd64\n"
        " Context:           default\n"
        " Experimental:      true\n"
    )
    engine = daemon_on(inv.host, DOCKER_PIPE)
    if engine is None:
        return fail(
            1,
            "error during connect: This error may indicate that the docker daemon is not running.: "
            'Get "http://%2F%2F.%2Fpipe%2Fdocker_engine/v1.24/version": open //./pipe/docker_engine: '
            "The system cannot find the file specified.\n",
            client,
        )
    server = binary_stamp(inv.host, engine["binary"])
    assert server is not None
    return ok(
        client + "\nServer: Mirantis Container Runtime\n"
        " Engine:\n"
        f"  Version:          {server.version}\n"
        f"  API version:      {api_version(server.version)} (minimum version 1.24)\n"
        f"  Go version:       {server.get('go')}\n"
        f"  Git commit:       {server.get('commit')}\n"
        f"  Built:            {_built(server)}\n"
        "  OS/Arch:          windows/amd64\n"
        "  Experimental:     false\n"
    )


def run_dockerd(inv: Invocation) -> ExecResult:
    stamp = inv.stamp
    assert stamp is not None
    if inv.args in (["--version"], ["-v"]):
        return ok(f"Docker version {stamp.version}, build {stamp.get('commit')}\n")
    return not_emulated(inv)


DOCKERD_FLAGS = {"run-service": "bool", "host": "list", "config-file": "str", "data-root": "str", "service-name": "str"}


def containers_ready(host: WindowsHost) -> bool:
    feat = host.features.get("containers")
    return bool(feat and feat.installed and not feat.install_pending)


def dockerd_starter(host: WindowsHost, svc: Service) -> str | None:
    argv = service_argv(host, svc)
    stamp = binary_stamp(host, argv[0])
    if stamp is None or stamp.name != "dockerd":
        return service_failed(host, svc, 1053, f"simulator: {argv[0]} is not a dockerd binary")
    try:
        flags = parse_flags(argv[1:], DOCKERD_FLAGS, {"H": "host"}).values
    except FlagError as exc:
        return service_failed(host, svc, 1067, f"unknown flag: {exc}")
    if not flags.get("run-service"):
        return service_failed(host, svc, 1053, "dockerd started by the SCM without --run-service did not report to it")
    if not containers_ready(host):
        # [VERBATIM] moby/moby PR #34928.
        return service_failed(
            host,
            svc,
            1067,
            "Error starting daemon: a required service is not installed, ensure the Containers role is installed: "
            "failed to open service hns: The specified service does not exist as an installed service.",
        )
    pipes = [p for p in flags.get("host", []) if p.startswith("npipe://")] or ["npipe:////./pipe/docker_engine"]
    service_started(
        host,
        svc,
        {"kind": "dockerd", "version": stamp.version, "binary": argv[0], "pipes": [normalize_pipe(p) for p in pipes]},
    )
    return None


# ------------------------------------------------------------------ cri-dockerd


def run_cri_dockerd(inv: Invocation) -> ExecResult:
    stamp = inv.stamp
    assert stamp is not None
    if inv.args == ["--version"]:
        return ok(f"cri-dockerd {stamp.version} ({stamp.get('commit')})\n")
    return not_emulated(inv)


def cri_dockerd_starter(host: WindowsHost, svc: Service) -> str | None:
    argv = service_argv(host, svc)
    stamp = binary_stamp(host, argv[0])
    if stamp is None or stamp.name != "cri-dockerd":
        return service_failed(host, svc, 1053, f"simulator: {argv[0]} is not a cri-dockerd binary")
    return service_failed(
        host,
        svc,
        1053,
        "cri-dockerd has no Windows service control handler: started directly by the SCM it never reports "
        "SERVICE_RUNNING (GT 8.3); run it under a service wrapper (not emulated by the simulator)",
    )


# ------------------------------------------------------------------ powershell.exe -File install.ps1

PS_SWITCHES = {"-noprofile", "-noninteractive", "-nologo"}
INSTALLER_SWITCHES = {"-offline", "-noservicestarts", "-engineonly", "-uninstall", "-verbose"}
INSTALLER_VALUES = {"-channel", "-dockerversion", "-offlinepackagespath", "-downloadurl", "-containerdversion"}


def run_powershell(inv: Invocation) -> ExecResult:
    """``powershell.exe`` is emulated for one form only: ``-File`` with the fixture MCR installer."""
    args = list(inv.args)
    i = 0
    script = None
    while i < len(args):
        a = args[i].lower()
        if a in PS_SWITCHES:
            i += 1
        elif a == "-executionpolicy" and i + 1 < len(args):
            i += 2
        elif a == "-file" and i + 1 < len(args):
            script = args[i + 1]
            i += 2
            break
        else:
            return not_emulated(inv)
    if script is None:
        return not_emulated(inv)
    path = resolve_path(inv.host, script, inv.cwd)
    entry = inv.host.get(path)
    if entry is None or entry.is_dir:
        # [VERBATIM] Windows PowerShell 5.1; exit code -196608.
        return ExecResult(
            rc=-196608,
            stdout="",
            stderr=(
                f"The argument '{script}' to the -File parameter does not exist. Provide the path to an existing "
                "'.ps1' file as an argument to the -File parameter.\n"
            ),
        )
    stamp = parse_stamp(entry.data)
    if stamp is None or stamp.name != "mcr-install":
        return not_emulated(inv, f"powershell.exe -File {script} (only the fixture MCR installer is emulated)")
    return _install_mcr(inv, args[i:])


def _installer_args(inv: Invocation, args: list[str]) -> dict[str, str | bool] | None:
    opts: dict[str, str | bool] = {}
    i = 0
    while i < len(args):
        a = args[i].lower()
        if a in INSTALLER_SWITCHES:
            opts[a] = True
            i += 1
        elif a in INSTALLER_VALUES and i + 1 < len(args):
            opts[a] = args[i + 1]
            i += 2
        else:
            return None
    return opts


def _install_mcr(inv: Invocation, args: list[str]) -> ExecResult:
    host = inv.host
    opts = _installer_args(inv, args)
    if opts is None or opts.get("-containerdversion"):
        return not_emulated(inv)  # -ContainerDVersion would also install containerd: not emulated
    out: list[str] = []
    if opts.get("-uninstall"):
        svc = host.service("docker")
        if svc is not None:
            host.stop_service(svc.name)
            del host.services[svc.name.lower()]
        host.remove(DOCKER_DIR)
        out.append("Uninstalled Mirantis Container Runtime")
        return ok("\n".join(out) + "\n")
    download_url = str(opts.get("-downloadurl") or getenv(host, "DOWNLOAD_URL") or DEFAULT_DOWNLOAD_URL).rstrip("/")
    channel = str(opts.get("-channel") or getenv(host, "CHANNEL") or "stable")
    version = str(opts.get("-dockerversion") or getenv(host, "DOCKER_VERSION") or "")
    downloads = host.downloads
    if not version:
        index_url = f"{download_url}/win/static/{channel}/index.json"
        try:
            index = json.loads(downloads.get(index_url))
            version = max(index["versions"], key=version_tuple)
        except Exception as exc:  # any fetch/parse failure ends the script the same way
            return fail(1, f"Failed to resolve the Mirantis Container Runtime version from {index_url}: {exc}\n")
    name = f"docker-{version}.zip"
    if opts.get("-offline"):
        folder = str(opts.get("-offlinepackagespath") or inv.cwd)
        zpath = resolve_path(host, folder + "\\" + name, inv.cwd)
        if not host.exists(zpath):
            return fail(1, f"Offline package {zpath} not found\n")
        data = host.read_file(zpath)
    else:
        url = f"{download_url}/win/static/{channel}/x86_64/{name}"
        try:
            data = downloads.get(url)
        except Exception as exc:  # DownloadError, or no fixtures: the script fails
            return fail(1, f"Failed to download {url}: {exc}\n")
    out.append(f"Installing Mirantis Container Runtime {version} (channel {channel})")
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        members = {n: zf.read(n) for n in zf.namelist() if n.lower().endswith(".exe")}
    except zipfile.BadZipFile:
        return fail(1, f"{name} is not a valid zip archive\n", "\n".join(out) + "\n")
    try:
        for member, content in members.items():
            host.write_file(DOCKER_DIR + "\\" + member.rsplit("/", 1)[-1], content)
    except DiskFullError:
        return fail(1, "There is not enough space on the disk.\n", "\n".join(out) + "\n")
    path_value = host.env_machine.get("Path", "")
    if DOCKER_DIR.lower() not in [p.lower().rstrip("\\") for p in path_value.split(";")]:
        host.env_machine["Path"] = path_value.rstrip(";") + ";" + DOCKER_DIR
    svc = host.service("docker")
    image_path = f'"{DOCKER_DIR}\\dockerd.exe" --run-service'
    if svc is None:
        host.services["docker"] = Service(
            name="docker",
            display_name="Docker Engine",
            description="Docker Engine",
            path=image_path,
            start_mode="auto",
            service_type="win32_own_process",
        )
    else:
        svc.path = image_path
    if not containers_ready(host):
        # The installer enables the Containers feature itself; it completes at the next boot.
        feat = host.features.get("containers")
        if feat is not None and not feat.installed:
            feat.install_pending = True
        host.reboot_pending = True
        out.append("Your machine needs to be rebooted")
        return ExecResult(rc=REBOOT_EXIT, stdout="\n".join(out) + "\n")
    if not opts.get("-noservicestarts"):
        err = host.start_service("docker")
        if err:
            return fail(1, err + "\n", "\n".join(out) + "\n")
    out.append(f"Mirantis Container Runtime {version} installed")
    return ok("\n".join(out) + "\n")
