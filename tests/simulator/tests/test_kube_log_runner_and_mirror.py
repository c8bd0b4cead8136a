"""Contract B (the simulated internet behind the control API's mirror, and win_get_url reading mirror
URLs) and the kubelet under kube-log-runner (its klog output in --log-file, kubeadm's flags)."""

from __future__ import annotations

import hashlib
import json
import urllib.error
import urllib.request

import pytest

from tests.simulator.cluster import Cluster
from tests.simulator.downloads import KUBE_BASE, DownloadFixtures, kube_releases, original_url
from tests.simulator.executables.stamp import parse_stamp
from tests.simulator.executables.testing import K_DIR, WS2022, checked, install_kube, make_host, sh, start_containerd
from tests.simulator.modules.testing import call
from tests.simulator.server import Simulator

LOG = r"C:\var\log\kubelet\kubelet.log"
BASE_FLAGS = (
    r"--cert-dir=C:\var\lib\kubelet\pki --config=C:\var\lib\kubelet\config.yaml "
    r"--bootstrap-kubeconfig=C:\etc\kubernetes\bootstrap-kubelet.conf --kubeconfig=C:\etc\kubernetes\kubelet.conf "
    r"--container-runtime-endpoint=npipe:////./pipe/containerd-containerd --enable-debugging-handlers "
    r"--cgroups-per-qos=false --enforce-node-allocatable= --resolv-conf="
)


# ------------------------------------------------------------------ downloads


@pytest.mark.parametrize("version", sorted(kube_releases()))
def test_every_known_release_has_the_node_binaries_with_hex_only_checksums(version: str) -> None:
    d = DownloadFixtures()
    for comp in ("kubelet", "kubeadm", "kube-proxy", "kubectl", "kube-log-runner"):
        for prefix in ("", "release/"):
            url = f"{KUBE_BASE}/{prefix}v{version}/bin/windows/amd64/{comp}.exe"
            data = d.get(url)
            assert (parse_stamp(data).name, parse_stamp(data).version) == (comp, version)
            assert d.get(url + ".sha256").decode() == hashlib.sha256(data).hexdigest() + "\n"


def test_original_url_maps_only_mirror_urls() -> None:
    mirror = "http://127.0.0.1:4242/mirror/https/dl.k8s.io/v1.36.4/bin/windows/amd64/kubelet.exe"
    assert original_url(mirror) == "https://dl.k8s.io/v1.36.4/bin/windows/amd64/kubelet.exe"
    assert original_url("http://127.0.0.1:4242/mirror/http/example.test/a/b") == "http://example.test/a/b"
    for other in ("https://dl.k8s.io/x", "http://10.0.0.1:80/mirror/https/dl.k8s.io/x", "http://127.0.0.1:1/other/x"):
        assert original_url(other) == other


def test_restore_undoes_every_change() -> None:
    d = DownloadFixtures()
    url = f"{KUBE_BASE}/v1.36.4/bin/windows/amd64/kubelet.exe"
    genuine = d.get(url)
    d.override(url, b"tampered")
    d.restore(url)
    assert d.get(url) == genuine
    d.fail(url, 503)
    d.truncate(url, 10)
    d.restore(url)
    assert d.get(url) == genuine
    d.remove(url)
    d.restore(url)
    assert d.has(url)


# ------------------------------------------------------------------ the control API's mirror


def _get(url: str, method: str = "GET", body: object = None) -> tuple[int, dict, bytes]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)  # noqa: S310 - the simulator on 127.0.0.1
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310 - 127.0.0.1 only
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


@pytest.fixture(scope="module")
def sim():
    version = "1.36.4"
    changes = [
        {
            "url": "https://mirror.example/k8s/kubelet.exe",
            "content_from": f"{KUBE_BASE}/v{version}/bin/windows/amd64/kubeadm.exe",
        },
        {"url": "https://mirror.example/k8s/busy.exe", "status": 503, "times": 1},
        {"url": f"{KUBE_BASE}/v{version}/bin/windows/amd64/kubectl.exe.sha512", "absent": True},
    ]
    with Simulator({"hosts": [{"name": "a"}], "downloads": changes}) as s:
        yield s


def test_mirror_serves_the_bytes_and_the_checksum_files(sim) -> None:
    base = f"{sim.control_url}/mirror/https/dl.k8s.io/v1.36.4/bin/windows/amd64"
    status, headers, body = _get(f"{base}/kubelet.exe")
    assert status == 200
    assert body == sim.downloads.content(f"{KUBE_BASE}/v1.36.4/bin/windows/amd64/kubelet.exe")
    assert headers["Content-Length"] == str(len(body))
    assert headers["Content-Type"] == "application/octet-stream"
    status, _, digest = _get(f"{base}/kubelet.exe.sha256")
    assert (status, digest.decode()) == (200, hashlib.sha256(body).hexdigest() + "\n")
    status, headers, head_body = _get(f"{base}/kubelet.exe", "HEAD")
    assert (status, head_body, headers["Content-Length"]) == (200, b"", str(len(body)))
    assert "Last-Modified" in headers


