"""Emulations of the read-only PowerShell probes winkube.node ships (plugins/plugin_utils/powershell).

Each probe is keyed by the sha256 of the exact text it was emulated from: a probe that changes is
not registered (the role then fails loudly with "script not emulated") until its emulation here
is reviewed and the hash updated. ``tests/simulator/tests/test_collection_probes.py`` says which.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.simulator.host import SimulatorError, WindowsHost

from .win_powershell import POWERSHELL_SCRIPTS, PSResult

PROBE_DIR = Path(__file__).resolve().parents[3] / "plugins" / "plugin_utils" / "powershell"

_CURRENT_VERSION = r"HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion"
_CBS_REBOOT = r"HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\RebootPending"
_WU_REBOOT = r"HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate\Auto Update\RebootRequired"
_SESSION_MANAGER = r"HKLM:\SYSTEM\CurrentControlSet\Control\Session Manager"


def _value(host: WindowsHost, key: str, name: str) -> Any:
    found = host.get_reg(key, name)
    return None if found is None else found[1]


# The SIDs Get-Acl reports as a file's owner: the Administrators group owns what an administrator creates
# (the default of "System objects: Default owner for objects created by members of the Administrators
# group"); every write through the simulator's WinRM listener is an administrator's. A test that plants a
# file as someone else records its owner in host.extra[FILE_OWNERS] (normalised path, lower case -> SID).
ADMINISTRATORS_SID = "S-1-5-32-544"
FILE_OWNERS = "file_owners"
# WindowsIdentity.GetCurrent().User of the listener's account, the built-in Administrator (RID 500).
CURRENT_USER_SID = "S-1-5-21-3623811015-3361044348-30300820-500"

# Win32_Service.State and .StartMode for the simulator's service model.
_SERVICE_STATES = {
    "running": "Running",
    "stopped": "Stopped",
    "paused": "Paused",
    "start_pending": "Start Pending",
    "stop_pending": "Stop Pending",
}
_START_MODES = {"auto": "Auto", "delayed": "Auto", "manual": "Manual", "disabled": "Disabled"}


class _ScriptError(Exception):
    """A terminating error the probe's try/catch turns into the fact's ``error``."""


def _prop(obj: Any, name: str) -> Any:
    """``$obj.name`` on what ConvertFrom-Json made of a JSON value: properties match case-insensitively,
    anything that is not an object has none."""
    if isinstance(obj, dict):
        for key, value in obj.items():
            if key.lower() == name.lower():
                return value
    return None


def _ps_string(value: Any) -> str:
    """PowerShell's [string] cast of a JSON value ($null is the empty string)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "True" if value else "False"
    return str(value)


def _ps_bool(value: Any) -> bool:
    """PowerShell's [bool] cast: $null, 0, "" and empty lists are false, anything else true."""
    if isinstance(value, (list, dict)):
        return len(value) > 0
    return bool(value)


def _text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _signed(value: int, bits: int) -> int:
    """RegistryKey.GetValue returns REG_DWORD as Int32 and REG_QWORD as Int64."""
    return value - (1 << bits) if value >= 1 << (bits - 1) else value


def _literal_path(path: str) -> str:
    if not path:  # -LiteralPath '' fails at parameter binding, whatever -ErrorAction says
        raise _ScriptError("Cannot bind argument to parameter 'LiteralPath' because it is an empty string.")
    return path


def _file(host: WindowsHost, fact: Any, out: dict[str, Any]) -> None:
    out["path"] = _ps_string(_prop(fact, "path"))
    entry = host.get(_literal_path(out["path"]))
    out["exists"] = entry is not None and not entry.is_dir
    out["sha256"] = entry.sha256() if out["exists"] and entry is not None else None


def _directory(host: WindowsHost, fact: Any, out: dict[str, Any]) -> None:
    out["path"] = _ps_string(_prop(fact, "path"))
    out["exists"] = host.isdir(_literal_path(out["path"]))


