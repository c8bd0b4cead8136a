r"""``cmd.exe`` and the System32 tools the simulator knows by path but does not emulate.

``cmd.exe /c <command line>`` runs a single program (through the same resolution as
``win_command``), ``echo`` and ``ver``. Operators (``&``, ``|``, ``<``, ``>``) and every other
builtin fail loudly. ``shutdown.exe`` and ``netsh.exe`` are recognised and fail loudly for every
argument (``wevtutil.exe`` has its own module): reboots go through ``win_reboot`` (transport
layer), firewall rules through ``win_firewall_rule``; no emulated output is better than an invented one.
"""

from __future__ import annotations

from tests.simulator.contract import ExecResult
from tests.simulator.executables import cmdline
from tests.simulator.executables.common import Invocation, fail, not_emulated, ok

_OPERATORS = ("&", "|", "<", ">", "^")


def run_unemulated(inv: Invocation) -> ExecResult:
    return not_emulated(inv)


def run_cmd(inv: Invocation) -> ExecResult:
    args = list(inv.args)
    while args and args[0].lower() in ("/s", "/q", "/d"):
        args.pop(0)
    if not args or args[0].lower() not in ("/c", "/k"):
        return not_emulated(inv)
    if args[0].lower() == "/k":
        return not_emulated(inv)  # /k keeps an interactive shell open
    line = " ".join(cmdline.quote(a) if " " in a else a for a in args[1:]).strip()
    if len(line) >= 2 and line.startswith('"') and line.endswith('"') and line.count('"') == 2:
        line = line[1:-1]
    if any(op in line for op in _OPERATORS):
        return not_emulated(inv, f"cmd.exe /c {line} (command operators)")
    if not line:
        return ok()
    first, _, rest = line.partition(" ")
    word = first.lower()
    if word == "echo":
        return ok(rest + "\r\n")
    if word == "ver":
        return ok(f"\r\nMicrosoft Windows [Version 10.0.{inv.host.build}.{inv.host.revision}]\r\n")
    from tests.simulator.executables import StartFailure, run

    argv = cmdline.split(line)
    result = run(inv.host, argv, inv.stdin, inv.cwd)
    if isinstance(result, StartFailure):
        # cmd.exe's own message for a program it cannot find; its exit code is 1 (ERRORLEVEL 9009
        # inside the shell). [RECONSTRUCTED]
        return fail(
            1,
            f"'{argv[0]}' is not recognized as an internal or external command,\r\noperable program or batch file.\r\n",
        )
    return result
