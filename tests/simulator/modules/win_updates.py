"""ansible.windows.win_updates (win_updates.ps1, Ansible.Basic), as its action plugin drives it.

The action plugin (plugins/action/win_updates.py) never gets the update results from one module run:
it runs the module with ``_operation: start`` (the real module spawns a background process that
searches, downloads and installs, and answers at once with ``poll_options.pipe_name`` and
``cancel_options``), then ``_operation: poll`` until a progress record ``exit`` arrives, then
``_operation: cancel``; after an ``exit`` with ``reboot_required`` it reboots the host with the reboot
helper win_reboot uses and starts another round. The emulation keeps that protocol:

* ``start`` does the whole background run at once on the host state (the real background task runs
  whether or not the controller polls) and keeps its progress records, grouped the way the pipe
  delivers them between two 1-second read gaps: ``search_result``; the ``download`` progress and
  ``download_result``; the ``install`` progress and ``install_result``; ``exit`` closes the last group.
  The ``started`` record is read by the module's own start-up wait, never by a poll.
* ``poll`` returns the next group; after the ``exit`` it returns ``exit`` again, as the pipe repeats
  it until the cancel (``Receive-ProgressOutput`` stops reading at an ``exit``).
* ``cancel`` forgets the task (``Set-CancelEvent`` tolerates a task that already ended).
* ``_operation_options.wait`` (the action plugin's async path) formats the results in the module,
  as the ``.ps1``'s ``if ($wait)`` block does.

What ``Install-WindowsUpdate`` does is followed line by line: ``IsInstalled = 0`` search, the filters
in its order (``accept_list``, ``reject_list``, ``hidden``, ``category_names``, ``skip_optional``), check
mode and ``state: searched`` stop after the search, "A reboot is required before more updates can be
installed" when Windows Update still waits for a reboot, download of what is not downloaded, install,
result codes (2 succeeded, 4 failed) with signed HRESULTs, and "Failed to download/install all updates
- see updates for more information". The updates come from ``host.updates`` (HOSTS.yml
``seed.updates``, see config.validate_updates). An installed update that needs a reboot is
``pending_reboot``: Windows Update's ``RebootRequired`` key exists (``Microsoft.Update.SystemInfo``
reads it, so does windows_facts) and ``host.reboot()`` completes it: the UBR becomes the highest
``revision`` of the updates completed, in ``host.revision`` and the registry.
"""

from __future__ import annotations

import re
import uuid
import zlib
from typing import Any

from tests.simulator.host import SimulatorError, WindowsHost

from ._core import ModuleRun, emulates

__all__ = ["WU_REBOOT_KEY", "complete_pending_updates", "reboot_required"]

# Windows Update creates it when an installed update waits for a reboot; SystemInfo.RebootRequired.
WU_REBOOT_KEY = r"HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate\Auto Update\RebootRequired"
_CURRENT_VERSION = r"HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion"
_EXTRA = "win_updates"
_HOOK_FLAG = "win_updates.boot_hook"

# win_updates.ps1: "For backwards compatibility - allow the camel case names".
_CATEGORY_ALIASES = {
    "CriticalUpdates": "Critical Updates",
    "DefinitionUpdates": "Definition Updates",
    "DeveloperKits": "Developer Kits",
    "FeaturePacks": "Feature Packs",
    "SecurityUpdates": "Security Updates",
    "ServicePacks": "Service Packs",
    "UpdateRollups": "Update Rollups",
}
# Ansible.Windows.WinUpdates.OperationResultCode
_SUCCEEDED = 2
_FAILED = 4


# --------------------------------------------------------------------------------------------
# host state


def reboot_required(host: WindowsHost) -> bool:
    """``(New-Object -ComObject Microsoft.Update.SystemInfo).RebootRequired``."""
    return host.reg_key_exists(WU_REBOOT_KEY)


def complete_pending_updates(host: WindowsHost) -> None:
    """Boot hook: the updates installed before the reboot are complete; the UBR moves on."""
    done = [u for u in host.updates if u["status"] == "pending_reboot"]
    for update in done:
        update["status"] = "installed"
    _apply_revision(host, done)
    if reboot_required(host):
        host.delete_reg(WU_REBOOT_KEY)


