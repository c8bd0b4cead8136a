"""Module argument specs taken from the installed collections, checked with ansible-core's validator.

The spec of an emulated module comes from its ``DOCUMENTATION`` in the installed collection (the
``.py`` doc stub or the ``.yml`` sidecar, with its doc fragments merged by ansible-core's own
``add_fragments``). The validation itself is ansible-core's ``ArgumentSpecValidator``; what this
file adds is the behaviour of the PowerShell module util the *real* module uses, because that is
what a playbook sees:

* ``Ansible.Basic`` (``[Ansible.Basic.AnsibleModule]::Create``, lib/ansible/module_utils/csharp/
  Ansible.Basic.cs): type conversion like its ``Parse*`` functions (so ``path`` expands ``%VAR%``
  from the *Windows* environment, not ``$HOME`` on the controller), case-insensitive choices and
  option names, unsupported options rejected first, the check-mode skip, the first error only, in
  the order ``CheckArguments`` runs its checks, with its texts ("Unsupported parameters for (X)
  module: ...", "value of X must be one of: a, b. Got no match for: c", ...), and
  ``invocation.module_args`` with ``no_log`` values masked like ``RemoveNoLogValues``.
* ``Ansible.ModuleUtils.Legacy`` (``Parse-Args``/``Get-AnsibleParam``, used by win_file, win_copy,
  win_feature, slurp, ...): unknown options are silently ignored, types never fail except ``list``
  and ``path``, errors read "Get-AnsibleParam: ..." and come in the order the ``.ps1`` reads its
  options, and there is no ``invocation``.

Two facts are read from the installed ``.ps1`` because the docs do not state them: whether the
module supports check mode, and the order of ``choices``/``-validateset`` values and of the
``Get-AnsibleParam`` calls (error texts list them in that order). Constraints the docs leave out
(mutually_exclusive, required_if, ..., no_log) are added by hand in each emulation's
``SpecOverrides`` with a comment naming the ``.ps1`` they come from.
"""

from __future__ import annotations

import ast
import copy
import dataclasses
import functools
import importlib
import json
import re
import sys
import types
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator, ValidationResult
from ansible.module_utils.errors import (
    ArgumentTypeError,
    ArgumentValueError,
    ElementError,
    MutuallyExclusiveError,
    RequiredByError,
    RequiredError,
    RequiredIfError,
    RequiredOneOfError,
    RequiredTogetherError,
    UnsupportedError,
)
from ansible.parsing.plugin_docs import read_docstring
from ansible.utils.plugin_docs import add_fragments

from tests.simulator.host import SimulatorError, expand_env

from ._winutil import net_str, net_type_name

__all__ = [
    "FLAVOUR_BASIC",
    "FLAVOUR_LEGACY",
    "NO_LOG_PLACEHOLDER",
    "ModuleSpec",
    "SpecOverrides",
    "Validation",
    "load_spec",
    "mask_no_log",
    "return_docs",
    "validate",
]

FLAVOUR_BASIC = "basic"  # Ansible.Basic.AnsibleModule
FLAVOUR_LEGACY = "legacy"  # Ansible.ModuleUtils.Legacy (Parse-Args / Get-AnsibleParam)
NO_LOG_PLACEHOLDER = "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"

# Ansible.Basic.cs BOOLEANS_TRUE / BOOLEANS_FALSE, in that order (the error text lists them).
_BOOLEANS_TRUE = ("y", "yes", "on", "1", "true", "t", "1.0")
_BOOLEANS_FALSE = ("n", "no", "off", "0", "false", "f", "0.0")
# Legacy.psm1 ConvertTo-Bool
_LEGACY_TRUE = ("yes", "on", "1", "true")
# .NET Framework Path.GetInvalidPathChars(): '"', '<', '>', '|' and the control characters.
_INVALID_PATH_CHARS = frozenset('"<>|') | frozenset(chr(i) for i in range(32))


@dataclasses.dataclass(frozen=True)
class SpecOverrides:
    """What an emulation adds to the documented spec, each item with a comment naming its source.

    ``options`` maps an option name to fields that replace the documented ones (or a new option
    the docs do not list, such as win_copy's internal ``_copy_mode``); a nested ``options`` key
    does the same for sub-options. ``drop_options`` removes documented options the ``.ps1`` never
    reads (a legacy module then ignores them like any unknown key). ``accept_unknown_as_raw``
    mirrors setup.ps1, which adds every unknown top-level key to its spec as ``type = 'raw'``.
    """

    options: Mapping[str, Mapping[str, Any]] = dataclasses.field(default_factory=dict)
    drop_options: Sequence[str] = ()
    mutually_exclusive: Sequence[Sequence[str]] = ()
    required_together: Sequence[Sequence[str]] = ()
    required_one_of: Sequence[Sequence[str]] = ()
    required_if: Sequence[Sequence[Any]] = ()
    required_by: Mapping[str, Sequence[str]] = dataclasses.field(default_factory=dict)
    accept_unknown_as_raw: bool = False


