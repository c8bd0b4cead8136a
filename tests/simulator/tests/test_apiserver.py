"""The simulated Kubernetes API (``tests/simulator/apiserver.py``) driven by real clients: the
``kubernetes`` Python client, ``ansible-playbook`` with kubernetes.core, and ``kubectl`` when it
is installed. Nodes join through the kubeadm/kubelet emulation, as a provisioning run does."""

from __future__ import annotations

import base64
import json
import shutil
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography import x509

from tests.simulator.config import ConfigError
from tests.simulator.executables.testing import checked, create_kubelet_service, install_kube, sh, start_containerd
from tests.simulator.pytest_plugin import ansible_playbook, serve_process
from tests.simulator.server import Simulator

kubernetes = pytest.importorskip("kubernetes", reason="the kubernetes Python client is not installed in this venv")
from kubernetes import client as k8s  # noqa: E402
from kubernetes import config as k8s_config  # noqa: E402
from kubernetes.client.exceptions import ApiException  # noqa: E402

VERSION = "1.33.3"
PODS = [
    {"name": "web-7d4b9", "node": "win2022"},
    {"name": "db-0a1b2", "node": "win2022", "pdb_blocks": True},
    {"name": "calico-node-x1", "namespace": "kube-system", "node": "win2022", "daemonset": "calico-node"},
    {"name": "api-5c6d7", "node": "win2019"},
]


def config(**cluster: Any) -> dict[str, Any]:
    return {
        "hosts": [{"name": "win2022"}, {"name": "win2019", "os_version": "10.0.17763.6414"}],
        "cluster": {"version": VERSION, **cluster},
    }


def join(sim: Simulator, name: str) -> None:
    """Provision and join a host the way the roles do: binaries, containerd, the kubelet service,
    then ``kubeadm join`` with the join command the inventory carries."""
    host = sim.host(name)
    install_kube(host, VERSION)
    start_containerd(host, "1.7.28")
    create_kubelet_service(host)
    argv = sim.cluster.join_command().split()
    checked(sh(host, r"C:\k\kubeadm.exe", *argv[1:]))


@pytest.fixture
def sim(tmp_path: Path):
    with Simulator(config(pods=PODS)) as s:
        s.write_inventory(tmp_path / "inventory.yml")
        yield s


@pytest.fixture
def api(sim: Simulator) -> k8s.ApiClient:
    join(sim, "win2022")
    join(sim, "win2019")
    return k8s_config.new_client_from_config(config_file=str(sim.kubeconfig_path))


def raw(
    sim: Simulator,
    path: str,
    *,
    method: str = "GET",
    body: Any = None,
    headers: dict[str, str] | None = None,
    cert: bool = False,
    tmp: Path | None = None,
) -> tuple[int, Any]:
    """One HTTPS request with urllib: the CA verified, a client certificate only when asked."""
    ctx = ssl.create_default_context(cadata=sim.cluster.ca_cert_pem.decode())
    if cert:
        assert tmp is not None
        kc = yaml.safe_load(sim.kubeconfig())["users"][0]["user"]
        (tmp / "c.pem").write_bytes(base64.b64decode(kc["client-certificate-data"]))
        (tmp / "k.pem").write_bytes(base64.b64decode(kc["client-key-data"]))
        ctx.load_cert_chain(tmp / "c.pem", tmp / "k.pem")
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(sim.cluster.api_url + path, data=data, method=method, headers=headers or {})  # noqa: S310
    try:
        with urllib.request.urlopen(req, context=ctx, timeout=10) as resp:  # noqa: S310
            text = resp.read()
            return resp.status, json.loads(text) if resp.headers.get_content_type() == "application/json" else text
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


# ------------------------------------------------------------------ identity, TLS, kubeconfig


def test_kubeconfig_and_certificates(sim: Simulator, tmp_path: Path):
    kc = yaml.safe_load(sim.kubeconfig_path.read_text())
    assert sim.kubeconfig_path.stat().st_mode & 0o777 == 0o600
    assert kc["clusters"][0]["cluster"]["server"] == sim.cluster.api_url
    assert "tls-server-name" not in kc["clusters"][0]["cluster"]
    cert = x509.load_pem_x509_certificate(base64.b64decode(kc["users"][0]["user"]["client-certificate-data"]))
    assert cert.subject.rfc4514_string() == "CN=kubernetes-admin,O=system:masters"
    assert cert.issuer == sim.cluster.ca.cert.subject
    # the endpoint nodes join is the API's own port when none is configured
    assert sim.cluster.endpoint == sim.cluster.api_url.removeprefix("https://")
    inv = yaml.safe_load((tmp_path / "inventory.yml").read_text())["all"]["children"]["windows_nodes"]["vars"]
    assert inv["winkube_kubeconfig"] == str(sim.kubeconfig_path)
    assert inv["winkube_kubernetes_download_base_url"] == sim.control_url + "/mirror/https/dl.k8s.io"
    argv = inv["join_command"].split()
    assert argv[:3] == ["kubeadm", "join", sim.cluster.endpoint]
    assert sim.cluster.token_status(argv[4]) == "ok"
    assert argv[6] == sim.cluster.ca_cert_hash


