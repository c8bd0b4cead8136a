# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""kube-proxy and the CNI for Windows nodes as HostProcess DaemonSets: the manifests to apply.

Pure rendering on the controller. Input: the cluster version the API server reports, the CNI, the
Calico release, the service and pod CIDRs, the API server endpoint nodes use and image repository
overrides. Output: plain dicts, one per Kubernetes object, ready for kubernetes.core.k8s. Every bad
input raises ValueError with what was wrong and what is accepted.

Abbreviations (commits as in shared/reference/anchors.md where they are listed there):
- SWT = kubernetes-sigs/sig-windows-tools @ 401ee6fcd836: ``hostprocess/calico/kube-proxy/kube-proxy.yml``
  (DaemonSet ``kube-proxy-windows``), ``guides/calico.md`` (``sed 's/KUBE_PROXY_VERSION/v1.25.3/g'``: the
  tag is ``v<cluster version>-calico-hostprocess``), ``guides/calico_operator.md`` (Calico >= 3.27.0).
- K0S = k0sproject/k0s ``static/manifests/windows/DaemonSet/calico-windows-node.yaml`` and
  ``ConfigMap/calico-windows-config.yaml``: a Calico for Windows HostProcess DaemonSet rendered without
  the Tigera operator, on top of a manifest-installed Linux Calico (ServiceAccount ``calico-node`` in
  kube-system).
- OP = tigera/operator ``pkg/render/windows.go``: what the operator renders for ``calico-node-windows``
  (containers, env, probes, CNI network config, pool env vars). K0S follows it minus the Typha TLS that
  only the operator can provision.
- CD = docs.tigera.io/calico/latest/reference/component-versions (``calico/node-windows`` and
  ``calico/cni-windows`` per release).
- KW = kubernetes/website; KA = kubernetes/kubernetes ``cmd/kubeadm/app/constants/constants.go``.
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Tuple
from urllib.parse import urlsplit

from ansible_collections.winkube.node.plugins.module_utils.containerd import WINDOWS_DEFAULT_PATHS
from ansible_collections.winkube.node.plugins.module_utils.versions import Version, parse_version

CNIS = ("calico", "flannel")
BACKENDS = ("vxlan", "windows-bgp")

# Flannel for Windows as HostProcess pods is not maintained anywhere this collection could render from:
# SWT removed its Flannel HostProcess manifests and images on 2025-04-11 ("The scripts here have not been
# maintained in ~2 years and the flannel version is far behind (v0.21) the upstream project (v0.26)",
# kubernetes-sigs/sig-windows-tools PR #385, confirmed by a maintainer in issue #387), and PR #388 removed
# flannel from the kube-proxy image workflow, so no new ``-flannel-hostprocess`` kube-proxy tags are built.
# flannel-io/flannel itself ships no Windows HostProcess manifest: the only Windows-related file in its
# Documentation/ (every version this collection could read) is ``kube-flannel-mixed-win.yml``, a flannel
# v0.11.0 manifest for the Linux side of a mixed cluster (Linux-only DaemonSets, VNI 4096 for Windows peers).
FLANNEL_REFUSAL = (
    "flannel is not supported: no maintained Flannel HostProcess manifests or images exist. "
    "sig-windows-tools removed them on 2025-04-11 (kubernetes-sigs/sig-windows-tools PR #385: unmaintained for "
    "about two years, flannel v0.21 against upstream v0.26) and stopped building -flannel-hostprocess "
    "kube-proxy images (PR #388); flannel-io/flannel publishes no Windows HostProcess manifest. Use cni: calico"
)

# HostProcess containers: beta (on by default) in v1.23, stable in v1.26 (domain facts 3d; KW
# create-hostprocess-pod.md, pod-security-standards.md). SWT builds kube-proxy images from v1.22 on
# (hack/test-kube-proxy-images.ps1), so the HostProcess feature is the binding lower bound.
MIN_KUBERNETES = Version(1, 23)


@dataclass(frozen=True)
class CalicoRelease:
    """A Calico release line with Windows HostProcess images and the Kubernetes minors it is tested on."""

    version: Version  # the newest patch of the line this module knows; the default for the line
    first_minor: int
    last_minor: int
    status: str
    source: str


