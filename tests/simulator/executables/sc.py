r"""``C:\Windows\System32\sc.exe`` over the host's service table.

Emulated: ``create``, ``config``, ``failure``, ``failureflag``, ``description``, ``delete``,
``query``, ``queryex``, ``qc``, ``qfailure``, ``qfailureflag``, ``qdescription``, ``start``,
``stop``. Formats and error codes follow GT §6: output on **stdout** with CRLF line ends, the exit
code is the Win32 error (1060, 1073, ...). ``option= value`` pairs must be two arguments, as sc.exe
requires ("A space is required between the equal sign and the value"); a glued ``binPath=C:\x``
is a syntax error that prints the command's usage. Remote (``\\server``) forms fail loudly.

A service deleted while it runs is only *marked for deletion* (``sc create`` of the same name then
fails with 1072) and disappears once it is stopped — ``purge_deleted`` runs on every sc.exe call
and at boot.
"""

from __future__ import annotations

from tests.simulator.contract import ExecResult
from tests.simulator.executables.common import WIN32_MESSAGES, Invocation, not_emulated
from tests.simulator.host import Service, WindowsHost

CRLF = "\r\n"

# Usage texts print for a malformed command line; exit 1639 = ERROR_INVALID_COMMAND_LINE.
# [RECONSTRUCTED: sc.exe help as printed on Windows Server; not in GT]
CREATE_USAGE = """DESCRIPTION:
        Creates a service entry in the registry and Service Database.
USAGE:
        sc <server> create [service name] [binPath= ] <option1> <option2>...

OPTIONS:
NOTE: The option name includes the equal sign.
      A space is required between the equal sign and the value.
 type= <own|share|interact|kernel|filesys|rec|userown|usershare>
       (default = own)
 start= <boot|system|auto|demand|disabled|delayed-auto>
       (default = demand)
 error= <normal|severe|critical|ignore>
       (default = normal)
 binPath= <BinaryPathName to the .exe file>
 group= <LoadOrderGroup>
 tag= <yes|no>
 depend= <Dependencies(separated by / (forward slash))>
 obj= <AccountName|ObjectName>
       (default = LocalSystem)
 DisplayName= <display name>
 password= <password>
"""

CONFIG_USAGE = """DESCRIPTION:
        Modifies a service entry in the registry and Service Database.
USAGE:
        sc <server> config [service name] <option1> <option2>...

OPTIONS:
NOTE: The option name includes the equal sign.
      A space is required between the equal sign and the value.
      To remove the dependency, use a single / as dependency value.
 type= <own|share|interact|kernel|filesys|rec|adapt|userown|usershare>
 start= <boot|system|auto|demand|disabled|delayed-auto>
 error= <normal|severe|critical|ignore>
 binPath= <BinaryPathName to the .exe file>
 group= <LoadOrderGroup>
 tag= <yes|no>
 depend= <Dependencies(separated by / (forward slash))>
 obj= <AccountName|ObjectName>
 DisplayName= <display name>
 password= <password>
"""

FAILURE_USAGE = """DESCRIPTION:
        Changes the actions upon failure
USAGE:
        sc <server> failure [service name] <option1> <option2>...

OPTIONS:
        reset=   <Length of period of no failures (in seconds)
                  after which to reset the failure count to 0 (may be INFINITE)>
                  (Must be used in conjunction with actions= )
        reboot=  <Message broadcast before rebooting on failure>
        command= <Command line to be run on failure>
        actions= <Failure actions and their delay time (in milliseconds),
                  separated by / (forward slash) -- e.g., run/5000/reboot/800
                  Valid actions are <run|restart|reboot> >
                  (Must be used in conjunction with the reset= option)
"""

START_TYPES = {"auto": "auto", "demand": "manual", "disabled": "disabled", "delayed-auto": "delayed"}
SERVICE_TYPES = {"own": "win32_own_process", "share": "win32_share_process"}
STATE_NUM = {"stopped": 1, "start_pending": 2, "stop_pending": 3, "running": 4, "paused": 7}
FAILURE_ACTION_NAMES = {"restart": "RESTART", "run": "RUN PROCESS", "reboot": "REBOOT", "none": "NONE"}


