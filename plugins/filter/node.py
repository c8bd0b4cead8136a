# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters exposing the winkube.node knowledge base to playbooks.

Each filter is a thin wrapper: it parses its arguments with the knowledge modules in
``plugins/module_utils`` and converts the result into plain dicts, lists and strings.
Every ValueError from the knowledge base becomes an AnsibleFilterError that names the filter.
Documentation: one ``<filter>.yml`` sidecar per filter in this directory.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional

from ansible_collections.winkube.node.plugins.module_utils import containerd as _containerd
from ansible_collections.winkube.node.plugins.module_utils import downloads as _downloads
from ansible_collections.winkube.node.plugins.module_utils import images as _images
from ansible_collections.winkube.node.plugins.module_utils import join as _join
from ansible_collections.winkube.node.plugins.module_utils import kubernetes as _kubernetes
from ansible_collections.winkube.node.plugins.module_utils import node_facts as _node_facts
from ansible_collections.winkube.node.plugins.module_utils import pause as _pause
from ansible_collections.winkube.node.plugins.module_utils import plan as _plan
from ansible_collections.winkube.node.plugins.module_utils import windows as _windows
from ansible_collections.winkube.node.plugins.module_utils.versions import parse_version
from ansible_collections.winkube.node.plugins.plugin_utils import pause_config as _pause_config
from ansible_collections.winkube.node.plugins.plugin_utils.filters import knowledge_filter


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{what} must be a string, got {type(value).__name__}")
    return value


@knowledge_filter("windows_release")
def windows_release(version: Any, channel: Optional[str] = None) -> Dict[str, Any]:
    """Classify a Windows Server version or build."""
    parsed = _windows.parse_windows_version(version, "Windows version")
    return _node_facts.release_info(parsed, channel)


@knowledge_filter("image_compatible")
def image_compatible(
    host_version: Any, image_os_version: Any, isolation: str = "process", containerd_version: Any = None
) -> Dict[str, Any]:
    """Whether an image build runs on a host build with the given isolation."""
    containerd = None if containerd_version is None else parse_version(containerd_version, "containerd_version")
    result = _images.image_compatible(host_version, image_os_version, isolation, containerd)
    return {"compatible": result.compatible, "reason": result.reason}


@knowledge_filter("version_skew")
def version_skew(component_version: Any, apiserver_version: Any, component: Any) -> Dict[str, Any]:
    """Check a component's version against kube-apiserver's with the upstream skew policy."""
    name = _text(component, "component")
    if name not in _kubernetes.SKEW_COMPONENTS:
        raise ValueError(f"unknown component {name!r}; accepted: {', '.join(_kubernetes.SKEW_COMPONENTS)}")
    result = _kubernetes.check_skew(
        name,
        parse_version(component_version, f"{name} version"),
        parse_version(apiserver_version, "kube-apiserver version"),
    )
    return {"ok": result.ok, "reason": result.reason}


@knowledge_filter("containerd_supported")
def containerd_supported(containerd_version: Any, kubernetes_version: Any) -> Dict[str, Any]:
    """Whether a containerd release is accepted for a Kubernetes minor (containerd RELEASES.md)."""
    result = _containerd.containerd_supported(
        parse_version(containerd_version, "containerd version", require_patch=True),
        parse_version(kubernetes_version, "Kubernetes version"),
    )
    return {"ok": result.ok, "reason": result.reason, "minimum": [str(v) for v in result.minimum]}


@knowledge_filter("pause_image")
def pause_image(kubernetes_version: Any, profile: Any = "production") -> str:
    """The Windows pause image reference for a profile."""
    kubernetes = parse_version(kubernetes_version, "Kubernetes version")
    _kubernetes.support_row(kubernetes)  # a Kubernetes minor the collection knows, or an error
    return _pause.pause_image_for_profile(profile)


@knowledge_filter("kubeadm_join")
def kubeadm_join(join_command: Any) -> Dict[str, Any]:
    """Parse ``kubeadm token create --print-join-command`` output."""
    parsed = _join.parse_join_command(join_command)
    return {
        "api_server_endpoint": parsed.api_server_endpoint,
        "token": parsed.token,
        "ca_cert_hashes": list(parsed.ca_cert_hashes),
        "control_plane": parsed.control_plane,
    }


@knowledge_filter("kube_binary_url")
def kube_binary_url(component: Any, version: Any, arch: Any = "amd64", base_url: Any = None) -> Dict[str, Any]:
    """Download URL and checksum URL of a Kubernetes Windows binary."""
    name = _text(component, "component")
    if name not in _downloads.KUBE_COMPONENTS:
        raise ValueError(f"unknown component {name!r}; accepted: {', '.join(_downloads.KUBE_COMPONENTS)}")
    parsed = parse_version(version, f"{name} version", require_patch=True)
    result = _downloads.kube_binary_url(name, parsed, _text(arch, "arch"), base_url)
    return {"url": result.url, "checksum_url": result.checksum_url}


@knowledge_filter("service_environment")
def service_environment(proxy: Any, service_cidr: Any = None, pod_cidr: Any = None) -> List[str]:
    """The runtime and kubelet services' proxy environment, credentials included (use under no_log)."""
    inputs = {"winkube_proxy": proxy, "winkube_service_cidr": service_cidr, "winkube_pod_cidr": pod_cidr}
    try:
        return _plan.service_environment({k: v for k, v in inputs.items() if v is not None})
    except _plan.PlanError as exc:
        raise ValueError("; ".join(f"[{v.rule}] {v.message}" for v in exc.violations)) from None


def configured_pause_image(config_toml: Any = "", cri_dockerd_args: Any = "") -> Dict[str, Optional[str]]:
    """The pause image the node's runtime is configured with: ``image`` (None: none configured) and
    ``problem`` (why the configuration could not be read; the runtime role rewrites it anyway)."""
    try:
        image = _pause_config.containerd_sandbox_image(config_toml) or _pause_config.cri_dockerd_pause_image(
            cri_dockerd_args
        )
    except ValueError as exc:
        return {"image": None, "problem": str(exc)}
    return {"image": image, "problem": None}


class FilterModule:
    """winkube.node filters."""

    def filters(self) -> Dict[str, Callable[..., Any]]:
        return {
            "windows_release": windows_release,
            "image_compatible": image_compatible,
            "version_skew": version_skew,
            "containerd_supported": containerd_supported,
            "pause_image": pause_image,
            "kubeadm_join": kubeadm_join,
            "kube_binary_url": kube_binary_url,
            "service_environment": service_environment,
            "configured_pause_image": configured_pause_image,
        }
