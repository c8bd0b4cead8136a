"""What every emulated executable shares: the invocation record, result helpers, Go-style quoting
and log lines, a small GNU-style flag parser, service/daemon helpers.

Texts marked [VERBATIM]/[SOURCE]/[RECONSTRUCTED] follow the labels of
``shared/reference/windows-ground-truth.md`` (GT below).
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Iterable
from typing import Any

from tests.simulator.contract import ExecResult
from tests.simulator.executables import cmdline
from tests.simulator.executables.stamp import Stamp, parse_stamp
from tests.simulator.host import DiskFullError, Service, SimulatorError, WindowsHost


@dataclasses.dataclass
class Invocation:
    """One process start: the resolved executable, its argv and where it runs."""

    host: WindowsHost
    path: str  # absolute path of the executable on the simulated disk
    argv: list[str]
    stdin: bytes | None
    cwd: str
    stamp: Stamp | None = None
    # The process's environment block (process_environment()); None: the host's, as a new process
    # started by the WinRM shell itself gets it.
    environment: dict[str, str] | None = None

    def getenv(self, name: str) -> str | None:
        """A variable of this process (names are case-insensitive on Windows)."""
        env = self.host.environment() if self.environment is None else self.environment
        for k, v in env.items():
            if k.lower() == name.lower():
                return v
        return None

    @property
    def args(self) -> list[str]:
        return self.argv[1:]

    @property
    def exe(self) -> str:
        return self.path.rsplit("\\", 1)[-1]

    def abspath(self, path: str) -> str:
        """A path argument as the process sees it: relative to its working directory."""
        return resolve_path(self.host, path, self.cwd)


class FlagError(Exception):
    """A flag the tool does not know, or a flag without its value."""


def ok(stdout: str = "", stderr: str = "") -> ExecResult:
    return ExecResult(rc=0, stdout=stdout, stderr=stderr)


def fail(rc: int, stderr: str = "", stdout: str = "") -> ExecResult:
    return ExecResult(rc=rc, stdout=stdout, stderr=stderr)


def not_emulated(inv: Invocation, what: str | None = None) -> ExecResult:
    """The loud failure for anything the simulator does not emulate (never a guessed success)."""
    shown = what if what is not None else " ".join([inv.exe, *inv.args])
    return fail(1, f"simulator: {shown} is not emulated\n")


def resolve_path(host: WindowsHost, path: str, cwd: str) -> str:
    r"""An absolute path for ``path`` as seen from ``cwd`` (``C:\x``, ``\x`` on the cwd's drive, ``x``)."""
    p = path.strip('"').replace("/", "\\")
    if len(p) >= 2 and p[1] == ":":
        return host.norm(p)
    if p.startswith("\\"):
        return host.norm(cwd[:2] + p)
    return host.norm(cwd.rstrip("\\") + "\\" + p)


def write(host: WindowsHost, path: str, data: bytes) -> None:
    """Write a file for a tool; the caller turns DiskFullError into the tool's own message."""
    host.write_file(path, data)


def try_append_log(host: WindowsHost, path: str | None, text: str) -> None:
    """Append to a daemon's log file; a full disk only loses the log line, as on Windows."""
    if not path:
        return
    try:
        old = host.read_file(path) if host.exists(path) else b""
        host.write_file(path, old + text.encode())
    except (DiskFullError, SimulatorError, IsADirectoryError):
        return


# --------------------------------------------------------------------------------------------
# Go-isms


def go_quote(s: str) -> str:
    """Go's ``%q``: double quotes, backslash and quote escaped (why Windows paths print doubled)."""
    out = ['"']
    for c in s:
        if c in ('"', "\\"):
            out.append("\\" + c)
        elif c == "\n":
            out.append("\\n")
        elif c == "\t":
            out.append("\\t")
        elif ord(c) < 0x20:
            out.append(f"\\x{ord(c):02x}")
        else:
            out.append(c)
    out.append('"')
    return "".join(out)


def utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def containerd_time(now: datetime.datetime | None = None) -> str:
    """containerd's log timestamp on Windows: RFC3339 with 9 fraction digits, of which the clock
    fills 7 (100 ns ticks) — ``2022-09-27T11:29:29.107877800+02:00`` in GT §4.2; UTC here → ``Z``."""
    t = now or utcnow()
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond:06d}" + "000Z"


