r"""``nssm.exe`` (stamp ``nssm``), the Non-Sucking Service Manager 2.24, and the services it runs.

The command line (nssm.cc README "Managing services using the command line"; sources
service.cpp ``pre_install_service``/``pre_edit_service``/``control_service``/``remove_service``,
settings.cpp, messages.mc, as of 2.24):

* ``install <service> <app> [<args>...]`` creates an own-process, auto-start service whose
  ImagePath is nssm.exe itself and writes ``Application``, ``AppParameters`` (the arguments joined
  with blanks), ``AppDirectory`` (the application's folder) and the default ``AppExit`` action
  ``Restart`` under ``HKLM:\SYSTEM\CurrentControlSet\Services\<service>\Parameters``;
* ``get|set|reset <service> <parameter> [<value>...]`` for the App* parameters (registry values
  under ``Parameters``; a DWORD set to its default, or a reset, deletes the value) and the native
  ones (``Description``, ``DisplayName``, ``DependOnService``, ``Start``, ``ObjectName``,
  ``ImagePath``, ``Name``, ``Type``: the SCM configuration); ``set`` joins its values with blanks
  (CRLF for the environment lists);
* ``status``, ``start``, ``stop``, ``restart`` and ``remove <service> confirm``.

Messages are messages.mc's English texts with CRLF (FormatMessage), exit codes those of the source
(3: the service cannot be opened, 5/6: a failed create or set, 100: remove without ``confirm``).
Known 2.24 parameters the simulator does not model (AppAffinity, AppPriority, AppEnvironment,
hooks, ObjectName with a password, ...) fail loudly.

A service run by nssm (``starter``): nssm reads its parameters when the service starts (ChangeLog
2.8: "Read Application, AppDirectory and AppParameters before each restart"), opens ``AppStdout``
/``AppStderr`` first (their folder must exist: NSSM_EVENT_GET_OUTPUT_HANDLES_FAILED), then starts
the application as a console program with the service's environment plus ``AppEnvironmentExtra``.
What the application does is its own emulation (``APPLICATIONS``: cri-dockerd); any other
application fails loudly. When the application exits at once, real nssm keeps the service in
SERVICE_PAUSED while it throttles restarts; the simulator reports the start as failed instead, so
the caller sees it at once, and keeps the application's reason (``service_failures``).

Not modelled: nssm.cc's note that 2.24 services may fail to start on Windows 10 Creators Update
and later unless ``AppNoConsole`` is 1 (2017-04-26; quoted in saltstack/salt-windows-msi#18):
when it bites on Server builds is not established, so the simulator only records AppNoConsole in
the daemon record (``nssm_app_no_console``) for tests to check.
"""

from __future__ import annotations

from collections.abc import Callable

from tests.simulator.contract import ExecResult
from tests.simulator.executables import cmdline, docker, sc
from tests.simulator.executables.common import (
    WIN32_MESSAGES,
    Invocation,
    binary_stamp,
    fail,
    not_emulated,
    ok,
    service_argv,
    service_failed,
)
from tests.simulator.host import Service, WindowsHost

SERVICES_KEY = r"HKLM:\SYSTEM\CurrentControlSet\Services"
NSSM = "NSSM"

