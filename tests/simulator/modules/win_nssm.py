"""community.windows.win_nssm (win_nssm.ps1, a Legacy module that drives nssm.exe).

The emulation follows the ``.ps1`` step by step and runs every nssm command through the emulated
``nssm.exe`` (``executables/nssm.py``), as the module's ``Invoke-NssmCommand`` does with
``Argv-ToString`` + ``Run-Command``: ``executable`` is resolved like ``Get-ExecutablePath`` (an
existing path, else ``SearchPath``, whose failure is the module's uncaught exception). For an
existing service each setting is read with ``nssm get`` and written with ``nssm set`` (or ``reset``)
only when it differs (``Compare-Object``, case-insensitive), in the ``.ps1``'s order, always
including the log rotation settings the module forces (AppStdoutCreationDisposition 2, AppRotateFiles
1, AppRotateSeconds 86400, ...). In check mode nothing is set (``ShouldProcess``) but the reads run.
``state: started|stopped|restarted`` go through ``nssm status``/``start``/``stop``.
"""

from __future__ import annotations

from typing import Any

from tests.simulator.host import SimulatorError

from ._core import ModuleRun, emulates
from ._winutil import command_line_to_argv
from .argspec import SpecOverrides

_OVERRIDES = SpecOverrides(
    # win_nssm.ps1 reads `arguments` without -type (a string or a list, as the docs say), and reads
    # `app_environment` as -type "dict".
    options={"arguments": {"type": "raw"}},
)

_START_MODES = {
    "auto": "SERVICE_AUTO_START",
    "delayed": "SERVICE_DELAYED_AUTO_START",
    "manual": "SERVICE_DEMAND_START",
    "disabled": "SERVICE_DISABLED",
}


def escape_argument(argument: str, force_quote: bool = False) -> str:
    """Ansible.ModuleUtils.ArgvParser ``Escape-Argument`` (the C runtime rules)."""
    if not force_quote and argument and not any(c in argument for c in ' \n\t\v"'):
        return argument
    out = ['"']
    i = 0
    while i < len(argument):
        backslashes = 0
        while i != len(argument) - 1 and argument[i] == "\\":
            backslashes += 1
            i += 1
        char = argument[i]
        if i == len(argument) - 1 and char == "\\":
            out.append("\\" * (backslashes + 1) * 2)
        elif char == '"':
            out.append("\\" * (backslashes * 2 + 1) + char)
        else:
            out.append("\\" * backslashes + char)
        i += 1
    out.append('"')
    return "".join(out)


def argv_to_string(arguments: list[str]) -> str:
    """``Argv-ToString``: each argument escaped, joined with blanks."""
    return " ".join(escape_argument(a) for a in arguments)


class _Nssm:
    """Invoke-NssmCommand and the helpers of win_nssm.ps1 over one module run."""

    def __init__(self, run: ModuleRun, executable: str) -> None:
        self.run = run
        self.executable = executable
        self.diff_text = ""

    def command(self, *arguments: str) -> dict[str, Any]:
        from tests.simulator import executables

        host = self.run.host
        command = argv_to_string([self.executable, *arguments])
        argv = command_line_to_argv(command)
        # Get-ExecutablePath: ".exe" added to a bare name, an existing file taken as it is, else SearchPath.
        name = argv[0] if "." in argv[0].replace("/", "\\").rsplit("\\", 1)[-1] else argv[0] + ".exe"
        entry = host.get(name) if (len(name) > 1 and name[1] == ":") else None
        path = entry.path if entry is not None and not entry.is_dir else executables.resolve(host, name, None)
        if path is None:
            self.run.unhandled(
                f'Exception calling "SearchPath" with "1" argument(s): "Could not find file \'{name}\'."'
            )
        env = self.run.request.environment or None
        outcome = executables.run(host, [path, *argv[1:]], None, None, environment=env)
        if getattr(outcome, "win32_error", None) is not None:
            self.run.unhandled(f'Exception calling "CreateProcess": {outcome.stderr}')
        return {
            "executable": path,
            "stdout": outcome.stdout,
            "stderr": outcome.stderr,
            "rc": outcome.rc,
            "arguments": command,
        }

    def fail_with(self, result: dict[str, Any], message: str) -> None:
        self.run.fail(message, nssm_error_cmd=result["arguments"], nssm_error_log=result["stderr"])

    def update(self, service: str, parameter: str, values: list[str] | None) -> None:
        """Update-NssmServiceParameter with the default Compare-Object comparison."""
        if values is None:
            return
        wanted = [v for v in values if v != ""]
        got = self.command("get", service, parameter)
        if got["rc"] != 0:
            self.fail_with(got, f'Error retrieving {parameter} for service "{service}"')
        current = [line for line in got["stdout"].replace("\r", "\n").split("\n") if line != ""]
        # Compare-Object: no side indicator either way; it matches strings without case or order.
        if sorted(c.lower() for c in current) == sorted(w.lower() for w in wanted):
            return
        if not self.run.check_mode:
            result = (
                self.command("set", service, parameter, *wanted)
                if wanted
                else self.command("reset", service, parameter)
            )
            if result["rc"] != 0:
                self.fail_with(result, f'Error setting {parameter} for service "{service}"')
        self.diff_text += f"-{parameter} = {', '.join(current)}\n+{parameter} = {', '.join(wanted)}\n"
        self.run.result["changed_by"] = parameter
        self.run.result["changed"] = True

    def status(self, service: str, action: str) -> str:
        got = self.command("status", service)
        if got["rc"] != 0:
            self.fail_with(got, f'Error {action} service "{service}"')
        return str(got["stdout"])

    def control(self, verb: str, service: str) -> None:
        result = self.command(verb, service)
        if result["rc"] != 0:
            self.fail_with(result, f'Error {"starting" if verb == "start" else "stopping"} service "{service}"')

    def start(self, service: str) -> None:
        current = self.status(service, "starting")
        if "SERVICE_RUNNING" in current:
            return
        if not self.run.check_mode:
            if "SERVICE_STOPPED" in current:
                self.control("start", service)
            elif any(s in current for s in ("PENDING", "SERVICE_PAUSED")):
                self.control("stop", service)
                self.control("start", service)
        self.run.result["changed_by"] = "start_service"
        self.run.result["changed"] = True

    def stop(self, service: str) -> None:
        current = self.status(service, "stopping")
        if "SERVICE_STOPPED" in current:
            return
        if not self.run.check_mode:
            self.control("stop", service)
        self.run.result["changed_by"] = "stop_service"
        self.run.result["changed"] = True


