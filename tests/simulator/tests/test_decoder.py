"""The decoder on real wire payloads.

Fixtures under ``fixtures/wire/`` were captured from real ``ansible-playbook`` runs (2.18.19,
2.19.14, 2.21.5) against the simulator's trace mode (``capture_wire.py``); module sources are
kept as their sha256, so the cross-check against the installed collection is exercised for real.
Payloads built on the spot with the installed ansible-core's own manifest builder cover the
framing of stage 1 on full-size input.
"""

from __future__ import annotations

import base64
import copy
import json
from typing import Any

import pytest

from tests.simulator.decoder import (
    CmdInvocation,
    CollectionIndex,
    DecodeError,
    HelperInvocation,
    ModuleInvocation,
    ScriptInvocation,
    WirePayload,
    decode,
    interpret,
    is_bootstrap,
    is_legacy_bootstrap,
    join_winrs,
    parse_command_line,
    parse_stdin,
    split_windows_cmdline,
)
from tests.simulator.scripts import builtin_registry
from tests.simulator.tests.support import SITE_219, SITE_221, load_fixture

INDEX_219 = CollectionIndex([SITE_219])


def _script(fx: dict[str, Any]) -> str:
    cl = parse_command_line(join_winrs(fx["command"], fx["arguments"]))
    assert cl.is_powershell and cl.script is not None
    script = cl.script
    if script.strip().lower().startswith("powershell"):  # <= 2.18 wraps the module command again
        script = parse_command_line(script.strip()).script or ""
    return script


def _interpret(name: str, index: CollectionIndex = INDEX_219) -> Any:
    fx = load_fixture(name)
    script = _script(fx)
    assert is_bootstrap(script) or fx["stdin_payload"]["format"] == "legacy"
    return interpret(WirePayload.from_record(fx["stdin_payload"]), index)


# ------------------------------------------------------------------ command lines


@pytest.mark.parametrize(
    ("line", "argv"),
    [
        ("PowerShell -NoProfile -EncodedCommand abc=", ["PowerShell", "-NoProfile", "-EncodedCommand", "abc="]),
        (r'"C:\Program Files\x.exe" a "b c"', [r"C:\Program Files\x.exe", "a", "b c"]),
        (r'x.exe "a \"quoted\" word" d', ["x.exe", 'a "quoted" word', "d"]),
        (r'x.exe C:\dir\ "C:\dir\\"', ["x.exe", "C:\\dir\\", "C:\\dir\\"]),
        ('x.exe "" y', ["x.exe", "", "y"]),
    ],
)
def test_split_windows_cmdline(line: str, argv: list[str]) -> None:
    assert split_windows_cmdline(line) == argv


def test_command_line_forms_of_each_core() -> None:
    script = "Write-Output 'hi'"
    b64 = base64.b64encode(script.encode("utf-16-le")).decode()
    # 2.19/2.20: rsp:Command "PowerShell" + one rsp:Arguments; 2.21: the whole line as the command;
    # pywinrm's run_ps: lower-case flag.
    for command, args in (
        ("PowerShell", [f"-NoProfile -NonInteractive -ExecutionPolicy Unrestricted -EncodedCommand {b64}"]),
        (f"powershell -NoProfile -NonInteractive -ExecutionPolicy Unrestricted -EncodedCommand {b64}", []),
        (f"powershell -encodedcommand {b64}", []),
        (rf"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe -enc {b64}", []),
    ):
        cl = parse_command_line(join_winrs(command, args))
        assert cl.is_powershell
        assert cl.script == script


def test_encoded_arguments_clixml() -> None:
    clixml = (
        '<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04"><Obj RefId="0">'
        '<TN RefId="0"><T>System.Collections.ArrayList</T><T>System.Object</T></TN>'
        "<LST><S>first</S><S>a &amp; b_x000A_c</S></LST></Obj></Objs>"
    )
    enc = base64.b64encode(clixml.encode("utf-16-le")).decode()
    cmd = base64.b64encode(b"x\x00").decode()
    cl = parse_command_line(f"powershell -NoProfile -EncodedCommand {cmd} -EncodedArguments {enc}")
    assert cl.script_args == ["first", "a & b\nc"]


def test_not_powershell_is_a_cmd_invocation() -> None:
    inv, payload = decode("ipconfig", ["/all"], b"", INDEX_219)
    assert isinstance(inv, CmdInvocation)
    assert inv.argv == ["ipconfig", "/all"]
    assert payload is None


