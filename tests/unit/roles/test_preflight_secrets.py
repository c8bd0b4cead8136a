# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""preflight shows its plan, never the proxy password in it, even at -vvv; the services still get it."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest
import yaml

from tests.simulator.pytest_plugin import SimHandle, windows_sim

__all__ = ["windows_sim"]

SECRET = "Sim-Preflight-Pr0xy"
PROXY = f"http://nodeuser:{SECRET}@proxy.example:3128"


@pytest.mark.slow
def test_plan_masks_proxy_credentials_and_the_no_log_fact_keeps_them(
    windows_sim: Callable[..., SimHandle], tmp_path: Path
) -> None:
    sim = windows_sim({"hosts": [{"name": "win2022", "vars": {"winkube_proxy": {"https_proxy": PROXY}}}]})
    play = tmp_path / "preflight.yml"
    play.write_text(
        yaml.safe_dump(
            [
                {
                    "name": "Preflight with a proxy that has credentials",
                    "hosts": "windows_nodes",
                    "gather_facts": False,
                    "roles": ["winkube.node.preflight"],
                    "tasks": [
                        {
                            "name": "Check the fact the services use (compare only, print nothing)",
                            "ansible.builtin.assert": {
                                "that": [
                                    f"preflight_service_environment[0] == 'HTTPS_PROXY={PROXY}'",
                                    "winkube_plan.service_environment[0] == 'HTTPS_PROXY=http://***@proxy.example:3128'",
                                ],
                                "quiet": True,
                            },
                            "no_log": True,
                        }
                    ],
                }
            ]
        )
    )
    proc = sim.playbook(play, "-vvv")
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "HTTPS_PROXY=http://***@proxy.example:3128" in proc.stdout  # the plan is shown
    assert SECRET not in proc.stdout + proc.stderr
