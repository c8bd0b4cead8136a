"""The simulated Kubernetes cluster that Windows hosts join: one per simulator, shared by all hosts
(the server sets ``host.cluster``).

What a worker's ``kubeadm join`` and kubelet need from a control plane is modelled, nothing more:
the API server endpoint(s) and version, a real CA (a self-signed RSA CA made with ``cryptography``;
``ca_cert_hash`` is kubeadm's discovery pin, ``sha256:`` of the DER SubjectPublicKeyInfo — the
algorithm of kubeadm's ``pubkeypin.Hash``), bootstrap tokens with TTL (expired tokens are gone, as
the token cleaner deletes them), the ``kubelet-config`` the cluster hands out, and nodes with
their Ready condition, labels, taints and cordon flag.

A node's readiness is computed when asked: the kubelet emulation registers a probe that checks the
host's kubelet service is still running.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime
import functools
import hashlib
import secrets
import string
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

TOKEN_ALPHABET = string.ascii_lowercase + string.digits
DEFAULT_TOKEN_TTL = 24 * 3600  # kubeadm's default --ttl (24h0m0s)


@dataclasses.dataclass(frozen=True)
class CertificateAuthority:
    cert: x509.Certificate
    key: rsa.RSAPrivateKey

    @property
    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def pin(self) -> str:
        """kubeadm's discovery-token-ca-cert-hash: sha256 over the DER SubjectPublicKeyInfo."""
        spki = self.cert.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return "sha256:" + hashlib.sha256(spki).hexdigest()


