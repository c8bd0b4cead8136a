"""ansible.windows.win_reg_stat (Legacy) and win_regedit (Ansible.Basic) over the host registry.

Registry values live in ``host.registry`` as ``(kind, data)`` with the ``RegistryValueKind`` names
(``String``, ``ExpandString``, ``Binary``, ``DWord``, ``QWord``, ``MultiString``, ``None``); binary
data is a list of ints so the state dump stays JSON. DWORD/QWORD data is kept unsigned, which is
how both modules report it. Loading hive files (win_regedit ``hive``) is not emulated.
"""

from __future__ import annotations

import re
from typing import Any

from tests.simulator.host import SimulatorError, WindowsHost, expand_env

from ._core import ModuleRun, emulates
from ._winutil import net_str

_PS_DRIVE = re.compile(r"^HK(CC|CR|CU|LM|U):\\", re.I)

_KINDS = {
    "string": "String",
    "reg_sz": "String",
    "expandstring": "ExpandString",
    "reg_expand_sz": "ExpandString",
    "binary": "Binary",
    "reg_binary": "Binary",
    "dword": "DWord",
    "reg_dword": "DWord",
    "qword": "QWord",
    "reg_qword": "QWord",
    "multistring": "MultiString",
    "reg_multi_sz": "MultiString",
    "none": "None",
    "reg_none": "None",
}
_REG_NAMES = {
    "Binary": "REG_BINARY",
    "String": "REG_SZ",
    "DWord": "REG_DWORD",
    "QWord": "REG_QWORD",
    "MultiString": "REG_MULTI_SZ",
    "ExpandString": "REG_EXPAND_SZ",
    "None": "REG_NONE",
}


def kind_of(value: tuple[str, Any]) -> str:
    """The RegistryValueKind name of a stored value (seeds may say REG_SZ or string)."""
    kind = _KINDS.get(str(value[0]).lower())
    if kind is None:
        raise SimulatorError(f"registry value kind {value[0]!r} is not a RegistryValueKind")
    return kind


def _bytes(data: Any) -> list[int]:
    if isinstance(data, (bytes, bytearray)):
        return list(data)
    return [int(b) for b in data or []]


# --------------------------------------------------------------------------------------------
# win_reg_stat


def _property(host: WindowsHost, name: str, value: tuple[str, Any]) -> dict[str, Any]:
    """win_reg_stat.ps1 Get-PropertyValue."""
    kind = "String" if name == "" else kind_of(value)
    data = value[1]
    raw: Any = data
    if kind in ("Binary", "None"):
        data = _bytes(data)
        raw = [f"0x{b:02x}" for b in data]
    elif kind == "DWord":
        data = raw = int(data) & 0xFFFFFFFF
    elif kind == "QWord":
        data = raw = int(data) & 0xFFFFFFFFFFFFFFFF
    elif kind == "ExpandString":
        data = expand_env(str(data), host.environment())  # GetValue expands, DoNotExpandEnvironmentNames does not
    elif kind == "MultiString":
        data = raw = [str(v) for v in data or []]
    return {"type": _REG_NAMES[kind], "value": data, "raw_value": raw}


@emulates("ansible.windows.win_reg_stat")
def win_reg_stat(run: ModuleRun) -> None:
    host, p = run.host, run.params
    path, name = p["path"], p["name"]
    if not _PS_DRIVE.match(path):
        run.fail(f"path: {path} is not a valid registry path, see module documentation for examples.")
    if not host.reg_key_exists(path):
        run.result["exists"] = False
        return
    if name is None:
        run.result["exists"] = True
        run.result["properties"] = {n: _property(host, n, v) for n, v in host.reg_values(path).items()}
        run.result["sub_keys"] = host.reg_subkeys(path)
        return
    found = host.get_reg(path, name)
    run.result["exists"] = found is not None
    if found is not None:
        run.result.update(_property(host, name, found))


# --------------------------------------------------------------------------------------------
# win_regedit


def _hex_bytes(text: str) -> list[int]:
    """win_regedit.ps1 Convert-RegExportHexStringToByteArray ('hex:be,ef' / 'beef' / 'be:ef')."""
    s = re.sub(r"^hex:", "", text.lower())
    s = re.sub(r"[^a-f0-9\\,x\-:]", "", s).replace(",", ":")
    if not s:
        return []
    if len(s) == 1:
        return [int(s, 16)]
    if len(s) % 2 == 0 and ":" not in s:
        return [int(s[i : i + 2], 16) for i in range(0, len(s), 2)]
    if ":" in s:
        return [int(part, 16) for part in re.split(r":+", s) if part]
    return []


def _as_uint64(run: ModuleRun, data: Any) -> int:
    if isinstance(data, bool):
        return int(data)
    if isinstance(data, int):
        return data
    if isinstance(data, float):
        if data % 1:
            run.fail(f"data '{data}' cannot be a decimal or float value with a remainder when type is dword or qword")
        return int(data)
    text = str(data).strip()
    try:
        return int(text, 16) if text.lower().startswith("0x") else int(text)  # [UInt64]$data
    except ValueError:
        run.unhandled(
            f'Cannot convert value "{data}" to type "System.UInt64". Error: "Input string was not in a correct format."'
        )


