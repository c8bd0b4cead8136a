# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the kubernetes role: the files to install, their published digests, the kubelet service.

Thin wrappers over ``plugins/module_utils/kubelet.py``; every ValueError becomes an
AnsibleFilterError naming the filter. Documentation: one ``<filter>.yml`` sidecar per filter in
this directory.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, Dict, List, Mapping

from ansible_collections.winkube.node.plugins.module_utils import kubelet as _kubelet
from ansible_collections.winkube.node.plugins.plugin_utils.filters import knowledge_filter


@knowledge_filter("kubernetes_artifacts")
def kubernetes_artifacts(plan: Any, kube_proxy: Any = False, kubectl: Any = False) -> List[Dict[str, str]]:
    """``{name, url, checksum_url}`` per file the role installs for the plan."""
    if not isinstance(kube_proxy, bool) or not isinstance(kubectl, bool):
        raise ValueError("kube_proxy and kubectl must be booleans")
    return [dataclasses.asdict(a) for a in _kubelet.node_artifacts(plan, kube_proxy, kubectl)]


@knowledge_filter("kubernetes_artifact_checksums")
def kubernetes_artifact_checksums(artifacts: Any, files: Any) -> List[Dict[str, str]]:
    """The artifacts with ``sha256`` read from their fetched ``.sha256`` files (URL -> content)."""
    if not isinstance(artifacts, list) or not all(isinstance(a, Mapping) for a in artifacts):
        raise ValueError("the artifacts must be a list of mappings (winkube.node.kubernetes_artifacts)")
    if not isinstance(files, Mapping):
        raise ValueError("the checksum files must be a mapping of URL to content")
    return _kubelet.artifact_checksums(artifacts, files)


@knowledge_filter("kubelet_service_command")
def kubelet_service_command(plan: Any, flags_env: Any = "", extra_args: Any = None, log_file: Any = None) -> str:
    """The kubelet service's command line: kube-log-runner, kubelet and the merged flags."""
    if flags_env is None:
        flags_env = ""
    if log_file is not None and not isinstance(log_file, str):
        raise ValueError(f"log_file must be a string, got {type(log_file).__name__}")
    return _kubelet.kubelet_service_command(plan, flags_env, extra_args, log_file)


@knowledge_filter("kube_proxy_service_command")
def kube_proxy_service_command(plan: Any, kubeconfig: Any, extra_args: Any = None, log_file: Any = None) -> str:
    """The kube-proxy service's command line: kube-log-runner, kube-proxy and its flags."""
    if log_file is not None and not isinstance(log_file, str):
        raise ValueError(f"log_file must be a string, got {type(log_file).__name__}")
    return _kubelet.kube_proxy_service_command(plan, kubeconfig, extra_args, log_file)


class FilterModule:
    """winkube.node filters for the Kubernetes node binaries and the kubelet service."""

    def filters(self) -> Dict[str, Callable[..., Any]]:
        return {
            "kubernetes_artifacts": kubernetes_artifacts,
            "kubernetes_artifact_checksums": kubernetes_artifact_checksums,
            "kubelet_service_command": kubelet_service_command,
            "kube_proxy_service_command": kube_proxy_service_command,
        }
