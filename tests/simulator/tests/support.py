"""Helpers for the simulator's own tests (imported by the tests and by ``conftest.py``).

* ``WinRSClient``: real pywinrm ``Protocol`` calls (open a shell, run a command with stdin in
  200 kB chunks like the winrm connection plugin, read all output), plus ``bootstrap()`` that
  sends an executor helper exactly as the installed ansible-core builds it.
* ``double_runner``: a stand-in module table for transport tests (win_ping/setup only); the
  module emulations themselves live in ``tests.simulator.modules``.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from winrm.protocol import Protocol

from tests.simulator.contract import ModuleRequest
from tests.simulator.host import SimulatorError, WindowsHost
from tests.simulator.pytest_plugin import REPO_ROOT
from tests.simulator.server import Simulator

FIXTURES = Path(__file__).parent / "fixtures"
VENV_221 = REPO_ROOT / ".venv-2.21"
VENV_220 = REPO_ROOT / ".venv-2.20"
VENV_218 = REPO_ROOT / ".venv-2.18"
SITE_221 = VENV_221 / "lib" / "python3.12" / "site-packages"
SITE_219 = REPO_ROOT / ".venv" / "lib" / "python3.11" / "site-packages"
PS_ARGS = ["-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Unrestricted", "-EncodedCommand"]


def double_runner(host: WindowsHost, req: ModuleRequest) -> dict[str, Any]:
    """Transport tests only: answer win_ping and setup, refuse the rest like run_module does."""
    if req.name == "ansible.windows.win_ping":
        return {"changed": False, "ping": req.args.get("data", "pong")}
    if req.name == "ansible.windows.setup":
        return {"changed": False, "ansible_facts": {"ansible_hostname": host.hostname, "ansible_os_family": "Windows"}}
    raise SimulatorError(f"module {req.name} is not emulated")


def encode(script: str) -> str:
    return base64.b64encode(script.encode("utf-16-le")).decode()


class WinRSClient:
    """pywinrm's Protocol, used the way ansible's winrm connection plugin uses it."""

    def __init__(self, endpoint: dict[str, Any], *, password: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("server_cert_validation", "ignore")
        self.protocol = Protocol(
            endpoint["url"],
            transport=endpoint["auth"],
            username=endpoint["user"],
            password=endpoint["password"] if password is None else password,
            **kwargs,
        )
        self._shell: str | None = None

    @property
    def shell(self) -> str:
        if self._shell is None:
            self._shell = self.protocol.open_shell(codepage=65001)
        return self._shell

    def run(self, command: str, args: list[str] | None = None, stdin: bytes | None = None) -> tuple[int, bytes, bytes]:
        cid = self.protocol.run_command(self.shell, command, args or [], console_mode_stdin=stdin is None)
        if stdin is not None:
            chunks = [stdin[i : i + 200_000] for i in range(0, len(stdin), 200_000)] or [b""]
            for i, chunk in enumerate(chunks):
                self.protocol.send_command_input(self.shell, cid, chunk, end=i == len(chunks) - 1)
        out, err, rc = self.protocol.get_command_output(self.shell, cid)
        self.protocol.cleanup_command(self.shell, cid)
        return rc, out, err

    def ps(self, script: str, stdin: bytes | None = None) -> tuple[int, bytes, bytes]:
        return self.run("PowerShell", [*PS_ARGS, encode(script)], stdin)

    def bootstrap(self, name: str, params: dict[str, Any], extra: bytes | None = None) -> tuple[int, bytes, bytes]:
        """Run an executor helper with the installed ansible-core's own payload builder."""
        from ansible.executor.powershell.module_manifest import _bootstrap_powershell_script

        script, stdin = _bootstrap_powershell_script(name, params, has_input=extra is not None)
        return self.ps(script, stdin + (extra or b""))

    def close(self) -> None:
        if self._shell is not None:
            self.protocol.close_shell(self._shell)
            self._shell = None


def endpoint(sim: Simulator, name: str) -> dict[str, Any]:
    return next(e for e in sim.endpoints() if e["name"] == name)


def load_fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / "wire" / name).read_text(encoding="utf-8"))


def write_playbook(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path