def _convert(run: ModuleRun, kind: str, data: Any, name: str | None) -> Any:
    """The data conversion block of win_regedit.ps1, per target type."""
    if kind in ("binary", "none"):
        if data is None:
            data = ""
        if isinstance(data, str):
            return _hex_bytes(data)
        if isinstance(data, int) and not isinstance(data, bool):
            if data > 255:
                run.fail(
                    f"cannot convert binary data '{data}' to byte array, please specify this value as a yaml byte "
                    "array or a comma separated hex value string"
                )
            return [data]
        return _bytes(data)
    if kind in ("dword", "qword"):
        number = 0 if data is None else _as_uint64(run, data)
        limit = 0xFFFFFFFF if kind == "dword" else 0xFFFFFFFFFFFFFFFF
        if number > limit or number < 0:
            run.fail(f"data cannot be larger than 0x{limit:x} when type is {kind}")
        return number
    if kind in ("string", "expandstring"):
        if data is None:
            return "" if name else None
        return net_str(data)
    if kind == "multistring":
        if data is None:
            return []
        return [net_str(v) for v in data] if isinstance(data, list) else [net_str(data)]
    raise SimulatorError(f"win_regedit type {kind!r} is not handled")


def _diff_value(kind: str, data: Any) -> dict[str, Any]:
    """win_regedit.ps1 Get-DiffValue."""
    if kind in ("Binary", "None"):
        value: Any = [f"0x{b:02x}" for b in _bytes(data)]
    elif kind == "DWord":
        value = f"0x{int(data) & 0xFFFFFFFF:08x}"
    elif kind == "QWord":
        value = f"0x{int(data) & 0xFFFFFFFFFFFFFFFF:016x}"
    else:
        value = data
    return {"type": kind, "value": value}


def _differs(existing: Any, new: Any) -> bool:
    """Compare-RegistryProperty: arrays element by element (case-insensitive), scalars with -cne."""
    if isinstance(existing, list):
        new_list = new if isinstance(new, list) else [new]
        if len(existing) != len(new_list):
            return True
        return any(str(a).lower() != str(b).lower() for a, b in zip(existing, new_list, strict=True))
    if isinstance(existing, int) and isinstance(new, int):
        return existing != new
    return net_str(existing) != net_str(new)


def _stored(kind: str, data: Any) -> Any:
    if kind in ("Binary", "None"):
        return _bytes(data)
    if kind == "DWord":
        return int(data) & 0xFFFFFFFF
    if kind == "QWord":
        return int(data) & 0xFFFFFFFFFFFFFFFF
    return data


def _present(run: ModuleRun, path: str, name: str | None, data: Any, kind: str) -> None:
    host = run.host
    value_name = name or ""
    if not host.reg_key_exists(path):
        if not run.check_mode:
            host.create_reg_key(path)
        run.result["changed"] = True
        run.diff["before"], run.diff["after"] = {}, {path: {}}
        if run.check_mode:
            return
    else:
        run.diff["before"], run.diff["after"] = {path: {}}, {path: {}}
    if data is None:
        return
    existing = host.get_reg(path, value_name)
    if existing is not None:
        existing_kind = kind_of(existing)
        current = _stored(existing_kind, existing[1])
        change = False
        if kind != existing_kind:
            change = True
            run.result["data_type_changed"] = True
            if _differs(current, data):
                run.result["data_changed"] = True
        elif _differs(current, data):
            change = True
            run.result["data_changed"] = True
        if change:
            if not run.check_mode:
                host.set_reg(path, value_name, kind, data)
            run.result["changed"] = True
            run.diff["before"][path][value_name] = _diff_value(existing_kind, current)
            run.diff["after"][path][value_name] = _diff_value(kind, data)
        else:
            same = _diff_value(existing_kind, current)
            run.diff["before"][path][value_name] = same
            run.diff["after"][path][value_name] = same
    else:
        if not run.check_mode:
            host.set_reg(path, value_name, kind, data)
        run.result["changed"] = True
        run.diff["after"][path][value_name] = _diff_value(kind, data)


def _absent(run: ModuleRun, path: str, name: str | None, delete_key: bool) -> None:
    host = run.host
    if not host.reg_key_exists(path):
        return
    if delete_key and not name:
        if not run.check_mode:
            host.delete_reg(path)
        run.result["changed"] = True
        run.diff["before"], run.diff["after"] = {path: {}}, {}
        return
    existing = host.get_reg(path, name or "")
    if existing is None:
        return
    if not run.check_mode:
        host.delete_reg(path, name or "")
    run.result["changed"] = True
    kind = kind_of(existing)
    run.diff["before"] = {path: {name or "": _diff_value(kind, _stored(kind, existing[1]))}}
    run.diff["after"] = {path: {}}


@emulates("ansible.windows.win_regedit")
def win_regedit(run: ModuleRun) -> None:
    p = run.params
    path, name, kind = p["path"], p["name"], p["type"]
    run.result["data_changed"] = False
    run.result["data_type_changed"] = False
    run.diff["before"], run.diff["after"] = "", ""
    if name == "":
        name = None  # "" is the (Default) value
    if name is None and kind != "string":
        run.warn(
            "the data type when name is not specified can only be 'string', the type has automatically been converted"
        )
        kind = "string"
    if not _PS_DRIVE.match(path):
        run.fail(f"path: {path} is not a valid powershell path, see module documentation for examples.")
    data = _convert(run, kind, p["data"], name)
    if p["hive"]:
        raise SimulatorError("loading a registry hive file (win_regedit hive=) is not emulated")
    value_kind = _KINDS[kind]
    if p["state"] == "present":
        _present(run, path, name, data, value_kind)
    else:
        _absent(run, path, name, p["delete_key"])