@emulates("community.windows.win_nssm", _OVERRIDES)
def win_nssm(run: ModuleRun) -> None:
    host, p = run.host, run.params
    name, state, application = p["name"], p["state"], p["application"]
    if p["username"]:
        raise SimulatorError("win_nssm username/password (ObjectName) is not emulated")
    if state != "absent":
        if application is None:
            run.fail("The application parameter must be defined when the state is not absent.")
        entry = host.get(application)
        if entry is None or entry.is_dir:
            run.fail(f'The application specified "{application}" does not exist on the host.')
    nssm = _Nssm(run, p["executable"])
    exists = host.service(name) is not None  # Get-Service -Name
    if state == "absent":
        if exists:
            if not run.check_mode:
                svc = host.service(name)
                if svc is not None and svc.state != "stopped":
                    nssm.control("stop", name)
                removed = nssm.command("remove", name, "confirm")
                if removed["rc"] != 0:
                    nssm.fail_with(removed, f'Error removing service "{name}"')
            nssm.diff_text += f"-[{name}]"
            run.result.update(changed_by="remove_service", changed=True)
        _finish(run, nssm)
        return

    prefix = ""
    if not exists:
        if not run.check_mode:
            installed = nssm.command("install", name, application)
            if installed["rc"] != 0:
                nssm.fail_with(installed, f'Error installing service "{name}"')
            exists = True
        prefix = "+"
        run.result.update(changed_by="install_service", changed=True)
    nssm.diff_text += f"{prefix}[{name}]\n"
    if exists:  # a service created in check mode does not exist to be configured
        _configure(run, nssm, name, application)
    _finish(run, nssm)


def _configure(run: ModuleRun, nssm: _Nssm, name: str, application: str) -> None:
    p = run.params
    directory = p["working_directory"]
    if directory is None:
        entry = run.host.get(application)
        assert entry is not None  # checked before
        directory = entry.path.rsplit("\\", 1)[0]  # (Get-Item -LiteralPath $application).DirectoryName
    nssm.update(name, "Application", [application])
    nssm.update(name, "DisplayName", None if p["display_name"] is None else [p["display_name"]])
    nssm.update(name, "Description", None if p["description"] is None else [p["description"]])
    nssm.update(name, "AppDirectory", [directory])
    arguments = p["arguments"]
    if arguments is not None:
        single = argv_to_string([str(a) for a in arguments]) if isinstance(arguments, list) else str(arguments)
        run.result["nssm_app_parameters"] = arguments
        run.result["nssm_single_line_app_parameters"] = single
        nssm.update(name, "AppParameters", [single])
    nssm.update(name, "AppStdout", None if p["stdout_file"] is None else [p["stdout_file"]])
    nssm.update(name, "AppStderr", None if p["stderr_file"] is None else [p["stderr_file"]])
    if p["app_environment"] is not None:
        pairs = [f"{k}={v}" for k, v in p["app_environment"].items()]
        nssm.update(name, "AppEnvironmentExtra", pairs or [""])
    nssm.update(name, "AppStdoutCreationDisposition", ["2"])
    nssm.update(name, "AppStderrCreationDisposition", ["2"])
    nssm.update(name, "AppRotateFiles", ["1"])
    nssm.update(name, "AppRotateOnline", [str(p["app_rotate_online"])])
    nssm.update(name, "AppRotateSeconds", ["86400"])
    nssm.update(name, "AppRotateBytes", [str(p["app_rotate_bytes"])])
    nssm.update(name, "DependOnService", p["dependencies"])
    nssm.update(name, "Start", [_START_MODES[p["start_mode"]]])
    if p["state"] in ("stopped", "restarted"):
        nssm.stop(name)
    if p["state"] in ("started", "restarted"):
        nssm.start(name)
    if p["app_stop_method_console"] is not None:
        nssm.update(name, "AppStopMethodConsole", [str(p["app_stop_method_console"])])
    if p["app_stop_method_skip"] is not None:
        nssm.update(name, "AppStopMethodSkip", [str(p["app_stop_method_skip"])])


def _finish(run: ModuleRun, nssm: _Nssm) -> None:
    if run.diff_mode and run.result.get("changed"):
        run.result["diff"] = {"prepared": nssm.diff_text}
