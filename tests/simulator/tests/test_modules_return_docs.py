"""Every emulated module's results carry the keys its RETURN docs promise.

For each module a few representative runs (successful ones, and failures where the docs promise
keys on failure too) are checked against the installed RETURN documentation: every key marked
``returned: always`` must be there, and on success every key marked ``returned: success``. Where
the real ``.ps1`` does not do what its docs say, the scenario lists the key with the reason; those
exceptions are scoped to the one scenario they concern.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable
from typing import Any

import pytest

from tests.simulator import executables
from tests.simulator.contract import ExecResult
from tests.simulator.host import WindowsHost
from tests.simulator.modules import POWERSHELL_SCRIPTS, PSResult, emulated_modules
from tests.simulator.modules.argspec import return_docs
from tests.simulator.modules.testing import call

URL = "https://example.test/pkg/containerd.tar.gz"
DATA = b"payload"

SetUp = Callable[[WindowsHost], None]


class _Downloads:
    def get(self, url: str) -> bytes:
        if url == URL:
            return DATA
        error = Exception("404")
        error.status, error.reason = 404, "Not Found"  # type: ignore[attr-defined]
        raise error


def _nothing(host: WindowsHost) -> None:
    return None


def _downloads(host: WindowsHost) -> None:
    host.downloads = _Downloads()
    host.mkdir(r"C:\k")


def _downloaded(host: WindowsHost) -> None:
    _downloads(host)
    host.write_file(r"C:\k\containerd.tar.gz", DATA)


def _job(host: WindowsHost) -> None:
    host.async_jobs["1.2"] = {
        "started": True,
        "finished": True,
        "ansible_job_id": "1.2",
        "results_file": r"C:\a\1.2",
        "rc": 0,
    }


def _file(host: WindowsHost) -> None:
    host.write_file(r"C:\src\a.txt", b"a")


def _probe(host: WindowsHost) -> None:
    POWERSHELL_SCRIPTS.register("Get-Date", lambda h, p: PSResult(output=["now"], changed=False))


def _exes(host: WindowsHost) -> None:
    executables.install(host)


def _nssm(host: WindowsHost) -> None:
    from tests.simulator.executables.stamp import fake_binary

    executables.install(host)
    host.write_file(r"C:\k\nssm.exe", fake_binary("nssm", "2.24", arch="win64"))
    host.write_file(r"C:\k\app.exe", b"MZ app")


@dataclasses.dataclass(frozen=True)
class Scenario:
    id: str
    module: str
    args: dict[str, Any]
    setup: SetUp = _nothing
    failed: bool = False
    absent: dict[str, str] = dataclasses.field(default_factory=dict)  # key → why the real module omits it


_NO_REQUEST = (
    "no web request is made when dest already matches the checksum, so Invoke-AnsibleWindowsWebRequest never sets it"
)
_EARLY_FAIL = "win_command.ps1 fails in its catch block before it sets stdout/stderr/start/end/delta"
_ENV_FAIL = "win_environment.ps1 fails inside its loop before it sets before_value/value"
_WATCHDOG = "async_watchdog.ps1 sets stdout/stderr only when the watchdog itself fails"
_MSG = "{} sets msg only when it skips or fails"

SCENARIOS = [
    Scenario("ping", "ansible.windows.win_ping", {}),
    Scenario("setup", "ansible.windows.setup", {}),
    Scenario("feature", "ansible.windows.win_feature", {"name": "Containers"}),
    Scenario("feature-nochange", "ansible.windows.win_feature", {"name": "PowerShellRoot"}),
    Scenario("service-create", "ansible.windows.win_service", {"name": "agent", "path": r"C:\a.exe"}),
    Scenario("service-existing", "ansible.windows.win_service", {"name": "WinRM"}),
    Scenario("service-missing", "ansible.windows.win_service", {"name": "nope"}, failed=True),
    Scenario("service-info", "ansible.windows.win_service_info", {"name": "WinRM"}),
    Scenario("service-info-none", "ansible.windows.win_service_info", {"name": "nope"}),
    Scenario("get-url", "ansible.windows.win_get_url", {"url": URL, "dest": "C:\\k"}, _downloads),
    Scenario(
        "get-url-present",
        "ansible.windows.win_get_url",
        {"url": URL, "dest": r"C:\k\containerd.tar.gz", "checksum": hashlib.sha1(DATA).hexdigest(), "force": False},  # noqa: S324
        _downloaded,
        absent={"msg": _NO_REQUEST, "status_code": _NO_REQUEST, "checksum_src": "only set when a download ran"},
    ),
    Scenario(
        "get-url-404",
        "ansible.windows.win_get_url",
        {"url": URL + ".missing", "dest": r"C:\k\x"},
        _downloads,
        failed=True,
    ),
    Scenario(
        "copy-query",
        "ansible.windows.win_copy",
        {"_copy_mode": "query", "dest": r"C:\k", "files": [], "directories": []},
        absent={
            "operation": "plugins/action/win_copy.py sets it for non-remote copies; the module only in remote mode"
        },
    ),
    Scenario(
        "copy-remote",
        "ansible.windows.win_copy",
        {"_copy_mode": "remote", "src": r"C:\src\a.txt", "dest": r"C:\b.txt"},
        _file,
    ),
    Scenario("file", "ansible.windows.win_file", {"path": r"C:\k", "state": "directory"}),
    Scenario("stat", "ansible.windows.win_stat", {"path": r"C:\Windows"}),
    Scenario("stat-missing", "ansible.windows.win_stat", {"path": r"C:\nope"}),
    Scenario("find", "ansible.windows.win_find", {"paths": [r"C:\src"], "patterns": ["*.txt"]}, _file),
    Scenario("find-missing", "ansible.windows.win_find", {"paths": [r"C:\nope"]}),
    Scenario(
        "slurp",
        "ansible.windows.slurp",
        {"src": r"C:\src\a.txt"},
        _file,
        absent={"source": "slurp.ps1 never sets source (only content and encoding)"},
    ),
    Scenario(
        "command",
        "ansible.windows.win_command",
        {"cmd": "tar.exe --version"},
        _exes,
        absent={"msg": _MSG.format("win_command.ps1")},
    ),
    Scenario("command-rc", "ansible.windows.win_command", {"cmd": "sc.exe query nope"}, _exes, failed=True),
    Scenario(
        "command-missing",
        "ansible.windows.win_command",
        {"cmd": "nope.exe"},
        _exes,
        failed=True,
        absent=dict.fromkeys(
            ("stdout", "stderr", "start", "end", "delta", "stdout_lines", "stderr_lines"), _EARLY_FAIL
        ),
    ),
    Scenario(
        "shell",
        "ansible.windows.win_shell",
        {"_raw_params": "hostname"},
        lambda h: None,
        absent={"msg": _MSG.format("win_shell.ps1")},
    ),
    Scenario("powershell", "ansible.windows.win_powershell", {"script": "Get-Date"}, _probe),
    Scenario("powershell-unknown", "ansible.windows.win_powershell", {"script": "Stop-Computer"}, failed=True),
    Scenario(
        "reg-stat", "ansible.windows.win_reg_stat", {"path": r"HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion"}
    ),
    Scenario("regedit", "ansible.windows.win_regedit", {"path": r"HKLM:\SOFTWARE\x", "name": "a", "data": "b"}),
    Scenario("path", "ansible.windows.win_path", {"elements": [r"C:\k"]}),
    Scenario("environment", "ansible.windows.win_environment", {"name": "A", "value": "1", "level": "machine"}),
    Scenario(
        "environment-fail",
        "ansible.windows.win_environment",
        {"name": "A", "level": "machine", "state": "present"},
        failed=True,
        absent={"before_value": _ENV_FAIL, "value": _ENV_FAIL},
    ),
    Scenario(
        "async-status",
        "ansible.windows.async_status",
        {"jid": "1.2", "_async_dir": r"C:\a"},
        _job,
        absent={"stdout": _WATCHDOG, "stderr": _WATCHDOG},
    ),
    Scenario(
        "async-status-missing",
        "ansible.windows.async_status",
        {"jid": "9", "_async_dir": r"C:\a"},
        failed=True,
        absent={"stdout": _WATCHDOG, "stderr": _WATCHDOG},
    ),
    # The action plugin assembles these keys; the module itself only with the async path's wait.
    Scenario("updates-wait", "ansible.windows.win_updates", {"_operation_options": {"wait": True}}),
    Scenario("firewall", "community.windows.win_firewall_rule", {"name": "r", "localport": "80", "protocol": "tcp"}),
    Scenario(
        "nssm",
        "community.windows.win_nssm",
        {"name": "app", "application": r"C:\k\app.exe", "executable": r"C:\k\nssm.exe"},
        _nssm,
    ),
]


def _shell_handler(host: WindowsHost, params: dict[str, Any]) -> ExecResult:
    return ExecResult(0, "HOST\r\n", "")


def controller_view(result: dict[str, Any]) -> dict[str, Any]:
    """What the task result holds after ansible-core's ActionBase._execute_module post-processing
    (lib/ansible/plugins/action/__init__.py): stdout_lines/stderr_lines are split there."""
    out = dict(result)
    if "stdout" in out and "stdout_lines" not in out:
        out["stdout_lines"] = (out["stdout"] or "").splitlines()
    if "stderr" in out and "stderr_lines" not in out:
        out["stderr_lines"] = (out["stderr"] or "").splitlines()
    return out


def promised(module: str, succeeded: bool) -> set[str]:
    keys = set()
    for key, doc in return_docs(module).items():
        returned = str(doc.get("returned", "")).strip().lower()
        if returned == "always" or (succeeded and returned == "success"):
            keys.add(key)
    return keys


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.id for s in SCENARIOS])
def test_result_carries_the_documented_keys(scenario: Scenario) -> None:
    from tests.simulator.modules import SHELL_COMMANDS

    host = WindowsHost("ret", os_version="10.0.20348.2527")
    scenario.setup(host)
    try:
        with SHELL_COMMANDS.registered("hostname", _shell_handler):
            result = controller_view(call(host, scenario.module, scenario.args))
    finally:
        POWERSHELL_SCRIPTS.unregister("Get-Date")
    assert bool(result.get("failed")) is scenario.failed, result
    assert "Unhandled exception" not in str(result.get("msg"))
    expected = promised(scenario.module, not scenario.failed)
    for key in scenario.absent:
        assert key in return_docs(scenario.module), f"stale exception: {key} is not in the RETURN docs"
        assert key not in result, f"{key} is there after all: drop the exception"
    missing = expected - set(result) - set(scenario.absent)
    assert not missing, f"{scenario.module} lacks {sorted(missing)}"


def test_every_emulated_module_has_a_return_scenario() -> None:
    assert {s.module for s in SCENARIOS} == set(emulated_modules())


@pytest.mark.parametrize(
    "module",
    [
        "ansible.windows.setup",
        "ansible.windows.win_file",
        "ansible.windows.win_path",
        "community.windows.win_firewall_rule",
        "community.windows.win_nssm",
    ],
)
def test_modules_without_return_docs(module: str) -> None:
    # Nothing is promised for these; if a collection update documents keys, the scenarios check them.
    assert return_docs(module) == {}
