"""ansible.windows.win_file (win_file.ps1, a Legacy module)."""

from __future__ import annotations

import time

from ._core import ModuleRun, emulates
from ._winutil import join_path, leaf, parent_dir
from .argspec import SpecOverrides

_OVERRIDES = SpecOverrides(
    # win_file.ps1 reads _original_basename (sent by win_copy/win_template when dest is a directory).
    options={"_original_basename": {"type": "str"}},
)


@emulates("ansible.windows.win_file", _OVERRIDES)
def win_file(run: ModuleRun) -> None:
    host, p = run.host, run.params
    path, state = p["path"], p["state"]
    if host.isdir(path) and p["_original_basename"] is not None:
        path = join_path(path, p["_original_basename"])

    if state == "touch":
        entry = host.get(path)
        if entry is not None:
            if not run.check_mode:
                entry.mtime = time.time()
        elif not run.check_mode:
            if not host.isdir(parent_dir(path)):
                run.unhandled(f"Could not find a part of the path '{path}'.")  # Out-File
            host.write_file(path, b"", make_parents=False)
        run.result["changed"] = True

    entry = host.get(path)
    if entry is not None:
        if state == "absent":
            if not run.check_mode:
                host.remove(path)
            run.result["changed"] = True
        elif state == "directory" and not entry.is_dir:
            run.fail(f"path {path} is not a directory")
        elif state == "file" and entry.is_dir:
            run.fail(f"path {path} is not a file")
        return

    if state is None:
        # No state: a path with a last component is taken for a file, which win_file never creates.
        state = "file" if leaf(path) else "directory"
    if state == "directory":
        if not run.check_mode:
            host.mkdir(path)  # New-Item -ItemType Directory creates the parents too
        run.result["changed"] = True
    elif state == "file":
        run.fail(f"path {path} will not be created")