def _apply_revision(host: WindowsHost, completed: list[dict[str, Any]]) -> None:
    revisions = [u["revision"] for u in completed if u.get("revision") is not None]
    if revisions and max(revisions) > host.revision:
        host.revision = max(revisions)
        host.set_reg(_CURRENT_VERSION, "UBR", "DWord", host.revision)


def _register_boot_hook(host: WindowsHost) -> None:
    if not host.extra.get(_HOOK_FLAG):
        host.boot_hooks.append(complete_pending_updates)
        host.extra[_HOOK_FLAG] = True


# --------------------------------------------------------------------------------------------
# search and filters (Install-WindowsUpdate)


def _format_update_info(update: dict[str, Any]) -> dict[str, Any]:
    """Format-UpdateInfo: the raw record the action plugin keeps per update."""
    return {
        "id": update["id"],
        "title": update["title"],
        "description": update["title"],
        "kb": [f"KB{kb}" for kb in update["kb"]],
        "type": "Software",
        "deployment_action": "Installation",
        "auto_select_on_websites": not update["browse_only"],
        "browse_only": update["browse_only"],
        "revision_number": 200 + zlib.crc32(update["id"].encode()) % 100,
        "categories": list(update["categories"]),
        "is_installed": False,
        "is_hidden": update["hidden"],
        "is_present": False,
        "reboot_required": False,
        "impact": "Normal",
        "reboot_behaviour": "CanRequestReboot" if update["reboot_required"] else "NeverReboots",
        "is_beta": False,
        "is_downloaded": update["status"] == "downloaded",
        "is_mandatory": False,
        "is_uninstallable": True,
        "auto_selection": "LetWindowsUpdateDecide",
        "auto_download": "LetWindowsUpdateDecide",
    }


def _in_list(text: str, patterns: list[str]) -> bool:
    """Test-InList: ``-imatch`` (a case-insensitive regex search); an empty list matches everything."""
    if not patterns:
        return True
    try:
        return any(re.search(pattern, text, re.IGNORECASE) for pattern in patterns)
    except re.error as exc:
        # .NET and Python regexes differ at the edges; a pattern Python refuses is not guessed at.
        raise SimulatorError(f"simulator: cannot evaluate the accept/reject pattern as a regex: {exc}") from exc


def _filter_reasons(
    info: dict[str, Any], categories: list[str], accept: list[str], reject: list[str], skip: bool
) -> list[str]:
    category_match = not categories or any(
        c == "*" or any(c.lower() == own.lower() for own in info["categories"]) for c in categories
    )
    # `$updateInfo.title + $updateInfo.kb` is string + array: PowerShell joins the KB ids with spaces
    # onto the title, so the patterns see one string ("...(KB5041160)KB5041160").
    match_text = info["title"] + " ".join(info["kb"])
    reasons = []
    if not _in_list(match_text, accept):
        reasons.append("accept_list")
    if reject and _in_list(match_text, reject):
        reasons.append("reject_list")
    if info["is_hidden"]:
        reasons.append("hidden")
    if not category_match:
        reasons.append("category_names")
    if skip and info["browse_only"]:
        reasons.append("skip_optional")
    return reasons


# --------------------------------------------------------------------------------------------
# the background run


def _size(update: dict[str, Any]) -> int:
    # Bytes a download reports; WUA's sizes are not modelled, a stable number per update is enough.
    return (40 + zlib.crc32(update["id"].encode()) % 400) * 1024 * 1024


def _exit(changed: bool, reboot: bool, message: str | None = None) -> dict[str, Any]:
    result: dict[str, Any] = {"changed": changed, "failed": message is not None, "reboot_required": reboot}
    result["action"] = None
    result["exception"] = (
        None
        if message is None
        else {
            "message": message,
            "exception": f"{message}\r\n\r\n(simulated: raised by the emulation, no PowerShell stack trace)",
        }
    )
    return {"task": "exit", "result": result}