# App* parameters of 2.24 modelled here: name -> (registry kind, default). A DWORD equal to its
# default is deleted on set (settings.cpp setting_set_number); strings default to "".
DWORD_DEFAULTS: dict[str, int] = {
    # nssm.h: FILE_SHARE_WRITE, OPEN_EXISTING for stdin; FILE_SHARE_READ|WRITE, OPEN_ALWAYS for
    # stdout/stderr; FILE_ATTRIBUTE_NORMAL (128) for all three.
    "AppStdinShareMode": 2,
    "AppStdinCreationDisposition": 3,
    "AppStdinFlagsAndAttributes": 128,
    "AppStdoutShareMode": 3,
    "AppStdoutCreationDisposition": 4,
    "AppStdoutFlagsAndAttributes": 128,
    "AppStderrShareMode": 3,
    "AppStderrCreationDisposition": 4,
    "AppStderrFlagsAndAttributes": 128,
    "AppStopMethodSkip": 0,
    "AppStopMethodConsole": 1500,
    "AppStopMethodWindow": 1500,
    "AppStopMethodThreads": 1500,
    "AppThrottle": 1500,
    "AppRestartDelay": 0,
    "AppRotateFiles": 0,
    "AppRotateOnline": 0,
    "AppRotateSeconds": 0,
    "AppRotateBytes": 0,
    "AppRotateBytesHigh": 0,
    "AppNoConsole": 0,
}
STRINGS = ("Application", "AppParameters", "AppDirectory", "AppStdin", "AppStdout", "AppStderr")
ENVIRONMENTS = ("AppEnvironmentExtra",)
NATIVE = ("Description", "DisplayName", "DependOnService", "Start", "ObjectName", "ImagePath", "Name", "Type")
# Known to 2.24 and not modelled: refused loudly rather than guessed.
NOT_MODELLED = ("AppExit", "AppAffinity", "AppPriority", "AppEnvironment", "DependOnGroup")
PARAMETERS = (*STRINGS, *ENVIRONMENTS, *DWORD_DEFAULTS, *NATIVE, *NOT_MODELLED)

# settings.cpp startup_strings, in NSSM_STARTUP_* order.
STARTUP = {
    "SERVICE_AUTO_START": "auto",
    "SERVICE_DELAYED_AUTO_START": "delayed",
    "SERVICE_DEMAND_START": "manual",
    "SERVICE_DISABLED": "disabled",
}
STATUS = {
    "stopped": "SERVICE_STOPPED",
    "start_pending": "SERVICE_START_PENDING",
    "stop_pending": "SERVICE_STOP_PENDING",
    "running": "SERVICE_RUNNING",
    "continue_pending": "SERVICE_CONTINUE_PENDING",
    "pause_pending": "SERVICE_PAUSE_PENDING",
    "paused": "SERVICE_PAUSED",
}
SUCCESS = "The operation completed successfully.\r\n"
NO_SERVICE = "The specified service does not exist as an installed service.\r\n"

# What an application does when nssm starts it: (host, service, argv, log file) -> None once it
# runs, else the reason it exited. The argv is the Application and its split AppParameters.
Application = Callable[[WindowsHost, Service, list[str], "str | None"], "str | None"]
APPLICATIONS: dict[str, Application] = {"cri-dockerd.exe": docker.cri_dockerd_app}


def parameters_key(service: str) -> str:
    return rf"{SERVICES_KEY}\{service}\Parameters"


def _crlf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


def _open_failed() -> ExecResult:
    """open_service(): NSSM_MESSAGE_OPENSERVICE_FAILED with the Win32 text, exit 3."""
    return fail(3, "Can't open service!\r\nOpenService(): " + NO_SERVICE)


def run(inv: Invocation) -> ExecResult:
    if inv.stamp is None or inv.stamp.name != "nssm":
        return not_emulated(inv)
    if not inv.args:
        return not_emulated(inv, "nssm.exe without arguments (the GUI)")
    verb, rest = inv.args[0].lower(), inv.args[1:]
    if verb == "install":
        return _install(inv, rest)
    if verb in ("get", "set", "reset", "unset"):
        return _edit(inv, verb, rest)
    if verb in ("start", "stop", "restart", "status"):
        return _control(inv, verb, rest)
    if verb == "remove":
        return _remove(inv, rest)
    return not_emulated(inv)


# ------------------------------------------------------------------ install / remove


