"""win_reg_stat, win_regedit, win_path, win_environment and community.windows.win_firewall_rule."""

from __future__ import annotations

import pytest

from tests.simulator.host import WindowsHost
from tests.simulator.modules.testing import call

KEY = r"HKLM:\SOFTWARE\winkube"
# The Group Policy form of Defender path exclusions (admin-writable, unlike Defender's own key).
DEFENDER_POLICY = r"HKLM:\SOFTWARE\Policies\Microsoft\Windows Defender\Exclusions\Paths"


@pytest.fixture
def host() -> WindowsHost:
    return WindowsHost("config", os_version="10.0.26100.4349")


# --------------------------------------------------------------------------------------------
# win_regedit / win_reg_stat


def test_regedit_creates_a_dword_then_no_change_and_reg_stat_reads_it(host: WindowsHost) -> None:
    args = {"path": KEY, "name": "Enabled", "data": 1, "type": "dword"}
    first = call(host, "win_regedit", args, diff=True)
    assert first["changed"] is True and first["data_changed"] is False and first["data_type_changed"] is False
    assert first["diff"] == {"before": {}, "after": {KEY: {"Enabled": {"type": "DWord", "value": "0x00000001"}}}}
    assert host.get_reg(KEY, "enabled") == ("DWord", 1)
    second = call(host, "win_regedit", args)
    assert second["changed"] is False
    stat = call(host, "win_reg_stat", {"path": KEY, "name": "enabled"})
    assert stat == {"changed": False, "exists": True, "type": "REG_DWORD", "value": 1, "raw_value": 1}
    listing = call(host, "win_reg_stat", {"key": r"HKLM:\SOFTWARE"})
    assert "winkube" in listing["sub_keys"] and listing["exists"] is True


def test_regedit_changes_value_and_type(host: WindowsHost) -> None:
    call(host, "win_regedit", {"path": KEY, "name": "Mode", "data": "a"})
    changed = call(host, "win_regedit", {"path": KEY, "name": "Mode", "data": "b"})
    assert changed["changed"] is True and changed["data_changed"] is True
    retyped = call(host, "win_regedit", {"path": KEY, "name": "Mode", "data": ["b"], "type": "multistring"})
    assert retyped["data_type_changed"] is True and host.get_reg(KEY, "Mode") == ("MultiString", ["b"])
    binary = call(host, "win_regedit", {"path": KEY, "name": "Blob", "data": "hex:be,ef", "type": "binary"})
    assert binary["changed"] is True
    stat = call(host, "win_reg_stat", {"path": KEY, "name": "Blob"})
    assert stat["type"] == "REG_BINARY" and stat["value"] == [190, 239] and stat["raw_value"] == ["0xbe", "0xef"]


def test_reg_stat_properties_keep_value_name_case_and_expand_strings(host: WindowsHost) -> None:
    host.set_reg(KEY, "InstallDir", "ExpandString", r"%ProgramFiles%\containerd")
    props = call(host, "win_reg_stat", {"path": KEY})["properties"]
    assert props == {
        "InstallDir": {
            "type": "REG_EXPAND_SZ",
            "value": r"C:\Program Files\containerd",
            "raw_value": r"%ProgramFiles%\containerd",
        }
    }
    assert call(host, "win_reg_stat", {"path": KEY, "name": "missing"}) == {"changed": False, "exists": False}
    assert call(host, "win_reg_stat", {"path": KEY + r"\none"}) == {"changed": False, "exists": False}
    bad = call(host, "win_reg_stat", {"path": r"HKEY_LOCAL_MACHINE\SOFTWARE"})
    assert (
        bad["msg"]
        == r"path: HKEY_LOCAL_MACHINE\SOFTWARE is not a valid registry path, see module documentation for examples."
    )


