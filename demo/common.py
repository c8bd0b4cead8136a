"""What the demo and the benchmark share: running a playbook against the simulator's inventory."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from tests.simulator.pytest_plugin import ansible_env, recap

ROOT = Path(__file__).resolve().parents[1]


def run_playbook(
    inventory: Path, playbook: Path, log: Path, extra: Sequence[str] = ()
) -> tuple[int, dict[str, dict[str, int]], float]:
    """Run the real ansible-playbook; returns (rc, PLAY RECAP counters per host, wall seconds).
    The whole output goes to ``log`` (the inventory holds passwords, so the output never shows them:
    every task that handles one is no_log)."""
    started = time.monotonic()
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(inventory), *extra, str(playbook)],
        cwd=ROOT,
        env=ansible_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.monotonic() - started
    log.write_text(proc.stdout + proc.stderr)
    log.chmod(0o600)
    return proc.returncode, recap(proc.stdout), elapsed


# A changed result in the default callback's output: "changed: [node01]" for a task, one line per item
# of a loop ("changed: [node01] => (item=...)"); "[node01 -> localhost]" ran on the controller.
_CHANGED = re.compile(r"^changed: \[([^\]\s]+)\](?: =>|$)", re.MULTILINE)


def changed_on_nodes(output: str) -> dict[str, int]:
    """Per host, the things a run changed on the node itself: every changed task, and every changed item
    of a loop (a registry value, a folder, a file each), not counting tasks delegated to the controller.
    The PLAY RECAP counts a loop as one change however many things it changed."""
    counts: dict[str, int] = {}
    for match in _CHANGED.finditer(output):
        counts[match.group(1)] = counts.get(match.group(1), 0) + 1
    return counts