def test_endpoint_elsewhere_is_served_on_loopback_with_tls_server_name(tmp_path: Path):
    with Simulator(config(endpoint="10.20.30.10:6443", aliases=["k8s.example:6443"])) as s:
        kc = yaml.safe_load(s.kubeconfig())["clusters"][0]["cluster"]
        assert kc["tls-server-name"] == "10.20.30.10"
        assert kc["server"].startswith("https://127.0.0.1:")
        assert s.cluster.endpoint == "10.20.30.10:6443"
        path = tmp_path / "kc"
        s.write_kubeconfig(path)
        v = k8s.VersionApi(k8s_config.new_client_from_config(config_file=str(path))).get_code()
        assert v.git_version == "v" + VERSION
        sans = ssl.get_server_certificate(("127.0.0.1", int(kc["server"].rsplit(":", 1)[1])))
        names = x509.load_pem_x509_certificate(sans.encode()).extensions.get_extension_for_class(
            x509.SubjectAlternativeName
        )
        assert {"k8s.example", "kubernetes.default.svc", "localhost"} <= set(
            names.value.get_values_for_type(x509.DNSName)
        )


def test_endpoint_on_loopback_binds_that_port():
    import socket

    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    with Simulator(config(endpoint=f"127.0.0.1:{port}")) as s:
        assert s.cluster.api_url == f"https://127.0.0.1:{port}"


def test_no_cluster_no_api(tmp_path: Path):
    with Simulator({"hosts": [{"name": "a"}]}) as s:
        assert s.api is None
        s.write_inventory(tmp_path / "inv.yml")
        assert "winkube_kubeconfig" not in (tmp_path / "inv.yml").read_text()
        with pytest.raises(Exception, match="no Kubernetes API"):
            s.kubeconfig()


def test_seeded_pods_are_validated():
    with pytest.raises(ConfigError, match=r"cluster.pods\[0\]: unknown key\(s\) owner"):
        Simulator(config(pods=[{"name": "a", "node": "b", "owner": "x"}]))
    with pytest.raises(ConfigError, match=r"cluster.pods\[0\].name: must be a DNS label"):
        Simulator(config(pods=[{"name": "A_b", "node": "b"}]))


# ------------------------------------------------------------------ access


def test_anonymous_may_read_only_public_info(sim: Simulator, tmp_path: Path):
    assert raw(sim, "/version")[1]["gitVersion"] == "v" + VERSION
    assert raw(sim, "/healthz") == (200, b"ok")
    code, cm = raw(sim, "/api/v1/namespaces/kube-public/configmaps/cluster-info")
    assert code == 200
    info = yaml.safe_load(cm["data"]["kubeconfig"])["clusters"][0]["cluster"]
    assert base64.b64decode(info["certificate-authority-data"]) == sim.cluster.ca_cert_pem
    assert info["server"] == f"https://{sim.cluster.endpoint}"
    assert any(k.startswith("jws-kubeconfig-") for k in cm["data"])
    code, st = raw(sim, "/api/v1/nodes")
    assert code == 403 and st["kind"] == "Status" and st["reason"] == "Forbidden"
    assert st["message"] == (
        'nodes is forbidden: User "system:anonymous" cannot list resource "nodes" in API group "" at the cluster scope'
    )
    assert raw(sim, "/api")[0] == 403
    assert raw(sim, "/api/v1/namespaces/kube-system/secrets")[0] == 403
    code, st = raw(sim, "/api/v1/nodes", headers={"Authorization": "Bearer abcdef.0123456789abcdef"})
    assert (code, st["reason"]) == (401, "Unauthorized")
    assert raw(sim, "/api/v1/nodes", cert=True, tmp=tmp_path)[0] == 200


def test_bootstrap_token_user_reads_what_kubeadm_join_reads(sim: Simulator):
    token = sim.cluster.create_token().token
    bearer = {"Authorization": f"Bearer {token}"}
    assert raw(sim, "/api/v1/namespaces/kube-system/configmaps/kubeadm-config", headers=bearer)[0] == 200
    code, cm = raw(sim, "/api/v1/namespaces/kube-system/configmaps/kubelet-config", headers=bearer)
    assert code == 200
    assert yaml.safe_load(cm["data"]["kubelet"])["kind"] == "KubeletConfiguration"
    assert raw(sim, "/api/v1/namespaces/kube-system/secrets", headers=bearer)[0] == 403


# ------------------------------------------------------------------ the Python client


