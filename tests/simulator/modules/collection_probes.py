"""Emulations of the read-only PowerShell probes winkube.node ships (plugins/plugin_utils/powershell).

Each probe is keyed by the sha256 of the exact text it was emulated from: a probe that changes is
not registered (the role then fails loudly with "script not emulated") until its emulation here
is reviewed and the hash updated. ``tests/simulator/tests/test_collection_probes.py`` says which.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.simulator.host import WindowsHost

from .win_powershell import POWERSHELL_SCRIPTS, PSResult

PROBE_DIR = Path(__file__).resolve().parents[3] / "plugins" / "plugin_utils" / "powershell"

_CURRENT_VERSION = r"HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion"
_CBS_REBOOT = r"HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\RebootPending"
_WU_REBOOT = r"HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate\Auto Update\RebootRequired"
_SESSION_MANAGER = r"HKLM:\SYSTEM\CurrentControlSet\Control\Session Manager"


def _value(host: WindowsHost, key: str, name: str) -> Any:
    found = host.get_reg(key, name)
    return None if found is None else found[1]


def windows_facts(host: WindowsHost, parameters: dict[str, Any]) -> PSResult:
    """windows_facts.ps1: CurrentVersion values and the three reboot-pending markers."""
    del parameters
    reboot_pending = (
        host.reboot_pending
        or host.reg_key_exists(_CBS_REBOOT)
        or host.reg_key_exists(_WU_REBOOT)
        or host.get_reg(_SESSION_MANAGER, "PendingFileRenameOperations") is not None
    )
    names = ("CurrentBuildNumber", "UBR", "DisplayVersion", "ReleaseId", "EditionID", "InstallationType", "ProductName")
    output = {name: _value(host, _CURRENT_VERSION, name) for name in names}
    output["RebootPending"] = bool(reboot_pending)
    return PSResult(output=[output], changed=False)


# probe name → (sha256 of the probe text the emulation follows, emulation)
EMULATED: dict[str, tuple[str, Callable[[WindowsHost, dict[str, Any]], PSResult]]] = {
    "windows_facts": ("6b3012e5e55b918fc4bd936c3f6e89337240b67b94c0d71f2743a45c802cc0e8", windows_facts),
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
