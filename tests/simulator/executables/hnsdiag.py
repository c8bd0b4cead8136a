r"""``hnsdiag.exe delete endpoints|networks <id> [<id> ...]`` over the host's HNS state (``host.extra["hns"]``).

hnsdiag.exe (Host Network Service Diagnostics Tool) is in System32; its usage text names the commands
``list <object> [ids]`` and ``delete <object> <id_1> [id_2 ... id_n]`` over the objects Endpoints,
Loadbalancers, Namespaces and Networks. Only ``delete`` of endpoints and networks is emulated (what the
reset role runs; RKE2's rke2-uninstall.ps1 and the Windows containers troubleshooting guide run the same
``hnsdiag delete endpoints <id>`` / ``hnsdiag delete networks <id>``). ``list``, the other objects and
every flag fail loudly as not emulated: their output is not modelled, and nothing here invents it.

Ids are HNS GUIDs, compared without case. Outcomes:

* every id exists → each object is removed, exit 0, no output [UNVERIFIED: what hnsdiag prints on success
  was not found in any source; the emulation prints nothing];
* an id that does not exist → the others are still deleted, exit 1, one line per missing id with the HNS
  error text ``Element not found.`` [RECONSTRUCTED: "Element not found." is what HNS answers for an
  unknown object (hcsshim issue #95, ``HNS failed with error : Element not found.``); the line's layout,
  the exit code and whether hnsdiag goes on after a failed id are not verified];
* a network that still has endpoints, or a host without the Host Network Service (no Containers feature)
  → not emulated: what HNS does then is not known here, and the reset role never asks for it.
"""

from __future__ import annotations

from typing import Any

from tests.simulator.contract import ExecResult
from tests.simulator.executables.common import Invocation, fail, not_emulated, ok

# The HNS's answer for an id it does not know (ERROR_NOT_FOUND, 0x80070490).
NOT_FOUND = "Element not found."
_OBJECTS = {"endpoints": "endpoints", "networks": "networks"}


def _delete(state: dict[str, Any], kind: str, ids: list[str]) -> list[str]:
    """Remove the listed objects; the ids that matched nothing."""
    objects: list[dict[str, Any]] = state.setdefault(kind, [])
    missing: list[str] = []
    for wanted in ids:
        match = [o for o in objects if str(o.get("ID", "")).lower() == wanted.lower()]
        if not match:
            missing.append(wanted)
            continue
        objects.remove(match[0])
    return missing


def _attached(state: dict[str, Any], network_ids: list[str]) -> list[str]:
    """The endpoints still attached to any of these networks."""
    wanted = {n.lower() for n in network_ids}
    return [str(e["ID"]) for e in state.get("endpoints", []) if str(e.get("VirtualNetwork", "")).lower() in wanted]


def run(inv: Invocation) -> ExecResult:
    args = list(inv.args)
    if len(args) < 3 or args[0].lower() != "delete" or args[1].lower() not in _OBJECTS:
        return not_emulated(inv)
    if any(a.startswith("-") for a in args[2:]):
        return not_emulated(inv)
    host = inv.host
    if host.service("hns") is None:
        return not_emulated(inv, "hnsdiag.exe without the Host Network Service (the Containers feature)")
    kind, ids = _OBJECTS[args[1].lower()], args[2:]
    state = host.extra.setdefault("hns", {"networks": [], "endpoints": []})
    if kind == "networks":
        busy = _attached(state, ids)
        if busy:
            return not_emulated(inv, f"hnsdiag.exe delete networks of a network with endpoints ({', '.join(busy)})")
    missing = _delete(state, kind, ids)
    if missing:
        return fail(1, stdout="".join(f"{oid}: {NOT_FOUND}\r\n" for oid in missing))
    return ok()
