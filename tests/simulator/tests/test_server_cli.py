"""HOSTS.yml validation, ``python -m tests.simulator serve``, the control API, and a real play
with the module emulations (gather facts, win_ping, win_file, win_copy) through it."""

from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.simulator.config import ConfigError, load_config, parse_config
from tests.simulator.pytest_plugin import REPO_ROOT, Served, ansible_env, ansible_playbook, recap, serve_process
from tests.simulator.tests.support import double_runner

ISSUE_HOSTS = """\
hosts:
  - name: win2019
    os_version: 10.0.17763.6414
  - name: win2022
    os_version: 10.0.20348.2527
    edition: ServerDatacenter
    installation_type: Server Core
    auth: ntlm
    scheme: https
    reboot: realistic
"""


# ------------------------------------------------------------------ HOSTS.yml


def test_the_minimal_file_of_the_issue_is_valid(tmp_path: Path) -> None:
    path = tmp_path / "HOSTS.yml"
    path.write_text(ISSUE_HOSTS)
    cfg = load_config(path)
    a, b = cfg.hosts
    assert (a.name, a.os_version, a.edition, a.installation_type) == (
        "win2019",
        "10.0.17763.6414",
        "ServerStandard",
        "Server",
    )
    assert (a.auth, a.scheme, a.reboot, a.port, a.user, a.hostname) == (
        "basic",
        "http",
        "instant",
        0,
        "Administrator",
        "WIN2019",
    )
    assert (b.edition, b.installation_type, b.auth, b.scheme, b.reboot) == (
        "ServerDatacenter",
        "Server Core",
        "ntlm",
        "https",
        "realistic",
    )
    assert cfg.bind == "127.0.0.1"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"hosts": []}, "hosts: must be a non-empty list"),
        ({"hosts": [{"name": "a"}], "listen": 1}, "top level: unknown key(s) listen"),
        ({"hosts": [{"name": "a", "colour": "blue"}]}, "hosts[0] (a): unknown key(s) colour"),
        (
            {"hosts": [{"name": "a", "auth": "kerberos"}]},
            "hosts[0] (a).auth: must be one of basic, ntlm, got 'kerberos'",
        ),
        ({"hosts": [{"name": "a", "scheme": "ftp"}]}, "hosts[0] (a).scheme: must be one of http, https"),
        ({"hosts": [{"name": "a", "reboot": "slow"}]}, "hosts[0] (a).reboot: must be one of instant, realistic"),
        ({"hosts": [{"name": "a", "os_version": "2022"}]}, "os_version: must look like 10.0.20348.2527"),
        ({"hosts": [{"name": "a", "edition": "Home"}]}, "hosts[0] (a).edition: must be one of ServerStandard"),
        (
            {"hosts": [{"name": "a", "installation_type": "Nano"}]},
            "installation_type: must be one of Server, Server Core",
        ),
        ({"hosts": [{"name": "a", "port": 70000}]}, "hosts[0] (a).port: must be a port number"),
        ({"hosts": [{"name": "a b"}]}, "hosts[0].name: must be letters, digits"),
        ({"hosts": [{"name": "a"}, {"name": "A"}]}, "hosts: duplicate name(s) a"),
        ({"hosts": [{"name": "a", "port": 5985}, {"name": "b", "port": 5985}]}, "two hosts ask for the same port"),
        ({"hosts": [{"name": "a", "hostname": "MUCH-TOO-LONG-NAME"}]}, "hostname: must be a NetBIOS name"),
        ({"hosts": [{"name": "a", "user": "DOM\\u"}]}, "user: must be a local user name"),
        ({"hosts": [{"name": "a", "seed": {"disks": []}}]}, "hosts[0] (a).seed: unknown key(s) disks"),
        ({"hosts": [{"name": "a", "seed": {"files": [{"path": "k\\x"}]}}]}, "seed.files[0].path: must be an absolute"),
        ({"hosts": [{"name": "a", "seed": {"services": [{"name": "x", "colour": 1}]}}]}, "services[0]: unknown key(s)"),
        ({"hosts": [{"name": "a", "seed": {"registry": [{"path": "HKLM:\\X", "name": "v", "type": "Int"}]}}]}, ".type"),
        ({"hosts": [{"name": "a"}], "bind": "0.0.0.0"}, "refusing to bind to '0.0.0.0'"),  # noqa: S104
        ({"hosts": [{"name": "a"}], "cluster": {"endpoint": "10.0.0.1"}}, "cluster.endpoint: must be host:port"),
        ({"hosts": [{"name": "a"}], "cluster": {"tokens": ["nope"]}}, "is not a bootstrap token"),
    ],
)
def test_invalid_hosts_files_fail_with_the_offending_entry(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(data, "HOSTS.yml")
    assert str(err.value).startswith("HOSTS.yml: ")
    assert message in str(err.value)


def test_unreadable_and_non_yaml_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.yml")
    bad = tmp_path / "bad.yml"
    bad.write_text("hosts: [\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)


def test_seed_state_is_applied(windows_sim: Any) -> None:
    handle = windows_sim(
        {
            "hosts": [
                {
                    "name": "w1",
                    "os_version": "10.0.26100.4349",
                    "hostname": "NODE-7",
                    "seed": {
                        "features": ["Containers"],
                        "services": [{"name": "containerd", "path": r"C:\bin\containerd.exe", "start_mode": "auto"}],
                        "files": [
                            {"path": r"C:\k\config.txt", "content": "x=1\n"},
                            {"path": r"C:\data", "directory": True},
                        ],
                        "registry": [{"path": r"HKLM:\SOFTWARE\Acme", "name": "Level", "type": "DWord", "data": 3}],
                        "environment": {"ACME_HOME": r"C:\acme"},
                    },
                }
            ]
        },
        module_runner=double_runner,
        with_executables=False,
    )
    state = handle.state("w1")
    assert state["hostname"] == "NODE-7"
    assert state["os_version"] == "10.0.26100.4349"
    assert state["features"]["Containers"]["installed"] is True
    assert state["services"]["containerd"]["start_mode"] == "auto"
    assert state["services"]["WinRM"]["state"] == "running"
    files = {f["path"]: f for f in state["files"]}
    assert files[r"C:\k\config.txt"]["size"] == 4
    assert files[r"C:\data"]["directory"] is True
    assert state["registry"][r"HKLM:\SOFTWARE\Acme"]["Level"] == ["DWord", 3]
    assert state["environment"]["machine"]["ACME_HOME"] == r"C:\acme"


# ------------------------------------------------------------------ the CLI


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    config = tmp_path / "HOSTS.yml"
    config.write_text(ISSUE_HOSTS)
    inventory = tmp_path / "out" / "inventory.yml"
    with serve_process(config, inventory, "--trace-dir", str(tmp_path / "trace")) as handle:
        yield handle


def _port_open(url: str) -> bool:
    host_port = url.split("://", 1)[1].split("/", 1)[0]
    host, port = host_port.rsplit(":", 1)
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex((host, int(port))) == 0


def test_serve_writes_a_private_inventory_and_stops_on_sigterm(served: Served) -> None:
    inv = served.inventory
    assert stat.S_IMODE(inv.stat().st_mode) == 0o600
    data = yaml.safe_load(inv.read_text())
    group = data["all"]["children"]["windows_nodes"]
    assert group["vars"] == {"sim_control_url": served.control, "preflight_pause_signature": False}
    h19, h22 = group["hosts"]["win2019"], group["hosts"]["win2022"]
    assert h19["ansible_connection"] == "winrm"
    assert (h19["ansible_host"], h19["ansible_winrm_scheme"], h19["ansible_winrm_transport"]) == (
        "127.0.0.1",
        "http",
        "basic",
    )
    assert (h22["ansible_winrm_scheme"], h22["ansible_winrm_transport"]) == ("https", "ntlm")
    assert h22["ansible_winrm_server_cert_validation"] == "ignore"
    assert "ansible_winrm_server_cert_validation" not in h19
    assert h19["ansible_user"] == "Administrator" and h19["ansible_password"]
    assert served.lines["win2019"] == f"http://127.0.0.1:{h19['ansible_port']}/wsman"
    assert served.lines["win2022"] == f"https://127.0.0.1:{h22['ansible_port']}/wsman"
    assert h19["ansible_port"] != h22["ansible_port"]
    served.proc.send_signal(signal.SIGTERM)
    assert served.proc.wait(20) == 0
    assert served.proc.stdout is not None and "stopping" in served.proc.stdout.read()
    assert not _port_open(served.lines["win2019"])
    assert not _port_open(served.control)


def test_serve_stops_on_sigint(served: Served) -> None:
    served.proc.send_signal(signal.SIGINT)
    assert served.proc.wait(20) == 0


def test_control_api(served: Served) -> None:
    status, hosts = served.api("/hosts")
    assert status == 200
    assert [(h["name"], h["scheme"], h["auth"], h["reboot"], h["up"]) for h in hosts] == [
        ("win2019", "http", "basic", "instant", True),
        ("win2022", "https", "ntlm", "realistic", True),
    ]
    status, state = served.api("/hosts/win2022/state")
    assert status == 200
    assert state["os_version"] == "10.0.20348.2527"
    assert state["edition"] == "ServerDatacenter" and state["installation_type"] == "Server Core"
    assert state["boot_count"] == 1
    assert state["services"]["WinRM"]["state"] == "running"
    assert state["services"]["W32Time"]["state"] == "running"
    assert state["features"]["Containers"]["installed"] is False
    paths = {f["path"] for f in state["files"]}
    assert {r"C:\Windows", r"C:\Windows\TEMP"} <= paths
    assert r"C:\Windows\system32" in state["path"]
    for key in ("registry", "firewall_rules", "defender_exclusions", "images"):
        assert key in state
    status, stats = served.api("/hosts/win2019/stats")
    assert status == 200
    for key in ("winrm_requests", "commands", "module_runs_total", "module_runs", "scripts", "bytes_in", "bytes_out"):
        assert key in stats
    assert served.api("/hosts/nope/state")[0] == 404
    assert served.api("/nope")[0] == 404
    status, cluster = served.api("/cluster")
    assert status == 200 and cluster["endpoint"] and cluster["ca_cert_hash"].startswith("sha256:")


E2E_PLAY = """\
- hosts: windows_nodes
  gather_facts: true
  tasks:
    - ansible.windows.win_ping:
    - ansible.windows.win_file:
        path: C:\\k
        state: directory
    - name: copy content
      ansible.windows.win_copy:
        content: "hello {{ inventory_hostname }}\\n"
        dest: C:\\k\\hello.txt
      register: first
    - name: copy content again
      ansible.windows.win_copy:
        content: "hello {{ inventory_hostname }}\\n"
        dest: C:\\k\\hello.txt
      register: second
    - name: a module the simulator does not emulate
      ansible.windows.win_hostname:
        name: other
      register: hostname
      ignore_errors: true
    - ansible.builtin.assert:
        that:
          - first is changed
          - second is not changed
          - ansible_facts.distribution_version is version('10.0', '>=')
          - "hostname.msg == 'simulator: module ansible.windows.win_hostname is not emulated'"
"""


@pytest.mark.slow
def test_a_real_play_through_the_served_hosts(served: Served, tmp_path: Path) -> None:
    """The emulations (tests.simulator.modules) behind the CLI: facts, ping, file, copy, and the
    stats the control API reports for it."""
    assert served.api("/hosts/win2019/stats/reset", {})[0] == 200
    play = tmp_path / "e2e.yml"
    play.write_text(E2E_PLAY)
    proc = ansible_playbook(served.inventory, play)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for name in ("win2019", "win2022"):
        assert recap(proc.stdout)[name]["failed"] == 0
        _, stats = served.api(f"/hosts/{name}/stats")
        assert stats["module_runs"]["ansible.windows.setup"] == 1
        assert stats["module_runs"]["ansible.windows.win_ping"] == 1
        assert stats["module_runs"]["ansible.windows.win_copy"] == 3  # query, single, query
        assert stats["scripts"]["winrm_put_file.ps1"] == 1
        _, state = served.api(f"/hosts/{name}/state")
        files = {f["path"].lower(): f for f in state["files"]}
        # win_copy writes content as given (no CRLF conversion: that is win_template's)
        assert files[r"c:\k\hello.txt"]["size"] == len(f"hello {name}\n")
    assert any(p.name.endswith("ansible.windows.win_copy.json") for p in (tmp_path / "trace").iterdir())
    _, reset = served.api("/hosts/win2019/stats/reset", {})
    assert reset["winrm_requests"] == 0 and reset["module_runs"] == {}


@pytest.mark.parametrize("how", ["flag", "file"])
def test_serve_refuses_other_bind_addresses(tmp_path: Path, how: str) -> None:
    config = tmp_path / "HOSTS.yml"
    text = ISSUE_HOSTS if how == "flag" else "bind: 0.0.0.0\n" + ISSUE_HOSTS
    config.write_text(text)
    extra = ["--bind", "0.0.0.0"] if how == "flag" else []  # noqa: S104 - what must be refused
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.simulator",
            "serve",
            "--config",
            str(config),
            "--inventory-out",
            str(tmp_path / "i"),
            *extra,
        ],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2
    assert "refusing to bind to '0.0.0.0': the simulator only listens on 127.0.0.1" in proc.stderr
    assert not (tmp_path / "i").exists()


def test_inventory_vars_reach_the_inventory_and_cannot_replace_the_connection(tmp_path: Path) -> None:
    cfg = parse_config(
        {
            "vars": {"winkube_kubernetes_version": "1.36.4"},
            "hosts": [{"name": "w1", "vars": {"winkube_kubernetes_version": "1.34.1", "node_role": "worker"}}],
        }
    )
    from tests.simulator.config import build_inventory

    inv = build_inventory(
        [
            {
                "name": "w1",
                "port": 1,
                "scheme": "http",
                "auth": "basic",
                "user": "u",
                "password": "p",
                "vars": cfg.hosts[0].vars,
            }
        ],
        "http://127.0.0.1:2",
        cfg.vars,
    )
    group = inv["all"]["children"]["windows_nodes"]
    assert group["vars"] == {
        "preflight_pause_signature": False,
        "winkube_kubernetes_version": "1.36.4",
        "sim_control_url": "http://127.0.0.1:2",
    }
    assert group["hosts"]["w1"]["winkube_kubernetes_version"] == "1.34.1"
    assert group["hosts"]["w1"]["ansible_port"] == 1
    with pytest.raises(ConfigError, match="ansible_password is written by the simulator"):
        parse_config({"hosts": [{"name": "w1", "vars": {"ansible_password": "x"}}]})
    with pytest.raises(ConfigError, match="sim_control_url is written by the simulator"):
        parse_config({"vars": {"sim_control_url": "x"}, "hosts": [{"name": "w1"}]})


def test_start_and_stop_run_the_server_in_the_background(tmp_path: Path) -> None:
    config = tmp_path / "HOSTS.yml"
    config.write_text("hosts:\n  - name: w1\n    os_version: 10.0.20348.2527\n")
    pidfile, log, inventory = tmp_path / "sim.pid", tmp_path / "sim.log", tmp_path / "inv.yml"
    cli = [sys.executable, "-m", "tests.simulator"]
    started = subprocess.run(
        [
            *cli,
            "start",
            "--config",
            str(config),
            "--inventory-out",
            str(inventory),
            "--pidfile",
            str(pidfile),
            "--log",
            str(log),
        ],
        cwd=REPO_ROOT,
        env=ansible_env(),
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert started.returncode == 0, started.stderr
    pid = int(pidfile.read_text())
    url = next(line.split(": ", 1)[1].split(" ")[0] for line in started.stdout.splitlines() if line.startswith("w1: "))
    assert _port_open(url)
    assert stat.S_IMODE(inventory.stat().st_mode) == 0o600
    stopped = subprocess.run(
        [*cli, "stop", "--pidfile", str(pidfile)], cwd=REPO_ROOT, capture_output=True, text=True, check=False
    )
    assert stopped.returncode == 0 and f"pid {pid}" in stopped.stdout
    assert not pidfile.exists() and not _port_open(url)
    again = subprocess.run(
        [*cli, "stop", "--pidfile", str(pidfile)], cwd=REPO_ROOT, capture_output=True, text=True, check=False
    )
    assert again.returncode == 0 and "no simulator running" in again.stdout


def test_start_reports_a_bad_hosts_file_and_leaves_nothing_running(tmp_path: Path) -> None:
    config = tmp_path / "HOSTS.yml"
    config.write_text("hosts:\n  - name: w1\n    os_version: 10.0.x\n")
    pidfile = tmp_path / "sim.pid"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.simulator",
            "start",
            "--config",
            str(config),
            "--inventory-out",
            str(tmp_path / "i.yml"),
            "--pidfile",
            str(pidfile),
            "--log",
            str(tmp_path / "log"),
        ],
        cwd=REPO_ROOT,
        env=ansible_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert "os_version: must look like 10.0.20348.2527" in proc.stderr
    assert not pidfile.exists()
