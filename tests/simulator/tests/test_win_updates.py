"""ansible.windows.win_updates: HOSTS.yml ``seed.updates``, the start/poll/cancel protocol in process,
and the real action plugin (search, filters, install, reboot rounds, check mode, failures) through
ansible-playbook against the simulator."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.simulator.config import ConfigError, parse_config, validate_updates
from tests.simulator.host import WindowsHost
from tests.simulator.modules.testing import call
from tests.simulator.modules.win_updates import WU_REBOOT_KEY

CU = "6a1f6f1e-3e55-4b3a-9a4e-1c2d3e4f5a60"
MSRT = "0b2c3d4e-5f60-4718-8293-a4b5c6d7e8f9"
DEFENDER = "11111111-2222-4333-8444-555555555555"
BROKEN = "22222222-3333-4444-8555-666666666666"
CURRENT_VERSION = r"HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion"

UPDATES: list[dict[str, Any]] = [
    {
        "id": CU,
        "title": "2024-08 Cumulative Update for Microsoft server operating system version 21H2 for x64-based "
        "Systems (KB5041160)",
        "kb": [5041160],
        "categories": ["Security Updates", "Microsoft Server operating system-21H2"],
        "revision": 2582,
    },
    {
        "id": MSRT,
        "title": "Windows Malicious Software Removal Tool x64 - v5.127 (KB890830)",
        "kb": ["890830"],
        "categories": ["Update Rollups", "Microsoft Server operating system-21H2"],
        "reboot_required": False,
    },
    {
        "id": DEFENDER,
        "title": "Microsoft Defender Antivirus antimalware platform update - KB4052623",
        "kb": [4052623],
        "categories": ["Definition Updates"],
        "browse_only": True,
    },
]
FAILING = {
    "id": BROKEN,
    "title": "2024-08 Servicing Stack Update (KB5041000)",
    "kb": [5041000],
    "categories": ["Security Updates"],
    "failure_hresult": 0x80240022,
}


def _config(updates: list[dict[str, Any]], **host: Any) -> dict[str, Any]:
    return {"hosts": [{"name": "w1", "os_version": "10.0.20348.2527", "seed": {"updates": updates}, **host}]}


def _host(updates: list[dict[str, Any]]) -> WindowsHost:
    seed = parse_config(_config(updates)).hosts[0].seed
    return WindowsHost("w1", os_version="10.0.20348.2527", seed=seed)


# --------------------------------------------------------------------------------------------
# HOSTS.yml seed.updates


def test_updates_are_normalised_with_their_defaults() -> None:
    updates = validate_updates([UPDATES[0], FAILING], "seed.updates", 2527)
    assert updates[0]["kb"] == ["5041160"] and updates[0]["reboot_required"] is True
    assert updates[0]["status"] == "available" and updates[0]["failure_hresult"] is None
    # Signed, as PowerShell passes IUpdateInstallationResult.HResult on.
    assert updates[1]["failure_hresult"] == 0x80240022 - 0x100000000
    assert updates[1]["failure_phase"] == "install"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"id": "KB5041160"}, "seed.updates[0].id: must be an update GUID"),
        ({"revision": 2527}, "seed.updates[0].revision: must be a UBR above the host's 2527, got 2527"),
        ({"failure_hresult": 5}, "must be an error HRESULT such as 0x80240022, got 5"),
        ({"failure_phase": "download"}, "failure_phase: only goes with failure_hresult"),
        ({"kb": ["KB5041160"]}, "kb: must be a list of KB article numbers (digits, without 'KB')"),
        ({"categories": []}, "categories: must be a non-empty list of category names"),
        ({"reboot_required": "yes"}, "reboot_required: must be true or false, got 'yes'"),
        ({"severity": "high"}, "unknown key(s) severity"),
    ],
)
def test_bad_update_entries_are_refused_with_their_path(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(_config([{**UPDATES[0], **change}]))
    assert message in str(err.value)
    assert "hosts[0] (w1).seed.updates[0]" in str(err.value)


def test_an_update_listed_twice_is_refused() -> None:
    with pytest.raises(ConfigError, match="is listed twice"):
        parse_config(_config([UPDATES[0], {**UPDATES[1], "id": CU.upper()}]))


# --------------------------------------------------------------------------------------------
# the protocol, in process


def _start(host: WindowsHost, check: bool = False, **args: Any) -> dict[str, Any]:
    result = call(host, "win_updates", {"_operation": "start", **args}, check=check)
    assert not result.get("failed"), result
    return result


def _poll(host: WindowsHost, start: dict[str, Any]) -> list[dict[str, Any]]:
    result = call(host, "win_updates", {"_operation": "poll", "_operation_options": start["poll_options"]})
    assert not result.get("failed"), result
    return result["output"]


def test_start_answers_with_the_pipe_and_cancel_options_and_polls_deliver_phase_by_phase() -> None:
    host = _host(UPDATES)
    start = _start(host, category_names=["SecurityUpdates", "UpdateRollups"])
    assert start["changed"] is False
    assert start["poll_options"]["pipe_name"].startswith("Ansible.Windows.WinUpdates-")
    assert start["cancel_options"]["cancel_id"] == "Global\\" + start["poll_options"]["pipe_name"]
    assert "_operation" in start["invocation"]["module_args"]  # the action plugin removes it
    search, download, install = (_poll(host, start) for _ in range(3))
    assert [r["task"] for r in search] == ["search_result"]
    assert search[0]["result"]["filtered"] == [{"id": DEFENDER, "reasons": ["category_names"]}]
    assert [r["task"] for r in download] == ["download", "download", "download_result"]
    assert [r["task"] for r in install] == ["install", "install", "install_result", "exit"]
    assert install[-1]["result"] == {
        "changed": True,
        "failed": False,
        "reboot_required": True,
        "action": None,
        "exception": None,
    }
    # The pipe repeats exit until the cancel; afterwards there is no pipe any more.
    assert _poll(host, start) == [install[-1]]
    call(host, "win_updates", {"_operation": "cancel", "_operation_options": start["cancel_options"]})
    gone = call(host, "win_updates", {"_operation": "poll", "_operation_options": start["poll_options"]})
    assert gone["failed"] and gone["msg"] == "Timed out waiting for server pipe to be available"


def test_install_that_needs_a_reboot_completes_at_the_reboot() -> None:
    host = _host(UPDATES)
    start = _start(host, category_names=["SecurityUpdates"])
    for _ in range(3):
        _poll(host, start)
    assert host.updates[0]["status"] == "pending_reboot"
    assert host.reg_key_exists(WU_REBOOT_KEY)
    assert host.revision == 2527 and host.get_reg(CURRENT_VERSION, "UBR") == ("DWord", 2527)
    host.reboot()
    assert host.updates[0]["status"] == "installed"
    assert not host.reg_key_exists(WU_REBOOT_KEY)
    assert host.revision == 2582 and host.get_reg(CURRENT_VERSION, "UBR") == ("DWord", 2582)


def test_a_pending_reboot_stops_the_next_install() -> None:
    host = _host(UPDATES)
    host.create_reg_key(WU_REBOOT_KEY)
    start = _start(host, category_names=["*"])
    exit_record = _poll(host, start)[-1]["result"]
    assert exit_record["failed"] and exit_record["reboot_required"]
    assert exit_record["exception"]["message"] == "A reboot is required before more updates can be installed"
    assert all(u["status"] == "available" for u in host.updates)


@pytest.mark.parametrize(
    ("args", "reasons"),
    [
        ({"category_names": ["*"]}, {}),
        ({"category_names": []}, {}),  # no category given: every category matches
        ({"category_names": ["security updates"]}, {MSRT: ["category_names"], DEFENDER: ["category_names"]}),
        # one string: the title with the KB ids appended (PowerShell's string + array)
        ({"category_names": ["*"], "accept_list": ["KB5041160$"]}, {MSRT: ["accept_list"], DEFENDER: ["accept_list"]}),
        ({"category_names": ["*"], "reject_list": ["malicious"]}, {MSRT: ["reject_list"]}),
        ({"category_names": ["*"], "skip_optional": True}, {DEFENDER: ["skip_optional"]}),
        (
            {"category_names": ["UpdateRollups"], "accept_list": ["890830"], "reject_list": ["Removal"]},
            {CU: ["accept_list", "category_names"], MSRT: ["reject_list"], DEFENDER: ["accept_list", "category_names"]},
        ),
    ],
)
def test_filters_follow_the_module_in_its_order(args: dict[str, Any], reasons: dict[str, list[str]]) -> None:
    host = _host(UPDATES)
    search = _poll(host, _start(host, check=True, **args))
    assert {f["id"]: f["reasons"] for f in search[0]["result"]["filtered"]} == reasons
    assert search[-1]["task"] == "exit"
    # check mode searches only: it changes nothing and says it would
    assert search[-1]["result"]["changed"] is (len(reasons) < 3)
    assert all(u["status"] == "available" for u in host.updates)


def test_state_downloaded_downloads_only() -> None:
    host = _host(UPDATES)
    start = _start(host, category_names=["*"], state="downloaded")
    _poll(host, start)
    download = _poll(host, start)
    assert [r["task"] for r in download][-2:] == ["download_result", "exit"]
    assert [u["status"] for u in host.updates] == ["downloaded"] * 3
    assert not host.reg_key_exists(WU_REBOOT_KEY)


def test_wait_formats_the_result_in_the_module_for_async() -> None:
    host = _host([*UPDATES, FAILING])
    result = call(host, "win_updates", {"category_names": ["*"], "_operation_options": {"wait": True}})
    assert result["failed"] and result["msg"] == "Failed to install all updates - see updates for more information"
    assert result["found_update_count"] == 4 and result["failed_update_count"] == 1
    assert result["installed_update_count"] == 3
    assert result["updates"][BROKEN]["failure_hresult_code"] == 0x80240022 - 0x100000000
    assert result["updates"][CU]["kb"] == ["5041160"]
    assert result["reboot_required"] is True


# --------------------------------------------------------------------------------------------
# the real action plugin through ansible-playbook

PATCH_PLAY = """\
- hosts: windows_nodes
  gather_facts: false
  tasks:
    - name: Install
      ansible.windows.win_updates:
        category_names: [SecurityUpdates, UpdateRollups]
        reboot: {reboot}
      register: result
      ignore_errors: true
    - name: Keep the result
      ansible.builtin.copy:
        content: "{{{{ result | to_json }}}}"
        dest: "{out}"
        mode: "0600"
      delegate_to: localhost
      check_mode: false
