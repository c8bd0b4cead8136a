"""Building module requests the way ansible-core sends them, for tests and in-process use."""

from __future__ import annotations

from typing import Any

from tests.simulator.contract import ModuleRequest
from tests.simulator.host import WindowsHost

from . import run_module

__all__ = ["call", "request"]


def request(
    name: str,
    args: dict[str, Any] | None = None,
    *,
    check: bool = False,
    diff: bool = False,
    no_log: bool = False,
    module_name: str | None = None,
    core_version: str = "2.19.14",
) -> ModuleRequest:
    """A ``ModuleRequest`` with the ``_ansible_*`` keys ansible-core 2.19 puts in ``complex_args``.

    ``name`` may be short (``win_ping`` means ``ansible.windows.win_ping``); ``module_name`` is what
    the task called it (``_ansible_module_name``, used in Ansible.Basic's messages).
    """
    fqcn = name if name.count(".") == 2 else f"ansible.windows.{name}"
    internal = {
        "_ansible_check_mode": check,
        "_ansible_no_log": no_log,
        "_ansible_debug": False,
        "_ansible_diff": diff,
        "_ansible_verbosity": 0,
        "_ansible_version": core_version,
        "_ansible_module_name": module_name or fqcn,
        "_ansible_remote_tmp": "%TEMP%",
        "_ansible_tmpdir": None,
        "_ansible_keep_remote_files": False,
    }
    return ModuleRequest(name=fqcn, args=dict(args or {}), internal=internal, core_version=core_version)


def call(host: WindowsHost, name: str, args: dict[str, Any] | None = None, **options: Any) -> dict[str, Any]:
    """``run_module(host, request(name, args, **options))``."""
    return run_module(host, request(name, args, **options))
