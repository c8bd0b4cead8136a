"""Issue 3 "done when": a playbook from outside the project runs against simulated WS2019, WS2022
and WS2025 hosts started with the documented command, behaves as on Windows, and a second run
reports no change."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.simulator.pytest_plugin import ansible_playbook, recap, serve_process

HERE = Path(__file__).parent / "acceptance"
HOSTS = ("win2019", "win2022", "win2025")


@pytest.mark.slow
def test_outside_playbook_converges_then_changes_nothing(tmp_path: Path) -> None:
    with serve_process(HERE / "hosts.yml", tmp_path / "inventory.yml") as served:
        first = ansible_playbook(served.inventory, HERE / "site.yml")
        assert first.returncode == 0, first.stdout + first.stderr
        counts = recap(first.stdout)
        for name in HOSTS:
            # feature, reboot, two directories (one task), download, extract, service, copy, template
            assert counts[name]["changed"] == 8, (name, counts[name], first.stdout)
            assert counts[name]["failed"] == 0

        for name, build in zip(HOSTS, ("10.0.17763", "10.0.20348", "10.0.26100"), strict=True):
            status, state = served.api(f"/hosts/{name}/state")
            assert status == 200
            assert state["os_version"].startswith(build)
            assert state["features"]["Containers"]["installed"] is True
            assert state["boot_count"] == 2, "exactly one reboot, because the feature asked for it"
            assert state["services"]["containerd"]["state"] == "running"
            assert state["services"]["containerd"]["start_mode"] == "auto"
            files = {f["path"].lower(): f for f in state["files"]}
            assert r"c:\program files\containerd\bin\containerd.exe" in files
            assert r"c:\program files\containerd\bin\ctr.exe" in files
            assert files[r"c:\k\node.txt"]["size"] == len(f"node {name}\n")
            assert files[r"c:\k\node.env"]["size"] > 0
        assert "containerd github.com/containerd/containerd v1.7.31" in first.stdout

        second = ansible_playbook(served.inventory, HERE / "site.yml")
        assert second.returncode == 0, second.stdout + second.stderr
        for name in HOSTS:
            assert recap(second.stdout)[name]["changed"] == 0, second.stdout
            assert served.api(f"/hosts/{name}/state")[1]["boot_count"] == 2, "no reboot on the second run"