def test_mirror_honours_the_hosts_file_changes(sim) -> None:
    status, _, body = _get(f"{sim.control_url}/mirror/https/mirror.example/k8s/kubelet.exe")
    assert status == 200 and parse_stamp(body).name == "kubeadm"
    assert _get(f"{sim.control_url}/mirror/https/mirror.example/k8s/busy.exe")[0] == 503
    assert _get(f"{sim.control_url}/mirror/https/mirror.example/k8s/busy.exe")[0] == 404  # the fault was for 1 request
    status, _, text = _get(f"{sim.control_url}/mirror/https/dl.k8s.io/v1.36.4/bin/windows/amd64/kubectl.exe.sha512")
    assert (status, text) == (404, b"404 Not Found\n")
    assert _get(f"{sim.control_url}/mirror/ftp/dl.k8s.io/x")[0] == 404
    assert _get(f"{sim.control_url}/hosts", "HEAD")[0] == 405


def test_downloads_route_changes_and_restores_the_internet(sim) -> None:
    url = f"{KUBE_BASE}/v1.34.1/bin/windows/amd64/kubelet.exe"
    genuine = sim.downloads.content(url)
    status, _, body = _get(f"{sim.control_url}/downloads", "POST", [{"url": url, "content": "tampered"}])
    assert status == 200 and url in json.loads(body)["added"]
    assert _get(f"{sim.control_url}/mirror/https/dl.k8s.io/v1.34.1/bin/windows/amd64/kubelet.exe")[2] == b"tampered"
    status, _, body = _get(f"{sim.control_url}/downloads/restore", "POST", [url])
    assert status == 200 and url not in json.loads(body)["added"]
    assert sim.downloads.content(url) == genuine
    state = json.loads(_get(f"{sim.control_url}/downloads")[2])
    assert state["requests"][url] >= 1
    status, _, body = _get(f"{sim.control_url}/downloads", "POST", [{"url": url}])
    assert status == 400 and "give exactly one of" in json.loads(body)["error"]
    status, _, body = _get(f"{sim.control_url}/downloads/restore", "POST", {"url": url})
    assert status == 400 and "a JSON list of URLs" in json.loads(body)["error"]


def test_win_get_url_resolves_mirror_urls_to_the_simulated_internet(sim) -> None:
    host = sim.host("a")
    mirror = f"{sim.control_url}/mirror/https/dl.k8s.io/v1.36.4/bin/windows/amd64/kubeadm.exe"
    data = sim.downloads.content(f"{KUBE_BASE}/v1.36.4/bin/windows/amd64/kubeadm.exe")
    args = {"url": mirror, "dest": r"C:\Windows\Temp\kubeadm.exe", "checksum": hashlib.sha256(data).hexdigest()}
    args["checksum_algorithm"] = "sha256"
    result = call(host, "win_get_url", args)
    assert result["changed"] and result["url"] == mirror
    assert host.read_file(r"C:\Windows\Temp\kubeadm.exe") == data
    bad = call(host, "win_get_url", {**args, "dest": r"C:\Windows\Temp\k2.exe", "checksum": "0" * 64})
    assert bad["failed"] and f"The checksum for {mirror} did not match" in bad["msg"]
    assert not host.exists(r"C:\Windows\Temp\k2.exe")


# ------------------------------------------------------------------ kube-log-runner


@pytest.fixture
def node():
    h = make_host(WS2022, cluster=Cluster(version="1.34.1"))
    install_kube(h, "1.34.1", ("kubelet", "kubeadm", "kube-log-runner", "kube-proxy"))
    h.mkdir(r"C:\var\log\kubelet")
    return h


def _register(host, service: str, command: str) -> None:
    checked(sh(host, "sc.exe", "create", service, "binPath=", command, "start=", "auto", "depend=", "containerd"))


def _runner(args: str) -> str:
    return rf'"{K_DIR}\kube-log-runner.exe" --log-file={LOG} "{K_DIR}\kubelet.exe" --windows-service {args}'


