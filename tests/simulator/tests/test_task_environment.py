"""A task's ``environment:`` reaches the processes a Windows module starts: ansible-core puts it in
the exec manifest (2.19+: the module_wrapper action's ``Environment``; 2.18: the payload's
``environment``), module_wrapper.ps1 sets it in the module's process, and win_command's child
inherits it. Checked with the real ansible-playbook and the MCR installer, which reads CHANNEL and
DOCKER_VERSION from its environment."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.simulator.contract import ModuleRequest
from tests.simulator.downloads import MCR_INSTALLER_URL
from tests.simulator.executables.testing import WS2022, make_host
from tests.simulator.modules import run_module
from tests.simulator.modules.testing import request
from tests.simulator.pytest_plugin import recap
from tests.simulator.tests.support import SITE_219, SITE_221, VENV_218, VENV_221

PS1 = r"C:\Windows\Temp\install.ps1"
ARGV = ["powershell.exe", "-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass", "-File", PS1]

PLAY = f"""\
- hosts: windows_nodes
  gather_facts: false
  tasks:
    - name: Run the installer with its inputs in the task environment
      ansible.windows.win_command:
        argv: {json.dumps(ARGV)}
      environment:
        CHANNEL: stable-24.0
      register: with_env

    - name: Run it again without them
      ansible.windows.win_command:
        argv: {json.dumps([*ARGV, "-NoServiceStarts"])}
      register: without_env

    - name: Check what each run installed
      ansible.builtin.assert:
        that:
          - "'Installing Mirantis Container Runtime 24.0.7 (channel stable-24.0)' in with_env.stdout"
          - "'Installing Mirantis Container Runtime 25.0.14 (channel stable)' in without_env.stdout"
"""


def test_win_command_hands_the_task_environment_to_its_process() -> None:
    host = make_host(WS2022)
    host.features["containers"].installed = True
    host.write_file(PS1, host.downloads.get(MCR_INSTALLER_URL))
    base = request("win_command", {"argv": ARGV})
    req = ModuleRequest(
        name=base.name,
        args=base.args,
        internal=base.internal,
        environment={"CHANNEL": "stable-20.10", "DOCKER_VERSION": ""},
    )
    result = run_module(host, req)
    assert result["rc"] == 0, result
    assert "Installing Mirantis Container Runtime 20.10.9 (channel stable-20.10)" in result["stdout"]
    assert "CHANNEL" not in host.env_machine  # the process's variable, not the machine's


CORES = [
    pytest.param(None, [SITE_219], id="2.19"),
    pytest.param(VENV_221, [SITE_221], id="2.21"),
    pytest.param(VENV_218, [SITE_219], id="2.18"),
]


@pytest.mark.slow
@pytest.mark.parametrize(("venv", "collections"), CORES)
def test_environment_keyword_over_each_wire_format(
    windows_sim: Any, tmp_path: Path, venv: Path | None, collections: list[Path]
) -> None:
    if venv is not None and not (venv / "bin" / "ansible-playbook").exists():
        pytest.skip(f"{venv} absent: see 'Other ansible-core versions' in tests/simulator/README.md")
    env = {"ANSIBLE_COLLECTIONS_PATH": str(SITE_219)} if venv == VENV_218 else {}
    handle = windows_sim(
        {"hosts": [{"name": "w1", "seed": {"features": ["Containers"]}}]},
        collections_paths=[str(c) for c in collections],
    )
    host = handle.host("w1")
    host.write_file(PS1, host.downloads.get(MCR_INSTALLER_URL))
    play = tmp_path / "environment.yml"
    play.write_text(PLAY)
    proc = handle.playbook(play, venv=venv, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert recap(proc.stdout)["w1"]["failed"] == 0
    assert "CHANNEL" not in host.env_machine
