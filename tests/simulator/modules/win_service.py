"""ansible.windows.win_service and win_service_info (win_service.ps1, win_service_info.ps1).

The services are ``host.services`` (``host.Service`` records). win_service follows the ``.ps1``
step by step: find the service by name or display name, ``Diff.before``, create it with
``New-Service`` semantics when ``path`` is given, then the ``Set-Service*`` functions in the
``.ps1``'s order, the state last. Starting goes through ``host.start_service``, so dependencies,
injected start failures and the binary's own starter decide; a start that fails surfaces as the
uncaught ``Start-Service`` error, as on Windows.
"""

from __future__ import annotations

import fnmatch
from typing import Any

from tests.simulator.host import Service, WindowsHost, expand_env

from ._core import ModuleRun, emulates
from .argspec import ConversionError, SpecOverrides

_STATE_DIFF = {
    "running": "started",
    "stopped": "stopped",
    "paused": "paused",
    "start_pending": "start_pending",
    "stop_pending": "stop_pending",
    "continue_pending": "continue_pending",
    "pause_pending": "pause_pending",
}

# Well-known accounts: SID → (names that translate to it, NTAccount form).
_WELL_KNOWN = {
    "S-1-5-18": ({"localsystem", "system", "nt authority\\system", ".\\localsystem"}, "NT AUTHORITY\\SYSTEM"),
    "S-1-5-19": (
        {"local service", "nt authority\\local service", "nt authority\\localservice", "localservice"},
        "NT AUTHORITY\\LOCAL SERVICE",
    ),
    "S-1-5-20": (
        {"network service", "nt authority\\network service", "nt authority\\networkservice", "networkservice"},
        "NT AUTHORITY\\NETWORK SERVICE",
    ),
}


def _uint32(value: Any) -> Any:
    """win_service.ps1 ``$uint32Type = [Func[[Object], [UInt32]]] { [UInt32]$args[0] }``."""
    if value is None:
        return None
    text = str(value).strip()
    try:
        number = int(text) if not isinstance(value, bool) else None
    except ValueError:
        number = None
    if number is None:
        raise ConversionError(
            f'Cannot convert value "{value}" to type "System.UInt32". '
            'Error: "Input string was not in a correct format."'
        )
    if not 0 <= number < 2**32:
        raise ConversionError(
            f'Cannot convert value "{value}" to type "System.UInt32". Error: "Value was either too large or too small '
            'for a UInt32."'
        )
    return number


_uint32.__name__ = "delegate"  # Ansible.Basic names a scriptblock type "delegate" in its errors

_OVERRIDES = SpecOverrides(
    options={
        # win_service.ps1 $spec: password has no_log, the time options use $uint32Type.
        "password": {"no_log": True},
        "failure_reset_period_sec": {"type": _uint32},
        "pre_shutdown_timeout_ms": {"type": _uint32},
        "failure_actions": {"options": {"delay_ms": {"type": _uint32}}},
    },
    # win_service.ps1 $spec: required_by = @{ password = @('username') }
    required_by={"password": ["username"]},
)


# --------------------------------------------------------------------------------------------
# accounts


def _sid(name: str, hostname: str) -> str:
    """ConvertTo-SecurityIdentifier: well-known names to their SID, other accounts to DOMAIN\\user."""
    lowered = name.lower()
    for sid, (names, _) in _WELL_KNOWN.items():
        if lowered in names or lowered == sid.lower():
            return sid
    domain, sep, user = name.partition("\\")
    if not sep:
        domain, user = hostname, name
    elif domain == ".":
        domain = hostname
    return f"{domain}\\{user}".lower()


def _start_name(username: str, hostname: str) -> str:
    """What the SCM stores (Service.Account setter): LocalSystem, or the NTAccount of the SID."""
    sid = _sid(username, hostname)
    if sid == "S-1-5-18":
        return "LocalSystem"
    if sid in _WELL_KNOWN:
        return _WELL_KNOWN[sid][1]
    domain, _, user = username.partition("\\") if "\\" in username else (hostname, "", username)
    return f"{hostname if domain in ('.', '') else domain}\\{user}"


