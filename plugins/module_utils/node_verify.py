# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The controller-side health report of a cluster's nodes (playbooks/verify.yml).

Input: the Node objects of the cluster (kubernetes.core.k8s_info), the API server's gitVersion,
optionally the kubectl client's version and the names of the nodes that must be there (the Windows
hosts of the inventory). Checked, per node: the Ready condition, kubelet and kube-proxy within the
skew policy of the API server (``kubernetes.check_skew``) and kube-proxy within the skew of the
kubelet on the same node; and kubectl within one minor of the API server. Nothing is assumed about
the cluster's nodes: a single Linux node (Docker Desktop's ``docker-desktop``) is a valid cluster.

An empty ``kubeProxyVersion`` is reported as "not reported", not as a failure: the field is
deprecated (KEP-4004, Kubernetes 1.31 and later) and kubelets stop filling it in.
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Sequence

from ansible_collections.winkube.node.plugins.module_utils import kubernetes as _kubernetes
from ansible_collections.winkube.node.plugins.module_utils.node_join import ready_condition, server_version
from ansible_collections.winkube.node.plugins.module_utils.versions import Version


def _check(ok: bool, detail: str) -> Dict[str, Any]:
    return {"ok": ok, "detail": detail}


def _component(name: str, reported: Any, apiserver: Version) -> Dict[str, Any]:
    if not reported:
        return {"version": None, **_check(True, f"{name} version not reported by the node")}
    try:
        version = server_version(reported)
    except ValueError as exc:
        return {"version": str(reported), **_check(False, f"{name}: {exc}")}
    result = _kubernetes.check_skew(name, version, apiserver)
    return {"version": str(reported), **_check(result.ok, result.reason)}


def node_report(node: Mapping[str, Any], apiserver: Version) -> Dict[str, Any]:
    """The checks of one Node object."""
    metadata = node.get("metadata") or {}
    info = (node.get("status") or {}).get("nodeInfo") or {}
    condition = ready_condition(node)
    ready = condition is not None and condition.get("status") == "True"
    if condition is None:
        ready_detail = "no Ready condition: the kubelet never posted node status"
    else:
        ready_detail = ", ".join(
            f"{k}={condition[k]}" for k in ("status", "reason", "message") if condition.get(k) not in (None, "")
        )
    kubelet = _component("kubelet", info.get("kubeletVersion"), apiserver)
    proxy = _component("kube-proxy", info.get("kubeProxyVersion"), apiserver)
    checks = {"ready": _check(ready, ready_detail), "kubelet": kubelet, "kube-proxy": proxy}
    if kubelet["version"] and proxy["version"] and kubelet["ok"] and proxy["ok"]:
        pair = _kubernetes.check_kube_proxy_kubelet_skew(
            server_version(proxy["version"]), server_version(kubelet["version"])
        )
        checks["kube-proxy/kubelet"] = _check(pair.ok, pair.reason)
    spec = node.get("spec") or {}
    return {
        "name": metadata.get("name"),
        "os": info.get("operatingSystem") or (metadata.get("labels") or {}).get("kubernetes.io/os"),
        "os_image": info.get("osImage"),
        "container_runtime": info.get("containerRuntimeVersion"),
        "unschedulable": bool(spec.get("unschedulable")),
        "ok": all(c["ok"] for c in checks.values()),
        "checks": checks,
    }


def kubectl_check(kubectl_version: Any, apiserver: Version) -> Optional[Dict[str, Any]]:
    """kubectl's client version within one minor of the API server; None when kubectl was not found."""
    if kubectl_version in (None, ""):
        return None
    try:
        version = server_version(kubectl_version)
    except ValueError as exc:
        return {"version": str(kubectl_version), **_check(False, f"kubectl: {exc}")}
    result = _kubernetes.check_skew("kubectl", version, apiserver)
    return {"version": str(kubectl_version), **_check(result.ok, result.reason)}


def _line(report: Mapping[str, Any]) -> str:
    marks = []
    for name, check in report["checks"].items():
        shown = check.get("version") or ("Ready" if name == "ready" and check["ok"] else "")
        marks.append(f"{name} {'ok' if check['ok'] else 'FAILED'}{' (' + shown + ')' if shown else ''}")
    head = f"{report['name']} [{report['os'] or 'unknown os'}]: {'OK' if report['ok'] else 'FAILED'}"
    failed = [f"{name}: {c['detail']}" for name, c in report["checks"].items() if not c["ok"]]
    return head + " - " + ", ".join(marks) + ("".join(f"\n    {f}" for f in failed))


def cluster_report(
    nodes: Any, apiserver_git_version: Any, kubectl_version: Any = None, expected_nodes: Sequence[str] = ()
) -> Dict[str, Any]:
    """Every node's checks, the kubectl check, the expected nodes that are missing, and one line each."""
    if not isinstance(nodes, list) or not all(isinstance(n, Mapping) for n in nodes):
        raise ValueError("nodes must be the list of Node objects (the resources of kubernetes.core.k8s_info)")
    if not isinstance(expected_nodes, (list, tuple)) or not all(isinstance(n, str) for n in expected_nodes):
        raise ValueError("expected_nodes must be a list of node names")
    apiserver = server_version(apiserver_git_version)
    reports = [
        node_report(n, apiserver) for n in sorted(nodes, key=lambda n: str((n.get("metadata") or {}).get("name")))
    ]
    names = {r["name"] for r in reports}
    missing = sorted(set(expected_nodes) - names)
    kubectl = kubectl_check(kubectl_version, apiserver)
    lines = [f"kube-apiserver {apiserver_git_version}: {len(reports)} node(s)"]
    lines += [_line(r) for r in reports]
    lines += [f"{name}: MISSING - expected from the inventory, not registered in the cluster" for name in missing]
    if kubectl is None:
        lines.append("kubectl: not found on the controller, not checked")
    else:
        lines.append(f"kubectl {kubectl['version']}: {'ok' if kubectl['ok'] else 'FAILED'} - {kubectl['detail']}")
    if not reports:
        lines.append("the cluster has no nodes")
    ok = bool(reports) and all(r["ok"] for r in reports) and not missing and (kubectl is None or kubectl["ok"])
    failures: List[str] = [
        f"{r['name']}: {name}: {c['detail']}" for r in reports for name, c in r["checks"].items() if not c["ok"]
    ]
    failures += [f"{name}: not registered in the cluster" for name in missing]
    if kubectl is not None and not kubectl["ok"]:
        failures.append(f"kubectl: {kubectl['detail']}")
    if not reports:
        failures.append("the cluster has no nodes")
    return {
        "ok": ok,
        "apiserver_version": str(apiserver),
        "nodes": reports,
        "missing": missing,
        "kubectl": kubectl,
        "failures": failures,
        "lines": lines,
    }
