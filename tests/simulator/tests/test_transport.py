"""The WinRM transport with real clients: pywinrm (Basic, NTLM with message encryption, HTTPS,
keep-alive, chunked stdin/stdout, faults of the protocol itself) and real ``ansible-playbook``
(module runs, become, async, the executor helpers, unknown modules and scripts) for every
ansible-core wire format available here.
"""

from __future__ import annotations

import base64
import hashlib
import re
import threading
from pathlib import Path
from typing import Any

import pytest
import spnego
from spnego.channel_bindings import GssChannelBindings
from winrm.exceptions import InvalidCredentialsError, WinRMOperationTimeoutError, WSManFaultError

from tests.simulator.auth import AuthError, Credentials, NtlmConnection, write_ntlm_user_file
from tests.simulator.contract import ExecResult
from tests.simulator.pytest_plugin import recap
from tests.simulator.scripts import ScriptContext, filetime
from tests.simulator.tests.support import (
    SITE_219,
    SITE_221,
    VENV_218,
    VENV_220,
    VENV_221,
    WinRSClient,
    double_runner,
    endpoint,
)

BOOT_TIME = "(Get-CimInstance -ClassName Win32_OperatingSystem -Property LastBootUpTime).LastBootUpTime.ToFileTime()"

ALL_KINDS = {
    "hosts": [
        {"name": "basic-http"},
        {"name": "ntlm-http", "auth": "ntlm"},
        {"name": "basic-https", "scheme": "https"},
        {"name": "ntlm-https", "auth": "ntlm", "scheme": "https"},
    ]
}


@pytest.fixture
def sim(windows_sim: Any) -> Any:
    return windows_sim(ALL_KINDS, module_runner=double_runner, with_executables=False)


@pytest.mark.parametrize("name", ["basic-http", "ntlm-http", "basic-https", "ntlm-https"])
def test_each_auth_and_scheme_runs_a_command(sim: Any, winrs: Any, name: str) -> None:
    client = winrs(endpoint(sim.sim, name))
    rc, out, err = client.ps(BOOT_TIME)
    assert (rc, err) == (0, b"")
    assert int(out) == filetime(sim.host(name).boot_time)
    stats = sim.stats(name)
    assert stats["commands"] == 1
    assert stats["scripts"] == {"win_reboot:boot_time": 1}
    # Create + Command + Receive + Signal
    assert stats["winrm_requests"] == 4
    assert stats["bytes_in"] > 0 and stats["bytes_out"] > 0


def test_ntlm_over_http_uses_message_encryption(sim: Any, winrs: Any) -> None:
    ep = endpoint(sim.sim, "ntlm-http")
    client = winrs(ep)
    assert client.ps(BOOT_TIME)[0] == 0
    assert client.protocol.transport.encryption is not None  # pywinrm sealed every message
    # The listener refuses plain SOAP over HTTP on an NTLM host (AllowUnencrypted=false).
    plain = WinRSClient(ep, message_encryption="never")
    with pytest.raises(InvalidCredentialsError):
        plain.ps(BOOT_TIME)


def test_https_certificate_is_valid_for_the_loopback_address(sim: Any, winrs: Any) -> None:
    rt = sim.sim.runtime("basic-https")
    assert rt.tls is not None
    # validate against the generated certificate itself: CN/SAN and chain are right
    client = winrs(
        endpoint(sim.sim, "basic-https"), server_cert_validation="validate", ca_trust_path=str(rt.tls.cert_file)
    )
    assert client.ps(BOOT_TIME)[0] == 0
    cert = sim.host("basic-https").extra["winrm_https_certificate"]
    assert cert["thumbprint"] == hashlib.sha1(rt.tls.der).hexdigest().upper()  # noqa: S324
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", cert["expires"])


