"""Fault injection, each kind through a real client: set from HOSTS.yml or the control API."""

from __future__ import annotations

import base64
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from winrm.exceptions import WSManFaultError

from tests.simulator.config import ConfigError, parse_config
from tests.simulator.pytest_plugin import recap
from tests.simulator.tests.support import WinRSClient, double_runner, endpoint

BOOT_TIME = "(Get-CimInstance -ClassName Win32_OperatingSystem -Property LastBootUpTime).LastBootUpTime.ToFileTime()"


@pytest.fixture
def sim(windows_sim: Any) -> Any:
    return windows_sim(
        {"hosts": [{"name": "w1"}, {"name": "w2", "auth": "ntlm"}]}, module_runner=double_runner, with_executables=False
    )


@pytest.mark.parametrize("name", ["w1", "w2"])
def test_drop_connection_on_the_nth_request(sim: Any, name: str) -> None:
    status, current = sim.control(f"/hosts/{name}/faults", {"drop_connection": 3})
    assert (status, current) == (200, {"drop_connection": [3]})
    client = WinRSClient(endpoint(sim.sim, name))
    # 1 Create, 2 Command, 3 Receive: the connection closes instead of answering
    with pytest.raises(requests.exceptions.ConnectionError):
        client.ps(BOOT_TIME)
    assert sim.sim.runtime(name).faults.injected == {"drop_connection": 1}
    # only the 3rd request: a new connection works again
    rc, out, _ = WinRSClient(endpoint(sim.sim, name)).ps(BOOT_TIME)
    assert rc == 0 and out.strip().isdigit()


def test_delay_slows_every_response(sim: Any) -> None:
    sim.set_faults("w1", delay=0.15)
    client = WinRSClient(endpoint(sim.sim, "w1"))
    started = time.monotonic()
    assert client.ps(BOOT_TIME)[0] == 0  # Create, Command, Receive, Signal
    assert time.monotonic() - started >= 4 * 0.15
    sim.set_faults("w1", delay=None)
    assert sim.control("/hosts/w1/faults") == (200, {})
    started = time.monotonic()
    assert client.ps(BOOT_TIME)[0] == 0
    assert time.monotonic() - started < 0.3


def test_wsman_fault_is_a_500_with_a_wsmanfault(sim: Any) -> None:
    sim.set_faults("w2", wsman_fault={"on_request": 2, "code": 2150858770, "message": "the service is busy"})
    client = WinRSClient(endpoint(sim.sim, "w2"))
    with pytest.raises(WSManFaultError) as err:
        client.ps(BOOT_TIME)  # request 2 is the Command
    assert err.value.code == 500
    assert err.value.wsman_fault_code == 2150858770
    assert err.value.reason == "the service is busy"
    sim.set_faults("w2", wsman_fault=1)  # shorthand: default code and message
    with pytest.raises(WSManFaultError) as err:
        WinRSClient(endpoint(sim.sim, "w2")).ps(BOOT_TIME)
    assert err.value.wsman_fault_code == 2150858752
    assert err.value.reason == "simulator: injected WSManFault"


def test_disk_full_fails_file_writes(sim: Any) -> None:
    sim.set_faults("w1", disk_full=True)
    client = WinRSClient(endpoint(sim.sim, "w1"))
    payload = base64.b64encode(b"data") + b"\r\n"
    rc, _, err = client.bootstrap("winrm_put_file.ps1", {"Path": r"C:\Windows\TEMP\f.bin"}, payload)
    assert rc == 1
    assert b"There is not enough space on the disk." in err
    rc, _, err = client.bootstrap("powershell_mkdtemp.ps1", {"Directory": "%TEMP%", "Name": "ansible-tmp-x"})
    assert rc == 1 and b"There is not enough space on the disk." in err
    assert not sim.host("w1").exists(r"C:\Windows\TEMP\f.bin")
    sim.set_faults("w1", disk_full=False)
    rc, _, _ = client.bootstrap("winrm_put_file.ps1", {"Path": r"C:\Windows\TEMP\f.bin"}, payload)
    assert rc == 0 and sim.host("w1").read_file(r"C:\Windows\TEMP\f.bin") == b"data"


