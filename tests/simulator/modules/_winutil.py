"""Small Windows/.NET behaviours the module emulations share.

Each function mirrors one specific Windows API or PowerShell cmdlet the real modules call, so the
emulations read like the ``.ps1`` they follow: ``Join-Path``, ``Split-Path -Leaf``,
``[IO.Path]::GetDirectoryName``, ``CommandLineToArgvW``, ``ConvertTo-EscapedArgument``, the .NET
``ToString()`` of deserialised JSON values and the hash helpers the modules use.
"""

from __future__ import annotations

import datetime
import hashlib
import re
from typing import Any

from tests.simulator.executables.cmdline import split as split_command_line

# Hash algorithms accepted by win_stat/win_get_url/win_copy (System.Security.Cryptography.*CryptoServiceProvider).
HASH_ALGORITHMS = ("md5", "sha1", "sha256", "sha384", "sha512")


def checksum(data: bytes, algorithm: str = "sha1") -> str:
    """Lower-case hex digest, as ``[BitConverter]::ToString(...).Replace('-', '').ToLower()``."""
    if algorithm not in HASH_ALGORITHMS:
        raise ValueError(f"Unsupported hash algorithm supplied '{algorithm}'")
    return hashlib.new(algorithm, data).hexdigest()


# --------------------------------------------------------------------------------------------
# paths as the cmdlets format them (lookups go through WindowsHost.norm, which is case-insensitive)


def join_path(parent: str, child: str) -> str:
    r"""``Join-Path -Path parent -ChildPath child``: exactly one ``\`` between the two parts."""
    if not parent:
        return child
    return parent.rstrip("\\/") + "\\" + child.lstrip("\\/")


def leaf(path: str) -> str:
    """``Split-Path -Path path -Leaf``: the last non-empty component."""
    parts = [p for p in re.split(r"[\\/]", path) if p]
    return parts[-1] if parts else ""


def parent_dir(path: str) -> str:
    r"""``[System.IO.Path]::GetDirectoryName(path)`` / ``Split-Path -LiteralPath``: ``C:\a\b`` → ``C:\a``,
    ``C:\a`` → ``C:\``; separators become ``\``."""
    p = path.replace("/", "\\")
    head = p.rstrip("\\").rsplit("\\", 1)[0] if "\\" in p.rstrip("\\") else ""
    if re.fullmatch(r"[A-Za-z]:", head):
        return head + "\\"
    return head


def ends_with_separator(path: str) -> bool:
    return path.endswith(("\\", "/"))


# --------------------------------------------------------------------------------------------
# values as .NET sees them after ConvertFrom-Json (PowerShell 5.1)


def net_type_name(python_type_name: str) -> str:
    """The .NET type a JSON value of this Python type becomes in ``$complex_args`` (what Ansible.Basic
    prints in "argument for X is of type ...")."""
    return {
        "str": "System.String",
        "bool": "System.Boolean",
        "int": "System.Int32",
        "float": "System.Decimal",
        "dict": "System.Collections.Hashtable",
        "list": "System.Object[]",
        "NoneType": "null",
    }.get(python_type_name, f"System.{python_type_name}")


def net_str(value: Any) -> str:
    """``value.ToString()`` for a deserialised JSON value (Ansible.Basic's ``ParseStr``)."""
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, dict):
        return "System.Collections.Hashtable"
    if isinstance(value, (list, tuple)):
        return "System.Object[]"
    return str(value)


# --------------------------------------------------------------------------------------------
# command lines (Ansible.Windows.Process / Process.psm1)


command_line_to_argv = split_command_line  # one CommandLineToArgvW for the whole simulator


def escape_argument(argument: str | None) -> str:
    """``ConvertTo-EscapedArgument`` from the collection's Process.psm1."""
    if not argument:
        return '""'
    if not re.search(r'[\s"]', argument):
        return argument
    argument = argument.replace('"', '\\"')
    argument = re.sub(r'(\\+)\\"', r'\1\1\\"', argument)
    argument = re.sub(r"(\\+)$", r"\1\1", argument)
    return f'"{argument}"'


# --------------------------------------------------------------------------------------------
# timestamps


def utc_stamp(moment: datetime.datetime) -> str:
    """``[DateTime]::UtcNow.ToString("yyyy-MM-dd HH:mm:ss.ffffff")`` (win_command start/end)."""
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


def timespan(delta: datetime.timedelta) -> str:
    r"""``TimeSpan.ToString("h\:mm\:ss\.ffffff")`` (win_command delta)."""
    total_us = int(delta.total_seconds() * 1_000_000)
    hours, rem = divmod(total_us, 3_600_000_000)
    minutes, rem = divmod(rem, 60_000_000)
    seconds, micro = divmod(rem, 1_000_000)
    return f"{hours}:{minutes:02d}:{seconds:02d}.{micro:06d}"
