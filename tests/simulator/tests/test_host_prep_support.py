"""What the host_prep role relies on in the simulator: a service's Environment registry value is the
service's own environment (one source of truth, seen by the process it starts), and the Defender
Group Policy exclusion lists in the registry are what the host applies (the state dump shows them)."""

from __future__ import annotations

import pytest

from tests.simulator.config import ConfigError, parse_config
from tests.simulator.host import SERVICES_KEY, Service, SimulatorError, WindowsHost
from tests.simulator.modules.testing import call

SVC_KEY = SERVICES_KEY + r"\winkube-probe"
POLICY = r"HKLM:\SOFTWARE\Policies\Microsoft\Windows Defender"
EXCLUSIONS = POLICY + r"\Exclusions"
PROXY_ENV = ["HTTP_PROXY=http://proxy.example:3128", "NO_PROXY=localhost,.svc"]


@pytest.fixture
def host() -> WindowsHost:
    h = WindowsHost("prep", os_version="10.0.20348.2527")
    h.services["winkube-probe"] = Service(
        name="winkube-probe", display_name="probe", path=r"C:\Windows\system32\svchost.exe -k probe"
    )
    return h


# --------------------------------------------------------------------------------------------
# service Environment


def test_regedit_environment_value_is_the_service_environment(host: WindowsHost) -> None:
    args = {"path": SVC_KEY, "name": "Environment", "type": "multistring", "data": PROXY_ENV}
    first = call(host, "win_regedit", args)
    assert first["changed"] is True
    assert host.services["winkube-probe"].environment == PROXY_ENV
    assert call(host, "win_regedit", args)["changed"] is False
    # Read back through the registry as win_reg_stat would: the same value, from the service.
    stat = call(host, "win_reg_stat", {"path": SVC_KEY, "name": "Environment"})
    assert stat["exists"] is True and stat["type"] == "REG_MULTI_SZ" and stat["value"] == PROXY_ENV
    # The service key exists because the service does, and the dump shows the value under it.
    assert call(host, "win_reg_stat", {"path": SVC_KEY, "name": "ImagePath"}).get("failed") is True
    assert host.state()["registry"][SVC_KEY] == {"Environment": ["MultiString", PROXY_ENV]}
    assert host.state()["services"]["winkube-probe"]["environment"] == PROXY_ENV


def test_regedit_removes_the_environment_value_and_check_mode_keeps_it(host: WindowsHost) -> None:
    host.services["winkube-probe"].environment = list(PROXY_ENV)
    absent = {"path": SVC_KEY, "name": "Environment", "state": "absent"}
    assert call(host, "win_regedit", absent, check=True)["changed"] is True
    assert host.services["winkube-probe"].environment == PROXY_ENV
    assert call(host, "win_regedit", absent)["changed"] is True
    assert host.services["winkube-probe"].environment is None
    assert call(host, "win_regedit", absent)["changed"] is False
    assert SVC_KEY not in host.state()["registry"]


def test_a_started_service_sees_its_environment_only_after_a_restart(host: WindowsHost) -> None:
    svc = host.services["winkube-probe"]
    svc.environment = ["HTTPS_PROXY=http://old.example:3128", "path=C:\\only"]
    assert host.start_service("winkube-probe") is None
    assert svc.process_environment is not None
    assert svc.process_environment["HTTPS_PROXY"] == "http://old.example:3128"
    # An entry replaces the machine variable of the same name (case-insensitive) for this process only.
    assert svc.process_environment["path"] == "C:\\only" and "Path" not in svc.process_environment
    assert host.env_machine["Path"].startswith(r"C:\Windows\system32")
    assert svc.process_environment["SystemRoot"] == r"C:\Windows"
    host.set_reg(SVC_KEY, "Environment", "MultiString", ["HTTPS_PROXY=http://new.example:3128"])
    assert svc.process_environment["HTTPS_PROXY"] == "http://old.example:3128"  # running process: unchanged
    host.stop_service("winkube-probe")
    assert svc.process_environment is None
    host.start_service("winkube-probe")
    assert svc.process_environment["HTTPS_PROXY"] == "http://new.example:3128"