def test_discovery_documents(api: k8s.ApiClient):
    core = k8s.CoreV1Api(api).get_api_resources()
    by_name = {r.name: r for r in core.resources}
    assert by_name["nodes"].kind == "Node" and not by_name["nodes"].namespaced
    assert "patch" in by_name["nodes"].verbs and by_name["nodes"].short_names == ["no"]
    eviction = by_name["pods/eviction"]
    assert (eviction.group, eviction.version, eviction.kind) == ("policy", "v1", "Eviction")
    groups = {g.name: g.preferred_version.version for g in k8s.ApisApi(api).get_api_versions().groups}
    assert groups == {"apps": "v1", "policy": "v1", "rbac.authorization.k8s.io": "v1", "storage.k8s.io": "v1"}
    apps = {r.name: r for r in k8s.AppsV1Api(api).get_api_resources().resources}
    assert apps["daemonsets"].short_names == ["ds"] and apps["daemonsets"].namespaced


def test_joined_nodes_are_ready_with_their_node_info(sim: Simulator, api: k8s.ApiClient):
    v1 = k8s.CoreV1Api(api)
    nodes = {n.metadata.name: n for n in v1.list_node().items}
    assert set(nodes) == {"win2022", "win2019"}
    n = nodes["win2019"]
    ready = next(c for c in n.status.conditions if c.type == "Ready")
    assert (ready.status, ready.reason) == ("True", "KubeletReady")
    info = n.status.node_info
    assert (info.kubelet_version, info.operating_system, info.architecture) == ("v" + VERSION, "windows", "amd64")
    assert info.container_runtime_version == "containerd://1.7.28"
    assert info.kernel_version.startswith("10.0.17763.")
    assert n.metadata.labels["node.kubernetes.io/windows-build"] == "10.0.17763"
    assert int(n.metadata.resource_version) > 0 and n.metadata.uid
    # the kubelet stops: NotReady
    sim.host("win2019").stop_service("kubelet")
    ready = next(c for c in v1.read_node("win2019").status.conditions if c.type == "Ready")
    assert ready.status == "False" and ready.message == "Kubelet stopped posting node status."
    sel = v1.list_node(label_selector="kubernetes.io/os=windows,node.kubernetes.io/windows-build in (10.0.20348)")
    assert [x.metadata.name for x in sel.items] == ["win2022"]
    assert [x.metadata.name for x in v1.list_node(field_selector="metadata.name=win2019").items] == ["win2019"]
    with pytest.raises(ApiException) as exc:
        v1.read_node("nope")
    st = json.loads(exc.value.body)
    assert (exc.value.status, st["reason"], st["message"]) == (404, "NotFound", 'nodes "nope" not found')
    assert st["details"] == {"name": "nope", "kind": "nodes"}


def test_patch_node_labels_taints_and_cordon(sim: Simulator, api: k8s.ApiClient, tmp_path: Path):
    v1 = k8s.CoreV1Api(api)
    rv0 = int(v1.read_node("win2022").metadata.resource_version)
    v1.patch_node("win2022", {"metadata": {"labels": {"role": "win", "kubernetes.io/arch": None}}})
    node = sim.cluster.node("win2022")
    assert node.labels["role"] == "win" and "kubernetes.io/arch" not in node.labels
    # taints are an atomic list (NodeSpec.taints): a strategic merge patch replaces them whole
    v1.patch_node("win2022", {"spec": {"taints": [{"key": "os", "value": "windows", "effect": "NoSchedule"}]}})
    v1.patch_node("win2022", {"spec": {"taints": [{"key": "gpu", "effect": "NoExecute"}]}})
    assert node.taints == [{"key": "gpu", "effect": "NoExecute"}]
    v1.patch_node("win2022", {"spec": {"unschedulable": True}})
    got = v1.read_node("win2022")
    assert got.spec.unschedulable is True
    assert {(t.key, t.effect) for t in got.spec.taints} == {
        ("gpu", "NoExecute"),
        ("node.kubernetes.io/unschedulable", "NoSchedule"),
    }
    assert int(got.metadata.resource_version) > rv0
    # JSON patch and JSON merge patch
    patch = [{"op": "add", "path": "/metadata/annotations", "value": {"a": "b", "c": "d"}}]
    headers = {"Content-Type": "application/json-patch+json"}
    code, _ = raw(sim, "/api/v1/nodes/win2022", method="PATCH", body=patch, headers=headers, cert=True, tmp=tmp_path)
    assert code == 200 and sim.cluster.node("win2022").annotations == {"a": "b", "c": "d"}
    headers = {"Content-Type": "application/merge-patch+json"}
    body = {"metadata": {"annotations": {"a": None}}}
    code, _ = raw(sim, "/api/v1/nodes/win2022", method="PATCH", body=body, headers=headers, cert=True, tmp=tmp_path)
    assert code == 200 and sim.cluster.node("win2022").annotations == {"c": "d"}
    # what the model cannot hold is refused, not dropped
    with pytest.raises(ApiException) as exc:
        v1.patch_node("win2022", {"spec": {"podCIDR": "10.244.1.0/24"}})
    assert exc.value.status == 422 and "spec.podCIDR" in json.loads(exc.value.body)["message"]
    with pytest.raises(ApiException) as exc:
        v1.patch_node("win2022", {"spec": {"taints": [{"key": "x", "effect": "Sometimes"}]}})
    assert exc.value.status == 422 and "Unsupported value" in json.loads(exc.value.body)["message"]


