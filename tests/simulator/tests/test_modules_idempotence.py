"""For every module that changes the host: changed on the first run, not changed on the second, and
a check-mode run reports the change while leaving the whole host state (``host.state()``) as it was."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from tests.simulator import executables
from tests.simulator.host import WindowsHost
from tests.simulator.modules.testing import call

URL = "https://example.test/bin/kubelet.exe"
DATA = b"MZ kubelet"


class _Downloads:
    def get(self, url: str) -> bytes:
        assert url == URL
        return DATA


def _prepare(host: WindowsHost) -> None:
    executables.install(host)
    host.downloads = _Downloads()
    host.mkdir(r"C:\k")
    host.write_file(r"C:\src\a.txt", b"a")
    host.write_file(r"C:\bin\agent.exe", b"MZ agent")
    host.set_reg(r"HKLM:\SOFTWARE\old", "gone", "String", "x")
    host.env_machine["OLD_VAR"] = "1"
    host.firewall_rules["old"] = {"Name": "old", "LocalPorts": "1", "Protocol": 6}


# (module, args) pairs that change a fresh host exactly once.
CHANGES: list[tuple[str, dict[str, Any]]] = [
    ("win_feature", {"name": "Containers"}),
    ("win_feature", {"name": "NET-Framework-45-Core", "state": "absent"}),
    ("win_service", {"name": "agent", "path": r"C:\bin\agent.exe", "start_mode": "manual", "state": "started"}),
    ("win_service", {"name": "W32Time", "state": "stopped", "start_mode": "disabled"}),
    ("win_service", {"name": "Spooler", "state": "absent"}),
    (
        "win_get_url",
        {"url": URL, "dest": r"C:\k", "checksum": hashlib.sha256(DATA).hexdigest(), "checksum_algorithm": "sha256"},
    ),
    ("win_copy", {"_copy_mode": "remote", "src": r"C:\src\a.txt", "dest": "C:\\k\\"}),
    ("win_file", {"path": r"C:\k\logs", "state": "directory"}),
    ("win_file", {"path": r"C:\src", "state": "absent"}),
    ("win_regedit", {"path": r"HKLM:\SOFTWARE\new", "name": "v", "data": 3, "type": "qword"}),
    ("win_regedit", {"path": r"HKLM:\SOFTWARE\old", "state": "absent"}),
    ("win_path", {"elements": [r"C:\k"]}),
    ("win_environment", {"name": "NEW_VAR", "value": "x", "level": "machine"}),
    ("win_environment", {"name": "OLD_VAR", "level": "machine", "state": "absent"}),
    ("community.windows.win_firewall_rule", {"name": "kubelet", "localport": "10250", "protocol": "tcp"}),
    ("community.windows.win_firewall_rule", {"name": "old", "state": "absent"}),
]
IDS = [f"{m.rsplit('.', 1)[-1]}-{i}" for i, (m, _) in enumerate(CHANGES)]


@pytest.mark.parametrize(("module", "args"), CHANGES, ids=IDS)
def test_changed_then_not_changed(module: str, args: dict[str, Any]) -> None:
    host = WindowsHost("idem", os_version="10.0.20348.2527")
    _prepare(host)
    first = call(host, module, args)
    assert first["changed"] is True and not first.get("failed"), first
    second = call(host, module, args)
    assert second["changed"] is False and not second.get("failed"), second


@pytest.mark.parametrize(("module", "args"), CHANGES, ids=IDS)
def test_check_mode_reports_the_change_and_changes_nothing(module: str, args: dict[str, Any]) -> None:
    host = WindowsHost("check", os_version="10.0.20348.2527")
    _prepare(host)
    before = host.state()
    result = call(host, module, args, check=True)
    assert result["changed"] is True and not result.get("failed"), result
    assert host.state() == before


def test_win_copy_creates_a_missing_parent_even_in_check_mode() -> None:
    # win_copy.ps1 remote mode: `$null = New-Item -Path $parent_dir -ItemType Directory` has no -WhatIf.
    host = WindowsHost("quirk", os_version="10.0.20348.2527")
    host.write_file(r"C:\src\a.txt", b"a")
    result = call(host, "win_copy", {"_copy_mode": "remote", "src": r"C:\src\a.txt", "dest": "C:\\dst\\"}, check=True)
    assert result["changed"] is True and host.isdir(r"C:\dst") and not host.exists(r"C:\dst\a.txt")


def test_async_status_cleanup_erases_even_in_check_mode_and_reports_no_change() -> None:
    # async_status.ps1 `Remove-Item -LiteralPath $log_path -Recurse` has no -WhatIf; the result has no changed.
    host = WindowsHost("jobs", os_version="10.0.20348.2527")
    host.async_jobs["5.6"] = {"started": True, "finished": True, "ansible_job_id": "5.6"}
    result = call(host, "async_status", {"jid": "5.6", "_async_dir": r"C:\a", "mode": "cleanup"}, check=True)
    assert result == {"ansible_job_id": "5.6", "erased": r"C:\a\5.6", "changed": False}
    assert host.async_jobs == {}
