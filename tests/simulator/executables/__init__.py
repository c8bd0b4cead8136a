r"""The Windows executables ``win_command`` runs, emulated over a simulated host.

``run(host, argv, stdin, chdir)`` does what ``win_command`` + ``CreateProcess`` do: resolve
``argv[0]`` on the simulated disk (absolute, relative, or through ``Path``/``PATHEXT``), refuse a
file that is not there with the real Win32 error, then decide *from the file itself* what runs:

* built-in System32 tools (``tar.exe``, ``sc.exe``, ``cmd.exe``, ``wevtutil.exe`` (``epl``),
  ``hnsdiag.exe`` (``delete endpoints|networks``), ``shutdown.exe``, ``netsh.exe``, and
  ``powershell.exe`` in ``WindowsPowerShell\v1.0``) by their path;
* fake binaries by the stamp line they carry (``stamp.py``; ``downloads.py`` builds them):
  containerd, ctr, crictl, kubelet, kubeadm, kube-proxy, kubectl, cri-dockerd, docker, dockerd,
  nssm.

Anything else — an unknown binary, an argument form a tool's emulation does not cover — fails
loudly with rc 1 and ``simulator: <exe> <args> is not emulated``; nothing answers "ok" by default.

``install(host)`` wires the host side: the ``service_starters`` that decide whether services made
from these binaries run (containerd, kubelet, kube-proxy, cri-dockerd, dockerd, nssm), ``powershell.exe``
on disk, and a boot hook. The server calls it once per host.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from tests.simulator.contract import ExecResult
from tests.simulator.executables import (
    containerd,
    crictl,
    ctr,
    docker,
    hnsdiag,
    kube,
    kubeadm,
    nssm,
    sc,
    system,
    tar,
    wevtutil,
)
from tests.simulator.executables.common import (
    Invocation,
    default_cwd,
    getenv,
    not_emulated,
    process_environment,
)
from tests.simulator.executables.stamp import parse_stamp
from tests.simulator.host import SimulatorError, WindowsHost

__all__ = ["POWERSHELL_PATH", "StartFailure", "install", "resolve", "run"]

Handler = Callable[[Invocation], ExecResult]

POWERSHELL_PATH = r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe"

# Identified by where they live (they are part of Windows, no stamp).
SYSTEM_TOOLS: dict[str, Handler] = {
    r"c:\windows\system32\tar.exe": tar.run,
    r"c:\windows\system32\sc.exe": sc.run,
    r"c:\windows\system32\cmd.exe": system.run_cmd,
    r"c:\windows\system32\shutdown.exe": system.run_unemulated,
    r"c:\windows\system32\wevtutil.exe": wevtutil.run,
    r"c:\windows\system32\hnsdiag.exe": hnsdiag.run,
    r"c:\windows\system32\netsh.exe": system.run_unemulated,
    POWERSHELL_PATH.lower(): docker.run_powershell,
}

# Identified by the stamp in the file.
STAMPED_TOOLS: dict[str, Handler] = {
    "containerd": containerd.run,
    "ctr": ctr.run,
    "crictl": crictl.run,
    "kubelet": kube.run_kubelet,
    "kube-proxy": kube.run_kube_proxy,
    "kubectl": kube.run_kubectl,
    "kube-log-runner": kube.run_kube_log_runner,
    "kubeadm": kubeadm.run,
    "cri-dockerd": docker.run_cri_dockerd,
    "docker": docker.run_docker,
    "dockerd": docker.run_dockerd,
    "nssm": nssm.run,
}

SERVICE_STARTERS = {
    "containerd.exe": containerd.starter,
    "kubelet.exe": kube.kubelet_starter,
    "kube-proxy.exe": kube.kube_proxy_starter,
    "kube-log-runner.exe": kube.kube_log_runner_starter,
    "cri-dockerd.exe": docker.cri_dockerd_starter,
    "dockerd.exe": docker.dockerd_starter,
    "nssm.exe": nssm.starter,
}


@dataclasses.dataclass
class StartFailure(ExecResult):
    """The process never started: ``CreateProcess`` failed. ``rc`` is the Win32 error (what
    ``win_command`` reports as rc), ``stderr`` the exception text win_command puts after
    ``Failed to run: '<cmd>': ``, ``message`` the bare FormatMessage text."""

    win32_error: int = 2
    message: str = ""


def _start_failure(code: int, text: str) -> StartFailure:
    # Ansible.Windows.Process.Win32Exception: "<msg> (<FormatMessage>, Win32ErrorCode <n> - 0x<n:X8>)"
    bare = text.rstrip(".")
    return StartFailure(
        rc=code,
        stdout="",
        stderr=f"CreateProcessW() failed ({bare}, Win32ErrorCode {code} - 0x{code:08X})",
        win32_error=code,
        message=text,
    )


def _search_dirs(host: WindowsHost) -> list[str]:
    out = []
    for raw in (getenv(host, "Path") or "").split(";"):
        d = raw.strip().strip('"')
        if d:
            try:
                out.append(host.norm(d))
            except SimulatorError:
                continue  # a relative or garbage Path entry is skipped, as SearchPath does
    return out


def _extensions(host: WindowsHost, name: str) -> list[str]:
    base = name.replace("/", "\\").rsplit("\\", 1)[-1]
    if "." in base:
        return [""]
    exts = [e.strip().lower() for e in (getenv(host, "PATHEXT") or ".EXE").split(";") if e.strip()]
    # win_command's Resolve-ExecutablePath appends .exe to a bare name first.
    return [".exe", *[e for e in exts if e != ".exe"]]


def resolve(host: WindowsHost, name: str, chdir: str | None) -> str | None:
    """The absolute path ``argv[0]`` starts, or None. Absolute paths are taken as they are;
    relative paths are tried from the shell's directory and then ``chdir``; bare names are searched
    in ``Path`` (then ``chdir``), trying ``.exe`` and the other ``PATHEXT`` extensions."""
    name = name.strip().strip('"')
    if not name:
        return None
    cwd = default_cwd(host)
    exts = _extensions(host, name)
    p = name.replace("/", "\\")
    if (len(p) >= 2 and p[1] == ":") or p.startswith("\\"):
        bases = [p if p[1:2] == ":" else cwd[:2] + p]
    elif "\\" in p:
        bases = [cwd + "\\" + p] + ([chdir + "\\" + p] if chdir else [])
    else:
        bases = [d + "\\" + p for d in _search_dirs(host)] + ([chdir + "\\" + p] if chdir else [])
    for base in bases:
        for ext in exts:
            try:
                entry = host.get(base + ext)
            except SimulatorError:
                continue
            if entry is not None:
                return entry.path
    return None


def run(
    host: WindowsHost,
    argv: list[str],
    stdin: bytes | None,
    chdir: str | None,
    environment: dict[str, str] | None = None,
) -> ExecResult:
    """Start ``argv`` on the simulated host and return what the process gives back.

    ``environment`` holds variables the parent process set for itself (a task's ``environment:``),
    which the child inherits on top of the machine and user environment; an empty value unsets a
    variable, as ``[Environment]::SetEnvironmentVariable(name, "")`` does."""
    if not argv:
        raise SimulatorError("run() needs at least the executable in argv")
    with host.lock:
        cwd = host.norm(chdir) if chdir else default_cwd(host)
        if chdir and not host.isdir(cwd):
            # CreateProcess with a missing lpCurrentDirectory fails with ERROR_DIRECTORY (267).
            return _start_failure(267, "The directory name is invalid.")
        path = resolve(host, argv[0], cwd if chdir else None)
        if path is None:
            return _start_failure(2, "The system cannot find the file specified.")
        entry = host.get(path)
        assert entry is not None
        if entry.is_dir:
            return _start_failure(5, "Access is denied.")
        _count(host, entry.path)
        inv = Invocation(
            host=host,
            path=entry.path,
            argv=list(argv),
            stdin=stdin,
            cwd=cwd,
            environment=process_environment(host, environment),
        )
        handler = SYSTEM_TOOLS.get(entry.path.lower())
        if handler is not None:
            return handler(inv)
        if not entry.data.startswith(b"MZ"):
            ext = entry.path.rsplit(".", 1)[-1].lower()
            if ext in ("bat", "cmd"):
                return not_emulated(inv, f"batch file {entry.path}")
            return _start_failure(193, "%1 is not a valid Win32 application.")
        inv.stamp = parse_stamp(entry.data)
        if inv.stamp is None:
            return not_emulated(inv)
        tool = STAMPED_TOOLS.get(inv.stamp.name)
        if tool is None:
            return not_emulated(inv)
        return tool(inv)


def _count(host: WindowsHost, path: str) -> None:
    counts = host.stats.setdefault("executables", {})
    name = path.rsplit("\\", 1)[-1].lower()
    counts[name] = counts.get(name, 0) + 1


def install(host: WindowsHost) -> None:
    """Wire the executables into a host (idempotent): service starters, ``powershell.exe`` on
    disk (every Windows Server has it; host.py seeds only System32's own tools), boot hook."""
    host.service_starters.update(SERVICE_STARTERS)
    if not host.exists(POWERSHELL_PATH):
        host.write_file(POWERSHELL_PATH, b"MZ simulated powershell.exe")
    if sc.purge_deleted not in host.boot_hooks:
        host.boot_hooks.append(sc.purge_deleted)
