r"""Emulation of the collect_logs role's read-only probe (roles/collect_logs/files/node_diagnostics.ps1).

Pinned to the sha256 of the script text, like the probes in ``collection_probes.py``: a changed
script is not registered until this emulation is reviewed. What it reads from the simulated host:

* ``Get-Item`` on each path: a file exists (a directory does not count) and its length;
* ``Get-Service``: ``Status`` (``Running``, ``Stopped``, ``Paused``, ``StartPending``, ``StopPending``)
  and ``StartType`` (``Automatic`` — also for delayed start, as Windows PowerShell 5.1 reports it —,
  ``Manual``, ``Disabled``);
* ``Get-HnsNetwork``/``Get-HnsEndpoint``: the host's HNS state (``host.extra["hns"]``, empty on a
  host where no runtime or CNI made a network, GT §10.2); without the Containers feature the cmdlets
  do not exist, and PowerShell's CommandNotFoundException text is what the script reports.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from tests.simulator.host import WindowsHost

from .win_powershell import POWERSHELL_SCRIPTS, PSResult

SCRIPT = Path(__file__).resolve().parents[3] / "roles" / "collect_logs" / "files" / "node_diagnostics.ps1"
SHA256 = "1d08e038919a64568399fa6f7c2119cae05ac438a93df3946bffbb1774230453"

_STATUS = {
    "running": "Running",
    "stopped": "Stopped",
    "paused": "Paused",
    "start_pending": "StartPending",
    "stop_pending": "StopPending",
}
_START_TYPE = {"auto": "Automatic", "delayed": "Automatic", "manual": "Manual", "disabled": "Disabled"}
NOT_RECOGNIZED = (
    "The term '{name}' is not recognized as the name of a cmdlet, function, script file, or operable program. "
    "Check the spelling of the name, or if a path was included, verify that the path is correct and try again."
)
_NETWORK_KEYS = ("ID", "Name", "Type", "State", "ManagementIP", "Subnets")
_ENDPOINT_KEYS = ("ID", "Name", "VirtualNetworkName", "IPAddress", "MacAddress", "State")


def _file(host: WindowsHost, path: str) -> dict[str, Any]:
    entry = host.get(path)
    is_file = entry is not None and not entry.is_dir
    return {"Path": path, "Exists": is_file, "Length": len(entry.data) if is_file else None}


def _service(host: WindowsHost, name: str) -> dict[str, Any]:
    svc = host.service(name)
    if svc is None:
        return {"Name": name, "Exists": False, "Status": None, "StartType": None}
    return {"Name": name, "Exists": True, "Status": _STATUS[svc.state], "StartType": _START_TYPE[svc.start_mode]}


def containers_ready(host: WindowsHost) -> bool:
    feature = host.features.get("containers")
    return feature is not None and feature.installed and not feature.install_pending


def _hns(host: WindowsHost) -> dict[str, Any]:
    if not containers_ready(host):
        return {"Networks": [], "Endpoints": [], "Error": NOT_RECOGNIZED.format(name="Get-HnsNetwork")}
    state = host.extra.get("hns") or {}
    networks = [{k: n.get(k) for k in _NETWORK_KEYS} for n in state.get("networks", [])]
    endpoints = [{k: e.get(k) for k in _ENDPOINT_KEYS} for e in state.get("endpoints", [])]
    return {"Networks": networks, "Endpoints": endpoints, "Error": None}


def node_diagnostics(host: WindowsHost, parameters: dict[str, Any]) -> PSResult:
    paths = list(parameters.get("Paths") or [])
    services = list(parameters.get("Services") or [])
    output = {
        "Files": [_file(host, p) for p in paths],
        "Services": [_service(host, s) for s in services],
        "Hns": _hns(host),
    }
    return PSResult(output=[output], changed=False)


def register() -> bool:
    """Register the emulation when the script is the one it was written from."""
    text = SCRIPT.read_text(encoding="utf-8")
    if hashlib.sha256(text.encode()).hexdigest() != SHA256:
        return False
    POWERSHELL_SCRIPTS.register(text, node_diagnostics)
    return True


REGISTERED = register()
