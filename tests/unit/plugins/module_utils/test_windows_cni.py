# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""windows_cni rendering: tags and releases per cluster version, refusals, and the shape of every object."""

from __future__ import annotations

import json
from typing import Any, Dict, List

import pytest
from ansible_collections.winkube.node.plugins.module_utils import windows_cni as w

API = "https://10.20.30.10:6443"


def rendered(version: str = "v1.36.4", **kwargs: Any) -> Dict[str, Any]:
    kwargs.setdefault("api_server", API)
    return w.render(version, **kwargs)


def by_name(result: Dict[str, Any]) -> Dict[str, Dict[str, Any]]:
    return {m["metadata"]["name"]: m for m in result["manifests"]}


def env_of(container: Dict[str, Any]) -> Dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container["env"]}


@pytest.mark.parametrize(
    ("version", "kube_proxy", "calico"),
    [
        ("v1.36.4", "docker.io/sigwindowstools/kube-proxy:v1.36.4-calico-hostprocess", "3.33.0"),
        ("1.37.0", "docker.io/sigwindowstools/kube-proxy:v1.37.0-calico-hostprocess", "3.33.0"),
        ("1.35.2", "docker.io/sigwindowstools/kube-proxy:v1.35.2-calico-hostprocess", "3.33.0"),
        ("v1.34.7", "docker.io/sigwindowstools/kube-proxy:v1.34.7-calico-hostprocess", "3.32.4"),
        ("1.33.10", "docker.io/sigwindowstools/kube-proxy:v1.33.10-calico-hostprocess", "3.31.3"),
        ("1.32.0", "docker.io/sigwindowstools/kube-proxy:v1.32.0-calico-hostprocess", "3.31.3"),
    ],
)
def test_tags_follow_the_cluster_version(version: str, kube_proxy: str, calico: str) -> None:
    result = rendered(version)
    assert result["kubernetes_version"] == version.lstrip("v")
    assert result["calico_version"] == calico
    assert result["images"] == {
        "kube_proxy": kube_proxy,
        "calico_node": f"docker.io/calico/node-windows:v{calico}",
        "calico_cni": f"docker.io/calico/cni-windows:v{calico}",
    }
    objects = by_name(result)
    assert objects["kube-proxy-windows"]["spec"]["template"]["spec"]["containers"][0]["image"] == kube_proxy
    calico_pod = objects["calico-node-windows"]["spec"]["template"]["spec"]
    images = {c["name"]: c["image"] for c in calico_pod["initContainers"] + calico_pod["containers"]}
    assert images == {
        "uninstall-calico": f"docker.io/calico/node-windows:v{calico}",
        "install-cni": f"docker.io/calico/cni-windows:v{calico}",
        "felix": f"docker.io/calico/node-windows:v{calico}",
        "node": f"docker.io/calico/node-windows:v{calico}",
    }


