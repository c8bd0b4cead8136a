"""setup, win_ping, win_feature, win_service, win_service_info and async_status emulations."""

from __future__ import annotations

import pytest

from tests.simulator.host import Service, WindowsHost
from tests.simulator.modules.testing import call


@pytest.fixture
def host() -> WindowsHost:
    return WindowsHost("win2019", os_version="10.0.17763.6414", edition="ServerStandard", installation_type="Server")


# --------------------------------------------------------------------------------------------
# setup


def test_facts_describe_the_configured_build_edition_and_installation_type() -> None:
    host = WindowsHost(
        "win2022", os_version="10.0.20348.2527", edition="ServerDatacenter", installation_type="Server Core"
    )
    facts = call(host, "setup", {}, module_name="ansible.legacy.setup")["ansible_facts"]
    assert facts["ansible_distribution"] == "Microsoft Windows Server 2022 Datacenter"
    assert facts["ansible_os_name"] == facts["ansible_distribution"]
    assert facts["ansible_distribution_version"] == "10.0.20348.0"  # OSVersion: revision is always 0
    assert facts["ansible_kernel"] == "10.0.20348.0"
    assert facts["ansible_distribution_major_version"] == "10"
    assert facts["ansible_os_installation_type"] == "Server Core"
    assert facts["ansible_hostname"] == "WIN2022" == facts["ansible_fqdn"]
    assert facts["ansible_os_family"] == "Windows" and facts["ansible_system"] == "Win32NT"
    assert (
        facts["ansible_windows_domain"] == "WORKGROUP" and facts["ansible_windows_domain_role"] == "Stand-alone server"
    )
    assert facts["gather_subset"] == ["all"] and facts["module_setup"] is True
    assert facts["ansible_env"]["COMPUTERNAME"] == "WIN2022"
    assert not any(v.endswith("\\") for v in facts["ansible_env"].values())
    nic = facts["ansible_interfaces"][0]
    assert isinstance(nic["ipv4"], dict) and nic["ipv4"]["prefix"] == "24"  # one address: a dict, not a list
    assert nic["ipv4"]["address"] in facts["ansible_ip_addresses"]
    assert len([k for k in facts if k.startswith("ansible_")]) >= 54


def test_2025_and_2019_names_and_two_hosts_get_different_addresses() -> None:
    a = WindowsHost("a", os_version="10.0.26100.4349", edition="ServerStandard")
    b = WindowsHost("b", os_version="10.0.17763.6414", edition="ServerDatacenterEval")
    fa = call(a, "setup", {"gather_subset": ["distribution", "interfaces"]})["ansible_facts"]
    fb = call(b, "setup", {"gather_subset": ["distribution", "interfaces"]})["ansible_facts"]
    assert fa["ansible_distribution"] == "Microsoft Windows Server 2025 Standard"
    assert fb["ansible_distribution"] == "Microsoft Windows Server 2019 Datacenter Evaluation"
    assert fa["ansible_interfaces"][0]["ipv4"]["address"] != fb["ansible_interfaces"][0]["ipv4"]["address"]


def test_unknown_build_fails_loudly_instead_of_guessing_a_name() -> None:
    host = WindowsHost("odd", os_version="10.0.26334.1")
    result = call(host, "setup", {})
    assert result["failed"] is True
    assert "cannot name the OS of build 26334" in result["msg"] and result["msg"].startswith("simulator: ")
    host.set_reg(
        r"HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion", "ProductName", "String", "Windows Server 2025 Standard"
    )
    assert call(host, "setup", {})["ansible_facts"]["ansible_distribution"] == "Microsoft Windows Server 2025 Standard"


def test_gather_subset_min_and_exclusions_follow_setup_ps1(host: WindowsHost) -> None:
    minimal = call(host, "setup", {"gather_subset": ["!all"]})["ansible_facts"]
    assert "ansible_distribution" in minimal and "ansible_env" in minimal and "ansible_hostname" in minimal
    assert "ansible_interfaces" not in minimal and "ansible_memtotal_mb" not in minimal
    network = call(host, "setup", {"gather_subset": ["!all", "network"]})["ansible_facts"]
    assert "ansible_interfaces" in network and "ansible_bios_date" not in network
    no_env = call(host, "setup", {"gather_subset": ["!env"]})["ansible_facts"]
    assert "ansible_env" not in no_env and "ansible_processor" in no_env
    # setup.ps1 adds the explicit subsets after removing the excluded ones: "all" brings env back.
    assert "ansible_env" in call(host, "setup", {"gather_subset": ["all", "!env"]})["ansible_facts"]
    warned = call(host, "setup", {"gather_subset": ["bogus"]})
    assert warned["warnings"] == ["invalid value bogus specified in gather_subset"]