def _account(svc: Service) -> str:
    """Service.Account.Value: LocalSystem reads back as NT AUTHORITY\\SYSTEM."""
    return "NT AUTHORITY\\SYSTEM" if svc.username == "LocalSystem" else svc.username


# --------------------------------------------------------------------------------------------
# reading a service as the module reports it


def _find(host: WindowsHost, name: str) -> Service | None:
    """Get-ServiceFromName: service name or display name, case-insensitive."""
    return host.service(name)


def _depended_by(host: WindowsHost, svc: Service) -> list[str]:
    return sorted(s.name for s in host.services.values() if any(d.lower() == svc.name.lower() for d in s.dependencies))


def _failure_actions(svc: Service) -> list[dict[str, Any]]:
    return [{"type": a["type"], "delay_ms": int(a.get("delay_ms", 0))} for a in svc.failure_actions]


def _diff(svc: Service | None) -> dict[str, Any] | str:
    """Get-ServiceDiff."""
    if svc is None:
        return ""
    return {
        "dependencies": list(svc.dependencies),
        "description": svc.description or None,
        "desktop_interact": svc.desktop_interact,
        "display_name": svc.display_name,
        "error_control": svc.error_control,
        "failure_actions": _failure_actions(svc),
        "failure_actions_on_non_crash_failure": svc.failure_actions_on_non_crash_failure,
        "failure_command": svc.failure_command,
        "failure_reboot_msg": svc.failure_reboot_msg,
        "failure_reset_period_sec": svc.failure_reset_period,
        "load_order_group": svc.load_order_group,
        "name": svc.name,
        "path": svc.path,
        "pre_shutdown_timeout_ms": svc.pre_shutdown_timeout_ms,
        "required_privileges": list(svc.required_privileges),
        "service_type": svc.service_type,
        "sid_info": svc.sid_info,
        "start_mode": svc.start_mode,
        "state": _STATE_DIFF.get(svc.state, svc.state),
        "username": _account(svc),
        "password": "REDACTED",
    }


# --------------------------------------------------------------------------------------------
# the Set-Service* steps; each records Diff.after and changes the service unless in check mode