def test_regedit_absent_check_mode_and_errors(host: WindowsHost) -> None:
    call(host, "win_regedit", {"path": KEY, "name": "A", "data": "x"})
    check = call(host, "win_regedit", {"path": KEY, "name": "A", "state": "absent"}, check=True)
    assert check["changed"] is True and host.get_reg(KEY, "A") is not None
    assert call(host, "win_regedit", {"path": KEY, "name": "A", "state": "absent"})["changed"] is True
    assert host.get_reg(KEY, "A") is None
    assert call(host, "win_regedit", {"path": KEY, "state": "absent"})["changed"] is True
    assert not host.reg_key_exists(KEY)
    assert call(host, "win_regedit", {"path": KEY, "state": "absent"})["changed"] is False
    big = call(host, "win_regedit", {"path": KEY, "name": "D", "data": 2**32, "type": "dword"})
    assert big["msg"] == "data cannot be larger than 0xffffffff when type is dword"
    wrong = call(host, "win_regedit", {"path": "HKLM\\SOFTWARE\\x", "name": "a", "data": "b"})
    assert (
        wrong["msg"] == r"path: HKLM\SOFTWARE\x is not a valid powershell path, see module documentation for examples."
    )
    warned = call(host, "win_regedit", {"path": KEY, "data": 5, "type": "dword"})
    assert warned["warnings"] == [
        "the data type when name is not specified can only be 'string', the type has automatically been converted"
    ]


def test_defender_policy_exclusion_through_win_regedit(host: WindowsHost) -> None:
    # Neither ansible.windows nor community.windows has a Defender exclusion module. The policy key is a
    # plain registry write (one REG_SZ "0" value per path); host.defender_exclusions is not derived from it.
    args = {"path": DEFENDER_POLICY, "name": r"C:\ProgramData\containerd", "data": "0"}
    assert call(host, "win_regedit", args)["changed"] is True
    assert call(host, "win_regedit", args)["changed"] is False
    props = call(host, "win_reg_stat", {"path": DEFENDER_POLICY})["properties"]
    assert props[r"C:\ProgramData\containerd"] == {"type": "REG_SZ", "value": "0", "raw_value": "0"}


# --------------------------------------------------------------------------------------------
# win_path


def test_win_path_adds_once_and_removes(host: WindowsHost) -> None:
    first = call(host, "win_path", {"elements": [r"C:\Program Files\containerd\bin", r"C:\k"]})
    assert first["changed"] is True and first["path_value"].endswith(r";C:\Program Files\containerd\bin;C:\k")
    assert host.env_machine["Path"] == first["path_value"]  # the Path value keeps its case
    assert call(host, "win_path", {"elements": [r"C:\Program Files\containerd\bin", r"C:\k"]})["changed"] is False
    # Compared without case, quotes and trailing backslashes...
    assert call(host, "win_path", {"elements": [r'"C:\PROGRAM FILES\containerd\bin\"', "c:\\k\\"]})["changed"] is False
    # ...but the given order is kept: an element listed after another that precedes it is moved to the end.
    reordered = call(host, "win_path", {"elements": [r"C:\k", r"C:\Program Files\containerd\bin"]})
    assert reordered["changed"] is True and reordered["path_value"].endswith(r";C:\k;C:\Program Files\containerd\bin")
    check = call(host, "win_path", {"elements": [r"C:\other"]}, check=True)
    assert check["changed"] is True and r"C:\other" not in host.env_machine["Path"]
    removed = call(host, "win_path", {"elements": [r"C:\k"], "state": "absent"})
    assert removed["changed"] is True and removed["removed_idx"] >= 0 and r";C:\k" not in host.env_machine["Path"]
    user = call(host, "win_path", {"elements": [r"C:\tools"], "scope": "user"})
    assert user["path_value"] == r"C:\tools" and host.env_user["PATH"] == r"C:\tools"


# --------------------------------------------------------------------------------------------
# win_environment


