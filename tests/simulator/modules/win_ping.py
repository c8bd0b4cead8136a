"""ansible.windows.win_ping (win_ping.ps1)."""

from __future__ import annotations

from ._core import ModuleRun, UnhandledError, emulates


@emulates("ansible.windows.win_ping")
def win_ping(run: ModuleRun) -> None:
    data = run.params["data"]
    if data == "crash":  # win_ping.ps1: `throw "boom"`, the documented way to test failure handling
        raise UnhandledError("boom")
    run.result["ping"] = data
