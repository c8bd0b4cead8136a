# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The conftest makes this checkout importable as winkube.node without hiding site-packages' collections."""

from __future__ import annotations

from pathlib import Path

import ansible_collections.ansible.windows.plugins.filter.quote as windows_quote
from ansible_collections.winkube.node.plugins.module_utils import versions

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_winkube_node_resolves_to_this_checkout() -> None:
    assert Path(versions.__file__).resolve() == REPO_ROOT / "plugins" / "module_utils" / "versions.py"


def test_site_packages_collections_stay_importable() -> None:
    assert "site-packages" in Path(windows_quote.__file__).resolve().parts
