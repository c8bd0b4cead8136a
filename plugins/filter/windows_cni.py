# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter of the windows_cni role: the kube-proxy and CNI manifests for Windows nodes.

A thin wrapper over ``plugins/module_utils/windows_cni.py``; every ValueError becomes an
AnsibleFilterError naming the filter. Documentation: ``windows_cni_manifests.yml`` beside this file.
"""

from __future__ import annotations

from typing import Any, Callable, Dict

from ansible_collections.winkube.node.plugins.module_utils import windows_cni as _windows_cni
from ansible_collections.winkube.node.plugins.plugin_utils.filters import knowledge_filter

_DEFAULT_PATHS = _windows_cni.WINDOWS_DEFAULT_PATHS


@knowledge_filter("windows_cni_manifests")
def windows_cni_manifests(
    cluster_version: Any,
    api_server: Any = None,
    *,
    cni: Any = "calico",
    calico_version: Any = None,
    service_cidr: Any = "10.96.0.0/12",
    pod_cidr: Any = None,
    images: Any = None,
    namespace: Any = "kube-system",
    backend: Any = "vxlan",
    cni_bin_dir: Any = _DEFAULT_PATHS["cni_bin_dir"],
    cni_conf_dir: Any = _DEFAULT_PATHS["cni_conf_dir"],
    include_cni: Any = True,
) -> Dict[str, Any]:
    """Manifests, images, versions, DaemonSets to wait for and prerequisites for a cluster version."""
    return _windows_cni.render(
        cluster_version,
        cni=cni,
        calico_version=calico_version,
        service_cidr=service_cidr,
        pod_cidr=pod_cidr,
        api_server=api_server,
        image_overrides=images,
        namespace=namespace,
        backend=backend,
        cni_bin_dir=cni_bin_dir,
        cni_conf_dir=cni_conf_dir,
        include_cni=include_cni,
    )


class FilterModule:
    """winkube.node filters for the Windows CNI."""

    def filters(self) -> Dict[str, Callable[..., Any]]:
        return {"windows_cni_manifests": windows_cni_manifests}
