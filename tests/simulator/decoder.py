"""Turn what ansible-core sends over WinRS into something the simulator can act on.

A WinRS command is a command line (``rsp:Command`` + ``rsp:Arguments``) plus the bytes sent on
stdin. ansible-core wraps everything it runs in ``PowerShell ... -EncodedCommand <base64>``:

* a **module run** or an **executor helper** (mkdtemp, put_file, ...) is ``bootstrap_wrapper.ps1``
  reading a manifest from stdin (2.19, 2.20, 2.21):
  ``JSON1 \\n\\0\\0\\0\\0\\n JSON2 [\\n\\0\\0\\0\\0\\n extra input]``;
* ansible-core <= 2.18 wraps the module command line a second time and sends
  ``exec_wrapper.ps1 + \\0\\0\\0\\0 + JSON`` with the module source in ``module_entry``;
* anything else is a **plain script** (``Remove-Item``, the win_reboot snippets, ``raw``).

Decoding is done in two stages so the second can be tested on captured payloads whose (large)
script bodies were replaced by their sha256 (``WirePayload.to_record``/``from_record``):

1. framing: command line → ``CommandLine``; stdin → ``WirePayload`` (scripts reduced to
   ``ScriptRef`` digests, secrets dropped);
2. interpretation: ``WirePayload`` → ``ModuleInvocation`` | ``HelperInvocation`` |
   ``ScriptInvocation``, the module identity taken from the manifest's ``Script`` entry and
   cross-checked against the installed collection's source by sha256.

Nothing here guesses: a wrapper, helper or module it does not know raises ``DecodeError`` with a
message naming it.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import json
import os
import re
import sys
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from tests.simulator.contract import ModuleRequest
from tests.simulator.executables.cmdline import split as split_command_line
from tests.simulator.host import SimulatorError

__all__ = [
    "KNOWN_HELPERS",
    "KNOWN_WRAPPERS",
    "Action",
    "CmdInvocation",
    "CollectionIndex",
    "CommandLine",
    "DecodeError",
    "HelperInvocation",
    "InstalledModule",
    "Invocation",
    "ModuleInvocation",
    "ScriptInvocation",
    "ScriptRef",
    "WirePayload",
    "bytes_record",
    "decode",
    "interpret",
    "parse_command_line",
    "parse_stdin",
    "split_windows_cmdline",
]

STDIN_SEPARATOR = b"\n\0\0\0\0\n"
_SMALL_SCRIPT = 1024  # script bodies up to this size are kept in records, larger ones as digests
LEGACY_SEPARATOR = b"\0\0\0\0"

# Executor helper scripts ansible-core runs through the bootstrap, with the parameters each
# one requires (ansible/executor/powershell/*.ps1).
KNOWN_HELPERS: dict[str, tuple[str, ...]] = {
    "powershell_mkdtemp.ps1": ("Directory", "Name"),
    "powershell_expand_user.ps1": ("Path",),
    "winrm_put_file.ps1": ("Path",),
    "winrm_fetch_file.ps1": ("Path", "BufferSize", "Offset"),
}

# Actions that may come before module_wrapper.ps1 in a module manifest.
KNOWN_WRAPPERS = frozenset({"become_wrapper.ps1", "async_wrapper.ps1", "async_watchdog.ps1", "coverage_wrapper.ps1"})

_POWERSHELL_EXES = frozenset({"powershell", "powershell.exe", "pwsh", "pwsh.exe"})

# Lines of bootstrap_wrapper.ps1 (2.19-2.21) that make it what it is: it reads a JSON manifest
# from the input up to a line of four NULs and splats its params into the script it carries.
_BOOTSTRAP_SIGNATURE = (
    re.compile(r'\[string\]::Equals\(\$in, "`0`0`0`0"\)'),
    re.compile(r"\$code\.params\.PSObject\.Properties"),
    re.compile(r"\$code\.script"),
)

# <= 2.18 bootstrap: reads $input, splits the exec wrapper off at "`0`0`0`0" and runs it.
_LEGACY_BOOTSTRAP_SIGNATURE = (
    re.compile(r"\$input"),
    re.compile(r"`0`0`0`0"),
)

_SCRIPT_NAME = re.compile(r"^ansible_collections\.(?P<ns>\w+)\.(?P<coll>\w+)\.plugins\.modules\.(?P<mod>[\w.]+)\.ps1$")


class DecodeError(SimulatorError):
    """The wire payload is something the simulator does not recognise."""


# --------------------------------------------------------------------------------------------
# stage 1: framing


@dataclasses.dataclass(frozen=True)
class CommandLine:
    """A WinRS command line, with ``-EncodedCommand``/``-EncodedArguments`` decoded."""

    raw: str
    argv: list[str]
    is_powershell: bool
    script: str | None = None  # decoded -EncodedCommand
    script_args: list[str] = dataclasses.field(default_factory=list)  # decoded -EncodedArguments


def join_winrs(command: str, arguments: Sequence[str] | str | None) -> str:
    """WinRS joins ``rsp:Command`` and each ``rsp:Arguments`` with a space before running it."""
    if arguments is None:
        return command
    if isinstance(arguments, str):
        arguments = [arguments]
    return " ".join([command, *[a for a in arguments if a]])


# One CommandLineToArgvW for the whole simulator (the decoder splits the PowerShell command line).
split_windows_cmdline = split_command_line


def _is_param(token: str, name: str, shortest: int) -> bool:
    """PowerShell accepts any unambiguous prefix of a parameter name (``-enc``, ``-e``)."""
    t = token.lower()
    return t.startswith("-") and len(t) - 1 >= shortest and name.startswith(t[1:])


def _b64_utf16(value: str, what: str) -> str:
    try:
        return base64.b64decode(value, validate=True).decode("utf-16-le")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise DecodeError(f"simulator: {what} is not base64 UTF-16-LE: {exc}") from exc


def _clixml_strings(clixml: str) -> list[str]:
    """The ``<S>`` strings of the CLIXML ``-EncodedArguments`` array (2.21)."""
    return [_clixml_unescape(m.group(1)) for m in re.finditer(r"<S(?:\s[^>]*)?>(.*?)</S>", clixml, re.S)]


def _clixml_unescape(value: str) -> str:
    value = (
        value.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", '"')
        .replace("&apos;", "'")
        .replace("&amp;", "&")
    )
    return re.sub(r"_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m.group(1), 16)), value)


def parse_command_line(raw: str) -> CommandLine:
    argv = split_windows_cmdline(raw)
    if not argv:
        raise DecodeError("simulator: empty command line")
    exe = argv[0].replace("/", "\\").rsplit("\\", 1)[-1].lower()
    if exe not in _POWERSHELL_EXES:
        return CommandLine(raw=raw, argv=argv, is_powershell=False)
    script: str | None = None
    script_args: list[str] = []
    i = 1
    while i < len(argv):
        tok = argv[i]
        if _is_param(tok, "encodedarguments", 8) or tok.lower() == "-ea":
            if i + 1 >= len(argv):
                raise DecodeError("simulator: -EncodedArguments without a value")
            script_args = _clixml_strings(_b64_utf16(argv[i + 1], "-EncodedArguments"))
            i += 2
            continue
        if _is_param(tok, "encodedcommand", 1):
            if i + 1 >= len(argv):
                raise DecodeError("simulator: -EncodedCommand without a value")
            script = _b64_utf16(argv[i + 1], "-EncodedCommand")
            i += 2
            continue
        i += 1
    return CommandLine(raw=raw, argv=argv, is_powershell=True, script=script, script_args=script_args)


@dataclasses.dataclass(frozen=True)
class ScriptRef:
    """One script of a manifest, reduced to what identifies it. ``content`` is the decoded
    body; it is absent in records (fixtures) where only the digest was kept."""

    name: str
    path: str
    sha256: str
    size: int
    content: bytes | None = dataclasses.field(default=None, repr=False, compare=False)

    def text(self) -> str:
        if self.content is None:
            raise DecodeError(f"simulator: the body of script {self.name} was not recorded")
        return self.content.decode("utf-8-sig")

    def record(self) -> dict[str, Any]:
        rec: dict[str, Any] = {"path": self.path, "sha256": self.sha256, "size": self.size}
        if self.content is not None and self.size <= _SMALL_SCRIPT:
            rec["base64"] = base64.b64encode(self.content).decode()  # e.g. the script action's one-liner
        return rec

    @classmethod
    def from_record(cls, name: str, rec: dict[str, Any]) -> ScriptRef:
        content = base64.b64decode(rec["base64"]) if "base64" in rec else None
        return cls(name=name, path=rec["path"], sha256=rec["sha256"], size=rec["size"], content=content)


@dataclasses.dataclass(frozen=True)
class Action:
    """One manifest action. Secret values (``secure_params``) are never kept, only their names."""

    name: str
    params: dict[str, Any]
    secure_param_names: tuple[str, ...] = ()

    def record(self) -> dict[str, Any]:
        return {"name": self.name, "params": _masked(self.params), "secure_param_names": list(self.secure_param_names)}


_NO_LOG_VALUE = "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"  # what ansible itself shows for hidden values


def _masked(params: dict[str, Any]) -> dict[str, Any]:
    """A module action's params for a record: user arguments hidden when the task is no_log."""
    variables = params.get("Variables")
    if not isinstance(variables, list):
        return params
    out = [
        {**var, "Value": _masked_args(var["Value"])}
        if isinstance(var, dict) and var.get("Name") == "complex_args" and isinstance(var.get("Value"), dict)
        else var
        for var in variables
    ]
    return {**params, "Variables": out}


