# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the join role and playbooks/verify.yml (module_utils/node_join.py, node_verify.py).

Thin wrappers: every ValueError becomes an AnsibleFilterError naming the filter. Documentation: one
``<filter>.yml`` sidecar per filter in this directory.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional

from ansible_collections.winkube.node.plugins.module_utils import node_join as _join
from ansible_collections.winkube.node.plugins.module_utils import node_verify as _verify
from ansible_collections.winkube.node.plugins.plugin_utils.filters import knowledge_filter


def _secrets(value: Any) -> List[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    raise ValueError("secrets must be a string or a list of strings")


@knowledge_filter("join_inputs")
def join_inputs(
    join_command: Any, api_endpoint: Any = None, token: Any = None, ca_cert_hash: Any = None
) -> Dict[str, Any]:
    """The join target, or ``error`` saying which input is wrong (never a secret)."""
    return _join.join_inputs(join_command, api_endpoint, token, ca_cert_hash)


@knowledge_filter("join_skew")
def join_skew(apiserver_git_version: Any, kubernetes_version: Any) -> Dict[str, Any]:
    """kubelet, kube-proxy and kubeadm at the node's version against the running API server."""
    return _join.join_skew(apiserver_git_version, kubernetes_version)


@knowledge_filter("kubeadm_join_failure")
def kubeadm_join_failure(result: Any, secrets: Any = None, node_name: Any = "") -> str:
    """The message for a failed kubeadm join, secrets masked."""
    return _join.kubeadm_join_failure(result, _secrets(secrets), str(node_name or ""))


@knowledge_filter("node_metadata_patch")
def node_metadata_patch(node: Any, labels: Any = None, taints: Any = None) -> Dict[str, Any]:
    """The merge patch that gives a Node the labels and taints, and whether one is needed."""
    return _join.node_metadata_patch(node, labels, taints)


@knowledge_filter("node_not_ready")
def node_not_ready(
    node: Any,
    node_name: Any,
    *,
    log_text: Any = None,
    log_path: Any = "",
    timeout: Any = None,
    lines: Any = _join.DEFAULT_LOG_LINES,
    secrets: Any = None,
) -> str:
    """Why a node is not Ready: its Ready condition and the last lines of the kubelet log."""
    return _join.node_not_ready_message(
        str(node_name),
        node,
        log_text=log_text,
        log_path=str(log_path or ""),
        timeout=timeout,
        lines=lines,
        secrets=_secrets(secrets),
    )


@knowledge_filter("cluster_report")
def cluster_report(
    nodes: Any, apiserver_git_version: Any, kubectl_version: Any = None, expected_nodes: Optional[Any] = None
) -> Dict[str, Any]:
    """Per-node Ready and skew checks, kubectl's skew, missing nodes, one report line each."""
    return _verify.cluster_report(nodes, apiserver_git_version, kubectl_version, expected_nodes or [])


class FilterModule:
    """winkube.node join and verify filters."""

    def filters(self) -> Dict[str, Callable[..., Any]]:
        return {
            "join_inputs": join_inputs,
            "join_skew": join_skew,
            "kubeadm_join_failure": kubeadm_join_failure,
            "node_metadata_patch": node_metadata_patch,
            "node_not_ready": node_not_ready,
            "cluster_report": cluster_report,
        }
