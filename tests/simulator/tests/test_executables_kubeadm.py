"""kubeadm join against the simulated cluster (success and each failure, GT §5.4/5.5) and reset
(GT §5.6)."""

from __future__ import annotations

import pytest
import yaml
from cryptography import x509

from tests.simulator.cluster import Cluster
from tests.simulator.executables.stamp import fake_binary
from tests.simulator.executables.testing import (
    WS2022,
    checked,
    create_kubelet_service,
    install_kube,
    make_host,
    sh,
    start_containerd,
)

ENDPOINT = "10.20.30.10:6443"
HINT = "To see the stack trace of this error execute with --v=5 or higher\n"


class Clock:
    def __init__(self) -> None:
        self.now = 2_000_000.0

    def __call__(self) -> float:
        return self.now


def node_host(kube: str = "1.33.3", cluster_version: str = "1.33.3", containerd: str = "1.7.28", service: bool = True):
    cluster = Cluster(endpoint=ENDPOINT, version=cluster_version, clock=Clock())
    host = make_host(WS2022, name="win22", cluster=cluster)
    install_kube(host, kube)
    start_containerd(host, containerd)
    if service:
        create_kubelet_service(host)
    return host, cluster


def join(host, *extra, token=None, ca=None):
    cluster = host.cluster
    token = token or cluster.create_token().token
    ca = ca or cluster.ca_cert_hash
    return sh(host, "kubeadm", "join", ENDPOINT, "--token", token, "--discovery-token-ca-cert-hash", ca, *extra)


def test_join_success_writes_the_files_and_the_node_turns_ready():
    host, cluster = node_host()
    r = join(host)
    assert r.rc == 0, r.stderr
    assert r.stdout.splitlines() == [
        "[preflight] Running pre-flight checks",
        "[preflight] Reading configuration from the cluster...",
        "[preflight] FYI: You can look at this config file with 'kubectl -n kube-system get cm kubeadm-config -o yaml'",
        '[kubelet-start] Writing kubelet configuration to file "\\\\var\\\\lib\\\\kubelet\\\\config.yaml"',
        "[kubelet-start] Writing kubelet environment file with flags to file "
        '"\\\\var\\\\lib\\\\kubelet\\\\kubeadm-flags.env"',
        "[kubelet-start] Starting the kubelet",
        "[kubelet-check] Waiting for a healthy kubelet at http://127.0.0.1:10248/healthz. This can take up to 4m0s",
        "[kubelet-check] The kubelet is healthy after 1.050735187s",
        "[kubelet-start] Waiting for the kubelet to perform the TLS Bootstrap",
        "",
        "This node has joined the cluster:",
        "* Certificate signing request was sent to apiserver and a response was received.",
        "* The Kubelet was informed of the new secure connection details.",
        "",
        "Run 'kubectl get nodes' on the control-plane to see this node join the cluster.",
        "",
    ]
    assert host.read_file(r"C:\etc\kubernetes\pki\ca.crt") == cluster.ca_cert_pem
    assert yaml.safe_load(host.read_file(r"C:\var\lib\kubelet\config.yaml"))["kind"] == "KubeletConfiguration"
    assert host.read_file(r"C:\var\lib\kubelet\kubeadm-flags.env") == (
        b'KUBELET_KUBEADM_ARGS="--container-runtime-endpoint=npipe:////./pipe/containerd-containerd '
        b'--pod-infra-container-image=registry.k8s.io/pause:3.10"\n'
    )
    assert not host.exists(r"C:\etc\kubernetes\bootstrap-kubelet.conf")  # the token left the disk
    kubeconfig = yaml.safe_load(host.read_file(r"C:\etc\kubernetes\kubelet.conf"))
    assert kubeconfig["clusters"][0]["cluster"]["server"] == f"https://{ENDPOINT}"
    pem = host.read_file(kubeconfig["users"][0]["user"]["client-certificate"])
    assert x509.load_pem_x509_certificate(pem).issuer == cluster.ca.cert.subject
    node = cluster.node("win22")
    assert node.ready and node.kubelet_version == "v1.33.3"
    assert node.labels["kubernetes.io/os"] == "windows"
    assert node.labels["node.kubernetes.io/windows-build"] == "10.0.20348"
    assert node.container_runtime_version == "containerd://1.7.28"
    # the node follows its kubelet and the runtime
    host.stop_service("kubelet")
    assert not cluster.node("win22").ready
    host.reboot()
    assert cluster.node("win22").ready
    host.stop_service("containerd")  # the kubelet service depends on it: the SCM stops both
    assert host.service("kubelet").state == "stopped" and not cluster.node("win22").ready
    host.service("kubelet").dependencies = []
    assert host.start_service("containerd") is None and host.start_service("kubelet") is None
    host.stop_service("containerd")
    assert cluster.node("win22").condition()[2] == "container runtime is down"