def test_reboot_pending_fact_follows_the_host(host: WindowsHost) -> None:
    def pending() -> bool:
        return call(host, "setup", {"gather_subset": ["!all"]})["ansible_facts"]["ansible_reboot_pending"]

    assert pending() is False
    call(host, "win_feature", {"name": "Containers"})
    assert pending() is True
    host.reboot()
    assert pending() is False
    host.create_reg_key(r"HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\RebootPending")
    assert pending() is True


def test_local_facts_read_json_and_refuse_scripts(host: WindowsHost) -> None:
    host.write_file(r"C:\facts\node.json", b'{"role": "worker"}')
    facts = call(host, "setup", {"gather_subset": ["!all"], "fact_path": r"C:\facts"})["ansible_facts"]
    assert facts["ansible_node"] == {"role": "worker"}
    host.write_file(r"C:\facts\custom.ps1", b"@{a=1}")
    result = call(host, "setup", {"fact_path": r"C:\facts"})
    assert result["failed"] and "custom.ps1 would have to run PowerShell" in result["msg"]
    missing = call(host, "setup", {"gather_subset": ["!all"], "fact_path": r"C:\nope"})
    assert missing["warnings"] == [r"Non existing path was set for local facts - C:\nope"]


# --------------------------------------------------------------------------------------------
# win_ping


def test_win_ping(host: WindowsHost) -> None:
    assert call(host, "win_ping", {}) == {
        "changed": False,
        "ping": "pong",
        "invocation": {"module_args": {"data": "pong"}},
    }
    crash = call(host, "win_ping", {"data": "crash"})
    assert crash["failed"] is True and crash["msg"] == "Unhandled exception while executing module: boom"
    assert "changed" not in crash and "invocation" not in crash


# --------------------------------------------------------------------------------------------
# win_feature


def test_containers_install_needs_a_reboot_then_is_idempotent(host: WindowsHost) -> None:
    first = call(host, "win_feature", {"name": "Containers", "state": "present"})
    assert first["changed"] is True and first["reboot_required"] is True
    assert first["exitcode"] == "SuccessRestartRequired" and first["success"] is True and first["failed"] is False
    assert first["feature_result"][0]["display_name"] == "Containers"
    assert first["feature_result"][0]["reboot_required"] is True
    assert host.features["containers"].install_pending and not host.features["containers"].installed
    assert host.service("hns") is None  # the feature's services arrive with the reboot
    again = call(host, "win_feature", {"name": "Containers"})
    assert again["changed"] is False and again["exitcode"] == "NoChangeNeeded" and again["feature_result"] == []
    host.reboot()
    assert host.features["containers"].installed
    assert host.service("hns").display_name == "Host Network Service"
    assert host.service("vmcompute").display_name == "Hyper-V Host Compute Service"
    after = call(host, "win_feature", {"name": "Containers"})
    assert after["changed"] is False and after["reboot_required"] is False


def test_hyper_v_with_management_tools_and_removal(host: WindowsHost) -> None:
    result = call(host, "win_feature", {"name": ["Hyper-V"], "include_management_tools": True})
    assert [f["display_name"] for f in result["feature_result"]] == [
        "Hyper-V",
        "Hyper-V Management Tools",
        "Hyper-V Module for Windows PowerShell",
    ]
    assert host.features["hyper-v-powershell"].installed  # tools need no reboot
    host.reboot()
    removed = call(host, "win_feature", {"name": "Hyper-V", "state": "absent"})
    assert removed["changed"] is True and removed["reboot_required"] is True
    assert not host.features["hyper-v"].installed
    assert call(host, "win_feature", {"name": "Hyper-V", "state": "absent"})["changed"] is False


def test_win_feature_check_mode_changes_nothing(host: WindowsHost) -> None:
    result = call(host, "win_feature", {"name": "Containers"}, check=True)
    assert result["changed"] is True and result["reboot_required"] is True
    assert not host.features["containers"].install_pending and not host.reboot_pending


