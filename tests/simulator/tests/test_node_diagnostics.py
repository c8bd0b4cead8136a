"""The collect_logs probe's emulation: pinned to the script's text, and read from the host's state."""

from __future__ import annotations

import hashlib

from tests.simulator.contract import ModuleRequest
from tests.simulator.host import WindowsHost
from tests.simulator.modules import run_module
from tests.simulator.modules.node_diagnostics import NOT_RECOGNIZED, REGISTERED, SCRIPT, SHA256

PATHS = [r"C:\var\log\kubelet\kubelet.log", r"C:\var\log\kube-proxy\kube-proxy.log", r"C:\var\log\kubelet"]


def test_the_emulation_follows_the_current_script() -> None:
    current = hashlib.sha256(SCRIPT.read_text(encoding="utf-8").encode()).hexdigest()
    assert current == SHA256, f"node_diagnostics.ps1 changed; review its emulation, then set SHA256 = {current!r}"
    assert REGISTERED


def _probe(host: WindowsHost, check_mode: bool = False) -> dict:
    result = run_module(
        host,
        ModuleRequest(
            "ansible.windows.win_powershell",
            {
                "script": SCRIPT.read_text(encoding="utf-8"),
                "parameters": {"Paths": PATHS, "Services": ["containerd", "kubelet"]},
                "depth": 5,
            },
            {"_ansible_check_mode": check_mode},
        ),
    )
    assert result["changed"] is False, result
    return result["output"][0]


def _host(containers: bool) -> WindowsHost:
    host = WindowsHost("w", os_version="10.0.20348.2527")
    seed = {
        "files": [{"path": PATHS[0], "content": "I1201 kubelet started\n"}],
        "services": [
            {"name": "containerd", "path": r"C:\x\containerd.exe", "start_mode": "delayed", "state": "running"}
        ],
    }
    if containers:
        seed["features"] = ["Containers"]
    host.apply_seed(seed)
    return host


def test_files_services_and_hns_come_from_the_host() -> None:
    host = _host(containers=True)
    host.extra["hns"] = {"networks": [{"ID": "A1", "Name": "nat", "Type": "NAT", "State": 1, "Extra": "x"}]}
    out = _probe(host, check_mode=True)
    assert out["Files"] == [
        {"Path": PATHS[0], "Exists": True, "Length": 22},
        {"Path": PATHS[1], "Exists": False, "Length": None},
        {"Path": PATHS[2], "Exists": False, "Length": None},  # a directory is not a log file
    ]
    assert out["Services"] == [
        {"Name": "containerd", "Exists": True, "Status": "Running", "StartType": "Automatic"},
        {"Name": "kubelet", "Exists": False, "Status": None, "StartType": None},
    ]
    assert out["Hns"] == {
        "Networks": [{"ID": "A1", "Name": "nat", "Type": "NAT", "State": 1, "ManagementIP": None, "Subnets": None}],
        "Endpoints": [],
        "Error": None,
    }


def test_without_the_containers_feature_the_hns_cmdlets_do_not_exist() -> None:
    out = _probe(_host(containers=False))
    assert out["Hns"]["Error"] == NOT_RECOGNIZED.format(name="Get-HnsNetwork")
    assert out["Hns"]["Error"].startswith("The term 'Get-HnsNetwork' is not recognized as the name of a cmdlet")
