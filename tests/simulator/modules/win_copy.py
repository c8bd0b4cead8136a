"""ansible.windows.win_copy (win_copy.ps1, a Legacy module driven by the win_copy action plugin).

The action plugin (plugins/action/win_copy.py) calls the module in one of four ``_copy_mode``\\ s
(winrm-wire-format §2.3): ``query`` (which of these local files/directories differ from dest?),
``single`` (one file already uploaded to ``<tmp>\\source`` goes to dest), ``explode`` (a zip of
several files, entry names base64-encoded by the plugin, is extracted under dest) and ``remote``
(``remote_src: true``: everything happens on the host). win_template renders on the controller
and then runs the same action, so it needs nothing of its own.
"""

from __future__ import annotations

import base64
import datetime
import io
import zipfile
from typing import Any

from tests.simulator.host import WindowsHost

from ._core import ModuleRun, emulates
from ._winutil import checksum, ends_with_separator, join_path, leaf, parent_dir
from .argspec import SpecOverrides

_OVERRIDES = SpecOverrides(
    # Internal options win_copy.ps1 reads (Get-AnsibleParam) that only the action plugin sends.
    options={
        "_copy_mode": {"type": "str", "default": "single", "choices": ["explode", "query", "remote", "single"]},
        "_original_basename": {"type": "str"},
        "files": {"type": "list"},
        "directories": {"type": "list"},
    },
    # win_copy.ps1: src is -failifempty ($copy_mode -in @("explode", "process", "single")).
    required_if=[["_copy_mode", "single", ["src"]], ["_copy_mode", "explode", ["src"]]],
    # Documented but never read by win_copy.ps1 (the action plugin consumes them), so ignored.
    drop_options=("content", "decrypt", "local_follow", "remote_src"),
)


def file_checksum(host: WindowsHost, path: str) -> str:
    """Legacy.psm1 Get-FileChecksum: sha1 of a file, "3" for a directory, "1" when missing."""
    entry = host.get(path)
    if entry is None:
        return "1"
    return "3" if entry.is_dir else checksum(entry.data, "sha1")


def backup_file(run: ModuleRun, path: str) -> str | None:
    """Backup.psm1 Backup-File: ``<path>.<pid>.<yyyyMMdd-HHmmss>.bak`` next to an existing file."""
    host = run.host
    entry = host.get(path)
    if entry is None or entry.is_dir:
        return None
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%d-%H%M%S")
    backup = f"{path}.{run.pseudo_pid()}.{stamp}.bak"
    if not run.check_mode:
        host.write_file(backup, entry.data)
    return backup


def _copy_file(run: ModuleRun, source: str, dest: str, force: bool, backup: bool) -> dict[str, Any]:
    """win_copy.ps1 Copy-File (remote mode): returns the diff text and the source checksum."""
    host = run.host
    diff = ""
    copy = False
    source_sum = file_checksum(host, source) if force else None
    if host.isdir(dest):
        run.fail(f"cannot copy file from '{source}' to '{dest}': dest is already a folder")
    elif host.exists(dest):
        if force and file_checksum(host, dest) != source_sum:
            copy = True
    else:
        copy = True
    if copy:
        folder = parent_dir(dest)
        if host.exists(folder) and not host.isdir(folder):
            run.fail(f"cannot copy file from '{source}' to '{dest}': object at dest parent dir is not a folder")
        elif not host.exists(folder):
            if not run.check_mode:
                host.mkdir(folder)
            diff += f"+{folder}\\\n"
        if backup:
            run.result["backup_file"] = backup_file(run, dest)
        if host.exists(dest):
            diff += f"-{dest}\n"
        if not run.check_mode:
            host.write_file(dest, host.read_file(source))
        diff += f"+{dest}\n"
        run.result["changed"] = True
    return {"diff": diff, "checksum": source_sum}


def _copy_folder(run: ModuleRun, source: str, dest: str, force: bool, backup: bool) -> str:
    host = run.host
    diff = ""
    if not host.isdir(dest):
        folder = parent_dir(dest)
        if host.exists(folder) and not host.isdir(folder):
            run.fail(f"cannot copy file from '{source}' to '{dest}': object at dest parent dir is not a folder")
        if host.exists(dest):
            run.fail(f"cannot copy folder from '{source}' to '{dest}': dest is already a file")
        if not run.check_mode:
            host.mkdir(dest)
        diff += f"+{dest}\\\n"
        run.result["changed"] = True
    for child in host.listdir(source):
        name = leaf(child.path)
        target = join_path(dest, name)
        if child.is_dir:
            diff += _copy_folder(run, child.path, target, force, backup)
        else:
            diff += _copy_file(run, child.path, target, force, backup)["diff"]
    return diff


def _size(host: WindowsHost, path: str) -> int:
    """Get-FileSize: a file's length, or the sum of every file under a directory."""
    entry = host.get(path)
    if entry is None:
        return 0
    if not entry.is_dir:
        return entry.size
    return sum(e.size for e in host.walk(path) if not e.is_dir)


