"""ansible.windows.win_find (win_find.ps1, Ansible.Basic). Links, junctions, shares and ``age`` are not
modelled: a share never exists here, ``age`` fails loudly.

The flow is the ``.ps1``'s ``Search-Path``: each path is a ``DirectoryInfo`` (missing, or a file: a warning
and nothing found); every child is examined once (``examined``), a directory first searched into when
``recurse`` and ``depth`` allow it; a child matches when its type, hidden attribute, name patterns
(``-like`` wildcards, case-insensitive; or ``-match``/``-cmatch`` regexes with ``use_regex``) and size
pass; every match gets the whole ``$file_info`` table (``null`` where the ``.ps1`` leaves ``$null``), and
``files`` is sorted by path.
"""

from __future__ import annotations

import re
from typing import Any

from tests.simulator.host import FileEntry, SimulatorError, WindowsHost, normpath

from ._core import ModuleRun, emulates
from ._winutil import checksum, leaf
from .win_stat import attributes

_OWNER = "BUILTIN\\Administrators"  # owner of what an elevated WinRM user creates, as win_stat reports it
_SIZE_RE = re.compile(r"^(-?\d+)(b|k|m|g|t)?$", re.I)
_BYTES_PER_UNIT = {"b": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}


def like_pattern(pattern: str) -> re.Pattern[str]:
    """PowerShell ``-like`` (WildcardPattern, case-insensitive): ``*``, ``?``, ``[set]``/``[a-z]``, and the
    backtick escaping the next character; the whole name must match."""
    out, i = [], 0
    while i < len(pattern):
        c = pattern[i]
        if c == "`" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        if c == "*":
            out.append(".*")
        elif c == "?":
            out.append(".")
        elif c == "[" and "]" in pattern[i + 1 :]:
            end = pattern.index("]", i + 1)
            body = pattern[i + 1 : end]
            out.append("[" + "".join(ch if ch == "-" else re.escape(ch) for ch in body) + "]")
            i = end + 1
            continue
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("".join(out), re.I | re.S)


def _name_matches(name: str, patterns: list[str], use_regex: bool, case_sensitive: bool) -> bool:
    for pattern in patterns:
        if use_regex:
            if re.search(pattern, name, 0 if case_sensitive else re.I):
                return True
        elif like_pattern(pattern).fullmatch(name):
            return True
    return False


def _size_bound(text: str) -> int:
    m = _SIZE_RE.match(text)
    if m is None:
        raise ValueError("Invalid size pattern specified")
    return int(m.group(1)) * _BYTES_PER_UNIT[(m.group(2) or "b").lower()]


def _size_matches(entry: FileEntry, bound: int) -> bool:
    """Assert-FileSize. A DirectoryInfo has no Length: ``$null -ge N`` is false and ``$null -le N`` true, so
    a directory passes only an upper bound."""
    if entry.is_dir:
        return bound < 0
    return entry.size >= bound if bound >= 0 else entry.size <= -bound


def _file_info(entry: FileEntry, full_name: str, get_checksum: bool, algorithm: str) -> dict[str, Any]:
    attrs = attributes(entry)
    info: dict[str, Any] = {
        "attributes": ", ".join(attrs),
        "checksum": None,
        "creationtime": entry.mtime,
        "exists": True,
        "extension": None,
        "filename": leaf(entry.path),
        "isarchive": "Archive" in attrs,
        "isdir": entry.is_dir,
        "ishidden": "Hidden" in attrs,
        "isreadonly": "ReadOnly" in attrs,
        "isreg": False,
        "isshared": False,
        "lastaccesstime": entry.mtime,
        "lastwritetime": entry.mtime,
        "owner": _OWNER,
        "path": full_name,
        "sharename": None,
        "size": None,
    }
    if not entry.is_dir:
        name = info["filename"]
        info["extension"] = "." + name.rsplit(".", 1)[1] if "." in name else ""
        info["isreg"] = True
        info["size"] = entry.size
        if get_checksum:
            info["checksum"] = checksum(entry.data, algorithm)
    # The link information the .ps1 appends for every match (no links here).
    info.update(isjunction=False, islnk=False, nlink=1, lnk_source=None, lnk_target=None, hlnk_targets=[])
    return info


def _search(run: ModuleRun, path: str, depth: int, seen: set[str], size: int | None) -> list[dict[str, Any]]:
    host: WindowsHost = run.host
    p = run.params
    entry = host.get(path)
    if entry is None:
        run.warn(f"Argument path '{path}' does not exist or is not accessible, skipping")
        return []
    if not entry.is_dir:
        run.warn(f"Argument path '{path}' is a file not a directory, skipping")
        return []
    found: list[dict[str, Any]] = []
    for child in host.listdir(path):
        full_name = path.rstrip("\\") + "\\" + leaf(child.path)
        if child.is_dir and p["recurse"] and depth != 1:
            found.extend(_search(run, full_name, depth - 1, seen, size))
        if full_name.lower() in seen:
            continue
        seen.add(full_name.lower())
        run.result["examined"] += 1
        file_type = p["file_type"]
        type_match = file_type == "any" or (file_type == "directory") == child.is_dir
        hidden_match = p["hidden"] or "Hidden" not in attributes(child)
        pattern_match = p["patterns"] is None or _name_matches(
            leaf(child.path), p["patterns"], p["use_regex"], p["case_sensitive"]
        )
        size_match = size is None or _size_matches(child, size)
        if not (type_match and hidden_match and pattern_match and size_match):
            continue
        run.result["matched"] += 1
        found.append(_file_info(child, full_name, p["get_checksum"], p["checksum_algorithm"]))
    return found


@emulates("ansible.windows.win_find")
def win_find(run: ModuleRun) -> None:
    p = run.params
    run.result.update(examined=0, files=[], matched=0)
    if p["age"] is not None:
        raise SimulatorError("simulator: win_find age is not emulated (file times are not modelled)")
    size = None
    if p["size"] is not None:
        try:
            size = _size_bound(p["size"])
        except ValueError as exc:
            run.fail(str(exc))
    seen: set[str] = set()
    found: list[dict[str, Any]] = []
    for path in p["paths"]:
        # GetUnresolvedProviderPathFromPSPath: an absolute path, no %VAR% expansion (this is PowerShell).
        found.extend(_search(run, normpath(path), p["depth"] or 0, seen, size))
    run.result["files"] = sorted(found, key=lambda info: info["path"].lower())