@dataclasses.dataclass(frozen=True)
class ModuleSpec:
    """The effective spec of one module: documented options plus the hand additions."""

    fqcn: str
    flavour: str
    options: dict[str, dict[str, Any]]
    supports_check_mode: bool
    mutually_exclusive: list[list[str]]
    required_together: list[list[str]]
    required_one_of: list[list[str]]
    required_if: list[list[Any]]
    required_by: dict[str, list[str]]
    accept_unknown_as_raw: bool
    order: list[str]  # legacy: the order the .ps1 calls Get-AnsibleParam in
    doc_path: Path
    ps1_path: Path


@dataclasses.dataclass
class Validation:
    """Outcome of validating one request: parameters, or the one error the real module prints."""

    params: dict[str, Any]
    no_log_values: list[str]
    module_name: str
    error: str | None = None
    skipped: bool = False


# --------------------------------------------------------------------------------------------
# reading the installed collection


def _collection_root(namespace: str, name: str) -> Path:
    """Where an installed collection lives, found the way Python would find the package: the first
    ``ansible_collections/<namespace>/<name>`` on ``sys.path``. Nothing is imported: importing
    ``ansible_collections`` as a plain namespace package before Ansible's collection finder is
    installed would keep that finder (which the executables' knowledge base relies on) from working."""
    for entry in sys.path:
        candidate = Path(entry or ".") / "ansible_collections" / namespace / name
        if (candidate / "plugins" / "modules").is_dir():
            return candidate
    raise SimulatorError(f"collection {namespace}.{name} is not installed on sys.path")


def module_files(fqcn: str) -> tuple[Path, Path]:
    """The documentation file (``.py`` stub or ``.yml`` sidecar) and the ``.ps1`` of a module."""
    try:
        namespace, collection, module = fqcn.split(".")
    except ValueError:
        raise SimulatorError(f"not a module FQCN: {fqcn!r}") from None
    base = _collection_root(namespace, collection) / "plugins" / "modules"
    ps1 = base / f"{module}.ps1"
    doc = next((p for p in (base / f"{module}.py", base / f"{module}.yml") if p.is_file()), None)
    if doc is None or not ps1.is_file():
        raise SimulatorError(f"module {fqcn} has no documentation file or .ps1 in {base}")
    return doc, ps1


class _FragmentLoader:
    """The part of ansible-core's ``fragment_loader`` that ``add_fragments`` uses. Builtin fragments
    are imported; a collection's fragment file is read with ``ast`` (its string constants), so the
    simulator never imports ``ansible_collections`` itself (see ``_collection_root``)."""

    def get(self, name: str) -> Any:
        parts = name.split(".")
        if len(parts) == 1 or parts[:2] == ["ansible", "builtin"]:
            try:
                cls = importlib.import_module(f"ansible.plugins.doc_fragments.{parts[-1]}").ModuleDocFragment
            except (ImportError, AttributeError):
                return None
            attrs = {k: getattr(cls, k) for k in dir(cls) if k.isupper()}
        elif len(parts) == 3:
            path = _collection_root(parts[0], parts[1]) / "plugins" / "doc_fragments" / f"{parts[2]}.py"
            if not path.is_file():
                return None
            attrs = _fragment_constants(path)
        else:
            return None  # add_fragments then retries with the last component as the variable name
        return types.SimpleNamespace(ansible_name=name, **attrs)


def _fragment_constants(path: Path) -> dict[str, str]:
    """The upper-case string attributes of ``class ModuleDocFragment`` in a doc fragment file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == "ModuleDocFragment":
            return {
                target.id: stmt.value.value
                for stmt in node.body
                if isinstance(stmt, ast.Assign)
                and isinstance(stmt.value, ast.Constant)
                and isinstance(stmt.value.value, str)
                for target in stmt.targets
                if isinstance(target, ast.Name) and target.id.isupper()
            }
    raise SimulatorError(f"{path} has no class ModuleDocFragment")


def _plain(value: Any) -> Any:
    """Strip ansible's data tags: the docs come back as tagged dict/str subclasses."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    for kind in (bool, int, float, str):
        if isinstance(value, kind):
            return kind(value)
    return value


@functools.cache
def _docs(fqcn: str) -> tuple[dict[str, Any], dict[str, Any]]:
    doc_path, _ = module_files(fqcn)
    data = read_docstring(str(doc_path), verbose=False, ignore_errors=False)
    doc = data.get("doc") or {}
    if not doc:
        raise SimulatorError(f"module {fqcn}: no DOCUMENTATION in {doc_path}")
    add_fragments(doc, str(doc_path), fragment_loader=_FragmentLoader(), is_module=True)
    return _plain(doc), _plain(data.get("returndocs") or {})


def return_docs(fqcn: str) -> dict[str, Any]:
    """The module's RETURN documentation as plain data."""
    return copy.deepcopy(_docs(fqcn)[1])


# --------------------------------------------------------------------------------------------
# facts read from the .ps1