def test_scm_owned_values_and_whole_service_keys_fail_loudly(host: WindowsHost) -> None:
    with pytest.raises(SimulatorError, match="ImagePath value of service winkube-probe"):
        host.set_reg(SVC_KEY, "ImagePath", "ExpandString", r"C:\x.exe")
    with pytest.raises(SimulatorError, match="REG_MULTI_SZ"):
        host.set_reg(SVC_KEY, "Environment", "String", "HTTP_PROXY=x")
    with pytest.raises(SimulatorError, match="listing the values"):
        host.reg_values(SVC_KEY)
    with pytest.raises(SimulatorError, match="it holds services"):
        host.delete_reg(SVC_KEY)
    # A missing service has no key: the registry answers as for any missing key.
    assert not host.reg_key_exists(SERVICES_KEY + r"\containerd")
    assert call(host, "win_reg_stat", {"path": SERVICES_KEY + r"\containerd", "name": "Environment"}) == {
        "changed": False,
        "exists": False,
    }
    assert "winkube-probe" in host.reg_subkeys(SERVICES_KEY) and "WinRM" in host.reg_subkeys(SERVICES_KEY)
    # A plain sub key (nssm's Parameters) lives in the registry; the service is still listed once.
    host.set_reg(SERVICES_KEY + r"\WINKUBE-PROBE\Parameters", "AppNoConsole", "DWord", 1)
    assert [k.lower() for k in host.reg_subkeys(SERVICES_KEY)].count("winkube-probe") == 1
    assert host.get_reg(SVC_KEY + r"\Parameters", "AppNoConsole") == ("DWord", 1)


def test_seeded_service_environment_must_be_a_list_of_strings() -> None:
    good = {"hosts": [{"name": "a", "seed": {"services": [{"name": "x", "environment": ["A=1"]}]}}]}
    assert parse_config(good).hosts[0].seed["services"][0]["environment"] == ["A=1"]
    bad = {"hosts": [{"name": "a", "seed": {"services": [{"name": "x", "environment": {"A": "1"}}]}}]}
    with pytest.raises(ConfigError, match=r"services\[0\]\.environment: must be a list"):
        parse_config(bad)


# --------------------------------------------------------------------------------------------
# Defender Group Policy exclusions


def _policy(host: WindowsHost, kind: str, toggle: str, entries: list[str]) -> None:
    for entry in entries:
        call(host, "win_regedit", {"path": rf"{EXCLUSIONS}\{kind}", "name": entry, "data": "0", "type": "string"})
    call(host, "win_regedit", {"path": EXCLUSIONS, "name": toggle, "data": 1, "type": "dword"})


def test_enabled_policy_lists_are_the_effective_exclusions(host: WindowsHost) -> None:
    _policy(host, "Paths", "Exclusions_Paths", [r"C:\ProgramData\containerd\root", r"C:\var\lib\kubelet"])
    _policy(host, "Processes", "Exclusions_Processes", ["containerd.exe", r"C:\k\kubelet.exe"])
    assert host.state()["defender_exclusions"] == {
        "path": [r"C:\ProgramData\containerd\root", r"C:\var\lib\kubelet"],
        "process": ["containerd.exe", r"C:\k\kubelet.exe"],
        "extension": [],
    }


def test_a_policy_list_without_its_toggle_is_not_applied(host: WindowsHost) -> None:
    call(host, "win_regedit", {"path": rf"{EXCLUSIONS}\Paths", "name": r"C:\data", "data": "0"})
    assert host.state()["defender_exclusions"]["path"] == []
    call(host, "win_regedit", {"path": EXCLUSIONS, "name": "Exclusions_Paths", "data": 0, "type": "dword"})
    assert host.state()["defender_exclusions"]["path"] == []
    call(host, "win_regedit", {"path": EXCLUSIONS, "name": "Exclusions_Paths", "data": 1, "type": "dword"})
    assert host.state()["defender_exclusions"]["path"] == [r"C:\data"]


def test_local_preferences_merge_unless_local_admin_merge_is_disabled(host: WindowsHost) -> None:
    host.defender_exclusions["path"].extend([r"C:\local", r"C:\DATA"])
    _policy(host, "Paths", "Exclusions_Paths", [r"C:\data"])
    assert host.state()["defender_exclusions"]["path"] == [r"C:\data", r"C:\local"]  # duplicates without case
    call(host, "win_regedit", {"path": POLICY, "name": "DisableLocalAdminMerge", "data": 1, "type": "dword"})
    assert host.state()["defender_exclusions"]["path"] == [r"C:\data"]
