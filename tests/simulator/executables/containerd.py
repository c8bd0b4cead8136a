r"""``containerd.exe`` (identified by its stamp) and the containerd service's start.

Emulated command lines (urfave/cli: global flags first):

* ``--version`` / ``-v`` — ``containerd <package> v<version> <revision>`` (GT §4.1, main.go).
* ``config default`` — the release's default config (``containerd_config``).
* ``--register-service`` [``--service-name N``] [other flags] — creates the service exactly as
  ``service_windows.go`` does: display name "Containerd", description "Container runtime",
  own process, automatic start, LocalSystem, ImagePath = quoted exe + ``--run-service`` + every
  other argument, recovery restart/15 s, restart/15 s, none, reset 86400 s; prints nothing. It
  first creates the root and state directories (GT §4.2).
* ``--unregister-service`` [``--service-name N``] — deletes it.

Errors are logrus ``level=fatal`` lines on stderr, exit 1 (GT §4.2 [RECONSTRUCTED]). Running the
daemon in the foreground, ``config dump``/``migrate`` and other forms fail loudly.

``starter`` runs when the SCM starts a containerd service: it must have ``--run-service``, its
config must parse and have a ``version`` this release reads; a missing config file is fine
(containerd then uses its defaults, as the real one does).
"""

from __future__ import annotations

import uuid

from tests.simulator.contract import ExecResult
from tests.simulator.executables import cmdline, sc
from tests.simulator.executables import containerd_config as cc
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
from tests.simulator.executables.stamp import Stamp
from tests.simulator.host import DiskFullError, Service, WindowsHost

FLAGS = {
    "config": "str",
    "log-level": "str",
    "address": "str",
    "root": "str",
    "state": "str",
    "log-file": "str",
    "log-format": "str",
    "register-service": "bool",
    "unregister-service": "bool",
    "run-service": "bool",
    "service-name": "str",
    "version": "bool",
    "help": "bool",
}
ALIASES = {"c": "config", "l": "log-level", "a": "address", "v": "version", "h": "help"}
SERVICE_SYSTEM_CWD = r"C:\Windows\System32"


def package(stamp: Stamp) -> str:
    return "github.com/containerd/containerd" + ("/v2" if stamp.major >= 2 else "")


def version_line(stamp: Stamp) -> str:
    return f"containerd {package(stamp)} v{stamp.version} {stamp.get('commit')}\n"


def _fatal(msg: str) -> ExecResult:
    return fail(1, logrus_line("fatal", msg))


def run(inv: Invocation) -> ExecResult:
    assert inv.stamp is not None
    try:
        flags = parse_flags(inv.args, FLAGS, ALIASES, interspersed=False)
    except FlagError as exc:
        return fail(1, f"containerd: flag provided but not defined: {exc}\n")
    if flags.get("version"):
        return ok(version_line(inv.stamp))
    if flags.positional[:2] == ["config", "default"] and len(flags.positional) == 2:
        return ok(cc.config_default(inv.stamp.version))
    if flags.positional:
        return not_emulated(inv)
    if flags.get("register-service") and flags.get("unregister-service"):
        return fail(
            1, "containerd: --register-service and --unregister-service cannot be used together: invalid argument\n"
        )
    if flags.get("register-service"):
        return _register(inv, flags.values)
    if flags.get("unregister-service"):
        return _unregister(inv, flags.values)
    if flags.get("run-service"):
        # Started from a console instead of by the SCM: svc.Run fails (ERROR_FAILED_SERVICE_CONTROLLER_CONNECT).
        return _fatal("The service process could not connect to the service controller.")
    return not_emulated(inv)  # the daemon in the foreground never returns to win_command