def test_win_environment_machine_variable(host: WindowsHost) -> None:
    args = {"name": "CONTAINERD_ROOT", "value": r"C:\ProgramData\containerd", "level": "machine", "state": "present"}
    first = call(host, "win_environment", args, diff=True)
    assert first["changed"] is True and first["before_value"] is None and first["value"] == args["value"]
    assert first["diff"] == {"before": {"machine": {}}, "after": {"machine": {"CONTAINERD_ROOT": args["value"]}}}
    assert host.env_machine["CONTAINERD_ROOT"] == args["value"]
    assert call(host, "win_environment", args)["changed"] is False
    assert (
        call(host, "win_environment", {**args, "value": args["value"].upper()})["changed"] is False
    )  # -ne ignores case
    absent = call(
        host, "win_environment", {"name": "containerd_root", "level": "machine", "state": "absent", "value": "x"}
    )
    assert absent["changed"] is True and "CONTAINERD_ROOT" not in host.env_machine
    assert absent["warnings"] == [
        "When removing environment variable 'containerd_root' it should not have a value 'x' set"
    ]


def test_win_environment_variables_dict_process_level_and_errors(host: WindowsHost) -> None:
    result = call(host, "win_environment", {"variables": {"A": "1", "B": "2"}, "level": "user"})
    assert result["changed"] is True and host.env_user["A"] == "1" and set(result["env_values"]) == {"A", "B"}
    process = call(host, "win_environment", {"name": "TEMPVAR", "value": "x", "level": "process"})
    assert process["changed"] is True and "TEMPVAR" not in host.environment()  # dies with the module's process
    empty = call(host, "win_environment", {"name": "X", "level": "machine", "state": "present"})
    assert empty["msg"].startswith("When state=present, value must be defined and not an empty string")


# --------------------------------------------------------------------------------------------
# community.windows.win_firewall_rule

RULE = {
    "name": "kubelet",
    "localport": "10250",
    "action": "allow",
    "direction": "in",
    "protocol": "tcp",
    "profiles": ["domain", "private", "public"],
}


def test_firewall_rule_created_then_unchanged_then_changed(host: WindowsHost) -> None:
    first = call(host, "community.windows.win_firewall_rule", RULE, diff=True)
    assert first["changed"] is True and first["msg"] == "Firewall rule 'kubelet' created."
    assert "+[kubelet]\n" in first["diff"]["prepared"] and "+LocalPorts='10250'\n" in first["diff"]["prepared"]
    rule = host.firewall_rules["kubelet"]
    assert rule["Protocol"] == 6 and rule["LocalPorts"] == "10250" and rule["Profiles"] == 0x7FFFFFFF
    assert rule["Enabled"] is True and rule["Direction"] == 1 and rule["Action"] == 1
    second = call(host, "community.windows.win_firewall_rule", RULE)
    assert second["changed"] is False and second["msg"] == "Firewall rule(s) changed '' - unchanged 'kubelet'"
    third = call(host, "community.windows.win_firewall_rule", {**RULE, "localport": "10250,10255"})
    assert third["changed"] is True and host.firewall_rules["kubelet"]["LocalPorts"] == "10250,10255"
    assert third["msg"] == "Firewall rule(s) changed 'kubelet' - unchanged ''"


def test_firewall_rule_check_mode_absent_and_errors(host: WindowsHost) -> None:
    assert call(host, "community.windows.win_firewall_rule", RULE, check=True)["changed"] is True
    assert host.firewall_rules == {}
    call(host, "community.windows.win_firewall_rule", RULE)
    gone = call(host, "community.windows.win_firewall_rule", {"name": "kubelet", "state": "absent"})
    assert (
        gone["changed"] is True and gone["msg"] == "Firewall rule(s) 'kubelet' removed." and host.firewall_rules == {}
    )
    again = call(host, "community.windows.win_firewall_rule", {"name": "kubelet", "state": "absent"})
    assert again == {"changed": False, "msg": "Firewall rule 'kubelet' does not exist."}
    assert (
        call(host, "community.windows.win_firewall_rule", {"state": "present"})["msg"]
        == "Either name or group must be specified"
    )
    bad = call(host, "community.windows.win_firewall_rule", {"name": "x", "protocol": "sctpish"})
    assert bad["failed"] is True and bad["msg"] == "Unknown protocol 'sctpish'."
