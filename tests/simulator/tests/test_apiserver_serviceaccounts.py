"""ServiceAccounts in the simulated Kubernetes API and what ``kubeadm init`` leaves there for Windows
node roles (``tests/simulator/apiserver.py``): the ``default`` ServiceAccount of every namespace, the
kube-proxy addon's ServiceAccount, ConfigMap and RBAC. Driven by the ``kubernetes`` Python client and one
kubernetes.core run; no node joins, so it stays fast."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import pytest
import yaml

from tests.simulator.apiserver import ApiState
from tests.simulator.cluster import Cluster
from tests.simulator.host import SimulatorError
from tests.simulator.pytest_plugin import ansible_playbook
from tests.simulator.server import Simulator

kubernetes = pytest.importorskip("kubernetes", reason="the kubernetes Python client is not installed in this venv")
kubernetes_validate = pytest.importorskip("kubernetes_validate", reason="kubernetes-validate is not installed")
from kubernetes import client as k8s  # noqa: E402
from kubernetes import config as k8s_config  # noqa: E402
from kubernetes.client.exceptions import ApiException  # noqa: E402

VERSION = "1.33.3"
SYSTEM_NAMESPACES = ["default", "kube-node-lease", "kube-public", "kube-system"]


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory):
    """No ``endpoint``: the cluster's endpoint becomes the bound 127.0.0.1 port, which the seeded
    ConfigMaps must carry."""
    with Simulator({"hosts": [{"name": "win2022"}], "cluster": {"version": VERSION}}) as s:
        s.write_inventory(tmp_path_factory.mktemp("sa") / "inventory.yml")
        yield s


@pytest.fixture(scope="module")
def api(sim: Simulator) -> k8s.ApiClient:
    return k8s_config.new_client_from_config(config_file=str(sim.kubeconfig_path))


def seeded(cluster: Cluster, **networking: str) -> ApiState:
    state = ApiState(cluster, **networking)
    state.seed_kubeadm_init()
    return state


# ------------------------------------------------------------------ the seeded objects, without a server


def test_kube_proxy_configmap_is_kubeadms_and_signed():
    state = seeded(Cluster(endpoint="10.20.30.10:6443", version=VERSION))
    cm = state.objects[("configmaps", "kube-system", "kube-proxy")]
    assert sorted(cm["data"]) == ["config.conf", "kubeconfig.conf"]
    assert cm["metadata"]["labels"] == {"app": "kube-proxy"}
    conf = yaml.safe_load(cm["data"]["config.conf"])
    assert (conf["apiVersion"], conf["kind"]) == ("kubeproxy.config.k8s.io/v1alpha1", "KubeProxyConfiguration")
    # kubeadm's defaults only: no pod subnet given → no clusterCIDR, mode left to kube-proxy
    assert (conf["clusterCIDR"], conf["mode"], conf["bindAddress"]) == ("", "", "0.0.0.0")  # noqa: S104
    assert conf["clientConnection"]["kubeconfig"] == "/var/lib/kube-proxy/kubeconfig.conf"
    assert list(conf) == sorted(conf), "kubeadm writes the keys sorted"
    assert not cm["data"]["config.conf"].endswith("\n"), "the template's |- strips the final newline"
    kubeconfig = yaml.safe_load(cm["data"]["kubeconfig.conf"])
    assert kubeconfig["clusters"][0]["cluster"] == {
        "certificate-authority": "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt",
        "server": "https://10.20.30.10:6443",
    }
    assert kubeconfig["users"][0]["user"] == {"tokenFile": "/var/run/secrets/kubernetes.io/serviceaccount/token"}
    # ChecksumForConfigMap: SHA-256 over the values in key order
    expected = hashlib.sha256((cm["data"]["config.conf"] + cm["data"]["kubeconfig.conf"]).encode()).hexdigest()
    assert cm["metadata"]["annotations"] == {"kubeadm.kubernetes.io/component-config.hash": f"sha256:{expected}"}
    kubelet = state.objects[("configmaps", "kube-system", "kubelet-config")]
    assert kubelet["metadata"]["annotations"]["kubeadm.kubernetes.io/component-config.hash"].startswith("sha256:")


def test_kube_proxy_configuration_follows_the_pod_subnet_and_mode():
    state = seeded(Cluster(version=VERSION), pod_subnet="192.168.0.0/16", proxy_mode="ipvs")
    cm = state.objects[("configmaps", "kube-system", "kube-proxy")]
    conf = yaml.safe_load(cm["data"]["config.conf"])
    assert (conf["clusterCIDR"], conf["mode"]) == ("192.168.0.0/16", "ipvs")
    assert "annotations" not in cm["metadata"], "a KubeProxyConfiguration the user gave is not signed"
    kubeadm = yaml.safe_load(
        state.objects[("configmaps", "kube-system", "kubeadm-config")]["data"]["ClusterConfiguration"]
    )
    assert kubeadm["networking"] == {
        "dnsDomain": "cluster.local",
        "podSubnet": "192.168.0.0/16",
        "serviceSubnet": "10.96.0.0/12",
    }


def test_seeded_rbac_and_service_accounts_are_valid_objects():
    state = seeded(Cluster(version=VERSION))
    crb = state.objects[("clusterrolebindings", "", "kubeadm:node-proxier")]
    assert crb["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "ClusterRole",
        "name": "system:node-proxier",
    }
    assert crb["subjects"] == [{"kind": "ServiceAccount", "name": "kube-proxy", "namespace": "kube-system"}]
    role = state.objects[("roles", "kube-system", "kube-proxy")]
    assert role["rules"] == [
        {"apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["kube-proxy"], "verbs": ["get"]}
    ]
    binding = state.objects[("rolebindings", "kube-system", "kube-proxy")]
    assert binding["subjects"][0]["name"] == "system:bootstrappers:kubeadm:default-node-token"
    accounts = sorted((ns, name) for res, ns, name in state.objects if res == "serviceaccounts")
    assert accounts == sorted([(ns, "default") for ns in SYSTEM_NAMESPACES] + [("kube-system", "kube-proxy")])
    for (res, _, _), obj in state.objects.items():
        if res in ("serviceaccounts", "configmaps", "clusterrolebindings", "roles", "rolebindings"):
            kubernetes_validate.validate(obj, VERSION, strict=True)


@pytest.mark.parametrize(
    ("networking", "message"),
    [
        ({"pod_subnet": "192.168.0.0/33"}, "is not a CIDR list"),
        ({"pod_subnet": "10.0.0.1/8"}, "is not a CIDR list"),  # host bits set: kubeadm refuses it too
        ({"proxy_mode": "userspace"}, "is not one kubeadm accepts"),
        ({"proxy_mode": "kernelspace"}, "is not one kubeadm accepts"),  # Windows only; kubeadm runs on Linux
    ],
)
def test_networking_kubeadm_refuses_is_refused(networking: dict[str, str], message: str):
    with pytest.raises(SimulatorError, match=message):
        ApiState(Cluster(version=VERSION), **networking)


def test_nftables_needs_1_29():
    with pytest.raises(SimulatorError, match=r"needs Kubernetes 1\.29"):
        ApiState(Cluster(version="1.28.9"), proxy_mode="nftables")
    assert ApiState(Cluster(version="1.29.0"), proxy_mode="nftables").networking.proxy_mode == "nftables"


# ------------------------------------------------------------------ through the Python client


def test_discovery_lists_serviceaccounts(api: k8s.ApiClient):
    by_name = {r.name: r for r in k8s.CoreV1Api(api).get_api_resources().resources}
    sa = by_name["serviceaccounts"]
    assert (sa.kind, sa.namespaced, sa.short_names, sa.singular_name) == (
        "ServiceAccount",
        True,
        ["sa"],
        "serviceaccount",
    )
    assert sorted(sa.verbs) == ["create", "delete", "get", "list", "patch", "update"]


def test_kubeadm_objects_carry_the_bound_endpoint(sim: Simulator, api: k8s.ApiClient):
    v1 = k8s.CoreV1Api(api)
    server = sim.cluster.server_url()
    assert server.startswith("https://127.0.0.1:") and server != "https://10.20.30.10:6443"
    cm = v1.read_namespaced_config_map("kube-proxy", "kube-system")
    assert yaml.safe_load(cm.data["kubeconfig.conf"])["clusters"][0]["cluster"]["server"] == server
    kubeadm = yaml.safe_load(
        v1.read_namespaced_config_map("kubeadm-config", "kube-system").data["ClusterConfiguration"]
    )
    assert "https://" + kubeadm["controlPlaneEndpoint"] == server
    crb = k8s.RbacAuthorizationV1Api(api).read_cluster_role_binding("kubeadm:node-proxier")
    assert crb.role_ref.name == "system:node-proxier"


def test_service_account_verbs_and_the_default_account(api: k8s.ApiClient):
    v1 = k8s.CoreV1Api(api)
    listed = sorted((a.metadata.namespace, a.metadata.name) for a in v1.list_service_account_for_all_namespaces().items)
    assert ("kube-system", "kube-proxy") in listed
    assert {ns for ns, name in listed if name == "default"} >= set(SYSTEM_NAMESPACES)
    assert v1.read_namespaced_service_account("kube-proxy", "kube-system").secrets is None  # none since 1.24
    # a new namespace gets its default ServiceAccount from the controller
    v1.create_namespace({"metadata": {"name": "calico-system"}})
    try:
        assert [a.metadata.name for a in v1.list_namespaced_service_account("calico-system").items] == ["default"]
        created = v1.create_namespaced_service_account("calico-system", {"metadata": {"name": "calico-node"}})
        assert created.metadata.uid and created.metadata.creation_timestamp
        with pytest.raises(ApiException) as exc:
            v1.create_namespaced_service_account("calico-system", {"metadata": {"name": "calico-node"}})
        assert (exc.value.status, json.loads(exc.value.body)["reason"]) == (409, "AlreadyExists")
        created.metadata.labels = {"app": "calico"}
        replaced = v1.replace_namespaced_service_account("calico-node", "calico-system", created)
        assert replaced.metadata.labels == {"app": "calico"}
        assert int(replaced.metadata.resource_version) > int(created.metadata.resource_version)
        patched = v1.patch_namespaced_service_account(
            "calico-node", "calico-system", {"automountServiceAccountToken": False}
        )
        assert patched.automount_service_account_token is False and patched.metadata.labels == {"app": "calico"}
        with pytest.raises(ApiException) as exc:  # a stale resourceVersion
            v1.replace_namespaced_service_account("calico-node", "calico-system", created)
        assert exc.value.status == 409
        # server-side apply: a field another manager owns conflicts
        sa_api = kubernetes.dynamic.DynamicClient(api).resources.get(api_version="v1", kind="ServiceAccount")
        body = {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": "calico-node", "namespace": "calico-system", "labels": {"app": "other"}},
        }
        with pytest.raises(kubernetes.dynamic.exceptions.ConflictError):
            sa_api.server_side_apply(body=body, namespace="calico-system", field_manager="winkube")
        applied = sa_api.server_side_apply(
            body=body, namespace="calico-system", field_manager="winkube", force_conflicts=True
        )
        assert applied.to_dict()["metadata"]["labels"] == {"app": "other"}
        assert "winkube" in {m.manager for m in applied.metadata.managedFields}
        v1.delete_namespaced_service_account("calico-node", "calico-system")
        with pytest.raises(ApiException) as exc:
            v1.read_namespaced_service_account("calico-node", "calico-system")
        assert json.loads(exc.value.body)["message"] == 'serviceaccounts "calico-node" not found'
        # the controller makes a deleted default ServiceAccount again (a new object)
        old = v1.read_namespaced_service_account("default", "calico-system").metadata.uid
        v1.delete_namespaced_service_account("default", "calico-system")
        assert v1.read_namespaced_service_account("default", "calico-system").metadata.uid != old
    finally:
        v1.delete_namespace("calico-system")
    assert "calico-system" not in {a.metadata.namespace for a in v1.list_service_account_for_all_namespaces().items}


# ------------------------------------------------------------------ kubernetes.core

PLAYBOOK = """
- hosts: localhost
  gather_facts: false
  tasks:
    - kubernetes.core.k8s:
        state: present
        apply: true
        definition:
          apiVersion: v1
          kind: ServiceAccount
          metadata: {name: calico-node, namespace: kube-system}
    - kubernetes.core.k8s_info:
        kind: ServiceAccount
        namespace: kube-system
"""


def test_kubernetes_core_applies_and_lists_service_accounts(sim: Simulator, tmp_path: Path):
    book = tmp_path / "play.yml"
    book.write_text(PLAYBOOK)
    env = {
        "TMPDIR": str(tmp_path),
        "K8S_AUTH_KUBECONFIG": str(sim.kubeconfig_path),
        "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json",
        "ANSIBLE_PIPELINING": "1",
    }
    extra = json.dumps({"ansible_python_interpreter": sys.executable})
    proc = ansible_playbook("localhost,", book, "-e", extra, "-c", "local", env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr
    # Each kubernetes.core task costs a client start and a discovery: two tasks, the role's two uses.
    applied, info = (t["hosts"]["localhost"] for t in json.loads(proc.stdout)["plays"][0]["tasks"])
    assert applied["changed"] and applied["result"]["metadata"]["namespace"] == "kube-system"
    assert sorted(r["metadata"]["name"] for r in info["resources"]) == ["calico-node", "default", "kube-proxy"]