def _install(inv: Invocation, args: list[str]) -> ExecResult:
    if len(args) < 2:
        return not_emulated(inv, "nssm.exe install without <servicename> <app> (the GUI)")
    host = inv.host
    name, app, flags = args[0], args[1], args[2:]
    if host.service(name) is not None or name.lower() in sc._marked(host):
        code = 1073 if host.service(name) is not None else 1072
        return fail(5, f"Error creating service!\r\nCreateService(): {WIN32_MESSAGES[code]}\r\n")
    # GetModuleFileName: the ImagePath is nssm.exe's own full path, without arguments.
    host.services[name.lower()] = Service(
        name=name, display_name=name, path=inv.path, start_mode="auto", service_type="win32_own_process"
    )
    key = parameters_key(name)
    host.set_reg(key, "Application", "ExpandString", app)
    host.set_reg(key, "AppParameters", "ExpandString", " ".join(flags))
    host.set_reg(key, "AppDirectory", "ExpandString", app.replace("/", "\\").rsplit("\\", 1)[0] if "\\" in app else "")
    host.set_reg(key + r"\AppExit", "", "String", "Restart")
    return ok(f'Service "{name}" installed successfully!\r\n')


def _remove(inv: Invocation, args: list[str]) -> ExecResult:
    if len(args) < 2 or args[1].lower() != "confirm":
        if not args:
            return not_emulated(inv, "nssm.exe remove without <servicename> (the GUI)")
        return fail(100, "To remove a service without confirmation: nssm remove <servicename> confirm\r\n")
    host = inv.host
    svc = host.service(args[0])
    if svc is None:
        return _open_failed()
    name = svc.name
    code = sc.delete_service(host, name)
    if code:
        return fail(4, "Error deleting service!\r\n")
    if host.service(name) is None:  # gone now (it was stopped); a running one goes when it stops
        host.delete_reg(parameters_key(name))
    return ok(f'Service "{name}" removed successfully!\r\n')


# ------------------------------------------------------------------ get / set / reset


def _canonical(parameter: str) -> str | None:
    return next((p for p in PARAMETERS if p.lower() == parameter.lower()), None)


def _invalid_parameter(parameter: str) -> ExecResult:
    listing = "".join(f"{p}\r\n" for p in PARAMETERS)
    return fail(1, f'Invalid parameter "{parameter}".  Valid parameters are:\r\n{listing}')


def _is_nssm_service(host: WindowsHost, svc: Service) -> bool:
    value = host.get_reg(parameters_key(svc.name), "Application")
    return value is not None and bool(value[1])


def _edit(inv: Invocation, verb: str, args: list[str]) -> ExecResult:
    mode = "reset" if verb == "unset" else verb
    needed = {"get": 2, "set": 3, "reset": 2}[mode]
    if len(args) < needed:
        return not_emulated(inv, f"nssm.exe {verb} with too few arguments (usage)")
    host = inv.host
    svc = host.service(args[0])
    parameter = _canonical(args[1])
    if parameter is None:
        return _invalid_parameter(args[1])
    if svc is None:
        return _open_failed()
    values = args[2:]
    if parameter in NOT_MODELLED or (parameter == "ObjectName" and mode == "set" and values[:1] != ["LocalSystem"]):
        return not_emulated(inv, f"nssm.exe {verb} {parameter}")
    if parameter not in NATIVE and not _is_nssm_service(host, svc):
        return fail(1, f'Parameter "{parameter}" is only valid for services managed by {NSSM}!\r\n')
    if mode == "get":
        if values:
            return not_emulated(inv, f"nssm.exe get {parameter} with a subparameter")
        return ok(_get(host, svc, parameter) + "\r\n")
    return _set(host, svc, parameter, values if mode == "set" else None)


def _get(host: WindowsHost, svc: Service, parameter: str) -> str:
    if parameter in NATIVE:
        return _get_native(svc, parameter)
    value = host.get_reg(parameters_key(svc.name), parameter)
    if parameter in DWORD_DEFAULTS:
        return str(DWORD_DEFAULTS[parameter] if value is None else int(value[1]))
    if parameter in ENVIRONMENTS:
        return "" if value is None else "\r\n".join(value[1])
    return "" if value is None else str(value[1])


