r"""Mirantis Container Runtime: the installer run through ``powershell.exe -File``, ``docker.exe``,
``dockerd.exe`` and ``cri-dockerd.exe`` (identified by stamp), and their services.

The installer (``install.ps1`` is PowerShell, which the simulator cannot run): the collection runs
it as ``powershell.exe [-NoProfile] [-NonInteractive] [-ExecutionPolicy Bypass] -File
<dir>\install.ps1 [args]`` through ``win_command``; only a file that is the fixture installer
(stamp ``mcr-install``, built by ``downloads.py``) is emulated. Inputs as the real one takes them
(domain facts §6, GT §8.1): the environment variables ``DOWNLOAD_URL``, ``CHANNEL`` and
``DOCKER_VERSION`` of the PowerShell process (what launchpad sets with ``set X=... &&``; a task's
``environment:`` reaches it the same way, through the module's process), and the script parameters
``-DockerVersion``, ``-Offline -OfflinePackagesPath``, ``-NoServiceStarts``, ``-EngineOnly``,
``-Uninstall`` plus the common ``-Verbose``. Any other parameter is refused as PowerShell's
parameter binder refuses it (``NamedParameterNotFound``). It resolves the version from
``<DOWNLOAD_URL>/win/static/<channel>/index.json``, fetches ``docker-<v>.zip`` (or takes it from
the offline folder), installs ``dockerd.exe``/``docker.exe`` in ``C:\Program Files\Docker``, adds
that to ``Path``, registers the ``docker`` service (dockerd's ``--service-name`` default) and, when
the Containers feature is not installed yet, enables it pending a reboot and exits 3010 with "Your
machine needs to be rebooted". Only that message is confirmed; the other lines are the simulator's
(GT gap 5).

``docker.exe``: ``--version``, ``version``, and the image commands a node needs — ``images -q
[REF]``, ``pull REF`` and ``image inspect REF`` — against the running engine (the daemon on
``\\.\pipe\docker_engine``). A pull picks the manifest by Docker Engine's Windows rule
(``runtime._moby_select``) into Docker's image store (namespace ``moby`` of ``host.images``).

cri-dockerd has no Windows service support (GT §8.3): a service whose ImagePath is cri-dockerd.exe
itself never reports to the SCM and fails with 1053. Run under a service wrapper (nssm, see
``nssm.py``) it runs as the wrapper's child: ``cri_dockerd_app`` parses its flags (pflag, as
cmd/cri/options/options.go and config/options.go declare them), connects to the engine on its
``--docker-endpoint`` and serves CRI on ``--container-runtime-endpoint``.
"""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

from tests.simulator.contract import ExecResult
from tests.simulator.executables import runtime
from tests.simulator.executables.common import (
    FlagError,
    Invocation,
    binary_stamp,
    daemon_on,
    fail,
    logrus_line,
    normalize_pipe,
    not_emulated,
    ok,
    parse_flags,
    resolve_path,
    service_argv,
    service_failed,
    service_started,
    try_append_log,
)
from tests.simulator.executables.stamp import Stamp, parse_stamp, version_tuple
from tests.simulator.host import DiskFullError, Service, SimulatorError, WindowsHost

DOCKER_DIR = r"C:\Program Files\Docker"
DOCKER_PIPE = r"\\.\pipe\docker_engine"
DOCKER_SERVICE = "docker"  # dockerd's --service-name default (moby cmd/dockerd/service_windows.go)
DEFAULT_DOWNLOAD_URL = "https://repos.mirantis.com"
REBOOT_EXIT = 3010  # ERROR_SUCCESS_REBOOT_REQUIRED
# The Docker client's default endpoint on Windows (GT §8.3, partial): cri-dockerd's --docker-endpoint
# defaults to "", which the client library turns into this pipe.
DEFAULT_DOCKER_ENDPOINT = "npipe:////./pipe/docker_engine"
CRI_DOCKERD_ENDPOINT = "npipe:////./pipe/cri-dockerd"  # CRID cmd/cri/options/options.go (Windows)


def api_version(engine_version: str) -> str:
    """Docker Engine API version per engine line (moby release notes)."""
    major, minor, _ = version_tuple(engine_version)
    table = {(20, 10): "1.41", (23, 0): "1.42", (24, 0): "1.43", (25, 0): "1.44", (26, 0): "1.45"}
    return table.get((major, minor), "1.44")


def _built(stamp: Stamp) -> str:
    return stamp.get("built").replace("_", " ")


# ------------------------------------------------------------------ docker.exe / dockerd.exe


