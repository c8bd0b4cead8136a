r"""Emulation of the reset role's read-only HNS probe (roles/reset/files/hns_state.ps1).

Pinned to the sha256 of the script text, like ``node_diagnostics.py``: a changed script is not
registered until this emulation is reviewed. It reads the host's HNS state (``host.extra["hns"]``,
seeded through HOSTS.yml ``seed.hns`` and changed by ``hnsdiag.exe delete``): the networks' ``ID``,
``Name``, ``Type`` and the endpoints' ``ID``, ``Name``, ``VirtualNetwork``, ``VirtualNetworkName``,
as ``Select-Object -Property`` keeps them (a property the object lacks comes back as null). Without
the Containers feature the HNS cmdlets do not exist: the script's typed catch of
CommandNotFoundException reports PowerShell's "is not recognized" text in ``Unavailable``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from tests.simulator.host import SimulatorError, WindowsHost

from .node_diagnostics import NOT_RECOGNIZED, containers_ready
from .win_powershell import POWERSHELL_SCRIPTS, PSResult

SCRIPT = Path(__file__).resolve().parents[3] / "roles" / "reset" / "files" / "hns_state.ps1"
SHA256 = "a642e2266b1a2df2de6c7d521a973b34ee48c6f756e93077aa1d0f99c61e7c76"

NETWORK_KEYS = ("ID", "Name", "Type")
ENDPOINT_KEYS = ("ID", "Name", "VirtualNetwork", "VirtualNetworkName")


def hns_state(host: WindowsHost, parameters: dict[str, Any]) -> PSResult:
    # param () declares nothing; -WhatIf is the common parameter SupportsShouldProcess adds.
    unknown = sorted(set(parameters) - {"WhatIf"})
    if unknown:
        raise SimulatorError(f"hns_state.ps1 takes no parameters; PowerShell refuses {', '.join(unknown)}")
    if not containers_ready(host):
        state = {"Networks": [], "Endpoints": [], "Unavailable": NOT_RECOGNIZED.format(name="Get-HnsNetwork")}
        return PSResult(output=[state], changed=False)
    hns = host.extra.get("hns") or {}
    state = {
        "Networks": [{k: n.get(k) for k in NETWORK_KEYS} for n in hns.get("networks", [])],
        "Endpoints": [{k: e.get(k) for k in ENDPOINT_KEYS} for e in hns.get("endpoints", [])],
        "Unavailable": None,
    }
    return PSResult(output=[state], changed=False)


def register() -> bool:
    """Register the emulation when the script is the one it was written from."""
    text = SCRIPT.read_text(encoding="utf-8")
    if hashlib.sha256(text.encode()).hexdigest() != SHA256:
        return False
    POWERSHELL_SCRIPTS.register(text, hns_state)
    return True


REGISTERED = register()