def logrus_line(level: str, msg: str, now: datetime.datetime | None = None, **fields: Any) -> str:
    """A logrus text-formatter line (non-TTY form, as processes under WinRM/SCM write it)."""
    parts = [f"time={go_quote(containerd_time(now))}", f"level={level}", f"msg={go_quote(msg)}"]
    for key in sorted(fields):
        value = str(fields[key])
        plain = value and not any(c in value for c in ' "=')
        parts.append(f"{key}={value if plain else go_quote(value)}")
    return " ".join(parts) + "\n"


def klog_line(severity: str, source: str, msg: str, pid: int = 4242, now: datetime.datetime | None = None) -> str:
    """A klog header line (``E1201 10:00:00.123456    4242 run.go:72] ...``) as Kubernetes binaries log."""
    t = now or utcnow()
    return f"{severity}{t:%m%d %H:%M:%S}.{t.microsecond:06d} {pid:>7} {source}] {msg}\n"


# --------------------------------------------------------------------------------------------
# flags


@dataclasses.dataclass
class Flags:
    values: dict[str, Any]
    positional: list[str]

    def get(self, name: str, default: Any = None) -> Any:
        return self.values.get(name, default)

    def has(self, name: str) -> bool:
        return name in self.values


def parse_flags(
    args: Iterable[str],
    spec: dict[str, str],
    aliases: dict[str, str] | None = None,
    *,
    interspersed: bool = True,
) -> Flags:
    """Parse Go-style flags. ``spec`` maps a long name to ``bool``, ``str`` or ``list`` (repeatable,
    comma lists split as pflag's StringSlice does). ``aliases`` maps short/alternate names to long
    ones. ``--x=v``, ``--x v``, ``-x v`` and ``-x=v`` are accepted; ``--`` ends flags. With
    ``interspersed`` false the first positional stops parsing (urfave/cli global flags)."""
    aliases = aliases or {}
    values: dict[str, Any] = {}
    positional: list[str] = []
    items = list(args)
    i = 0
    while i < len(items):
        a = items[i]
        if a == "--":
            positional.extend(items[i + 1 :])
            break
        if not a.startswith("-") or a == "-":
            positional.append(a)
            if not interspersed:
                positional.extend(items[i + 1 :])
                break
            i += 1
            continue
        name, eq, inline = a.lstrip("-").partition("=")
        name = aliases.get(name, name)
        kind = spec.get(name)
        if kind is None:
            raise FlagError(a.split("=", 1)[0])
        if kind == "bool":
            values[name] = inline.lower() not in ("false", "0") if eq else True
            i += 1
            continue
        if eq:
            value = inline
            i += 1
        else:
            if i + 1 >= len(items):
                raise FlagError(f"flag needs an argument: {a}")
            value = items[i + 1]
            i += 2
        if kind == "list":
            values.setdefault(name, []).extend(v for v in value.split(",") if v)
        else:
            values[name] = value
    return Flags(values, positional)


# --------------------------------------------------------------------------------------------
# services and daemons


def service_argv(host: WindowsHost, svc: Service) -> list[str]:
    """argv of a service's process from its ImagePath: the SCM's own reading of the executable
    (quoted, or unquoted up to ``.exe``), then ``CommandLineToArgvW`` for the arguments."""
    exe = host.binary_of(svc)
    raw = svc.path.strip()
    rest = raw[len(exe) + 2 :] if raw.startswith('"') else raw[len(exe) :]
    return [exe, *cmdline.split("x " + rest)[1:]]


def binary_stamp(host: WindowsHost, path: str) -> Stamp | None:
    entry = host.get(path)
    if entry is None or entry.is_dir:
        return None
    return parse_stamp(entry.data)


