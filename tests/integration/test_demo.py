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
    for name, build in (("win2019", "10.0.17763"), ("win2022", "10.0.20348"), ("win2025", "10.0.26100")):
        line = next(line for line in out.splitlines() if line.strip().startswith(name) and "runtime=" in line)
        assert build in line and "runtime=containerd (running)" in line and "boots=2" in line, line
    assert (tmp_path / "demo" / "inventory.yml").stat().st_mode & 0o077 == 0