def test_ntlm_channel_binding_mismatch_is_refused(tmp_path: Path) -> None:
    creds = Credentials("Administrator", "Pw:with:colons", "HOST1")
    user_file = write_ntlm_user_file(tmp_path / "users", creds)
    assert oct(user_file.stat().st_mode & 0o777) == "0o600"

    def handshake(server_cbt: bytes, client_cbt: bytes) -> None:
        server = NtlmConnection(user_file, server_cbt)
        client = spnego.client(
            creds.user,
            creds.password,
            protocol="ntlm",
            channel_bindings=GssChannelBindings(application_data=client_cbt),
        )
        challenge = server.step("Negotiate " + base64.b64encode(client.step() or b"").decode())
        assert challenge is not None
        token = base64.b64decode(challenge.split(" ", 1)[1])
        assert server.step("Negotiate " + base64.b64encode(client.step(token) or b"").decode()) is None
        assert server.complete and server.user == "Administrator"

    handshake(b"tls-server-end-point:same", b"tls-server-end-point:same")
    with pytest.raises(AuthError, match="bindings"):
        handshake(b"tls-server-end-point:server", b"tls-server-end-point:other")


@pytest.mark.parametrize("name", ["basic-http", "ntlm-http", "ntlm-https"])
def test_wrong_password_is_rejected_with_401(sim: Any, name: str) -> None:
    client = WinRSClient(endpoint(sim.sim, name), password="not-the-password")
    with pytest.raises(InvalidCredentialsError, match="the specified credentials were rejected by the server"):
        client.ps(BOOT_TIME)
    assert sim.stats(name)["winrm_requests"] == 0


def test_wrong_password_makes_ansible_report_unreachable(windows_sim: Any, tmp_path: Path) -> None:
    handle = windows_sim(
        {"hosts": [{"name": "w1"}, {"name": "w2", "auth": "ntlm"}]}, module_runner=double_runner, with_executables=False
    )
    inventory = handle.inventory.read_text().replace(handle.sim.config.hosts[0].password, "wrong-password")
    (tmp_path / "bad-inventory.yml").write_text(inventory)
    play = tmp_path / "ping.yml"
    play.write_text("- hosts: windows_nodes\n  gather_facts: false\n  tasks:\n    - ansible.windows.win_ping:\n")
    from tests.simulator.pytest_plugin import ansible_playbook

    proc = ansible_playbook(tmp_path / "bad-inventory.yml", play)
    assert proc.returncode == 4, proc.stdout
    assert "basic: the specified credentials were rejected by the server" in proc.stdout
    assert "ntlm: the specified credentials were rejected by the server" in proc.stdout
    assert recap(proc.stdout) == {
        h: {"ok": 0, "changed": 0, "unreachable": 1, "failed": 0, "skipped": 0, "rescued": 0, "ignored": 0}
        for h in ("w1", "w2")
    }


@pytest.mark.parametrize("name", ["basic-http", "ntlm-http"])
def test_keep_alive_serves_a_session_on_one_connection(sim: Any, winrs: Any, name: str) -> None:
    client = winrs(endpoint(sim.sim, name))
    for _ in range(3):
        assert client.ps(BOOT_TIME)[0] == 0
    assert sim.stats(name)["connections"] == 1
    assert sim.stats(name)["commands"] == 3