def _strip_comments(ps1: str) -> str:
    ps1 = re.sub(r"<#.*?#>", "", ps1, flags=re.S)
    return re.sub(r"(?m)^\s*#.*$", "", ps1)


def _flavour(fqcn: str, ps1: str) -> str:
    if "[Ansible.Basic.AnsibleModule]::Create" in ps1:
        return FLAVOUR_BASIC
    if re.search(r"\bParse-Args\b", ps1):
        return FLAVOUR_LEGACY
    raise SimulatorError(f"module {fqcn}: cannot tell which module util its .ps1 uses")


def _supports_check_mode(fqcn: str, ps1: str, flavour: str) -> bool:
    pattern = (
        r"supports_check_mode\s*=\s*\$(true|false)"
        if flavour == FLAVOUR_BASIC
        else r"Parse-Args[^\n]*-supports_check_mode\s+\$(true|false)"
    )
    found = re.search(pattern, ps1, re.I)
    if flavour == FLAVOUR_LEGACY and found is None and re.search(r"Parse-Args\s+(-arguments\s+)?\$args\s*$", ps1, re.M):
        return False  # Parse-Args' default
    if found is None:
        raise SimulatorError(f"module {fqcn}: cannot find supports_check_mode in its .ps1")
    return found.group(1).lower() == "true"


# A Get-AnsibleParam call and the option name it reads: `-name "x"` or positional `$params "x"`.
_GET_PARAM = r"""Get-AnsibleParam\b(?:[^\n]*?-name\s+["'](\w+)["']|\s+(?:-obj\s+)?\$\w+\s+["'](\w+)["'])"""
_QUOTED_LIST = r"""(?:'[^']*'|"[^"]*")(?:\s*,\s*(?:'[^']*'|"[^"]*"))*"""


def _unquote_list(text: str) -> list[str]:
    return [m.group(1) if m.group(1) is not None else m.group(2) for m in re.finditer(r"'([^']*)'|\"([^\"]*)\"", text)]


def _top_level(body: str) -> str:
    """``body`` with every nested ``{...}`` removed, so a sub-option's ``choices`` is not taken for its parent's."""
    out, depth = [], 0
    for ch in body:
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif depth == 0:
            out.append(ch)
    return "".join(out)


def _ps1_choices(ps1: str, flavour: str) -> dict[str, list[str]]:
    """Option name → its choices in ``.ps1`` order. Names seen with two different lists are dropped."""
    found: dict[str, list[str]] = {}
    clash: set[str] = set()

    def add(name: str, values: list[str]) -> None:
        if name in found and found[name] != values:
            clash.add(name)
        found.setdefault(name, values)

    if flavour == FLAVOUR_BASIC:
        for m in re.finditer(r"(?<![\w$.\-])(\w+)\s*=\s*@\{", ps1):
            depth, i = 1, m.end()
            while i < len(ps1) and depth:
                depth += {"{": 1, "}": -1}.get(ps1[i], 0)
                i += 1
            body = _top_level(ps1[m.end() : i - 1])
            c = re.search(r"\bchoices\s*=\s*(?:@\(\s*)?(" + _QUOTED_LIST + ")", body, re.I)
            if c:
                add(m.group(1), _unquote_list(c.group(1)))
    else:
        for m in re.finditer(_GET_PARAM + r"[^\n]*?-validateset\s+(" + _QUOTED_LIST + ")", ps1, re.I):
            add(m.group(1) or m.group(2), _unquote_list(m.group(3)))
    return {k: v for k, v in found.items() if k not in clash}


def _ps1_param_order(ps1: str) -> list[str]:
    """The names ``Get-AnsibleParam`` is called with, in call order (named or positional ``-name``)."""
    names: list[str] = []
    for m in re.finditer(_GET_PARAM, ps1, re.I):
        name = m.group(1) or m.group(2)
        if name not in names:
            names.append(name)
    return names


# --------------------------------------------------------------------------------------------
# building the spec


def _doc_option(doc_opt: Mapping[str, Any]) -> dict[str, Any]:
    opt: dict[str, Any] = {"type": doc_opt.get("type", "str")}
    for key in ("elements", "choices", "default", "aliases", "required", "no_log"):
        if key in doc_opt:
            opt[key] = copy.deepcopy(doc_opt[key])
    for key in ("mutually_exclusive", "required_together", "required_one_of", "required_if", "required_by"):
        if key in doc_opt:  # option-level constraints, when a doc states them
            opt[key] = copy.deepcopy(doc_opt[key])
    sub = doc_opt.get("suboptions") or doc_opt.get("options")
    if sub:
        opt["options"] = {k: _doc_option(v) for k, v in sub.items()}
    return opt


