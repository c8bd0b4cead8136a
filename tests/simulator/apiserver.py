"""A Kubernetes API server subset over HTTPS on 127.0.0.1, backed by the simulated cluster
(``cluster.py``), so that kubernetes.core, the ``kubernetes`` Python client and ``kubectl`` run
against the simulator for real.

* TLS: a server certificate signed by the cluster CA (SANs 127.0.0.1, localhost, the endpoint
  host, the aliases, kubernetes, kubernetes.default.svc). Clients authenticate with a client
  certificate signed by the CA (the admin kubeconfig: ``CN=kubernetes-admin, O=system:masters``;
  kubelets: ``system:node:<name>``) or a bootstrap token (``Authorization: Bearer id.secret``).
  Anonymous requests may read what ``system:public-info-viewer`` grants (``/version``,
  ``/healthz``, ``/livez``, ``/readyz``) and ``kube-public/cluster-info``; anything else is 403.
* Objects: Nodes are the cluster model's nodes (kubelet registers them; Ready is computed from the
  host's kubelet service). Pods, DaemonSets, Namespaces, Secrets, ConfigMaps, ServiceAccounts and
  RBAC objects live here; the ``bootstrap-token-<id>`` Secrets *are* ``cluster.tokens`` (both ways);
  DaemonSet pods are placed on the matching nodes (nodeSelector, required node affinity, taints and
  tolerations) and their status is counted from them; PodDisruptionBudgets (read-only) come from the
  seeded pods; every namespace has its ``default`` ServiceAccount (the serviceaccount controller).
* Seeded when the server starts, as ``kubeadm init`` leaves them: kubeadm-config, kubelet-config and
  the kube-proxy addon (ServiceAccount, ConfigMap with ``config.conf``/``kubeconfig.conf``, the
  ``kubeadm:node-proxier`` ClusterRoleBinding, the Role/RoleBinding bootstrap tokens read it with).
* Writes: create, update (409 on a stale resourceVersion), patch (merge, strategic merge with the
  real schema's merge keys, JSON patch, server-side apply with field managers, conflicts and
  ``force``), delete, ``dryRun=All``; eviction (``pods/eviction``) honours the disruption budgets
  (429).
* Anything else answers 404/405 with a Status naming what the simulator does not emulate.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import dataclasses
import datetime
import hashlib
import hmac
import http.server
import ipaddress
import json
import logging
import os
import re
import secrets
import socket
import ssl
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.simulator.apiserver_objects import (
    ApiError,
    FieldPath,
    Schema,
    delete_path,
    field_paths,
    json_merge_patch,
    json_patch,
    match_fields,
    match_labels,
    parse_selector,
    path_text,
    render_fields_v1,
    rfc3339,
    set_path,
    status,
    strategic_merge_patch,
)
from tests.simulator.cluster import BootstrapToken, Cluster, Node, sync_unschedulable_taint
from tests.simulator.host import SimulatorError

__all__ = ["RESOURCES", "ApiServer", "ApiState", "admin_kubeconfig", "seed_pods_schema"]

log = logging.getLogger("tests.simulator.apiserver")

BIND = "127.0.0.1"
PAUSE_IMAGE = "registry.k8s.io/pause:3.10"
TOKEN_SECRET_TYPE = "bootstrap.kubernetes.io/token"
SYSTEM_NAMESPACES = ("default", "kube-node-lease", "kube-public", "kube-system")
UNSCHEDULABLE_TAINT = "node.kubernetes.io/unschedulable"
# Tolerations the DaemonSet controller adds to every DaemonSet pod.
DAEMONSET_TOLERATIONS = [
    {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/disk-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/memory-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/pid-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": UNSCHEDULABLE_TAINT, "operator": "Exists", "effect": "NoSchedule"},
]


# ------------------------------------------------------------------ resources and discovery


def _res(group: str, kind: str, namespaced: bool, verbs: list[str], short: list[str] | None = None) -> dict[str, Any]:
    return {"group": group, "kind": kind, "namespaced": namespaced, "verbs": verbs, "shortNames": short or []}


RW = ["create", "delete", "get", "list", "patch", "update"]
# (group, version) → resource name → what discovery says about it. Every verb listed is served.
RESOURCES: dict[tuple[str, str], dict[str, dict[str, Any]]] = {
    ("", "v1"): {
        "configmaps": _res("", "ConfigMap", True, RW, ["cm"]),
        "namespaces": _res("", "Namespace", False, RW, ["ns"]),
        "nodes": _res("", "Node", False, ["delete", "get", "list", "patch", "update"], ["no"]),
        "pods": _res("", "Pod", True, ["delete", "get", "list"], ["po"]),
        "pods/eviction": {**_res("", "Eviction", True, ["create"]), "group": "policy", "version": "v1"},
        "secrets": _res("", "Secret", True, RW),
        "serviceaccounts": _res("", "ServiceAccount", True, RW, ["sa"]),
    },
    ("apps", "v1"): {"daemonsets": _res("apps", "DaemonSet", True, RW, ["ds"])},
    ("policy", "v1"): {"poddisruptionbudgets": _res("policy", "PodDisruptionBudget", True, ["get", "list"], ["pdb"])},
    # What node DaemonSet manifests (kube-proxy, CNIs) bring along: stored as given.
    ("rbac.authorization.k8s.io", "v1"): {
        "clusterrolebindings": _res("rbac.authorization.k8s.io", "ClusterRoleBinding", False, RW),
        "clusterroles": _res("rbac.authorization.k8s.io", "ClusterRole", False, RW),
        "rolebindings": _res("rbac.authorization.k8s.io", "RoleBinding", True, RW),
        "roles": _res("rbac.authorization.k8s.io", "Role", True, RW),
    },
    ("storage.k8s.io", "v1"): {
        "storageclasses": _res("storage.k8s.io", "StorageClass", False, ["get", "list"], ["sc"])
    },
}
SINGULAR = {
    "configmaps": "configmap",
    "namespaces": "namespace",
    "nodes": "node",
    "pods": "pod",
    "secrets": "secret",
    "daemonsets": "daemonset",
    "poddisruptionbudgets": "poddisruptionbudget",
    "storageclasses": "storageclass",
    "serviceaccounts": "serviceaccount",
    "clusterrolebindings": "clusterrolebinding",
    "clusterroles": "clusterrole",
    "rolebindings": "rolebinding",
    "roles": "role",
}


def resource_list_doc(group: str, version: str) -> dict[str, Any]:
    """``/api/v1`` or ``/apis/GROUP/VERSION``: an APIResourceList."""
    resources = []
    for name, info in RESOURCES[(group, version)].items():
        entry: dict[str, Any] = {
            "name": name,
            "singularName": SINGULAR.get(name, ""),
            "namespaced": info["namespaced"],
            "kind": info["kind"],
            "verbs": info["verbs"],
        }
        if "/" in name:
            entry["group"], entry["version"] = info["group"], info["version"]
        if info["shortNames"]:
            entry["shortNames"] = info["shortNames"]
        resources.append(entry)
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": f"{group}/{version}".lstrip("/"),
        "resources": resources,
    }


def api_groups_doc() -> dict[str, Any]:
    groups = []
    for group, version in RESOURCES:
        if group:
            gv = {"groupVersion": f"{group}/{version}", "version": version}
            groups.append({"name": group, "versions": [gv], "preferredVersion": gv})
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def _gv_of(api_version: str) -> tuple[str, str]:
    group, _, version = api_version.rpartition("/")
    return group, version


# ------------------------------------------------------------------ TLS material


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )


def _issue(
    cluster: Cluster, subject: x509.Name, usage: x509.ObjectIdentifier, sans: list[x509.GeneralName] | None = None
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=5)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(cluster.ca.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    )
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return builder.sign(cluster.ca.key, hashes.SHA256()), key


def _san(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def server_names(cluster: Cluster) -> list[str]:
    hosts = [
        BIND,
        "localhost",
        "kubernetes",
        "kubernetes.default",
        "kubernetes.default.svc",
        f"kubernetes.default.svc.{cluster.cluster_domain}",
    ]
    for endpoint in (cluster.endpoint, *cluster.aliases):
        host = endpoint.removeprefix("https://").rsplit(":", 1)[0].strip("[]")
        if host not in hosts:
            hosts.append(host)
    return hosts


def admin_kubeconfig(cluster: Cluster, server: str, tls_server_name: str | None) -> str:
    """The admin kubeconfig kubeadm writes (``admin.conf``): a client certificate for
    ``CN=kubernetes-admin, O=system:masters`` signed by the cluster CA, the CA inline."""
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "system:masters"),
            x509.NameAttribute(NameOID.COMMON_NAME, "kubernetes-admin"),
        ]
    )
    cert, key = _issue(cluster, subject, x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )
    name = cluster.cluster_name
    cluster_entry: dict[str, Any] = {"certificate-authority-data": cluster.ca_data_b64(), "server": server}
    if tls_server_name:
        cluster_entry["tls-server-name"] = tls_server_name
    doc = {
        "apiVersion": "v1",
        "clusters": [{"cluster": cluster_entry, "name": name}],
        "contexts": [{"context": {"cluster": name, "user": "kubernetes-admin"}, "name": f"kubernetes-admin@{name}"}],
        "current-context": f"kubernetes-admin@{name}",
        "kind": "Config",
        "preferences": {},
        "users": [
            {
                "name": "kubernetes-admin",
                "user": {
                    "client-certificate-data": base64.b64encode(cert.public_bytes(serialization.Encoding.PEM)).decode(),
                    "client-key-data": base64.b64encode(key_pem).decode(),
                },
            }
        ],
    }
    return yaml.safe_dump(doc, sort_keys=False)


# ------------------------------------------------------------------ users


class User:
    def __init__(self, name: str, groups: list[str]) -> None:
        self.name, self.groups = name, groups

    @property
    def admin(self) -> bool:
        return "system:masters" in self.groups

    @property
    def anonymous(self) -> bool:
        return self.name == "system:anonymous"


ANONYMOUS = User("system:anonymous", ["system:unauthenticated"])
PUBLIC_PATHS = ("/version", "/healthz", "/livez", "/readyz")


# ------------------------------------------------------------------ the object store


def _now() -> float:
    return time.time()


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _unb64(value: Any, where: str) -> str:
    try:
        return base64.b64decode(str(value), validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "BadRequest", f"{where}: illegal base64 data") from None


def _jws_detached(payload: str, token: BootstrapToken) -> str:
    """kubeadm's cluster-info signature: a detached HS256 JWS keyed by the token secret."""

    def enc(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    header = enc(json.dumps({"alg": "HS256", "kid": token.id}, separators=(",", ":")).encode())
    signing_input = f"{header}.{enc(payload.encode())}".encode()
    signature = enc(hmac.new(token.secret.encode(), signing_input, hashlib.sha256).digest())
    return f"{header}..{signature}"


def _human_age(seconds: float) -> str:
    """Go's ``duration.HumanDuration`` as kubectl's AGE column shows it."""
    s = int(max(seconds, 0))
    if s < 120:
        return f"{s}s"
    m = s // 60
    if m < 10:
        return f"{m}m{s % 60}s" if s % 60 else f"{m}m"
    if m < 180:
        return f"{m}m"
    h = m // 60
    if h < 8:
        return f"{h}h{m % 60}m" if m % 60 else f"{h}h"
    if h < 48:
        return f"{h}h"
    return f"{h // 24}d"


# ------------------------------------------------------------------ what kubeadm init leaves in the API

# kubeadm's kube-proxy addon (cmd/kubeadm/app/phases/addons/proxy): the ServiceAccount, ConfigMap,
# Role and RoleBinding are all named "kube-proxy" in kube-system; the ClusterRoleBinding binds the
# ServiceAccount to the API server's bootstrap ClusterRole system:node-proxier.
KUBE_PROXY = "kube-proxy"
KUBE_PROXY_CLUSTER_ROLE_BINDING = "kubeadm:node-proxier"
KUBE_PROXY_CLUSTER_ROLE = "system:node-proxier"
NODE_BOOTSTRAP_TOKEN_GROUP = "system:bootstrappers:kubeadm:default-node-token"
# kubeadm's componentconfigs.SignConfigMap: set on the component ConfigMaps kubeadm generated itself.
COMPONENT_CONFIG_HASH = "kubeadm.kubernetes.io/component-config.hash"
# KubeProxyConfiguration.mode values kubeadm (running on Linux) validates; "" is kube-proxy's platform
# default (iptables on Linux, kernelspace on Windows). nftables exists from v1.29.
PROXY_MODES = ("", "iptables", "ipvs", "nftables")


@dataclasses.dataclass(frozen=True)
class KubeadmNetworking:
    """What ``kubeadm init`` was given that the ConfigMaps it writes follow: ``--pod-network-cidr``
    (``networking.podSubnet``, kube-proxy's ``clusterCIDR``) and a KubeProxyConfiguration ``mode``."""

    pod_subnet: str = ""
    proxy_mode: str = ""

    @classmethod
    def checked(cls, pod_subnet: str, proxy_mode: str, minor: int) -> KubeadmNetworking:
        """Refuse what kubeadm init refuses, so a run cannot pass on a cluster kubeadm never builds."""
        subnets = [s.strip() for s in pod_subnet.split(",")] if pod_subnet else []
        for subnet in subnets:
            try:
                ipaddress.ip_network(subnet, strict=True)
            except ValueError as exc:
                raise SimulatorError(f"simulator: pod subnet {pod_subnet!r} is not a CIDR list: {exc}") from None
        if proxy_mode not in PROXY_MODES:
            raise SimulatorError(
                f"simulator: kube-proxy mode {proxy_mode!r} is not one kubeadm accepts: {', '.join(PROXY_MODES[1:])}"
            )
        if proxy_mode == "nftables" and minor < 29:
            raise SimulatorError(f"simulator: kube-proxy mode nftables needs Kubernetes 1.29 or newer, not 1.{minor}")
        return cls(",".join(subnets), proxy_mode)


def _go_yaml_str(value: str) -> str:
    """A string as sigs.k8s.io/yaml writes the values used here: ``""`` when empty, else bare."""
    return value if value else '""'


def kube_proxy_config_conf(networking: KubeadmNetworking) -> str:
    """``config.conf`` of the kube-proxy ConfigMap: kubeadm marshals the v1alpha1
    KubeProxyConfiguration with only its own defaults set (componentconfigs/kubeproxy.go: bindAddress,
    clusterCIDR from the pod subnet, clientConnection.kubeconfig), every other field at its zero value,
    keys sorted; the ``|-`` of the template drops the final newline. The field set is v1.29's and newer
    (nftables, conntrack UDP timeouts), for every cluster version."""
    return f"""apiVersion: kubeproxy.config.k8s.io/v1alpha1
bindAddress: 0.0.0.0
bindAddressHardFail: false
clientConnection:
  acceptContentTypes: ""
  burst: 0
  contentType: ""
  kubeconfig: /var/lib/kube-proxy/kubeconfig.conf
  qps: 0
clusterCIDR: {_go_yaml_str(networking.pod_subnet)}
configSyncPeriod: 0s
conntrack:
  maxPerCore: null
  min: null
  tcpBeLiberal: false
  tcpCloseWaitTimeout: null
  tcpEstablishedTimeout: null
  udpStreamTimeout: 0s
  udpTimeout: 0s
detectLocal:
  bridgeInterface: ""
  interfaceNamePrefix: ""
detectLocalMode: ""
enableProfiling: false
healthzBindAddress: ""
hostnameOverride: ""
iptables:
  localhostNodePorts: null
  masqueradeAll: false
  masqueradeBit: null
  minSyncPeriod: 0s
  syncPeriod: 0s
ipvs:
  excludeCIDRs: null
  minSyncPeriod: 0s
  scheduler: ""
  strictARP: false
  syncPeriod: 0s
  tcpFinTimeout: 0s
  tcpTimeout: 0s
  udpTimeout: 0s
kind: KubeProxyConfiguration
logging:
  flushFrequency: 0
  options:
    json:
      infoBufferSize: "0"
    text:
      infoBufferSize: "0"
  verbosity: 0
metricsBindAddress: ""
mode: {_go_yaml_str(networking.proxy_mode)}
nftables:
  masqueradeAll: false
  masqueradeBit: null
  minSyncPeriod: 0s
  syncPeriod: 0s
nodePortAddresses: null
oomScoreAdj: null
portRange: ""
showHiddenMetricsForVersion: ""
winkernel:
  enableDSR: false
  forwardHealthCheckVip: false
  networkName: ""
  rootHnsEndpointName: ""
  sourceVip: ""
""".removesuffix("\n")


def kube_proxy_kubeconfig_conf(server: str) -> str:
    """``kubeconfig.conf`` of the kube-proxy ConfigMap (proxy/manifests.go KubeProxyConfigMap19): the
    control plane endpoint, the pod's ServiceAccount CA and token."""
    return f"""apiVersion: v1
kind: Config
clusters:
- cluster:
    certificate-authority: /var/run/secrets/kubernetes.io/serviceaccount/ca.crt
    server: {server}
  name: default
contexts:
- context:
    cluster: default
    namespace: default
    user: default
  name: default
current-context: default
users:
- name: default
  user:
    tokenFile: /var/run/secrets/kubernetes.io/serviceaccount/token
""".removesuffix("\n")


def component_config_hash(data: dict[str, str]) -> str:
    """kubeadm's ChecksumForConfigMap: SHA-256 over the data values in key order."""
    digest = hashlib.sha256()
    for key in sorted(data):
        digest.update(data[key].encode())
    return f"sha256:{digest.hexdigest()}"


def kube_proxy_addon_objects(server: str, networking: KubeadmNetworking) -> list[tuple[str, dict[str, Any]]]:
    """(resource, object) for what kubeadm's kube-proxy addon phase creates besides its Linux
    DaemonSet: the ServiceAccount, the ClusterRoleBinding to system:node-proxier, the ConfigMap, and
    the Role/RoleBinding letting bootstrap tokens read that ConfigMap during a join."""
    data = {"config.conf": kube_proxy_config_conf(networking), "kubeconfig.conf": kube_proxy_kubeconfig_conf(server)}
    meta: dict[str, Any] = {"name": KUBE_PROXY, "namespace": "kube-system", "labels": {"app": KUBE_PROXY}}
    if not networking.proxy_mode:  # a KubeProxyConfiguration the user gave is not signed
        meta["annotations"] = {COMPONENT_CONFIG_HASH: component_config_hash(data)}
    rbac = "rbac.authorization.k8s.io"
    return [
        ("serviceaccounts", {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _ks(KUBE_PROXY)}),
        (
            "clusterrolebindings",
            {
                "apiVersion": f"{rbac}/v1",
                "kind": "ClusterRoleBinding",
                "metadata": {"name": KUBE_PROXY_CLUSTER_ROLE_BINDING},
                "roleRef": {"apiGroup": rbac, "kind": "ClusterRole", "name": KUBE_PROXY_CLUSTER_ROLE},
                "subjects": [{"kind": "ServiceAccount", "name": KUBE_PROXY, "namespace": "kube-system"}],
            },
        ),
        ("configmaps", {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": data}),
        (
            "roles",
            {
                "apiVersion": f"{rbac}/v1",
                "kind": "Role",
                "metadata": _ks(KUBE_PROXY),
                "rules": [
                    {"apiGroups": [""], "resources": ["configmaps"], "resourceNames": [KUBE_PROXY], "verbs": ["get"]}
                ],
            },
        ),
        (
            "rolebindings",
            {
                "apiVersion": f"{rbac}/v1",
                "kind": "RoleBinding",
                "metadata": _ks(KUBE_PROXY),
                "roleRef": {"apiGroup": rbac, "kind": "Role", "name": KUBE_PROXY},
                "subjects": [{"apiGroup": rbac, "kind": "Group", "name": NODE_BOOTSTRAP_TOKEN_GROUP}],
            },
        ),
    ]


def _ks(name: str) -> dict[str, str]:
    return {"name": name, "namespace": "kube-system"}


class ApiState:
    """Every object the API serves; all access under ``cluster.lock``."""

    def __init__(
        self,
        cluster: Cluster,
        pods: list[dict[str, Any]] | None = None,
        *,
        pod_subnet: str = "",
        proxy_mode: str = "",
    ) -> None:
        self.cluster = cluster
        self.minor = int(cluster.version.split(".")[1])
        self.networking = KubeadmNetworking.checked(pod_subnet, proxy_mode, self.minor)
        self.kubeadm_seeded = False
        self.objects: dict[tuple[str, str, str], dict[str, Any]] = {}
        # (resource, namespace, name) → manager → {"paths": set, "operation", "apiVersion", "time"}
        self.managers: dict[tuple[str, str, str], dict[str, dict[str, Any]]] = {}
        self.created = _now()
        try:  # the patch semantics come from the schemas: without them, refuse to start
            Schema.for_kind(self.minor, "", "v1", "Node")
        except ImportError as exc:
            raise SimulatorError(
                "simulator: the Kubernetes API needs the kubernetes-validate package (its OpenAPI schemas)"
            ) from exc
        with cluster.lock:
            for ns in SYSTEM_NAMESPACES:
                self._store(
                    "namespaces",
                    "",
                    self._fresh({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}, "namespaces"),
                )
            for spec in pods or []:
                self._seed_pod(spec)
            self._serviceaccounts_controller()

    # ---------------------------------------------------------------- helpers

    def schema(self, api_version: str, kind: str) -> Schema:
        group, version = _gv_of(api_version)
        try:
            return Schema.for_kind(self.minor, group, version, kind)
        except KeyError:
            return Schema.empty()

    def _fresh(self, obj: dict[str, Any], resource: str) -> dict[str, Any]:
        meta = obj.setdefault("metadata", {})
        meta["uid"] = str(uuid.uuid4())
        meta["creationTimestamp"] = rfc3339(_now())
        meta["resourceVersion"] = str(self.cluster.next_revision())
        if resource == "daemonsets":
            meta["generation"] = 1
        if resource == "namespaces":
            obj["spec"] = {"finalizers": ["kubernetes"]}
            obj["status"] = {"phase": "Active"}
            meta.setdefault("labels", {})["kubernetes.io/metadata.name"] = meta["name"]
        return obj

    def _store(self, resource: str, ns: str, obj: dict[str, Any]) -> None:
        self.objects[(resource, ns, obj["metadata"]["name"])] = obj

    def seed_kubeadm_init(self) -> None:
        """What ``kubeadm init`` wrote through the API and Windows node roles read: the kubeadm-config
        and kubelet-config ConfigMaps and the kube-proxy addon's objects. Seeded once, when the API
        server starts: they carry the endpoint, only final once the port is bound."""
        if self.kubeadm_seeded:
            return
        with self.cluster.lock:
            self._seed_configmaps()
            for resource, obj in kube_proxy_addon_objects(self.cluster.server_url(), self.networking):
                ns = obj["metadata"].get("namespace", "")
                self._store(resource, ns, self._fresh(obj, resource))
            self.kubeadm_seeded = True

    def _seed_configmaps(self) -> None:
        c = self.cluster
        kubeadm_version = "v1beta4" if self.minor >= 31 else "v1beta3"
        cluster_config = {
            "apiVersion": f"kubeadm.k8s.io/{kubeadm_version}",
            "kind": "ClusterConfiguration",
            "apiServer": {},
            "caCertificateValidityPeriod": "87600h0m0s",
            "certificateValidityPeriod": "8760h0m0s",
            "certificatesDir": "/etc/kubernetes/pki",
            "clusterName": c.cluster_name,
            "controlPlaneEndpoint": c.endpoint,
            "controllerManager": {},
            "dns": {},
            "encryptionAlgorithm": "RSA-2048",
            "etcd": {"local": {"dataDir": "/var/lib/etcd"}},
            "imageRepository": "registry.k8s.io",
            "kubernetesVersion": c.git_version,
            "networking": {
                "dnsDomain": c.cluster_domain,
                **({"podSubnet": self.networking.pod_subnet} if self.networking.pod_subnet else {}),
                "serviceSubnet": "10.96.0.0/12",
            },
            "proxy": {},
            "scheduler": {},
        }
        for name, data in (
            ("kubeadm-config", {"ClusterConfiguration": yaml.safe_dump(cluster_config, sort_keys=True)}),
            ("kubelet-config", {"kubelet": c.kubelet_config_yaml()}),
        ):
            meta: dict[str, Any] = {"name": name, "namespace": "kube-system"}
            if name == "kubelet-config":  # kubeadm signs the component configs it generated
                meta["annotations"] = {COMPONENT_CONFIG_HASH: component_config_hash(data)}
            obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": data}
            self._store("configmaps", "kube-system", self._fresh(obj, "configmaps"))

    def cluster_info(self) -> dict[str, Any]:
        """``kube-public/cluster-info``: the kubeconfig with the CA and the endpoint the nodes use,
        signed (``jws-kubeconfig-<id>``) for every live token, as the bootstrap signer keeps it."""
        c = self.cluster
        kubeconfig = yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "preferences": {},
                "users": None,
                "contexts": None,
                "current-context": "",
                "clusters": [
                    {"name": "", "cluster": {"certificate-authority-data": c.ca_data_b64(), "server": c.server_url()}}
                ],
            },
            sort_keys=True,
        )
        data = {"kubeconfig": kubeconfig}
        for tok in c.live_tokens():
            if "signing" in tok.usages:
                data[f"jws-kubeconfig-{tok.id}"] = _jws_detached(kubeconfig, tok)
        return {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "data": data,
            "metadata": {
                "name": "cluster-info",
                "namespace": "kube-public",
                "uid": str(uuid.uuid5(uuid.NAMESPACE_URL, c.ca_cert_hash)),
                "resourceVersion": str(max([t.resource_version for t in c.tokens.values()] or [1])),
                "creationTimestamp": rfc3339(self.created),
            },
        }

    def _seed_pod(self, spec: dict[str, Any]) -> None:
        ns = spec.get("namespace") or "default"
        if ("namespaces", "", ns) not in self.objects:
            self._store(
                "namespaces",
                "",
                self._fresh({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}, "namespaces"),
            )
        labels: dict[str, str] = {}
        if spec.get("daemonset"):
            ds = self.objects.get(("daemonsets", ns, spec["daemonset"]))
            if ds is None:
                ds = self._seed_daemonset(ns, spec["daemonset"])
            owner = {
                "apiVersion": "apps/v1",
                "kind": "DaemonSet",
                "name": ds["metadata"]["name"],
                "uid": ds["metadata"]["uid"],
                "controller": True,
                "blockOwnerDeletion": True,
            }
            labels.update(ds["spec"]["template"]["metadata"].get("labels", {}))
            labels["pod-template-generation"] = "1"
        else:
            # A workload pod: owned by a ReplicaSet, so drain evicts it without --force.
            rs = spec["name"].rsplit("-", 1)[0] if "-" in spec["name"] else spec["name"]
            labels["app"] = rs
            owner = {
                "apiVersion": "apps/v1",
                "kind": "ReplicaSet",
                "name": rs,
                "uid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{ns}/{rs}")),
                "controller": True,
                "blockOwnerDeletion": True,
            }
        containers = [{"name": "app", "image": PAUSE_IMAGE}]
        pod = self._pod(ns, spec["name"], spec["node"], labels, owner=owner, spec={"containers": containers})
        self._store("pods", ns, pod)
        if spec.get("pdb_blocks"):
            self._seed_pdb(ns, spec, labels)

    def _seed_daemonset(self, ns: str, name: str) -> dict[str, Any]:
        labels = {"app.kubernetes.io/name": name}
        obj = {
            "apiVersion": "apps/v1",
            "kind": "DaemonSet",
            "metadata": {"name": name, "namespace": ns},
            "spec": {
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {
                        "nodeSelector": {"kubernetes.io/os": "windows"},
                        "containers": [{"name": name, "image": PAUSE_IMAGE}],
                    },
                },
            },
        }
        obj = self._fresh(_default_daemonset(obj), "daemonsets")
        self._store("daemonsets", ns, obj)
        return obj

    def _seed_pdb(self, ns: str, spec: dict[str, Any], labels: dict[str, str]) -> None:
        """A budget whose minAvailable is every pod it selects: no disruption is allowed."""
        name = spec["pdb_blocks"] if isinstance(spec["pdb_blocks"], str) else f"{spec['name']}-pdb"
        selector = {"matchLabels": {"app": labels["app"]}} if "app" in labels else {"matchLabels": dict(labels)}
        obj = {
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": {"name": name, "namespace": ns},
            "spec": {"selector": selector, "minAvailable": 1},
        }
        self._store("poddisruptionbudgets", ns, self._fresh(obj, "poddisruptionbudgets"))

    def _pod(
        self, ns: str, name: str, node: str, labels: dict[str, str], *, owner: dict[str, Any], spec: dict[str, Any]
    ) -> dict[str, Any]:
        pod_spec = copy.deepcopy(spec)
        pod_spec["nodeName"] = node
        pod_spec.setdefault("restartPolicy", "Always")
        pod_spec.setdefault("schedulerName", "default-scheduler")
        pod_spec.setdefault("terminationGracePeriodSeconds", 30)
        obj = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "namespace": ns, "labels": labels, "ownerReferences": [owner]},
            "spec": pod_spec,
        }
        return self._fresh(obj, "pods")

    # ---------------------------------------------------------------- nodes

    def node_object(self, n: Node) -> dict[str, Any]:
        ready, reason, message = n.condition()
        heartbeat = rfc3339(_now())
        since = rfc3339(n.created)
        conditions = [
            {
                "type": t,
                "status": "False",
                "reason": r,
                "message": m,
                "lastHeartbeatTime": heartbeat,
                "lastTransitionTime": since,
            }
            for t, r, m in (
                ("MemoryPressure", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
                ("DiskPressure", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                ("PIDPressure", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
            )
        ]
        conditions.append(
            {
                "type": "Ready",
                "status": "True" if ready else ("False" if n.ready_probe else "Unknown"),
                "reason": reason,
                "message": message,
                "lastHeartbeatTime": heartbeat,
                "lastTransitionTime": since,
            }
        )
        addresses = [{"type": "Hostname", "address": n.name}]
        if n.internal_ip:
            addresses.insert(0, {"type": "InternalIP", "address": n.internal_ip})
        spec: dict[str, Any] = {}
        if n.taints:
            spec["taints"] = copy.deepcopy(n.taints)
        if n.unschedulable:
            spec["unschedulable"] = True
        meta: dict[str, Any] = {
            "name": n.name,
            "uid": n.uid,
            "resourceVersion": str(n.resource_version),
            "creationTimestamp": rfc3339(n.created),
            "labels": dict(n.labels),
        }
        if n.annotations:
            meta["annotations"] = dict(n.annotations)
        capacity = {"cpu": "4", "ephemeral-storage": "133703676Ki", "memory": "16776756Ki", "pods": "110"}
        obj = {
            "kind": "Node",
            "apiVersion": "v1",
            "metadata": meta,
            "spec": spec,
            "status": {
                "capacity": capacity,
                "allocatable": dict(capacity),
                "conditions": conditions,
                "addresses": addresses,
                "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
                "nodeInfo": {
                    "machineID": n.host.upper(),
                    "systemUUID": str(uuid.uuid5(uuid.NAMESPACE_DNS, n.name)).upper(),
                    "bootID": "",
                    "kernelVersion": n.kernel_version,
                    "osImage": n.os_image,
                    "containerRuntimeVersion": n.container_runtime_version,
                    "kubeletVersion": n.kubelet_version,
                    "kubeProxyVersion": n.kubelet_version,
                    "operatingSystem": "windows",
                    "architecture": "amd64",
                },
            },
        }
        self._with_managed(("nodes", "", n.name), obj)
        return obj

    def _write_node(self, n: Node, old: dict[str, Any], new: dict[str, Any]) -> None:
        """Apply a changed Node object to the model: labels, annotations, taints, unschedulable.
        Other changes are refused (422): the model cannot hold them, and dropping them silently
        would let a play pass here that fails on a cluster."""

        def rest(obj: dict[str, Any]) -> dict[str, Any]:
            o = copy.deepcopy(obj)
            o.pop("status", None)
            meta = o.get("metadata", {})
            for k in ("labels", "annotations", "resourceVersion", "managedFields", "creationTimestamp", "uid"):
                meta.pop(k, None)
            spec = o.get("spec") or {}
            spec.pop("taints", None)
            spec.pop("unschedulable", None)
            if not spec:
                o.pop("spec", None)
            return o

        before, after = rest(old), rest(new)
        if before != after:
            changed = _diff_paths(before, after)
            raise ApiError(
                422,
                "Invalid",
                f'Node "{n.name}" is invalid: the simulator does not emulate changing '
                f"{', '.join(changed)} of a Node (only labels, annotations, taints, unschedulable)",
            )
        meta = new.get("metadata") or {}
        spec = new.get("spec") or {}
        taints = spec.get("taints") or []
        _validate_taints(n.name, taints)
        labels = meta.get("labels") or {}
        if not all(isinstance(v, str) for v in labels.values()):
            raise ApiError(422, "Invalid", f'Node "{n.name}" is invalid: metadata.labels: label values must be strings')
        n.labels = dict(labels)
        n.annotations = dict(meta.get("annotations") or {})
        n.taints = [dict(t) for t in taints]
        n.unschedulable = bool(spec.get("unschedulable"))
        sync_unschedulable_taint(n)
        n.resource_version = self.cluster.next_revision()

    # ---------------------------------------------------------------- token secrets

    def token_secret(self, tok: BootstrapToken) -> dict[str, Any]:
        data = {"token-id": tok.id, "token-secret": tok.secret, "auth-extra-groups": ",".join(tok.groups)}
        for usage in tok.usages:
            data[f"usage-bootstrap-{usage}"] = "true"
        if tok.expires is not None:
            data["expiration"] = rfc3339(tok.expires)
        if tok.description:
            data["description"] = tok.description
        obj = {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": TOKEN_SECRET_TYPE,
            "metadata": {
                "name": f"bootstrap-token-{tok.id}",
                "namespace": "kube-system",
                "uid": tok.uid,
                "resourceVersion": str(tok.resource_version),
                "creationTimestamp": rfc3339(tok.created),
            },
            "data": {k: _b64(v) for k, v in sorted(data.items())},
        }
        self._with_managed(("secrets", "kube-system", obj["metadata"]["name"]), obj)
        return obj

    def _create_token_secret(self, obj: dict[str, Any], dry_run: bool) -> dict[str, Any]:
        """A ``bootstrap-token-<id>`` Secret registers its token, as the API server's bootstrap
        token authenticator reads these Secrets."""
        name = obj["metadata"]["name"]
        data = {k: _unb64(v, f"data[{k}]") for k, v in (obj.get("data") or {}).items()}
        data.update({k: str(v) for k, v in (obj.get("stringData") or {}).items()})
        tid, secret = data.get("token-id", ""), data.get("token-secret", "")
        if name != f"bootstrap-token-{tid}":
            raise ApiError(
                422,
                "Invalid",
                f'Secret "{name}" is invalid: a bootstrap token Secret is named '
                f'bootstrap-token-<token-id>; token-id is "{tid}"',
            )
        if not re.fullmatch(r"[a-z0-9]{6}", tid) or not re.fullmatch(r"[a-z0-9]{16}", secret):
            raise ApiError(
                422,
                "Invalid",
                f'Secret "{name}" is invalid: token-id must match [a-z0-9]{{6}} and token-secret [a-z0-9]{{16}}',
            )
        ttl: float | None = None
        if data.get("expiration"):
            try:
                exp = datetime.datetime.fromisoformat(data["expiration"].replace("Z", "+00:00")).timestamp()
            except ValueError:
                raise ApiError(
                    422, "Invalid", f'Secret "{name}" is invalid: expiration {data["expiration"]!r} is not RFC 3339'
                ) from None
            ttl = exp - self.cluster.clock()
            if ttl <= 0:
                raise ApiError(422, "Invalid", f'Secret "{name}" is invalid: expiration is in the past')
        usages = tuple(
            k.removeprefix("usage-bootstrap-")
            for k, v in sorted(data.items())
            if k.startswith("usage-bootstrap-") and v == "true"
        )
        groups = tuple(g for g in data.get("auth-extra-groups", "").split(",") if g)
        if dry_run:
            tok = BootstrapToken(tid, secret, self.cluster.clock(), ttl, data.get("description", ""))
        else:
            tok = self.cluster.create_token(ttl=ttl, token=f"{tid}.{secret}", description=data.get("description", ""))
        if usages:
            tok.usages = usages
        if groups:
            tok.groups = groups
        return self.token_secret(tok)

    # ---------------------------------------------------------------- managed fields

    def _with_managed(self, key: tuple[str, str, str], obj: dict[str, Any]) -> None:
        managers = self.managers.get(key)
        if not managers:
            return
        obj["metadata"]["managedFields"] = [
            {
                "manager": m,
                "operation": info["operation"],
                "apiVersion": info["apiVersion"],
                "time": info["time"],
                "fieldsType": "FieldsV1",
                "fieldsV1": render_fields_v1(sorted(info["paths"])),
            }
            for m, info in managers.items()
            if info["paths"]
        ]

    def record_update(
        self,
        key: tuple[str, str, str],
        manager: str,
        api_version: str,
        old: dict[str, Any] | None,
        new: dict[str, Any],
        *,
        schema: Schema,
    ) -> None:
        """An Update takes ownership of the fields it changed; the other managers lose them."""
        before = field_paths(old, schema) if old else {}
        after = field_paths(new, schema)
        changed = {p for p, v in after.items() if before.get(p, _MISSING) != v}
        removed = set(before) - set(after)
        managers = self.managers.setdefault(key, {})
        for info in managers.values():
            info["paths"] -= changed | removed
        if changed:
            entry = managers.setdefault(manager, {"operation": "Update", "apiVersion": api_version, "paths": set()})
            entry.update(operation="Update", apiVersion=api_version, time=rfc3339(_now()))
            entry["paths"] |= changed
        for m in [m for m, info in managers.items() if not info["paths"]]:
            del managers[m]

    def server_side_apply(
        self,
        key: tuple[str, str, str],
        live: dict[str, Any] | None,
        applied: dict[str, Any],
        manager: str,
        *,
        force: bool,
        schema: Schema,
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Server-side apply: (new object, new managers). Conflicts are 409 unless ``force``."""
        managers = copy.deepcopy(self.managers.get(key, {}))
        live_paths = field_paths(live, schema) if live else {}
        want = field_paths(applied, schema)
        conflicts: list[tuple[str, FieldPath]] = []
        for path, value in want.items():
            if live_paths.get(path, _MISSING) == value:
                continue
            for other, info in managers.items():
                if other != manager and path in info["paths"]:
                    conflicts.append((other, path))
        if conflicts and not force:
            api_version = applied.get("apiVersion", "")
            causes = [
                {
                    "reason": "FieldManagerConflict",
                    "message": f'conflict with "{m}" using {api_version}',
                    "field": path_text(p),
                }
                for m, p in conflicts
            ]
            lines = "\n".join(f'- conflict with "{m}" using {api_version}: {path_text(p)}' for m, p in conflicts)
            n = len(conflicts)
            raise ApiError(
                409,
                "Conflict",
                f"Apply failed with {n} conflict{'s' if n > 1 else ''}: {lines.lstrip('- ')}"
                if n == 1
                else f"Apply failed with {n} conflicts: {lines}",
                {"name": key[2], "kind": key[0], "group": _gv_of(api_version)[0], "causes": causes},
            )
        new = (
            copy.deepcopy(live)
            if live
            else {"apiVersion": applied["apiVersion"], "kind": applied["kind"], "metadata": {"name": key[2]}}
        )
        previously = managers.get(manager, {}).get("paths", set())
        others = set().union(*(i["paths"] for m, i in managers.items() if m != manager)) if managers else set()
        for path in sorted(previously - set(want) - others, key=len, reverse=True):
            delete_path(new, path)
        for path, value in want.items():
            set_path(new, path, value)
        for other, info in managers.items():
            if other != manager:
                info["paths"] -= {p for m, p in conflicts}
        managers[manager] = {
            "operation": "Apply",
            "apiVersion": applied.get("apiVersion", ""),
            "time": rfc3339(_now()),
            "paths": set(want),
        }
        return new, {m: i for m, i in managers.items() if i["paths"]}

    # ---------------------------------------------------------------- DaemonSet controller

    def reconcile(self) -> None:
        """The controllers whose effects the API shows: service accounts, then DaemonSets."""
        self._serviceaccounts_controller()
        self._daemonset_controller()

    def _serviceaccounts_controller(self) -> None:
        """kube-controller-manager's serviceaccount controller: every namespace has a ``default``
        ServiceAccount, made again when deleted. (No token Secret: none since Kubernetes 1.24.)"""
        for ns in [name for res, _, name in self.objects if res == "namespaces"]:
            if ("serviceaccounts", ns, "default") not in self.objects:
                sa = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default", "namespace": ns}}
                self._store("serviceaccounts", ns, self._fresh(sa, "serviceaccounts"))

    def _daemonset_controller(self) -> None:
        """One pod per matching node, none elsewhere; a new template generation replaces the pods
        (a rolling update that completes at once)."""
        nodes = list(self.cluster.nodes.values())
        for (res, ns, _), ds in list(self.objects.items()):
            if res != "daemonsets":
                continue
            gen = str(ds["metadata"].get("generation", 1))
            pods = {k: p for k, p in self.objects.items() if k[0] == "pods" and k[1] == ns and _owned_by(p, ds)}
            by_node: dict[str, tuple[str, str, str]] = {}
            for k, p in pods.items():
                node = p["spec"].get("nodeName", "")
                stale = p["metadata"].get("labels", {}).get("pod-template-generation", gen) != gen
                known = self.cluster.nodes.get(node)
                # A seeded pod on a node that has not joined yet stays until the node shows up.
                if stale or node in by_node or (known is not None and not _schedules(ds, known)):
                    del self.objects[k]
                    continue
                by_node[node] = k
            for n in nodes:
                if n.name not in by_node and _schedules(ds, n):
                    self._store("pods", ns, self._daemon_pod(ds, n.name, gen))

    def _daemon_pod(self, ds: dict[str, Any], node: str, gen: str) -> dict[str, Any]:
        template = ds["spec"]["template"]
        labels = {
            **template.get("metadata", {}).get("labels", {}),
            "pod-template-generation": gen,
            "controller-revision-hash": hashlib.sha256(json.dumps(template, sort_keys=True).encode()).hexdigest()[:10],
        }
        suffix = "".join(secrets.choice("bcdfghjklmnpqrstvwxz2456789") for _ in range(5))
        spec = copy.deepcopy(template.get("spec", {}))
        tolerations = spec.setdefault("tolerations", [])
        tolerations += [t for t in DAEMONSET_TOLERATIONS if t not in tolerations]
        owner = {
            "apiVersion": "apps/v1",
            "kind": "DaemonSet",
            "name": ds["metadata"]["name"],
            "uid": ds["metadata"]["uid"],
            "controller": True,
            "blockOwnerDeletion": True,
        }
        name = f"{ds['metadata']['name']}-{suffix}"
        return self._pod(ds["metadata"]["namespace"], name, node, labels, owner=owner, spec=spec)

    def daemonset_status(self, ds: dict[str, Any]) -> dict[str, Any]:
        nodes = [n for n in self.cluster.nodes.values() if _schedules(ds, n)]
        ready = sum(1 for n in nodes if n.ready)
        st: dict[str, Any] = {
            "currentNumberScheduled": len(nodes),
            "desiredNumberScheduled": len(nodes),
            "numberMisscheduled": 0,
            "numberReady": ready,
            "observedGeneration": ds["metadata"].get("generation", 1),
            "updatedNumberScheduled": len(nodes),
        }
        if ready:
            st["numberAvailable"] = ready
        if len(nodes) - ready:
            st["numberUnavailable"] = len(nodes) - ready
        return st

    def pod_status(self, pod: dict[str, Any]) -> dict[str, Any]:
        node = self.cluster.nodes.get(pod["spec"].get("nodeName", ""))
        ready = bool(node and node.ready)
        started = pod["metadata"]["creationTimestamp"]
        return {
            "phase": "Running" if node else "Pending",
            "conditions": [
                {
                    "type": t,
                    "status": "True" if (ready or t == "PodScheduled") else "False",
                    "lastTransitionTime": started,
                }
                for t in ("Initialized", "Ready", "ContainersReady", "PodScheduled")
            ],
            "hostIP": node.internal_ip if node and node.internal_ip else "",
            "startTime": started,
            "containerStatuses": [
                {
                    "name": c.get("name", ""),
                    "image": c.get("image", ""),
                    "ready": ready,
                    "imageID": _image_id(c.get("image", "")),
                    "restartCount": 0,
                    "started": ready,
                    "state": {"running": {"startedAt": started}}
                    if ready
                    else {"waiting": {"reason": "ContainerCreating"}},
                }
                for c in pod["spec"].get("containers", [])
            ],
        }

    def pdb_status(self, pdb: dict[str, Any]) -> dict[str, Any]:
        ns = pdb["metadata"]["namespace"]
        reqs = _selector_reqs(pdb["spec"].get("selector") or {})
        pods = [
            p
            for k, p in self.objects.items()
            if k[0] == "pods" and k[1] == ns and match_labels(p["metadata"].get("labels", {}), reqs)
        ]
        healthy = sum(1 for p in pods if self.pod_status(p)["phase"] == "Running")
        desired = min(int(pdb["spec"].get("minAvailable", len(pods))), len(pods)) if pods else 0
        desired = max(desired, len(pods))  # seeded budgets need every pod they select
        return {
            "currentHealthy": healthy,
            "desiredHealthy": desired,
            "disruptionsAllowed": max(healthy - desired, 0),
            "expectedPods": len(pods),
            "observedGeneration": 1,
        }

    def render(self, resource: str, obj: dict[str, Any]) -> dict[str, Any]:
        """An object as the API shows it: the computed status, the managedFields."""
        out = copy.deepcopy(obj)
        key = (resource, out["metadata"].get("namespace", ""), out["metadata"]["name"])
        if resource == "daemonsets":
            out["status"] = self.daemonset_status(obj)
        elif resource == "pods":
            out["status"] = self.pod_status(obj)
        elif resource == "poddisruptionbudgets":
            out["status"] = self.pdb_status(obj)
        self._with_managed(key, out)
        return out


_MISSING = object()


def _image_id(image: str) -> str:
    repo = image.rsplit(":", 1)[0] if ":" in image.rsplit("/", 1)[-1] else image
    return f"{repo}@sha256:{hashlib.sha256(image.encode()).hexdigest()}"


def _diff_paths(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    a, b = field_paths(before, Schema.empty()), field_paths(after, Schema.empty())
    return sorted({path_text(p) for p in set(a) | set(b) if a.get(p, _MISSING) != b.get(p, _MISSING)})


def _validate_taints(node: str, taints: Any) -> None:
    if not isinstance(taints, list):
        raise ApiError(422, "Invalid", f'Node "{node}" is invalid: spec.taints: must be a list')
    seen = set()
    for i, t in enumerate(taints):
        if not isinstance(t, dict) or not t.get("key"):
            raise ApiError(422, "Invalid", f'Node "{node}" is invalid: spec.taints[{i}].key: Required value')
        if t.get("effect") not in ("NoSchedule", "PreferNoSchedule", "NoExecute"):
            raise ApiError(
                422,
                "Invalid",
                f'Node "{node}" is invalid: spec.taints[{i}].effect: Unsupported value: '
                f'"{t.get("effect", "")}": supported values: "NoSchedule", "PreferNoSchedule", "NoExecute"',
            )
        if (t["key"], t["effect"]) in seen:
            raise ApiError(
                422,
                "Invalid",
                f'Node "{node}" is invalid: spec.taints[{i}]: Duplicate value: '
                f'"{t["key"]}:{t["effect"]}": taints must be unique by key and effect pair',
            )
        seen.add((t["key"], t["effect"]))


def _owned_by(pod: dict[str, Any], owner: dict[str, Any]) -> bool:
    return any(r.get("uid") == owner["metadata"]["uid"] for r in pod["metadata"].get("ownerReferences", []))


def _selector_reqs(selector: dict[str, Any]) -> list[tuple[str, str, list[str]]]:
    reqs: list[tuple[str, str, list[str]]] = [(k, "=", [v]) for k, v in (selector.get("matchLabels") or {}).items()]
    ops = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!"}
    for expr in selector.get("matchExpressions") or []:
        if expr.get("operator") not in ops:
            raise ApiError(422, "Invalid", f"selector operator {expr.get('operator')!r} is not valid")
        reqs.append((expr["key"], ops[expr["operator"]], list(expr.get("values") or [])))
    return reqs


def _tolerates(tolerations: list[dict[str, Any]], taint: dict[str, Any]) -> bool:
    for t in tolerations:
        if t.get("effect") and t["effect"] != taint.get("effect"):
            continue
        op = t.get("operator", "Equal")
        if not t.get("key") and op == "Exists":
            return True
        if t.get("key") == taint.get("key") and (op == "Exists" or t.get("value", "") == taint.get("value", "")):
            return True
    return False


def _schedules(ds: dict[str, Any], node: Node) -> bool:
    """Whether the DaemonSet controller runs a pod of ``ds`` on ``node``."""
    spec = ds["spec"]["template"].get("spec", {})
    labels = node.labels
    if any(labels.get(k) != v for k, v in (spec.get("nodeSelector") or {}).items()):
        return False
    required = ((spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution"
    ) or {}
    terms = required.get("nodeSelectorTerms") or []
    if terms:
        ops = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!"}

        def term_ok(term: dict[str, Any]) -> bool:
            for expr in term.get("matchExpressions") or []:
                op = ops.get(expr.get("operator"))
                if op is None:  # Gt/Lt: not used by node DaemonSets
                    raise ApiError(
                        422,
                        "Invalid",
                        f"the simulator does not emulate node affinity operator {expr.get('operator')!r}",
                    )
                if not match_labels(labels, [(expr["key"], op, list(expr.get("values") or []))]):
                    return False
            for expr in term.get("matchFields") or []:
                if expr.get("key") != "metadata.name" or expr.get("operator") not in ("In", "NotIn"):
                    raise ApiError(422, "Invalid", f"the simulator does not emulate node affinity field {expr!r}")
                if (node.name in (expr.get("values") or [])) != (expr["operator"] == "In"):
                    return False
            return True

        if not any(term_ok(t) for t in terms):
            return False
    tolerations = list(spec.get("tolerations") or []) + DAEMONSET_TOLERATIONS
    return all(_tolerates(tolerations, t) for t in node.taints if t.get("effect") in ("NoSchedule", "NoExecute"))


def _default_daemonset(obj: dict[str, Any]) -> dict[str, Any]:
    """The defaults the API server fills in for a DaemonSet (so a read-back equals a real one)."""
    spec = obj.setdefault("spec", {})
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("updateStrategy", {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}})
    pod = spec.setdefault("template", {}).setdefault("spec", {})
    pod.setdefault("restartPolicy", "Always")
    pod.setdefault("terminationGracePeriodSeconds", 30)
    pod.setdefault("dnsPolicy", "ClusterFirst")
    pod.setdefault("securityContext", {})
    pod.setdefault("schedulerName", "default-scheduler")
    for c in [*pod.get("initContainers", []), *pod.get("containers", [])]:
        if isinstance(c, dict):
            image = str(c.get("image", ""))
            latest = ":" not in image.rsplit("/", 1)[-1] or image.endswith(":latest")
            c.setdefault("imagePullPolicy", "Always" if latest else "IfNotPresent")
            c.setdefault("terminationMessagePath", "/dev/termination-log")
            c.setdefault("terminationMessagePolicy", "File")
            c.setdefault("resources", {})
    return obj


def _validate_daemonset(obj: dict[str, Any], old: dict[str, Any] | None) -> None:
    name = obj["metadata"]["name"]
    spec = obj.get("spec") or {}
    selector = spec.get("selector")
    if not isinstance(selector, dict) or not (selector.get("matchLabels") or selector.get("matchExpressions")):
        raise ApiError(
            422,
            "Invalid",
            f'DaemonSet.apps "{name}" is invalid: spec.selector: Invalid value: '
            '{"matchLabels":null,"matchExpressions":null}: empty selector is invalid for daemonset',
        )
    labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
    if not match_labels(labels, _selector_reqs(selector)):
        raise ApiError(
            422,
            "Invalid",
            f'DaemonSet.apps "{name}" is invalid: spec.template.metadata.labels: Invalid '
            f"value: {json.dumps(labels, separators=(',', ':'))}: `selector` does not match template `labels`",
        )
    containers = ((spec.get("template") or {}).get("spec") or {}).get("containers")
    if not containers:
        raise ApiError(
            422, "Invalid", f'DaemonSet.apps "{name}" is invalid: spec.template.spec.containers: Required value'
        )
    if old is not None and old["spec"].get("selector") != selector:
        raise ApiError(
            422,
            "Invalid",
            f'DaemonSet.apps "{name}" is invalid: spec.selector: Invalid value: '
            f"{json.dumps(selector, separators=(',', ':'))}: field is immutable",
        )


# ------------------------------------------------------------------ requests


@dataclasses.dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: Any
    body: bytes
    user: User

    def q(self, name: str, default: str = "") -> str:
        return self.query.get(name, [default])[-1]

    @property
    def dry_run(self) -> bool:
        values = self.query.get("dryRun", [])
        for v in values:
            if v != "All":
                raise ApiError(400, "BadRequest", f'dryRun: Unsupported value: "{v}": supported values: "All"')
        return bool(values)

    @property
    def content_type(self) -> str:
        return (self.headers.get("Content-Type") or "application/json").split(";", 1)[0].strip().lower()

    def manager(self) -> str:
        """The field manager: ``fieldManager``, else the User-Agent's first word, as the server does."""
        agent = self.headers.get("User-Agent") or "unknown"
        return self.q("fieldManager") or agent.split("/", 1)[0]

    def json_body(self) -> Any:
        try:
            if self.content_type in ("application/apply-patch+yaml", "application/yaml"):
                return yaml.safe_load(self.body.decode() or "null")
            return json.loads(self.body or b"null")
        except (ValueError, yaml.YAMLError) as exc:
            raise ApiError(400, "BadRequest", f"the request body is not valid: {exc}") from None


@dataclasses.dataclass
class Target:
    """What a resource path names: ``/api/v1/namespaces/NS/pods/NAME/eviction``."""

    group: str
    version: str
    resource: str
    namespace: str = ""
    name: str = ""
    sub: str = ""

    @property
    def info(self) -> dict[str, Any]:
        return RESOURCES[(self.group, self.version)][self.resource]

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def kind(self) -> str:
        return self.info["kind"]

    @property
    def group_resource(self) -> str:
        return f"{self.resource}.{self.group}" if self.group else self.resource

    def not_found(self, name: str | None = None) -> ApiError:
        name = name or self.name
        return ApiError(
            404,
            "NotFound",
            f'{self.group_resource} "{name}" not found',
            {"name": name, "group": self.group, "kind": self.resource}
            if self.group
            else {"name": name, "kind": self.resource},
        )


def parse_target(path: str) -> Target | None:
    parts = [unquote(p) for p in path.strip("/").split("/") if p]
    if parts[:2] == ["api", "v1"]:
        group, version, rest = "", "v1", parts[2:]
    elif len(parts) >= 3 and parts[0] == "apis":
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return None
    if (group, version) not in RESOURCES or not rest:
        return None
    namespace = ""
    if rest[0] == "namespaces" and len(rest) >= 3:
        namespace, rest = rest[1], rest[2:]
    resource, name, sub = rest[0], (rest[1] if len(rest) > 1 else ""), "/".join(rest[2:])
    known = RESOURCES[(group, version)]
    if resource not in known or len(rest) > 3:
        return None
    if sub and f"{resource}/{sub}" not in known:
        return None
    if namespace and not known[resource]["namespaced"]:
        return None
    return Target(group, version, resource, namespace=namespace, name=name, sub=sub)


class Api:
    """Request handling over an ``ApiState``: authorization, routing, the verbs."""

    def __init__(self, state: ApiState) -> None:
        self.state = state
        self.cluster = state.cluster

    # ---------------------------------------------------------------- authorization

    def authorize(self, req: Request, target: Target | None, verb: str) -> None:
        user = req.user
        if user.admin:
            return
        public = req.method == "GET" and (
            req.path in PUBLIC_PATHS or req.path.startswith(("/livez/", "/readyz/", "/healthz/"))
        )
        if (
            target is not None
            and target.resource == "configmaps"
            and target.namespace == "kube-public"
            and target.name == "cluster-info"
            and verb == "get"
        ):
            public = True
        if public:
            return
        groups = set(user.groups)
        if not user.anonymous and req.method == "GET" and target is None and re.fullmatch(r"/apis?(/.*)?", req.path):
            return  # system:discovery, bound to system:authenticated
        if target is not None and verb in ("get", "list"):
            if "system:bootstrappers" in groups and (
                (
                    target.resource == "configmaps"
                    and target.namespace == "kube-system"
                    and target.name in ("kubeadm-config", "kubelet-config")
                )
                or target.resource == "nodes"
            ):
                return
            if "system:nodes" in groups and target.resource in ("nodes", "pods"):
                return
        if target is None:
            raise ApiError(
                403, "Forbidden", f'forbidden: User "{user.name}" cannot {req.method.lower()} path "{req.path}"'
            )
        scope = f'in the namespace "{target.namespace}"' if target.namespace else "at the cluster scope"
        resource = f"{target.resource}/{target.sub}" if target.sub else target.resource
        what = f'{target.group_resource} "{target.name}"' if target.name else target.group_resource
        raise ApiError(
            403,
            "Forbidden",
            f'{what} is forbidden: User "{user.name}" cannot {verb} resource '
            f'"{resource}" in API group "{target.group}" {scope}',
            {"name": target.name, "group": target.group, "kind": target.resource}
            if target.name
            else {"group": target.group, "kind": target.resource},
        )

    # ---------------------------------------------------------------- entry

    def handle(self, req: Request) -> tuple[int, Any, str]:
        """(status, body, content type); errors come back as Status objects."""
        try:
            with self.cluster.lock:
                return self._handle(req)
        except ApiError as exc:
            return exc.code, exc.to_status(), "application/json"

    def _handle(self, req: Request) -> tuple[int, Any, str]:
        path = req.path.rstrip("/") or "/"
        target = parse_target(path)
        verb = self._verb(req, target)
        self.authorize(req, target, verb)
        if target is None:
            return self._non_resource(req, path)
        if req.q("watch") in ("true", "1"):
            raise ApiError(405, "MethodNotAllowed", "the simulator does not emulate watch requests")
        info = (
            RESOURCES[(target.group, target.version)][f"{target.resource}/{target.sub}"] if target.sub else target.info
        )
        if verb not in info["verbs"]:
            raise ApiError(
                405,
                "MethodNotAllowed",
                f"the simulator does not emulate {verb} on {target.group_resource}"
                + (f"/{target.sub}" if target.sub else ""),
            )
        self.state.reconcile()
        handler: Callable[[Request, Target], tuple[int, Any]] = getattr(self, f"_{verb}")
        code, body = handler(req, target)
        if verb in ("get", "list") and "as=Table" in (req.headers.get("Accept") or ""):
            return code, self._table(req, target, body), "application/json"
        return code, body, "application/json"

    @staticmethod
    def _verb(req: Request, target: Target | None) -> str:
        if target is None:
            return req.method.lower()
        if target.sub:
            return {"POST": "create"}.get(req.method, req.method.lower())
        return {
            "GET": "get" if target.name else "list",
            "POST": "create",
            "PUT": "update",
            "PATCH": "patch",
            "DELETE": "delete" if target.name else "deletecollection",
        }.get(req.method, req.method.lower())

    def _non_resource(self, req: Request, path: str) -> tuple[int, Any, str]:
        if req.method != "GET":
            raise ApiError(405, "MethodNotAllowed", f"the simulator does not emulate {req.method} {path}")
        c = self.cluster
        major, minor = c.version.split(".")[:2]
        if path == "/version":
            return (
                200,
                {
                    "major": major,
                    "minor": minor,
                    "emulationMajor": major,
                    "emulationMinor": minor,
                    "minCompatibilityMajor": major,
                    "minCompatibilityMinor": str(int(minor) - 1),
                    "gitVersion": c.git_version,
                    "gitCommit": hashlib.sha1(c.git_version.encode()).hexdigest(),  # noqa: S324
                    "gitTreeState": "clean",
                    "buildDate": "2025-01-01T00:00:00Z",
                    "goVersion": "go1.24.4",
                    "compiler": "gc",
                    "platform": "linux/amd64",
                },
                "application/json",
            )
        if path in ("/healthz", "/livez", "/readyz") or path.startswith(("/healthz/", "/livez/", "/readyz/")):
            return 200, "ok", "text/plain; charset=utf-8"
        if path == "/api":
            return (
                200,
                {
                    "kind": "APIVersions",
                    "versions": ["v1"],
                    "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": c.endpoint}],
                },
                "application/json",
            )
        if path == "/apis":
            return 200, api_groups_doc(), "application/json"
        if path == "/api/v1":
            return 200, resource_list_doc("", "v1"), "application/json"
        parts = path.strip("/").split("/")
        if parts[0] == "apis" and len(parts) == 3 and (parts[1], parts[2]) in RESOURCES:
            return 200, resource_list_doc(parts[1], parts[2]), "application/json"
        if parts[0] == "apis" and len(parts) == 2 and any(g == parts[1] for g, _ in RESOURCES):
            group = next(g for g in api_groups_doc()["groups"] if g["name"] == parts[1])
            return 200, {"kind": "APIGroup", "apiVersion": "v1", **group}, "application/json"
        raise ApiError(404, "NotFound", f"the simulator does not emulate {path}")

    # ---------------------------------------------------------------- reading

    def _objects(self, t: Target) -> list[dict[str, Any]]:
        """Every object of the target's resource (in its namespace, when given), rendered."""
        s = self.state
        if t.resource == "nodes":
            return [s.node_object(n) for n in sorted(self.cluster.nodes.values(), key=lambda n: n.name)]
        out: list[dict[str, Any]] = []
        if t.resource == "secrets" and t.namespace in ("", "kube-system"):
            out += [s.token_secret(tok) for tok in self.cluster.live_tokens()]
        if t.resource == "configmaps" and t.namespace in ("", "kube-public"):
            out.append(s.cluster_info())
        for (res, ns, _), obj in sorted(s.objects.items()):
            if res == t.resource and (not t.namespace or ns == t.namespace):
                out.append(s.render(res, obj))
        return out

    def _find(self, t: Target, name: str | None = None) -> dict[str, Any]:
        name = name or t.name
        if t.namespace and t.resource != "namespaces":
            self._namespace(t.namespace, must_exist=False)
        for obj in self._objects(t):
            if obj["metadata"]["name"] == name:
                return obj
        raise t.not_found(name)

    def _namespace(self, ns: str, must_exist: bool = True) -> None:
        if must_exist and ("namespaces", "", ns) not in self.state.objects:
            raise ApiError(404, "NotFound", f'namespaces "{ns}" not found', {"name": ns, "kind": "namespaces"})

    def _get(self, req: Request, t: Target) -> tuple[int, Any]:
        return 200, self._find(t)

    FIELDS: dict[str, dict[str, Callable[[dict[str, Any]], str]]] = {
        "pods": {
            "spec.nodeName": lambda o: o["spec"].get("nodeName", ""),
            "status.phase": lambda o: o.get("status", {}).get("phase", ""),
            "spec.restartPolicy": lambda o: o["spec"].get("restartPolicy", ""),
            "spec.schedulerName": lambda o: o["spec"].get("schedulerName", ""),
            "spec.serviceAccountName": lambda o: o["spec"].get("serviceAccountName", ""),
        },
        "nodes": {"spec.unschedulable": lambda o: str(bool(o["spec"].get("unschedulable"))).lower()},
        "secrets": {"type": lambda o: o.get("type", "")},
        "namespaces": {"status.phase": lambda o: o.get("status", {}).get("phase", "")},
    }

    def _list(self, req: Request, t: Target) -> tuple[int, Any]:
        items = self._objects(t)
        label_reqs = parse_selector(req.q("labelSelector"))
        fields = {
            "metadata.name": lambda o: o["metadata"]["name"],
            **({"metadata.namespace": lambda o: o["metadata"].get("namespace", "")} if t.info["namespaced"] else {}),
            **self.FIELDS.get(t.resource, {}),
        }
        selected = [
            o
            for o in items
            if match_labels(o["metadata"].get("labels") or {}, label_reqs)
            and match_fields(o, req.q("fieldSelector"), fields)
        ]
        rv = str(self.cluster.revision)
        return 200, {
            "kind": f"{t.kind}List",
            "apiVersion": t.api_version,
            "metadata": {"resourceVersion": rv},
            "items": selected,
        }

    # ---------------------------------------------------------------- writing

    def _body_object(self, req: Request, t: Target, name: str | None = None) -> dict[str, Any]:
        obj = req.json_body()
        if not isinstance(obj, dict):
            raise ApiError(400, "BadRequest", f"the body of a {t.kind} request must be an object")
        if obj.get("kind") not in (None, t.kind) or obj.get("apiVersion") not in (None, t.api_version):
            raise ApiError(
                400,
                "BadRequest",
                f"the API version in the data ({obj.get('apiVersion')}) does not match "
                f"the expected API version ({t.api_version})"
                if obj.get("apiVersion") != t.api_version
                else f"the kind in the data ({obj.get('kind')}) does not match the expected kind ({t.kind})",
            )
        obj["kind"], obj["apiVersion"] = t.kind, t.api_version
        meta = obj.setdefault("metadata", {})
        if not isinstance(meta, dict):
            raise ApiError(400, "BadRequest", "metadata must be an object")
        if name is not None and meta.get("name", name) != name:
            raise ApiError(
                400,
                "BadRequest",
                f"the name of the object ({meta.get('name')}) does not match the name on the URL ({name})",
            )
        if name is not None:
            meta["name"] = name
        if t.namespace:
            if meta.get("namespace", t.namespace) != t.namespace:
                raise ApiError(
                    400,
                    "BadRequest",
                    "the namespace of the provided object does not match the namespace sent on the request",
                )
            meta["namespace"] = t.namespace
        return obj

    def _validate(self, t: Target, obj: dict[str, Any]) -> None:
        name = obj["metadata"].get("name", "")
        if not name or not re.fullmatch(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?", name) or len(name) > 253:
            raise ApiError(
                422,
                "Invalid",
                f'{t.kind} "{name}" is invalid: metadata.name: Invalid value: "{name}": a '
                "lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
                "'.', and must start and end with an alphanumeric character",
                {
                    "name": name,
                    "kind": t.resource,
                    "causes": [{"reason": "FieldValueInvalid", "field": "metadata.name"}],
                },
            )
        try:
            import kubernetes_validate

            kubernetes_validate.validate(obj, f"1.{self.state.minor}.0", strict=False)
        except kubernetes_validate.ValidationError as exc:
            where = ".".join(str(p) for p in exc.path)
            raise ApiError(422, "Invalid", f'{t.kind} "{name}" is invalid: {where}: {exc.message}') from None
        except (kubernetes_validate.SchemaNotFoundError, kubernetes_validate.InvalidSchemaError):
            pass
        if t.resource == "daemonsets":
            _validate_daemonset(obj, self.state.objects.get(("daemonsets", t.namespace, name)))

    def _prepare(self, t: Target, obj: dict[str, Any], old: dict[str, Any] | None) -> dict[str, Any]:
        """Server-side changes on a write: defaults, secrets' stringData, generation."""
        obj = copy.deepcopy(obj)
        obj.pop("status", None)
        if t.resource == "daemonsets":
            _default_daemonset(obj)
        if t.resource == "secrets":
            data = dict(obj.get("data") or {})
            for k, v in (obj.pop("stringData", None) or {}).items():
                data[k] = _b64(str(v))
            for k, v in data.items():
                _unb64(v, f"data[{k}]")
            obj["data"] = data
            obj.setdefault("type", "Opaque")
            if old is not None and old.get("type") != obj["type"]:
                raise ApiError(
                    422,
                    "Invalid",
                    f'Secret "{obj["metadata"]["name"]}" is invalid: type: Invalid value: '
                    f'"{obj["type"]}": field is immutable',
                )
        if t.resource == "namespaces":
            obj.setdefault("metadata", {}).setdefault("labels", {})["kubernetes.io/metadata.name"] = obj["metadata"][
                "name"
            ]
        return obj

    def _commit(
        self,
        req: Request,
        t: Target,
        old: dict[str, Any] | None,
        new: dict[str, Any],
        managers: dict[str, dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """Store a created or changed object (not under dryRun) and answer it rendered."""
        s = self.state
        name = new["metadata"]["name"]
        key = (t.resource, t.namespace, name)
        schema = s.schema(t.api_version, t.kind)
        if t.resource == "nodes":
            node = self.cluster.nodes[name]
            if req.dry_run:
                trial = copy.deepcopy(node)
                s._write_node(trial, old or {}, new)  # validates without touching the model
                return s.node_object(trial)
            if _strip_volatile(old or {}) == _strip_volatile(new) and not _owners_changed(
                s.managers.get(key), managers
            ):
                return s.node_object(node)
            if managers is not None:
                s.managers[key] = managers
            elif old != new:
                s.record_update(key, req.manager(), t.api_version, old, new, schema=schema)
            s._write_node(node, old or {}, new)
            return s.node_object(node)
        new = self._prepare(t, new, old)
        self._validate(t, new)
        meta = new["metadata"]
        if old is None:
            for k in ("uid", "resourceVersion", "creationTimestamp", "generation", "managedFields"):
                meta.pop(k, None)
            new = s._fresh(new, t.resource)
        else:
            for k in ("uid", "creationTimestamp"):
                meta[k] = old["metadata"][k]
            stored_old = s.objects.get(key, old)
            if t.resource == "daemonsets":
                changed_spec = stored_old.get("spec") != new.get("spec")
                meta["generation"] = stored_old["metadata"].get("generation", 1) + (1 if changed_spec else 0)
            meta.pop("managedFields", None)
            if _strip_volatile(stored_old) == _strip_volatile(new) and not _owners_changed(
                s.managers.get(key), managers
            ):
                return s.render(t.resource, stored_old)  # a no-op write changes nothing, not even the resourceVersion
            meta["resourceVersion"] = str(self.cluster.next_revision())
        if req.dry_run:
            return s.render(t.resource, new)
        if managers is not None:
            s.managers[key] = managers
        else:
            s.record_update(key, req.manager(), t.api_version, old, new, schema=schema)
        s._store(t.resource, t.namespace, new)
        s.reconcile()
        return s.render(t.resource, new)

    def _create(self, req: Request, t: Target) -> tuple[int, Any]:
        if t.sub == "eviction":
            return self._evict(req, t)
        if t.name:
            raise ApiError(405, "MethodNotAllowed", f"POST to a named {t.kind} is not allowed")
        obj = self._body_object(req, t)
        name = obj["metadata"].get("name") or ""
        if not name and obj["metadata"].get("generateName"):
            name = obj["metadata"]["generateName"] + "".join(
                secrets.choice("bcdfghjklmnpqrstvwxz2456789") for _ in range(5)
            )
            obj["metadata"]["name"] = name
        if t.namespace:
            self._namespace(t.namespace)
        exists = True
        try:
            self._find(t, name)
        except ApiError:
            exists = False
        if exists:
            raise ApiError(
                409,
                "AlreadyExists",
                f'{t.group_resource} "{name}" already exists',
                {"name": name, "group": t.group, "kind": t.resource},
            )
        if t.resource == "secrets" and obj.get("type") == TOKEN_SECRET_TYPE and t.namespace == "kube-system":
            return 201, self.state._create_token_secret(obj, req.dry_run)
        return 201, self._commit(req, t, None, obj)

    def _check_rv(self, t: Target, current: dict[str, Any], new: dict[str, Any]) -> None:
        rv = (new.get("metadata") or {}).get("resourceVersion")
        if rv and rv != current["metadata"]["resourceVersion"]:
            raise ApiError(
                409,
                "Conflict",
                f'Operation cannot be fulfilled on {t.group_resource} "{t.name}": the object '
                "has been modified; please apply your changes to the latest version and try again",
                {"name": t.name, "group": t.group, "kind": t.resource},
            )

    def _immutable_token(self, t: Target, current: dict[str, Any]) -> None:
        if t.resource == "secrets" and current.get("type") == TOKEN_SECRET_TYPE and t.namespace == "kube-system":
            raise ApiError(
                405,
                "MethodNotAllowed",
                "the simulator does not emulate changing a bootstrap token Secret (delete it and create a new one)",
            )

    def _update(self, req: Request, t: Target) -> tuple[int, Any]:
        current = self._find(t)
        self._immutable_token(t, current)
        new = self._body_object(req, t, t.name)
        self._check_rv(t, current, new)
        if t.resource != "nodes":
            new["status"] = current.get("status")
        return 200, self._commit(req, t, current, new)

    def _patch(self, req: Request, t: Target) -> tuple[int, Any]:
        ctype = req.content_type
        body = req.json_body()
        schema = self.state.schema(t.api_version, t.kind)
        if ctype == "application/apply-patch+yaml":
            return self._apply(req, t, body, schema)
        current = self._find(t)
        self._immutable_token(t, current)
        if ctype == "application/json-patch+json":
            new = json_patch(current, body)
        elif ctype == "application/merge-patch+json":
            new = json_merge_patch(current, body)
        elif ctype == "application/strategic-merge-patch+json":
            if not isinstance(body, dict):
                raise ApiError(400, "BadRequest", "a strategic merge patch must be a JSON object")
            new = strategic_merge_patch(current, body, schema)
        else:
            raise ApiError(
                415,
                "UnsupportedMediaType",
                "the body of the request was in an unknown format - accepted "
                "media types include: application/json-patch+json, application/merge-patch+json, "
                "application/apply-patch+yaml, application/strategic-merge-patch+json",
            )
        if not isinstance(new, dict):
            raise ApiError(422, "Invalid", "the patch did not leave an object")
        if (new.get("metadata") or {}).get("name") != t.name:
            raise ApiError(
                422, "Invalid", f'{t.kind} "{t.name}" is invalid: metadata.name: Invalid value: field is immutable'
            )
        self._check_rv(t, current, new)
        new["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
        return 200, self._commit(req, t, current, new)

    def _apply(self, req: Request, t: Target, applied: Any, schema: Schema) -> tuple[int, Any]:
        manager = req.q("fieldManager")
        if not manager:
            raise ApiError(
                422,
                "Invalid",
                'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch',
            )
        if not isinstance(applied, dict) or applied.get("apiVersion") != t.api_version or applied.get("kind") != t.kind:
            raise ApiError(400, "BadRequest", f"the applied configuration must be a {t.api_version} {t.kind} object")
        name = (applied.get("metadata") or {}).get("name")
        if name != t.name:
            raise ApiError(
                400, "BadRequest", f"the name of the object ({name}) does not match the name on the URL ({t.name})"
            )
        if t.namespace:
            applied["metadata"]["namespace"] = t.namespace
        try:
            current: dict[str, Any] | None = self._find(t)
        except ApiError as exc:
            if exc.code != 404:
                raise
            current = None
        if current is None and t.resource == "nodes":
            raise t.not_found()
        if current is not None:
            self._immutable_token(t, current)
            self._check_rv(t, current, applied)
        key = (t.resource, t.namespace, t.name)
        force = req.q("force") in ("true", "1", "True")
        new, managers = self.state.server_side_apply(key, current, applied, manager, force=force, schema=schema)
        if t.namespace:
            new["metadata"]["namespace"] = t.namespace
            if current is None:
                self._namespace(t.namespace)
        if current is not None:
            new["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
            if t.resource != "nodes":
                new["status"] = current.get("status")
        code = 201 if current is None else 200
        return code, self._commit(req, t, current, new, managers)

    def _delete(self, req: Request, t: Target) -> tuple[int, Any]:
        s = self.state
        current = self._find(t)
        opts = req.json_body() if req.body else {}
        pre = ((opts or {}).get("preconditions") or {}) if isinstance(opts, dict) else {}
        if pre.get("uid") and pre["uid"] != current["metadata"]["uid"]:
            raise ApiError(
                409,
                "Conflict",
                f'Operation cannot be fulfilled on {t.group_resource} "{t.name}": '
                f"Precondition failed: UID in precondition: {pre['uid']}, UID in object meta: "
                f"{current['metadata']['uid']}",
            )
        if pre.get("resourceVersion") and pre["resourceVersion"] != current["metadata"]["resourceVersion"]:
            raise ApiError(
                409,
                "Conflict",
                f'Operation cannot be fulfilled on {t.group_resource} "{t.name}": the object '
                "has been modified; please apply your changes to the latest version and try again",
            )
        if req.dry_run:
            return 200, current
        key = (t.resource, t.namespace, t.name)
        s.managers.pop(key, None)
        if t.resource == "nodes":
            self.cluster.delete_node(t.name)
        elif t.resource == "secrets" and current.get("type") == TOKEN_SECRET_TYPE and t.namespace == "kube-system":
            self.cluster.delete_token(t.name.removeprefix("bootstrap-token-"))
        elif t.resource == "configmaps" and t.namespace == "kube-public" and t.name == "cluster-info":
            raise ApiError(405, "MethodNotAllowed", "the simulator does not emulate deleting cluster-info")
        else:
            s.objects.pop(key, None)
            if t.resource == "daemonsets":  # the garbage collector removes the pods it owned
                for k, p in list(s.objects.items()):
                    if k[0] == "pods" and _owned_by(p, current):
                        del s.objects[k]
            if t.resource == "namespaces":
                for k in [k for k in s.objects if k[1] == t.name]:
                    del s.objects[k]
                    s.managers.pop(k, None)
        s.reconcile()
        return 200, current

    def _evict(self, req: Request, t: Target) -> tuple[int, Any]:
        body = req.json_body()
        if not isinstance(body, dict) or body.get("kind", "Eviction") != "Eviction":
            raise ApiError(400, "BadRequest", "the body of an eviction must be an Eviction object")
        if (body.get("metadata") or {}).get("name", t.name) != t.name:
            raise ApiError(400, "BadRequest", "name in URL does not match name in Eviction object")
        pods = Target("", "v1", "pods", namespace=t.namespace, name=t.name)
        pod = self._find(pods)
        s = self.state
        labels = pod["metadata"].get("labels") or {}
        for (res, ns, name), pdb in sorted(s.objects.items()):
            if res != "poddisruptionbudgets" or ns != t.namespace:
                continue
            if not match_labels(labels, _selector_reqs(pdb["spec"].get("selector") or {})):
                continue
            st = s.pdb_status(pdb)
            if st["disruptionsAllowed"] < 1:
                raise ApiError(
                    429,
                    "TooManyRequests",
                    "Cannot evict pod as it would violate the pod's disruption budget.",
                    {
                        "causes": [
                            {
                                "reason": "DisruptionBudget",
                                "message": f"The disruption budget {name} needs {st['desiredHealthy']} "
                                f"healthy pods and has {st['currentHealthy']} currently",
                            }
                        ]
                    },
                )
        if not req.dry_run:
            s.objects.pop(("pods", t.namespace, t.name), None)
            s.reconcile()
        return 201, status(201, "", "")

    # ---------------------------------------------------------------- tables (kubectl get)

    def _table(self, req: Request, t: Target, body: dict[str, Any]) -> dict[str, Any]:
        items = body.get("items") if body.get("kind", "").endswith("List") else [body]
        now = _now()

        def age(o: dict[str, Any]) -> str:
            created = datetime.datetime.fromisoformat(o["metadata"]["creationTimestamp"].replace("Z", "+00:00"))
            return _human_age(now - created.timestamp())

        if t.resource == "nodes":
            columns = [
                ("Name", "string", "name"),
                ("Status", "string", ""),
                ("Roles", "string", ""),
                ("Age", "string", ""),
                ("Version", "string", ""),
            ]

            def cells(o: dict[str, Any]) -> list[Any]:
                ready = next(c for c in o["status"]["conditions"] if c["type"] == "Ready")
                st = "Ready" if ready["status"] == "True" else "NotReady"
                if o["spec"].get("unschedulable"):
                    st += ",SchedulingDisabled"
                roles = sorted(
                    k.split("/", 1)[1]
                    for k in o["metadata"].get("labels", {})
                    if k.startswith("node-role.kubernetes.io/")
                )
                return [
                    o["metadata"]["name"],
                    st,
                    ",".join(roles) or "<none>",
                    age(o),
                    o["status"]["nodeInfo"]["kubeletVersion"],
                ]
        elif t.resource == "pods":
            columns = [
                ("Name", "string", "name"),
                ("Ready", "string", ""),
                ("Status", "string", ""),
                ("Restarts", "string", ""),
                ("Age", "string", ""),
            ]

            def cells(o: dict[str, Any]) -> list[Any]:
                cs = o["status"].get("containerStatuses", [])
                return [
                    o["metadata"]["name"],
                    f"{sum(1 for c in cs if c['ready'])}/{len(cs)}",
                    o["status"]["phase"],
                    "0",
                    age(o),
                ]
        else:
            columns = [("Name", "string", "name"), ("Age", "string", "")]

            def cells(o: dict[str, Any]) -> list[Any]:
                return [o["metadata"]["name"], age(o)]

        include = req.q("includeObject", "Metadata")
        rows = []
        for o in items:
            row: dict[str, Any] = {"cells": cells(o)}
            if include == "Object":
                row["object"] = o
            elif include == "Metadata":
                row["object"] = {
                    "kind": "PartialObjectMetadata",
                    "apiVersion": "meta.k8s.io/v1",
                    "metadata": o["metadata"],
                }
            rows.append(row)
        return {
            "kind": "Table",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": {"resourceVersion": body.get("metadata", {}).get("resourceVersion", "")},
            "columnDefinitions": [
                {"name": n, "type": ty, "format": f, "description": n, "priority": 0} for n, ty, f in columns
            ],
            "rows": rows,
        }


def _owners_changed(before: dict[str, dict[str, Any]] | None, after: dict[str, dict[str, Any]] | None) -> bool:
    """Whether an apply changes who owns what (an Update's ownership follows its changes)."""
    if after is None:
        return False

    def view(m: dict[str, dict[str, Any]] | None) -> dict[str, tuple[str, frozenset[FieldPath]]]:
        return {k: (v["operation"], frozenset(v["paths"])) for k, v in (m or {}).items() if v["paths"]}

    return view(before) != view(after)


def _strip_volatile(obj: dict[str, Any]) -> dict[str, Any]:
    o = copy.deepcopy(obj)
    for k in ("resourceVersion", "managedFields", "generation"):
        o.get("metadata", {}).pop(k, None)
    o.pop("status", None)
    return o


def seed_pods_schema() -> dict[str, str]:
    """The keys of a HOSTS.yml ``cluster.pods`` entry (for config.py's validation)."""
    return {
        "name": "required pod name",
        "namespace": "default",
        "node": "required node name",
        "daemonset": "owning DaemonSet",
        "pdb_blocks": "true or a PodDisruptionBudget name",
    }


# ------------------------------------------------------------------ HTTPS server


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _ApiHTTPServer
    wbufsize = -1
    disable_nagle_algorithm = True
    timeout = 120
    server_version = "kube-apiserver-simulator"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("api %s", format % args)

    def _user(self) -> User | None:
        """The authenticated user, ANONYMOUS, or None after answering 401."""
        auth = self.headers.get("Authorization") or ""
        cert = self.connection.getpeercert() if isinstance(self.connection, ssl.SSLSocket) else None
        if cert:
            subject = [attr for rdn in cert.get("subject", ()) for attr in rdn]
            cn = next((v for k, v in subject if k == "commonName"), "")
            orgs = [v for k, v in subject if k == "organizationName"]
            return User(cn, [*orgs, "system:authenticated"])
        if auth.lower().startswith("bearer "):
            token = auth.split(" ", 1)[1].strip()
            cluster = self.server.api.cluster
            if re.fullmatch(r"[a-z0-9]{6}\.[a-z0-9]{16}", token) and cluster.token_status(token) == "ok":
                tok = cluster.tokens[token.split(".", 1)[0]]
                return User(f"system:bootstrap:{tok.id}", [*tok.groups, "system:bootstrappers", "system:authenticated"])
            self._reply(401, status(401, "Unauthorized", "Unauthorized"), "application/json")
            return None
        if auth:
            self._reply(401, status(401, "Unauthorized", "Unauthorized"), "application/json")
            return None
        return ANONYMOUS

    def _reply(self, code: int, body: Any, content_type: str) -> None:
        raw = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Cache-Control", "no-cache, private")
        self.send_header("Audit-Id", str(uuid.uuid4()))
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(raw)

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        user = self._user()
        if user is None:
            return
        url = urlsplit(self.path)
        query = parse_qs(url.query, keep_blank_values=True)
        req = Request(self.command, url.path, query, self.headers, body, user)
        code, payload, ctype = self.server.api.handle(req)
        self._reply(code, payload, ctype)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve


class _ApiHTTPServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, api: Api, port: int, tls: ssl.SSLContext | None) -> None:
        self.api = api
        self.tls = tls
        super().__init__((BIND, port), _Handler)

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, addr = super().get_request()
        assert self.tls is not None, "the TLS context is set before serving"
        return self.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), addr

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("api connection from %s ended with an error", client_address, exc_info=True)


class ApiServer:
    """The HTTPS API server of one simulated cluster.

    ``cluster.endpoint`` decides the port: ``127.0.0.1:N`` binds N; any other host (what the nodes
    see, e.g. ``10.20.30.10:6443``) is served on a free 127.0.0.1 port, and the kubeconfig names
    that host as ``tls-server-name``. Without an endpoint (``endpoint_given=False``) the endpoint
    becomes ``127.0.0.1:<port>``.
    """

    def __init__(
        self,
        cluster: Cluster,
        workdir: Path,
        *,
        endpoint_given: bool = True,
        pods: list[dict[str, Any]] | None = None,
        pod_subnet: str = "",
        proxy_mode: str = "",
    ) -> None:
        self.cluster = cluster
        self.workdir = workdir
        self.endpoint_given = endpoint_given
        self.state = ApiState(cluster, pods, pod_subnet=pod_subnet, proxy_mode=proxy_mode)
        self.api = Api(self.state)
        self._server: _ApiHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.tls_server_name: str | None = None

    def _port_to_bind(self) -> int:
        if not self.endpoint_given:
            return 0
        host, _, port = self.cluster.endpoint.rpartition(":")
        return int(port) if host == BIND else 0

    def _tls(self) -> ssl.SSLContext:
        cert, key = _issue(
            self.cluster,
            x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kube-apiserver")]),
            x509.oid.ExtendedKeyUsageOID.SERVER_AUTH,
            [_san(h) for h in server_names(self.cluster)],
        )
        cert_file, key_file, ca_file = (self.workdir / n for n in ("apiserver.crt", "apiserver.key", "ca.crt"))
        cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        _write_key(key_file, key)
        ca_file.write_bytes(self.cluster.ca_cert_pem)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert_file, key_file)
        ctx.load_verify_locations(ca_file)
        ctx.verify_mode = ssl.CERT_OPTIONAL  # a client certificate authenticates; none is anonymous
        return ctx

    def start(self) -> ApiServer:
        port = self._port_to_bind()
        try:
            server = _ApiHTTPServer(self.api, port, None)
        except OSError as exc:
            raise SimulatorError(f"simulator: the Kubernetes API cannot listen on {BIND}:{port}: {exc}") from exc
        if not self.endpoint_given:
            self.cluster.endpoint = f"{BIND}:{server.server_address[1]}"
        # The certificate names the endpoint, which is only known once bound; no request is
        # accepted before serve_forever, so the context is in place for the first one.
        server.tls = self._tls()
        self._server = server
        host = self.cluster.endpoint.rpartition(":")[0]
        self.tls_server_name = None if host == BIND else host
        self.state.seed_kubeadm_init()  # the endpoint is final now
        self.cluster.api_url = self.url
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="sim-kube-apiserver", daemon=True
        )
        self._thread.start()
        log.info("Kubernetes API on %s (endpoint %s)", self.url, self.cluster.endpoint)
        return self

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the API server is not started")
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"https://{BIND}:{self.port}"

    def kubeconfig(self) -> str:
        return admin_kubeconfig(self.cluster, self.url, self.tls_server_name)

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
            self.cluster.api_url = None


def write_private(path: str | os.PathLike[str], text: str) -> Path:
    """Write a file readable by its owner only (a kubeconfig holds a client key)."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    with contextlib.suppress(OSError):
        os.chmod(p, 0o600)
    return p
