# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""preflight's pause_current entry point against the simulator: a node whose runtime is configured with
another pause image is reported, a node with none configured is not, and nothing changes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import pytest
import yaml

from tests.simulator.pytest_plugin import SimHandle, windows_sim

__all__ = ["windows_sim"]

PLANNED = "mcr.microsoft.com/oss/kubernetes/pause:3.6"
CONFIG_V3 = """version = 3
[plugins.'io.containerd.cri.v1.images']
  snapshotter = 'windows'
[plugins.'io.containerd.cri.v1.images'.pinned_images]
  sandbox = 'registry.k8s.io/pause:3.9'
[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runhcs-wcow-process]
  sandboxer = 'podsandbox'
"""
CRI_DOCKERD_ARGS = (
    "--container-runtime-endpoint npipe:////./pipe/cri-dockerd --pod-infra-container-image=registry.k8s.io/pause:3.10"
)


# Every host's preflight_pause_image_current, by host name.
FOUND = (
    "{{ dict(ansible_play_hosts | zip(ansible_play_hosts"
    " | map('extract', hostvars, 'preflight_pause_image_current'))) | to_json }}"
)


@pytest.mark.slow
def test_a_different_configured_pause_image_is_reported(windows_sim: Callable[..., SimHandle], tmp_path: Path) -> None:
    mcr_vars = {
        "winkube_container_runtime": "mcr",
        "mcr_installer_sha256": "a" * 64,
        "cri_dockerd_sha256": "b" * 64,
    }
    sim = windows_sim(
        {
            "hosts": [
                {
                    "name": "configured",
                    "seed": {"files": [{"path": r"C:\Program Files\containerd\config.toml", "content": CONFIG_V3}]},
                },
                {"name": "fresh"},
                {
                    "name": "docker",
                    "vars": mcr_vars,
                    "seed": {
                        "registry": [
                            {
                                "path": r"HKLM:\SYSTEM\CurrentControlSet\Services\cri-dockerd\Parameters",
                                "name": "AppParameters",
                                "type": "ExpandString",
                                "data": CRI_DOCKERD_ARGS,
                            }
                        ]
                    },
                },
            ]
        }
    )
    out = tmp_path / "current.json"
    play = tmp_path / "play.yml"
    play.write_text(
        yaml.safe_dump(
            [
                {
                    "name": "Plan, then report the pause image the nodes have",
                    "hosts": "windows_nodes",
                    "gather_facts": False,
                    "roles": ["winkube.node.preflight"],
                    "tasks": [
                        {
                            "name": "Report",
                            "ansible.builtin.include_role": {
                                "name": "winkube.node.preflight",
                                "tasks_from": "pause_current",
                            },
                        },
                        {
                            "name": "Keep what was found",
                            "ansible.builtin.copy": {
                                "content": FOUND,
                                "dest": str(out),
                            },
                            "delegate_to": "localhost",
                            "run_once": True,
                            "changed_when": False,  # the test's own file, not a change to a node
                        },
                    ],
                }
            ]
        )
    )
    before = {name: sim.state(name) for name in ("configured", "fresh", "docker")}
    proc = sim.playbook(play)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    found = json.loads(out.read_text())
    assert found == {"configured": "registry.k8s.io/pause:3.9", "fresh": None, "docker": "registry.k8s.io/pause:3.10"}
    assert (
        f"configured is configured with the pause image registry.k8s.io/pause:3.9, not the planned {PLANNED}"
        in proc.stdout
    )
    assert (
        f"docker is configured with the pause image registry.k8s.io/pause:3.10, not the planned {PLANNED}"
        in proc.stdout
    )
    assert "fresh is configured" not in proc.stdout
    assert proc.stdout.count("changed=0") == 3, proc.stdout
    for name, state in before.items():
        assert sim.state(name)["files"] == state["files"], name