def _merge_option(opt: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(opt)
    for key, value in override.items():
        if key == "options":
            subs = dict(merged.get("options") or {})
            for sub_name, sub_override in value.items():
                subs[sub_name] = _merge_option(subs.get(sub_name, {"type": "str"}), sub_override)
            merged["options"] = subs
        else:
            merged[key] = value
    return merged


def _reorder_choices(options: dict[str, dict[str, Any]], ps1_choices: Mapping[str, list[str]]) -> None:
    """Use the .ps1's choice order where the .ps1 lists exactly the documented values."""
    for name, opt in options.items():
        doc_choices = opt.get("choices")
        ps1 = ps1_choices.get(name)
        if doc_choices and ps1 and sorted(map(str.lower, map(str, doc_choices))) == sorted(map(str.lower, ps1)):
            by_lower = {str(c).lower(): c for c in doc_choices}
            opt["choices"] = [by_lower[c.lower()] for c in ps1]
        if opt.get("options"):
            _reorder_choices(opt["options"], ps1_choices)


_SPEC_CACHE: dict[str, ModuleSpec] = {}


def load_spec(fqcn: str, overrides: SpecOverrides | None = None) -> ModuleSpec:
    """The effective spec of ``fqcn`` (cached per module: an emulation's overrides never change)."""
    cached = _SPEC_CACHE.get(fqcn)
    if cached is not None:
        return cached
    overrides = overrides or SpecOverrides()
    doc, _ = _docs(fqcn)
    doc_path, ps1_path = module_files(fqcn)
    ps1 = _strip_comments(ps1_path.read_text(encoding="utf-8-sig"))
    flavour = _flavour(fqcn, ps1)
    options = {k: _doc_option(v) for k, v in (doc.get("options") or {}).items()}
    for name in overrides.drop_options:
        if name not in options:
            raise SimulatorError(f"module {fqcn}: override drops undocumented option {name!r}")
        del options[name]
    for name, override in overrides.options.items():
        options[name] = _merge_option(options.get(name, {"type": "str"}), override)
    _reorder_choices(options, _ps1_choices(ps1, flavour))
    order: list[str] = []
    if flavour == FLAVOUR_LEGACY:
        ps1_order = [n for n in _ps1_param_order(ps1) if n in options]
        order = ps1_order + [n for n in options if n not in ps1_order]
        options = {n: options[n] for n in order}
    spec = ModuleSpec(
        fqcn=fqcn,
        flavour=flavour,
        options=options,
        supports_check_mode=_supports_check_mode(fqcn, ps1, flavour),
        mutually_exclusive=[list(g) for g in overrides.mutually_exclusive],
        required_together=[list(g) for g in overrides.required_together],
        required_one_of=[list(g) for g in overrides.required_one_of],
        required_if=[list(g) for g in overrides.required_if],
        required_by={k: list(v) for k, v in overrides.required_by.items()},
        accept_unknown_as_raw=overrides.accept_unknown_as_raw,
        order=order or list(options),
        doc_path=doc_path,
        ps1_path=ps1_path,
    )
    _SPEC_CACHE[fqcn] = spec
    return spec


# --------------------------------------------------------------------------------------------
# type conversion: what Ansible.Basic's Parse* functions and Get-AnsibleParam -type do


class ConversionError(ValueError):
    """A value the module util cannot convert; ``str()`` is the .NET exception message."""


def _named(name: str, fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A converter called ``name``: the validator prints a callable type by its ``__name__``
    ("unable to convert to int"). A new function each time, as one converter serves two names."""

    def convert(value: Any) -> Any:
        return fn(value)

    convert.__name__ = name
    return convert


def _basic_bool(value: Any) -> Any:
    if value is None or isinstance(value, bool):
        return value
    text = net_str(value).lower().strip()
    if text in _BOOLEANS_TRUE:
        return True
    if text in _BOOLEANS_FALSE:
        return False
    raise ConversionError(
        f"The value '{text}' is not a valid boolean. Valid booleans include: "
        + ", ".join(_BOOLEANS_TRUE + _BOOLEANS_FALSE)
    )


def _basic_int(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        text = net_str(value).strip()
        if not re.fullmatch(r"[+-]?\d+", text):
            raise ConversionError("Input string was not in a correct format.")
        number = int(text)
    if not -(2**31) <= number < 2**31:
        raise ConversionError("Value was either too large or too small for an Int32.")
    return number


def _basic_float(value: Any) -> Any:
    if value is None or (isinstance(value, float)):
        return value
    text = net_str(value).strip()
    if not re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", text):
        raise ConversionError("Input string was not in a correct format.")
    return float(text)


def _basic_str(value: Any) -> Any:
    return None if value is None else net_str(value)


def _basic_list(value: Any) -> Any:
    if value is None or isinstance(value, list):
        return value
    if isinstance(value, str):
        return [part.strip() for part in value.split(",")]
    if isinstance(value, int) and not isinstance(value, bool):
        return [value]
    raise ConversionError(f"{net_type_name(type(value).__name__)} cannot be converted to a list")


def _kv_fields(text: str) -> dict[str, Any]:
    """Ansible.Basic ``ParseDict`` for ``k=v k2='v 2'`` strings."""
    fields: list[str] = []
    buf: list[str] = []
    quote: str | None = None
    escape = False
    for ch in text:
        if escape:
            buf.append(ch)
            escape = False
        elif ch == "\\":
            escape = True
        elif quote is None and ch in "'\"":
            quote = ch
        elif quote is not None and ch == quote:
            quote = None
        elif quote is None and ch in ", ":
            if buf:
                fields.append("".join(buf))
            buf = []
        else:
            buf.append(ch)
    if buf:
        fields.append("".join(buf))
    out: dict[str, Any] = {}
    for field in dict.fromkeys(fields):
        key, sep, val = field.partition("=")
        out[key] = val if sep else None
    return out


def _basic_dict(value: Any) -> Any:
    if value is None or isinstance(value, dict):
        return value
    if isinstance(value, str):
        if value.startswith("{") and value.endswith("}"):
            try:
                return json.loads(value)
            except json.JSONDecodeError as exc:
                raise ConversionError(f"Invalid JSON primitive: {exc.msg}.") from exc
        if "=" in value:
            return _kv_fields(value)
        raise ConversionError(
            "string cannot be converted to a dict, must either be a JSON string or in the key=value form"
        )
    raise ConversionError(f"{net_type_name(type(value).__name__)} cannot be converted to a dict")


def _basic_json(value: Any) -> Any:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, dict):
        return json.dumps(value, separators=(",", ":"))
    raise ConversionError(f"{net_type_name(type(value).__name__)} cannot be converted to json")


def _basic_path(env: Mapping[str, str]) -> Callable[[Any], Any]:
    def convert(value: Any) -> Any:
        if value is None:
            return None
        text = net_str(value)
        if text.startswith("\\\\?\\"):
            return text
        text = expand_env(text, dict(env))
        if any(ch in _INVALID_PATH_CHARS for ch in text):
            raise ConversionError("string value contains invalid path characters, cannot convert to path")
        if ":" in text[2:] or (":" in text[:2] and not re.match(r"^[A-Za-z]:", text)):
            raise ConversionError("The given path's format is not supported.")  # Path.GetFullPath
        return text

    return convert


def _basic_types(env: Mapping[str, str]) -> dict[str, Callable[[Any], Any]]:
    return {
        "bool": _named("bool", _basic_bool),
        "int": _named("int", _basic_int),
        "float": _named("float", _basic_float),
        "str": _named("str", _basic_str),
        "list": _named("list", _basic_list),
        "dict": _named("dict", _basic_dict),
        "json": _named("json", _basic_json),
        "path": _named("path", _basic_path(env)),
        "raw": _named("raw", lambda v: v),
        "sid": _named("sid", _basic_str),  # no account database: a SID or name is kept as given
    }


def _legacy_int(value: Any) -> Any:
    """``$value -as [int]``: $null when it does not convert, banker's rounding for fractions."""
    if value is None or isinstance(value, bool):
        return None if value is None else int(value)
    try:
        return int(str(value).strip())
    except ValueError:
        pass
    try:
        return round(float(str(value).strip()))
    except ValueError:
        return None


def _legacy_float(value: Any) -> Any:
    try:
        return None if value is None else float(str(value).strip())
    except ValueError:
        return None


def _legacy_list(value: Any) -> Any:
    if value is None or isinstance(value, list):
        return value
    if isinstance(value, str):
        return [part.strip() for part in value.split(",")]
    if isinstance(value, int) and not isinstance(value, bool):
        return [value]
    raise ConversionError("LEGACY-NOT-A-LIST")


def _legacy_path(env: Mapping[str, str]) -> Callable[[Any], Any]:
    def convert(value: Any) -> Any:
        if value is None:
            return None
        text = expand_env(net_str(value), dict(env))  # Expand-Environment
        if any(ch in _INVALID_PATH_CHARS for ch in text):  # Test-Path -IsValid
            raise ConversionError(f"LEGACY-INVALID-PATH:{text}")
        return text

    return convert


def _legacy_types(env: Mapping[str, str]) -> dict[str, Callable[[Any], Any]]:
    return {
        "bool": _named("bool", lambda v: None if v is None else (v is True or net_str(v).lower() in _LEGACY_TRUE)),
        "int": _named("int", _legacy_int),
        "float": _named("float", _legacy_float),
        "str": _named("str", _basic_str),
        "list": _named("list", _legacy_list),
        "path": _named("path", _legacy_path(env)),
        "dict": _named("dict", lambda v: v),
        "raw": _named("raw", lambda v: v),
        "json": _named("json", lambda v: v),
        "sid": _named("sid", _basic_str),
    }


def _validator_spec(options: Mapping[str, Mapping[str, Any]], converters: Mapping[str, Callable[[Any], Any]]) -> dict:
    """The spec handed to ArgumentSpecValidator: type names become the module util's converters.

    ``dict`` with sub-options and ``list`` of ``dict`` keep their names, because that is how the
    validator recognises a sub-spec to descend into.
    """
    out: dict[str, dict[str, Any]] = {}
    for name, opt in options.items():
        spec = {k: v for k, v in opt.items() if k not in ("type", "elements", "options")}
        kind, elements, subs = opt.get("type", "str"), opt.get("elements"), opt.get("options")
        if callable(kind) or (subs and (kind == "dict" or (kind == "list" and elements == "dict"))):
            spec["type"] = kind
        elif kind in converters:
            spec["type"] = converters[kind]
        else:
            raise SimulatorError(f"option {name!r} has a type the simulator does not know: {kind!r}")
        if elements is not None:
            if callable(elements) or (elements == "dict" and subs):
                spec["elements"] = elements
            elif elements in converters:
                spec["elements"] = converters[elements]
            else:
                raise SimulatorError(f"option {name!r} has elements of unknown type {elements!r}")
        if subs:
            spec["options"] = _validator_spec(subs, converters)
        out[name] = spec
    return out


# --------------------------------------------------------------------------------------------
# input normalisation the module utils do before validating


def _legal_inputs(options: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Option names, then aliases: the "Supported parameters include" list of Ansible.Basic.

    The real list follows .NET Hashtable order, which cannot be reproduced; the documentation
    order is used instead.
    """
    names = list(options)
    for opt in options.values():
        names.extend(a for a in opt.get("aliases") or [] if a not in names)
    return names


def _fix_case(params: dict[str, Any], legal: Sequence[str]) -> dict[str, Any]:
    """Both module utils accept an option in any case (PowerShell hashtables are case-insensitive)."""
    by_lower = {n.lower(): n for n in legal}
    out: dict[str, Any] = {}
    for key, value in params.items():
        fixed = key if key in legal else by_lower.get(key.lower(), key)
        out[fixed] = value
    return out


def _with_alias_copies(params: dict[str, Any], options: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """Ansible.Basic GetAliases: an alias's value is copied to its option, the alias key stays."""
    out = dict(params)
    for name, opt in options.items():
        for alias in opt.get("aliases") or []:
            if alias in params:
                out[name] = params[alias]
    return out


def _normalise_choices(params: dict[str, Any], options: Mapping[str, Mapping[str, Any]]) -> None:
    """Choices match case-insensitively in both module utils (OrdinalIgnoreCase / ``-contains``).
    The value is rewritten to the documented spelling so the emulations can compare exactly."""

    def canon(value: Any, choices: Sequence[Any]) -> Any:
        if isinstance(value, str):
            for choice in choices:
                if isinstance(choice, str) and choice.lower() == value.lower():
                    return choice
        return value

    for name, opt in options.items():
        keys = [name, *(opt.get("aliases") or [])]
        for key in keys:
            if key not in params:
                continue
            value = params[key]
            if opt.get("choices"):
                params[key] = (
                    [canon(v, opt["choices"]) for v in value]
                    if isinstance(value, list)
                    else canon(value, opt["choices"])
                )
            subs = opt.get("options")
            if subs:
                for item in value if isinstance(value, list) else [value]:
                    if isinstance(item, dict):
                        fixed = _fix_case(item, _legal_inputs(subs))
                        item.clear()
                        item.update(fixed)
                        _normalise_choices(item, subs)


def _no_log_values(params: Mapping[str, Any], options: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Ansible.Basic SetNoLogValues: the string form of every non-empty no_log value, sub-options too."""
    values: list[str] = []
    for name, opt in options.items():
        value = params.get(name)
        if opt.get("no_log") and value is not None and net_str(value) and net_str(value) not in values:
            values.append(net_str(value))
        subs = opt.get("options")
        if subs and value is not None:
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, dict):
                    values.extend(v for v in _no_log_values(_with_alias_copies(item, subs), subs) if v not in values)
    return values


def mask_no_log(value: Any, no_log_values: Sequence[str]) -> Any:
    """Ansible.Basic RemoveNoLogValues: a value equal to (or, for numbers, containing) a secret becomes
    ``VALUE_SPECIFIED_IN_NO_LOG_PARAMETER``; a string containing one has the first match starred out."""
    if value is None or not no_log_values:
        return value
    if isinstance(value, dict):
        return {k: mask_no_log(v, no_log_values) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [mask_no_log(v, no_log_values) for v in value]
    if isinstance(value, (bool, int, float)):
        text = net_str(value)
        return NO_LOG_PLACEHOLDER if any(secret in text for secret in no_log_values) else value
    text = str(value)
    if text in no_log_values:
        return NO_LOG_PLACEHOLDER
    for secret in no_log_values:
        if secret in text:
            return text.replace(secret, "********")
    return text


# --------------------------------------------------------------------------------------------
# turning the validator's errors into the module util's one error


_TYPE_RE = re.compile(
    r"^argument '(?P<name>[^']+)' is of type (?P<pytype>\S+)(?: found in '(?P<ctx>[^']*)'\.)?"
    r" and we were unable to convert to (?P<wanted>\S+): (?P<err>.*)$",
    re.S,
)
_ELEM_RE = re.compile(
    r"^Elements value for option '(?P<name>[^']+)'(?: found in '(?P<ctx>[^']*)')? is of type (?P<pytype>\S+)"
    r" and we were unable to convert to (?P<wanted>\S+): (?P<err>.*)$",
    re.S,
)
_CTX_RE = re.compile(r"^(?P<body>.*) found in (?P<ctx>\w+(?: -> \w+)*)$", re.S)
_VALUE_ONE_RE = re.compile(r"^value of (?P<name>\S+) must be one of: .*, got: (?P<got>.*)$", re.S)
_VALUE_MANY_RE = re.compile(
    r"^value of (?P<name>\S+) must be one or more of: .*\. Got no match for: (?P<got>.*)$", re.S
)

# Ansible.Basic CheckArguments order: mutually exclusive, required, (type + choices per option),
# required_together, required_one_of, required_if, required_by; sub-options after all of them.
_BASIC_RANK = {
    MutuallyExclusiveError: 1,
    RequiredError: 2,
    ArgumentTypeError: 3,
    ArgumentValueError: 3,
    ElementError: 3,
    RequiredTogetherError: 4,
    RequiredOneOfError: 5,
    RequiredIfError: 6,
    RequiredByError: 7,
}


def _split(err: Exception) -> tuple[str, str, dict[str, str]]:
    """(body, options context, parsed fields) of one validator error message."""
    text = str(err)
    for pattern in (_TYPE_RE, _ELEM_RE):
        m = pattern.match(text)
        if m:
            return text, m.group("ctx") or "", m.groupdict()
    m = _CTX_RE.match(text)
    if m:
        return m.group("body"), m.group("ctx"), {}
    return text, "", {}


def _sub_options(options: Mapping[str, Mapping[str, Any]], ctx: str) -> Mapping[str, Mapping[str, Any]]:
    for name in [n for n in ctx.split(" -> ") if n]:
        options = options.get(name, {}).get("options") or {}
    return options


def _basic_message(
    err: Exception, options: Mapping[str, Mapping[str, Any]], params: Mapping[str, Any]
) -> tuple[int, str] | None:
    """(option index, Ansible.Basic text) for one validator error; None when Ansible.Basic would not fail."""
    body, ctx, fields = _split(err)
    scope = _sub_options(options, ctx) if ctx else options
    names = list(scope)
    suffix = f" found in {ctx}" if ctx else ""
    if isinstance(err, ArgumentTypeError) and fields:
        index = names.index(fields["name"]) if fields["name"] in names else 0
        text = (
            f"argument for {fields['name']} is of type {net_type_name(fields['pytype'])} and we were unable to "
            f"convert to {fields['wanted']}: {fields['err']}"
        )
        return index, text + suffix
    if isinstance(err, ElementError) and fields:
        index = names.index(fields["name"]) if fields["name"] in names else 0
        text = (
            f"argument for list entry {fields['name']} is of type {net_type_name(fields['pytype'])} and we were "
            f"unable to convert to {fields['wanted']}: {fields['err']}"
        )
        return index, text + suffix
    if isinstance(err, ArgumentValueError):
        m = _VALUE_ONE_RE.match(body) or _VALUE_MANY_RE.match(body)
        if m is None:
            return 0, body + suffix
        name = m.group("name")
        many = m.re is _VALUE_MANY_RE
        if not ctx and params.get(name) is None:
            return None  # Ansible.Basic only checks choices of non-null values
        choices = ", ".join(net_str(c) for c in scope.get(name, {}).get("choices") or [])
        kind = "one or more of" if many else "one of"
        text = f"value of {name} must be {kind}: {choices}. Got no match for: {m.group('got')}"
        return (names.index(name) if name in names else 0), text + suffix
    if isinstance(err, MutuallyExclusiveError):
        first = body.split(": ", 1)[1].split(", ")[0]
        return 0, "parameters are mutually exclusive: " + ", ".join(first.split("|")) + suffix
    if isinstance(err, RequiredError):
        missing = body.split(": ", 1)[1].split(", ")
        ordered = sorted(missing, key=lambda n: names.index(n) if n in names else len(names))
        return 0, "missing required arguments: " + ", ".join(ordered) + suffix
    return 0, body + suffix


def _basic_error(
    result: ValidationResult, options: Mapping[str, Mapping[str, Any]], params: Mapping[str, Any], module_name: str
) -> str | None:
    candidates: list[tuple[int, int, int, str]] = []
    for err in result.errors.errors:
        if isinstance(err, UnsupportedError):
            continue  # rebuilt from result.unsupported_parameters below
        translated = _basic_message(err, options, params)
        if translated is None:
            continue
        _, ctx, _ = _split(err)
        candidates.append((1 if ctx else 0, _BASIC_RANK.get(type(err), 0), translated[0], translated[1]))
    by_context: dict[tuple[str, ...], list[str]] = {}
    for item in result.unsupported_parameters:
        if isinstance(item, tuple):  # top-level unknown keys were refused before validating
            by_context.setdefault(tuple(item[:-1]), []).append(item[-1])
    for ctx_names, unknown in by_context.items():
        ctx = " -> ".join(ctx_names)
        legal = _legal_inputs(_sub_options(options, ctx))
        text = (
            f"Unsupported parameters for ({module_name}) module: {', '.join(sorted(unknown))} found in {ctx}. "
            f"Supported parameters include: {', '.join(legal)}"
        )
        candidates.append((1, 0, 0, text))
    return min(candidates)[3] if candidates else None


def _legacy_error(result: ValidationResult, spec: ModuleSpec, raw: Mapping[str, Any]) -> str | None:
    """The first Get-AnsibleParam failure, in the order the .ps1 reads its options."""
    order = spec.order
    candidates: list[tuple[int, str]] = []

    def pos(name: str) -> int:
        return order.index(name) if name in order else len(order)

    for err in result.errors.errors:
        body, _, fields = _split(err)
        if isinstance(err, (RequiredError, RequiredIfError)):
            for name in body.rsplit(": ", 1)[1].split(", "):
                candidates.append((pos(name), f"Get-AnsibleParam: Missing required argument: {name}"))
        elif isinstance(err, ArgumentValueError):
            m = _VALUE_ONE_RE.match(body) or _VALUE_MANY_RE.match(body)
            name = m.group("name") if m else ""
            opt = spec.options.get(name, {})
            shown = name
            if name not in raw:  # Get-AnsibleParam reports the alias it found the value under
                shown = next((a for a in opt.get("aliases") or [] if a in raw), name)
            value = raw.get(shown)
            got = "" if value is None else net_str(value)
            choices = ",".join(net_str(c) for c in opt.get("choices") or [])
            candidates.append(
                (pos(name), f"Get-AnsibleParam: Argument {shown} needs to be one of {choices} but was {got}.")
            )
        elif isinstance(err, ArgumentTypeError) and fields:
            name, detail = fields["name"], fields["err"]
            if detail == "LEGACY-NOT-A-LIST":
                candidates.append((pos(name), f"Get-AnsibleParam: Parameter '{name}' is not a YAML list."))
            elif detail.startswith("LEGACY-INVALID-PATH:"):
                value = detail.split(":", 1)[1]
                candidates.append(
                    (pos(name), f"Get-AnsibleParam: Parameter '{name}' has an invalid path '{value}' specified.")
                )
            else:
                candidates.append((pos(name), body))
        elif not isinstance(err, UnsupportedError):
            candidates.append((len(order), body))
    return min(candidates)[1] if candidates else None


# --------------------------------------------------------------------------------------------
# entry point


def validate(
    spec: ModuleSpec, args: Mapping[str, Any], internal: Mapping[str, Any], env: Mapping[str, str]
) -> Validation:
    """Validate user ``args`` (``internal`` holds the ``_ansible_*`` keys) as the real module would."""
    module_name = str(internal.get("_ansible_module_name") or spec.fqcn)
    options = dict(spec.options)
    if spec.accept_unknown_as_raw:
        for key in args:
            if not key.startswith("_") and key not in options:
                options[key] = {"type": "raw"}
    legal = _legal_inputs(options)
    raw = _fix_case(copy.deepcopy(dict(args)), legal)
    view = _with_alias_copies(raw, options)
    no_log_values = _no_log_values(view, options) if spec.flavour == FLAVOUR_BASIC else []
    unsupported = [k for k in raw if k not in legal]
    outcome = Validation(params=view, no_log_values=no_log_values, module_name=module_name)

    if spec.flavour == FLAVOUR_BASIC and unsupported:
        outcome.error = (
            f"Unsupported parameters for ({module_name}) module: {', '.join(unsupported)}. "
            f"Supported parameters include: {', '.join(legal)}"
        )
        return outcome
    for key in unsupported:  # Get-AnsibleParam never looks at keys it does not ask for
        raw.pop(key)
    check_mode = internal.get("_ansible_check_mode")
    if (check_mode is True or net_str(check_mode).lower() in _BOOLEANS_TRUE) and not spec.supports_check_mode:
        outcome.skipped = True
        return outcome

    _normalise_choices(raw, options)
    converters = _basic_types(env) if spec.flavour == FLAVOUR_BASIC else _legacy_types(env)
    validator = ArgumentSpecValidator(
        _validator_spec(options, converters),
        mutually_exclusive=spec.mutually_exclusive or None,
        required_together=spec.required_together or None,
        required_one_of=spec.required_one_of or None,
        required_if=spec.required_if or None,
        required_by=spec.required_by or None,
    )
    result = validator.validate(raw)
    validated = result.validated_parameters
    if spec.flavour == FLAVOUR_BASIC:
        outcome.error = _basic_error(result, options, validated, module_name)
    else:
        outcome.error = _legacy_error(result, spec, raw)
    if outcome.error is None:
        outcome.params = validated
    return outcome