@pytest.mark.parametrize(
    ("version", "calico", "expected"),
    [
        ("1.36.4", "3.32.1", "3.32.1"),  # any patch of a known line
        ("1.34.0", "v3.33.0", None),  # 3.33 is tested from 1.35
        ("1.36.4", "3.31.3", None),  # 3.31 is tested up to 1.35
        ("1.35.0", "3.31.3", "3.31.3"),
    ],
)
def test_explicit_calico_release(version: str, calico: str, expected: Any) -> None:
    if expected is None:
        with pytest.raises(ValueError, match=r"^Calico 3\.3\d is tested on Kubernetes 1\.\d+ to 1\.\d+, not "):
            rendered(version, calico_version=calico)
    else:
        assert rendered(version, calico_version=calico)["calico_version"] == expected


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"cni": "flannel"},
            r"^flannel is not supported: no maintained Flannel HostProcess manifests or images exist\.",
        ),
        ({"cni": "cilium"}, r"^unknown CNI 'cilium'; accepted: calico"),
        ({"backend": "ipip"}, r"^unknown Calico backend 'ipip'; accepted: vxlan, windows-bgp$"),
        (
            {"calico_version": "3.29.4"},
            r"^Calico 3\.29\.4 is not a release line this collection knows; known lines: 3\.33",
        ),
        ({"calico_version": "3.33"}, r"^Calico version 3\.33 needs a patch number"),
        ({"api_server": None}, r"^api_server is missing"),
        ({"api_server": "http://10.0.0.1:6443"}, r"must be https://HOST:PORT or HOST:PORT$"),
        ({"api_server": "10.0.0.1"}, r"needs a host and a port"),
        ({"api_server": "bad_host!:6443"}, r"is not a host name or IP address$"),
        ({"service_cidr": "10.96.0.1/12"}, r"^service CIDR '10\.96\.0\.1/12' is not a CIDR"),
        ({"service_cidr": "fd00::/108"}, r"is IPv6; only IPv4 networks are rendered$"),
        ({"service_cidr": "10.96.0.0/30"}, r"too small for kubeadm's DNS address"),
        ({"pod_cidr": "10.96.0.0/16"}, r"^pod CIDR 10\.96\.0\.0/16 overlaps the service CIDR 10\.96\.0\.0/12$"),
        ({"image_overrides": {"kube_proxy": "mirror.example/kube-proxy:v1"}}, r"without tag or digest"),
        ({"image_overrides": {"pause": "mirror.example/pause"}}, r"^unknown image 'pause'; accepted: kube_proxy"),
        ({"image_overrides": ["mirror.example"]}, r"^images must be a mapping"),
        ({"namespace": "Kube_System"}, r"not a valid Kubernetes namespace name"),
        ({"cni_bin_dir": "/opt/cni/bin"}, r"must be an absolute Windows directory"),
        ({"cni_conf_dir": "C:\\"}, r"must be an absolute Windows directory"),
        ({"include_cni": "yes"}, r"^include_cni must be a boolean"),
    ],
)
def test_refusals(kwargs: Dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        rendered(**kwargs)


def test_flannel_refusal_names_the_upstream_decision() -> None:
    with pytest.raises(ValueError) as err:
        rendered(cni="flannel")
    text = str(err.value)
    assert "sig-windows-tools PR #385" in text
    assert "PR #388" in text
    assert text.endswith("Use cni: calico")


@pytest.mark.parametrize(
    ("version", "message"),
    [
        (
            "1.31.5",
            r"^no known Calico release is tested on Kubernetes 1\.31; known lines: 3\.33 \(Kubernetes 1\.35-1\.37\)",
        ),
        ("1.38.0", r"^no known Calico release is tested on Kubernetes 1\.38"),
        ("1.22.9", r"^Kubernetes 1\.22\.9 is too old: HostProcess pods need Kubernetes 1\.23 or newer"),
        ("v1.36.4+k3s1", r"carries a distribution suffix"),
        ("v1.33.5-eks-1234", r"carries a distribution suffix"),
        ("1.36", r"needs a patch number"),
        ("", r"^cluster version must be a non-empty string"),
        (None, r"^cluster version must be a non-empty string"),
    ],
)
def test_cluster_version_refusals(version: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        rendered(version)


def test_every_pod_is_a_host_process_pod_on_windows_nodes() -> None:
    for manifest in rendered()["manifests"]:
        if manifest["kind"] != "DaemonSet":
            continue
        pod = manifest["spec"]["template"]["spec"]
        assert pod["hostNetwork"] is True
        assert pod["securityContext"]["windowsOptions"] == {
            "hostProcess": True,
            "runAsUserName": "NT AUTHORITY\\system",
        }
        assert pod["nodeSelector"] == {"kubernetes.io/os": "windows"}
        # The selector must match the template, or the API server rejects the DaemonSet.
        labels = manifest["spec"]["template"]["metadata"]["labels"]
        assert manifest["spec"]["selector"]["matchLabels"].items() <= labels.items()
        for container in pod.get("initContainers", []) + pod["containers"]:
            # A container may not opt out of HostProcess in a HostProcess pod.
            assert container.get("securityContext", pod["securityContext"])["windowsOptions"]["hostProcess"] is True


def test_kube_proxy_uses_what_kubeadm_created() -> None:
    ds = by_name(rendered())["kube-proxy-windows"]
    pod = ds["spec"]["template"]["spec"]
    assert ds["metadata"]["namespace"] == "kube-system"
    assert pod["serviceAccountName"] == "kube-proxy"
    assert pod["volumes"] == [{"name": "kube-proxy", "configMap": {"name": "kube-proxy"}}]
    assert pod["containers"][0]["args"] == ["$env:CONTAINER_SANDBOX_MOUNT_POINT/kube-proxy/start.ps1"]
    assert set(env_of(pod["containers"][0])) == {"NODENAME", "POD_IP"}


def test_calico_config_follows_the_cidrs_and_the_endpoint() -> None:
    result = rendered(service_cidr="10.100.0.0/16", pod_cidr="192.168.0.0/16", api_server="10.20.30.10:6443")
    assert (result["service_cidr"], result["dns_server"], result["api_server"]) == (
        "10.100.0.0/16",
        "10.100.0.10",
        "10.20.30.10:6443",
    )
    objects = by_name(result)
    config = json.loads(objects["calico-windows-config"]["data"]["config"])
    plugin = config["plugins"][0]
    assert plugin["DNS"]["Nameservers"] == ["10.100.0.10"]
    assert plugin["policies"][0]["Value"] == {"Type": "OutBoundNAT", "ExceptionList": ["10.100.0.0/16"]}
    assert plugin["policies"][1]["Value"]["DestinationPrefix"] == "10.100.0.0/16"
    assert plugin["kubernetes"]["kubeconfig"] == "c:/Program Files/containerd/cni/conf/calico-kubeconfig"
    pod = objects["calico-node-windows"]["spec"]["template"]["spec"]
    felix = env_of(pod["containers"][0])
    assert felix["KUBERNETES_SERVICE_HOST"] == "10.20.30.10"
    assert felix["KUBERNETES_SERVICE_PORT"] == "6443"
    assert felix["CALICO_IPV4POOL_CIDR"] == "192.168.0.0/16"
    assert felix["CALICO_IPV4POOL_VXLAN"] == "Always"
    assert "NO_DEFAULT_POOLS" not in felix
    install = env_of(pod["initContainers"][1])
    assert install["CNI_NET_DIR"] == "/Program Files/containerd/cni/conf"
    assert install["KUBERNETES_DNS_SERVERS"] == "10.100.0.10"
    volumes = {v["name"]: v["hostPath"]["path"] for v in pod["volumes"]}
    assert volumes["cni-bin-dir"] == "C:\\Program Files\\containerd\\cni\\bin"
    assert volumes["cni-net-dir"] == "C:\\Program Files\\containerd\\cni\\conf"


def test_without_a_pod_cidr_windows_nodes_create_no_pool() -> None:
    pod = by_name(rendered())["calico-node-windows"]["spec"]["template"]["spec"]
    env = env_of(pod["containers"][1])
    assert env["NO_DEFAULT_POOLS"] == "true"
    assert "CALICO_IPV4POOL_CIDR" not in env


def test_windows_bgp_adds_confd_and_never_vxlan() -> None:
    pod = by_name(rendered(backend="windows-bgp", pod_cidr="192.168.0.0/16"))["calico-node-windows"]["spec"]
    containers = pod["template"]["spec"]["containers"]
    assert [c["name"] for c in containers] == ["felix", "node", "confd"]
    env = env_of(containers[2])
    assert env["CALICO_NETWORKING_BACKEND"] == "windows-bgp"
    assert env["CALICO_IPV4POOL_IPIP"] == "Never"
    assert "CALICO_IPV4POOL_VXLAN" not in env


def test_cri_dockerd_directories_and_mirror() -> None:
    result = rendered(
        cni_bin_dir="C:\\k\\cni\\bin",
        cni_conf_dir="C:\\k\\cni\\config\\",
        image_overrides={"kube_proxy": "registry.example.com:5000/sig-windows/kube-proxy"},
    )
    assert (
        result["images"]["kube_proxy"] == "registry.example.com:5000/sig-windows/kube-proxy:v1.36.4-calico-hostprocess"
    )
    assert result["images"]["calico_node"] == "docker.io/calico/node-windows:v3.33.0"
    pod = by_name(result)["calico-node-windows"]["spec"]["template"]["spec"]
    assert {v["name"]: v["hostPath"]["path"] for v in pod["volumes"]}["cni-net-dir"] == "C:\\k\\cni\\config"
    assert env_of(pod["initContainers"][1])["CNI_NET_DIR"] == "/k/cni/config"


def test_kube_proxy_only_for_an_operator_managed_calico() -> None:
    result = rendered(include_cni=False)
    assert [(m["kind"], m["metadata"]["name"]) for m in result["manifests"]] == [("DaemonSet", "kube-proxy-windows")]
    assert result["daemonsets"] == [{"namespace": "kube-system", "name": "kube-proxy-windows"}]
    assert [p["name"] for p in result["prerequisites"]] == ["kube-proxy", "kube-proxy"]


def test_own_namespace_is_created_first_and_privileged() -> None:
    result = rendered(namespace="calico-windows")
    kinds: List[Any] = [(m["kind"], m["metadata"].get("namespace")) for m in result["manifests"]]
    assert kinds == [
        ("Namespace", None),
        ("ConfigMap", "calico-windows"),
        ("DaemonSet", "calico-windows"),
        ("DaemonSet", "kube-system"),
    ]
    assert result["manifests"][0]["metadata"]["labels"] == {"pod-security.kubernetes.io/enforce": "privileged"}
    assert {
        "kind": "ServiceAccount",
        "namespace": "calico-windows",
        "name": "calico-node",
        "from": "Calico for Linux",
    } in (result["prerequisites"])


def test_rendering_is_deterministic() -> None:
    # apply compares what is sent with what is stored: the same input must give the same objects.
    assert json.dumps(rendered(), sort_keys=True) == json.dumps(rendered(), sort_keys=True)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://10.20.30.10:6443", ("10.20.30.10", 6443)),
        ("10.20.30.10:6443", ("10.20.30.10", 6443)),
        ("https://cp.example.com:443/", ("cp.example.com", 443)),
        ("[fd00::1]:6443", ("fd00::1", 6443)),
    ],
)
def test_api_endpoint(value: str, expected: Any) -> None:
    assert w.api_endpoint(value) == expected