def _connect_error() -> str:
    return (
        "error during connect: This error may indicate that the docker daemon is not running.: "
        'Get "http://%2F%2F.%2Fpipe%2Fdocker_engine/v1.24/version": open //./pipe/docker_engine: '
        "The system cannot find the file specified.\n"
    )


def run_docker(inv: Invocation) -> ExecResult:
    stamp = inv.stamp
    assert stamp is not None
    if inv.args == ["--version"]:
        return ok(f"Docker version {stamp.version}, build {stamp.get('commit')}\n")
    if inv.args == ["version"]:
        return _docker_version(inv, stamp)
    if inv.args[:1] == ["images"]:
        return _docker_images(inv, inv.args[1:])
    if inv.args[:1] == ["pull"]:
        return _docker_pull(inv, inv.args[1:])
    if inv.args[:2] == ["image", "inspect"]:
        return _docker_inspect(inv, inv.args[2:])
    return not_emulated(inv)


def _docker_version(inv: Invocation, stamp: Stamp) -> ExecResult:
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
        return fail(1, _connect_error(), client)
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


def _image_id(record: dict[str, Any]) -> str:
    """``docker images -q``: the image ID (config digest) shortened to 12 hex digits."""
    return str(record["config_digest"]).split(":", 1)[-1][:12]


def _in_docker_store(inv: Invocation, ref: str) -> dict[str, Any] | None:
    record = inv.host.images.get(ref)
    if record is None or runtime.MOBY_NAMESPACE not in record.get("namespaces", []):
        return None
    return record


def _docker_images(inv: Invocation, args: list[str]) -> ExecResult:
    """``docker images -q [REF]`` only: the IDs of the matching images, nothing when there is none."""
    quiet = [a for a in args if a in ("-q", "--quiet")]
    refs = [a for a in args if not a.startswith("-")]
    if len(quiet) != 1 or len(refs) > 1 or len(quiet) + len(refs) != len(args):
        return not_emulated(inv)
    if daemon_on(inv.host, DOCKER_PIPE) is None:
        return fail(1, _connect_error())
    rows = runtime.images_in(inv.host, runtime.MOBY_NAMESPACE)
    if refs:
        wanted = runtime.docker_normalize(refs[0])
        rows = [(ref, rec) for ref, rec in rows if ref == wanted]
    ids = list(dict.fromkeys(_image_id(rec) for _, rec in rows))
    return ok("".join(f"{i}\n" for i in ids))


def _docker_pull(inv: Invocation, args: list[str]) -> ExecResult:
    """``docker pull REF`` (non-TTY progress, [RECONSTRUCTED] layer lines; the Digest/Status lines
    and the final reference line are the CLI's)."""
    if len(args) != 1 or args[0].startswith("-"):
        return not_emulated(inv)
    engine = daemon_on(inv.host, DOCKER_PIPE)
    if engine is None:
        return fail(1, _connect_error().replace("/version", "/images/create"))
    ref = runtime.docker_normalize(args[0])
    repo, tag = runtime.split_repo_tag(ref)
    path = repo.split("/", 1)[1] if runtime.has_domain(repo) else repo
    header = f"{tag}: Pulling from {path}\n"
    known = _in_docker_store(inv, ref)
    try:
        record = runtime.pull(inv.host, ref, runtime.MOBY_NAMESPACE, engine)
    except runtime.PullError as exc:
        if exc.kind == "platform":
            # [RECONSTRUCTED] moby distribution/pull_v2.go: no manifest for this OS version.
            return fail(
                1,
                f"no matching manifest for windows/amd64 10.0.{inv.host.build} in the manifest list entries\n",
                header,
            )
        return fail(
            1,
            f"Error response from daemon: manifest for {ref} not found: manifest unknown: "
            f'manifest tagged by "{tag}" is not found\n',
        )
    except SimulatorError as exc:
        return fail(1, f"simulator: docker pull: {exc}\n")
    lines = [header.rstrip("\n")]
    if known is not None and known.get("manifest_digest") == record["manifest_digest"]:
        lines += [f"Digest: {record['digest']}", f"Status: Image is up to date for {ref}", ref]
    else:
        for layer in record["layers"]:
            short = layer.split(":", 1)[-1][:12]
            lines += [f"{short}: Pulling fs layer", f"{short}: Download complete", f"{short}: Pull complete"]
        lines += [f"Digest: {record['digest']}", f"Status: Downloaded newer image for {ref}", ref]
    return ok("\n".join(lines) + "\n")


