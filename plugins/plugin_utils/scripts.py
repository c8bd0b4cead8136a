# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The small read-only PowerShell probes this collection ships.

They live as real ``.ps1`` files next to this module so that CI parses every one of them
(tools/ps_syntax_check.py); action plugins send their text through ansible.windows.win_powershell.
"""

from __future__ import annotations

import functools
import os

_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "powershell")


@functools.lru_cache(maxsize=None)
def probe_script(name: str) -> str:
    """Return the text of ``powershell/<name>.ps1``; an unknown name is a programming error."""
    path = os.path.join(_DIR, name + ".ps1")
    with open(path, encoding="utf-8") as handle:
        return handle.read()
