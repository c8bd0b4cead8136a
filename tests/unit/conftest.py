# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Make ``ansible_collections.winkube.node`` importable for plain ``pytest tests/unit``.

The checkout is linked as ``<repo>/.collections/ansible_collections/winkube/node`` (``make setup``).
The ``ansible_collections`` package in site-packages holds ansible.windows & co; a plain sys.path
entry would have to merge with it as a namespace package. Ansible's own collection finder is made
for exactly this: it takes several collection roots, scans sys.path for the others, and is what
ansible-playbook itself uses, so the tests import plugins the way Ansible does.
"""

from __future__ import annotations

from pathlib import Path

from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder

REPO_ROOT = Path(__file__).resolve().parents[2]
COLLECTIONS_ROOT = REPO_ROOT / ".collections"
COLLECTION_LINK = COLLECTIONS_ROOT / "ansible_collections" / "winkube" / "node"


def _install_collection_finder() -> None:
    if not COLLECTION_LINK.is_dir():
        raise RuntimeError(f"{COLLECTION_LINK} is missing: run `make setup` to link this checkout as winkube.node")
    # scan_sys_paths (the default) keeps site-packages' ansible_collections (ansible.windows, ...) visible.
    _AnsibleCollectionFinder(paths=[str(COLLECTIONS_ROOT)])._install()


_install_collection_finder()