def _download_progress(updates: list[dict[str, Any]], index: int) -> dict[str, Any]:
    total = sum(_size(u) for u in updates)
    done = sum(_size(u) for u in updates[: index + 1])
    update = updates[index]
    failed = update["failure_hresult"] is not None and update["failure_phase"] == "download"
    return {
        "task": "download",
        "result": {
            "progress": {
                "CurrentUpdateId": update["id"],
                "CurrentUpdateIndex": index,
                "CurrentUpdateBytesDownloaded": _size(update),
                "CurrentUpdateBytesToDownload": _size(update),
                "CurrentUpdateDownloadPhase": 3,  # Verifying
                "CurrentUpdatePercentComplete": 100,
                "PercentComplete": done * 100 // total,
                "TotalBytesDownloaded": done,
                "TotalBytesToDownload": total,
            },
            "result": {
                "HResult": update["failure_hresult"] if failed else 0,
                "ResultCode": _FAILED if failed else _SUCCEEDED,
            },
        },
    }


def _install_progress(updates: list[dict[str, Any]], index: int, codes: dict[str, tuple[int, int, bool]]) -> dict:
    code, hresult, reboot = codes[updates[index]["id"]]
    return {
        "task": "install",
        "result": {
            "progress": {
                "CurrentUpdateId": updates[index]["id"],
                "CurrentUpdateIndex": index,
                "CurrentUpdatePercentComplete": 100,
                "PercentComplete": (index + 1) * 100 // len(updates),
            },
            "result": {"HResult": hresult, "RebootRequired": reboot, "ResultCode": code},
        },
    }


def _run(host: WindowsHost, params: dict[str, Any], check_mode: bool) -> list[list[dict[str, Any]]]:
    """Install-WindowsUpdate on the host state; returns the progress records in pipe read groups."""
    categories = [_CATEGORY_ALIASES.get(c, c) for c in params["category_names"] or []]
    accept = list(params["accept_list"] or [])
    reject = list(params["reject_list"] or [])
    state = params["state"]
    pending_reboot = reboot_required(host)

    found = [u for u in host.updates if u["status"] in ("available", "downloaded")]  # IsInstalled = 0
    infos, filtered, selected = [], [], []
    for update in found:
        info = _format_update_info(update)
        infos.append(info)
        reasons = _filter_reasons(info, categories, accept, reject, bool(params["skip_optional"]))
        if reasons:
            filtered.append({"id": update["id"], "reasons": reasons})
        else:
            selected.append(update)
    groups: list[list[dict[str, Any]]] = [
        [{"task": "search_result", "result": {"updates": infos, "filtered": filtered}}]
    ]
    if check_mode or state == "searched" or not selected:
        groups[-1].append(_exit(bool(selected) and state != "searched", pending_reboot))
        return groups
    if pending_reboot:
        groups[-1].append(_exit(False, pending_reboot, "A reboot is required before more updates can be installed"))
        return groups

    to_download = [u for u in selected if u["status"] != "downloaded"]
    if to_download:
        group = [_download_progress(to_download, i) for i in range(len(to_download))]
        info = []
        for update in to_download:
            failed = update["failure_hresult"] is not None and update["failure_phase"] == "download"
            info.append(
                {
                    "id": update["id"],
                    "result_code": _FAILED if failed else _SUCCEEDED,
                    "hresult": update["failure_hresult"] if failed else 0,
                }
            )
            if not failed:
                update["status"] = "downloaded"
        group.append({"task": "download_result", "result": {"info": info}})
        groups.append(group)
        if any(i["result_code"] != _SUCCEEDED for i in info):
            group.append(
                _exit(True, pending_reboot, "Failed to download all updates - see updates for more information")
            )
            return groups
    if state == "downloaded":
        groups[-1].append(_exit(bool(to_download), pending_reboot))
        return groups

    codes: dict[str, tuple[int, int, bool]] = {}
    completed_now = []
    for update in selected:
        if update["failure_hresult"] is not None and update["failure_phase"] == "install":
            codes[update["id"]] = (_FAILED, update["failure_hresult"], False)
            continue
        codes[update["id"]] = (_SUCCEEDED, 0, update["reboot_required"])
        if update["reboot_required"]:
            update["status"] = "pending_reboot"
            host.create_reg_key(WU_REBOOT_KEY)
            _register_boot_hook(host)
        else:
            update["status"] = "installed"
            completed_now.append(update)
    _apply_revision(host, completed_now)
    group = [_install_progress(selected, i, codes) for i in range(len(selected))]
    group.append(
        {
            "task": "install_result",
            "result": {
                "info": [
                    {"id": uid, "result_code": code, "hresult": hresult, "reboot_required": reboot}
                    for uid, (code, hresult, reboot) in codes.items()
                ]
            },
        }
    )
    if any(code != _SUCCEEDED for code, _h, _r in codes.values()):
        # The loop set reboot_required from the results before the throw; SystemInfo is not read again.
        reboot = pending_reboot or any(r for _c, _h, r in codes.values())
        group.append(_exit(True, reboot, "Failed to install all updates - see updates for more information"))
    else:
        group.append(_exit(True, reboot_required(host)))
    groups.append(group)
    return groups