def test_win_feature_unknown_name_and_missing_source(host: WindowsHost) -> None:
    unknown = call(host, "win_feature", {"name": "No-Such-Feature"})
    assert unknown["failed"] and unknown["msg"].startswith(
        "simulator: Windows feature 'No-Such-Feature' is not modelled"
    )
    source = call(host, "win_feature", {"name": "Containers", "source": r"C:\sxs"})
    assert source["msg"] == r"Failed to find source path C:\sxs for feature install"


# --------------------------------------------------------------------------------------------
# win_service


def _binary(host: WindowsHost, path: str = r"C:\Program Files\Docker\dockerd.exe") -> str:
    host.write_file(path, b"MZ not a stamped binary")
    return path


def test_create_start_and_configure_a_service_then_no_change(host: WindowsHost) -> None:
    exe = _binary(host, r"C:\svc\agent.exe")
    args = {
        "name": "agent",
        "path": f'"{exe}" --run',
        "display_name": "Agent",
        "description": "Test agent",
        "start_mode": "auto",
        "state": "started",
        "dependencies": ["RpcSs"],
        "failure_actions": [{"type": "restart", "delay_ms": 15000}, {"type": "none"}],
        "failure_reset_period_sec": 86400,
    }
    first = call(host, "win_service", args)
    assert first["changed"] is True and first["exists"] is True
    assert first["state"] == "running" and first["start_mode"] == "auto" and first["username"] == "LocalSystem"
    assert first["display_name"] == "Agent" and first["dependencies"] == ["RpcSs"]
    svc = host.service("agent")
    assert svc.state == "running" and svc.path == f'"{exe}" --run' and svc.description == "Test agent"
    assert svc.failure_actions == [{"type": "restart", "delay_ms": 15000}, {"type": "none", "delay_ms": 0}]
    assert svc.failure_reset_period == 86400
    second = call(host, "win_service", args)
    assert second["changed"] is False and second["state"] == "running"


def test_service_diff_and_check_mode(host: WindowsHost) -> None:
    result = call(
        host, "win_service", {"name": "W32Time", "start_mode": "disabled", "state": "stopped"}, check=True, diff=True
    )
    assert result["changed"] is True
    assert result["diff"]["before"]["start_mode"] == "manual" and result["diff"]["after"]["start_mode"] == "disabled"
    assert result["diff"]["before"]["username"] == "NT AUTHORITY\\SYSTEM"
    assert host.service("W32Time").start_mode == "manual" and host.service("W32Time").state == "running"
    created = call(host, "win_service", {"name": "newsvc", "path": r"C:\x.exe", "state": "stopped"}, check=True)
    assert created["changed"] is True and created["exists"] is True and host.service("newsvc") is None


def test_service_start_failures_surface_like_start_service(host: WindowsHost) -> None:
    missing = call(host, "win_service", {"name": "ghost", "path": r"C:\gone\ghost.exe", "state": "started"})
    assert missing["failed"] is True and "invocation" not in missing
    assert missing["msg"] == (
        "Unhandled exception while executing module: Service 'ghost (ghost)' cannot be started due to the following "
        "error: Cannot start service ghost on computer '.'."
    )
    exe = _binary(host)
    call(host, "win_service", {"name": "docker", "path": exe})
    host.faults["service_start_failures"] = {"docker": "injected start failure"}
    injected = call(host, "win_service", {"name": "docker", "state": "started"})
    assert injected["msg"] == "Unhandled exception while executing module: injected start failure"


def test_service_errors_from_the_module(host: WindowsHost) -> None:
    assert call(host, "win_service", {"name": "nope", "state": "started"})["msg"] == (
        "Service 'nope' is not installed, need to set 'path' to create a new service"
    )
    paused = call(host, "win_service", {"name": "WinRM", "state": "paused"})
    assert paused["msg"] == "failed to pause service WinRM: The service does not support pausing"
    host.services["child"] = Service(name="child", display_name="Child", state="running", dependencies=["WinRM"])
    refused = call(host, "win_service", {"name": "WinRM", "state": "stopped"})
    assert refused["msg"].endswith(
        "because it has dependent services. It can only be stopped if the Force flag is set."
    )
    forced = call(host, "win_service", {"name": "WinRM", "state": "stopped", "force_dependent_services": True})
    assert forced["changed"] is True and host.service("child").state == "stopped"