def _register(inv: Invocation, flags: dict[str, object]) -> ExecResult:
    host = inv.host
    name = str(flags.get("service-name") or "containerd")
    if name.lower() in (host.extra.get("sc_marked_for_deletion") or []):
        return _fatal("The specified service has been marked for deletion.")
    if host.services.get(name.lower()) is not None:
        return _fatal("The specified service already exists.")
    for d in (flags.get("root") or cc.DEFAULT_ROOT, flags.get("state") or cc.DEFAULT_STATE):
        try:
            host.mkdir(resolve_path(host, str(d), inv.cwd))
        except DiskFullError:
            return _fatal("There is not enough space on the disk.")
    # service_windows.go: args = ["--run-service"] + os.Args[1:] minus the (un)register flags;
    # mgr.CreateService joins syscall.EscapeArg(exepath) and each EscapeArg(arg).
    kept = [a for a in inv.args if a.split("=", 1)[0].lstrip("-") not in ("register-service", "unregister-service")]
    path = " ".join([cmdline.quote(inv.path), "--run-service", *(cmdline.quote(a) for a in kept)])
    host.services[name.lower()] = Service(
        name=name,
        display_name="Containerd",
        description="Container runtime",
        path=path,
        start_mode="auto",
        state="stopped",
        service_type="win32_own_process",
        username="LocalSystem",
        failure_actions=[
            {"type": "restart", "delay_ms": 15000},
            {"type": "restart", "delay_ms": 15000},
            {"type": "none", "delay_ms": 0},
        ],
        failure_reset_period=86400,
    )
    return ok()


def _unregister(inv: Invocation, flags: dict[str, object]) -> ExecResult:
    name = str(flags.get("service-name") or "containerd")
    code = sc.delete_service(inv.host, name)
    if code == 1060:
        return _fatal("The specified service does not exist as an installed service.")
    if code == 1072:
        return _fatal("The specified service has been marked for deletion.")
    return ok()


def starter(host: WindowsHost, svc: Service) -> str | None:
    """Whether the SCM's start of a containerd service succeeds, as the daemon would decide."""
    argv = service_argv(host, svc)
    stamp = binary_stamp(host, argv[0])
    if stamp is None or stamp.name != "containerd":
        return service_failed(host, svc, 1053, f"simulator: {argv[0]} is not a containerd binary")
    try:
        flags = parse_flags(argv[1:], FLAGS, ALIASES, interspersed=False).values
    except FlagError as exc:
        return service_failed(host, svc, 1067, f"containerd: flag provided but not defined: {exc}")
    log_file = resolve_path(host, str(flags["log-file"]), SERVICE_SYSTEM_CWD) if flags.get("log-file") else None
    if not flags.get("run-service"):
        # Without --run-service containerd runs as a console program and never reports
        # SERVICE_RUNNING: the SCM gives up after its timeout.
        return service_failed(
            host, svc, 1053, "containerd started by the SCM without --run-service did not report to it", log_file
        )
    config_path = resolve_path(host, str(flags.get("config") or cc.DEFAULT_CONFIG_PATH), SERVICE_SYSTEM_CWD)
    entry = host.get(config_path)
    try:
        loaded = cc.load(stamp.version, config_path, None if entry is None or entry.is_dir else entry.data)
    except cc.ConfigError as exc:
        return service_failed(host, svc, 1067, f"containerd: {exc}", log_file)
    address = str(flags.get("address") or loaded.address)
    other = daemon_on(host, address)
    if other is not None and other.get("service", "").lower() != svc.name.lower():
        reason = f"containerd: failed to get listener for main endpoint: open {address}: Access is denied."
        return service_failed(host, svc, 1067, reason, log_file)
    root = str(flags.get("root") or loaded.root)
    for d in (root, flags.get("state") or loaded.state):
        try:
            host.mkdir(resolve_path(host, str(d), SERVICE_SYSTEM_CWD))
        except DiskFullError:
            return service_failed(host, svc, 1067, "containerd: There is not enough space on the disk.", log_file)
    lines = [logrus_line("warning", w) for w in loaded.warnings]
    lines.append(logrus_line("info", "starting containerd", revision=stamp.get("commit"), version=f"v{stamp.version}"))
    lines.append(logrus_line("info", "serving...", address=address))
    lines.append(logrus_line("info", "containerd successfully booted in 0.052115s"))
    try_append_log(host, log_file, "".join(lines))
    service_started(
        host,
        svc,
        {
            "kind": "containerd",
            "version": stamp.version,
            "revision": stamp.get("commit"),
            # The daemon's UUID (what `ctr version` shows): real containerd keeps one per root; here it is
            # derived from the host and the root, so it is stable across restarts and upgrades.
            "uuid": str(
                uuid.uuid5(uuid.NAMESPACE_URL, f"winkube-sim://{host.name}/{flags.get('root') or loaded.root}")
            ),
            "binary": argv[0],
            "pipes": [normalize_pipe(address)],
            "address": address,
            "config_path": config_path,
            "config_version": loaded.version,
            "sandbox_image": loaded.sandbox_image,
            "log_file": log_file,
        },
    )
    return None