def test_join_1_35_writes_no_pod_infra_flag_and_hostname_override():
    host, _ = node_host(kube="1.35.2", cluster_version="1.35.2", containerd="2.2.0")
    assert join(host, "--node-name", "winnode").rc == 0
    assert host.read_file(r"C:\var\lib\kubelet\kubeadm-flags.env") == (
        b'KUBELET_KUBEADM_ARGS="--container-runtime-endpoint=npipe:////./pipe/containerd-containerd '
        b'--hostname-override=winnode"\n'
    )


def test_join_1_30_waits_the_old_way_and_uses_pause_3_9():
    host, _ = node_host(cluster_version="1.30.5")
    for comp in ("kubelet", "kubeadm"):
        host.write_file(
            rf"C:\k\{comp}.exe", fake_binary(comp, "1.30.5", commit="a" * 40, build_date="x", go="go1.22.8")
        )
    r = join(host)
    assert r.rc == 0, r.stderr
    assert "[kubelet-start] Waiting for the kubelet to perform the TLS Bootstrap..." in r.stdout.splitlines()
    assert "[kubelet-check]" not in r.stdout
    assert b"--pod-infra-container-image=registry.k8s.io/pause:3.9" in host.read_file(
        r"C:\var\lib\kubelet\kubeadm-flags.env"
    )


def test_unknown_token_id():
    host, _ = node_host()
    r = join(host, token="abcdef.0123456789abcdef")
    assert r.rc == 1
    assert r.stderr == (
        "error execution phase preflight: couldn't validate the identity of the API Server: could not find a JWS "
        'signature in the cluster-info ConfigMap for token ID "abcdef"\n' + HINT
    )
    assert r.stdout == "[preflight] Running pre-flight checks\n"
    assert not host.exists(r"C:\var\lib\kubelet\config.yaml")


def test_expired_token():
    host, cluster = node_host()
    token = cluster.create_token(ttl=3600).token
    cluster.clock.now += 3601
    assert "could not find a JWS signature in the cluster-info ConfigMap" in join(host, token=token).stderr


def test_wrong_secret():
    host, cluster = node_host()
    tid = cluster.create_token().id
    r = join(host, token=f"{tid}.zzzzzzzzzzzzzzzz")
    assert "failed to verify JWS signature of received cluster info object, can't trust this API Server" in r.stderr


def test_wrong_ca_hash_prints_the_real_one():
    host, cluster = node_host()
    r = join(host, ca="sha256:" + "0" * 64)
    assert r.stderr.startswith(
        "error execution phase preflight: couldn't validate the identity of the API Server: cluster CA found in "
        f'cluster-info ConfigMap is invalid: none of the public keys "{cluster.ca_cert_hash}" are pinned\n'
    )