def test_service_account_restart_and_absent(host: WindowsHost) -> None:
    exe = _binary(host)
    call(host, "win_service", {"name": "docker", "path": exe})
    account = call(host, "win_service", {"name": "docker", "username": "NT AUTHORITY\\NetworkService"})
    assert account["changed"] is True and account["username"] == "NT AUTHORITY\\NETWORK SERVICE"
    assert call(host, "win_service", {"name": "docker", "username": "network service"})["changed"] is False
    restarted = call(host, "win_service", {"name": "docker", "state": "restarted"})
    assert restarted["changed"] is True and host.service("docker").state == "running"
    gone = call(host, "win_service", {"name": "docker", "state": "absent"})
    assert gone["changed"] is True and gone["exists"] is False and host.service("docker") is None
    assert call(host, "win_service", {"name": "docker", "state": "absent"})["changed"] is False


def test_service_found_by_display_name_and_depended_by(host: WindowsHost) -> None:
    host.services["child"] = Service(name="child", display_name="Child", dependencies=["WinRM"])
    result = call(host, "win_service", {"name": "Windows Remote Management (WS-Management)"})
    assert result["name"] == "WinRM" and result["depended_by"] == ["child"] and result["changed"] is False


def test_win_service_info(host: WindowsHost) -> None:
    one = call(host, "win_service_info", {"name": "winrm"})
    assert one["exists"] is True and len(one["services"]) == 1
    info = one["services"][0]
    assert info["name"] == "WinRM" and info["state"] == "started" and info["start_mode"] == "auto"
    assert info["username"] == "NT AUTHORITY\\SYSTEM" and info["service_type"] == "win32_share_process"
    assert call(host, "win_service_info", {"name": "Win*"})["services"][0]["name"].lower().startswith("win")
    assert len(call(host, "win_service_info", {})["services"]) == len(host.services)
    assert call(host, "win_service_info", {"name": "nope"}) == {
        "changed": False,
        "exists": False,
        "services": [],
        "invocation": {"module_args": {"name": "nope"}},
    }


# --------------------------------------------------------------------------------------------
# async_status


def test_async_status_reads_finished_jobs_and_cleans_up(host: WindowsHost) -> None:
    host.async_jobs["123.4"] = {
        "started": True,
        "finished": True,
        "ansible_job_id": "123.4",
        "results_file": r"C:\Users\Administrator\.ansible_async\123.4",
        "changed": True,
        "rc": 0,
    }
    async_dir = r"C:\Users\Administrator\.ansible_async"
    status = call(host, "async_status", {"jid": "123.4", "_async_dir": async_dir})
    assert status["finished"] is True and status["changed"] is True and status["ansible_job_id"] == "123.4"
    running = dict(host.async_jobs["123.4"])
    del running["finished"]
    host.async_jobs["9.9"] = running
    assert call(host, "async_status", {"jid": "9.9", "_async_dir": async_dir})["finished"] == 0
    cleaned = call(host, "async_status", {"jid": "123.4", "_async_dir": async_dir, "mode": "cleanup"})
    assert cleaned == {"ansible_job_id": "123.4", "erased": async_dir + r"\123.4", "changed": False}
    assert "123.4" not in host.async_jobs
    missing = call(host, "async_status", {"jid": "123.4", "_async_dir": async_dir})
    assert missing == {
        "ansible_job_id": "123.4",
        "started": 1,
        "finished": 1,
        "msg": f"could not find job at '{async_dir}'",
        "failed": True,
        "changed": False,
    }


def test_failure_reset_period_alone_needs_existing_actions(host: WindowsHost) -> None:
    exe = _binary(host)
    call(host, "win_service", {"name": "docker", "path": exe})
    refused = call(host, "win_service", {"name": "docker", "failure_reset_period_sec": 60})
    assert refused["msg"] == (
        'Unhandled exception while executing module: Exception setting "FailureActions": "Cannot set FailureAction '
        'ResetPeriod without explicit Actions and no existing Actions"'
    )
    call(host, "win_service", {"name": "docker", "failure_actions": [{"type": "restart", "delay_ms": 1000}]})
    assert call(host, "win_service", {"name": "docker", "failure_reset_period_sec": 60})["changed"] is True
    assert host.service("docker").failure_actions == [{"type": "restart", "delay_ms": 1000}]
    assert host.service("docker").failure_reset_period == 60
