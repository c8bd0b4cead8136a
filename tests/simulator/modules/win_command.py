"""ansible.windows.win_command (win_command.ps1) and win_shell (win_shell.ps1).

win_command takes the command line as win_command.ps1 builds it (``cmd``/``_raw_params`` as given,
``argv`` escaped with ``ConvertTo-EscapedArgument`` after the program is resolved), splits it with
the ``CommandLineToArgvW`` rules and runs it through ``executables.run(host, argv, stdin, chdir)``,
which resolves the program like ``Resolve-ExecutablePath``/``CreateProcess`` and emulates the binary
itself; a program that cannot be started comes back as ``executables.StartFailure`` and becomes the
module's "Failed to run: ..." failure. ``stdout_lines``/``stderr_lines`` are not part of the
module's output: ansible-core's ActionBase adds them on the controller.

win_shell would run arbitrary PowerShell or cmd code, which cannot be emulated in general: a
command runs only when a handler is registered for it in ``SHELL_COMMANDS`` (exact text or a
regex), else the module fails loudly naming the command.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from tests.simulator.contract import ExecResult
from tests.simulator.host import WindowsHost

from ._core import ModuleRun, emulates
from ._scripts import ScriptRegistry, first_line
from ._winutil import command_line_to_argv, escape_argument, timespan, utc_stamp
from .argspec import SpecOverrides

_OVERRIDES = SpecOverrides(
    # win_command.ps1 $spec: required_one_of and mutually_exclusive over the three ways to give a command.
    required_one_of=[["_raw_params", "argv", "cmd"]],
    mutually_exclusive=[["_raw_params", "argv", "cmd"]],
)


def run_executable(
    host: WindowsHost,
    argv: list[str],
    stdin: bytes | None,
    chdir: str | None,
    environment: dict[str, str] | None = None,
) -> ExecResult:
    """Run a simulated binary (piece C's ``tests.simulator.executables.run``); imported on first use
    so this package does not depend on it at import time. Tests may replace this function.
    ``environment`` is the task's ``environment:``: win_command.ps1 starts the process without an
    environment of its own (Start-AnsibleWindowsProcess without -Environment), so it inherits the
    module's process environment, where module_wrapper.ps1 put those variables."""
    from tests.simulator import executables

    return executables.run(host, argv, stdin, chdir, environment=environment)


def resolve_executable(host: WindowsHost, name: str, chdir: str | None) -> str | None:
    """Resolve-ExecutablePath, for the ``cmd`` win_command reports in ``argv`` mode (the process
    itself is resolved again by ``executables.run``, as Start-AnsibleWindowsProcess does)."""
    from tests.simulator import executables

    return executables.resolve(host, name, chdir)


def _test_path(host: WindowsHost, path: str) -> bool:
    """Test-AnsiblePath (file or directory)."""
    try:
        return host.exists(path)
    except Exception:
        return False


@emulates("ansible.windows.win_command", _OVERRIDES)
def win_command(run: ModuleRun) -> None:
    host, p = run.host, run.params
    chdir = p["chdir"]
    if p["cmd"]:
        command_line = p["cmd"]
        argv = command_line_to_argv(command_line)
    elif p["_raw_params"]:
        command_line = p["_raw_params"].strip()
        argv = command_line_to_argv(command_line)
    else:
        argv = list(p["argv"])
        resolved = resolve_executable(host, argv[0], chdir) or argv[0]
        command_line = " ".join([escape_argument(resolved), *(escape_argument(a) for a in argv[1:])])
    run.result["cmd"] = command_line
    run.result["rc"] = 0
    if p["creates"] and _test_path(host, p["creates"]):
        run.result["msg"] = f"skipped, since {p['creates']} exists"
        run.result["skipped"] = True
        return
    if p["removes"] and not _test_path(host, p["removes"]):
        run.result["msg"] = f"skipped, since {p['removes']} does not exist"
        run.result["skipped"] = True
        return
    if chdir and not _test_path(host, chdir):
        # Start-AnsibleWindowsProcess's Write-Error, caught by win_command.ps1 (no NativeErrorCode: rc 2).
        run.result["rc"] = 2
        run.fail(f"Failed to run: '{command_line}': Could not find specified -WorkingDirectory '{chdir}'")
    start = datetime.datetime.now(datetime.UTC)
    stdin = p["stdin"].encode("utf-8") if p["stdin"] else None
    # The task environment is handed over only when the task sets one, so a runner written for the
    # four-argument form (tests replace run_executable) keeps working.
    env = run.request.environment
    outcome = run_executable(host, argv, stdin, chdir, env) if env else run_executable(host, argv, stdin, chdir)
    end = datetime.datetime.now(datetime.UTC)
    win32_error = getattr(outcome, "win32_error", None)
    if win32_error is not None:
        # executables.StartFailure: CreateProcessW failed; rc is its NativeErrorCode.
        run.result["rc"] = win32_error
        run.fail(f"Failed to run: '{command_line}': {outcome.stderr}")
    run.result.update(
        changed=True,
        stdout=outcome.stdout,
        stderr=outcome.stderr,
        rc=outcome.rc,
        start=utc_stamp(start),
        end=utc_stamp(end),
        delta=timespan(end - start),
    )
    if outcome.rc != 0:
        run.fail("non-zero return code")


# --------------------------------------------------------------------------------------------
# win_shell


ShellHandler = Callable[[WindowsHost, dict[str, Any]], ExecResult]

SHELL_COMMANDS: ScriptRegistry[ShellHandler] = ScriptRegistry("win_shell")

_SHELL_OVERRIDES = SpecOverrides(
    # win_shell.ps1 reads the free-form command as `_raw_params` (-failifempty); `free_form` is only
    # the documentation's name for it.
    options={"_raw_params": {"type": "str", "required": True}},
    drop_options=("free_form",),
)


@emulates("ansible.windows.win_shell", _SHELL_OVERRIDES)
def win_shell(run: ModuleRun) -> None:
    host, p = run.host, run.params
    command = p["_raw_params"].strip()
    run.result.update(changed=True, cmd=command)
    if p["creates"] and _test_path(host, p["creates"]):
        run.result = {
            "msg": f"skipped, since {p['creates']} exists",
            "cmd": command,
            "changed": False,
            "skipped": True,
            "rc": 0,
        }
        return
    if p["removes"] and not _test_path(host, p["removes"]):
        run.result = {
            "msg": f"skipped, since {p['removes']} does not exist",
            "cmd": command,
            "changed": False,
            "skipped": True,
            "rc": 0,
        }
        return
    handler = SHELL_COMMANDS.find(command)
    if handler is None:
        run.result.update(changed=False, rc=1)
        run.fail(
            f"simulator: win_shell command not emulated (register a handler in SHELL_COMMANDS): {first_line(command)!r}"
        )
    start = datetime.datetime.now(datetime.UTC)
    outcome = handler(host, dict(p))
    end = datetime.datetime.now(datetime.UTC)
    run.result.update(
        stdout=outcome.stdout,
        stderr=outcome.stderr,
        rc=outcome.rc,
        start=utc_stamp(start),
        end=utc_stamp(end),
        delta=timespan(end - start),
    )
    if outcome.rc != 0:
        run.fail("non-zero return code")
