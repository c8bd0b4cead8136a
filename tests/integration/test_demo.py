"""The README's main command: the demo provisions the simulated nodes and a re-run changes nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.simulator.pytest_plugin import REPO_ROOT, ansible_env


@pytest.mark.slow
def test_demo_provisions_three_builds_and_converges(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(REPO_ROOT / "demo" / "run.py"), "--workdir", str(tmp_path / "demo")],
        cwd=REPO_ROOT,
        env=ansible_env(),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert "Converged re-run changed nothing: yes" in out
    # Two fleets: no Kubernetes release supports both WS2019 and WS2025 (demo/fleets/*.yml).
    for name, build, kubelet in (
        ("win2019", "10.0.17763", "v1.34."),
        ("win2022", "10.0.20348", "v1.36."),
        ("win2025", "10.0.26100", "v1.36."),
    ):
        line = next(
            (line for line in out.splitlines() if line.strip().startswith(name) and "boots=" in line),
            None,
        )
        assert line is not None, f"no summary line for {name}:\n{out}"
        assert f"Windows {build}." in line, line
        assert "containerd (running)" in line and f"Node {name} Ready" in line, line
        assert f"kubelet {kubelet}" in line and "boots=2" in line, line
    for fleet in ("current", "legacy"):
        assert (tmp_path / "demo" / fleet / "inventory.yml").stat().st_mode & 0o077 == 0