class _Changer:
    def __init__(self, run: ModuleRun, svc: Service | None, after: dict[str, Any]) -> None:
        self.run, self.svc, self.after = run, svc, after

    def change(self, attribute: str, value: Any) -> None:
        if not self.run.check_mode and self.svc is not None:
            setattr(self.svc, attribute, value)
        self.run.result["changed"] = True

    def account(self, username: str | None, password: str | None, update_password: bool) -> None:
        svc, after, host = self.svc, self.after, self.run.host
        after["username"], after["password"] = username, "REDACTED"
        if svc is None:
            return
        desired = _sid(username, host.hostname) if username else None
        if username:
            after["username"] = _WELL_KNOWN.get(desired, (None, _start_name(username, host.hostname)))[1]
        if desired is None:
            after["username"] = _account(svc)
        elif desired != _sid(svc.username, host.hostname):
            if desired != "S-1-5-18":
                self.service_type(None, False, username)
            self.change("username", _start_name(username or "", host.hostname))
            update_password = True
        if update_password and password:
            after["password"] = "CHANGED REDACTED"
            self.run.result["changed"] = True

    def dependencies(self, wanted: list[str] | None, action: str) -> None:
        svc = self.svc
        self.after["dependencies"] = wanted
        if svc is None:
            return
        self.after["dependencies"] = list(svc.dependencies)
        if wanted is None:
            return
        existing = list(svc.dependencies)
        # Linq Except/Intersect with the default (case-sensitive) string comparer.
        if action == "add":
            added, removed = [d for d in wanted if d not in existing], []
        elif action == "remove":
            added, removed = [], [d for d in wanted if d in existing]
        else:
            added, removed = [d for d in wanted if d not in existing], [d for d in existing if d not in wanted]
        if added or removed:
            new = [d for d in existing if d not in removed] + list(dict.fromkeys(added))
            self.after["dependencies"] = new
            self.change("dependencies", new)

    def text(self, key: str, attribute: str, value: str | None, empty_is_null: bool) -> None:
        """Description/display name/load order group/path: ``-cne`` comparison, None keeps the value."""
        svc = self.svc
        self.after[key] = value
        if svc is None:
            return
        current = getattr(svc, attribute)
        if value is None or (not value and not empty_is_null):
            self.after[key] = (current or None) if key == "description" else current
            return
        if empty_is_null and not value:
            value = ""
        if value != current:
            self.change(attribute, value)

    def choice(self, key: str, attribute: str, value: str | None) -> None:
        svc = self.svc
        self.after[key] = value
        if svc is None:
            return
        if not value:
            self.after[key] = getattr(svc, attribute)
        elif value != getattr(svc, attribute):
            self.change(attribute, value)

    def failure(self, p: dict[str, Any]) -> None:
        svc, after = self.svc, self.after
        after["failure_actions"] = p["failure_actions"]
        # win_service.ps1 assigns the misspelt $ActionOnCrashFailure here, so this diff key starts as $null.
        after["failure_actions_on_non_crash_failure"] = None
        after["failure_command"] = p["failure_command"]
        after["failure_reboot_msg"] = p["failure_reboot_msg"]
        after["failure_reset_period_sec"] = p["failure_reset_period_sec"]
        if svc is None:
            return
        flag = p["failure_actions_on_non_crash_failure"]
        if flag is None:
            after["failure_actions_on_non_crash_failure"] = svc.failure_actions_on_non_crash_failure
        elif flag != svc.failure_actions_on_non_crash_failure:
            self.change("failure_actions_on_non_crash_failure", flag)
        if p["failure_actions"] is None:
            after["failure_actions"] = _failure_actions(svc)
        else:
            wanted = [{"type": a["type"], "delay_ms": int(a["delay_ms"] or 0)} for a in p["failure_actions"]]
            if wanted != _failure_actions(svc):
                self.change("failure_actions", wanted)
        for key, attribute in (("failure_command", "failure_command"), ("failure_reboot_msg", "failure_reboot_msg")):
            value = p[key]
            if value is None:
                after[key] = getattr(svc, attribute)
            elif (value or None) != getattr(svc, attribute):
                self.change(attribute, value or None)
        period = p["failure_reset_period_sec"]
        if period is None:
            after["failure_reset_period_sec"] = svc.failure_reset_period
        elif period != svc.failure_reset_period:
            if p["failure_actions"] is None and not svc.failure_actions and not self.run.check_mode:
                # SCManager.cs FailureActions setter: the reset period needs actions to apply to.
                self.run.unhandled(
                    'Exception setting "FailureActions": "Cannot set FailureAction ResetPeriod without explicit '
                    'Actions and no existing Actions"'
                )
            self.change("failure_reset_period", period)

    def number(self, key: str, attribute: str, value: int | None) -> None:
        svc = self.svc
        self.after[key] = value
        if svc is None:
            return
        if value is None:
            self.after[key] = getattr(svc, attribute)
        elif value != getattr(svc, attribute):
            self.change(attribute, value)

    def privileges(self, wanted: list[str] | None) -> None:
        svc = self.svc
        self.after["required_privileges"] = wanted
        if svc is None:
            return
        if wanted is None:
            self.after["required_privileges"] = list(svc.required_privileges)
        elif set(wanted) != set(svc.required_privileges):  # Linq Except both ways, case-sensitive
            self.change("required_privileges", list(wanted))

    def service_type(self, wanted: str | None, desktop_interact: bool, username: str | None) -> None:
        svc, after = self.svc, self.after
        after["desktop_interact"] = desktop_interact
        after["service_type"] = wanted
        if svc is None:
            return
        after["service_type"] = wanted or svc.service_type
        if desktop_interact:
            account = _sid(username, self.run.host.hostname) if username else _sid(svc.username, self.run.host.hostname)
            if account != "S-1-5-18":
                self.run.fail("Can only set 'desktop_interact' to true when 'username' equals 'SYSTEM'")
        if (wanted or svc.service_type) != svc.service_type:
            self.change("service_type", wanted)
        if desktop_interact != svc.desktop_interact:
            self.change("desktop_interact", desktop_interact)

    def state(self, wanted: str | None, force: bool) -> None:
        svc, run = self.svc, self.run
        self.after["state"] = wanted
        if svc is None:
            return
        if not wanted:
            self.after["state"] = _STATE_DIFF.get(svc.state, svc.state)
        elif wanted == "started" and svc.state != "running":
            if not run.check_mode:
                if svc.state == "paused":
                    svc.state = "running"  # Resume-Service
                else:
                    _start(run, svc)
            run.result["changed"] = True
        elif wanted == "stopped" and svc.state != "stopped":
            _stop(run, svc, force)
            run.result["changed"] = True
        elif wanted == "restarted":
            _stop(run, svc, force)
            if not run.check_mode:
                _start(run, svc)
            run.result["changed"] = True
        elif wanted == "paused" and svc.state != "paused":
            run.fail(f"failed to pause service {svc.name}: The service does not support pausing")