def _out(lines: list[str]) -> str:
    return CRLF.join(lines) + CRLF


def _error(op: str, code: int) -> ExecResult:
    return ExecResult(rc=code, stdout=_out([f"[SC] {op} FAILED {code}:", "", WIN32_MESSAGES[code], ""]))


def _usage(text: str) -> ExecResult:
    return ExecResult(rc=1639, stdout=text.replace("\n", CRLF))


def _marked(host: WindowsHost) -> list[str]:
    return host.extra.setdefault("sc_marked_for_deletion", [])


def purge_deleted(host: WindowsHost) -> None:
    """Remove services that were deleted while running, once they are no longer running."""
    marked = _marked(host)
    for name in list(marked):
        svc = host.services.get(name)
        if svc is None or svc.state in ("stopped",):
            _drop(host, name)
            marked.remove(name)


def _drop(host: WindowsHost, key: str) -> None:
    host.services.pop(key, None)
    for bucket in ("daemons", "service_failures", "service_failure_config"):
        (host.extra.get(bucket) or {}).pop(key, None)


def _options(args: list[str]) -> dict[str, str] | None:
    """``name= value`` pairs (option names case-insensitive). None for a malformed line."""
    opts: dict[str, str] = {}
    i = 0
    while i < len(args):
        key = args[i]
        if not key.endswith("=") or i + 1 >= len(args):
            return None
        opts[key[:-1].lower()] = args[i + 1]
        i += 2
    return opts


def run(inv: Invocation) -> ExecResult:
    host = inv.host
    purge_deleted(host)
    args = inv.args
    if not args or args[0].startswith("\\\\"):
        return not_emulated(inv)
    cmd = args[0].lower()
    handler = COMMANDS.get(cmd)
    if handler is None:
        return not_emulated(inv)
    return handler(inv, args[1:])


# ------------------------------------------------------------------ create / config / delete


def _apply(svc: Service, opts: dict[str, str], inv: Invocation) -> ExecResult | None:
    """Apply create/config options to a service; an ExecResult when an option is not emulated."""
    for key, value in opts.items():
        if key == "binpath":
            svc.path = value
        elif key == "start":
            mode = START_TYPES.get(value.lower())
            if mode is None:
                return not_emulated(inv, f"sc.exe start= {value}")
            svc.start_mode = mode
        elif key == "type":
            stype = SERVICE_TYPES.get(value.lower())
            if stype is None:
                return not_emulated(inv, f"sc.exe type= {value}")
            svc.service_type = stype
        elif key == "displayname":
            svc.display_name = value
        elif key == "depend":
            svc.dependencies = [d for d in value.split("/") if d]
        elif key == "obj":
            svc.username = value
        elif key == "password":
            continue  # accepted and not kept: the simulator stores no credentials
        elif key == "error":
            if value.lower() != "normal":
                return not_emulated(inv, f"sc.exe error= {value}")
        else:
            return not_emulated(inv, f"sc.exe {key}=")
    return None


def _create(inv: Invocation, args: list[str]) -> ExecResult:
    host = inv.host
    if not args:
        return _usage(CREATE_USAGE)
    name, opts = args[0], _options(args[1:])
    if opts is None or "binpath" not in opts:
        return _usage(CREATE_USAGE)
    key = name.lower()
    if key in _marked(host):
        return _error("CreateService", 1072)
    if key in host.services or host.service(name) is not None:
        return _error("CreateService", 1073)
    svc = Service(name=name, display_name=name, start_mode="manual", service_type="win32_own_process")
    refused = _apply(svc, opts, inv)
    if refused is not None:
        return refused
    host.services[key] = svc
    return ExecResult(rc=0, stdout=_out(["[SC] CreateService SUCCESS"]))


def _lookup(inv: Invocation, name: str) -> Service | None:
    return inv.host.services.get(name.lower())


def _config(inv: Invocation, args: list[str]) -> ExecResult:
    if not args:
        return _usage(CONFIG_USAGE)
    opts = _options(args[1:])
    if opts is None or not opts:
        return _usage(CONFIG_USAGE)
    svc = _lookup(inv, args[0])
    if svc is None:
        return _error("OpenService", 1060)
    if "depend" in opts and opts["depend"] == "/":
        opts["depend"] = ""
    refused = _apply(svc, opts, inv)
    if refused is not None:
        return refused
    return ExecResult(rc=0, stdout=_out(["[SC] ChangeServiceConfig SUCCESS"]))