def _docker_inspect(inv: Invocation, args: list[str]) -> ExecResult:
    """``docker image inspect REF``: the JSON array the CLI prints (4-space indent), the fields a node
    reads; a missing image prints ``[]`` and the error, exit 1."""
    if len(args) != 1 or args[0].startswith("-"):
        return not_emulated(inv)
    if daemon_on(inv.host, DOCKER_PIPE) is None:
        return fail(1, _connect_error())
    ref = runtime.docker_normalize(args[0])
    record = _in_docker_store(inv, ref)
    if record is None:
        return fail(1, f"Error: No such image: {args[0]}\n", "[]\n")
    repo, _ = runtime.split_repo_tag(ref)
    architecture, _, _ = record["platform"].partition("/")[2].partition("/")
    doc = [
        {
            "Id": record["config_digest"],
            "RepoTags": [ref],
            "RepoDigests": [f"{repo}@{record['digest']}"],
            "Parent": "",
            "Comment": "",
            "Architecture": architecture or "amd64",
            "Os": record["platform"].split("/", 1)[0],
            "OsVersion": record["os_version"],
            "Size": record["size"],
            "RootFS": {"Type": "layers", "Layers": list(record["layers"])},
        }
    ]
    return ok(json.dumps(doc, indent=4) + "\n")


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

# pflag flags of cri-dockerd: CRID cmd/server.go (help, version, buildinfo, log-level),
# cmd/cri/options/options.go (container-runtime-endpoint) and config/options.go.
CRI_DOCKERD_FLAGS = {
    "container-runtime-endpoint": "str",
    "docker-endpoint": "str",
    "pod-infra-container-image": "str",
    "network-plugin": "str",
    "cni-bin-dir": "str",
    "cni-conf-dir": "str",
    "cni-cache-dir": "str",
    "cri-dockerd-root-directory": "str",
    "image-pull-progress-deadline": "str",
    "runtime-cgroups": "str",
    "pod-cidr": "str",
    "network-plugin-mtu": "str",
    "log-level": "str",
    "help": "bool",
    "version": "bool",
    "buildinfo": "bool",
}
LOG_LEVELS = ("panic", "fatal", "error", "warn", "warning", "info", "debug", "trace")


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
        "SERVICE_RUNNING (GT 8.3); run it under a service wrapper such as nssm",
    )


def cri_dockerd_app(host: WindowsHost, svc: Service, argv: list[str], log_file: str | None) -> str | None:
    """cri-dockerd started as a console program by a service wrapper: None once it serves CRI (its
    daemon record is kept under the wrapper's service), else why it exited (also in its log).

    The record's ``version`` is the engine's, since that is what cri-dockerd reports over CRI
    (RuntimeName docker); ``cri_dockerd_version`` is the binary's own."""
    stamp = binary_stamp(host, argv[0])
    if stamp is None or stamp.name != "cri-dockerd":
        return f"simulator: {argv[0]} is not a cri-dockerd binary"
    try:
        flags = parse_flags(argv[1:], CRI_DOCKERD_FLAGS).values
    except FlagError as exc:
        # cmd/server.go: cleanFlagSet.Parse fails -> usage, then logrus.Fatal(err).
        return _exit(host, log_file, f"unknown flag: {exc}" if not str(exc).startswith("flag needs") else str(exc))
    level = flags.get("log-level", "info")
    if level not in LOG_LEVELS:
        return _exit(host, log_file, f"Unknown log level: {level}")
    if flags.get("version") or flags.get("help") or flags.get("buildinfo"):
        return "cri-dockerd printed its version or help and exited (not a daemon command line)"
    full = f"{stamp.version} ({stamp.get('commit')})"
    try_append_log(host, log_file, logrus_line("info", f"Starting cri-dockerd {full}"))
    docker_endpoint = flags.get("docker-endpoint") or DEFAULT_DOCKER_ENDPOINT
    engine = daemon_on(host, docker_endpoint)
    if engine is None or engine.get("kind") != "dockerd":
        # [RECONSTRUCTED] core.NewDockerService fails when the engine does not answer.
        pipe = normalize_pipe(docker_endpoint).replace("\\", "/")
        return _exit(
            host,
            log_file,
            f"failed to get docker version from dockerd: error during connect: open {pipe}: "
            "The system cannot find the file specified.",
        )
    endpoint = flags.get("container-runtime-endpoint") or CRI_DOCKERD_ENDPOINT
    if not endpoint.startswith(("npipe://", "tcp://")):
        return _exit(host, log_file, f"failed to listen on {endpoint}: protocol not supported on Windows")
    try_append_log(host, log_file, logrus_line("info", "Starting the GRPC backend for the Docker CRI interface."))
    service_started(
        host,
        svc,
        {
            "kind": "cri-dockerd",
            "version": engine["version"],
            "cri_dockerd_version": stamp.version,
            "binary": argv[0],
            "argv": list(argv),
            "pipes": [normalize_pipe(endpoint)],
            "docker_endpoint": docker_endpoint,
            "pod_infra_container_image": flags.get("pod-infra-container-image", "registry.k8s.io/pause:3.9"),
            "network_plugin": flags.get("network-plugin", "cni"),
            "cni_bin_dir": flags.get("cni-bin-dir", "C:\\k\\cni\\bin\\"),
            "cni_conf_dir": flags.get("cni-conf-dir", "C:\\k\\cni\\config"),
        },
    )
    return None


