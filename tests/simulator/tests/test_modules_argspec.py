"""Argument validation of the module emulations: specs from the installed docs, Ansible.Basic and
Legacy behaviour and error texts, no_log, and drift guards against the installed ``.ps1`` files."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.simulator.host import SimulatorError, WindowsHost
from tests.simulator.modules import ModuleNotEmulated, emulated_modules, spec_of
from tests.simulator.modules.argspec import FLAVOUR_BASIC, FLAVOUR_LEGACY, NO_LOG_PLACEHOLDER, module_files
from tests.simulator.modules.testing import call, request


@pytest.fixture
def host() -> WindowsHost:
    return WindowsHost("argspec", os_version="10.0.20348.2527")


# --------------------------------------------------------------------------------------------
# specs come from the installed collections


def test_every_emulated_module_has_a_spec_from_its_installed_docs() -> None:
    names = emulated_modules()
    assert "community.windows.win_firewall_rule" in names
    assert len(names) == 22
    for name in names:
        spec = spec_of(name)
        doc, ps1 = module_files(name)
        assert doc.suffix in (".py", ".yml") and "ansible_collections" in doc.parts
        assert ps1.suffix == ".ps1"
        assert spec.options, name
        assert spec.flavour in (FLAVOUR_BASIC, FLAVOUR_LEGACY)


def test_flavour_and_check_mode_support_are_read_from_the_ps1() -> None:
    assert (
        spec_of("ansible.windows.win_service").flavour,
        spec_of("ansible.windows.win_service").supports_check_mode,
    ) == (
        FLAVOUR_BASIC,
        True,
    )
    assert spec_of("ansible.windows.win_command").supports_check_mode is False
    assert spec_of("ansible.windows.win_shell").flavour == FLAVOUR_LEGACY
    assert spec_of("ansible.windows.win_shell").supports_check_mode is False
    assert spec_of("ansible.windows.win_copy").flavour == FLAVOUR_LEGACY


def test_web_request_fragment_options_are_merged_into_win_get_url() -> None:
    options = spec_of("ansible.windows.win_get_url").options
    assert {"url_username", "url_password", "validate_certs", "proxy_url"} <= set(options)
    assert options["url_timeout"]["type"] == "int" and options["url_timeout"]["aliases"] == ["timeout"]


def _ps1_texts(name: str) -> str:
    _, ps1 = module_files(name)
    text = ps1.read_text(encoding="utf-8-sig")
    if "Get-AnsibleWindowsWebRequestSpec" in text:
        text += (ps1.parent.parent / "module_utils" / "WebRequest.psm1").read_text(encoding="utf-8-sig")
    return text


def _no_log_names(options: dict[str, Any]) -> set[str]:
    names = set()
    for name, opt in options.items():
        if opt.get("no_log"):
            names.add(name)
        names |= _no_log_names(opt.get("options") or {})
    return names


def _groups(options: dict[str, Any], key: str) -> list[list[str]]:
    out: list[list[str]] = []
    for opt in options.values():
        out += [list(g) for g in opt.get(key) or []]
        out += _groups(opt.get("options") or {}, key)
    return out


def _blocks(text: str, key: str) -> list[str]:
    """The bodies of every ``key = @( ... )`` in a .ps1, balanced parentheses."""
    bodies = []
    for m in re.finditer(key + r"\s*=\s*@\(", text):
        depth, i = 1, m.end()
        while depth and i < len(text):
            depth += {"(": 1, ")": -1}.get(text[i], 0)
            i += 1
        bodies.append(text[m.end() : i - 1])
    return bodies


@pytest.mark.parametrize("name", [n for n in emulated_modules() if spec_of(n).flavour == FLAVOUR_BASIC])
def test_hand_added_constraints_match_the_installed_ps1(name: str) -> None:
    """Drift guard: every no_log option and constraint group in the .ps1 $spec is in the effective spec."""
    text = _ps1_texts(name)
    spec = spec_of(name)
    ps1_no_log = set(re.findall(r"(\w+)\s*=\s*@\{[^{}]*\bno_log\s*=\s*\$true", text, re.I))
    assert ps1_no_log <= _no_log_names(spec.options), name
    for key in ("mutually_exclusive", "required_one_of", "required_together"):
        ours = [sorted(g) for g in getattr(spec, key) + _groups(spec.options, key)]
        for block in _blocks(text, key):
            for group in re.findall(r"@\(([^()]*)\)", block):
                assert sorted(re.findall(r"['\"](\w+)['\"]", group)) in ours, (name, key, group)
    for key, needed in re.findall(r"required_by\s*=\s*@\{\s*(\w+)\s*=\s*@\(([^)]*)\)", text):
        assert spec.required_by.get(key) == re.findall(r"['\"](\w+)['\"]", needed), name


# --------------------------------------------------------------------------------------------
# Ansible.Basic behaviour and texts (lib/ansible/module_utils/csharp/Ansible.Basic.cs)

BASIC_ERRORS = [
    (
        "win_service",
        {"name": "docker", "state": "sideways"},
        "value of state must be one of: started, stopped, restarted, absent, paused. Got no match for: sideways",
    ),
    (
        "win_service",
        {"name": "docker", "foo": 1, "bar": 2},
        "Unsupported parameters for (win_service) module: foo, bar. Supported parameters include: dependencies, "
        "dependency_action, desktop_interact, description, display_name, error_control, failure_actions, "
        "failure_actions_on_non_crash_failure, failure_command, failure_reboot_msg, failure_reset_period_sec, "
        "force_dependent_services, load_order_group, name, path, password, pre_shutdown_timeout_ms, "
        "required_privileges, service_type, sid_info, start_mode, state, update_password, username, "
        "failure_reset_period, pre_shutdown_timeout",
    ),
    ("win_service", {"state": "started"}, "missing required arguments: name"),
    (
        "win_service",
        {"name": "x", "desktop_interact": "maybe"},
        "argument for desktop_interact is of type System.String and we were unable to convert to bool: The value "
        "'maybe' is not a valid boolean. Valid booleans include: y, yes, on, 1, true, t, 1.0, n, no, off, 0, false, "
        "f, 0.0",
    ),
    ("win_service", {"name": "x", "password": "pw"}, "missing parameter(s) required by 'password': username"),
    (
        "win_service",
        {"name": "x", "failure_actions": [{"type": "restart", "delay_ms": "soon"}]},
        "argument for delay_ms is of type System.String and we were unable to convert to delegate: Cannot convert "
        'value "soon" to type "System.UInt32". Error: "Input string was not in a correct format." found in '
        "failure_actions",
    ),
    (
        "win_service",
        {"name": "x", "failure_actions": [{"type": "bogus"}]},
        "value of type must be one of: none, reboot, restart, run_command. Got no match for: bogus found in "
        "failure_actions",
    ),
    (
        "win_service",
        {"name": "x", "failure_actions": [{"delay_ms": 5}]},
        "missing required arguments: type found in failure_actions",
    ),
    (
        "win_service",
        {"name": "x", "failure_actions": [{"type": "none", "wait": 1}]},
        "Unsupported parameters for (win_service) module: wait found in failure_actions. Supported parameters "
        "include: delay_ms, type, delay",
    ),
    (
        "win_service",
        {"name": "x", "dependencies": {"a": 1}},
        "argument for dependencies is of type System.Collections.Hashtable and we were unable to convert to list: "
        "System.Collections.Hashtable cannot be converted to a list",
    ),
    ("win_command", {}, "one of the following is required: _raw_params, argv, cmd"),
    ("win_command", {"cmd": "a", "argv": ["b"]}, "parameters are mutually exclusive: _raw_params, argv, cmd"),
    (
        "win_get_url",
        {"url": "http://x/y", "dest": "C:\\y", "checksum": "a", "checksum_url": "b"},
        "parameters are mutually exclusive: checksum, checksum_url",
    ),
    (
        "win_stat",
        {"path": "C:\\a|b"},
        "argument for path is of type System.String and we were unable to convert to "
        "path: string value contains invalid path characters, cannot convert to path",
    ),
    ("win_environment", {"level": "machine"}, "one of the following is required: name, variables"),
    (
        "win_environment",
        {"level": "machine", "variables": {"a": "b"}, "name": "a"},
        "parameters are mutually exclusive: variables, name",
    ),
    (
        "setup",
        {"gather_timeout": "soon"},
        "argument for gather_timeout is of type System.String and we were unable to "
        "convert to int: Input string was not in a correct format.",
    ),
    (
        "win_powershell",
        {"script": "x", "sensitive_parameters": [{"name": "a", "value": "t0p-s3cret", "username": "u"}]},
        "parameters are mutually exclusive: value, username found in sensitive_parameters",
    ),
]


@pytest.mark.parametrize(("module", "args", "message"), BASIC_ERRORS)
def test_ansible_basic_rejects_bad_arguments_with_its_text(
    host: WindowsHost, module: str, args: dict, message: str
) -> None:
    result = call(host, module, args, module_name=module)
    assert result["failed"] is True
    assert result["changed"] is False
    assert result["msg"] == message
    assert "module_args" in result["invocation"]


def test_module_name_in_messages_is_what_the_task_called_it(host: WindowsHost) -> None:
    result = call(host, "win_ping", {"foo": 1}, module_name="ansible.windows.win_ping")
    assert result["msg"].startswith("Unsupported parameters for (ansible.windows.win_ping) module: foo.")


def test_unsupported_parameters_are_refused_before_check_mode_skips(host: WindowsHost) -> None:
    refused = call(host, "win_command", {"cmd": "x", "bogus": 1}, check=True, module_name="win_command")
    assert refused["failed"] and refused["msg"].startswith("Unsupported parameters for (win_command) module: bogus.")
    skipped = call(
        host, "win_command", {"cmd": "tar.exe --version", "chdir": "sideways"}, check=True, module_name="win_command"
    )
    assert skipped == {
        "changed": False,
        "skipped": True,
        "msg": "remote module (win_command) does not support check mode",
        "invocation": {"module_args": {"cmd": "tar.exe --version", "chdir": "sideways"}},
    }


def test_option_names_and_choices_match_case_insensitively(host: WindowsHost) -> None:
    result = call(host, "win_service", {"Name": "WinRM", "State": "Started"})
    assert "failed" not in result
    assert result["invocation"]["module_args"]["name"] == "WinRM"
    assert result["invocation"]["module_args"]["state"] == "started"
    assert result["state"] == "running"


def test_invocation_has_defaults_conversions_and_alias_keys(host: WindowsHost) -> None:
    temp = host.environment()["TEMP"]  # the user's TEMP wins over the machine's, as in a real logon
    host.write_file(temp + r"\a.txt", b"x")
    result = call(host, "win_stat", {"dest": "%TEMP%\\a.txt", "get_size": "no"})
    args = result["invocation"]["module_args"]
    assert args["path"] == temp + r"\a.txt"  # path type expands %VAR% from the Windows environment
    assert args["dest"] == "%TEMP%\\a.txt"  # the alias key stays as given
    assert args["get_size"] is False
    assert args["checksum_algorithm"] == "sha1" and args["follow"] is False
    assert result["stat"]["exists"] is True and "size" not in result["stat"]


def test_no_log_values_are_masked_in_invocation_and_messages(host: WindowsHost) -> None:
    result = call(
        host,
        "win_service",
        {"name": "WinRM", "username": ".\\svc", "password": "s3cr3t!", "description": "uses s3cr3t! inside"},
        check=True,
    )
    args = result["invocation"]["module_args"]
    assert args["password"] == NO_LOG_PLACEHOLDER
    assert args["description"] == "uses ******** inside"  # RemoveNoLogValues stars a contained secret
    failed = call(host, "win_service", {"name": "s3cr3t!", "password": "s3cr3t!"})
    assert failed["msg"] == "missing parameter(s) required by 'password': username"
    assert failed["invocation"]["module_args"]["name"] == NO_LOG_PLACEHOLDER


def test_ansible_no_log_does_not_change_what_the_module_prints(host: WindowsHost) -> None:
    # Ansible.Basic only stops event logging; hiding the result is the controller's job.
    plain = call(host, "win_ping", {"data": "abc"})
    hidden = call(host, "win_ping", {"data": "abc"}, no_log=True)
    assert plain == hidden == {"changed": False, "ping": "abc", "invocation": {"module_args": {"data": "abc"}}}


def test_setup_takes_unknown_options_as_raw(host: WindowsHost) -> None:
    result = call(host, "setup", {"gather_subset": ["!all"], "new_option_from_gather_facts": [1, 2]})
    assert "failed" not in result
    assert result["invocation"]["module_args"]["new_option_from_gather_facts"] == [1, 2]


# --------------------------------------------------------------------------------------------
# Legacy (Parse-Args / Get-AnsibleParam, lib/ansible/module_utils/powershell/Ansible.ModuleUtils.Legacy.psm1)

LEGACY_ERRORS = [
    (
        "win_feature",
        {"name": "Containers", "state": "sideways"},
        "Get-AnsibleParam: Argument state needs to be one of present,absent but was sideways.",
    ),
    ("win_feature", {"state": "sideways"}, "Get-AnsibleParam: Missing required argument: name"),
    ("win_file", {"state": "directory"}, "Get-AnsibleParam: Missing required argument: path"),
    (
        "win_file",
        {"dest": "C:\\x", "state": "gone"},
        "Get-AnsibleParam: Argument state needs to be one of absent,directory,file,touch but was gone.",
    ),
    ("win_file", {"path": "C:\\a<b"}, "Get-AnsibleParam: Parameter 'path' has an invalid path 'C:\\a<b' specified."),
    ("win_copy", {"dest": "C:\\x"}, "Get-AnsibleParam: Missing required argument: src"),
    ("win_copy", {"_copy_mode": "query"}, "Get-AnsibleParam: Missing required argument: dest"),
    (
        "win_copy",
        {"_copy_mode": "bogus", "dest": "C:\\x"},
        "Get-AnsibleParam: Argument _copy_mode needs to be one of explode,query,remote,single but was bogus.",
    ),
    (
        "async_status",
        {"jid": "1", "_async_dir": "C:\\a", "mode": "x"},
        "Get-AnsibleParam: Argument mode needs to be one of status,cleanup but was x.",
    ),
    (
        "community.windows.win_firewall_rule",
        {"name": "r", "profiles": True},
        "Get-AnsibleParam: Parameter 'profiles' is not a YAML list.",
    ),
]


@pytest.mark.parametrize(("module", "args", "message"), LEGACY_ERRORS)
def test_legacy_modules_fail_with_get_ansibleparam_texts(
    host: WindowsHost, module: str, args: dict, message: str
) -> None:
    result = call(host, module, args)
    assert result == {"changed": False, "failed": True, "msg": message}  # no invocation from Legacy modules


def test_legacy_modules_ignore_unknown_options_and_type_garbage(host: WindowsHost) -> None:
    result = call(host, "win_file", {"path": r"C:\k", "state": "directory", "no_such_option": 1})
    assert result == {"changed": True}
    # ConvertTo-Bool never fails: anything that is not a true word is false.
    result = call(host, "win_feature", {"name": "Containers", "include_management_tools": "maybe"}, check=True)
    assert result["changed"] is True
    assert result["failed"] is False  # win_feature.ps1 always sets failed = -not Success


def test_legacy_check_mode_skip_has_no_module_name(host: WindowsHost) -> None:
    assert call(host, "win_shell", {"_raw_params": "Get-Date"}, check=True) == {
        "changed": False,
        "skipped": True,
        "msg": "remote module does not support check mode",
    }


def test_unknown_module_raises_not_emulated(host: WindowsHost) -> None:
    with pytest.raises(ModuleNotEmulated, match=r"^simulator: module ansible\.windows\.win_hosts is not emulated$"):
        call(host, "win_hosts", {})
    assert issubclass(ModuleNotEmulated, SimulatorError)


def test_request_helper_builds_fqcn_and_internal_keys() -> None:
    req = request("win_ping", {"data": "x"}, check=True)
    assert req.name == "ansible.windows.win_ping" and req.check_mode and not req.diff
    assert Path(module_files(req.name)[1]).name == "win_ping.ps1"


def test_a_short_secret_is_starred_wherever_it_appears_in_a_message(host: WindowsHost) -> None:
    # RemoveNoLogValues replaces every occurrence of a no_log value in strings, messages included:
    # a one-letter secret mangles the error text on Windows too.
    result = call(host, "win_service", {"name": "x", "password": "e"}, module_name="win_service")
    assert (
        result["msg"]
        == "missing param********t********r(s) r********quir********d by 'password': us********rnam********"
    )