@pytest.mark.parametrize(
    ("ca", "text"),
    [
        ("abc", 'invalid hash, expected "format:hex-value". Known format(s) are: sha256'),
        ("sha256:abcd", 'invalid hash "sha256:abcd", expected a 32 byte SHA-256 hash, found 2 bytes'),
        ("md5:abcd", 'unknown hash format "md5". Known format(s) are: sha256'),
    ],
)
def test_malformed_ca_hash(ca, text):
    host, _ = node_host()
    assert join(host, ca=ca).stderr == f"invalid discovery token CA certificate hash: {text}\n" + HINT


def test_no_ca_hash_needs_the_unsafe_flag():
    host, cluster = node_host()
    token = cluster.create_token().token
    r = sh(host, "kubeadm", "join", ENDPOINT, "--token", token)
    assert "using token-based discovery without caCertHashes can be unsafe" in r.stderr
    assert (
        sh(host, "kubeadm", "join", ENDPOINT, "--token", token, "--discovery-token-unsafe-skip-ca-verification").rc == 0
    )


def test_malformed_token():
    host, _ = node_host()
    assert "could not construct token string for token: nope" in join(host, token="nope").stderr


def test_unreachable_endpoint():
    host, cluster = node_host()
    token = cluster.create_token().token
    r = sh(
        host,
        "kubeadm",
        "join",
        "10.9.9.9:6443",
        "--token",
        token,
        "--discovery-token-ca-cert-hash",
        cluster.ca_cert_hash,
    )
    assert r.stderr.startswith(
        "error execution phase preflight: couldn't validate the identity of the API Server: failed to request the "
        "cluster-info ConfigMap: Get "
        '"https://10.9.9.9:6443/api/v1/namespaces/kube-public/configmaps/cluster-info?timeout=10s": '
        "dial tcp 10.9.9.9:6443: connectex: "
        "No connection could be made because the target machine actively refused it.\n"
    )
    cluster.reachable = False
    assert "connectex" in join(host).stderr


def test_preflight_file_checks_and_ignore():
    host, _ = node_host()
    host.write_file(r"C:\etc\kubernetes\pki\ca.crt", b"old")
    r = join(host)
    assert r.rc == 1
    assert r.stderr == (
        "error execution phase preflight: [preflight] Some fatal errors occurred:\n"
        "\t[ERROR FileAvailable-\\etc\\kubernetes\\pki\\ca.crt]: \\etc\\kubernetes\\pki\\ca.crt already exists\n"
        "[preflight] If you know what you are doing, you can make a check non-fatal with "
        "`--ignore-preflight-errors=...`\n" + HINT
    )
    r = join(host, "--ignore-preflight-errors=FileAvailable-\\etc\\kubernetes\\pki\\ca.crt")
    assert r.rc == 0
    assert (
        "\t[WARNING FileAvailable-\\etc\\kubernetes\\pki\\ca.crt]: \\etc\\kubernetes\\pki\\ca.crt already exists"
        in r.stdout
    )


def test_preflight_cri_and_kubelet_binary():
    host, _ = node_host()
    host.stop_service("containerd")
    r = join(host)
    assert "[ERROR CRI]: container runtime is not running" in r.stderr
    host.start_service("containerd")
    host.remove(r"C:\k\kubelet.exe")
    r = join(host)
    assert (
        "[ERROR KubeletVersion]: couldn't get kubelet version: cannot execute 'kubelet --version': "
        'exec: "kubelet": executable file not found in %PATH%' in r.stderr
    )


def test_skew_kubelet_too_old_for_kubeadm():
    host, _ = node_host(kube="1.33.3", cluster_version="1.36.4")
    install_kube(host, "1.32.0", ("kubelet",))  # fine: 1.32 >= kubeadm 1.33 - 3
    install_kube(host, "1.36.4", ("kubeadm",))
    r = join(host)
    assert (
        '[ERROR KubeletVersion]: Kubelet version "1.32.0" is lower than kubeadm can support. Please upgrade kubelet'
        in r.stderr
    )


