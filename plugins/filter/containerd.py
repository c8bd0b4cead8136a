# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the containerd role: render its files, read what ``ctr`` prints, check the pause source.

Thin wrappers over ``plugins/module_utils/containerd_config.py`` and ``containerd_runtime.py``;
every ValueError becomes an AnsibleFilterError naming the filter. Documentation: one ``<filter>.yml``
sidecar per filter in this directory.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Mapping, Optional

from ansible_collections.winkube.node.plugins.module_utils import containerd_config as _config
from ansible_collections.winkube.node.plugins.module_utils import containerd_runtime as _runtime
from ansible_collections.winkube.node.plugins.plugin_utils.filters import knowledge_filter


@knowledge_filter("containerd_config")
def containerd_config(
    plan: Any, extra: Optional[Any] = None, registry_config_path: str = _config.DEFAULT_REGISTRY_CONFIG_PATH
) -> str:
    """config.toml text for the plan's containerd, with ``extra`` deep-merged."""
    settings = _config.settings_from_plan(plan, registry_config_path)
    return _config.render_config(settings, extra or None)


@knowledge_filter("containerd_hosts_toml")
def containerd_hosts_toml(mirrors: Any, capabilities: Any = ("pull", "resolve")) -> List[Dict[str, str]]:
    """One ``{registry, directory, content}`` per registry with mirrors."""
    if isinstance(capabilities, str) or not isinstance(capabilities, (list, tuple)):
        raise ValueError(f"capabilities must be a list, got {capabilities!r}")
    return [
        {"registry": f.registry, "directory": f.directory, "content": f.content}
        for f in _config.hosts_files(mirrors, capabilities)
    ]


@knowledge_filter("containerd_pause_source")
def containerd_pause_source(plan: Any) -> Dict[str, Any]:
    """Whether the plan's pause image comes from where its profile requires."""
    if not isinstance(plan, Mapping):
        raise ValueError(f"winkube_plan is a {type(plan).__name__}, not a mapping; run winkube.node.preflight first")
    result = _runtime.check_pause_source(
        plan.get("pause_image"), plan.get("pause_image_profile"), plan.get("pause_image_source")
    )
    return {"ok": result.ok, "reason": result.reason}


@knowledge_filter("ctr_images")
def ctr_images(text: Any) -> List[Dict[str, Any]]:
    """The rows of ``ctr images ls``."""
    return [
        {
            "ref": i.ref,
            "type": i.media_type,
            "digest": i.digest,
            "size": i.size,
            "platforms": list(i.platforms),
            "labels": dict(i.labels),
        }
        for i in _runtime.parse_ctr_images(text)
    ]


@knowledge_filter("ctr_version")
def ctr_version(text: Any) -> Dict[str, Any]:
    """``ctr version``: client and server versions, each also as a plain X.Y.Z release."""
    parsed = _runtime.parse_ctr_version(text)
    server = parsed.server_version
    return {
        "client_version": parsed.client_version,
        "client_release": _runtime.release_of(parsed.client_version),
        "client_revision": parsed.client_revision,
        "server_version": server,
        "server_release": _runtime.release_of(server) if server else None,
        "server_revision": parsed.server_revision,
        "server_uuid": parsed.server_uuid,
    }


class FilterModule:
    """winkube.node filters for the containerd role."""

    def filters(self) -> Dict[str, Callable[..., Any]]:
        return {
            "containerd_config": containerd_config,
            "containerd_hosts_toml": containerd_hosts_toml,
            "containerd_pause_source": containerd_pause_source,
            "ctr_images": ctr_images,
            "ctr_version": ctr_version,
        }