# The layout rendered here (calico/node-windows + calico/cni-windows images, install-cni and
# uninstall-calico init containers) exists from Calico 3.27.0 (SWT guides/calico_operator.md; CD lists
# both images for every release since). Tested Kubernetes ranges come from Tigera's versioned
# "System requirements" pages, which this collection read only through a third-party summary
# (Rusty-Gopher/kupre v0.5.0 release notes: "3.33 covers 1.35 to 1.37, 3.32 covers 1.34 to 1.36, and 3.31
# covers 1.32 to 1.35"), so the ranges are partial; 1.35 for 3.31 is confirmed by a Calico maintainer
# (projectcalico discussion #11717). Patches: v3.33.0 ("Latest", GitHub release 2026-10-01), v3.32.4
# (GitHub release 2026-11-11), v3.31.3 (CD component versions: calico/node-windows v3.31.3,
# calico/cni-windows v3.31.3; also k0s's pinned Windows images).
CALICO_RELEASES: Tuple[CalicoRelease, ...] = (
    CalicoRelease(Version(3, 33, 0), 35, 37, "partial", "projectcalico/calico release v3.33.0; kupre v0.5.0"),
    CalicoRelease(Version(3, 32, 4), 34, 36, "partial", "projectcalico/calico release v3.32.4; kupre v0.5.0"),
    CalicoRelease(Version(3, 31, 3), 32, 35, "partial", "CD component versions 3.31.3; calico discussion #11717"),
)

# Image repositories. kube-proxy: SWT kube-proxy.yml (``sigwindowstools/kube-proxy``; mirrored to
# ghcr.io/kubernetes-sigs/sig-windows/kube-proxy by SWT hack/regsync.yaml). Calico: CD image names, with
# the docker.io registry K0S pins.
DEFAULT_IMAGES: Dict[str, str] = {
    "kube_proxy": "docker.io/sigwindowstools/kube-proxy",
    "calico_node": "docker.io/calico/node-windows",
    "calico_cni": "docker.io/calico/cni-windows",
}

KUBE_PROXY_NAME = "kube-proxy-windows"
CALICO_NODE_NAME = "calico-node-windows"
CALICO_CONFIG_NAME = "calico-windows-config"
# kubeadm creates the kube-proxy ServiceAccount, its ClusterRoleBinding and the kube-proxy ConfigMap
# in kube-system; SWT's DaemonSet reuses all three, so it must live there too.
KUBE_PROXY_NAMESPACE = "kube-system"
# Windows only accepts VXLAN on port 4789 with a VSID >= 4096; 4096 is Calico's default (SWT
# guides/calico_operator.md; K0S and OP's VXLAN_VNI).
VXLAN_VNI = 4096
# Calico's name for the HNS network, which SWT's kube-proxy start.ps1 waits for (anchors step 12).
HNS_NETWORK = "Calico"
# ``pod-security.kubernetes.io/enforce: privileged``: HostProcess pods are only allowed by the privileged
# Pod Security Standard (KW pod-security-standards.md, "HostProcess" under Baseline); Calico labels its
# own namespaces the same way (projectcalico/calico manifests/generate.sh, namespace tigera-operator).
PRIVILEGED_NAMESPACE_LABELS = {"pod-security.kubernetes.io/enforce": "privileged"}

_REPOSITORY_RE = re.compile(r"^[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[0-9]+)?(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)+$")
_DNS_LABEL_RE = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_HOST_RE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$")
_WINDOWS_ABS_RE = re.compile(r"^[A-Za-z]:\\[^\x00-\x1f\"<>|?*]*$")


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{what} must be a non-empty string, got {value!r}")
    return value.strip()


