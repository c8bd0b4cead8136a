"""What the simulator runs that is not a module: executor helpers and plain PowerShell snippets.

* Executor helpers (``powershell_mkdtemp.ps1``, ``powershell_expand_user.ps1``,
  ``winrm_put_file.ps1``, ``winrm_fetch_file.ps1``) behave as their ansible-core scripts do,
  over the simulated disk.
* Plain scripts go through a ``ScriptRegistry``: an ordered list of ``(name, regex, handler)``.
  The regex must match the whole script after ``normalise_script`` (lines stripped, blank lines
  dropped, ansible's ``Set-StrictMode`` prefix and ``$LASTEXITCODE`` suffix removed). The
  built-in entries are the snippets ansible-core and ``ansible.windows.win_reboot`` send;
  tests register more. A script no entry matches fails loudly (rc 1, the script named on
  stderr); nothing is answered "ok" by default.

Errors are written the way PowerShell writes them to a redirected stderr: as CLIXML, which the
winrm connection plugin decodes.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import re
from collections.abc import Callable
from typing import Any, Protocol

from tests.simulator.contract import ExecResult
from tests.simulator.host import DiskFullError, SimulatorError, WindowsHost, expand_env

__all__ = [
    "LOGON_UI_KEY",
    "RebootControl",
    "ScriptContext",
    "ScriptRegistry",
    "UnknownScriptError",
    "builtin_registry",
    "clixml_error",
    "filetime",
    "normalise_script",
    "run_helper",
]

# LogonUI creates this volatile key when it is about to show the logon screen; win_reboot
# deletes it before rebooting and waits for it to come back (ansible.windows _reboot.py).
LOGON_UI_KEY = r"HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Winlogon\AutoLogonChecked"

_STRICT_PREFIX = "Set-StrictMode -Version Latest"
_RC_SUFFIX = (
    "If (-not $?) { If (Get-Variable LASTEXITCODE -ErrorAction SilentlyContinue) "
    "{ exit $LASTEXITCODE } Else { exit 1 } }"
)


class UnknownScriptError(SimulatorError):
    """No registry entry matches a plain script."""


class RebootControl(Protocol):
    """What the reboot snippets need from the transport (``server.RebootController``)."""

    def schedule(self, delay: int, message: str) -> tuple[int, str]: ...

    def abort(self) -> tuple[int, str]: ...


@dataclasses.dataclass
class ScriptContext:
    host: WindowsHost
    reboot: RebootControl
    args: list[str] = dataclasses.field(default_factory=list)
    stdin: bytes = b""


ScriptHandler = Callable[[ScriptContext, "re.Match[str]"], ExecResult]


# --------------------------------------------------------------------------------------------
# PowerShell output conventions


def _clixml_escape(text: str) -> str:
    out = []
    for ch in text:
        if ch == "&":
            out.append("&amp;")
        elif ch == "<":
            out.append("&lt;")
        elif ch == ">":
            out.append("&gt;")
        elif ch == "\r":
            out.append("_x000D_")
        elif ch == "\n":
            out.append("_x000A_")
        elif ord(ch) < 0x20:
            out.append(f"_x{ord(ch):04X}_")
        else:
            out.append(ch)
    return "".join(out)


def clixml_error(*lines: str) -> str:
    """stderr of a PowerShell process whose error stream is redirected: a CLIXML document of
    ``S="Error"`` strings, one per line."""
    body = "".join(f'<S S="Error">{_clixml_escape(line)}_x000D__x000A_</S>' for line in lines)
    return f'#< CLIXML\r\n<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04">{body}</Objs>'


def _error(*lines: str, rc: int = 1) -> ExecResult:
    return ExecResult(rc=rc, stdout="", stderr=clixml_error(*lines))


def filetime(unix_seconds: float) -> int:
    """``DateTime.ToFileTime()``: 100 ns intervals since 1601-01-01 UTC."""
    return round((unix_seconds + 11644473600) * 10_000_000)


def normalise_script(text: str) -> str:
    lines = [line.strip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    lines = [line for line in lines if line]
    if lines and lines[0] == _STRICT_PREFIX:
        lines = lines[1:]
    if lines and lines[-1] == _RC_SUFFIX:
        lines.pop()
    elif lines and lines[-1].endswith(_RC_SUFFIX):
        # win_reboot appends "; If (-not $?) ..." to its command, possibly on a line of its own
        lines[-1] = lines[-1][: -len(_RC_SUFFIX)].rstrip().removesuffix(";").rstrip()
        if not lines[-1]:
            lines.pop()
    return "\n".join(lines)


def _unquote_pwsh(token: str) -> str:
    """A PowerShell argument as ansible quotes it: ``'it''s'`` or a bare word."""
    if len(token) >= 2 and token[0] == token[-1] == "'":
        return token[1:-1].replace("''", "'")
    return token


# --------------------------------------------------------------------------------------------
# executor helpers


def _mkdtemp(host: WindowsHost, params: dict[str, Any], _extra: bytes) -> ExecResult:
    base = expand_env(str(params["Directory"]), host.environment())
    name = str(params["Name"])
    try:
        path = host.norm(base + "\\" + name)
    except SimulatorError as exc:
        return _error(f"New-Item : {exc}")
    if host.exists(path):
        return _error(f"New-Item : An item with the specified name {path} already exists.")
    try:
        host.mkdir(path)
    except DiskFullError as exc:
        return _error(f"New-Item : {exc.strerror}")
    return ExecResult(0, path + "\r\n")


def _expand_user(host: WindowsHost, params: dict[str, Any], _extra: bytes) -> ExecResult:
    path = str(params["Path"])
    profile = host.environment().get("USERPROFILE", r"C:\Users\Administrator")
    if path == "~":
        return ExecResult(0, profile + "\r\n")
    if path.startswith("~\\"):
        return ExecResult(0, profile.rstrip("\\") + "\\" + path[2:] + "\r\n")
    return ExecResult(0, path + "\r\n")


def _put_file(host: WindowsHost, params: dict[str, Any], extra: bytes) -> ExecResult:
    target = str(params["Path"])
    # The controller sends base64 lines of up to 250 000 raw bytes each; PowerShell feeds them
    # to the script's process block one line at a time.
    data = b"".join(base64.b64decode(line) for line in extra.splitlines() if line.strip())
    try:
        if host.isdir(target):
            return _error(
                f'Exception calling "Create" with "1" argument(s): "Access to the path \'{target}\' is denied."'
            )
        host.write_file(target, data, make_parents=False)
    except FileNotFoundError:
        return _error(
            f'Exception calling "Create" with "1" argument(s): "Could not find a part of the path \'{target}\'."'
        )
    except DiskFullError as exc:
        return _error(f'Exception calling "Write" with "3" argument(s): "{exc.strerror}"')
    except SimulatorError as exc:
        return _error(f'Exception calling "Create" with "1" argument(s): "{exc}"')
    sha1 = hashlib.sha1(data).hexdigest()  # noqa: S324 - the controller compares SHA-1
    return ExecResult(0, json.dumps({"sha1": sha1}, separators=(",", ":")) + "\r\n")


def _fetch_file(host: WindowsHost, params: dict[str, Any], _extra: bytes) -> ExecResult:
    path = str(params["Path"])
    size = int(params["BufferSize"])
    offset = int(params["Offset"])
    try:
        entry = host.get(path)
    except SimulatorError:
        entry = None
    if entry is None:
        # $host.UI.WriteErrorLine writes plain text, not CLIXML.
        return ExecResult(1, "", f"{path} does not exist\r\n")
    if entry.is_dir:
        return ExecResult(0, "[DIR]\r\n")
    chunk = entry.data[offset : offset + size]
    return ExecResult(0, base64.b64encode(chunk).decode() + "\r\n" if chunk else "")


HelperHandler = Callable[[WindowsHost, dict[str, Any], bytes], ExecResult]

HELPERS: dict[str, HelperHandler] = {
    "powershell_mkdtemp.ps1": _mkdtemp,
    "powershell_expand_user.ps1": _expand_user,
    "winrm_put_file.ps1": _put_file,
    "winrm_fetch_file.ps1": _fetch_file,
}


def run_helper(host: WindowsHost, name: str, params: dict[str, Any], extra: bytes) -> ExecResult:
    handler = HELPERS.get(name)
    if handler is None:
        raise SimulatorError(f"simulator: executor helper {name} is not emulated")
    return handler(host, params, extra)


# --------------------------------------------------------------------------------------------
# the plain-script registry


@dataclasses.dataclass(frozen=True)
class _Entry:
    name: str
    pattern: re.Pattern[str]
    handler: ScriptHandler


class ScriptRegistry:
    """Ordered regex → handler table for plain PowerShell scripts."""

    def __init__(self) -> None:
        self._entries: list[_Entry] = []

    def register(
        self, name: str, pattern: str | re.Pattern[str], handler: ScriptHandler, *, first: bool = False
    ) -> None:
        """Add a handler; ``pattern`` must match the whole normalised script (``re.fullmatch``)."""
        compiled = re.compile(pattern, re.S) if isinstance(pattern, str) else pattern
        entry = _Entry(name, compiled, handler)
        if first:
            self._entries.insert(0, entry)
        else:
            self._entries.append(entry)

    def names(self) -> list[str]:
        return [e.name for e in self._entries]

    def copy(self) -> ScriptRegistry:
        new = ScriptRegistry()
        new._entries = list(self._entries)
        return new

    def match(self, script: str) -> tuple[str, ScriptHandler, re.Match[str]] | None:
        norm = normalise_script(script)
        for entry in self._entries:
            m = entry.pattern.fullmatch(norm)
            if m:
                return entry.name, entry.handler, m
        return None

    def run(self, ctx: ScriptContext, script: str) -> tuple[str, ExecResult]:
        found = self.match(script)
        if found is None:
            first = normalise_script(script).split("\n", 1)[0][:160]
            raise UnknownScriptError(f"simulator: unrecognised PowerShell script: {first!r}")
        name, handler, m = found
        return name, handler(ctx, m)


# ---- built-in snippets ----------------------------------------------------------------------

_QUOTED = r"'(?:[^']|'')*'"
_ARG = rf"(?:{_QUOTED}|[^\s;']+)"


def _remove(ctx: ScriptContext, m: re.Match[str]) -> ExecResult:
    path = _unquote_pwsh(m.group("path"))
    try:
        exists = ctx.host.exists(path)
    except SimulatorError as exc:
        return _error(f"Remove-Item : {exc}")
    if not exists:
        return _error(f"Remove-Item : Cannot find path '{path}' because it does not exist.")
    entry = ctx.host.get(path)
    if entry is not None and entry.is_dir and not m.group("recurse") and ctx.host.listdir(path):
        return _error(
            f"Remove-Item : The item at {path} has children and the Recurse parameter was not specified. "
            "If you continue, all children will be removed with the item."
        )
    ctx.host.remove(path)
    return ExecResult(0)


def _exists_221(ctx: ScriptContext, m: re.Match[str]) -> ExecResult:
    return ExecResult(0 if ctx.host.exists(_unquote_pwsh(m.group("path"))) else 1)


def _exists_219(ctx: ScriptContext, m: re.Match[str]) -> ExecResult:
    rc = 0 if ctx.host.exists(_unquote_pwsh(m.group("path"))) else 1
    return ExecResult(rc, "$res\r\n")  # the script writes the literal '$res' (single quotes)


def _boot_time(ctx: ScriptContext, _m: re.Match[str]) -> ExecResult:
    return ExecResult(0, f"{filetime(ctx.host.boot_time)}\r\n")


def _reboot(ctx: ScriptContext, m: re.Match[str]) -> ExecResult:
    if m.group("remove") == "True":
        ctx.host.delete_reg(m.group("key"))
    rc, stderr = ctx.reboot.schedule(int(m.group("delay")), _unquote_pwsh(m.group("msg")))
    # The snippet prints its own JSON; ConvertTo-Json of a hashtable, compressed.
    out = json.dumps({"stdout": "", "stderr": stderr, "rc": rc}, separators=(",", ":"))
    return ExecResult(0, out + "\r\n")


def _abort(ctx: ScriptContext, _m: re.Match[str]) -> ExecResult:
    rc, stderr = ctx.reboot.abort()
    return ExecResult(rc, "", stderr + "\r\n" if stderr else "")


def _get_item_token(ctx: ScriptContext, m: re.Match[str]) -> ExecResult:
    path = _unquote_pwsh(m.group("path"))
    token = _unquote_pwsh(m.group("token"))
    host = ctx.host
    if re.match(r"(?i)^(HK(LM|CU|CR|U|CC):|Registry::)", path):
        if not host.reg_key_exists(path):
            return _error(f"Get-Item : Cannot find path '{path}' because it does not exist.")
        parent, _, leaf = path.rstrip("\\").rpartition("\\")
        hive = re.sub(r"(?i)^HKLM:", "HKEY_LOCAL_MACHINE", re.sub(r"(?i)^HKCU:", "HKEY_CURRENT_USER", parent))
        listing = f"\r\n\r\n    Hive: {hive}\r\n\r\n\r\n{'Name':<31}Property\r\n{'----':<31}--------\r\n{leaf}\r\n"
    else:
        entry = host.get(path)
        if entry is None:
            return _error(f"Get-Item : Cannot find path '{path}' because it does not exist.")
        folder, _, leaf = entry.path.rpartition("\\")
        listing = f"\r\n\r\n    Directory: {folder}\r\n\r\n\r\n{leaf}\r\n"
    return ExecResult(0, f"{listing}{token}\r\n")


_REBOOT_SNIPPET = (
    r"\$ErrorActionPreference = 'Continue'\n"
    r"if \(\$(?P<remove>True|False)\) \{\n"
    r"Remove-Item -LiteralPath '(?P<key>[^']+)' -Force -ErrorAction SilentlyContinue\n"
    r"\}\n"
    r"\$stdout = \$null\n"
    r"\$stderr = \. \{ C:\\Windows\\System32\\shutdown\.exe /r /t (?P<delay>\d+) /c (?P<msg>"
    + _QUOTED
    + r") \| Set-Variable stdout \} 2>&1 \| ForEach-Object ToString\n"
    # ansible.windows >= 3.5 captures $LASTEXITCODE into $rc first
    r"(?:If \(Get-Variable LASTEXITCODE -ErrorAction SilentlyContinue\) \{\n\$rc = \$LASTEXITCODE\n\} Else \{\n"
    r"\$rc=1\n\}\n)?"
    r"ConvertTo-Json -Compress -InputObject @\{\n"
    r"stdout = \(@\(\$stdout\) -join \"`n\"\)\n"
    r"stderr = \(@\(\$stderr\) -join \"`n\"\)\n"
    r"rc = \$(?:LASTEXITCODE|rc)\n"
    r"\}"
)


# ---- ansible-core <= 2.18: inline executor scripts (no bootstrap manifest) ------------------


def _template(text: str, **groups: str) -> str:
    """A regex matching ``text`` (already normalised) literally except ``{name}`` placeholders."""
    out = re.escape(text)
    for name, pattern in groups.items():
        out = out.replace(re.escape("{" + name + "}"), f"(?P<{name}>{pattern})")
    return out


_CONSOLE_ENCODING = "try { [Console]::OutputEncoding = New-Object System.Text.UTF8Encoding } catch {}"

_LEGACY_MKDTEMP = _template(
    f"{_CONSOLE_ENCODING}\n"
    "$tmp_path = [System.Environment]::ExpandEnvironmentVariables({dir})\n"
    "$tmp = New-Item -Type Directory -Path $tmp_path -Name {name}\n"
    "Write-Output -InputObject $tmp.FullName",
    dir=_QUOTED,
    name=_QUOTED,
)

_LEGACY_EXPAND_USER = _template(f"{_CONSOLE_ENCODING}; {{expr}}", expr=r".+")

_LEGACY_PUT_FILE = _template(
    "begin {\n$path = {path}\n"
    '$DebugPreference = "Continue"\n$ErrorActionPreference = "Stop"\nSet-StrictMode -Version 2\n'
    "$fd = [System.IO.File]::Create($path)\n"
    "$sha1 = [System.Security.Cryptography.SHA1CryptoServiceProvider]::Create()\n"
    "$bytes = @() #initialize for empty file case\n}\n"
    "process {\n$bytes = [System.Convert]::FromBase64String($input)\n"
    "$sha1.TransformBlock($bytes, 0, $bytes.Length, $bytes, 0) | Out-Null\n"
    "$fd.Write($bytes, 0, $bytes.Length)\n}\n"
    "end {\n$sha1.TransformFinalBlock($bytes, 0, 0) | Out-Null\n"
    '$hash = [System.BitConverter]::ToString($sha1.Hash).Replace("-", "").ToLowerInvariant()\n'
    '$fd.Close()\nWrite-Output "{""sha1"":""$hash""}"\n}',
    path=_QUOTED,
)

_LEGACY_FETCH_FILE = _template(
    "$path = {path}\nIf (Test-Path -LiteralPath $path -PathType Leaf)\n{\n"
    "$buffer_size = {size}\n$offset = {offset}\n"
    "$stream = New-Object -TypeName IO.FileStream($path, [IO.FileMode]::Open, [IO.FileAccess]::Read, "
    "[IO.FileShare]::ReadWrite)\n"
    "$stream.Seek($offset, [System.IO.SeekOrigin]::Begin) > $null\n"
    "$buffer = New-Object -TypeName byte[] $buffer_size\n"
    "$bytes_read = $stream.Read($buffer, 0, $buffer_size)\n"
    "if ($bytes_read -gt 0) {\n$bytes = $buffer[0..($bytes_read - 1)]\n[System.Convert]::ToBase64String($bytes)\n}\n"
    "$stream.Close() > $null\n}\n"
    'ElseIf (Test-Path -LiteralPath $path -PathType Container)\n{\nWrite-Host "[DIR]";\n}\n'
    'Else\n{\nWrite-Error "$path does not exist";\nExit 1;\n}',
    path=_QUOTED,
    size=r"\d+",
    offset=r"\d+",
)


def _legacy_mkdtemp(ctx: ScriptContext, m: re.Match[str]) -> ExecResult:
    params = {"Directory": _unquote_pwsh(m.group("dir")), "Name": _unquote_pwsh(m.group("name"))}
    return _mkdtemp(ctx.host, params, b"")


def _legacy_expand_user(ctx: ScriptContext, m: re.Match[str]) -> ExecResult:
    expr = m.group("expr")
    home = ctx.host.environment().get("USERPROFILE", r"C:\Users\Administrator")  # WinRS starts there
    if expr == "Write-Output (Get-Location).Path":
        return ExecResult(0, home + "\r\n")
    sub = re.fullmatch(rf"Write-Output \(\(Get-Location\)\.Path \+ ({_QUOTED})\)", expr)
    if sub:
        return ExecResult(0, home + _unquote_pwsh(sub.group(1)) + "\r\n")
    sub = re.fullmatch(rf"Write-Output ({_QUOTED})", expr)
    if sub:
        return ExecResult(0, _unquote_pwsh(sub.group(1)) + "\r\n")
    raise UnknownScriptError(f"simulator: unrecognised PowerShell script: {expr!r}")


def _legacy_put_file(ctx: ScriptContext, m: re.Match[str]) -> ExecResult:
    return _put_file(ctx.host, {"Path": _unquote_pwsh(m.group("path"))}, ctx.stdin)


def _legacy_fetch_file(ctx: ScriptContext, m: re.Match[str]) -> ExecResult:
    path = _unquote_pwsh(m.group("path"))
    res = _fetch_file(ctx.host, {"Path": path, "BufferSize": m.group("size"), "Offset": m.group("offset")}, b"")
    if res.rc != 0:
        return _error(f"{path} does not exist")  # Write-Error, not WriteErrorLine
    return res


def builtin_registry() -> ScriptRegistry:
    reg = ScriptRegistry()
    # ShellModule.remove(): 2.19/2.20 quote the path, 2.21 leaves a safe path bare.
    reg.register("remove", rf"Remove-Item (?P<path>{_ARG}) -Force(?P<recurse> -Recurse)?;?", _remove)
    # ShellModule.exists(): 2.21 one-liner and the 2.19/2.20 If/Else block.
    reg.register("exists", rf"exit -not \(Test-Path -LiteralPath (?P<path>{_ARG})\)", _exists_221)
    reg.register(
        "exists",
        rf"If \(Test-Path (?P<path>{_QUOTED})\)\n\{{\n\$res = 0;\n\}}\nElse\n\{{\n\$res = 1;\n\}}\n"
        r"Write-Output '\$res';\nExit \$res;",
        _exists_219,
    )
    reg.register(
        "win_reboot:boot_time",
        r"\(Get-CimInstance -ClassName Win32_OperatingSystem -Property LastBootUpTime\)"
        r"\.LastBootUpTime\.ToFileTime\(\)",
        _boot_time,
    )
    reg.register("win_reboot:shutdown", _REBOOT_SNIPPET, _reboot)
    reg.register("win_reboot:abort", r"C:\\Windows\\System32\\shutdown\.exe /a", _abort)
    reg.register(
        "win_reboot:test_command",
        rf"Get-Item -LiteralPath (?P<path>{_QUOTED}) -ErrorAction Stop; (?P<token>{_QUOTED})",
        _get_item_token,
    )
    reg.register("legacy:mkdtemp", _LEGACY_MKDTEMP, _legacy_mkdtemp)
    reg.register("legacy:expand_user", _LEGACY_EXPAND_USER, _legacy_expand_user)
    reg.register("legacy:put_file", _LEGACY_PUT_FILE, _legacy_put_file)
    reg.register("legacy:fetch_file", _LEGACY_FETCH_FILE, _legacy_fetch_file)
    return reg