def delete_service(host: WindowsHost, name: str) -> int:
    """DeleteService: 0, 1060 (no such service) or 1072 (already marked). A running service is
    only marked; it goes when it stops (``purge_deleted``)."""
    svc = host.services.get(name.lower())
    if svc is None:
        return 1060
    key = svc.name.lower()
    if key in _marked(host):
        return 1072
    if svc.state == "stopped":
        _drop(host, key)
    else:
        _marked(host).append(key)
    return 0


def _delete(inv: Invocation, args: list[str]) -> ExecResult:
    if len(args) != 1:
        return not_emulated(inv)
    code = delete_service(inv.host, args[0])
    if code:
        return _error("OpenService" if code == 1060 else "DeleteService", code)
    return ExecResult(rc=0, stdout=_out(["[SC] DeleteService SUCCESS"]))


# ------------------------------------------------------------------ failure actions, description


def _failure_config(host: WindowsHost, svc: Service) -> dict[str, object]:
    return host.extra.setdefault("service_failure_config", {}).setdefault(
        svc.name.lower(), {"command": "", "reboot_message": "", "non_crash_failures": False}
    )


def _failure(inv: Invocation, args: list[str]) -> ExecResult:
    if not args:
        return _usage(FAILURE_USAGE)
    opts = _options(args[1:])
    if opts is None or not opts or any(k not in ("reset", "actions", "command", "reboot") for k in opts):
        return _usage(FAILURE_USAGE)
    svc = _lookup(inv, args[0])
    if svc is None:
        return _error("OpenService", 1060)
    if "actions" in opts:
        parts = opts["actions"].split("/")
        if len(parts) % 2:
            return _usage(FAILURE_USAGE)
        actions = []
        for raw_kind, delay in zip(parts[0::2], parts[1::2], strict=True):
            kind = raw_kind.strip('"').lower() or "none"
            if kind not in FAILURE_ACTION_NAMES or not delay.isdigit():
                return _usage(FAILURE_USAGE)
            actions.append({"type": kind, "delay_ms": int(delay)})
        svc.failure_actions = actions
    if "reset" in opts:
        value = opts["reset"]
        if value.upper() == "INFINITE":
            svc.failure_reset_period = 0xFFFFFFFF
        elif value.isdigit():
            svc.failure_reset_period = int(value)
        else:
            return _usage(FAILURE_USAGE)
    cfg = _failure_config(inv.host, svc)
    if "command" in opts:
        cfg["command"] = opts["command"]
    if "reboot" in opts:
        cfg["reboot_message"] = opts["reboot"]
    return ExecResult(rc=0, stdout=_out(["[SC] ChangeServiceConfig2 SUCCESS"]))


def _failureflag(inv: Invocation, args: list[str]) -> ExecResult:
    if not args or len(args) > 2 or (len(args) == 2 and args[1] not in ("0", "1")):
        return not_emulated(inv)
    svc = _lookup(inv, args[0])
    if svc is None:
        return _error("OpenService", 1060)
    _failure_config(inv.host, svc)["non_crash_failures"] = len(args) == 1 or args[1] == "1"
    return ExecResult(rc=0, stdout=_out(["[SC] ChangeServiceConfig2 SUCCESS"]))


def _description(inv: Invocation, args: list[str]) -> ExecResult:
    if len(args) < 2:
        return not_emulated(inv)
    svc = _lookup(inv, args[0])
    if svc is None:
        return _error("OpenService", 1060)
    svc.description = " ".join(args[1:])
    return ExecResult(rc=0, stdout=_out(["[SC] ChangeServiceConfig2 SUCCESS"]))


# ------------------------------------------------------------------ queries


def _type_word(svc: Service) -> str:
    return "20  WIN32_SHARE_PROCESS" if svc.service_type == "win32_share_process" else "10  WIN32_OWN_PROCESS"


