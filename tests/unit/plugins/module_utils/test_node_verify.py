# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

from typing import Any, Dict

import pytest
from ansible_collections.winkube.node.plugins.module_utils.node_verify import cluster_report


def node(
    name: str,
    kubelet: str = "v1.33.3",
    *,
    proxy: str = "v1.33.3",
    ready: str = "True",
    os: str = "windows",
    reason: str = "KubeletReady",
) -> Dict[str, Any]:
    return {
        "metadata": {"name": name, "labels": {"kubernetes.io/os": os}},
        "spec": {},
        "status": {
            "conditions": [{"type": "Ready", "status": ready, "reason": reason, "message": "m"}],
            "nodeInfo": {"kubeletVersion": kubelet, "kubeProxyVersion": proxy, "operatingSystem": os},
        },
    }


def test_docker_desktop_single_linux_node() -> None:
    report = cluster_report([node("docker-desktop", "v1.32.2", proxy="", os="linux")], "v1.32.2", "v1.32.4-dispatcher")
    assert report["ok"] is True
    assert report["missing"] == [] and report["failures"] == []
    only = report["nodes"][0]
    assert only["os"] == "linux"
    assert only["checks"]["kube-proxy"] == {
        "version": None,
        "ok": True,
        "detail": "kube-proxy version not reported by the node",
    }
    assert "kube-proxy/kubelet" not in only["checks"]
    assert report["lines"][0] == "kube-apiserver v1.32.2: 1 node(s)"
    assert report["lines"][1].startswith("docker-desktop [linux]: OK - ready ok (Ready), kubelet ok (v1.32.2)")
    assert report["lines"][-1].startswith("kubectl v1.32.4-dispatcher: ok")


def test_not_ready_node_and_skewed_kubelet_fail_with_reasons() -> None:
    report = cluster_report(
        [node("win1", ready="False", reason="KubeletNotReady"), node("win2", kubelet="v1.34.1", proxy="v1.34.1")],
        "v1.33.3",
        None,
        ["win1", "win2"],
    )
    assert report["ok"] is False
    failures = report["failures"]
    assert failures[0] == "win1: ready: status=False, reason=KubeletNotReady, message=m"
    assert any(f.startswith("win2: kubelet: kubelet 1.34 is newer than kube-apiserver 1.33") for f in failures)
    assert report["lines"][-1] == "kubectl: not found on the controller, not checked"
    assert "win1 [windows]: FAILED" in report["lines"][1]


def test_missing_expected_node_and_kubectl_too_far() -> None:
    report = cluster_report([node("win1")], "v1.33.3", "v1.31.0", ["win1", "win9"])
    assert report["missing"] == ["win9"]
    assert "win9: not registered in the cluster" in report["failures"]
    assert report["kubectl"]["ok"] is False
    assert report["ok"] is False


def test_kube_proxy_kubelet_pair_is_checked() -> None:
    report = cluster_report([node("w", kubelet="v1.36.0", proxy="v1.32.0")], "v1.36.4")
    checks = report["nodes"][0]["checks"]
    assert checks["kube-proxy"]["ok"] is False  # 4 minors below the API server
    report = cluster_report([node("w", kubelet="v1.36.0", proxy="v1.34.0")], "v1.36.4")
    assert report["nodes"][0]["checks"]["kube-proxy/kubelet"]["ok"] is True


def test_no_nodes_is_a_failure() -> None:
    report = cluster_report([], "v1.33.3")
    assert report["ok"] is False and report["failures"] == ["the cluster has no nodes"]


def test_node_without_ready_condition() -> None:
    n = node("w")
    n["status"]["conditions"] = []
    report = cluster_report([n], "v1.33.3")
    assert report["nodes"][0]["checks"]["ready"]["detail"] == "no Ready condition: the kubelet never posted node status"


def test_unparseable_kubelet_version_fails_that_check() -> None:
    report = cluster_report([node("w", kubelet="unknown")], "v1.33.3")
    assert report["nodes"][0]["checks"]["kubelet"]["ok"] is False


@pytest.mark.parametrize(
    ("nodes", "expected", "message"),
    [({"items": []}, [], "nodes must be the list"), ([], "win1", "expected_nodes must be a list")],
)
def test_bad_arguments(nodes: Any, expected: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        cluster_report(nodes, "v1.33.3", None, expected)
