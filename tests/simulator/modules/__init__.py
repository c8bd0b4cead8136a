"""Python emulations of the Windows modules the collection's roles use.

``run_module(host, request)`` returns the JSON the real module would print for ``request`` on
``host`` (``failed: True`` + ``msg`` on failure) and raises ``ModuleNotEmulated`` (a
``host.SimulatorError``) for a module it does not emulate. Arguments are validated against the
installed collection's documentation with ansible-core's ``ArgumentSpecValidator`` and the
behaviour of the module util the real ``.ps1`` uses (see ``argspec``).
"""

from __future__ import annotations

from typing import Any

from tests.simulator.contract import ModuleRequest
from tests.simulator.host import WindowsHost

# Importing the family modules registers their emulations.
from . import (  # noqa: F401
    async_status,
    collection_probes,
    hns_state,
    node_diagnostics,
    setup,
    slurp,
    win_command,
    win_copy,
    win_environment,
    win_feature,
    win_file,
    win_find,
    win_firewall_rule,
    win_get_url,
    win_nssm,
    win_ping,
    win_powershell,
    win_registry,
    win_service,
    win_stat,
    win_updates,
)
from ._core import REGISTRY, ModuleNotEmulated, execute, spec_of
from .win_command import SHELL_COMMANDS
from .win_powershell import POWERSHELL_SCRIPTS, PSResult

__all__ = [
    "POWERSHELL_SCRIPTS",
    "SHELL_COMMANDS",
    "ModuleNotEmulated",
    "PSResult",
    "emulated_modules",
    "run_module",
    "spec_of",
]


def emulated_modules() -> list[str]:
    """FQCNs of every emulated module."""
    return sorted(REGISTRY)


def run_module(host: WindowsHost, request: ModuleRequest) -> dict[str, Any]:
    """Run ``request`` on ``host`` like the real module and return its result JSON (as a dict)."""
    with host.lock:
        return execute(host, request)