def test_a_failed_start_writes_the_kubelets_failure_lines_to_the_log_file(node) -> None:
    start_containerd(node, "1.7.28")
    _register(node, "kubelet", _runner(BASE_FLAGS))  # before join: no config.yaml yet
    assert node.start_service("kubelet") is not None
    lines = node.read_file(LOG).decode().splitlines()
    assert '"Kubelet version" kubeletVersion="v1.34.1"' in lines[0]
    assert lines[-1].startswith("E")
    assert "failed to load kubelet config file, path: C:\\\\var\\\\lib\\\\kubelet\\\\config.yaml" in lines[-1]
    assert node.extra["service_failures"]["kubelet"]["win32_exit_code"] == 1067


def test_kubeadm_flags_and_join_through_kube_log_runner(node) -> None:
    start_containerd(node, "1.7.28")
    kubeadm_flags = (
        "--container-runtime-endpoint=npipe:////./pipe/containerd-containerd --hostname-override=worker-1 "
        "--pod-infra-container-image=registry.k8s.io/pause:3.10 --register-with-taints=os=windows:NoSchedule "
        "--node-ip=10.0.0.5 --cloud-provider=external --v=2 --windows-priorityclass=ABOVE_NORMAL_PRIORITY_CLASS"
    )
    _register(node, "kubelet", _runner(BASE_FLAGS + " " + kubeadm_flags))
    token = node.cluster.create_token().token
    out = checked(
        sh(
            node,
            "kubeadm",
            "join",
            node.cluster.endpoint,
            "--token",
            token,
            "--discovery-token-ca-cert-hash",
            node.cluster.ca_cert_hash,
            "--node-name",
            "worker-1",
        )
    ).stdout
    assert "This node has joined the cluster" in out
    daemon = node.extra["daemons"]["kubelet"]
    assert (daemon["binary"], daemon["log_file"], daemon["node"]) == (rf"{K_DIR}\kubelet.exe", LOG, "worker-1")
    assert node.cluster.node("worker-1").ready
    assert '"Kubelet version" kubeletVersion="v1.34.1"' in node.read_file(LOG).decode()


def test_kube_log_runner_needs_its_log_folder_and_a_command(node) -> None:
    start_containerd(node, "1.7.28")
    _register(node, "kubelet", _runner(BASE_FLAGS).replace(r"C:\var\log\kubelet", r"C:\missing"))
    node.start_service("kubelet")
    reason = node.extra["service_failures"]["kubelet"]["reason"]
    assert reason == (
        r"failed to create log file C:\missing\kubelet.log: open C:\missing\kubelet.log: "
        "The system cannot find the path specified."
    )
    checked(sh(node, "sc.exe", "delete", "kubelet"))
    _register(node, "kubelet2", rf'"{K_DIR}\kube-log-runner.exe" --log-file={LOG}')
    node.start_service("kubelet2")
    assert node.extra["service_failures"]["kubelet2"]["reason"] == "Please provide a command to run"
    _register(node, "kubelet3", rf'"{K_DIR}\kube-log-runner.exe" --bogus "{K_DIR}\kubelet.exe"')
    node.start_service("kubelet3")
    assert node.extra["service_failures"]["kubelet3"]["reason"] == "flag provided but not defined: -bogus"


def test_kube_proxy_under_kube_log_runner(node) -> None:
    start_containerd(node, "1.7.28")
    log = r"C:\var\log\kubelet\kube-proxy.log"
    cmd = (
        rf'"{K_DIR}\kube-log-runner.exe" -log-file {log} "{K_DIR}\kube-proxy.exe" --windows-service '
        r"--kubeconfig=C:\kp.conf"
    )
    _register(node, "kube-proxy", cmd)
    assert node.start_service("kube-proxy") is not None
    assert 'err="open C:\\\\kp.conf: The system cannot find the file specified."' in node.read_file(log).decode()
    node.write_file(r"C:\kp.conf", b"apiVersion: v1\nkind: Config\n")
    assert node.start_service("kube-proxy") is None
    assert node.extra["daemons"]["kube-proxy"]["log_file"] == log


def test_kube_log_runner_from_win_command_keeps_the_output_in_the_file(node) -> None:
    result = sh(node, rf"{K_DIR}\kube-log-runner.exe", f"--log-file={LOG}", rf"{K_DIR}\kubelet.exe", "--version")
    assert (result.rc, result.stdout) == (0, "")
    assert node.read_file(LOG).decode() == "Kubernetes v1.34.1\n"
    shown = sh(
        node, rf"{K_DIR}\kube-log-runner.exe", f"--log-file={LOG}", "-also-stdout", rf"{K_DIR}\kubelet.exe", "--version"
    )
    assert shown.stdout == "Kubernetes v1.34.1\n"
    assert node.read_file(LOG).decode() == "Kubernetes v1.34.1\n" * 2