# --------------------------------------------------------------------------------------------
# the module's three operations


def _tasks(host: WindowsHost) -> dict[str, dict[str, Any]]:
    return host.extra.setdefault(_EXTRA, {})


def _wait_result(run: ModuleRun, groups: list[list[dict[str, Any]]]) -> None:
    """The ``.ps1``'s ``if ($wait)`` block: the results formatted by the module itself (async)."""
    result = run.result
    result.update(
        reboot_required=False,
        rebooted=False,
        changed=False,
        found_update_count=0,
        failed_update_count=0,
        installed_update_count=0,
        updates={},
        filtered_updates={},
    )
    updates: dict[str, dict[str, Any]] = {}
    for record in (r for group in groups for r in group):
        task, body = record["task"], record["result"]
        if task == "search_result":
            reasons = {f["id"]: f["reasons"] for f in body["filtered"]}
            for info in body["updates"]:
                entry = {
                    "categories": list(info["categories"]),
                    "id": info["id"],
                    "installed": False,
                    "downloaded": False,
                    "kb": [k[2:] if k.startswith("KB") else k for k in info["kb"]],
                    "title": info["title"],
                }
                if info["id"] in reasons:
                    entry["filtered_reasons"] = list(reasons[info["id"]])
                updates[info["id"]] = entry
        elif task in ("download_result", "install_result"):
            for info in body["info"]:
                entry = updates[info["id"]]
                if info["result_code"] != _SUCCEEDED:
                    entry["failure_hresult_code"] = info["hresult"]
                else:
                    entry["downloaded" if task == "download_result" else "installed"] = True
        elif task == "exit":
            result.update(changed=body["changed"], reboot_required=body["reboot_required"], failed=body["failed"])
            if body["exception"]:
                result["msg"] = body["exception"]["message"]
                result["exception"] = body["exception"]["exception"]
    for uid, info in updates.items():
        if "filtered_reasons" in info:
            result["filtered_updates"][uid] = info
            continue
        result["found_update_count"] += 1
        if "failure_hresult_code" in info:
            result["failed_update_count"] += 1
        elif info["installed"]:
            result["installed_update_count"] += 1
        result["updates"][uid] = info


@emulates("ansible.windows.win_updates")
def win_updates(run: ModuleRun) -> None:
    p = run.params
    options = p["_operation_options"] or {}
    tasks = _tasks(run.host)
    if p["_operation"] == "cancel":
        tasks.pop(str(options.get("cancel_id", "")), None)
        return
    if p["_operation"] == "poll":
        task = next((t for t in tasks.values() if t["pipe_name"] == options.get("pipe_name")), None)
        if task is None:
            # Receive-ProgressOutput: NamedPipeClientStream.Connect(300000) times out (at once here).
            run.fail("Timed out waiting for server pipe to be available")
        run.result["output"] = task["groups"].pop(0) if task["groups"] else [task["exit"]]
        return
    if p["log_path"] and not run.check_mode:
        # The real background task appends its WriteLog lines there; their text is not modelled.
        raise SimulatorError("simulator: win_updates log_path (the update task's log file) is not emulated")
    groups = _run(run.host, p, run.check_mode)
    if options.get("wait"):
        _wait_result(run, groups)
        return
    task_id = str(uuid.uuid4())
    cancel_id = f"Global\\Ansible.Windows.WinUpdates-{task_id}"
    pipe_name = f"Ansible.Windows.WinUpdates-{task_id}"
    tasks[cancel_id] = {"pipe_name": pipe_name, "groups": groups, "exit": groups[-1][-1]}
    run.result["cancel_options"] = {"cancel_id": cancel_id, "task_pid": run.pseudo_pid()}
    run.result["poll_options"] = {"pipe_name": pipe_name}