def parse_cluster_version(value: Any) -> Version:
    """The API server's version (``/version`` gitVersion, e.g. ``v1.36.4``) as X.Y.Z.

    A distribution suffix (``v1.36.4+k3s1``, ``v1.33.5-eks-...``) is refused: the kube-proxy image tag
    is derived from the plain upstream release, so a suffixed version cannot be mapped without guessing."""
    text = _text(value, "cluster version")
    if re.match(r"^v?\d+\.\d+\.\d+[+-]", text):
        raise ValueError(
            f"cluster version {text!r} carries a distribution suffix; give the upstream Kubernetes release "
            "it is built from (X.Y.Z) explicitly"
        )
    version = parse_version(text, "cluster version", require_patch=True)
    if (version.major, version.minor) < MIN_KUBERNETES.minor_line:
        raise ValueError(
            f"Kubernetes {version} is too old: HostProcess pods need Kubernetes {MIN_KUBERNETES.minor_text} or "
            "newer (beta from v1.23, stable from v1.26)"
        )
    return version


def kube_proxy_tag(kubernetes: Version) -> str:
    """SWT's tag for a cluster version: ``v<X.Y.Z>-calico-hostprocess`` (guides/calico.md)."""
    return f"v{kubernetes}-calico-hostprocess"


def _known_lines() -> str:
    return ", ".join(f"{r.version.minor_text} (Kubernetes 1.{r.first_minor}-1.{r.last_minor})" for r in CALICO_RELEASES)


def calico_release(kubernetes: Version, requested: Any = None) -> Version:
    """The Calico release to install: ``requested`` (X.Y.Z of a known line) or the newest known release
    whose tested range includes the cluster's minor. Outside a tested range is refused, never guessed."""
    if requested in (None, ""):
        for release in CALICO_RELEASES:
            if kubernetes.major == 1 and release.first_minor <= kubernetes.minor <= release.last_minor:
                return release.version
        raise ValueError(
            f"no known Calico release is tested on Kubernetes {kubernetes.minor_text}; known lines: {_known_lines()}"
        )
    version = parse_version(requested, "Calico version", require_patch=True)
    for release in CALICO_RELEASES:
        if release.version.minor_line == version.minor_line:
            if not (kubernetes.major == 1 and release.first_minor <= kubernetes.minor <= release.last_minor):
                raise ValueError(
                    f"Calico {version.minor_text} is tested on Kubernetes 1.{release.first_minor} to "
                    f"1.{release.last_minor}, not {kubernetes.minor_text}; known lines: {_known_lines()}"
                )
            return version
    raise ValueError(f"Calico {version} is not a release line this collection knows; known lines: {_known_lines()}")


def api_endpoint(value: Any) -> Tuple[str, int]:
    """``https://host:port`` or ``host:port`` (the endpoint nodes use, e.g. cluster-info's server)."""
    text = _text(value, "API server endpoint")
    parts = urlsplit(text if "://" in text else f"https://{text}")
    if parts.scheme != "https" or parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise ValueError(f"API server endpoint {text!r} must be https://HOST:PORT or HOST:PORT")
    host = parts.hostname
    try:
        port = parts.port
    except ValueError:
        port = None
    if not host or port is None or not 0 < port < 65536:
        raise ValueError(f"API server endpoint {text!r} needs a host and a port (for example 10.20.30.10:6443)")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if not _HOST_RE.match(host):
            raise ValueError(f"API server endpoint {text!r}: {host!r} is not a host name or IP address") from None
    return host, port


def _ipv4_network(value: Any, what: str) -> ipaddress.IPv4Network:
    text = _text(value, what)
    try:
        network = ipaddress.ip_network(text, strict=True)
    except ValueError as exc:
        raise ValueError(f"{what} {text!r} is not a CIDR such as 10.96.0.0/12 ({exc})") from None
    if not isinstance(network, ipaddress.IPv4Network):
        # FELIX_IPV6SUPPORT stays false in what is rendered here; dual stack is not modelled.
        raise ValueError(f"{what} {text!r} is IPv6; only IPv4 networks are rendered")
    return network


def dns_server(service_cidr: ipaddress.IPv4Network) -> str:
    """kubeadm's cluster DNS address: the 10th address of the service subnet (KA GetDNSIP)."""
    if service_cidr.num_addresses < 11:
        raise ValueError(f"service CIDR {service_cidr} is too small for kubeadm's DNS address (its 10th address)")
    return str(service_cidr.network_address + 10)