def test_stale_resource_version_is_a_conflict(api: k8s.ApiClient):
    v1 = k8s.CoreV1Api(api)
    node = v1.read_node("win2022")
    node.metadata.labels["first"] = "1"
    v1.replace_node("win2022", node)  # the resourceVersion read is current
    node.metadata.labels["second"] = "2"
    with pytest.raises(ApiException) as exc:
        v1.replace_node("win2022", node)  # it is not any more
    st = json.loads(exc.value.body)
    assert (exc.value.status, st["reason"]) == (409, "Conflict")
    assert "the object has been modified" in st["message"]


def test_delete_node_and_the_kubelet_registers_it_again(sim: Simulator, api: k8s.ApiClient):
    v1 = k8s.CoreV1Api(api)
    uid = v1.read_node("win2019").metadata.uid
    v1.delete_node("win2019")
    assert sim.cluster.node("win2019") is None
    assert [n.metadata.name for n in v1.list_node().items] == ["win2022"]
    host = sim.host("win2019")
    host.stop_service("kubelet")
    assert host.start_service("kubelet") is None
    again = v1.read_node("win2019")
    assert again.metadata.uid != uid


def test_bootstrap_token_secrets_are_the_cluster_tokens(sim: Simulator, api: k8s.ApiClient):
    v1 = k8s.CoreV1Api(api)
    tok = sim.cluster.create_token(ttl=3600, description="made by kubeadm")
    secret = v1.read_namespaced_secret(f"bootstrap-token-{tok.id}", "kube-system")
    assert secret.type == "bootstrap.kubernetes.io/token"
    data = {k: base64.b64decode(v).decode() for k, v in secret.data.items()}
    assert data["token-secret"] == tok.secret and data["description"] == "made by kubeadm"
    assert data["usage-bootstrap-authentication"] == "true"
    expires = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 7200))
    v1.create_namespaced_secret(
        "kube-system",
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "bootstrap.kubernetes.io/token",
            "metadata": {"name": "bootstrap-token-abcdef"},
            "stringData": {
                "token-id": "abcdef",
                "token-secret": "0123456789abcdef",
                "expiration": expires,
                "usage-bootstrap-authentication": "true",
                "usage-bootstrap-signing": "true",
            },
        },
    )
    assert sim.cluster.token_status("abcdef.0123456789abcdef") == "ok"
    assert 7100 < sim.cluster.tokens["abcdef"].expires - time.time() <= 7200
    # kubeadm join accepts the token made through the API
    host = sim.host("win2022")
    assert sim.cluster.node("win2022") is not None
    v1.delete_namespaced_secret("bootstrap-token-abcdef", "kube-system")
    assert sim.cluster.token_status("abcdef.0123456789abcdef") == "unknown"
    r = sh(
        host,
        r"C:\k\kubeadm.exe",
        "join",
        sim.cluster.endpoint,
        "--token",
        "abcdef.0123456789abcdef",
        "--discovery-token-ca-cert-hash",
        sim.cluster.ca_cert_hash,
    )
    assert r.rc == 1
    with pytest.raises(ApiException) as exc:
        v1.create_namespaced_secret(
            "kube-system",
            {
                "metadata": {"name": f"bootstrap-token-{tok.id}"},
                "type": "bootstrap.kubernetes.io/token",
                "stringData": {"token-id": tok.id, "token-secret": "x" * 16},
            },
        )
    assert exc.value.status == 409 and json.loads(exc.value.body)["reason"] == "AlreadyExists"