def test_skew_kubeadm_too_new_for_the_control_plane():
    host, _ = node_host(kube="1.35.2", cluster_version="1.33.3", containerd="2.2.0")
    r = join(host)
    assert r.rc == 1
    assert (
        "this version of kubeadm only supports deploying clusters with the control plane version >= 1.34.0. "
        "Current version: v1.33.3" in r.stderr
    )


def test_join_twice_fails_on_files_and_on_a_ready_node_of_that_name():
    host, cluster = node_host()
    assert join(host).rc == 0
    r = join(host)
    assert "[ERROR FileAvailable-\\etc\\kubernetes\\kubelet.conf]" in r.stderr and "[ERROR Port-10250]" in r.stderr
    other = make_host(WS2022, name="win22", cluster=cluster, downloads=host.downloads)
    install_kube(other, "1.33.3")
    start_containerd(other, "1.7.28")
    create_kubelet_service(other)
    r = join(other)
    assert 'a Node with name "win22" and status "Ready" already exists in the cluster' in r.stderr


def test_no_kubelet_service_means_the_kubelet_check_fails():
    host, _ = node_host(service=False)
    r = join(host)
    assert r.rc == 1
    assert "[WARNING Service-Kubelet]: kubelet service does not exist" in r.stdout
    assert (
        "[kubelet-start] Couldn't detect a kubelet service, can't make sure the kubelet is running properly."
        in r.stdout
    )
    assert "The HTTP call equal to 'curl -sSL http://127.0.0.1:10248/healthz' returned error" in r.stderr
    assert not host.exists(r"C:\etc\kubernetes\bootstrap-kubelet.conf")


def test_unknown_flag_and_unemulated_forms():
    host, _ = node_host()
    assert sh(host, "kubeadm", "join", "--frobnicate").stderr == "unknown flag: --frobnicate\n" + HINT
    assert "is not emulated" in sh(host, "kubeadm", "join", ENDPOINT, "--config", r"C:\k\join.yaml").stderr
    assert "is not emulated" in sh(host, "kubeadm", "token", "create", "--print-join-command").stderr


def test_reset_force_removes_what_join_wrote_and_the_node_goes_not_ready():
    host, cluster = node_host()
    assert join(host).rc == 0
    r = checked(sh(host, "kubeadm", "reset", "-f"))
    lines = r.stdout.splitlines()
    assert lines[:2] == ["[preflight] Running pre-flight checks", "[reset] Stopping the kubelet service"]
    assert (
        "[reset] Deleting contents of directories: "
        "[\\etc\\kubernetes\\manifests \\var\\lib\\kubelet \\etc\\kubernetes\\pki]"
    ) in lines
    assert any(
        line.startswith("[reset] Deleting files: [\\etc\\kubernetes\\admin.conf \\etc\\kubernetes\\super-admin.conf")
        for line in lines
    )
    for path in (
        r"C:\etc\kubernetes\kubelet.conf",
        r"C:\etc\kubernetes\pki\ca.crt",
        r"C:\var\lib\kubelet\config.yaml",
        r"C:\var\lib\kubelet\kubeadm-flags.env",
        r"C:\var\lib\kubelet\pki\kubelet-client-current.pem",
    ):
        assert not host.exists(path), path
    assert host.isdir(r"C:\var\lib\kubelet")  # contents go, the directory stays
    assert host.service("kubelet").state == "stopped"
    assert not cluster.node("win22").ready  # the Node object stays until the control plane deletes it
    assert join(host).rc == 0  # and the host can join again


def test_reset_without_force_needs_a_yes():
    host, _ = node_host()
    r = sh(host, "kubeadm", "reset")
    assert r.rc == 1
    assert r.stderr == (
        "error execution phase preflight: won't proceed; the user didn't answer (Y|y) in order to continue\n" + HINT
    )
    r = checked(sh(host, "kubeadm", "reset", stdin=b"y\n"))
    assert "[reset] Are you sure you want to proceed? [y/N]: [preflight] Running pre-flight checks" in r.stdout