def images(kubernetes: Version, calico: Version, overrides: Any = None) -> Dict[str, str]:
    """Full image references; ``overrides`` replaces repositories (a mirror), never the derived tags."""
    repos = dict(DEFAULT_IMAGES)
    if overrides not in (None, {}):
        if not isinstance(overrides, Mapping):
            raise ValueError(f"images must be a mapping of {', '.join(DEFAULT_IMAGES)} to repositories")
        for key, repo in overrides.items():
            if key not in DEFAULT_IMAGES:
                raise ValueError(f"unknown image {key!r}; accepted: {', '.join(DEFAULT_IMAGES)}")
            if not isinstance(repo, str) or not _REPOSITORY_RE.match(repo):
                raise ValueError(
                    f"images.{key} {repo!r} must be a repository without tag or digest, "
                    "for example registry.example.com/calico/node-windows"
                )
            repos[key] = repo
    calico_tag = f"v{calico}"
    return {
        "kube_proxy": f"{repos['kube_proxy']}:{kube_proxy_tag(kubernetes)}",
        "calico_node": f"{repos['calico_node']}:{calico_tag}",
        "calico_cni": f"{repos['calico_cni']}:{calico_tag}",
    }


def _host_dir(value: Any, what: str) -> str:
    text = _text(value, what)
    if not _WINDOWS_ABS_RE.match(text) or len(text.rstrip("\\")) < 4:
        raise ValueError(f"{what} {text!r} must be an absolute Windows directory such as C:\\opt\\cni\\bin")
    return text.rstrip("\\")


def _sandbox_path(windows_path: str) -> str:
    r"""``C:\Program Files\x`` -> ``/Program Files/x``: the form OP passes as CNI_NET_DIR ("c:" trimmed)."""
    return "/" + windows_path[3:].replace("\\", "/")


def _field_env(name: str, path: str) -> Dict[str, Any]:
    return {"name": name, "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": path}}}


def _host_process() -> Dict[str, Any]:
    # KW create-hostprocess-pod.md: hostProcess with runAsUserName NT AUTHORITY\SYSTEM (any case) and
    # hostNetwork: true; every container of the pod must be HostProcess.
    return {"windowsOptions": {"hostProcess": True, "runAsUserName": "NT AUTHORITY\\system"}}


def kube_proxy_daemonset(image: str) -> Dict[str, Any]:
    """SWT hostprocess/calico/kube-proxy/kube-proxy.yml with the derived image tag."""
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": KUBE_PROXY_NAME, "namespace": KUBE_PROXY_NAMESPACE, "labels": {"k8s-app": "kube-proxy"}},
        "spec": {
            "selector": {"matchLabels": {"k8s-app": KUBE_PROXY_NAME}},
            "updateStrategy": {"type": "RollingUpdate"},
            "template": {
                "metadata": {"labels": {"k8s-app": KUBE_PROXY_NAME}},
                "spec": {
                    "serviceAccountName": "kube-proxy",
                    "securityContext": _host_process(),
                    "hostNetwork": True,
                    "containers": [
                        {
                            "name": "kube-proxy",
                            "image": image,
                            "args": ["$env:CONTAINER_SANDBOX_MOUNT_POINT/kube-proxy/start.ps1"],
                            "workingDir": "$env:CONTAINER_SANDBOX_MOUNT_POINT/kube-proxy/",
                            "env": [_field_env("NODENAME", "spec.nodeName"), _field_env("POD_IP", "status.podIP")],
                            "volumeMounts": [{"mountPath": "/var/lib/kube-proxy", "name": "kube-proxy"}],
                        }
                    ],
                    "nodeSelector": {"kubernetes.io/os": "windows"},
                    "tolerations": [{"operator": "Exists"}],
                    # kubeadm's kube-proxy ConfigMap (kubeconfig.conf, config.conf) that start.ps1 reads.
                    "volumes": [{"name": "kube-proxy", "configMap": {"name": "kube-proxy"}}],
                },
            },
        },
    }


