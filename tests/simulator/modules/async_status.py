"""ansible.windows.async_status (async_status.ps1, a Legacy module).

The real module reads the job file ``<_async_dir>\\<jid>`` the async wrapper keeps up to date; in
the simulator the transport runs async tasks synchronously and stores the job record in
``host.async_jobs[jid]`` (started/finished/ansible_job_id/results_file plus the module result).
"""

from __future__ import annotations

import copy

from ._core import ModuleRun, emulates
from ._winutil import join_path
from .argspec import SpecOverrides

_OVERRIDES = SpecOverrides(
    # async_status.ps1 reads `_async_dir` (-failifempty), which the async_status action plugin adds.
    options={"_async_dir": {"type": "path", "required": True}},
)


@emulates("ansible.windows.async_status", _OVERRIDES)
def async_status(run: ModuleRun) -> None:
    p = run.params
    jid, async_dir = str(p["jid"]), p["_async_dir"]
    log_path = join_path(async_dir, jid)
    job = run.host.async_jobs.get(jid)
    if job is None:
        run.result = {"ansible_job_id": jid, "started": 1, "finished": 1}
        run.fail(f"could not find job at '{async_dir}'")
    if p["mode"] == "cleanup":
        del run.host.async_jobs[jid]  # Remove-Item without -WhatIf: even in check mode
        run.result = {"ansible_job_id": jid, "erased": log_path}
        return
    data = copy.deepcopy(job)
    if "started" not in data:
        data["finished"] = 1
        data["ansible_job_id"] = jid
    elif "finished" not in data:
        data["finished"] = 0
    run.result = data