def _start(run: ModuleRun, svc: Service) -> None:
    error = run.host.start_service(svc.name)
    if error:
        run.unhandled(error)  # Start-Service's error is not caught by win_service.ps1


def _stop(run: ModuleRun, svc: Service, force: bool) -> None:
    """Stop-Service [-Force]: without -Force a service with running dependents is not stopped."""
    dependents = [run.host.service(n) for n in _depended_by(run.host, svc)]
    if any(d is not None and d.state == "running" for d in dependents) and not force and svc.state == "running":
        run.unhandled(
            f"Cannot stop service '{svc.display_name} ({svc.name})' because it has dependent services. "
            "It can only be stopped if the Force flag is set."
        )
    if not run.check_mode:
        run.host.stop_service(svc.name)


def _create(run: ModuleRun, name: str, path: str) -> Service | None:
    """New-Service -Name -BinaryPathName: automatic start, LocalSystem, own process, display = name."""
    run.result["changed"] = True
    if run.check_mode:
        return None
    svc = Service(name=name, display_name=name, path=path, start_mode="auto", state="stopped")
    run.host.services[name.lower()] = svc
    return svc


@emulates("ansible.windows.win_service", _OVERRIDES)
def win_service(run: ModuleRun) -> None:
    p, host = run.params, run.host
    path = p["path"]
    if path is not None:
        path = expand_env(path, host.environment())  # [Environment]::ExpandEnvironmentVariables($path)
    run.result["exists"] = False
    svc = _find(host, p["name"])
    run.diff["before"] = _diff(svc)

    if p["state"] == "absent":
        if svc is not None:
            _stop(run, svc, p["force_dependent_services"])
            if not run.check_mode:
                del host.services[svc.name.lower()]
            run.result["changed"] = True
        run.diff["after"] = ""
        after: dict[str, Any] | str = ""
    else:
        created = svc is None
        if svc is None:
            if path is None:
                run.fail(f"Service '{p['name']}' is not installed, need to set 'path' to create a new service")
            svc = _create(run, p["name"], path)
        after = {"name": svc.name if svc else p["name"]}
        run.diff["after"] = after
        change = _Changer(run, svc, after)
        if svc is not None:
            # update_password: always → true, on_create/unset → false, but always true for a new service.
            change.account(p["username"], p["password"], p["update_password"] == "always" or created)
        change.dependencies(p["dependencies"], p["dependency_action"])
        change.text("description", "description", p["description"], empty_is_null=True)
        change.text("display_name", "display_name", p["display_name"], empty_is_null=False)
        change.choice("error_control", "error_control", p["error_control"])
        change.failure(p)
        change.text("load_order_group", "load_order_group", p["load_order_group"], empty_is_null=True)
        change.text("path", "path", path, empty_is_null=False)
        change.number("pre_shutdown_timeout_ms", "pre_shutdown_timeout_ms", p["pre_shutdown_timeout_ms"])
        change.privileges(p["required_privileges"])
        change.choice("sid_info", "sid_info", p["sid_info"])
        change.choice("start_mode", "start_mode", p["start_mode"])
        change.service_type(p["service_type"], bool(p["desktop_interact"]), p["username"])
        change.state(p["state"], p["force_dependent_services"])
    _report(run, svc, after)