def start_service_error(svc: Service) -> str:
    """What ``Start-Service`` reports when the SCM's StartService fails (1053, 1067, ...): the outer
    message only, the cause goes to the binary's log — exactly what an operator sees."""
    return (
        f"Service '{svc.display_name or svc.name} ({svc.name})' cannot be started due to the following "
        f"error: Cannot start service {svc.name} on computer '.'."
    )


# Win32 errors a service start ends with, and their FormatMessage text (sc.exe prints both).
WIN32_MESSAGES = {
    2: "The system cannot find the file specified.",
    5: "Access is denied.",
    1053: "The service did not respond to the start or control request in a timely fashion.",
    1056: "An instance of the service is already running.",
    1058: (
        "The service cannot be started, either because it is disabled or because it has no enabled "
        "devices associated with it."
    ),
    1060: "The specified service does not exist as an installed service.",
    1062: "The service has not been started.",
    1067: "The process terminated unexpectedly.",
    1072: "The specified service has been marked for deletion.",
    1073: "The specified service already exists.",
}


def service_failed(host: WindowsHost, svc: Service, win32: int, reason: str, log_file: str | None = None) -> str:
    """Record why a service's binary refused to run (for ``sc start``, the state dump and tests),
    write the reason to its log file if it has one, and return the Start-Service text."""
    host.extra.setdefault("service_failures", {})[svc.name.lower()] = {
        "win32_exit_code": win32,
        "reason": reason.rstrip("\n"),
    }
    svc.exit_code = win32
    try_append_log(host, log_file, reason if reason.endswith("\n") else reason + "\n")
    return start_service_error(svc)


def service_started(host: WindowsHost, svc: Service, daemon: dict[str, Any] | None) -> None:
    """Record a successful start: clear an old failure, remember what the daemon serves."""
    host.extra.setdefault("service_failures", {}).pop(svc.name.lower(), None)
    svc.exit_code = 0
    daemons = host.extra.setdefault("daemons", {})
    if daemon is None:
        daemons.pop(svc.name.lower(), None)
    else:
        daemons[svc.name.lower()] = daemon


def normalize_pipe(endpoint: str) -> str:
    r"""One spelling for a named pipe: ``npipe:////./pipe/x``, ``npipe://./pipe/x``, ``//./pipe/x``
    and ``\\.\pipe\x`` all become ``\\.\pipe\x`` (lower-case: pipe names are case-insensitive)."""
    e = endpoint.strip()
    if e.lower().startswith("npipe:"):
        e = e[len("npipe:") :]
    e = e.replace("/", "\\").lstrip("\\")
    return ("\\\\" + e).lower()


def running_daemons(host: WindowsHost) -> list[dict[str, Any]]:
    """Daemons whose service is running now: what their starter recorded when they started."""
    out = []
    for name, info in (host.extra.get("daemons") or {}).items():
        svc = host.service(name)
        if svc is not None and svc.state == "running":
            out.append({**info, "service": svc.name})
    return out


def daemon_on(host: WindowsHost, pipe: str) -> dict[str, Any] | None:
    """The running daemon listening on a pipe, or None (the pipe does not exist)."""
    want = normalize_pipe(pipe)
    for d in running_daemons(host):
        if want in d.get("pipes", []):
            return d
    return None


def getenv(host: WindowsHost, name: str) -> str | None:
    for k, v in host.environment().items():
        if k.lower() == name.lower():
            return v
    return None


def process_environment(host: WindowsHost, inherited: dict[str, str] | None) -> dict[str, str]:
    """The environment block of a process a module starts: the machine and user environment, then
    what the parent set for itself on top (same name, any case, replaced); an empty value removes
    the variable, as ``[Environment]::SetEnvironmentVariable(name, "")`` does."""
    env = host.environment()
    for name, value in (inherited or {}).items():
        for existing in [k for k in env if k.lower() == name.lower()]:
            del env[existing]
        if value != "":
            env[name] = value
    return env


def default_cwd(host: WindowsHost) -> str:
    """A WinRM shell starts in the user's profile directory."""
    return getenv(host, "USERPROFILE") or "C:\\Users\\Administrator"


def pid_for(name: str) -> int:
    """A stable fake process id per tool (for log headers)."""
    return 1000 + sum(map(ord, name)) * 4 % 8000
