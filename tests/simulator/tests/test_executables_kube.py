"""kubelet/kube-proxy/kubectl/kubeadm version output (GT §5.1) and the kubelet and kube-proxy
services deciding whether they run."""

from __future__ import annotations

import json

import pytest

from tests.simulator.cluster import Cluster
from tests.simulator.executables.testing import (
    K_DIR,
    WS2022,
    checked,
    create_kubelet_service,
    install_kube,
    make_host,
    sh,
    start_containerd,
)


@pytest.fixture
def host():
    h = make_host(WS2022, cluster=Cluster(version="1.33.3"))
    install_kube(h, "1.33.3", ("kubelet", "kubeadm", "kube-proxy", "kubectl"))
    return h


def test_kubelet_and_kube_proxy_version(host):
    assert checked(sh(host, "kubelet.exe", "--version")).stdout == "Kubernetes v1.33.3\n"
    assert checked(sh(host, "kube-proxy", "--version")).stdout == "Kubernetes v1.33.3\n"


def test_kubeadm_version_1_33_has_emulation_fields(host):
    out = checked(sh(host, "kubeadm", "version")).stdout
    assert out == (
        'kubeadm version: &version.Info{Major:"1", Minor:"33", EmulationMajor:"", EmulationMinor:"", '
        'MinCompatibilityMajor:"", MinCompatibilityMinor:"", GitVersion:"v1.33.3", '
        'GitCommit:"80779bd6ff08b451e1c165a338a7b69351e9b0b8", GitTreeState:"clean", '
        'BuildDate:"2025-07-15T18:05:14Z", GoVersion:"go1.24.4", Compiler:"gc", Platform:"windows/amd64"}\n'
    )
    assert checked(sh(host, "kubeadm", "version", "-o", "short")).stdout == "v1.33.3\n"
    assert (
        json.loads(checked(sh(host, "kubeadm", "version", "-o", "json")).stdout)["clientVersion"]["gitVersion"]
        == "v1.33.3"
    )


def test_kubeadm_version_1_32_has_none():
    h = make_host()
    install_kube(h, "1.32.0", ("kubeadm",))
    out = checked(sh(h, "kubeadm", "version")).stdout
    assert out.startswith('kubeadm version: &version.Info{Major:"1", Minor:"32", GitVersion:"v1.32.0", ')
    assert "Emulation" not in out


def test_kubectl_version_client(host):
    assert (
        checked(sh(host, "kubectl", "version", "--client")).stdout
        == "Client Version: v1.33.3\nKustomize Version: v5.6.0\n"
    )
    doc = json.loads(checked(sh(host, "kubectl", "version", "--client", "-o", "json")).stdout)
    assert doc["clientVersion"]["gitVersion"] == "v1.33.3" and doc["kustomizeVersion"] == "v5.6.0"
    assert "is not emulated" in sh(host, "kubectl", "version").stderr  # would need an API server
    assert "is not emulated" in sh(host, "kubectl", "get", "nodes").stderr


# ------------------------------------------------------------------ kubelet service


def _failure(host):
    return host.extra["service_failures"]["kubelet"]


def test_kubelet_without_windows_service_flag_times_out(host):
    start_containerd(host, "1.7.28")
    checked(sh(host, "sc.exe", "create", "kubelet", "binPath=", rf"{K_DIR}\kubelet.exe --v=2"))
    assert host.start_service("kubelet") is not None
    assert _failure(host)["win32_exit_code"] == 1053


def test_kubelet_needs_its_config_file(host):
    start_containerd(host, "1.7.28")
    create_kubelet_service(host)
    err = host.start_service("kubelet")
    assert err == (
        "Service 'kubelet (kubelet)' cannot be started due to the following error: "
        "Cannot start service kubelet on computer '.'."
    )
    reason = _failure(host)["reason"]
    assert (
        '"command failed" err="failed to load kubelet config file, path: C:\\\\var\\\\lib\\\\kubelet\\\\config.yaml'
        in reason
    )
    assert "The system cannot find the file specified." in reason


def test_kubelet_needs_the_runtime(host):
    create_kubelet_service(host)
    host.write_file(r"C:\var\lib\kubelet\config.yaml", host.cluster.kubelet_config_yaml().encode())
    host.services["kubelet"].dependencies = []
    assert host.start_service("kubelet") is not None
    assert "validate CRI v1 runtime API for endpoint" in _failure(host)["reason"]


def test_kubelet_needs_kubeconfig_or_bootstrap_file(host):
    start_containerd(host, "1.7.28")
    create_kubelet_service(host)
    host.write_file(r"C:\var\lib\kubelet\config.yaml", host.cluster.kubelet_config_yaml().encode())
    assert host.start_service("kubelet") is not None
    assert (
        "unable to load bootstrap kubeconfig: GetFileAttributesEx C:\\\\etc\\\\kubernetes\\\\bootstrap-kubelet.conf"
        in _failure(host)["reason"]
    )


def test_kubelet_1_35_rejects_the_removed_pod_infra_flag():
    h = make_host(cluster=Cluster(version="1.35.2"))
    install_kube(h, "1.35.2", ("kubelet",))
    start_containerd(h, "2.2.0")
    create_kubelet_service(h, "--pod-infra-container-image=registry.k8s.io/pause:3.10.1")
    assert h.start_service("kubelet") is not None
    assert h.extra["service_failures"]["kubelet"]["reason"] == "unknown flag: --pod-infra-container-image"


def test_standalone_kubelet_runs_but_registers_no_node(host):
    start_containerd(host, "1.7.28")
    checked(
        sh(
            host,
            "sc.exe",
            "create",
            "kubelet",
            "binPath=",
            rf"{K_DIR}\kubelet.exe --windows-service --container-runtime-endpoint=npipe:////./pipe/containerd-containerd",
        )
    )
    assert host.start_service("kubelet") is None
    assert host.cluster.nodes == {}


# ------------------------------------------------------------------ kube-proxy service


def test_kube_proxy_service(host):
    checked(sh(host, "sc.exe", "create", "kube-proxy", "binPath=", rf"{K_DIR}\kube-proxy.exe --windows-service"))
    assert host.start_service("kube-proxy") is not None
    assert "no configuration has been provided" in host.extra["service_failures"]["kube-proxy"]["reason"]
    checked(
        sh(
            host,
            "sc.exe",
            "config",
            "kube-proxy",
            "binPath=",
            rf"{K_DIR}\kube-proxy.exe --windows-service --kubeconfig=C:\k\kp.conf",
        )
    )
    assert host.start_service("kube-proxy") is not None
    host.write_file(r"C:\k\kp.conf", b"apiVersion: v1\nkind: Config\n")
    assert host.start_service("kube-proxy") is None
