"""ansible.windows.win_path and win_environment (win_path.ps1, win_environment.ps1).

Both modules write the environment keys of the registry (``HKLM\\...\\Session Manager\\Environment``
and ``HKCU\\Environment``); in the host model those keys *are* ``host.env_machine`` and
``host.env_user``, the dictionaries every new process's environment is built from. Names are
case-insensitive and keep the case they were created with.
"""

from __future__ import annotations

import re
from typing import Any

from tests.simulator.host import WindowsHost

from ._core import ModuleRun, emulates
from .argspec import SpecOverrides


def _store(host: WindowsHost, level: str) -> dict[str, str]:
    return host.env_machine if level == "machine" else host.env_user


def get_var(env: dict[str, str], name: str) -> tuple[str | None, str | None]:
    """(name as stored, value) of a variable, case-insensitively."""
    for key, value in env.items():
        if key.lower() == name.lower():
            return key, value
    return None, None


def set_var(env: dict[str, str], name: str, value: str | None) -> None:
    stored, _ = get_var(env, name)
    if value is None:
        if stored is not None:
            del env[stored]
    else:
        env[stored or name] = value


# --------------------------------------------------------------------------------------------
# win_path

# win_path.ps1 $pathsplit_re, with .NET's repeated group name <q> written as two groups.
_PATH_SPLIT = re.compile(r'((?P<q1>\s*"[^"]+"\s*)|(?P<q2>[^;]+))(;$|$|;)')


def _elements(value: str) -> list[str]:
    return [m.group("q1") if m.group("q1") is not None else m.group("q2") for m in _PATH_SPLIT.finditer(value)]


def _index(existing: list[str], value: str) -> int:
    """Get-IndexOfPathElement: compare without quotes and trailing backslashes, case-insensitively."""
    wanted = value.strip('"').strip("\\").lower()
    for i, element in enumerate(existing):
        if element.strip('"').strip("\\").lower() == wanted:
            return i
    return -1


def _add(existing: list[str], wanted: list[str]) -> bool:
    """Add-Element: append missing elements and keep the given order relative to each other."""
    last, changed = -1, False
    for element in wanted:
        i = _index(existing, element)
        if i == -1:
            existing.append(element)
            last, changed = len(existing) - 1, True
        elif i < last:
            existing.pop(i)
            existing.append(element)
            last, changed = len(existing) - 1, True
        else:
            last = i
    return changed


@emulates("ansible.windows.win_path")
def win_path(run: ModuleRun) -> None:
    p = run.params
    env = _store(run.host, p["scope"])
    _, current = get_var(env, p["name"])
    current = current or ""  # GetValue(name, "", DoNotExpandEnvironmentNames)
    run.result["path_value"] = current
    existing = _elements(current)
    if p["state"] == "absent":
        before = len(existing)
        for element in p["elements"]:
            i = _index(existing, element)
            run.result["removed_idx"] = i
            if i > -1:
                existing.pop(i)
        run.result["changed"] = before != len(existing)
    else:
        run.result["changed"] = _add(existing, p["elements"])
    value = ";".join(existing)
    run.result["path_value"] = value
    if run.result["changed"] and not run.check_mode:
        set_var(env, p["name"], value)


# --------------------------------------------------------------------------------------------
# win_environment

_ENV_OVERRIDES = SpecOverrides(
    # win_environment.ps1 $spec: variables excludes name/value/state; one of name or variables.
    mutually_exclusive=[["variables", "name"], ["variables", "value"], ["variables", "state"]],
    required_one_of=[["name", "variables"]],
)


def _set_state(run: ModuleRun, level: str, name: str, value: str, state: str | None) -> dict[str, Any]:
    """Set-EnvironmentVariableState. PowerShell's -ne on strings ignores case, so does the compare."""
    if not state:
        state = "present" if value else "absent"
    if level == "process":
        # The module's own process: it ends with the module, nothing persists.
        _, before = get_var(run.host.environment(), name)
        env: dict[str, str] | None = None
    else:
        env = _store(run.host, level)
        _, before = get_var(env, name)
    status: dict[str, Any] = {"changed": False, "after": value, "before": before}
    if state == "present" and (before or "").lower() != (value or "").lower():
        if not run.check_mode and env is not None:
            set_var(env, name, value)
        status["changed"] = True
    elif state == "absent" and before is not None:
        if not run.check_mode and env is not None:
            set_var(env, name, None)
        status["changed"] = True
    return status


@emulates("ansible.windows.win_environment", _ENV_OVERRIDES)
def win_environment(run: ModuleRun) -> None:
    p = run.params
    level, state = p["level"], p["state"]
    run.result["values"] = {}
    run.result["env_values"] = {}
    variables = p["variables"] if p["variables"] else {p["name"]: p["value"]}
    run.diff["before"] = {level: {}}
    run.diff["after"] = {level: {}}
    for name, raw in variables.items():
        value = "" if raw is None else str(raw)  # [String]$Value: $null becomes ""
        if state == "absent" and value:
            run.warn(f"When removing environment variable '{name}' it should not have a value '{value}' set")
            value = ""
        elif state == "present" and not value:
            run.fail(
                "When state=present, value must be defined and not an empty string, if you wish to remove the envvar, "
                "set state=absent"
            )
        status = _set_state(run, level, name, value, state)
        if status["before"]:
            run.diff["before"][level][name] = status["before"]
        if status["after"]:
            run.diff["after"][level][name] = status["after"]
        run.result["values"][name] = status
        run.result["env_values"][name] = status
        run.result["changed"] = run.result["changed"] or status["changed"]
        run.result["before_value"] = status["before"]
        run.result["value"] = status["after"]