def _get_native(svc: Service, parameter: str) -> str:
    if parameter == "Start":
        return next(k for k, v in STARTUP.items() if v == svc.start_mode)
    if parameter == "DependOnService":
        return "\r\n".join(svc.dependencies)
    if parameter == "ObjectName":
        return svc.username
    if parameter == "Type":
        return "SERVICE_WIN32_OWN_PROCESS" if svc.service_type == "win32_own_process" else "SERVICE_WIN32_SHARE_PROCESS"
    return {"Description": svc.description, "DisplayName": svc.display_name, "ImagePath": svc.path, "Name": svc.name}[
        parameter
    ]


def _set(host: WindowsHost, svc: Service, parameter: str, values: list[str] | None) -> ExecResult:
    """set_setting(): 1 prints "Set parameter", 0 (the default again) "Reset parameter", -1 fails (6)."""
    result = (
        _set_native(host, svc, parameter, values) if parameter in NATIVE else _set_app(host, svc, parameter, values)
    )
    if isinstance(result, ExecResult):
        return result
    if result:
        return ok(f'Set parameter "{parameter}" for service "{svc.name}".\r\n')
    return ok(f'Reset parameter "{parameter}" for service "{svc.name}" to its default.\r\n')


def _set_failed(svc: Service, parameter: str, why: str = "") -> ExecResult:
    return fail(6, why + f'Error setting parameter "{parameter}" for service "{svc.name}"!\r\n')


def _set_app(host: WindowsHost, svc: Service, parameter: str, values: list[str] | None) -> bool | ExecResult:
    key = parameters_key(svc.name)
    if parameter in DWORD_DEFAULTS:
        if values is None:
            host.delete_reg(key, parameter)
            return False
        text = " ".join(values)
        if not text.isdigit():  # str_number() accepts unsigned decimal numbers only
            return _set_failed(svc, parameter)
        number = int(text)
        if number == DWORD_DEFAULTS[parameter]:
            host.delete_reg(key, parameter)
            return False
        host.set_reg(key, parameter, "DWord", number)
        return True
    if parameter in ENVIRONMENTS:
        if not values or not "".join(values):
            host.delete_reg(key, parameter)
            return False
        if any("=" not in v for v in values):
            return _set_failed(svc, parameter, "Environment should comprise strings of the form KEY=VALUE.\r\n")
        host.set_reg(key, parameter, "MultiString", list(values))
        return True
    if values is None:
        host.delete_reg(key, parameter)
        return False
    host.set_reg(key, parameter, "ExpandString", " ".join(values))
    return True


def _set_native(host: WindowsHost, svc: Service, parameter: str, values: list[str] | None) -> bool | ExecResult:
    text = None if values is None else " ".join(values)
    if parameter in ("Name", "ImagePath", "Type"):
        return fail(1, f"simulator: nssm.exe set {parameter} is not emulated\r\n")
    if parameter == "Start":
        if text is None:
            return _set_failed(svc, parameter, f'Parameter "{parameter}" has no meaningful default value!\r\n')
        mode = next((v for k, v in STARTUP.items() if k.lower() == text.lower()), None)
        if mode is None:
            listing = "".join(f"{k}\r\n" for k in STARTUP)
            return _set_failed(svc, parameter, f'Invalid startup type "{text}".  Valid types are:\r\n{listing}')
        svc.start_mode = mode
        return True
    if parameter == "DependOnService":
        svc.dependencies = list(values or [])
        return bool(svc.dependencies)
    if parameter == "Description":
        svc.description = text or ""
        return bool(text)
    if parameter == "DisplayName":
        svc.display_name = text or svc.name
        # native_set_displayname: a display name equal to the service name (any case) is a reset.
        return bool(text) and text.lower() != svc.name.lower()
    # ObjectName LocalSystem (anything else was refused as not modelled)
    svc.username = "LocalSystem"
    return False


