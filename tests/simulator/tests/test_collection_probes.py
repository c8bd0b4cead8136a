"""Every PowerShell probe the collection ships has an emulation that follows its current text."""

from __future__ import annotations

import hashlib
import json

from tests.simulator.contract import ModuleRequest
from tests.simulator.host import Service, WindowsHost
from tests.simulator.modules import run_module
from tests.simulator.modules.collection_probes import (
    ADMINISTRATORS_SID,
    CURRENT_USER_SID,
    EMULATED,
    FILE_OWNERS,
    PROBE_DIR,
    STALE,
    probe_sha256,
    probe_text,
)


def test_every_shipped_probe_is_emulated_from_its_current_text() -> None:
    shipped = sorted(p.stem for p in PROBE_DIR.glob("*.ps1"))
    assert shipped, f"no probes found in {PROBE_DIR}"
    assert sorted(EMULATED) == shipped, "a probe without an emulation (or an emulation without a probe)"
    changed = {name: probe_sha256(name) for name in STALE}
    assert not changed, f"probe text changed; review its emulation, then set its sha256: {changed}"


def _facts(host: WindowsHost, check_mode: bool = False) -> dict:
    return run_module(
        host,
        ModuleRequest(
            "ansible.windows.win_powershell",
            {"script": probe_text("windows_facts")},
            {"_ansible_check_mode": check_mode},
        ),
    )


def test_windows_facts_probe_reads_the_hosts_registry() -> None:
    host = WindowsHost("w", os_version="10.0.20348.2527", edition="ServerDatacenter", installation_type="Server Core")
    result = _facts(host)
    assert result["changed"] is False
    assert result["output"] == [
        {
            "CurrentBuildNumber": "20348",
            "UBR": 2527,
            "DisplayVersion": "21H2",
            "ReleaseId": "2009",
            "EditionID": "ServerDatacenter",
            "InstallationType": "Server Core",
            "ProductName": "Windows Server 2022 Datacenter",
            "RebootPending": False,
            "State": None,
            "Facts": [],
        }
    ]


def test_windows_facts_probe_runs_in_check_mode_and_sees_each_reboot_marker() -> None:
    host = WindowsHost("w", os_version="10.0.17763.6414")
    out = _facts(host, check_mode=True)["output"][0]
    assert (out["DisplayVersion"], out["ReleaseId"], out["RebootPending"]) == (None, "1809", False)
    host.create_reg_key(r"HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\RebootPending")
    assert _facts(host)["output"][0]["RebootPending"] is True
    other = WindowsHost("w2", os_version="10.0.26100.2314")
    other.set_reg(
        r"HKLM:\SYSTEM\CurrentControlSet\Control\Session Manager", "PendingFileRenameOperations", "MultiString", ["x"]
    )
    assert _facts(other)["output"][0]["RebootPending"] is True
    third = WindowsHost("w3")
    third.reboot_pending = True
    assert _facts(third)["output"][0]["RebootPending"] is True


# ---------------------------------------------------------------------------------------------------------
# the roles' state files and the facts they record (docs/converged-runs.md)

STATE_DIR = "C:\\ProgramData\\winkube\\state"
SERVICE_KEY = "HKLM:\\SYSTEM\\CurrentControlSet\\Services\\containerd"


def _probe(host: WindowsHost, check_mode: bool = False, **parameters: str) -> dict:
    result = run_module(
        host,
        ModuleRequest(
            "ansible.windows.win_powershell",
            {"script": probe_text("windows_facts"), "parameters": parameters, "depth": 8},
            {"_ansible_check_mode": check_mode},
        ),
    )
    assert result["changed"] is False and not result.get("failed"), result
    return result["output"][0]


def _read_facts(host: WindowsHost, *facts: dict) -> list:
    return _probe(host, Facts=json.dumps(list(facts)))["Facts"]


def test_without_parameters_the_probe_reads_no_state_and_no_facts() -> None:
    out = _probe(WindowsHost("w"))
    assert out["State"] is None and out["Facts"] == []


def test_file_and_directory_facts_follow_the_file_system() -> None:
    host = WindowsHost("w")
    host.write_file("C:\\k\\kubelet.exe", b"MZ kubelet")
    file_fact, missing, folder, not_folder = _read_facts(
        host,
        {"kind": "file", "path": "c:\\K\\kubelet.exe"},
        {"kind": "file", "path": "C:\\k\\nothing.exe"},
        {"kind": "directory", "path": "C:\\k"},
        {"kind": "directory", "path": "C:\\k\\kubelet.exe"},
    )
    assert file_fact == {
        "kind": "file",
        "path": "c:\\K\\kubelet.exe",
        "exists": True,
        "sha256": hashlib.sha256(b"MZ kubelet").hexdigest(),
    }
    assert (missing["exists"], missing["sha256"]) == (False, None)
    assert folder["exists"] is True and not_folder["exists"] is False


def test_service_facts_are_win32_service_values() -> None:
    host = WindowsHost("w")
    host.services["containerd"] = Service(
        name="containerd", display_name="Containerd", path='"C:\\c.exe" --run-service', start_mode="delayed"
    )
    host.services["kubelet"] = Service(name="kubelet", dependencies=["CONTAINERD", "winrm"], state="running")
    containerd, kubelet, absent, bad = _read_facts(
        host,
        {"kind": "service", "name": "containerd"},
        {"kind": "service", "name": "kubelet"},
        {"kind": "service", "name": "Containerd-Display"},
        {"kind": "service", "name": "x' OR Name='y"},
    )
    assert containerd == {
        "kind": "service",
        "name": "containerd",
        "exists": True,
        "path": '"C:\\c.exe" --run-service',
        "start_mode": "Auto",
        "delayed_auto_start": True,
        "state": "Stopped",
        "username": "LocalSystem",
        "display_name": "Containerd",
        "dependencies": [],
    }
    assert kubelet["state"] == "Running" and kubelet["dependencies"] == ["containerd", "WinRM"]
    assert absent["exists"] is False and absent["state"] is None
    assert bad["error"].startswith("not a plain service name")