def test_bad_base64_is_a_decode_error() -> None:
    with pytest.raises(DecodeError, match="-EncodedCommand is not base64"):
        parse_command_line("PowerShell -EncodedCommand !!!notbase64")


# ------------------------------------------------------------------ captured module runs


def test_219_win_ping_module_identity_and_args() -> None:
    inv = _interpret("2.19-win_ping.json")
    assert isinstance(inv, ModuleInvocation)
    assert inv.request.name == "ansible.windows.win_ping"
    assert inv.request.args == {"data": "hello"}
    assert inv.request.internal["_ansible_version"] == "2.19.14"
    assert inv.request.core_version == "2.19.14"
    assert inv.request.check_mode is False
    assert inv.installed_path.endswith("ansible_collections/ansible/windows/plugins/modules/win_ping.ps1")
    assert inv.wrappers == []


def test_219_setup_identity_comes_from_script_not_module_name() -> None:
    inv = _interpret("2.19-setup.json")
    assert isinstance(inv, ModuleInvocation)
    # gather_facts sends _ansible_module_name=ansible.legacy.setup; the manifest's Script is the truth
    assert inv.request.internal["_ansible_module_name"] == "ansible.legacy.setup"
    assert inv.request.name == "ansible.windows.setup"


def test_219_become_wrapper_is_recognised() -> None:
    inv = _interpret("2.19-become.json")
    assert isinstance(inv, ModuleInvocation)
    assert inv.become is not None
    assert inv.become.params["BecomeUser"] == "SYSTEM"
    assert inv.async_params is None


def test_219_async_wrappers_are_recognised() -> None:
    inv = _interpret("2.19-async.json")
    assert isinstance(inv, ModuleInvocation)
    assert [w.name for w in inv.wrappers] == ["async_wrapper.ps1", "async_watchdog.ps1"]
    params = inv.async_params
    assert params is not None
    assert params["AsyncJid"].startswith("j")
    assert params["Timeout"] == 30
    assert params["AsyncDir"] == r"%USERPROFILE%\.ansible_async"


def test_221_setup_against_its_own_collection() -> None:
    if not SITE_221.is_dir():
        pytest.skip(f"{SITE_221} absent: create .venv-2.21 (see tests/simulator/README.md) to check 3.8.0 sources")
    inv = _interpret("2.21-setup.json", CollectionIndex([SITE_221]))
    assert isinstance(inv, ModuleInvocation)
    assert inv.request.name == "ansible.windows.setup"
    assert inv.request.core_version == "2.21.5"
    assert inv.payload.bootstrap_params["PwshPath"] == "powershell"


def test_221_unchanged_module_matches_older_install() -> None:
    """win_ping.ps1 is the same in ansible.windows 3.3.0 and 3.8.0: the digest decides, not the version."""
    inv = _interpret("2.21-win_ping.json", INDEX_219)
    assert isinstance(inv, ModuleInvocation)
    assert inv.request.name == "ansible.windows.win_ping"


def test_221_module_source_drift_fails_loudly() -> None:
    """ansible.windows 3.8.0's setup.ps1 is not the installed 3.3.0 one: refuse, naming both."""
    with pytest.raises(DecodeError) as err:
        _interpret("2.21-setup.json", INDEX_219)
    text = str(err.value)
    assert "module ansible.windows.setup source" in text
    assert "does not match the installed collection" in text
    assert "version=3.3.0" in text


def test_218_legacy_module_found_by_source_hash() -> None:
    fx = load_fixture("2.18-win_ping.json")
    script = _script(fx)
    assert not is_bootstrap(script)
    assert is_legacy_bootstrap(script, b"x\0\0\0\0y")
    inv = interpret(WirePayload.from_record(fx["stdin_payload"]), INDEX_219)
    assert isinstance(inv, ModuleInvocation)
    assert inv.request.name == "ansible.windows.win_ping"
    assert inv.request.args == {"data": "hello"}
    assert inv.request.core_version == "2.18.19"


def test_218_legacy_async() -> None:
    inv = interpret(WirePayload.from_record(load_fixture("2.18-async.json")["stdin_payload"]), INDEX_219)
    assert isinstance(inv, ModuleInvocation)
    params = inv.async_params
    assert params is not None and params["AsyncJid"].startswith("j") and params["Timeout"] == 30


# ------------------------------------------------------------------ helpers and scripts


