"""Every PowerShell probe the collection ships has an emulation that follows its current text."""

from __future__ import annotations

from tests.simulator.contract import ModuleRequest
from tests.simulator.host import WindowsHost
from tests.simulator.modules import run_module
from tests.simulator.modules.collection_probes import EMULATED, PROBE_DIR, STALE, probe_sha256, probe_text


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