# ------------------------------------------------------------------ control


def _control(inv: Invocation, verb: str, args: list[str]) -> ExecResult:
    if len(args) != 1:
        return not_emulated(inv)
    host = inv.host
    svc = host.service(args[0])
    if svc is None:
        return _open_failed()
    if verb == "status":
        return ok(STATUS[svc.state] + "\r\n")
    if verb in ("stop", "restart"):
        if svc.state == "stopped":
            if verb == "stop":
                # ControlService fails with ERROR_SERVICE_NOT_ACTIVE; nssm treats that as done (exit 0).
                return ExecResult(0, "", f"{svc.name}: STOP: The service has not been started.\r\n")
        else:
            host.stop_service(svc.name)
            if verb == "stop":
                return ok(f"{svc.name}: STOP: {SUCCESS}")
    if svc.state == "running":
        # StartService on a running service: ERROR_SERVICE_ALREADY_RUNNING.
        return fail(1, f"{svc.name}: START: An instance of the service is already running.\r\n")
    error = host.start_service(svc.name)
    if error:
        status = STATUS.get(svc.state, "SERVICE_STOPPED")
        return fail(1, f"{svc.name}: Unexpected status {status} in response to START control.\r\n")
    return ok(f"{svc.name}: START: {SUCCESS}")


# ------------------------------------------------------------------ the service process


def _value(host: WindowsHost, svc: Service, name: str) -> str:
    value = host.get_reg(parameters_key(svc.name), name)
    return "" if value is None else str(value[1])


def starter(host: WindowsHost, svc: Service) -> str | None:
    """The SCM starts nssm.exe, which starts the Application (see the module docstring)."""
    argv = service_argv(host, svc)
    stamp = binary_stamp(host, argv[0])
    if stamp is None or stamp.name != "nssm":
        return service_failed(host, svc, 1053, f"simulator: {argv[0]} is not an nssm binary")
    application = _value(host, svc, "Application")
    if not application:
        # [RECONSTRUCTED] NSSM_EVENT_NO_EXE-style event: the service has nothing to run.
        return service_failed(host, svc, 1067, f"Registry key Application is unset for service {svc.name}.")
    for stream in ("AppStdout", "AppStderr"):
        path = _value(host, svc, stream)
        if path and not host.isdir(path.replace("/", "\\").rsplit("\\", 1)[0]):
            return service_failed(
                host,
                svc,
                1067,
                f"CreateFile() failed to open {path}:\r\nThe system cannot find the path specified.\r\n"
                f"Error setting up one or more I/O filehandles.  Service {svc.name} will not be started.",
            )
    if not host.exists(application):
        return service_failed(
            host,
            svc,
            1067,
            f"Failed to start service {svc.name}.  Program {application} couldn't be launched.\r\n"
            "CreateProcess() failed: The system cannot find the file specified.",
        )
    app_argv = cmdline.split(cmdline.quote(application) + " " + _value(host, svc, "AppParameters"))
    launch = APPLICATIONS.get(host.get(application).path.rsplit("\\", 1)[-1].lower())  # type: ignore[union-attr]
    if launch is None:
        return service_failed(host, svc, 1067, f"simulator: the application {application} run by nssm is not emulated")
    log_file = _value(host, svc, "AppStderr") or None
    reason = launch(host, svc, app_argv, log_file)
    if reason is not None:
        return service_failed(host, svc, 1067, f"{application} exited: {reason}")
    daemon = (host.extra.get("daemons") or {}).get(svc.name.lower())
    if daemon is not None:
        daemon["nssm_version"] = stamp.version
        daemon["nssm_app_no_console"] = int(_get(host, svc, "AppNoConsole"))
        extra = host.get_reg(parameters_key(svc.name), "AppEnvironmentExtra")
        daemon["nssm_environment_extra"] = list(extra[1]) if extra else []
    return None