def test_219_executor_helpers() -> None:
    mk = _interpret("2.19-mkdtemp.json")
    assert isinstance(mk, HelperInvocation)
    assert mk.name == "powershell_mkdtemp.ps1"
    assert mk.params["Directory"] == "%TEMP%"
    assert mk.params["Name"].startswith("ansible-tmp-")
    put = _interpret("2.19-put_file.json")
    assert isinstance(put, HelperInvocation)
    assert put.name == "winrm_put_file.ps1"
    assert put.params["Path"].endswith("\\hello.ps1")
    assert base64.b64decode(put.extra_input.strip()) == b'Write-Output "hello from a script"\n'


def test_221_put_file_helper() -> None:
    put = _interpret("2.21-put_file.json")
    assert isinstance(put, HelperInvocation)
    assert put.name == "winrm_put_file.ps1"


def test_script_action_is_a_plain_script() -> None:
    inv = _interpret("2.19-script_action.json")
    assert isinstance(inv, ScriptInvocation)
    assert inv.origin == "script-action"
    assert inv.script.endswith("hello.ps1; exit $LASTEXITCODE")
    assert builtin_registry().match(inv.script) is None  # nobody registered a handler: loud failure


@pytest.mark.parametrize(
    ("fixture", "handler"),
    [
        ("2.19-remove.json", "remove"),
        ("2.21-remove.json", "remove"),
        ("2.19-reboot_boot_time.json", "win_reboot:boot_time"),
        ("2.19-reboot_shutdown.json", "win_reboot:shutdown"),
        ("2.21-reboot_shutdown.json", "win_reboot:shutdown"),
        ("2.19-reboot_test_command.json", "win_reboot:test_command"),
        ("2.18-mkdtemp.json", "legacy:mkdtemp"),
        ("2.18-put_file.json", "legacy:put_file"),
    ],
)
def test_plain_scripts_match_their_handler(fixture: str, handler: str) -> None:
    fx = load_fixture(fixture)
    inv, payload = decode(fx["command"], fx["arguments"], b"", INDEX_219)
    assert payload is None
    assert isinstance(inv, ScriptInvocation)
    found = builtin_registry().match(inv.script)
    assert found is not None, inv.script
    assert found[0] == handler


def test_reboot_snippet_groups_of_both_collection_versions() -> None:
    for name in ("2.19-reboot_shutdown.json", "2.21-reboot_shutdown.json"):
        fx = load_fixture(name)
        inv, _ = decode(fx["command"], fx["arguments"], b"", INDEX_219)
        assert isinstance(inv, ScriptInvocation)
        found = builtin_registry().match(inv.script)
        assert found is not None
        m = found[2]
        assert m.group("delay") == "2"
        assert m.group("msg") == "'Reboot initiated by Ansible'"
        assert m.group("remove") == "True"
        assert m.group("key").endswith(r"\Winlogon\AutoLogonChecked")


# ------------------------------------------------------------------ loud failures


def test_unknown_wrapper_action_is_named() -> None:
    rec = copy.deepcopy(load_fixture("2.19-win_ping.json")["stdin_payload"])
    rec["actions"].insert(0, {"name": "teleport_wrapper.ps1", "params": {}, "secure_param_names": []})
    with pytest.raises(DecodeError, match=r"unknown exec wrapper action\(s\) teleport_wrapper\.ps1"):
        interpret(WirePayload.from_record(rec), INDEX_219)


def test_unknown_helper_is_named() -> None:
    rec = copy.deepcopy(load_fixture("2.19-mkdtemp.json")["stdin_payload"])
    rec["actions"][0]["name"] = "psrp_put_file.ps1"
    with pytest.raises(DecodeError, match=r"psrp_put_file\.ps1"):
        interpret(WirePayload.from_record(rec), INDEX_219)


def test_helper_missing_parameter_is_named() -> None:
    rec = copy.deepcopy(load_fixture("2.19-mkdtemp.json")["stdin_payload"])
    del rec["actions"][0]["params"]["Name"]
    with pytest.raises(DecodeError, match=r"powershell_mkdtemp\.ps1 is missing parameter\(s\) Name"):
        interpret(WirePayload.from_record(rec), INDEX_219)


