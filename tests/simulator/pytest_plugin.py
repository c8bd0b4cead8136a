"""pytest glue: start simulated Windows hosts for a test and point Ansible at them.

Use it from a ``conftest.py`` (``from tests.simulator.pytest_plugin import windows_sim``) or as a
plugin (``pytest -p tests.simulator.pytest_plugin``)::

    def test_play(windows_sim):
        sim = windows_sim({"hosts": [{"name": "win2022", "os_version": "10.0.20348.2527"}]})
        proc = sim.playbook("site.yml")           # real ansible-playbook, inventory = sim.inventory
        assert proc.returncode == 0, proc.stdout
        assert sim.stats("win2022")["module_runs"]["ansible.windows.win_ping"] == 1
        assert "Containers" in sim.state("win2022")["features"]

``windows_sim(hosts, **kwargs)`` takes a HOSTS.yml path or the same mapping, and the keyword
arguments of ``Simulator`` (``module_runner``, ``scripts``, ``trace_dir``, ``collections_paths``,
``with_executables``); every simulator it started is stopped when the test ends. With a
``cluster:`` the inventory also carries ``winkube_kubeconfig`` (``sim.kubeconfig``, written beside
it), ``join_command`` and ``winkube_kubernetes_download_base_url``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import queue
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.simulator.host import WindowsHost
from tests.simulator.server import Simulator

__all__ = [
    "REPO_ROOT",
    "Served",
    "SimHandle",
    "ansible_env",
    "ansible_playbook",
    "recap",
    "serve_process",
    "start_simulator",
    "windows_sim",
]

REPO_ROOT = Path(__file__).resolve().parents[2]


def ansible_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "ANSIBLE_CONFIG": str(REPO_ROOT / "ansible.cfg"),
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_FORCE_COLOR": "0",
            "ANSIBLE_RETRY_FILES_ENABLED": "0",
            "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
        }
    )
    env.pop("NTLM_USER_FILE", None)
    env.update(extra or {})
    return env


def ansible_playbook(
    inventory: str | os.PathLike[str],
    playbook: str | os.PathLike[str],
    *args: str,
    venv: str | os.PathLike[str] | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 600,
) -> subprocess.CompletedProcess[str]:
    """Run the real ``ansible-playbook`` (from ``venv``, default: the one running the tests)."""
    bindir = Path(venv) / "bin" if venv else Path(sys.executable).parent
    cmd = [str(bindir / "ansible-playbook"), "-i", str(inventory), str(playbook), *args]
    return subprocess.run(
        cmd,
        cwd=REPO_ROOT,
        env=ansible_env(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@dataclasses.dataclass
class SimHandle:
    """A started simulator, its inventory file and its state/stats API."""

    sim: Simulator
    inventory: Path

    @property
    def control_url(self) -> str:
        return self.sim.control_url

    @property
    def kubeconfig(self) -> Path | None:
        """The cluster's admin kubeconfig (written beside the inventory), None without ``cluster:``."""
        return self.sim.kubeconfig_path

    def host(self, name: str) -> WindowsHost:
        return self.sim.host(name)

    def state(self, name: str) -> dict[str, Any]:
        return self.sim.state(name)

    def stats(self, name: str) -> dict[str, Any]:
        return self.sim.stats(name)

    def reset_stats(self, name: str) -> dict[str, Any]:
        return self.sim.reset_stats(name)

    def set_faults(self, name: str, **faults: Any) -> dict[str, Any]:
        return self.sim.set_faults(name, faults)

    def control(self, path: str, body: Any = None) -> tuple[int, Any]:
        """Call the control HTTP API; POST when ``body`` is given."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(  # noqa: S310 - the simulator's own loopback URL
            self.control_url + path, data=data, method="POST" if data is not None else "GET"
        )
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:  # noqa: S310
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    def playbook(self, playbook: str | os.PathLike[str], *args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
        return ansible_playbook(self.inventory, playbook, *args, **kwargs)


def start_simulator(
    hosts: str | os.PathLike[str] | dict[str, Any], inventory: str | os.PathLike[str], **kwargs: Any
) -> SimHandle:
    sim = Simulator(hosts, **kwargs).start()
    try:
        path = sim.write_inventory(inventory)
    except BaseException:
        sim.stop()
        raise
    return SimHandle(sim=sim, inventory=path)


@pytest.fixture
def windows_sim(tmp_path: Path) -> Iterator[Callable[..., SimHandle]]:
    """Factory: ``windows_sim(hosts, **Simulator kwargs) -> SimHandle`` (stopped at teardown)."""
    started: list[SimHandle] = []

    def factory(hosts: str | os.PathLike[str] | dict[str, Any], **kwargs: Any) -> SimHandle:
        handle = start_simulator(hosts, tmp_path / f"inventory-{len(started)}.yml", **kwargs)
        started.append(handle)
        return handle

    yield factory
    for handle in reversed(started):
        handle.sim.stop()


class Served:
    """A ``serve`` process, the ``name: url`` lines it printed, and its inventory file."""

    def __init__(self, proc: subprocess.Popen[str], lines: dict[str, str], inventory: Path) -> None:
        self.proc = proc
        self.lines = lines
        self.inventory = inventory

    @property
    def control(self) -> str:
        return self.lines["control"]

    def api(self, path: str, body: Any = None) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.control + path, data=data, method="POST" if data is not None else "GET")  # noqa: S310
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:  # noqa: S310
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())


def _serve(config: Path, inventory: Path, *extra: str) -> subprocess.Popen[str]:
    """Start the documented command: ``python -m tests.simulator serve --config ... --inventory-out ...``."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.simulator",
            "serve",
            "--config",
            str(config),
            "--inventory-out",
            str(inventory),
            *extra,
        ],
        cwd=REPO_ROOT,
        env=ansible_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _read_until_ready(proc: subprocess.Popen[str], timeout: float = 60) -> dict[str, str]:
    """Collect the ``name: url`` lines the server prints, up to ``ready``."""
    assert proc.stdout is not None
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line.strip())
            if line.strip() == "ready":
                return
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    seen: dict[str, str] = {}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.5)
        except queue.Empty:
            continue
        if line is None:
            break
        if line == "ready":
            return seen
        key, _, value = line.partition(": ")
        seen[key] = value.split(" ", 1)[0]
    proc.kill()
    raise AssertionError(f"the simulator did not get ready: {proc.communicate(timeout=10)[1]}")


@contextlib.contextmanager
def serve_process(config: Path, inventory: Path, *extra: str) -> Iterator[Served]:
    """Run ``python -m tests.simulator serve`` until the block ends (then kill it)."""
    proc = _serve(config, inventory, *extra)
    try:
        yield Served(proc, _read_until_ready(proc), inventory)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)


def recap(output: str) -> dict[str, dict[str, int]]:
    """The PLAY RECAP counters of an ``ansible-playbook`` run, per host."""
    out: dict[str, dict[str, int]] = {}
    in_recap = False
    for line in output.splitlines():
        if line.startswith("PLAY RECAP"):
            in_recap = True
            continue
        if in_recap and ":" in line:
            name, _, rest = line.partition(":")
            counts = {}
            for item in rest.split():
                k, _, v = item.partition("=")
                if v.isdigit():
                    counts[k] = int(v)
            if counts:
                out[name.strip()] = counts
    return out
