# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pause (sandbox) image a node's runtime is configured with now, read from its own configuration.

Controller only (Python 3.11's tomllib). Preflight reports a node configured with another pause image
than the planned one before anything changes (issue 7); the runtime role then rewrites the setting.

* containerd: config.toml, parsed as TOML, at the key each schema uses (module_utils/containerd_config.py):
  ``version = 2`` (1.x) ``plugins."io.containerd.grpc.v1.cri".sandbox_image``; ``version = 3`` (2.x)
  ``plugins."io.containerd.cri.v1.images".pinned_images.sandbox``. A file without a version is schema 1,
  which keeps the CRI plugin's settings as version 2 does (containerd docs/PLUGINS.md, config version 1).
* cri-dockerd: ``--pod-infra-container-image`` in the arguments nssm keeps for the service.

A file that is not TOML, or sets the key to something other than a string, is reported as such rather
than read as "no pause image": the caller decides; nothing here guesses.
"""

from __future__ import annotations

import re
import tomllib
from typing import Any, Mapping, Optional

from ansible_collections.winkube.node.plugins.module_utils.containerd_config import CRI_IMAGES, CRI_V2

_INFRA_FLAG_RE = re.compile(r"(?:^|\s)--pod-infra-container-image(?:=|\s+)(\"[^\"]*\"|\S+)")


def _get(doc: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(doc, Mapping):
            return None
        doc = doc.get(key)
    return doc


def containerd_sandbox_image(text: Any) -> Optional[str]:
    """The sandbox image config.toml sets, or None when it sets none (or ``text`` is empty: no file)."""
    if text is None or text == "":
        return None
    if not isinstance(text, str):
        raise ValueError(f"config.toml must be text, got {type(text).__name__}")
    try:
        doc = tomllib.loads(text.lstrip("\ufeff"))
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"config.toml is not valid TOML ({exc})") from None
    version = doc.get("version", 1)
    if version in (1, 2):
        value = _get(doc, "plugins", CRI_V2, "sandbox_image")
    elif version == 3:
        value = _get(doc, "plugins", CRI_IMAGES, "pinned_images", "sandbox")
    else:
        raise ValueError(f"config.toml has version = {version!r}; this collection reads versions 1, 2 and 3")
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"config.toml sets the sandbox image to a {type(value).__name__}, not a string: {value!r}")
    return value or None


def cri_dockerd_pause_image(arguments: Any) -> Optional[str]:
    """The ``--pod-infra-container-image`` value in cri-dockerd's service arguments, or None."""
    if arguments is None or arguments == "":
        return None
    if not isinstance(arguments, str):
        raise ValueError(f"the cri-dockerd arguments must be text, got {type(arguments).__name__}")
    found = _INFRA_FLAG_RE.findall(arguments)
    if not found:
        return None
    # The flag given last wins, as with any repeated Go flag.
    return found[-1].strip('"') or None
