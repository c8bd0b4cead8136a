"""The small data types that pass between the simulator's layers."""

from __future__ import annotations

import dataclasses
from typing import Any


@dataclasses.dataclass
class ModuleRequest:
    """One module run as decoded from the wire.

    ``name`` is the module's FQCN taken from the manifest's ``Script`` entry
    (``ansible.windows.win_copy``), never from ``_ansible_module_name``. ``args`` are the user
    arguments; ``internal`` the ``_ansible_*`` keys (check mode, diff, no_log, verbosity, ...).
    ``environment`` is the task's ``environment:`` keyword as the exec manifest carries it (2.19+:
    the module_wrapper action's ``Environment``; <= 2.18: the payload's ``environment``).
    module_wrapper.ps1 sets each variable in the module's own process
    (``[Environment]::SetEnvironmentVariable``), so the processes the module starts inherit them.
    """

    name: str
    args: dict[str, Any]
    internal: dict[str, Any] = dataclasses.field(default_factory=dict)
    source_sha256: str | None = None
    core_version: str | None = None
    environment: dict[str, str] = dataclasses.field(default_factory=dict)

    @property
    def check_mode(self) -> bool:
        return bool(self.internal.get("_ansible_check_mode"))

    @property
    def diff(self) -> bool:
        return bool(self.internal.get("_ansible_diff"))

    @property
    def no_log(self) -> bool:
        return bool(self.internal.get("_ansible_no_log"))

    @property
    def verbosity(self) -> int:
        return int(self.internal.get("_ansible_verbosity") or 0)


@dataclasses.dataclass
class ExecResult:
    """What a process run on the simulated host gives back."""

    rc: int
    stdout: str = ""
    stderr: str = ""