def new_ca(common_name: str = "kubernetes") -> CertificateAuthority:
    """A CA like kubeadm's: RSA 2048, CN=kubernetes, 10 years, CA:TRUE, cert-sign usage."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=5)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_encipherment=True,
                key_cert_sign=True,
                content_commitment=False,
                data_encipherment=False,
                key_agreement=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return CertificateAuthority(cert, key)


@functools.lru_cache(maxsize=1)
def shared_ca() -> CertificateAuthority:
    """One CA per process: RSA key generation is the slow part, and clusters need not differ."""
    return new_ca()


@dataclasses.dataclass
class BootstrapToken:
    id: str
    secret: str
    created: float
    ttl: float | None  # seconds; None = never expires ("--ttl 0")
    description: str = ""
    usages: tuple[str, ...] = ("authentication", "signing")
    groups: tuple[str, ...] = ("system:bootstrappers:kubeadm:default-node-token",)
    # The identity of its ``bootstrap-token-<id>`` Secret in the API (set when registered).
    uid: str = dataclasses.field(default_factory=lambda: str(uuid.uuid4()))
    resource_version: int = 0

    @property
    def token(self) -> str:
        return f"{self.id}.{self.secret}"

    @property
    def expires(self) -> float | None:
        return None if self.ttl is None else self.created + self.ttl


@dataclasses.dataclass
class Node:
    name: str
    kubelet_version: str  # v1.33.3
    labels: dict[str, str]
    taints: list[dict[str, str]] = dataclasses.field(default_factory=list)
    unschedulable: bool = False
    os_image: str = ""
    kernel_version: str = ""
    container_runtime_version: str = ""
    internal_ip: str = ""
    host: str = ""  # name of the simulated host it runs on
    created: float = dataclasses.field(default_factory=time.time)
    annotations: dict[str, str] = dataclasses.field(default_factory=dict)
    # The Node object's identity in the API: uid, resourceVersion (bumped on every change).
    uid: str = dataclasses.field(default_factory=lambda: str(uuid.uuid4()))
    resource_version: int = 0
    ready_probe: Callable[[], tuple[bool, str]] | None = dataclasses.field(default=None, repr=False)

    def condition(self) -> tuple[bool, str, str]:
        """(ready, reason, message) of the Ready condition right now."""
        if self.ready_probe is None:
            return False, "NodeStatusUnknown", "Kubelet never posted node status."
        ready, message = self.ready_probe()
        if ready:
            return True, "KubeletReady", "kubelet is posting ready status"
        return False, "NodeStatusUnknown", message or "Kubelet stopped posting node status."

    @property
    def ready(self) -> bool:
        return self.condition()[0]


class Cluster:
    """The control plane as seen from a worker node."""

    def __init__(
        self,
        endpoint: str = "10.20.30.10:6443",
        version: str = "1.33.3",
        *,
        aliases: tuple[str, ...] = (),
        cluster_name: str = "kubernetes",
        cluster_dns: str = "10.96.0.10",
        cluster_domain: str = "cluster.local",
        clock: Callable[[], float] = time.time,
        ca: CertificateAuthority | None = None,
    ) -> None:
        if ":" not in endpoint:
            raise ValueError(f"endpoint must be host:port, got {endpoint!r}")
        self.endpoint = endpoint
        self.aliases = tuple(aliases)
        self.version = version.lstrip("v")
        self.cluster_name = cluster_name
        self.cluster_dns = cluster_dns
        self.cluster_domain = cluster_domain
        self.clock = clock
        self.reachable = True
        self.ca = ca or shared_ca()
        self.tokens: dict[str, BootstrapToken] = {}
        self.nodes: dict[str, Node] = {}
        # The API server's URL as the controller reaches it (tests.simulator.apiserver sets it).
        self.api_url: str | None = None
        # One resourceVersion sequence for every object of the cluster, as etcd's revision.
        self._revision = 0
        # Hosts run in their own server threads; the cluster is the one object they share.
        self.lock = threading.RLock()

    # ------------------------------------------------------------ identity

    @property
    def revision(self) -> int:
        """The current resourceVersion (of the last write)."""
        return self._revision

    def next_revision(self) -> int:
        """The next resourceVersion: every write to any object moves it, as etcd's revision does."""
        with self.lock:
            self._revision += 1
            return self._revision

    @property
    def git_version(self) -> str:
        return "v" + self.version

    @property
    def ca_cert_pem(self) -> bytes:
        return self.ca.cert_pem

    @property
    def ca_cert_hash(self) -> str:
        return self.ca.pin

    def server_url(self) -> str:
        return f"https://{self.endpoint}"

    def accepts_endpoint(self, endpoint: str) -> bool:
        """Whether a join against ``endpoint`` reaches this API server."""
        e = endpoint.removeprefix("https://").rstrip("/")
        return self.reachable and e.lower() in {x.lower() for x in (self.endpoint, *self.aliases)}

    # ------------------------------------------------------------ tokens

    def create_token(
        self, ttl: float | None = DEFAULT_TOKEN_TTL, token: str | None = None, description: str = ""
    ) -> BootstrapToken:
        """A bootstrap token; ``ttl`` 0 or None never expires (``kubeadm token create --ttl 0``)."""
        if token is None:
            tid = "".join(secrets.choice(TOKEN_ALPHABET) for _ in range(6))
            secret = "".join(secrets.choice(TOKEN_ALPHABET) for _ in range(16))
        else:
            tid, _, secret = token.partition(".")
            if len(tid) != 6 or len(secret) != 16 or not set(tid + secret) <= set(TOKEN_ALPHABET):
                raise ValueError(
                    f'the bootstrap token "{token}" was not of the form "^([a-z0-9]{{6}})\\.([a-z0-9]{{16}})$"'
                )
        tok = BootstrapToken(tid, secret, self.clock(), ttl or None, description)
        with self.lock:
            tok.resource_version = self.next_revision()
            self.tokens[tid] = tok
        return tok

    def delete_token(self, token_id: str) -> None:
        with self.lock:
            self.tokens.pop(token_id.split(".", 1)[0], None)

    def live_tokens(self) -> list[BootstrapToken]:
        """The tokens not expired yet (the token cleaner deletes the others), oldest first."""
        now = self.clock()
        with self.lock:
            return sorted(
                (t for t in self.tokens.values() if t.expires is None or now < t.expires), key=lambda t: t.created
            )

    def token_status(self, token: str) -> str:
        """``ok``, ``unknown`` (no such id, or expired and cleaned up) or ``bad_secret``."""
        tid, _, secret = token.partition(".")
        tok = self.tokens.get(tid)
        if tok is None or (tok.expires is not None and self.clock() >= tok.expires):
            return "unknown"
        if not secrets.compare_digest(tok.secret, secret):
            return "bad_secret"
        return "ok"

    def join_command(self, ttl: float | None = DEFAULT_TOKEN_TTL) -> str:
        """What ``kubeadm token create --print-join-command`` prints (every flag ends with a blank,
        kubernetes PR #75487, so the line ends with one)."""
        tok = self.create_token(ttl)
        return f"kubeadm join {self.endpoint} --token {tok.token} --discovery-token-ca-cert-hash {self.ca_cert_hash} \n"

    # ------------------------------------------------------------ kubelet credentials and config

    def issue_kubelet_client_cert(self, node_name: str) -> bytes:
        """The TLS-bootstrapped client credential kubelet keeps as kubelet-client-current.pem:
        an ECDSA P-256 key and a certificate for ``system:node:<name>`` signed by the cluster CA."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=5)
        cert = (
            x509.CertificateBuilder()
            .subject_name(
                x509.Name(
                    [
                        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "system:nodes"),
                        x509.NameAttribute(NameOID.COMMON_NAME, f"system:node:{node_name}"),
                    ]
                )
            )
            .issuer_name(self.ca.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=365))
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .sign(self.ca.key, hashes.SHA256())
        )
        key_pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
        )
        return cert.public_bytes(serialization.Encoding.PEM) + key_pem

    def ca_data_b64(self) -> str:
        return base64.b64encode(self.ca_cert_pem).decode()

    def kubelet_config_yaml(self) -> str:
        """The ``kubelet-config`` ConfigMap's KubeletConfiguration as kubeadm writes it to
        ``config.yaml`` (Linux-centric values included: the same object serves every node)."""
        return f"""apiVersion: kubelet.config.k8s.io/v1beta1