def _state_block(svc: Service, *, ex: bool, state: str | None = None) -> list[str]:
    st = state or svc.state
    lines = [
        f"        TYPE               : {_type_word(svc)}  ",
        f"        STATE              : {STATE_NUM.get(st, 1)}  {st.upper()} ",
    ]
    if st in ("running", "stop_pending"):
        lines.append("                                (STOPPABLE, NOT_PAUSABLE, ACCEPTS_SHUTDOWN)")
    elif st == "start_pending":
        lines.append("                                (NOT_STOPPABLE, NOT_PAUSABLE, IGNORES_SHUTDOWN)")
    # A stopped service that never ran (or stopped cleanly) shows 1077 ERROR_SERVICE_NEVER_STARTED;
    # one whose process failed shows that error. [VERBATIM form, GT §6]
    code = svc.exit_code if st == "stopped" and svc.exit_code else (1077 if st == "stopped" else 0)
    lines += [
        f"        WIN32_EXIT_CODE    : {code}  (0x{code:x})",
        "        SERVICE_EXIT_CODE  : 0  (0x0)",
        "        CHECKPOINT         : 0x0",
        f"        WAIT_HINT          : {'0x7d0' if st == 'start_pending' else '0x0'}",
    ]
    if ex:
        lines += [f"        PID                : {svc.pid if st != 'stopped' else 0}", "        FLAGS              : "]
    return lines


def _query(inv: Invocation, args: list[str], ex: bool = False) -> ExecResult:
    host = inv.host
    if not args:
        # Enumeration of every Win32 service: blocks with DISPLAY_NAME lines.
        lines: list[str] = [""]
        for svc in sorted(host.services.values(), key=lambda s: s.name.lower()):
            if svc.state != "stopped":  # sc query lists active services by default
                lines += [f"SERVICE_NAME: {svc.name}", f"DISPLAY_NAME: {svc.display_name}"]
                lines += _state_block(svc, ex=ex)
                lines.append("")
        return ExecResult(rc=0, stdout=_out(lines))
    if len(args) != 1:
        return not_emulated(inv)
    svc = _lookup(inv, args[0])
    if svc is None:
        op = "EnumQueryServicesStatus:OpenService"
        return ExecResult(rc=1060, stdout=_out([f"[SC] {op} FAILED 1060:", "", WIN32_MESSAGES[1060], ""]))
    return ExecResult(rc=0, stdout=_out(["", f"SERVICE_NAME: {svc.name} ", *_state_block(svc, ex=ex), ""]))


def _queryex(inv: Invocation, args: list[str]) -> ExecResult:
    return _query(inv, args, ex=True)


def _start_type(svc: Service) -> str:
    return {
        "auto": "2   AUTO_START",
        "delayed": "2   AUTO_START  (DELAYED)",
        "manual": "3   DEMAND_START",
        "disabled": "4   DISABLED",
    }.get(svc.start_mode, "3   DEMAND_START")


def _qc(inv: Invocation, args: list[str]) -> ExecResult:
    if len(args) != 1:
        return not_emulated(inv)
    svc = _lookup(inv, args[0])
    if svc is None:
        return _error("OpenService", 1060)
    deps = svc.dependencies or [""]
    lines = [
        "[SC] QueryServiceConfig SUCCESS",
        "",
        f"SERVICE_NAME: {svc.name}",
        f"        TYPE               : {_type_word(svc)}",
        f"        START_TYPE         : {_start_type(svc)}",
        "        ERROR_CONTROL      : 1   NORMAL",
        f"        BINARY_PATH_NAME   : {svc.path}",
        "        LOAD_ORDER_GROUP   : ",
        "        TAG                : 0",
        f"        DISPLAY_NAME       : {svc.display_name}",
        f"        DEPENDENCIES       : {deps[0]}",
        *[f"                           : {d}" for d in deps[1:]],
        f"        SERVICE_START_NAME : {svc.username}",
    ]
    return ExecResult(rc=0, stdout=_out(lines))


