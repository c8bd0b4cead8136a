"""The reboot cycle: real ``ansible.windows.win_reboot`` runs (instant and realistic) and the
shutdown.exe semantics the action plugin depends on, over pywinrm."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.simulator.decoder import join_winrs, parse_command_line
from tests.simulator.pytest_plugin import recap
from tests.simulator.scripts import LOGON_UI_KEY, filetime
from tests.simulator.tests.support import WinRSClient, double_runner, endpoint, load_fixture

REBOOT_PLAY = """\
- hosts: windows_nodes
  gather_facts: false
  tasks:
    - ansible.windows.win_reboot:
      register: first
    - ansible.windows.win_reboot:
        msg: second one
      register: second
    - ansible.builtin.assert:
        that:
          - first is changed and first.rebooted
          - second is changed and second.rebooted
          - first.elapsed >= {min_elapsed}
"""


REALISTIC_PLAY = """\
- hosts: windows_nodes
  gather_facts: false
  tasks:
    - ansible.windows.win_reboot:
      register: rebooted
    - ansible.builtin.assert:
        that:
          - rebooted is changed and rebooted.rebooted
          - rebooted.elapsed >= 2
"""


def _shutdown_script(delay: int) -> str:
    """The win_reboot shutdown snippet as ansible.windows 3.3.0 sent it, with another /t."""
    fx = load_fixture("2.19-reboot_shutdown.json")
    script = parse_command_line(join_winrs(fx["command"], fx["arguments"])).script
    assert script is not None and " /t 2 " in script
    return script.replace(" /t 2 ", f" /t {delay} ")


def _snippet_result(client: WinRSClient, script: str) -> dict[str, Any]:
    rc, out, err = client.ps(script)
    assert rc == 0, err
    return json.loads(out)


@pytest.mark.slow
def test_instant_reboot_through_ansible(windows_sim: Any, tmp_path: Path) -> None:
    handle = windows_sim(
        {"hosts": [{"name": "w1"}, {"name": "w2", "auth": "ntlm", "scheme": "https"}]},
        module_runner=double_runner,
        with_executables=False,
    )
    for name in ("w1", "w2"):
        feature = handle.host(name).features["containers"]
        feature.install_pending = True
    play = tmp_path / "reboot.yml"
    play.write_text(REBOOT_PLAY.format(min_elapsed=0))
    started = time.monotonic()
    proc = handle.playbook(play)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert time.monotonic() - started < 30  # no downtime to wait for, only the client's own polling
    for name in ("w1", "w2"):
        assert recap(proc.stdout)[name]["changed"] == 2
        host = handle.host(name)
        assert host.boot_count == 3
        assert host.features["containers"].installed and not host.features["containers"].install_pending
        assert host.reg_key_exists(LOGON_UI_KEY)  # LogonUI put it back at boot
        stats = handle.stats(name)
        assert stats["scripts"]["win_reboot:shutdown"] == 2
        assert stats["scripts"]["win_reboot:test_command"] == 2
        history = handle.sim.runtime(name).reboot.history
        assert [h["mode"] for h in history] == ["instant", "instant"]
        assert history[1]["message"] == "second one"


@pytest.mark.slow
def test_realistic_reboot_through_ansible(windows_sim: Any, tmp_path: Path) -> None:
    handle = windows_sim(
        {"hosts": [{"name": "w1", "auth": "ntlm", "reboot": "realistic", "reboot_seconds": 2}]},
        module_runner=double_runner,
        with_executables=False,
    )
    boot_before = handle.host("w1").boot_time
    play = tmp_path / "reboot.yml"
    # one realistic reboot is enough: each costs the client's back-off while the host is down
    play.write_text(REALISTIC_PLAY)
    proc = handle.playbook(play)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    host = handle.host("w1")
    assert host.boot_count == 2
    assert host.boot_time > boot_before
    [entry] = handle.sim.runtime("w1").reboot.history
    assert entry["mode"] == "realistic"
    assert entry["shells_dropped"] >= 1  # the plugin's shell did not survive
    assert entry["up_at"] - entry["down_at"] >= 2
    stats = handle.stats("w1")
    assert stats["scripts"]["win_reboot:shutdown"] == 1
    assert stats["scripts"]["win_reboot:boot_time"] >= 2  # polled until the boot time moved
    assert stats["connections"] >= 3  # reconnected after the reboot


def test_realistic_cycle_over_pywinrm(windows_sim: Any) -> None:
    handle = windows_sim(
        {"hosts": [{"name": "w1", "reboot": "realistic", "reboot_seconds": 1}]},
        module_runner=double_runner,
        with_executables=False,
    )
    sim = handle.sim
    rt = sim.runtime("w1")
    ep = endpoint(sim, "w1")
    client = WinRSClient(ep)
    old_boot = filetime(handle.host("w1").boot_time)
    assert _snippet_result(client, _shutdown_script(1)) == {"stdout": "", "stderr": "", "rc": 0}
    # a second shutdown while one is scheduled: what shutdown.exe says
    assert _snippet_result(client, _shutdown_script(1)) == {
        "stdout": "",
        "stderr": "A system shutdown has already been scheduled.(1190)",
        "rc": 1190,
    }
    assert not handle.host("w1").reg_key_exists(LOGON_UI_KEY)  # the snippet removed it
    deadline = time.monotonic() + 10
    while rt.up and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not rt.up
    with pytest.raises(requests.exceptions.ConnectionError, match="Connection refused"):
        WinRSClient(ep).ps("whatever")
    sim.wait_until_up("w1", timeout=10)
    with pytest.raises(Exception, match="the shell was not found on the server"):
        client.ps("whatever")  # the old shell is gone
    fresh = WinRSClient(ep)
    rc, out, _ = fresh.ps(
        "(Get-CimInstance -ClassName Win32_OperatingSystem -Property LastBootUpTime).LastBootUpTime.ToFileTime()"
    )
    assert rc == 0 and int(out) > old_boot
    assert handle.host("w1").boot_count == 2
    assert handle.host("w1").reg_key_exists(LOGON_UI_KEY)
    fresh.close()


def test_abort_cancels_a_scheduled_reboot(windows_sim: Any) -> None:
    handle = windows_sim(
        {"hosts": [{"name": "w1", "reboot": "realistic", "reboot_seconds": 1}]},
        module_runner=double_runner,
        with_executables=False,
    )
    client = WinRSClient(endpoint(handle.sim, "w1"))
    abort = r"C:\Windows\System32\shutdown.exe /a"
    rc, _, err = client.ps(abort)
    assert (rc, err.strip()) == (
        1116,
        b"Unable to abort the system shutdown because no shutdown was in progress.(1116)",
    )
    assert _snippet_result(client, _shutdown_script(1))["rc"] == 0
    rc, _, _ = client.ps(abort)
    assert rc == 0
    time.sleep(1.3)
    assert handle.sim.runtime("w1").up
    assert handle.host("w1").boot_count == 1
    assert handle.sim.runtime("w1").reboot.history == []
    client.close()


def test_reboot_seconds_fault_makes_an_instant_host_go_down(windows_sim: Any) -> None:
    handle = windows_sim({"hosts": [{"name": "w1"}]}, module_runner=double_runner, with_executables=False)
    handle.set_faults("w1", reboot_seconds=0.5)
    client = WinRSClient(endpoint(handle.sim, "w1"))
    assert _snippet_result(client, _shutdown_script(0))["rc"] == 0
    deadline = time.monotonic() + 10
    while not handle.sim.runtime("w1").reboot.history and time.monotonic() < deadline:
        time.sleep(0.05)
    [entry] = handle.sim.runtime("w1").reboot.history
    assert entry["mode"] == "realistic"
    assert 0.5 <= entry["up_at"] - entry["down_at"] < 3
    assert handle.host("w1").boot_count == 2