def test_token_secret_made_through_the_api_joins_a_node(sim: Simulator, tmp_path: Path):
    kc = tmp_path / "kc"
    sim.write_kubeconfig(kc)
    v1 = k8s.CoreV1Api(k8s_config.new_client_from_config(config_file=str(kc)))
    v1.create_namespaced_secret(
        "kube-system",
        {
            "metadata": {"name": "bootstrap-token-qwerty"},
            "type": "bootstrap.kubernetes.io/token",
            "data": {
                k: base64.b64encode(v.encode()).decode()
                for k, v in {
                    "token-id": "qwerty",
                    "token-secret": "0123456789qwerty",
                    "usage-bootstrap-authentication": "true",
                    "usage-bootstrap-signing": "true",
                    "auth-extra-groups": "system:bootstrappers:kubeadm:default-node-token",
                }.items()
            },
        },
    )
    host = sim.host("win2022")
    install_kube(host, VERSION)
    start_containerd(host, "1.7.28")
    create_kubelet_service(host)
    checked(
        sh(
            host,
            r"C:\k\kubeadm.exe",
            "join",
            sim.cluster.endpoint,
            "--token",
            "qwerty.0123456789qwerty",
            "--discovery-token-ca-cert-hash",
            sim.cluster.ca_cert_hash,
        )
    )
    ready = next(c for c in v1.read_node("win2022").status.conditions if c.type == "Ready")
    assert ready.status == "True"


def test_eviction_pdb_and_daemonset_pods(sim: Simulator, api: k8s.ApiClient):
    v1 = k8s.CoreV1Api(api)
    on_node = v1.list_pod_for_all_namespaces(field_selector="spec.nodeName=win2022").items
    names = {(p.metadata.namespace, p.metadata.name) for p in on_node}
    assert {("default", "web-7d4b9"), ("default", "db-0a1b2"), ("kube-system", "calico-node-x1")} <= names
    # the seeded DaemonSet runs on every Windows node: win2019 got a pod of its own
    ds_pods = v1.list_namespaced_pod("kube-system", field_selector="spec.nodeName=win2019").items
    assert [p.metadata.owner_references[0].kind for p in ds_pods] == ["DaemonSet"]
    body = k8s.V1Eviction(metadata=k8s.V1ObjectMeta(name="web-7d4b9", namespace="default"))
    v1.create_namespaced_pod_eviction("web-7d4b9", "default", body)
    with pytest.raises(ApiException) as exc:
        v1.read_namespaced_pod("web-7d4b9", "default")
    assert exc.value.status == 404
    with pytest.raises(ApiException) as exc:
        v1.create_namespaced_pod_eviction(
            "db-0a1b2", "default", k8s.V1Eviction(metadata=k8s.V1ObjectMeta(name="db-0a1b2"))
        )
    st = json.loads(exc.value.body)
    assert (exc.value.status, st["reason"]) == (429, "TooManyRequests")
    assert st["message"] == "Cannot evict pod as it would violate the pod's disruption budget."
    assert st["details"]["causes"][0]["reason"] == "DisruptionBudget"
    pdbs = k8s.PolicyV1Api(api).list_namespaced_pod_disruption_budget("default").items
    assert [(p.metadata.name, p.status.disruptions_allowed) for p in pdbs] == [("db-0a1b2-pdb", 0)]
    v1.delete_namespaced_pod("db-0a1b2", "default")  # a delete is not an eviction: no budget
    with pytest.raises(ApiException) as exc:
        v1.create_namespaced_pod_eviction("gone", "default", k8s.V1Eviction(metadata=k8s.V1ObjectMeta(name="gone")))
    assert exc.value.status == 404


DAEMONSET = {
    "apiVersion": "apps/v1",
    "kind": "DaemonSet",
    "metadata": {"name": "kube-proxy-windows", "namespace": "kube-system", "labels": {"k8s-app": "kube-proxy"}},
    "spec": {
        "selector": {"matchLabels": {"k8s-app": "kube-proxy-windows"}},
        "template": {
            "metadata": {"labels": {"k8s-app": "kube-proxy-windows"}},
            "spec": {
                "nodeSelector": {"kubernetes.io/os": "windows"},
                "containers": [
                    {"name": "kube-proxy", "image": "sigwindowstools/kube-proxy:v1.33.3-calico-hostprocess"}
                ],
                "tolerations": [{"key": "os", "operator": "Equal", "value": "windows", "effect": "NoSchedule"}],
            },
        },
    },
}


