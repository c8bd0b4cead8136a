"""ansible.windows.slurp (slurp.ps1, a Legacy module)."""

from __future__ import annotations

import base64

from ._core import ModuleRun, emulates


@emulates("ansible.windows.slurp")
def slurp(run: ModuleRun) -> None:
    src = run.params["src"]
    entry = run.host.get(src)
    if entry is not None and not entry.is_dir:
        run.result["content"] = base64.b64encode(entry.data).decode("ascii")
        run.result["encoding"] = "base64"
    elif entry is not None:
        run.fail(f"Path {src} is a directory")
    else:
        run.fail(f"Path {src} is not found")