@dataclass(frozen=True)
class CalicoSettings:
    namespace: str
    backend: str
    service_cidr: ipaddress.IPv4Network
    pod_cidr: Optional[ipaddress.IPv4Network]
    dns_servers: Tuple[str, ...]
    api_host: str
    api_port: int
    cni_bin_dir: str
    cni_conf_dir: str


def cni_network_config(settings: CalicoSettings) -> str:
    """The CNI conflist install-cni writes (OP createCalicoPluginConfig, as K0S renders it).

    ``__KUBERNETES_NODE_NAME__``, ``__NODENAME_FILE__`` and ``__DSR_SUPPORT__`` are placeholders the
    Calico installer replaces on the node; they stay as they are."""
    service = str(settings.service_cidr)
    plugin = {
        "type": "calico",
        "name": "Calico",
        "windows_use_single_network": True,
        "mode": settings.backend,
        "vxlan_mac_prefix": "0E-2A",
        "vxlan_vni": VXLAN_VNI,
        "mtu": 0,  # 0: auto-detection (OP getMTU)
        "policy": {"type": "k8s"},
        "log_file_path": "c:/var/log/calico/cni/cni.log",
        "windows_loopback_DSR": "__DSR_SUPPORT__",
        "capabilities": {"dns": True},
        "nodename": "__KUBERNETES_NODE_NAME__",
        "nodename_file": "__NODENAME_FILE__",
        "nodename_file_optional": True,
        "datastore_type": "kubernetes",
        "ipam": {"type": "calico-ipam", "subnet": "usePodCidr"},
        "kubernetes": {"kubeconfig": "c:" + _sandbox_path(settings.cni_conf_dir) + "/calico-kubeconfig"},
        "DNS": {"Nameservers": list(settings.dns_servers), "Search": ["svc.cluster.local"]},
        # Service traffic is not NATed to the node and is routed through the overlay (OP, K0S, and SWT's
        # older calico.yml: OutBoundNAT ExceptionList + SDNROUTE NeedEncap for the service CIDR).
        "policies": [
            {"Name": "EndpointPolicy", "Value": {"Type": "OutBoundNAT", "ExceptionList": [service]}},
            {"Name": "EndpointPolicy", "Value": {"Type": "SDNROUTE", "DestinationPrefix": service, "NeedEncap": True}},
        ],
    }
    return json.dumps({"name": "Calico", "cniVersion": "0.3.1", "plugins": [plugin]}, indent=2, sort_keys=True)


def _calico_env(settings: CalicoSettings) -> List[Dict[str, Any]]:
    """calico-node/felix environment (OP windowsEnvVars without operator-only Typha TLS; K0S values)."""
    bgp = settings.backend == "windows-bgp"
    env: List[Dict[str, Any]] = [
        {"name": "DATASTORE_TYPE", "value": "kubernetes"},
        {"name": "WAIT_FOR_DATASTORE", "value": "true"},
        {"name": "CLUSTER_TYPE", "value": "k8s,windows,bgp" if bgp else "k8s,windows"},
        {"name": "CALICO_DISABLE_FILE_LOGGING", "value": "false"},
        {"name": "FELIX_DEFAULTENDPOINTTOHOSTACTION", "value": "ACCEPT"},
        {"name": "FELIX_HEALTHENABLED", "value": "true"},
        _field_env("NODENAME", "spec.nodeName"),
        _field_env("NAMESPACE", "metadata.namespace"),
        {"name": "KUBERNETES_DNS_SERVERS", "value": ",".join(settings.dns_servers)},
        {"name": "KUBERNETES_SERVICE_CIDRS", "value": str(settings.service_cidr)},
        {"name": "VXLAN_VNI", "value": str(VXLAN_VNI)},
        {"name": "VXLAN_ADAPTER", "value": ""},
        {"name": "CALICO_MANAGE_CNI", "value": "true"},
        {"name": "KUBE_NETWORK", "value": f"{HNS_NETWORK}.*"},
        {"name": "CALICO_NETWORKING_BACKEND", "value": settings.backend},
        {"name": "IP", "value": "autodetect"},
        {"name": "IP_AUTODETECTION_METHOD", "value": "first-found"},
        {"name": "IP6", "value": "none"},
        {"name": "FELIX_IPV6SUPPORT", "value": "false"},
    ]
    if settings.pod_cidr is None:
        # OP: without a configured pool, calico-node must not create a default one.
        env.append({"name": "NO_DEFAULT_POOLS", "value": "true"})
    else:
        env.append({"name": "CALICO_IPV4POOL_CIDR", "value": str(settings.pod_cidr)})
        # OP maps encapsulation VXLAN to "Always" and none to IPIP "Never"; Windows supports no IPIP and
        # needs vxlanMode Always for VXLAN (SWT guides/calico_operator.md).
        if bgp:
            env.append({"name": "CALICO_IPV4POOL_IPIP", "value": "Never"})
        else:
            env.append({"name": "CALICO_IPV4POOL_VXLAN", "value": "Always"})
    # The endpoint the node reaches the API server on before any service routing exists (OP K8sServiceEp).
    env.append({"name": "KUBERNETES_SERVICE_HOST", "value": settings.api_host})
    env.append({"name": "KUBERNETES_SERVICE_PORT", "value": str(settings.api_port)})
    return env