def _report(run: ModuleRun, svc: Service | None, after: dict[str, Any] | str) -> None:
    """The result keys win_service.ps1 derives from Diff.after (backwards-compatible shape)."""
    if not after:
        return
    assert isinstance(after, dict)
    result = run.result
    result["exists"] = True
    for key in ("dependencies", "description", "desktop_interact", "display_name", "name", "path", "start_mode"):
        result[key] = after.get(key)
    username = after.get("username")
    result["username"] = "LocalSystem" if username and _sid(username, run.host.hostname) == "S-1-5-18" else username
    state = after.get("state")
    if state is None:
        # `$after.state.Replace('_', '')` on $null: the real module dies here (check-mode create without state).
        run.unhandled("You cannot call a method on a null-valued expression.")
    state = state.replace("_", "")
    result["state"] = "running" if state in ("restarted", "started") else state
    result["can_pause_and_continue"] = None
    result["depended_by"] = []
    if svc is not None and svc.name.lower() in run.host.services:
        result["depended_by"] = _depended_by(run.host, svc)
        result["can_pause_and_continue"] = False


# --------------------------------------------------------------------------------------------
# win_service_info


def _controls_accepted(svc: Service) -> list[str]:
    return ["stop", "shutdown"] if svc.state == "running" else []


def _info(host: WindowsHost, svc: Service) -> dict[str, Any]:
    """One entry of win_service_info.ps1's ``services`` list, same keys and order."""
    return {
        "checkpoint": 0,
        "controls_accepted": _controls_accepted(svc),
        "dependencies": list(svc.dependencies),
        "dependency_of": _depended_by(host, svc),
        "description": svc.description or None,
        "desktop_interact": svc.desktop_interact,
        "display_name": svc.display_name,
        "error_control": svc.error_control,
        "failure_actions": _failure_actions(svc),
        "failure_actions_on_non_crash_failure": svc.failure_actions_on_non_crash_failure,
        "failure_command": svc.failure_command,
        "failure_reboot_msg": svc.failure_reboot_msg,
        "failure_reset_period_sec": svc.failure_reset_period,
        "launch_protection": "none",
        "load_order_group": svc.load_order_group,
        "name": svc.name,
        "path": svc.path,
        "pre_shutdown_timeout_ms": svc.pre_shutdown_timeout_ms,
        "preferred_node": None,
        "process_id": svc.pid if svc.state == "running" else 0,
        "required_privileges": list(svc.required_privileges),
        "service_exit_code": 0,
        "service_flags": [],
        "service_type": svc.service_type,
        "sid_info": svc.sid_info,
        "start_mode": svc.start_mode,
        "state": _STATE_DIFF.get(svc.state, svc.state),
        "triggers": [],
        "username": _account(svc),
        "wait_hint_ms": 0,
        "win32_exit_code": svc.exit_code,
    }


@emulates("ansible.windows.win_service_info")
def win_service_info(run: ModuleRun) -> None:
    host, name = run.host, run.params["name"]
    services = sorted(host.services.values(), key=lambda s: s.name.lower())
    if name is None:
        matches = services  # Get-Service -Name $null lists every service
    else:
        matches = [s for s in services if s.name.lower() == name.lower()]
        if not matches:  # Get-Service -Name: wildcards over service names
            matches = [s for s in services if fnmatch.fnmatchcase(s.name.lower(), name.lower())]
    run.result["exists"] = bool(matches)
    run.result["services"] = [_info(host, s) for s in matches]