def _exit(host: WindowsHost, log_file: str | None, message: str) -> str:
    """logrus.Fatal: the line goes to stderr (the wrapper's log file) and the process exits 1."""
    try_append_log(host, log_file, logrus_line("fatal", message))
    return message


# ------------------------------------------------------------------ powershell.exe -File install.ps1

PS_SWITCHES = {"-noprofile", "-noninteractive", "-nologo"}
# The fixture's param() block (downloads.py) plus the common parameter -Verbose ([CmdletBinding()]).
INSTALLER_SWITCHES = {"-offline", "-noservicestarts", "-engineonly", "-uninstall", "-verbose"}
INSTALLER_VALUES = {"-dockerversion", "-offlinepackagespath", "-containerdversion"}


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
    return _install_mcr(inv, path, args[i:])


def _not_a_parameter(script: str, name: str) -> ExecResult:
    """PowerShell's parameter binder on an unknown named parameter (exit 1). [RECONSTRUCTED] the
    error record as Windows PowerShell 5.1 prints it for ``-File``."""
    leaf = script.rsplit("\\", 1)[-1]
    return fail(
        1,
        f"{script} : A parameter cannot be found that matches parameter name '{name}'.\n"
        f"    + CategoryInfo          : InvalidArgument: (:) [{leaf}], ParentContainsErrorRecordException\n"
        f"    + FullyQualifiedErrorId : NamedParameterNotFound,{leaf}\n",
    )


def _installer_args(script: str, args: list[str]) -> dict[str, str | bool] | ExecResult:
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
        elif args[i].startswith("-"):
            return _not_a_parameter(script, args[i][1:])
        else:
            return fail(1, f"simulator: positional argument {args[i]!r} to install.ps1 is not emulated\n")
    return opts


def _install_mcr(inv: Invocation, script: str, args: list[str]) -> ExecResult:
    host = inv.host
    opts = _installer_args(script, args)
    if isinstance(opts, ExecResult):
        return opts
    if opts.get("-containerdversion"):
        return not_emulated(inv)  # -ContainerDVersion would also install containerd: not emulated
    out: list[str] = []
    if opts.get("-uninstall"):
        svc = host.service(DOCKER_SERVICE)
        if svc is not None:
            host.stop_service(svc.name)
            del host.services[svc.name.lower()]
        host.remove(DOCKER_DIR)
        out.append("Uninstalled Mirantis Container Runtime")
        return ok("\n".join(out) + "\n")
    # The script's inputs are its process's environment variables (launchpad: `set "DOWNLOAD_URL=..." &&`).
    download_url = str(inv.getenv("DOWNLOAD_URL") or DEFAULT_DOWNLOAD_URL).rstrip("/")
    channel = str(inv.getenv("CHANNEL") or "stable")
    version = str(opts.get("-dockerversion") or inv.getenv("DOCKER_VERSION") or "")
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
    # Simulator bookkeeping (not a Windows artefact): what this run installed and from where, for tests.
    host.extra["mcr_install"] = {
        "version": version,
        "channel": channel,
        "download_url": download_url,
        "offline": bool(opts.get("-offline")),
    }
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
    svc = host.service(DOCKER_SERVICE)
    image_path = f'"{DOCKER_DIR}\\dockerd.exe" --run-service'
    if svc is None:
        host.services[DOCKER_SERVICE] = Service(
            name=DOCKER_SERVICE,
            display_name="Docker Engine",
            description="Docker Engine",
            path=image_path,
            start_mode="auto",
            service_type="win32_own_process",
        )
    else:
        if svc.state == "running":
            host.stop_service(svc.name)  # the new binaries replace the running engine's
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
        err = host.start_service(DOCKER_SERVICE)
        if err:
            return fail(1, err + "\n", "\n".join(out) + "\n")
    out.append(f"Mirantis Container Runtime {version} installed")
    return ok("\n".join(out) + "\n")