"""


def _play(handle: Any, tmp_path: Path, *args: str, reboot: bool = True) -> tuple[Any, dict[str, Any]]:
    out = tmp_path / "result.json"
    play = tmp_path / "play.yml"
    play.write_text(PATCH_PLAY.format(reboot=str(reboot).lower(), out=out))
    proc = handle.playbook(play, *args)
    return proc, json.loads(out.read_text())


@pytest.mark.slow
def test_action_plugin_installs_reboots_and_reports(windows_sim: Any, tmp_path: Path) -> None:
    handle = windows_sim(_config(UPDATES))
    proc, result = _play(handle, tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert result["changed"] and result["rebooted"] and not result["reboot_required"]
    assert sorted(result["updates"]) == sorted([CU, MSRT])
    assert all(u["installed"] and u["downloaded"] for u in result["updates"].values())
    assert result["updates"][CU]["kb"] == ["5041160"]
    assert result["filtered_updates"][DEFENDER]["filtered_reasons"] == ["category_names"]
    assert (result["found_update_count"], result["installed_update_count"]) == (2, 2)
    state = handle.state("w1")
    assert state["os_version"] == "10.0.20348.2582" and state["boot_count"] == 2
    assert state["registry"][CURRENT_VERSION]["UBR"] == ["DWord", 2582]
    # a second run finds nothing left to do: no change, no reboot
    proc, again = _play(handle, tmp_path)
    assert proc.returncode == 0, proc.stdout
    assert again["changed"] is False and again["found_update_count"] == 0 and not again["rebooted"]
    assert handle.state("w1")["boot_count"] == 2


@pytest.mark.slow
def test_check_mode_lists_what_would_be_installed_and_changes_nothing(windows_sim: Any, tmp_path: Path) -> None:
    handle = windows_sim(_config(UPDATES))
    proc, result = _play(handle, tmp_path, "--check")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert result["changed"] and sorted(result["updates"]) == sorted([CU, MSRT])
    assert not any(u["installed"] for u in result["updates"].values())
    state = handle.state("w1")
    assert state["boot_count"] == 1 and state["os_version"] == "10.0.20348.2527"
    assert [u["status"] for u in state["updates"]] == ["available"] * 3


@pytest.mark.slow
def test_a_failing_update_fails_with_the_hresult_text(windows_sim: Any, tmp_path: Path) -> None:
    handle = windows_sim(_config([UPDATES[1], FAILING]))
    proc, result = _play(handle, tmp_path, reboot=False)
    assert result["failed"] and "ignored=1" in proc.stdout
    assert result["msg"] == "Failed to install all updates - see updates for more information"
    broken = result["updates"][BROKEN]
    assert broken["failure_hresult_code"] == 0x80240022 and not broken["installed"]
    assert broken["failure_msg"] == "Operation failed for all the updates (WU_E_ALL_UPDATES_FAILED 0x80240022)"
    assert result["updates"][MSRT]["installed"]
    assert (result["failed_update_count"], result["installed_update_count"]) == (1, 1)


@pytest.mark.slow
def test_a_failing_update_with_reboot_is_retried_once_then_reported_as_a_loop(windows_sim: Any, tmp_path: Path) -> None:
    handle = windows_sim(_config([UPDATES[0], FAILING]))
    proc, result = _play(handle, tmp_path)
    assert result["failed"] and "ignored=1" in proc.stdout
    # The action plugin reboots once after a failure and tries again; the same update failing again
    # is its update loop.
    assert result["msg"].startswith("An update loop was detected")
    assert result["msg"].endswith(f"Updates in the reboot loop are: {BROKEN}")
    assert result["updates"][CU]["installed"] and result["rebooted"]
    state = handle.state("w1")
    assert state["boot_count"] == 2 and state["os_version"] == "10.0.20348.2582"