def test_daemonset_server_side_apply_status_and_conflicts(sim: Simulator, api: k8s.ApiClient):
    dyn = kubernetes.dynamic.DynamicClient(api)
    ds_api = dyn.resources.get(api_version="apps/v1", kind="DaemonSet")
    created = ds_api.server_side_apply(body=DAEMONSET, namespace="kube-system", field_manager="winkube")
    assert created.metadata.generation == 1
    apps = k8s.AppsV1Api(api)
    st = apps.read_namespaced_daemon_set("kube-proxy-windows", "kube-system").status
    assert (st.desired_number_scheduled, st.number_ready) == (2, 2)
    sim.host("win2019").stop_service("kubelet")
    st = apps.read_namespaced_daemon_set("kube-proxy-windows", "kube-system").status
    assert (st.desired_number_scheduled, st.number_ready, st.number_unavailable) == (2, 1, 1)
    pods = k8s.CoreV1Api(api).list_namespaced_pod("kube-system", label_selector="k8s-app=kube-proxy-windows").items
    assert sorted(p.spec.node_name for p in pods) == ["win2019", "win2022"]
    # a taint the pods do not tolerate: no pod there any more
    k8s.CoreV1Api(api).patch_node("win2019", {"spec": {"taints": [{"key": "dedicated", "effect": "NoSchedule"}]}})
    st = apps.read_namespaced_daemon_set("kube-proxy-windows", "kube-system").status
    assert st.desired_number_scheduled == 1
    # the same apply again changes nothing; another manager changing the image conflicts
    again = ds_api.server_side_apply(body=DAEMONSET, namespace="kube-system", field_manager="winkube")
    assert again.metadata.resource_version == created.metadata.resource_version
    other = json.loads(json.dumps(DAEMONSET))
    other["spec"]["template"]["spec"]["containers"][0]["image"] = "example/kube-proxy:v2"
    del other["metadata"]["labels"]  # left to the first manager alone
    with pytest.raises(kubernetes.dynamic.exceptions.ConflictError) as exc:
        ds_api.server_side_apply(body=other, namespace="kube-system", field_manager="someone-else")
    st = json.loads(exc.value.body)
    assert st["message"].startswith('Apply failed with 1 conflict: conflict with "winkube" using apps/v1:')
    assert st["details"]["causes"][0]["field"] == '.spec.template.spec.containers[name="kube-proxy"].image'
    forced = ds_api.server_side_apply(
        body=other, namespace="kube-system", field_manager="someone-else", force_conflicts=True
    )
    assert forced.metadata.generation == 2
    assert forced.spec.template.spec.containers[0].image == "example/kube-proxy:v2"
    pods = k8s.CoreV1Api(api).list_namespaced_pod("kube-system", label_selector="k8s-app=kube-proxy-windows").items
    assert [(p.metadata.labels["pod-template-generation"], p.spec.containers[0].image) for p in pods] == [
        ("2", "example/kube-proxy:v2")
    ]  # the new template replaced the pod (win2019's is gone with its untolerated taint)
    managers = {m.manager: m.operation for m in forced.metadata.managedFields}
    assert managers == {"winkube": "Apply", "someone-else": "Apply"}
    # a field the first manager stops applying is removed (the image it now agrees on is shared)
    smaller = json.loads(json.dumps(other))
    after = ds_api.server_side_apply(body=smaller, namespace="kube-system", field_manager="winkube")
    assert not after.metadata.labels
    with pytest.raises(kubernetes.dynamic.exceptions.UnprocessibleEntityError):
        bad = json.loads(json.dumps(DAEMONSET))
        bad["spec"]["template"]["metadata"]["labels"] = {"k8s-app": "other"}
        ds_api.server_side_apply(body=bad, namespace="kube-system", field_manager="winkube", force_conflicts=True)


def test_other_objects_dry_run_validation_and_selectors(sim: Simulator, api: k8s.ApiClient, tmp_path: Path):
    v1, apps = k8s.CoreV1Api(api), k8s.AppsV1Api(api)
    v1.create_namespace({"metadata": {"name": "calico-system"}})
    assert v1.read_namespace("calico-system").metadata.labels == {"kubernetes.io/metadata.name": "calico-system"}
    cm = v1.create_namespaced_config_map("calico-system", {"metadata": {"name": "cfg"}, "data": {"a": "1"}})
    patched = v1.patch_namespaced_config_map("cfg", "calico-system", {"data": {"b": "2"}})
    assert patched.data == {"a": "1", "b": "2"}
    assert int(patched.metadata.resource_version) > int(cm.metadata.resource_version)
    # dryRun=All answers what would be stored and stores nothing
    v1.patch_namespaced_config_map("cfg", "calico-system", {"data": {"c": "3"}}, dry_run="All")
    apps.create_namespaced_daemon_set("calico-system", DAEMONSET | {"metadata": {"name": "ds"}}, dry_run="All")
    v1.patch_node("win2022", {"metadata": {"labels": {"dry": "run"}}}, dry_run="All")
    assert v1.read_namespaced_config_map("cfg", "calico-system").data == {"a": "1", "b": "2"}
    assert apps.list_namespaced_daemon_set("calico-system").items == []
    assert "dry" not in sim.cluster.node("win2022").labels
    # the schema and the DaemonSet rules are checked
    bad = json.loads(json.dumps(DAEMONSET))
    bad["spec"]["template"]["spec"]["containers"] = "kube-proxy"
    code, st = raw(
        sim, "/apis/apps/v1/namespaces/kube-system/daemonsets", method="POST", body=bad, cert=True, tmp=tmp_path
    )
    assert (code, st["reason"]) == (422, "Invalid") and "spec.template.spec.containers" in st["message"]
    with pytest.raises(ApiException) as exc:
        v1.list_pod_for_all_namespaces(field_selector="spec.hostname=x")
    assert (
        exc.value.status == 400 and "field label not supported: spec.hostname" in json.loads(exc.value.body)["message"]
    )
    rbac = k8s.RbacAuthorizationV1Api(api)
    rbac.create_cluster_role(
        {"metadata": {"name": "kube-proxy"}, "rules": [{"apiGroups": [""], "resources": ["nodes"], "verbs": ["get"]}]}
    )
    v1.create_namespaced_service_account("calico-system", {"metadata": {"name": "calico-node"}})
    assert [r.metadata.name for r in rbac.list_cluster_role().items] == ["kube-proxy"]
    # a namespace's deletion takes its objects with it
    v1.delete_namespace("calico-system")
    with pytest.raises(ApiException) as exc:
        v1.read_namespaced_config_map("cfg", "calico-system")
    assert exc.value.status == 404
    code, st = raw(sim, "/api/v1/namespaces/default/pods", method="DELETE", cert=True, tmp=tmp_path)
    assert code == 405 and "deletecollection" in st["message"]