def _calico_exe(flag: str) -> List[str]:
    return ["$env:CONTAINER_SANDBOX_MOUNT_POINT/CalicoWindows/calico-node.exe", flag]


def _calico_container(name: str, script: str, image: str, env: List[Dict[str, Any]]) -> Dict[str, Any]:
    return {
        "name": name,
        "image": image,
        "args": [f"$env:CONTAINER_SANDBOX_MOUNT_POINT/CalicoWindows/{script}"],
        "workingDir": "$env:CONTAINER_SANDBOX_MOUNT_POINT/CalicoWindows/",
        "env": env,
        "securityContext": _host_process(),
        "volumeMounts": [
            {"mountPath": "/var/run/calico", "name": "var-run-calico"},
            {"mountPath": "/var/lib/calico", "name": "var-lib-calico"},
            {"mountPath": "/var/log/calico/cni", "name": "cni-log-dir"},
            {"mountPath": "/host/etc/cni/net.d", "name": "cni-net-dir"},
        ],
    }


def calico_daemonset(settings: CalicoSettings, node_image: str, cni_image: str) -> Dict[str, Any]:
    """``calico-node-windows`` (K0S calico-windows-node.yaml / OP windowsDaemonset)."""
    env = _calico_env(settings)
    felix = _calico_container("felix", "felix-service.ps1", node_image, env)
    felix["livenessProbe"] = {
        "exec": {"command": _calico_exe("-felix-live")},
        "initialDelaySeconds": 10,
        "failureThreshold": 6,
        "timeoutSeconds": 10,
        "periodSeconds": 10,
    }
    felix["readinessProbe"] = {
        "exec": {"command": _calico_exe("-felix-ready")},
        "timeoutSeconds": 10,
        "periodSeconds": 10,
    }
    felix["lifecycle"] = {"preStop": {"exec": {"command": _calico_exe("-shutdown")}}}
    containers = [felix, _calico_container("node", "node-service.ps1", node_image, env)]
    if settings.backend == "windows-bgp":
        # OP confdContainer: "used only for the windows-bgp backend".
        containers.append(_calico_container("confd", "confd/confd-service.ps1", node_image, env))
    cni_mounts = [
        {"mountPath": "/host/opt/cni/bin", "name": "cni-bin-dir"},
        {"mountPath": "/host/etc/cni/net.d", "name": "cni-net-dir"},
    ]
    uninstall = {
        # OP: "The uninstall-calico initContainer must be the first initContainer" (it removes a
        # non-HostProcess Calico for Windows installation from the host).
        "name": "uninstall-calico",
        "image": node_image,
        "args": ["$env:CONTAINER_SANDBOX_MOUNT_POINT/uninstall-calico.ps1"],
        "env": [
            {"name": "SLEEP", "value": "false"},
            {"name": "CNI_BIN_DIR", "value": "/host/opt/cni/bin"},
            {"name": "CNI_CONF_NAME", "value": "10-calico.conflist"},
            {"name": "CNI_NET_DIR", "value": "/host/etc/cni/net.d"},
        ],
        "securityContext": _host_process(),
        "volumeMounts": cni_mounts,
    }
    install = {
        "name": "install-cni",
        "image": cni_image,
        "command": ["$env:CONTAINER_SANDBOX_MOUNT_POINT/opt/cni/bin/install.exe"],
        "env": [
            {"name": "SLEEP", "value": "false"},
            {"name": "CNI_BIN_DIR", "value": "/host/opt/cni/bin"},
            {"name": "CNI_CONF_NAME", "value": "10-calico.conflist"},
            {"name": "CNI_NET_DIR", "value": _sandbox_path(settings.cni_conf_dir)},
            {"name": "KUBERNETES_DNS_SERVERS", "value": ",".join(settings.dns_servers)},
            {"name": "KUBERNETES_SERVICE_CIDRS", "value": str(settings.service_cidr)},
            {"name": "VXLAN_VNI", "value": str(VXLAN_VNI)},
            {
                "name": "KUBERNETES_NODE_NAME",
                "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "spec.nodeName"}},
            },
            {
                "name": "CNI_NETWORK_CONFIG",
                "valueFrom": {"configMapKeyRef": {"name": CALICO_CONFIG_NAME, "key": "config"}},
            },
            {"name": "KUBERNETES_SERVICE_HOST", "value": settings.api_host},
            {"name": "KUBERNETES_SERVICE_PORT", "value": str(settings.api_port)},
        ],
        "securityContext": _host_process(),
        "volumeMounts": cni_mounts,
    }

    def host_path(name: str, path: str, kind: str = "DirectoryOrCreate") -> Dict[str, Any]:
        return {"name": name, "hostPath": {"path": path, "type": kind}}

    labels = {"k8s-app": CALICO_NODE_NAME}
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": CALICO_NODE_NAME, "namespace": settings.namespace, "labels": dict(labels)},
        "spec": {
            "selector": {"matchLabels": dict(labels)},
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}},
            "template": {
                "metadata": {"labels": dict(labels)},
                "spec": {
                    # The Linux Calico manifest install's ServiceAccount and RBAC (K0S); see README/role docs.
                    "serviceAccountName": "calico-node",
                    "securityContext": _host_process(),
                    "hostNetwork": True,
                    "priorityClassName": "system-node-critical",
                    "terminationGracePeriodSeconds": 5,
                    "nodeSelector": {"kubernetes.io/os": "windows"},
                    "tolerations": [
                        {"key": "CriticalAddonsOnly", "operator": "Exists"},
                        {"effect": "NoSchedule", "operator": "Exists"},
                        {"effect": "NoExecute", "operator": "Exists"},
                    ],
                    "initContainers": [uninstall, install],
                    "containers": containers,
                    "volumes": [
                        # Must be the runtime's CNI directories on every Windows node (Calico's
                        # calico-windows-vxlan.yaml: "This must match the containerd configuration").
                        host_path("cni-bin-dir", settings.cni_bin_dir),
                        host_path("cni-net-dir", settings.cni_conf_dir),
                        host_path("cni-log-dir", "/var/log/calico/cni"),
                        host_path("var-lib-calico", "/var/lib/calico"),
                        host_path("var-run-calico", "/var/run/calico"),
                    ],
                },
            },
        },
    }