def test_large_stdin_and_stdout_are_chunked(sim: Any, winrs: Any) -> None:
    """put_file of 700 kB (four 200 kB Sends), then fetch_file back in 512 kB reads whose
    base64 output is far larger than one envelope (several Receives)."""
    name = "ntlm-http"
    client = winrs(endpoint(sim.sim, name))
    data = hashlib.sha256(b"seed").digest() * (700_000 // 32)
    lines = b"".join(base64.b64encode(data[i : i + 250_000]) + b"\r\n" for i in range(0, len(data), 250_000))
    rc, out, err = client.bootstrap("winrm_put_file.ps1", {"Path": r"C:\Windows\TEMP\big.bin"}, lines)
    assert (rc, err) == (0, b""), err
    sha1 = hashlib.sha1(data).hexdigest()  # noqa: S324 - what put_file reports
    assert out.strip() == f'{{"sha1":"{sha1}"}}'.encode()
    assert sim.host(name).read_file(r"c:\windows\temp\BIG.bin") == data
    before = sim.stats(name)["winrm_requests"]
    fetched = b""
    offset = 0
    while True:
        rc, out, err = client.bootstrap(
            "winrm_fetch_file.ps1", {"Path": r"C:\Windows\TEMP\big.bin", "BufferSize": 524288, "Offset": offset}
        )
        assert rc == 0, err
        chunk = base64.b64decode(out.strip())
        fetched += chunk
        offset += len(chunk)
        if len(chunk) < 524288:
            break
    assert fetched == data
    # 2 fetches: Command, Send, >=3 Receives for the first 700 kB of base64, Signal ...
    assert sim.stats(name)["winrm_requests"] - before >= 2 * 4 + 3


def test_executor_helpers_on_the_simulated_disk(sim: Any, winrs: Any) -> None:
    from ansible.plugins.shell.powershell import ShellModule

    name = "basic-http"
    host = sim.host(name)
    client = winrs(endpoint(sim.sim, name))
    rc, out, _ = client.bootstrap("powershell_mkdtemp.ps1", {"Directory": "%TEMP%", "Name": "ansible-tmp-1"})
    tmp = r"C:\Users\Administrator\AppData\Local\Temp\ansible-tmp-1"
    assert (rc, out) == (0, (tmp + "\r\n").encode())
    assert host.isdir(tmp)
    rc, _, err = client.bootstrap("powershell_mkdtemp.ps1", {"Directory": "%TEMP%", "Name": "ansible-tmp-1"})
    assert rc == 1 and b"already exists" in err
    assert client.bootstrap("powershell_expand_user.ps1", {"Path": "~"})[1] == b"C:\\Users\\Administrator\r\n"
    assert client.bootstrap("powershell_expand_user.ps1", {"Path": "~\\x"})[1] == b"C:\\Users\\Administrator\\x\r\n"
    rc, out, _ = client.bootstrap("winrm_fetch_file.ps1", {"Path": tmp, "BufferSize": 10, "Offset": 0})
    assert (rc, out.strip()) == (0, b"[DIR]")
    rc, _, err = client.bootstrap("winrm_fetch_file.ps1", {"Path": tmp + r"\nope", "BufferSize": 10, "Offset": 0})
    assert rc == 1 and err.strip() == (tmp + r"\nope does not exist").encode()
    rc, _, err = client.bootstrap("winrm_put_file.ps1", {"Path": r"C:\no\such\dir\f"}, b"QUJD\r\n")
    assert rc == 1 and b"Could not find a part of the path" in err
    host.write_file(tmp + r"\f.txt", b"0123456789")
    rc, out, _ = client.bootstrap("winrm_fetch_file.ps1", {"Path": tmp + r"\f.txt", "BufferSize": 4, "Offset": 8})
    assert base64.b64decode(out.strip()) == b"89"
    shell = ShellModule()
    exists = shell.exists(tmp + r"\f.txt").split(" ")
    assert client.run(exists[0], [" ".join(exists[1:])])[0] == 0
    remove = shell.remove(tmp + "\\.", recurse=True).split(" ")
    assert client.run(remove[0], [" ".join(remove[1:])])[0] == 0
    assert not host.exists(tmp)
    rc, _, err = client.run(remove[0], [" ".join(remove[1:])])
    assert rc == 1 and b"because it does not exist" in err
    assert sim.stats(name)["scripts"]["remove"] == 2


def test_two_hosts_at_once_keep_separate_state(sim: Any) -> None:
    names = ["basic-http", "ntlm-http"]
    errors: list[BaseException] = []

    def work(name: str) -> None:
        try:
            client = WinRSClient(endpoint(sim.sim, name))
            for i in range(8):
                payload = base64.b64encode(f"{name}-{i}".encode()) + b"\r\n"
                rc, _, err = client.bootstrap("winrm_put_file.ps1", {"Path": rf"C:\data\{name}-{i}.txt"}, payload)
                if rc != 0:
                    raise AssertionError(err)
            client.close()
        except BaseException as exc:
            errors.append(exc)

    for name in names:
        sim.host(name).mkdir(r"C:\data")
    threads = [threading.Thread(target=work, args=(n,)) for n in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    for name, other in (names, names[::-1]):
        files = {e.path for e in sim.host(name).listdir(r"C:\data")}
        assert files == {rf"C:\data\{name}-{i}.txt" for i in range(8)}
        assert not sim.host(name).exists(rf"C:\data\{other}-0.txt")
        assert sim.host(name).read_file(rf"C:\data\{name}-3.txt") == f"{name}-3".encode()
        assert sim.stats(name)["scripts"] == {"winrm_put_file.ps1": 8}
    assert sim.stats("basic-https")["winrm_requests"] == 0


def test_receive_before_stdin_end_times_out_then_completes(sim: Any, winrs: Any) -> None:
    from ansible.executor.powershell.module_manifest import _bootstrap_powershell_script

    from tests.simulator.tests.support import PS_ARGS, encode

    client = winrs(endpoint(sim.sim, "basic-http"))
    script, stdin = _bootstrap_powershell_script("powershell_expand_user.ps1", {"Path": "~"})
    proto = client.protocol
    cid = proto.run_command(client.shell, "PowerShell", [*PS_ARGS, encode(script)], console_mode_stdin=False)
    proto.send_command_input(client.shell, cid, stdin[:100], end=False)
    with pytest.raises(WinRMOperationTimeoutError):
        proto.get_command_output_raw(client.shell, cid)
    proto.send_command_input(client.shell, cid, stdin[100:], end=True)
    out, _, rc = proto.get_command_output(client.shell, cid)
    assert (rc, out) == (0, b"C:\\Users\\Administrator\r\n")


def test_closed_shell_is_a_wsman_fault(sim: Any) -> None:
    client = WinRSClient(endpoint(sim.sim, "basic-http"))
    shell = client.shell
    client.protocol.close_shell(shell, close_session=False)
    with pytest.raises(WSManFaultError) as err:
        client.protocol.run_command(shell, "PowerShell", ["-EncodedCommand", "AAA="])
    assert err.value.wsman_fault_code == 2150858843
    assert "the shell was not found on the server" in err.value.reason


def test_unknown_script_fails_loudly_over_pywinrm(sim: Any, winrs: Any) -> None:
    rc, out, err = winrs(endpoint(sim.sim, "basic-http")).ps("Get-Service docker | Restart-Service")
    assert rc == 1 and out == b""
    assert err.startswith(b"#< CLIXML")
    assert b"simulator: unrecognised PowerShell script: &apos;Get-Service docker" in err or (
        b"simulator: unrecognised PowerShell script: 'Get-Service docker | Restart-Service'" in err
    )
    assert sim.stats("basic-http")["scripts"] == {"<unrecognised>": 1}


# ------------------------------------------------------------------ real ansible-playbook, per core

WIRE_PLAY = """\
- hosts: windows_nodes
  gather_facts: true
  tasks:
    - name: ping with data
      ansible.windows.win_ping:
        data: hello
      register: ping
    - name: ping with become
      ansible.windows.win_ping:
      become: true
      become_method: runas
      become_user: SYSTEM
    - name: ping async
      ansible.windows.win_ping:
      async: 30
      poll: 0
      register: job
    - name: script action (mkdtemp, put_file, run, remove)
      ansible.builtin.script: hello.ps1
      register: script
    - name: a script nobody registered
      ansible.builtin.raw: Get-Service docker
      register: raw
      ignore_errors: true
    - name: a module nobody emulates
      ansible.windows.win_regedit:
        path: HKLM:\\SOFTWARE\\Acme
      register: regedit
      ignore_errors: true
    - name: the results are what Windows would give
      ansible.builtin.assert:
        that:
          - ping.ping == 'hello'
          - ansible_facts.hostname == inventory_hostname | upper
          - job.ansible_job_id is match('j[0-9]+[.][0-9]+')
          - job.started == 1 and job.finished == 0
          - "'hello from a script' in script.stdout"
          - raw.rc == 1
          - "'simulator: unrecognised PowerShell script' in raw.stderr"
          - "regedit.msg == 'simulator: module ansible.windows.win_regedit is not emulated'"
    - name: a module from no collection (library/ next to the play)
      win_custom:
      register: custom
      ignore_errors: true
    - ansible.builtin.assert:
        that:
          - custom is failed
          - "custom.msg is search('simulator: ') and custom.msg is search('win_custom')"
"""

CUSTOM_MODULE = """\
#!powershell
#AnsibleRequires -CSharpUtil Ansible.Basic
$module = [Ansible.Basic.AnsibleModule]::Create($args, @{})
$module.ExitJson()
"""


def _hello_handler(ctx: ScriptContext, m: re.Match[str]) -> ExecResult:
    """The uploaded hello.ps1, 'run' by reading what put_file wrote to the simulated disk."""
    text = ctx.host.read_file(m.group("path")).decode()
    said = re.fullmatch(r'Write-Output "([^"]*)"\s*', text)
    if said is None:
        return ExecResult(1, "", f"unexpected script content {text!r}")
    return ExecResult(0, said.group(1) + "\r\n")


CORES = [
    pytest.param(None, [SITE_219], id="2.19"),
    pytest.param(VENV_220, [SITE_219], id="2.20"),
    pytest.param(VENV_221, [SITE_221], id="2.21"),
    pytest.param(VENV_218, [SITE_219], id="2.18"),
]


@pytest.mark.slow
@pytest.mark.parametrize(("venv", "collections"), CORES)
def test_playbook_over_each_wire_format(
    windows_sim: Any, tmp_path: Path, venv: Path | None, collections: list[Path]
) -> None:
    if venv is not None and not (venv / "bin" / "ansible-playbook").exists():
        pytest.skip(f"{venv} absent: see 'Other ansible-core versions' in tests/simulator/README.md")
    env = {}
    if venv in (VENV_218, VENV_220):
        env["ANSIBLE_COLLECTIONS_PATH"] = str(SITE_219)  # ansible-core alone: use the installed ansible.windows
    handle = windows_sim(
        {"hosts": [{"name": "w1"}, {"name": "w2", "auth": "ntlm", "os_version": "10.0.17763.6414"}]},
        module_runner=double_runner,
        with_executables=False,
        collections_paths=[str(c) for c in collections],
    )
    handle.sim.register_script("test:hello.ps1", r"&\s+(?P<path>\S+\\hello\.ps1); exit \$LASTEXITCODE", _hello_handler)
    (tmp_path / "hello.ps1").write_text('Write-Output "hello from a script"\n')
    (tmp_path / "library").mkdir()
    (tmp_path / "library" / "win_custom.ps1").write_text(CUSTOM_MODULE)
    play = tmp_path / "wire.yml"
    play.write_text(WIRE_PLAY)
    proc = handle.playbook(play, venv=venv, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for name in ("w1", "w2"):
        assert recap(proc.stdout)[name]["failed"] == 0
        assert recap(proc.stdout)[name]["ignored"] == 3
        stats = handle.stats(name)
        assert stats["module_runs"] == {
            "ansible.windows.setup": 1,
            "ansible.windows.win_ping": 3,
            "ansible.windows.win_regedit": 1,
        }
        assert stats["module_runs_total"] == 5
        assert stats["become"] == {"SYSTEM": 1}
        assert stats["scripts"]["test:hello.ps1"] == 1
        assert stats["scripts"]["remove"] == 1
        assert stats["scripts"]["<unrecognised>"] == 1
        host = handle.host(name)
        # the tmp dir of the script action was created, filled and removed again
        temp = host.listdir(r"C:\Users\Administrator\AppData\Local\Temp")
        assert not [e for e in temp if e.path.lower().rsplit("\\", 1)[-1].startswith("ansible-tmp-")]
        [(jid, job)] = host.async_jobs.items()
        assert job["finished"] is True and job["ping"] == "pong" and job["ansible_job_id"] == jid
        assert host.exists(job["results_file"])


def test_a_non_powershell_command_goes_to_the_executables(windows_sim: Any) -> None:
    """pywinrm's run_cmd: no PowerShell on the command line, so tests.simulator.executables runs it."""
    import winrm

    handle = windows_sim({"hosts": [{"name": "w1"}]}, module_runner=double_runner)
    ep = endpoint(handle.sim, "w1")
    session = winrm.Session(
        ep["url"], auth=(ep["user"], ep["password"]), transport="basic", server_cert_validation="ignore"
    )
    res = session.run_cmd(r"C:\Windows\System32\sc.exe", ["query", "WinRM"])
    assert res.status_code == 0
    assert b"SERVICE_NAME: WinRM" in res.std_out and b"RUNNING" in res.std_out
    assert handle.stats("w1")["scripts"] == {"cmd:sc.exe": 1}