def _query(run: ModuleRun) -> None:
    host, p = run.host, run.params
    dest, force = p["dest"], p["force"]
    changed_files: list[Any] = []
    changed_dirs: list[Any] = []
    for item in p["files"] or []:
        filename = item["dest"]
        target = join_path(dest, filename)
        if host.isdir(target):
            filename = join_path(filename, leaf(item["src"]))
            target = join_path(dest, filename)
        if host.exists(target) and not host.isdir(target):
            if force and file_checksum(host, target) != item.get("checksum"):
                changed_files.append(item)
        elif host.isdir(target):
            run.fail(f"cannot copy file to dest '{target}': object at path is already a directory")
        else:
            changed_files.append(item)
    for item in p["directories"] or []:
        target = join_path(dest, item["dest"])
        folder = parent_dir(target)
        if host.exists(folder) and not host.isdir(folder):
            run.fail(f"cannot copy folder to dest '{target}': object at parent directory path is already a file")
        if host.exists(target) and not host.isdir(target):
            run.fail(f"cannot copy folder to dest '{target}': object at path is already a file")
        elif not host.isdir(target):
            changed_dirs.append(item)
    run.result["files"] = changed_files
    run.result["directories"] = changed_dirs
    run.result["symlinks"] = []


def _explode(run: ModuleRun) -> None:
    host, p = run.host, run.params
    src, dest = p["src"], p["dest"]
    if not (host.exists(src) and not host.isdir(src)):
        run.fail(f"Cannot expand src zip file: '{src}' as it does not exist")
    with zipfile.ZipFile(io.BytesIO(host.read_file(src))) as archive:
        for info in archive.infolist():
            name = info.filename
            # Base64 names have a length of 4n; a directory entry's trailing / makes it 4n+1.
            is_dir = len(name) % 4 == 1
            if len(name) % 4 > 1:
                run.unhandled(f"invalid base64 length '{name}'")
            if is_dir and not name.endswith(("/", "\\")):
                run.unhandled(f"invalid base64 archive name '{name}'")
            decoded = base64.b64decode(name[:-1] if is_dir else name).decode("utf-8")
            target = join_path(dest, decoded.replace("/", "\\")) + ("\\" if is_dir else "")
            folder = parent_dir(target.rstrip("\\")) if not is_dir else target.rstrip("\\")
            if not host.exists(folder) and not run.check_mode:
                host.mkdir(folder)
            if not is_dir and not run.check_mode:
                host.write_file(target, archive.read(info))
    run.result["changed"] = True


def _remote(run: ModuleRun) -> None:
    host, p = run.host, run.params
    src, dest, force, backup = p["src"], p["dest"], p["force"], p["backup"]
    run.result["src"] = src
    run.result["dest"] = dest
    if src is None or not host.exists(src):
        run.fail(f"Cannot copy src file: '{src}' as it does not exist")
    remote_dest = dest
    diff = ""
    if host.isdir(src):
        run.result["operation"] = "folder_copy"
        if ends_with_separator(src):
            for child in host.listdir(src):
                target = join_path(dest, leaf(child.path))
                if child.is_dir:
                    diff += _copy_folder(run, child.path, target, force, backup)
                else:
                    diff += _copy_file(run, child.path, target, force, backup)["diff"]
        else:
            remote_dest = join_path(dest, leaf(host.get(src).path))  # type: ignore[union-attr]
            run.result["dest"] = remote_dest
            diff = _copy_folder(run, src, remote_dest, force, backup)
    else:
        run.result["operation"] = "file_copy"
        basename = leaf(host.get(src).path)  # type: ignore[union-attr]
        run.result["original_basename"] = basename
        if ends_with_separator(dest) or host.isdir(dest):
            remote_dest = join_path(dest, basename)
        run.result["dest"] = remote_dest
        folder = parent_dir(remote_dest)
        if host.exists(folder) and not host.isdir(folder):
            run.fail(f"object at destination parent dir '{folder}' is currently a file")
        elif not host.isdir(folder):
            if dest == remote_dest:
                run.fail(f"Destination directory '{folder}' does not exist")
            host.mkdir(folder)
        copied = _copy_file(run, src, remote_dest, force, backup)
        diff = copied["diff"]
        run.result["checksum"] = copied["checksum"]
    if not run.check_mode or (host.exists(remote_dest) and not host.isdir(remote_dest)):
        run.result["size"] = _size(host, remote_dest)
    else:
        run.result["size"] = None
    if run.diff_mode:
        run.result["diff"]["prepared"] = diff


def _single(run: ModuleRun) -> None:
    host, p = run.host, run.params
    src, dest = p["src"], p["dest"]
    if not (host.exists(src) and not host.isdir(src)):
        run.fail(f"Cannot copy src file: '{src}' as it does not exist")
    remote_dest = dest
    if ends_with_separator(dest) or host.isdir(dest):
        remote_dest = join_path(dest, p["_original_basename"] or "")
    folder = parent_dir(remote_dest)
    if host.exists(folder) and not host.isdir(folder):
        run.fail(f"object at destination parent dir '{folder}' is currently a file")
    elif not host.isdir(folder):
        if dest == remote_dest:
            run.fail(f"Destination directory '{folder}' does not exist")
        host.mkdir(folder)
    if p["backup"]:
        run.result["backup_file"] = backup_file(run, remote_dest)
    host.write_file(remote_dest, host.read_file(src))  # Copy-Item runs even in check mode, as in the .ps1
    run.result["changed"] = True


_MODES = {"query": _query, "explode": _explode, "remote": _remote, "single": _single}


@emulates("ansible.windows.win_copy", _OVERRIDES)
def win_copy(run: ModuleRun) -> None:
    if run.diff_mode:
        run.result["diff"] = {}
    _MODES[run.params["_copy_mode"]](run)
