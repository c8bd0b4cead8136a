"""``drop_connection_after_module``: the network is lost while a task runs on the host.

The module runs to its end (its changes are made) and the connection that carried it closes
before the answer, so the controller sees a broken connection for a task that did change the
host. A re-run must then find the change already made.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from tests.simulator.faults import FaultInjector, validate_faults
from tests.simulator.host import WindowsHost
from tests.simulator.pytest_plugin import recap

PLAY = r"""
- hosts: windows_nodes
  gather_facts: false
  tasks:
    - name: First folder
      ansible.windows.win_file:
        path: C:\data\one
        state: directory
    - name: Second folder
      ansible.windows.win_file:
        path: C:\data\two
        state: directory
    - name: Third folder
      ansible.windows.win_file:
        path: C:\data\three
        state: directory
"""


def test_counts_runs_per_module_and_marks_only_the_running_thread() -> None:
    faults = FaultInjector(WindowsHost("w1"))
    faults.configure({"drop_connection_after_module": {"win_file": [2, 3], "ansible.windows.win_copy": 1}})
    assert not faults.module_ran("ansible.windows.win_file")  # run 1
    assert not faults.take_drop_after_module()
    assert not faults.module_ran("ansible.windows.win_stat")  # not named: never counted
    assert faults.module_ran("ansible.windows.win_file")  # run 2
    seen: list[bool] = []
    other = threading.Thread(target=lambda: seen.append(faults.take_drop_after_module()))
    other.start()
    other.join()
    assert seen == [False]  # another request's thread keeps its answer
    assert faults.take_drop_after_module()
    assert not faults.take_drop_after_module()  # one lost answer per run
    assert faults.module_ran("ansible.windows.win_copy")  # the FQCN key, run 1
    assert faults.take_drop_after_module()
    assert faults.injected == {"drop_connection_after_module": 2}


def test_setting_the_fault_again_restarts_the_count() -> None:
    faults = FaultInjector(WindowsHost("w1"))
    faults.configure({"drop_connection_after_module": {"win_file": 1}})
    assert faults.module_ran("win_file")
    faults.take_drop_after_module()
    assert not faults.module_ran("win_file")  # run 2
    faults.configure({"drop_connection_after_module": {"win_file": 1}})
    assert faults.module_ran("win_file")
    faults.configure({"drop_connection_after_module": None})
    assert faults.current() == {}
    assert not faults.module_ran("win_file")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({}, "drop_connection_after_module must map a module name to run numbers"),
        (["win_file"], "drop_connection_after_module must map a module name to run numbers"),
        ({"win_file": 0}, "drop_connection_after_module.win_file must be a run number >= 1"),
        ({"win_file": [1, "2"]}, "drop_connection_after_module.win_file must be a run number >= 1"),
    ],
)
def test_bad_values_are_refused(value: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        validate_faults({"drop_connection_after_module": value})


@pytest.mark.slow
def test_the_task_fails_with_a_lost_connection_after_changing_the_host(windows_sim: Any, tmp_path: Path) -> None:
    handle = windows_sim(
        {"hosts": [{"name": "w1", "faults": {"drop_connection_after_module": {"ansible.windows.win_file": 2}}}]}
    )
    play = tmp_path / "folders.yml"
    play.write_text(PLAY)
    first = handle.playbook(play)
    assert first.returncode == 2, first.stdout
    # The second folder's run ended on the host; its answer never came back.
    assert "TASK [Second folder]" in first.stdout
    assert "Remote end closed connection without response" in first.stdout
    assert recap(first.stdout)["w1"] == {
        "ok": 1,
        "changed": 1,
        "unreachable": 0,
        "failed": 1,
        "skipped": 0,
        "rescued": 0,
        "ignored": 0,
    }
    host = handle.host("w1")
    assert host.isdir(r"C:\data\two")
    assert not host.isdir(r"C:\data\three")
    assert handle.sim.runtime("w1").faults.injected == {"drop_connection_after_module": 1}
    # The re-run finds the lost task's change made, and converges.
    second = handle.playbook(play)
    assert second.returncode == 0, second.stdout
    assert recap(second.stdout)["w1"]["changed"] == 1  # only the third folder
    assert host.isdir(r"C:\data\three")