def _namespace(value: Any) -> str:
    text = _text(value, "namespace")
    if not _DNS_LABEL_RE.match(text):
        raise ValueError(f"namespace {text!r} is not a valid Kubernetes namespace name (DNS label)")
    return text


def render(
    cluster_version: Any,
    *,
    cni: Any = "calico",
    calico_version: Any = None,
    service_cidr: Any = "10.96.0.0/12",
    pod_cidr: Any = None,
    api_server: Any = None,
    image_overrides: Any = None,
    namespace: Any = "kube-system",
    backend: Any = "vxlan",
    cni_bin_dir: Any = WINDOWS_DEFAULT_PATHS["cni_bin_dir"],
    cni_conf_dir: Any = WINDOWS_DEFAULT_PATHS["cni_conf_dir"],
    include_cni: Any = True,
) -> Dict[str, Any]:
    """Every manifest for kube-proxy and the CNI on Windows nodes, in apply order, plus what they were
    derived from (versions, images) and the DaemonSets to wait for.

    ``include_cni=False`` renders kube-proxy only: for clusters whose Tigera operator already renders
    ``calico-node-windows`` itself (SWT guides/calico_operator.md), where a second copy would fight it."""
    if not isinstance(include_cni, bool):
        raise ValueError(f"include_cni must be a boolean, got {include_cni!r}")
    if cni == "flannel":
        raise ValueError(FLANNEL_REFUSAL)
    if cni not in CNIS:
        raise ValueError(f"unknown CNI {cni!r}; accepted: calico (flannel is refused, see the role docs)")
    if backend not in BACKENDS:
        raise ValueError(f"unknown Calico backend {backend!r}; accepted: {', '.join(BACKENDS)}")
    kubernetes = parse_cluster_version(cluster_version)
    calico = calico_release(kubernetes, calico_version)
    refs = images(kubernetes, calico, image_overrides)
    service = _ipv4_network(service_cidr, "service CIDR")
    pods = None if pod_cidr in (None, "") else _ipv4_network(pod_cidr, "pod CIDR")
    if pods is not None and pods.overlaps(service):
        raise ValueError(f"pod CIDR {pods} overlaps the service CIDR {service}")
    if api_server in (None, ""):
        raise ValueError("api_server is missing: the API server endpoint Windows nodes reach (HOST:PORT)")
    host, port = api_endpoint(api_server)
    calico_ns = _namespace(namespace)
    settings = CalicoSettings(
        namespace=calico_ns,
        backend=backend,
        service_cidr=service,
        pod_cidr=pods,
        dns_servers=(dns_server(service),),
        api_host=host,
        api_port=port,
        cni_bin_dir=_host_dir(cni_bin_dir, "cni_bin_dir"),
        cni_conf_dir=_host_dir(cni_conf_dir, "cni_conf_dir"),
    )
    manifests: List[Dict[str, Any]] = []
    daemonsets: List[Dict[str, str]] = []
    prerequisites = [
        {"kind": "ServiceAccount", "namespace": KUBE_PROXY_NAMESPACE, "name": "kube-proxy", "from": "kubeadm"},
        {"kind": "ConfigMap", "namespace": KUBE_PROXY_NAMESPACE, "name": "kube-proxy", "from": "kubeadm"},
    ]
    if include_cni:
        if calico_ns != KUBE_PROXY_NAMESPACE:
            manifests.append(
                {
                    "apiVersion": "v1",
                    "kind": "Namespace",
                    "metadata": {"name": calico_ns, "labels": dict(PRIVILEGED_NAMESPACE_LABELS)},
                }
            )
        manifests.append(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": CALICO_CONFIG_NAME, "namespace": calico_ns},
                "data": {"config": cni_network_config(settings)},
            }
        )
        manifests.append(calico_daemonset(settings, refs["calico_node"], refs["calico_cni"]))
        daemonsets.append({"namespace": calico_ns, "name": CALICO_NODE_NAME})
        prerequisites.append(
            {"kind": "ServiceAccount", "namespace": calico_ns, "name": "calico-node", "from": "Calico for Linux"}
        )
    manifests.append(kube_proxy_daemonset(refs["kube_proxy"]))
    daemonsets.append({"namespace": KUBE_PROXY_NAMESPACE, "name": KUBE_PROXY_NAME})
    return {
        "kubernetes_version": str(kubernetes),
        "calico_version": str(calico),
        "service_cidr": str(service),
        "dns_server": settings.dns_servers[0],
        "api_server": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
        "images": refs,
        "manifests": manifests,
        "daemonsets": daemonsets,
        # What the manifests rely on and do not create (kubeadm's kube-proxy ServiceAccount and
        # ConfigMap; the Linux Calico install's ServiceAccount and RBAC), for the role to check first.
        "prerequisites": prerequisites,
    }