def _masked_args(args: dict[str, Any]) -> dict[str, Any]:
    if not args.get("_ansible_no_log"):
        return args
    return {k: v if k.startswith("_ansible_") else _NO_LOG_VALUE for k, v in args.items()}


@dataclasses.dataclass
class WirePayload:
    """The stdin of one bootstrap run, framing removed (2.19+ manifest or <= 2.18 legacy)."""

    format: str  # "manifest" (2.19+) | "legacy" (<= 2.18)
    exec_wrapper_sha256: str
    bootstrap_params: dict[str, Any]
    scripts: dict[str, ScriptRef]
    actions: list[Action]
    extra_input: bytes = b""
    legacy: dict[str, Any] = dataclasses.field(default_factory=dict)  # <= 2.18: the JSON minus sources

    def record(self) -> dict[str, Any]:
        """A small JSON-serialisable form (script bodies replaced by their digests)."""
        return {
            "format": self.format,
            "exec_wrapper_sha256": self.exec_wrapper_sha256,
            "bootstrap_params": self.bootstrap_params,
            "scripts": {k: v.record() for k, v in self.scripts.items()},
            "actions": [a.record() for a in self.actions],
            "extra_input": bytes_record(self.extra_input),
            "legacy": {k: _masked_args(v) if k == "module_args" else v for k, v in self.legacy.items()},
        }

    @classmethod
    def from_record(cls, data: dict[str, Any]) -> WirePayload:
        extra = data.get("extra_input") or {}
        return cls(
            format=data["format"],
            exec_wrapper_sha256=data["exec_wrapper_sha256"],
            bootstrap_params=data.get("bootstrap_params") or {},
            scripts={k: ScriptRef.from_record(k, v) for k, v in (data.get("scripts") or {}).items()},
            actions=[
                Action(a["name"], a.get("params") or {}, tuple(a.get("secure_param_names") or ()))
                for a in data.get("actions") or []
            ],
            extra_input=base64.b64decode(extra["base64"]) if "base64" in extra else b"",
            legacy=data.get("legacy") or {},
        )


