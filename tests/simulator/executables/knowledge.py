"""The collection's knowledge base (``plugins/module_utils``) as the simulator uses it.

The simulated tools must behave like the real ones, and the collection's pure-Python knowledge
layer already encodes the facts both sides need (containerd's Windows manifest matcher per
version, known releases, default sandbox images, kubeadm's default pause). Importing it keeps one
source of truth; a mismatch between the simulator and the collection would otherwise hide bugs.

The modules import each other as ``ansible_collections.winkube.node...``, so Ansible's collection
finder must be active (``make setup`` links the checkout under ``.collections``), as in
``tests/unit/conftest.py``. It is installed only when nothing else installed one.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType

from tests.simulator.host import SimulatorError

_PREFIX = "ansible_collections.winkube.node.plugins.module_utils."
REPO_ROOT = Path(__file__).resolve().parents[3]


def _ensure_finder() -> None:
    """Install Ansible's collection finder (once) before the first import: a failed import would
    leave a plain namespace ``ansible_collections`` in ``sys.modules`` that the finder cannot fix."""
    from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder

    if any(isinstance(f, _AnsibleCollectionFinder) for f in sys.meta_path):
        return
    root = REPO_ROOT / ".collections"
    if not (root / "ansible_collections" / "winkube" / "node").is_dir():
        raise SimulatorError(f"{root}/ansible_collections/winkube/node is missing: run `make setup`")
    _AnsibleCollectionFinder(paths=[str(root)])._install()


def module(name: str) -> ModuleType:
    """``plugins/module_utils/<name>.py`` of this checkout."""
    _ensure_finder()
    try:
        return importlib.import_module(_PREFIX + name)
    except ImportError as exc:
        raise SimulatorError(
            f"cannot import the collection's module_utils.{name} ({exc}); the installed Ansible collection "
            "finder must see this checkout as winkube.node"
        ) from exc


def parse_version(text: str):  # -> versions.Version
    return module("versions").parse_version(text.lstrip("v"), "version")


def select_manifest(host_os_version: str, manifests: list[dict], containerd_version: str) -> dict | None:
    """containerd's choice among index entries on this host (None: "no match for platform").
    Raises ValueError for a containerd line whose matcher the knowledge base does not model."""
    images = module("images")
    return images.select_manifest(host_os_version, manifests, parse_version(containerd_version))


def known_containerd_releases() -> list[str]:
    return [str(r.version) for r in module("containerd").KNOWN_CONTAINERD_RELEASES]


def default_sandbox_image(containerd_version: str) -> str:
    v = parse_version(containerd_version)
    table = module("containerd").DEFAULT_SANDBOX_IMAGE
    try:
        return table[(v.major, v.minor)]
    except KeyError:
        raise SimulatorError(f"no default sandbox image known for containerd {containerd_version}") from None


def kubeadm_default_pause_tag(kubernetes_version: str) -> str:
    return module("pause").kubeadm_default_pause(parse_version(kubernetes_version)).tag


def default_kubernetes_version() -> str:
    return str(module("kubernetes").DEFAULT_KUBERNETES_VERSION)