def _service(host: WindowsHost, fact: Any, out: dict[str, Any]) -> None:
    out["name"] = _ps_string(_prop(fact, "name"))
    if not _PLAIN_NAME.match(out["name"]):
        raise _ScriptError(f"not a plain service name: {out['name']}")
    svc = host.services.get(out["name"].lower())  # Win32_Service's Name, never the display name
    out["exists"] = svc is not None
    for key in ("path", "start_mode", "delayed_auto_start", "state", "username", "display_name", "dependencies"):
        out[key] = None
    if svc is None:
        return
    names = []
    for dependency in svc.dependencies:
        found = host.services.get(dependency.lower())
        if found is None:  # ServiceController.ServicesDependedOn throws for a service that does not exist
            raise _ScriptError(f"Cannot open {dependency} service on computer '.'.")
        names.append(found.name)
    out.update(
        path=svc.path,
        start_mode=_START_MODES[svc.start_mode],
        delayed_auto_start=svc.start_mode == "delayed",
        state=_SERVICE_STATES[svc.state],
        username=svc.username,
        display_name=svc.display_name,
        dependencies=sorted(names, key=str.lower),
    )


def _registry(host: WindowsHost, fact: Any, out: dict[str, Any]) -> None:
    out["path"] = _ps_string(_prop(fact, "path"))
    out["name"] = _ps_string(_prop(fact, "name"))
    out["hash"] = _ps_bool(_prop(fact, "hash"))
    out.update(type=None, data=None, sha256=None)
    try:
        found = host.get_reg(_literal_path(out["path"]), out["name"])
    except SimulatorError as exc:  # a value the simulator keeps in its service model, not in the registry
        raise _ScriptError(str(exc)) from exc
    out["exists"] = found is not None
    if found is None:
        return
    vtype, data = found
    out["type"] = vtype
    if vtype == "MultiString":
        text = "\n".join(str(v) for v in data or [])
    elif vtype == "Binary":
        text = bytes(data or b"").hex()
    elif vtype in ("DWord", "QWord"):
        data = _signed(int(data), 32 if vtype == "DWord" else 64)
        text = str(data)
    else:
        text = _ps_string(data)
    if out["hash"]:
        out["sha256"] = _text_sha256(text)
    elif vtype == "MultiString":
        out["data"] = [str(v) for v in data or []]
    elif vtype in ("DWord", "QWord"):
        out["data"] = data
    else:
        out["data"] = text


def _feature(host: WindowsHost, fact: Any, out: dict[str, Any]) -> None:
    out["name"] = _ps_string(_prop(fact, "name"))
    if not _PLAIN_NAME.match(out["name"]):
        raise _ScriptError(f"not a plain feature name: {out['name']}")
    feature = host.features.get(out["name"].lower())
    out["exists"] = feature is not None
    out["install_state"] = None
    if feature is not None:
        out["install_state"] = (
            "InstallPending" if feature.install_pending else "Installed" if feature.installed else "Available"
        )


def _firewall_rule(host: WindowsHost, fact: Any, out: dict[str, Any]) -> None:
    out["name"] = _ps_string(_prop(fact, "name"))
    # As win_firewall_rule finds a rule: its Name, compared without case.
    matching = [
        rule for key, rule in host.firewall_rules.items() if str(rule.get("Name") or key).lower() == out["name"].lower()
    ]
    out["count"] = len(matching)
    for key in ("enabled", "direction", "action", "protocol", "local_ports", "remote_addresses", "profiles"):
        out[key] = None
    if len(matching) == 1:
        rule = matching[0]
        out.update(
            enabled=bool(rule.get("Enabled")),
            direction=int(rule.get("Direction") or 0),
            action=int(rule.get("Action") or 0),
            protocol=int(rule.get("Protocol") or 0),
            local_ports=_ps_string(rule.get("LocalPorts")),
            remote_addresses=_ps_string(rule.get("RemoteAddresses")),
            profiles=int(rule.get("Profiles") or 0),
        )


def _path_element(host: WindowsHost, fact: Any, out: dict[str, Any]) -> None:
    out["element"] = _ps_string(_prop(fact, "element"))
    machine_path = host.env_machine.get("Path", "")
    out["present"] = any(part.lower() == out["element"].lower() for part in machine_path.split(";"))


_READERS: dict[str, Callable[[WindowsHost, Any, dict[str, Any]], None]] = {
    "file": _file,
    "directory": _directory,
    "service": _service,
    "registry": _registry,
    "feature": _feature,
    "firewall_rule": _firewall_rule,
    "path_element": _path_element,
}
_PLAIN_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