def bytes_record(data: bytes) -> dict[str, Any]:
    rec: dict[str, Any] = {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    if len(data) <= 4096:
        rec["base64"] = base64.b64encode(data).decode()
    return rec


def _script_ref(name: str, path: str, b64: str) -> ScriptRef:
    try:
        content = base64.b64decode(b64, validate=True)
    except binascii.Error as exc:
        raise DecodeError(f"simulator: script {name} in the manifest is not base64: {exc}") from exc
    return ScriptRef(
        name=name, path=path, sha256=hashlib.sha256(content).hexdigest(), size=len(content), content=content
    )


def _json(data: bytes, what: str) -> Any:
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DecodeError(f"simulator: {what} is not JSON: {exc}") from exc


def parse_stdin(stdin: bytes) -> WirePayload:
    """Split a 2.19+ bootstrap input into its manifest parts."""
    parts = stdin.split(STDIN_SEPARATOR, 2)
    if len(parts) < 2:
        raise DecodeError("simulator: bootstrap input has no manifest (missing the \\n\\0\\0\\0\\0\\n separator)")
    first = _json(parts[0], "the bootstrap manifest")
    manifest = _json(parts[1], "the exec manifest")
    if not isinstance(first, dict) or first.get("name") != "exec_wrapper" or "script" not in first:
        raise DecodeError(
            f"simulator: unknown bootstrap payload {str(first.get('name') if isinstance(first, dict) else first)!r}"
        )
    if not isinstance(manifest, dict) or "actions" not in manifest or "scripts" not in manifest:
        raise DecodeError("simulator: the exec manifest has no scripts/actions")
    scripts = {
        name: _script_ref(name, str(info.get("path", "")), str(info.get("script", "")))
        for name, info in manifest["scripts"].items()
    }
    actions = [
        Action(
            name=str(a.get("name")),
            params=dict(a.get("params") or {}),
            secure_param_names=tuple(sorted((a.get("secure_params") or {}).keys())),
        )
        for a in manifest["actions"]
    ]
    return WirePayload(
        format="manifest",
        exec_wrapper_sha256=hashlib.sha256(str(first["script"]).encode()).hexdigest(),
        bootstrap_params=dict(first.get("params") or {}),
        scripts=scripts,
        actions=actions,
        extra_input=parts[2] if len(parts) > 2 else b"",
    )


# <= 2.18 carries its exec scripts base64-encoded under top-level keys of the payload.
_LEGACY_EXEC_SCRIPTS = frozenset(
    {
        "exec_wrapper",
        "module_wrapper",
        "module_powershell_wrapper",
        "module_script_wrapper",
        "become_wrapper",
        "async_wrapper",
        "async_watchdog",
        "coverage_wrapper",
    }
)


def parse_legacy_stdin(stdin: bytes) -> WirePayload:
    """Split a <= 2.18 exec wrapper input: ``exec_wrapper.ps1`` text, four NULs, JSON."""
    head, sep, rest = stdin.partition(LEGACY_SEPARATOR)
    if not sep:
        raise DecodeError("simulator: legacy exec wrapper input has no \\0\\0\\0\\0 separator")
    payload = _json(rest.strip(b"\r\n\0"), "the legacy exec payload")
    if not isinstance(payload, dict) or "module_entry" not in payload:
        raise DecodeError("simulator: legacy exec payload has no module_entry")
    scripts = {"module_entry": _script_ref("module_entry", "", str(payload["module_entry"]))}
    for name in sorted(_LEGACY_EXEC_SCRIPTS & payload.keys()):
        scripts[name] = _script_ref(name, name, str(payload[name]))
    for kind in ("powershell_modules", "csharp_utils"):
        for name, b64 in sorted((payload.get(kind) or {}).items()):
            scripts[name] = _script_ref(name, kind, str(b64))
    skip = {"module_entry", "powershell_modules", "csharp_utils", "become_password", *_LEGACY_EXEC_SCRIPTS}
    legacy = {k: v for k, v in payload.items() if k not in skip}
    return WirePayload(
        format="legacy",
        exec_wrapper_sha256=hashlib.sha256(head).hexdigest(),
        bootstrap_params={},
        scripts=scripts,
        actions=[Action(str(a), {}) for a in payload.get("actions") or []],
        legacy=legacy,
    )


def is_bootstrap(script: str) -> bool:
    return all(p.search(script) for p in _BOOTSTRAP_SIGNATURE)


def is_legacy_bootstrap(script: str, stdin: bytes) -> bool:
    return all(p.search(script) for p in _LEGACY_BOOTSTRAP_SIGNATURE) and LEGACY_SEPARATOR in stdin


# --------------------------------------------------------------------------------------------
# the installed collections


@dataclasses.dataclass(frozen=True)
class InstalledModule:
    fqcn: str
    path: Path
    sha256: str
    collection_version: str | None


class CollectionIndex:
    """The PowerShell modules of the collections installed beside the simulator.

    A module is recognised when the source ansible-core sent has the sha256 of one of the
    installed copies (several roots may hold different versions of one collection)."""

    def __init__(self, roots: Iterable[str | os.PathLike[str]]) -> None:
        seen: list[Path] = []
        for r in roots:
            p = Path(r).expanduser()
            base = p if p.name == "ansible_collections" else p / "ansible_collections"
            if base.is_dir() and base.resolve() not in [s.resolve() for s in seen]:
                seen.append(base)
        self.roots: list[Path] = seen
        self._lock = threading.Lock()
        self._by_sha: dict[str, InstalledModule] | None = None
        self._cache: dict[str, list[InstalledModule]] = {}

    @classmethod
    def default(cls, extra: Iterable[str | os.PathLike[str]] = ()) -> CollectionIndex:
        """``extra`` first, then what ansible would search: ANSIBLE_COLLECTIONS_PATH, the
        repository's ``.collections``, the user and system paths, and ``sys.path``."""
        roots: list[str | os.PathLike[str]] = list(extra)
        for var in ("ANSIBLE_COLLECTIONS_PATH", "ANSIBLE_COLLECTIONS_PATHS"):
            roots += [p for p in os.environ.get(var, "").split(os.pathsep) if p]
        repo = Path(__file__).resolve().parents[2]
        roots += [repo / ".collections", Path("~/.ansible/collections"), Path("/usr/share/ansible/collections")]
        roots += [p for p in sys.path if p]
        return cls(roots)

    def modules(self, fqcn: str) -> list[InstalledModule]:
        with self._lock:
            if fqcn in self._cache:
                return self._cache[fqcn]
        parts = fqcn.split(".")
        if len(parts) < 3:
            raise DecodeError(f"simulator: {fqcn!r} is not a fully qualified module name")
        ns, coll, rel = parts[0], parts[1], parts[2:]
        found: list[InstalledModule] = []
        for base in self.roots:
            coll_dir = base / ns / coll
            path = coll_dir.joinpath("plugins", "modules", *rel[:-1], rel[-1] + ".ps1")
            if path.is_file():
                found.append(_installed(fqcn, path, coll_dir))
        with self._lock:
            self._cache[fqcn] = found
        return found

    def verify(self, fqcn: str, sha256: str) -> InstalledModule:
        """Return the installed copy whose source has this digest; fail loudly otherwise."""
        found = self.modules(fqcn)
        for mod in found:
            if mod.sha256 == sha256:
                return mod
        if not found:
            where = ", ".join(str(r) for r in self.roots) or "(no collection roots)"
            raise DecodeError(f"simulator: module {fqcn} is not in any installed collection (searched {where})")
        have = "; ".join(f"{m.path} sha256={m.sha256[:12]} version={m.collection_version}" for m in found)
        raise DecodeError(
            f"simulator: module {fqcn} source (sha256={sha256[:12]}) does not match the installed collection ({have})"
        )

    def find_by_sha256(self, sha256: str) -> InstalledModule | None:
        """<= 2.18 sends no module name: find the installed ``.ps1`` with this digest."""
        with self._lock:
            if self._by_sha is None:
                self._by_sha = {}
                for base in self.roots:
                    for path in sorted(base.glob("*/*/plugins/modules/**/*.ps1")):
                        rel = path.relative_to(base)
                        ns, coll = rel.parts[0], rel.parts[1]
                        mod_parts = list(rel.parts[4:])
                        mod_parts[-1] = mod_parts[-1][: -len(".ps1")]
                        fqcn = ".".join([ns, coll, *mod_parts])
                        mod = _installed(fqcn, path, base / ns / coll)
                        self._by_sha.setdefault(mod.sha256, mod)
            return self._by_sha.get(sha256)


def _installed(fqcn: str, path: Path, coll_dir: Path) -> InstalledModule:
    return InstalledModule(fqcn, path, hashlib.sha256(path.read_bytes()).hexdigest(), _collection_version(coll_dir))


def _collection_version(coll_dir: Path) -> str | None:
    for name in ("MANIFEST.json", "galaxy.yml"):
        f = coll_dir / name
        if not f.is_file():
            continue
        text = f.read_text(encoding="utf-8", errors="replace")
        if name.endswith(".json"):
            try:
                return str(json.loads(text)["collection_info"]["version"])
            except (KeyError, ValueError):
                return None
        m = re.search(r"^version:\s*['\"]?([^'\"\s]+)", text, re.M)
        return m.group(1) if m else None
    return None


# --------------------------------------------------------------------------------------------
# stage 2: interpretation


@dataclasses.dataclass
class ModuleInvocation:
    request: ModuleRequest
    module_path: str  # where the controller read the module from
    installed_path: str  # the installed copy whose sha256 matched
    wrappers: list[Action]
    payload: WirePayload

    @property
    def become(self) -> Action | None:
        return next((a for a in self.wrappers if a.name == "become_wrapper.ps1"), None)

    @property
    def async_params(self) -> dict[str, Any] | None:
        wrapper = next((a for a in self.wrappers if a.name == "async_wrapper.ps1"), None)
        if wrapper is None:
            return None
        watchdog = next((a for a in self.wrappers if a.name == "async_watchdog.ps1"), None)
        return {**wrapper.params, **(watchdog.params if watchdog else {})}


@dataclasses.dataclass
class HelperInvocation:
    name: str
    params: dict[str, Any]
    extra_input: bytes
    payload: WirePayload


@dataclasses.dataclass
class ScriptInvocation:
    """Plain PowerShell: matched against the script registry in ``scripts.py``."""

    script: str
    args: list[str] = dataclasses.field(default_factory=list)
    origin: str = "encoded-command"  # or "script-action" (ansible.builtin.script)
    payload: WirePayload | None = None


@dataclasses.dataclass
class CmdInvocation:
    """A command line that is not PowerShell (``pywinrm``'s ``run_cmd``)."""

    argv: list[str]
    raw: str


Invocation = ModuleInvocation | HelperInvocation | ScriptInvocation | CmdInvocation


def fqcn_from_script_name(script_name: str) -> str:
    m = _SCRIPT_NAME.match(script_name)
    if not m:
        raise DecodeError(f"simulator: module script {script_name!r} is not a collection module")
    return f"{m.group('ns')}.{m.group('coll')}.{m.group('mod')}"


def split_module_args(complex_args: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    args = {k: v for k, v in complex_args.items() if not k.startswith("_ansible_")}
    internal = {k: v for k, v in complex_args.items() if k.startswith("_ansible_")}
    return args, internal


def _task_environment(value: Any) -> dict[str, str]:
    """The task's ``environment:`` as the exec wrapper sets it in the module's process; values become
    strings, as ``[Environment]::SetEnvironmentVariable`` takes them."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise DecodeError(f"simulator: the module environment is a {type(value).__name__}, not a mapping")
    return {str(k): "" if v is None else str(v) for k, v in value.items()}


def interpret(payload: WirePayload, index: CollectionIndex) -> ModuleInvocation | HelperInvocation | ScriptInvocation:
    if payload.format == "legacy":
        return _interpret_legacy(payload, index)
    if not payload.actions:
        raise DecodeError("simulator: the exec manifest has no actions")
    last = payload.actions[-1]
    names = [a.name for a in payload.actions]
    if last.name == "module_wrapper.ps1":
        unknown = [a.name for a in payload.actions[:-1] if a.name not in KNOWN_WRAPPERS]
        if unknown:
            raise DecodeError(f"simulator: unknown exec wrapper action(s) {', '.join(unknown)} (actions: {names})")
        script_name = str(last.params.get("Script", ""))
        ref = payload.scripts.get(script_name)
        if ref is None:
            raise DecodeError(f"simulator: module_wrapper.ps1 runs {script_name!r} which is not in the manifest")
        if not last.params.get("ForModule"):
            # ansible.builtin.script: the "module" is a one-line call of the uploaded script.
            return ScriptInvocation(script=ref.text(), origin="script-action", payload=payload)
        fqcn = fqcn_from_script_name(script_name)
        installed = index.verify(fqcn, ref.sha256)
        complex_args: dict[str, Any] | None = None
        for var in last.params.get("Variables") or []:
            if var.get("Name") == "complex_args":
                complex_args = dict(var.get("Value") or {})
        if complex_args is None:
            raise DecodeError(f"simulator: module {fqcn} manifest has no complex_args variable")
        args, internal = split_module_args(complex_args)
        request = ModuleRequest(
            name=fqcn,
            args=args,
            internal=internal,
            source_sha256=ref.sha256,
            core_version=internal.get("_ansible_version"),
            environment=_task_environment(last.params.get("Environment")),
        )
        return ModuleInvocation(
            request=request,
            module_path=ref.path,
            installed_path=str(installed.path),
            wrappers=list(payload.actions[:-1]),
            payload=payload,
        )
    if len(payload.actions) == 1 and last.name in KNOWN_HELPERS:
        missing = [p for p in KNOWN_HELPERS[last.name] if p not in last.params]
        if missing:
            raise DecodeError(f"simulator: executor helper {last.name} is missing parameter(s) {', '.join(missing)}")
        return HelperInvocation(
            name=last.name, params=dict(last.params), extra_input=payload.extra_input, payload=payload
        )
    raise DecodeError(f"simulator: unrecognised exec wrapper action(s) {names}")


def _interpret_legacy(payload: WirePayload, index: CollectionIndex) -> ModuleInvocation | ScriptInvocation:
    legacy = payload.legacy
    actions = [a.name for a in payload.actions]
    known = {"module_powershell_wrapper", "module_script_wrapper", "become_wrapper", "async_wrapper", "async_watchdog"}
    unknown = [a for a in actions if a not in known]
    if unknown or not actions or actions[-1] not in ("module_powershell_wrapper", "module_script_wrapper"):
        raise DecodeError(f"simulator: unrecognised legacy exec wrapper action(s) {actions}")
    ref = payload.scripts["module_entry"]
    if actions[-1] == "module_script_wrapper":
        return ScriptInvocation(script=ref.text(), origin="script-action", payload=payload)
    installed = index.find_by_sha256(ref.sha256)
    if installed is None:
        args_name = (legacy.get("module_args") or {}).get("_ansible_module_name", "?")
        raise DecodeError(
            f"simulator: legacy module source (sha256={ref.sha256[:12]}, _ansible_module_name={args_name}) "
            "matches no installed collection module"
        )
    args, internal = split_module_args(dict(legacy.get("module_args") or {}))
    # Express the legacy wrappers as their 2.19+ manifest actions so one code path runs them.
    wrappers: list[Action] = []
    if "become_wrapper" in actions:
        wrappers.append(Action("become_wrapper.ps1", {"BecomeUser": legacy.get("become_user")}, ("BecomePassword",)))
    if "async_wrapper" in actions:
        env = legacy.get("environment") or {}
        wrappers.append(
            Action(
                "async_wrapper.ps1",
                {
                    "AsyncDir": env.get("ANSIBLE_ASYNC_DIR"),
                    "AsyncJid": legacy.get("async_jid"),
                    "StartupTimeout": legacy.get("async_startup_timeout"),
                },
            )
        )
        wrappers.append(Action("async_watchdog.ps1", {"Timeout": legacy.get("async_timeout_sec")}))
    return ModuleInvocation(
        request=ModuleRequest(
            name=installed.fqcn,
            args=args,
            internal=internal,
            source_sha256=ref.sha256,
            core_version=internal.get("_ansible_version"),
            environment=_task_environment(legacy.get("environment")),
        ),
        module_path="",
        installed_path=str(installed.path),
        wrappers=wrappers,
        payload=payload,
    )


def decode(
    command: str,
    arguments: Sequence[str] | str | None,
    stdin: bytes,
    index: CollectionIndex,
) -> tuple[Invocation, WirePayload | None]:
    """Decode one WinRS command. Returns the invocation and, for bootstrap runs, the framed
    payload (for the trace)."""
    cl = parse_command_line(join_winrs(command, arguments))
    if not cl.is_powershell:
        return CmdInvocation(argv=cl.argv, raw=cl.raw), None
    if cl.script is None:
        raise DecodeError(f"simulator: PowerShell command without -EncodedCommand is not supported: {cl.raw[:200]!r}")
    script = cl.script
    # <= 2.18 encodes the module's own PowerShell command line once more.
    for _ in range(3):
        inner = script.strip()
        if not re.match(r"(?i)^(powershell|pwsh)(\.exe)?\s", inner):
            break
        nested = parse_command_line(inner)
        if nested.script is None:
            break
        script = nested.script
    if is_bootstrap(script):
        payload = parse_stdin(stdin)
        return interpret(payload, index), payload
    if is_legacy_bootstrap(script, stdin):
        payload = parse_legacy_stdin(stdin)
        return interpret(payload, index), payload
    return ScriptInvocation(script=script, args=cl.script_args), None