def test_registry_facts_give_kind_and_data_or_only_a_digest() -> None:
    host = WindowsHost("w")
    key = "HKLM:\\SOFTWARE\\Policies\\Microsoft\\Windows Defender\\Exclusions"
    host.set_reg(key, "Exclusions_Paths", "DWord", 1)
    host.set_reg(key, "Big", "DWord", 0xFFFFFFFF)
    host.services["containerd"] = Service(name="containerd", environment=["HTTPS_PROXY=http://u:p@proxy:3128", "A=b"])
    toggle, big, missing, env, scm = _read_facts(
        host,
        {"kind": "registry", "path": key, "name": "exclusions_paths"},
        {"kind": "registry", "path": key, "name": "Big"},
        {"kind": "registry", "path": key + "\\Paths", "name": "C:\\x"},
        {"kind": "registry", "path": SERVICE_KEY, "name": "Environment", "hash": True},
        {"kind": "registry", "path": SERVICE_KEY, "name": "ImagePath"},
    )
    assert (toggle["exists"], toggle["type"], toggle["data"], toggle["sha256"]) == (True, "DWord", 1, None)
    assert big["data"] == -1  # RegistryKey.GetValue returns REG_DWORD as Int32
    assert (missing["exists"], missing["type"], missing["data"]) == (False, None, None)
    # The environment may hold proxy credentials: only its digest leaves the host.
    text = "HTTPS_PROXY=http://u:p@proxy:3128\nA=b"
    assert env["data"] is None and env["sha256"] == hashlib.sha256(text.encode()).hexdigest()
    assert "u:p@" not in json.dumps(env)
    assert "belongs to the SCM configuration" in scm["error"]


def test_feature_firewall_and_path_facts() -> None:
    host = WindowsHost("w")
    host.features["containers"].install_pending = True
    host.firewall_rules["r"] = {
        "Name": "winkube-kubelet",
        "Enabled": True,
        "Direction": 1,
        "Action": 1,
        "Protocol": 6,
        "LocalPorts": "10250",
        "RemoteAddresses": "*",
        "Profiles": 7,
    }
    host.env_machine["Path"] += ";C:\\Program Files\\containerd\\bin"
    pending, unknown, rule, no_rule, element, no_element, odd = _read_facts(
        host,
        {"kind": "feature", "name": "Containers"},
        {"kind": "feature", "name": "Nope"},
        {"kind": "firewall_rule", "name": "WINKUBE-KUBELET"},
        {"kind": "firewall_rule", "name": "winkube-calico-vxlan"},
        {"kind": "path_element", "element": "c:\\program files\\containerd\\bin"},
        {"kind": "path_element", "element": "C:\\k"},
        {"kind": "socket", "path": "x"},
    )
    assert pending["install_state"] == "InstallPending"
    host.reboot()
    assert _read_facts(host, {"kind": "feature", "name": "Containers"})[0]["install_state"] == "Installed"
    assert unknown == {"kind": "feature", "name": "Nope", "exists": False, "install_state": None}
    assert rule["count"] == 1 and rule["local_ports"] == "10250" and rule["profiles"] == 7 and rule["enabled"] is True
    assert no_rule["count"] == 0 and no_rule["enabled"] is None
    assert element["present"] is True and no_element["present"] is False
    assert odd == {"kind": "socket", "error": "unknown fact kind 'socket'"}


def test_state_files_are_listed_with_owner_text_and_live_facts() -> None:
    host = WindowsHost("w")
    host.write_file("C:\\k\\kubelet.exe", b"MZ")
    record = {"facts": [{"kind": "file", "path": "C:\\k\\kubelet.exe"}, {"kind": "directory", "path": "C:\\nope"}]}
    host.write_file(STATE_DIR + "\\kubernetes.json", json.dumps(record).encode())
    host.write_file(STATE_DIR + "\\join.json", b"{broken")
    host.write_file(STATE_DIR + "\\notes.txt", b"not a state file")
    host.write_file(STATE_DIR + "\\empty.json", b"{}")
    host.extra[FILE_OWNERS] = {(STATE_DIR + "\\join.json").lower(): "S-1-5-21-9-1001"}
    state = _probe(host, check_mode=True, StateDir=STATE_DIR)["State"]
    assert state["current_user"] == CURRENT_USER_SID and state["error"] is None
    assert [f["role"] for f in state["files"]] == ["empty", "join", "kubernetes"]
    empty, join, kubernetes = state["files"]
    assert empty == {"role": "empty", "owner": ADMINISTRATORS_SID, "text": "{}", "live": [], "error": None}
    assert join["owner"] == "S-1-5-21-9-1001" and join["live"] == [] and "Conversion from JSON failed" in join["error"]
    assert kubernetes["text"] == json.dumps(record) and kubernetes["error"] is None
    assert [(f["kind"], f["exists"]) for f in kubernetes["live"]] == [("file", True), ("directory", False)]


def test_no_state_folder_is_an_empty_list() -> None:
    assert _probe(WindowsHost("w"), StateDir=STATE_DIR)["State"]["files"] == []


def test_facts_that_are_not_json_fail_the_probe() -> None:
    result = run_module(
        WindowsHost("w"),
        ModuleRequest(
            "ansible.windows.win_powershell",
            {"script": probe_text("windows_facts"), "parameters": {"Facts": "[{"}},
            {"_ansible_check_mode": False},
        ),
    )
    assert result["failed"] is True and "Conversion from JSON failed" in json.dumps(result["error"])