def test_hosts_vars_win_over_the_cluster_vars(tmp_path: Path):
    cfg = config()
    cfg["vars"] = {"join_command": "kubeadm join 10.0.0.1:6443 --token abcdef.0123456789abcdef"}
    with Simulator(cfg) as s:
        s.write_inventory(tmp_path / "inv.yml")
        group = yaml.safe_load((tmp_path / "inv.yml").read_text())["all"]["children"]["windows_nodes"]["vars"]
        assert group["join_command"] == cfg["vars"]["join_command"]
        assert group["winkube_kubeconfig"] == str((tmp_path / "inv.yml.kubeconfig").resolve())


def test_not_emulated_answers_are_status_objects(sim: Simulator, tmp_path: Path):
    code, st = raw(sim, "/apis/batch/v1/jobs", cert=True, tmp=tmp_path)
    assert (code, st["kind"], st["reason"]) == (404, "Status", "NotFound")
    assert "does not emulate" in st["message"]
    code, st = raw(
        sim, "/api/v1/namespaces/default/pods", method="POST", body={"metadata": {"name": "x"}}, cert=True, tmp=tmp_path
    )
    assert (code, st["reason"]) == (405, "MethodNotAllowed") and "does not emulate create on pods" in st["message"]
    code, st = raw(sim, "/api/v1/nodes?watch=true", cert=True, tmp=tmp_path)
    assert code == 405 and "watch" in st["message"]


# ------------------------------------------------------------------ kubernetes.core through ansible-playbook

PLAYBOOK = """
- hosts: localhost
  gather_facts: false
  tasks:
    - kubernetes.core.k8s_cluster_info:
    - kubernetes.core.k8s_info:
        kind: Node
        label_selectors: [kubernetes.io/os=windows]
    - &label
      name: Label and taint a node (the second, converged, run must not change it)
      kubernetes.core.k8s:
        kind: Node
        name: win2019
        definition:
          metadata:
            labels: {node-role.kubernetes.io/worker: ""}
          spec:
            taints: [{key: os, value: windows, effect: NoSchedule}]
    - *label
    - &apply
      kubernetes.core.k8s:
        apply: true
        definition: "{{ daemonset }}"
    - *apply
    - kubernetes.core.k8s:
        apply: true
        server_side_apply: {field_manager: winkube}
        definition: "{{ daemonset }}"
    - kubernetes.core.k8s_drain:
        name: win2022
        delete_options: {ignore_daemonsets: true, wait_timeout: 10}
      ignore_errors: true
    - name: Drain with deletes (a delete is not an eviction, no budget stops it)
      kubernetes.core.k8s_drain:
        name: win2022
        delete_options: {ignore_daemonsets: true, disable_eviction: true, wait_timeout: 10}
    - kubernetes.core.k8s_drain:
        name: win2022
        state: uncordon
"""