def test_service_start_failure_from_the_api(sim: Any) -> None:
    status, _ = sim.control("/hosts/w1/faults", {"service_start_failures": {"W32Time": "The service did not start."}})
    assert status == 200
    host = sim.host("w1")
    assert host.stop_service("W32Time") is None
    assert host.start_service("W32Time") == "The service did not start."
    assert host.service("W32Time").state == "stopped"
    assert sim.host("w2").start_service("W32Time") is None  # the other host is not affected


@pytest.mark.slow
def test_module_failure_fails_the_named_module(sim: Any, tmp_path: Path) -> None:
    sim.set_faults("w1", module_failures={"win_ping": {"msg": "injected: the pipe is broken", "times": 1}})
    sim.set_faults("w2", module_failures={"ansible.windows.win_ping": "always broken"})
    play = tmp_path / "ping.yml"
    play.write_text(
        "- hosts: windows_nodes\n  gather_facts: false\n  tasks:\n"
        "    - ansible.windows.win_ping:\n      register: first\n      ignore_errors: true\n"
        "    - ansible.windows.win_ping:\n      register: second\n      ignore_errors: true\n"
    )
    proc = sim.playbook(play)
    assert proc.returncode == 0, proc.stdout
    assert 'fatal: [w1]: FAILED! => {"changed": false, "msg": "injected: the pipe is broken"}' in proc.stdout
    assert proc.stdout.count('fatal: [w2]: FAILED! => {"changed": false, "msg": "always broken"}') == 2
    assert recap(proc.stdout)["w1"]["ignored"] == 1  # times: 1, the second run went through
    assert recap(proc.stdout)["w2"]["ignored"] == 2
    assert sim.stats("w1")["module_runs"] == {"ansible.windows.win_ping": 2}
    assert "module_failures" not in sim.control("/hosts/w1/faults")[1]  # used up


def test_faults_from_the_hosts_file(windows_sim: Any) -> None:
    handle = windows_sim(
        {"hosts": [{"name": "w1", "faults": {"wsman_fault": 1, "service_start_failures": {"Spooler": "no"}}}]},
        module_runner=double_runner,
        with_executables=False,
    )
    assert handle.control("/hosts/w1/faults")[1] == {
        "wsman_fault": {"on_request": [1], "code": 2150858752, "message": "simulator: injected WSManFault"},
        "service_start_failures": {"spooler": "no"},
    }
    with pytest.raises(WSManFaultError):
        WinRSClient(endpoint(handle.sim, "w1")).ps(BOOT_TIME)


@pytest.mark.parametrize(
    ("faults", "message"),
    [
        ({"drop_connection": 0}, "drop_connection must be a request number >= 1"),
        ({"delay": "slow"}, "delay must be a number of seconds >= 0"),
        ({"wsman_fault": {"on_request": 1, "kode": 5}}, "wsman_fault: unknown key(s) kode"),
        ({"module_failures": {"win_ping": {"msg": "x", "times": 0}}}, "module_failures.win_ping.times must be"),
        ({"disk_full": "yes"}, "disk_full must be true or false"),
        ({"teleport": True}, "unknown fault kind 'teleport'"),
    ],
)
def test_bad_faults_are_refused_with_a_clear_message(sim: Any, faults: dict[str, Any], message: str) -> None:
    status, body = sim.control("/hosts/w1/faults", faults)
    assert status == 400
    assert body["error"].startswith("w1.faults: ")
    assert message in body["error"]
    with pytest.raises(ConfigError, match=r"hosts\[0\] \(w1\)\.faults: "):
        parse_config({"hosts": [{"name": "w1", "faults": faults}]})
    assert sim.control("/hosts/w1/faults") == (200, {})