def test_module_not_installed_is_named() -> None:
    rec = copy.deepcopy(load_fixture("2.19-win_ping.json")["stdin_payload"])
    old = "ansible_collections.ansible.windows.plugins.modules.win_ping.ps1"
    new = "ansible_collections.acme.widgets.plugins.modules.win_teleport.ps1"
    rec["scripts"][new] = rec["scripts"].pop(old)
    rec["actions"][-1]["params"]["Script"] = new
    with pytest.raises(DecodeError, match=r"module acme\.widgets\.win_teleport is not in any installed collection"):
        interpret(WirePayload.from_record(rec), INDEX_219)


def test_tampered_module_source_is_refused() -> None:
    rec = copy.deepcopy(load_fixture("2.19-win_ping.json")["stdin_payload"])
    key = "ansible_collections.ansible.windows.plugins.modules.win_ping.ps1"
    rec["scripts"][key]["sha256"] = "0" * 64
    with pytest.raises(DecodeError, match=r"source \(sha256=000000000000\) does not match"):
        interpret(WirePayload.from_record(rec), INDEX_219)


def test_legacy_unknown_source_is_refused() -> None:
    rec = copy.deepcopy(load_fixture("2.18-win_ping.json")["stdin_payload"])
    rec["scripts"]["module_entry"]["sha256"] = "f" * 64
    with pytest.raises(DecodeError, match="matches no installed collection module"):
        interpret(WirePayload.from_record(rec), INDEX_219)


def test_bootstrap_without_manifest_is_refused() -> None:
    fx = load_fixture("2.19-win_ping.json")
    with pytest.raises(DecodeError, match="no manifest"):
        decode(fx["command"], fx["arguments"], b"just some input", INDEX_219)


# ------------------------------------------------------------------ stage 1 on real full payloads


def test_full_payload_from_installed_ansible_core() -> None:
    """Build a module payload with ansible-core's own builder and decode it end to end."""
    from ansible.executor.powershell import module_manifest
    from ansible.module_utils.common.text.converters import to_bytes
    from ansible.plugins.shell.powershell import ShellModule

    source = (SITE_219 / "ansible_collections/ansible/windows/plugins/modules/win_ping.ps1").read_bytes()
    stdin = module_manifest._create_powershell_wrapper(
        name="ansible_collections.ansible.windows.plugins.modules.win_ping",
        module_data=source,
        module_path="/somewhere/win_ping.ps1",
        module_args={"data": "built", "_ansible_check_mode": True, "_ansible_version": "2.19.14"},
        environment={},
        async_timeout=0,
        become_plugin=None,
        substyle="powershell",
        task_vars={},
        profile="legacy",
    )
    cmd = ShellModule()._encode_script(
        module_manifest._get_powershell_script("bootstrap_wrapper.ps1"),
        as_list=True,
        strict_mode=False,
        preserve_rc=False,
    )
    inv, payload = decode(cmd[0], [" ".join(cmd[1:])], to_bytes(stdin), INDEX_219)
    assert isinstance(inv, ModuleInvocation)
    assert inv.request.name == "ansible.windows.win_ping"
    assert inv.request.args == {"data": "built"}
    assert inv.request.check_mode is True
    assert payload is not None
    assert "Ansible.Basic.cs" in payload.scripts
    # the record form is small and round-trips to the same interpretation
    rec = json.loads(json.dumps(payload.record()))
    assert len(json.dumps(rec)) < 20_000 < len(stdin)
    again = interpret(WirePayload.from_record(rec), INDEX_219)
    assert isinstance(again, ModuleInvocation)
    assert again.request == inv.request


def test_parse_stdin_keeps_extra_input() -> None:
    from ansible.executor.powershell.module_manifest import _bootstrap_powershell_script

    _, stdin = _bootstrap_powershell_script("winrm_put_file.ps1", {"Path": r"C:\x"}, has_input=True)
    payload = parse_stdin(stdin + b"QUJD\r\nREVG\r\n")
    assert payload.extra_input == b"QUJD\r\nREVG\r\n"
    assert [a.name for a in payload.actions] == ["winrm_put_file.ps1"]


def test_records_hide_no_log_arguments() -> None:
    rec = copy.deepcopy(load_fixture("2.19-win_ping.json")["stdin_payload"])
    args = rec["actions"][-1]["params"]["Variables"][0]["Value"]
    args.update(data="s3cret", _ansible_no_log=True)
    payload = WirePayload.from_record(rec)
    inv = interpret(payload, INDEX_219)
    assert isinstance(inv, ModuleInvocation) and inv.request.args == {"data": "s3cret"}  # the module still sees it
    text = json.dumps(payload.record())
    assert "s3cret" not in text
    assert "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER" in text