def test_kubernetes_core_modules_run_against_the_api(sim: Simulator, api: k8s.ApiClient, tmp_path: Path):
    book = tmp_path / "play.yml"
    book.write_text(PLAYBOOK)
    extra = json.dumps({"daemonset": DAEMONSET, "ansible_python_interpreter": sys.executable})
    env = {
        "TMPDIR": str(tmp_path),
        "K8S_AUTH_KUBECONFIG": str(sim.kubeconfig_path),
        "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json",  # every task's result, as JSON
        "ANSIBLE_PIPELINING": "1",
    }
    proc = ansible_playbook("localhost,", book, "-e", extra, "-c", "local", env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr
    tasks = json.loads(proc.stdout)["plays"][0]["tasks"]
    info, nodes, patch1, patch2, apply1, apply2, ssa, blocked, drain, uncordon = (
        t["hosts"]["localhost"] for t in tasks
    )
    assert info["version"]["server"]["kubernetes"]["gitVersion"] == "v" + VERSION
    assert "apps/v1" in info["apis"] and "DaemonSet" in info["apis"]["apps/v1"]
    assert sorted(n["metadata"]["name"] for n in nodes["resources"]) == ["win2019", "win2022"]
    assert patch1["changed"] and not patch2["changed"]
    node = sim.cluster.node("win2019")
    assert node.taints == [{"key": "os", "value": "windows", "effect": "NoSchedule"}]
    assert "node-role.kubernetes.io/worker" in node.labels
    assert apply1["changed"] and not apply2["changed"]
    assert {m["manager"] for m in ssa["result"]["metadata"]["managedFields"]} >= {"winkube"}
    status = ssa["result"]["status"]
    assert (status["desiredNumberScheduled"], status["numberReady"]) == (2, 2)  # the taint is tolerated
    assert blocked["failed"]
    assert blocked["msg"] == (
        "Failed to delete pod default/db-0a1b2 due to: "
        "Cannot evict pod as it would violate the pod's disruption budget."
    )
    assert drain["changed"] and "2 Pod(s) deleted from node" in drain["result"]
    assert any("Ignoring DaemonSet-managed Pods" in w for w in drain["warnings"])
    pods = k8s.CoreV1Api(api).list_pod_for_all_namespaces(field_selector="spec.nodeName=win2022").items
    assert {p.metadata.owner_references[0].kind for p in pods} == {"DaemonSet"}
    assert uncordon["changed"] and not sim.cluster.node("win2022").unschedulable


# ------------------------------------------------------------------ kubectl

KUBECTL = shutil.which("kubectl")


@pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed (it is optional: CI machines lack it)")
def test_kubectl_get_nodes_and_drain(sim: Simulator, api: k8s.ApiClient, tmp_path: Path):
    env = {"KUBECONFIG": str(sim.kubeconfig_path), "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}

    def kubectl(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([KUBECTL, *args], env=env, capture_output=True, text=True, timeout=60, check=False)

    got = kubectl("get", "nodes")
    assert got.returncode == 0, got.stderr
    lines = [line.split() for line in got.stdout.splitlines()]
    assert lines[0] == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]
    assert [row[:3] + row[4:] for row in lines[1:]] == [
        ["win2019", "Ready", "<none>", "v" + VERSION],
        ["win2022", "Ready", "<none>", "v" + VERSION],
    ]
    got = kubectl("get", "node", "win2022", "-o", "jsonpath={.status.nodeInfo.operatingSystem}")
    assert got.stdout == "windows"
    drained = kubectl("drain", "win2019", "--ignore-daemonsets", "--timeout=20s")
    assert drained.returncode == 0, drained.stderr
    assert "pod/api-5c6d7 evicted" in drained.stdout and "node/win2019 drained" in drained.stdout
    assert sim.cluster.node("win2019").unschedulable
    got = kubectl("get", "nodes", "win2019")
    assert "Ready,SchedulingDisabled" in got.stdout
    blocked = kubectl("drain", "win2022", "--ignore-daemonsets", "--timeout=2s")
    assert blocked.returncode != 0
    assert "Cannot evict pod as it would violate the pod's disruption budget." in blocked.stderr
    assert kubectl("uncordon", "win2019").returncode == 0 and not sim.cluster.node("win2019").unschedulable


# ------------------------------------------------------------------ CLI


def test_serve_writes_the_kubeconfig_and_the_cluster_vars(tmp_path: Path):
    hosts = tmp_path / "hosts.yml"
    hosts.write_text(yaml.safe_dump(config()))
    inventory = tmp_path / "inv" / "simulator.yml"
    kubeconfig = tmp_path / "admin.conf"
    with serve_process(hosts, inventory, "--kubeconfig-out", str(kubeconfig)) as served:
        assert served.lines["kubeconfig"] == str(kubeconfig.resolve())
        assert served.lines["api"].startswith("https://127.0.0.1:")
        group = yaml.safe_load(inventory.read_text())["all"]["children"]["windows_nodes"]["vars"]
        assert group["winkube_kubeconfig"] == str(kubeconfig.resolve())
        v1 = k8s.VersionApi(k8s_config.new_client_from_config(config_file=str(kubeconfig)))
        assert v1.get_code().git_version == "v" + VERSION
    no_cluster = tmp_path / "plain.yml"
    no_cluster.write_text(yaml.safe_dump({"hosts": [{"name": "a"}]}))
    proc = subprocess.run(
        [
            ".venv/bin/python",
            "-m",
            "tests.simulator",
            "serve",
            "--config",
            str(no_cluster),
            "--inventory-out",
            str(tmp_path / "x.yml"),
            "--kubeconfig-out",
            str(tmp_path / "x.kc"),
        ],
        cwd=Path(__file__).resolve().parents[3],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2 and "needs a cluster:" in proc.stderr
