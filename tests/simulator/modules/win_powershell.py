"""ansible.windows.win_powershell (win_powershell.ps1).

A script runs only when ``POWERSHELL_SCRIPTS`` knows it: the key is the exact script text or a
regex, the value a handler ``(host, parameters) -> PSResult`` that does what the script would do
(typically a read-only probe) and returns what it would output. An unknown script fails loudly
with its first line. Around the handler the module's own behaviour is kept: ``creates``/
``removes``, the check-mode skip for scripts without ``SupportsShouldProcess`` (and ``-WhatIf`` in
the parameters for those with it), ``$Ansible.Changed`` defaulting to true, and every stream key
of the result present.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import Any

from tests.simulator.host import WindowsHost

from ._core import ModuleRun, emulates
from ._scripts import ScriptRegistry, first_line
from .argspec import SpecOverrides


@dataclasses.dataclass
class PSResult:
    """What a script produced: pipeline output, the ``$Ansible`` variable and the other streams."""

    output: list[Any] = dataclasses.field(default_factory=list)
    result: Any = dataclasses.field(default_factory=dict)  # $Ansible.Result
    changed: bool = True  # $Ansible.Changed starts as $true
    failed: bool = False  # $Ansible.Failed (or an uncaught error)
    diff: dict[str, Any] = dataclasses.field(default_factory=dict)
    error: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    warning: list[str] = dataclasses.field(default_factory=list)
    verbose: list[str] = dataclasses.field(default_factory=list)
    debug: list[str] = dataclasses.field(default_factory=list)
    information: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    host_out: str = ""
    host_err: str = ""


PowerShellHandler = Callable[[WindowsHost, dict[str, Any]], PSResult]
POWERSHELL_SCRIPTS: ScriptRegistry[PowerShellHandler] = ScriptRegistry("win_powershell")

_OVERRIDES = SpecOverrides(
    options={
        # win_powershell.ps1 $spec: the secret sub-options are no_log, with their own constraints.
        "sensitive_parameters": {
            "options": {"password": {"no_log": True}, "value": {"no_log": True}},
            "mutually_exclusive": [["value", "username"], ["value", "password"]],
            "required_one_of": [["username", "value"]],
            "required_together": [["username", "password"]],
        }
    },
    # win_powershell.ps1 $spec: exactly one of path and script.
    required_one_of=[["path", "script"]],
    mutually_exclusive=[["path", "script"]],
)

# The fallback scanner win_powershell.ps1 uses when it cannot parse the script's AST.
_SHOULD_PROCESS = re.compile(
    r"\[CmdletBinding\((?:[\w=\$]+,\s*)?SupportsShouldProcess(?:=\$true)?(?:,\s*[\w=\$]+)?\)\]", re.I
)


@emulates("ansible.windows.win_powershell", _OVERRIDES)
def win_powershell(run: ModuleRun) -> None:
    host, p = run.host, run.params
    run.result.update(
        result={}, host_out="", host_err="", output=[], error=[], warning=[], verbose=[], debug=[], information=[]
    )
    if p["creates"] and host.exists(p["creates"]):
        run.result["msg"] = f"skipped, since {p['creates']} exists"
        return
    if p["removes"] and not host.exists(p["removes"]):
        run.result["msg"] = f"skipped, since {p['removes']} does not exist"
        return
    if p["script"] is not None:
        script = p["script"]
    else:
        entry = host.get(p["path"])
        if entry is None or entry.is_dir:
            run.fail(f"Could not find or access '{p['path']}' on Windows host")
        script = entry.data.decode("utf-8-sig")
    supports_should_process = bool(_SHOULD_PROCESS.search(script))
    if run.check_mode and not supports_should_process:
        run.result["changed"] = True
        run.result["msg"] = "skipped, running in check mode"
        return
    handler = POWERSHELL_SCRIPTS.find(script)
    if handler is None:
        run.fail(
            "simulator: win_powershell script not emulated (register a handler in POWERSHELL_SCRIPTS): "
            f"{first_line(script)!r}"
        )
    parameters = dict(p["parameters"] or {})
    for secret in p["sensitive_parameters"] or []:
        parameters[secret["name"]] = (
            secret["value"]
            if secret["value"] is not None
            else {
                "UserName": secret["username"],
                "Password": secret["password"],
            }
        )
    if supports_should_process:
        parameters["WhatIf"] = run.check_mode
    outcome = handler(host, parameters)
    run.result.update(
        host_out=outcome.host_out,
        host_err=outcome.host_err,
        result=outcome.result,
        changed=outcome.changed,
        output=list(outcome.output),
        error=list(outcome.error),
        warning=list(outcome.warning),
        verbose=list(outcome.verbose),
        debug=list(outcome.debug),
        information=list(outcome.information),
    )
    if outcome.failed:  # the handler decides, as $ErrorActionPreference/error_action would in the script
        run.result["failed"] = True
    if outcome.diff:
        run.diff.update(outcome.diff)
