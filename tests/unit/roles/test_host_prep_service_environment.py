# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""host_prep's service_environment entry point against the simulator: the service really gets the
environment, and a proxy password never appears in Ansible's output, even at -vvv."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pytest
import yaml

from tests.simulator.pytest_plugin import SimHandle, windows_sim

__all__ = ["windows_sim"]

SECRET = "Sim-Proxy-S3cret"
PROXY = f"http://nodeuser:{SECRET}@proxy.example:3128"
ENVIRONMENT = [f"HTTPS_PROXY={PROXY}", "NO_PROXY=localhost,.svc"]


def play(environment: list[str]) -> list[dict[str, Any]]:
    return [
        {
            "name": "Set the probe service's environment",
            "hosts": "windows_nodes",
            "gather_facts": False,
            "tasks": [
                {
                    "name": "Run the entry point",
                    "ansible.builtin.include_role": {
                        "name": "winkube.node.host_prep",
                        "tasks_from": "service_environment",
                    },
                    "vars": {"host_prep_service_name": "winkube-probe", "host_prep_service_environment": environment},
                }
            ],
        }
    ]


@pytest.mark.slow
def test_environment_is_set_restarted_removed_and_never_logged(
    windows_sim: Callable[..., SimHandle], tmp_path: Path
) -> None:
    sim = windows_sim(
        {
            "hosts": [
                {
                    "name": "win2022",
                    "seed": {
                        "services": [
                            {
                                "name": "winkube-probe",
                                "path": r"C:\Windows\system32\svchost.exe -k probe",
                                "start_mode": "auto",
                                "state": "running",
                            }
                        ]
                    },
                }
            ]
        }
    )
    set_play, clear_play = tmp_path / "set.yml", tmp_path / "clear.yml"
    set_play.write_text(yaml.safe_dump(play(ENVIRONMENT)))
    clear_play.write_text(yaml.safe_dump(play([])))

    first = sim.playbook(set_play, "-vvv")
    assert first.returncode == 0, first.stdout + first.stderr
    probe = sim.state("win2022")["services"]["winkube-probe"]
    assert probe["environment"] == ENVIRONMENT
    assert probe["process_environment"]["HTTPS_PROXY"] == PROXY  # restarted: the running process has it
    assert "changed=2" in first.stdout  # the value and the restart
    again = sim.playbook(set_play, "-vvv")
    assert again.returncode == 0 and "changed=0" in again.stdout, again.stdout

    cleared = sim.playbook(clear_play, "-vvv")
    assert cleared.returncode == 0, cleared.stdout + cleared.stderr
    probe = sim.state("win2022")["services"]["winkube-probe"]
    assert probe["environment"] is None and "HTTPS_PROXY" not in probe["process_environment"]

    # A malformed entry is refused before anything reaches the host, without showing the entries.
    bad_play = tmp_path / "bad.yml"
    bad_play.write_text(yaml.safe_dump(play([f"{PROXY} without a name"])))
    bad = sim.playbook(bad_play, "-vvv")
    assert bad.returncode == 2
    assert "host_prep_service_environment a list of NAME=value strings" in bad.stdout

    for proc in (first, again, cleared, bad):
        assert SECRET not in proc.stdout + proc.stderr