def _qfailure(inv: Invocation, args: list[str]) -> ExecResult:
    if len(args) != 1:
        return not_emulated(inv)
    svc = _lookup(inv, args[0])
    if svc is None:
        return _error("OpenService", 1060)
    cfg = _failure_config(inv.host, svc)
    reset = "INFINITE" if svc.failure_reset_period == 0xFFFFFFFF else str(svc.failure_reset_period)
    lines = [
        "[SC] QueryServiceConfig2 SUCCESS",
        "",
        f"SERVICE_NAME: {svc.name}",
        f"        RESET_PERIOD (in seconds)    : {reset}",
        f"        REBOOT_MESSAGE               : {cfg['reboot_message']}",
        f"        COMMAND_LINE                 : {cfg['command']}",
    ]
    for i, action in enumerate(svc.failure_actions):
        word = FAILURE_ACTION_NAMES.get(str(action.get("type", "none")), "NONE")
        text = f"{word} -- Delay = {int(action.get('delay_ms', 0))} milliseconds."
        lines.append(("        FAILURE_ACTIONS              : " if i == 0 else " " * 39) + text)
    return ExecResult(rc=0, stdout=_out([*lines, ""]))


def _qfailureflag(inv: Invocation, args: list[str]) -> ExecResult:
    if len(args) != 1:
        return not_emulated(inv)
    svc = _lookup(inv, args[0])
    if svc is None:
        return _error("OpenService", 1060)
    flag = "TRUE" if _failure_config(inv.host, svc)["non_crash_failures"] else "FALSE"
    lines = [
        "[SC] QueryServiceConfig2 SUCCESS",
        "",
        f"SERVICE_NAME: {svc.name}",
        f"        FAILURE_ACTIONS_ON_NONCRASH_FAILURES: {flag}",
    ]
    return ExecResult(rc=0, stdout=_out(lines))


def _qdescription(inv: Invocation, args: list[str]) -> ExecResult:
    if len(args) != 1:
        return not_emulated(inv)
    svc = _lookup(inv, args[0])
    if svc is None:
        return _error("OpenService", 1060)
    lines = ["[SC] QueryServiceConfig2 SUCCESS", "", f"SERVICE_NAME: {svc.name}", f"DESCRIPTION:  {svc.description}"]
    return ExecResult(rc=0, stdout=_out(lines))


# ------------------------------------------------------------------ start / stop


def _start(inv: Invocation, args: list[str]) -> ExecResult:
    host = inv.host
    if len(args) != 1:
        return not_emulated(inv, "sc.exe start with service arguments")
    svc = _lookup(inv, args[0])
    if svc is None:
        return _error("OpenService", 1060)
    if svc.state == "running":
        return _error("StartService", 1056)
    if svc.start_mode == "disabled":
        return _error("StartService", 1058)
    err = host.start_service(svc.name)
    if err:
        failure = (host.extra.get("service_failures") or {}).get(svc.name.lower()) or {}
        code = int(failure.get("win32_exit_code", 1053))
        if code not in WIN32_MESSAGES:
            code = 1053
        return _error("StartService", code)
    return ExecResult(rc=0, stdout=_out(["", f"SERVICE_NAME: {svc.name} ", *_state_block(svc, ex=True), ""]))


def _stop(inv: Invocation, args: list[str]) -> ExecResult:
    host = inv.host
    if len(args) != 1:
        return not_emulated(inv)
    svc = _lookup(inv, args[0])
    if svc is None:
        return _error("OpenService", 1060)
    if svc.state != "running":
        return _error("ControlService", 1062)
    dependents = [
        s
        for s in host.services.values()
        if s.state == "running" and any(d.lower() == svc.name.lower() for d in s.dependencies)
    ]
    if dependents:
        return ExecResult(
            rc=1051,
            stdout=_out(
                [
                    "[SC] ControlService FAILED 1051:",
                    "",
                    "A stop control has been sent to a service that other running services are dependent on.",
                    "",
                ]
            ),
        )
    block = _state_block(svc, ex=False, state="stop_pending")
    host.stop_service(svc.name)
    purge_deleted(host)
    return ExecResult(rc=0, stdout=_out(["", f"SERVICE_NAME: {svc.name} ", *block, ""]))


COMMANDS = {
    "create": _create,
    "config": _config,
    "delete": _delete,
    "failure": _failure,
    "failureflag": _failureflag,
    "description": _description,
    "query": _query,
    "queryex": _queryex,
    "qc": _qc,
    "qfailure": _qfailure,
    "qfailureflag": _qfailureflag,
    "qdescription": _qdescription,
    "start": _start,
    "stop": _stop,
}