authentication:
  anonymous:
    enabled: false
  webhook:
    cacheTTL: 0s
    enabled: true
  x509:
    clientCAFile: /etc/kubernetes/pki/ca.crt
authorization:
  mode: Webhook
  webhook:
    cacheAuthorizedTTL: 0s
    cacheUnauthorizedTTL: 0s
cgroupDriver: systemd
clusterDNS:
- {self.cluster_dns}
clusterDomain: {self.cluster_domain}
containerRuntimeEndpoint: ""
cpuManagerReconcilePeriod: 0s
evictionPressureTransitionPeriod: 0s
fileCheckFrequency: 0s
healthzBindAddress: 127.0.0.1
healthzPort: 10248
httpCheckFrequency: 0s
imageMaximumGCAge: 0s
imageMinimumGCAge: 0s
kind: KubeletConfiguration
logging:
  flushFrequency: 0
  options:
    json:
      infoBufferSize: "0"
    text:
      infoBufferSize: "0"
  verbosity: 0
memorySwap: {{}}
nodeStatusReportFrequency: 0s
nodeStatusUpdateFrequency: 0s
rotateCertificates: true
runtimeRequestTimeout: 0s
shutdownGracePeriod: 0s
shutdownGracePeriodCriticalPods: 0s
staticPodPath: /etc/kubernetes/manifests
streamingConnectionIdleTimeout: 0s
syncFrequency: 0s
volumeStatsAggPeriod: 0s
"""

    # ------------------------------------------------------------ nodes

    def register_node(self, node: Node) -> Node:
        """What kubelet's registration does: create the Node, or update an existing one of that
        name (labels merge, cordon and taints stay as the control plane set them)."""
        with self.lock:
            return self._register(node)

    def _register(self, node: Node) -> Node:
        old = self.nodes.get(node.name)
        if old is not None:
            old.resource_version = self.next_revision()
            old.kubelet_version = node.kubelet_version
            old.labels.update(node.labels)
            old.os_image, old.kernel_version = node.os_image, node.kernel_version
            old.container_runtime_version = node.container_runtime_version
            old.host = node.host
            old.ready_probe = node.ready_probe
            return old
        node.resource_version = self.next_revision()
        self.nodes[node.name] = node
        return node

    def node(self, name: str) -> Node | None:
        return self.nodes.get(name)

    def delete_node(self, name: str) -> bool:
        """``kubectl delete node`` (run on the control plane; ``kubeadm reset`` on the node does not)."""
        with self.lock:
            return self.nodes.pop(name, None) is not None

    def cordon(self, name: str, unschedulable: bool = True) -> None:
        with self.lock:
            node = self.nodes[name]
            node.unschedulable = unschedulable
            node.resource_version = self.next_revision()
            sync_unschedulable_taint(node)

    # ------------------------------------------------------------ dump

    def to_dict(self) -> dict[str, Any]:
        now = self.clock()
        return {
            "endpoint": self.endpoint,
            "aliases": list(self.aliases),
            "version": self.git_version,
            "api_url": self.api_url,
            "reachable": self.reachable,
            "ca_cert_hash": self.ca_cert_hash,
            "ca_cert_pem": self.ca_cert_pem.decode(),
            "tokens": [
                {
                    "id": t.id,
                    "token": t.token,
                    "description": t.description,
                    "expires": t.expires,
                    "expired": t.expires is not None and now >= t.expires,
                    "usages": list(t.usages),
                    "groups": list(t.groups),
                }
                for t in sorted(self.tokens.values(), key=lambda t: t.created)
            ],
            "nodes": [self._node_dict(n) for n in sorted(self.nodes.values(), key=lambda n: n.name)],
        }

    @staticmethod
    def _node_dict(n: Node) -> dict[str, Any]:
        ready, reason, message = n.condition()
        return {
            "name": n.name,
            "host": n.host,
            "kubelet_version": n.kubelet_version,
            "labels": dict(sorted(n.labels.items())),
            "taints": list(n.taints),
            "unschedulable": n.unschedulable,
            "ready": ready,
            "conditions": [{"type": "Ready", "status": str(ready), "reason": reason, "message": message}],
            "node_info": {
                "os_image": n.os_image,
                "kernel_version": n.kernel_version,
                "container_runtime_version": n.container_runtime_version,
                "operating_system": "windows",
                "architecture": "amd64",
            },
        }


def sync_unschedulable_taint(node: Node) -> None:
    """What the node lifecycle controller does for a cordoned node: the
    ``node.kubernetes.io/unschedulable:NoSchedule`` taint follows ``spec.unschedulable``."""
    taint = {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}
    has = any(t.get("key") == taint["key"] for t in node.taints)
    if node.unschedulable and not has:
        node.taints.append(taint)
    elif not node.unschedulable and has:
        node.taints = [t for t in node.taints if t.get("key") != taint["key"]]