def read_fact(host: WindowsHost, fact: Any) -> dict[str, Any]:
    """Read-WinkubeFact: the live value of one fact; a failure is the fact's ``error``, as the probe's catch."""
    kind = _ps_string(_prop(fact, "kind"))
    out: dict[str, Any] = {"kind": kind}
    reader = next((r for name, r in _READERS.items() if name == kind.lower()), None)  # switch ignores case
    try:
        if reader is None:
            raise _ScriptError(f"unknown fact kind '{kind}'")
        reader(host, fact, out)
    except _ScriptError as exc:
        out["error"] = str(exc)
    return out


def _json_items(value: Any) -> list[Any]:
    """What `foreach ($x in $value)` visits: the elements of an array, else the value itself ($null: nothing)."""
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _state_files(host: WindowsHost, state_dir: str) -> dict[str, Any]:
    """The probe's State object: every *.json in the state folder with its owner, text and live facts."""
    state: dict[str, Any] = {"current_user": CURRENT_USER_SID, "error": None, "files": []}
    if not host.isdir(state_dir):
        return state
    owners = host.extra.get(FILE_OWNERS, {})
    files = [e for e in host.listdir(state_dir) if not e.is_dir and e.path.lower().endswith(".json")]
    for entry in sorted(files, key=lambda e: e.path.rsplit("\\", 1)[-1].lower()):
        leaf = entry.path.rsplit("\\", 1)[-1]
        item: dict[str, Any] = {"role": leaf[: -len(".json")], "owner": None, "text": None, "live": [], "error": None}
        try:
            item["owner"] = owners.get(host.norm(entry.path).lower(), ADMINISTRATORS_SID)
            item["text"] = entry.data.decode("utf-8-sig", errors="replace")  # File.ReadAllText drops a BOM
            try:
                record = json.loads(item["text"])
            except ValueError as exc:
                raise _ScriptError(f"Conversion from JSON failed with error: {exc}") from exc
            item["live"] = [read_fact(host, fact) for fact in _json_items(_prop(record, "facts"))]
        except _ScriptError as exc:
            item["error"] = str(exc)
        state["files"].append(item)
    return state


def windows_facts(host: WindowsHost, parameters: dict[str, Any]) -> PSResult:
    """windows_facts.ps1: CurrentVersion values, the three reboot-pending markers, the roles' state files
    with the live value of each fact they record (StateDir), and the facts asked for (Facts)."""
    reboot_pending = (
        host.reboot_pending
        or host.reg_key_exists(_CBS_REBOOT)
        or host.reg_key_exists(_WU_REBOOT)
        or host.get_reg(_SESSION_MANAGER, "PendingFileRenameOperations") is not None
    )
    names = ("CurrentBuildNumber", "UBR", "DisplayVersion", "ReleaseId", "EditionID", "InstallationType", "ProductName")
    output = {name: _value(host, _CURRENT_VERSION, name) for name in names}
    output["RebootPending"] = bool(reboot_pending)
    state_dir = _ps_string(parameters.get("StateDir"))
    output["State"] = _state_files(host, state_dir) if state_dir else None
    facts = _ps_string(parameters.get("Facts"))
    try:
        requested = json.loads(facts) if facts else None
    except ValueError as exc:  # ConvertFrom-Json throws; $ErrorActionPreference = 'Stop' ends the script
        message = f"Conversion from JSON failed with error: {exc}"
        return PSResult(
            changed=False,
            failed=True,
            error=[{"exception": {"message": message}, "fully_qualified_error_id": "System.ArgumentException"}],
        )
    output["Facts"] = [read_fact(host, fact) for fact in _json_items(requested)]
    return PSResult(output=[output], changed=False)


# probe name → (sha256 of the probe text the emulation follows, emulation)
EMULATED: dict[str, tuple[str, Callable[[WindowsHost, dict[str, Any]], PSResult]]] = {
    "windows_facts": ("6f8e7b6f04f094c07c70ed2d2b1494810c5663a61eca30d7ca83d0135083aaaf", windows_facts),
}


def probe_text(name: str) -> str:
    return (PROBE_DIR / f"{name}.ps1").read_text(encoding="utf-8")


def probe_sha256(name: str) -> str:
    return hashlib.sha256(probe_text(name).encode()).hexdigest()


def register() -> list[str]:
    """Register every probe whose text still matches its emulation; return the names of the others."""
    stale = []
    for name, (sha, handler) in EMULATED.items():
        if probe_sha256(name) == sha:
            POWERSHELL_SCRIPTS.register(probe_text(name), handler)
        else:
            stale.append(name)
    return stale


STALE = register()
