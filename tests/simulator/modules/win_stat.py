"""ansible.windows.win_stat (win_stat.ps1). Links, junctions and shares are not modelled."""

from __future__ import annotations

from typing import Any

from tests.simulator.host import FileEntry, WindowsHost

from ._core import ModuleRun, emulates
from ._winutil import checksum, leaf

_OWNER = "BUILTIN\\Administrators"  # owner of what an elevated WinRM user creates


def attributes(entry: FileEntry) -> list[str]:
    """FileAttributes as Windows reports them: files get Archive, directories Directory."""
    if entry.attributes:
        return list(entry.attributes)
    return ["Directory"] if entry.is_dir else ["Archive"]


def stat(host: WindowsHost, entry: FileEntry, get_checksum: bool, get_size: bool, algorithm: str) -> dict[str, Any]:
    attrs = attributes(entry)
    name = leaf(entry.path)
    info: dict[str, Any] = {
        "exists": True,
        "attributes": ", ".join(attrs),
        "isarchive": "Archive" in attrs,
        "isdir": entry.is_dir,
        "ishidden": "Hidden" in attrs,
        "isjunction": False,
        "islnk": False,
        "isreadonly": "ReadOnly" in attrs,
        "isreg": not entry.is_dir,
        "isshared": False,
        "nlink": 1,
        "hlnk_targets": [],
        "creationtime": entry.mtime,
        "lastaccesstime": entry.mtime,
        "lastwritetime": entry.mtime,
        "path": entry.path,
        "filename": name,
        "owner": _OWNER,
    }
    if entry.is_dir:
        if get_size:
            info["size"] = sum(e.size for e in host.walk(entry.path) if not e.is_dir)
    else:
        info["extension"] = "." + name.rsplit(".", 1)[1] if "." in name else ""
        if get_checksum:
            info["checksum"] = checksum(entry.data, algorithm)
        if get_size:
            info["size"] = entry.size
    return info


@emulates("ansible.windows.win_stat")
def win_stat(run: ModuleRun) -> None:
    p = run.params
    run.result["stat"] = {"exists": False}
    entry = run.host.get(p["path"])
    if entry is not None:
        run.result["stat"] = stat(run.host, entry, p["get_checksum"], p["get_size"], p["checksum_algorithm"])
