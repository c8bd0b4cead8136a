"""The ``service_crash_loop`` fault: a service that starts, does its start-up, then exits with a
message, over and over (faults.py). A kubelet in that state has joined (kubeadm join passes) and
registered its Node, but the Node turns NotReady and the kubelet log ends with the crash."""

from __future__ import annotations

import pytest

from tests.simulator.cluster import Cluster
from tests.simulator.executables.common import daemon_on
from tests.simulator.executables.testing import (
    K_DIR,
    WS2022,
    checked,
    install_kube,
    make_host,
    sh,
    start_containerd,
)
from tests.simulator.faults import validate_faults

ENDPOINT = "10.20.30.10:6443"
KUBELET_LOG = r"C:\var\log\kubelet\kubelet.log"
CRASH = 'E1201 10:00:01.000000    4242 kubelet.go:1566] "Failed to start ContainerManager" err="simulated"'


def kubelet_host() -> tuple:
    cluster = Cluster(endpoint=ENDPOINT, version="1.33.3")
    host = make_host(WS2022, name="win22", cluster=cluster)
    install_kube(host, "1.33.3", ("kubelet", "kubeadm", "kube-log-runner"))
    start_containerd(host, "1.7.28")
    bin_path = (
        rf'"{K_DIR}\kube-log-runner.exe" --log-file={KUBELET_LOG} "{K_DIR}\kubelet.exe" --windows-service '
        r"--config=C:\var\lib\kubelet\config.yaml --bootstrap-kubeconfig=C:\etc\kubernetes\bootstrap-kubelet.conf "
        r"--kubeconfig=C:\etc\kubernetes\kubelet.conf --cert-dir=C:\var\lib\kubelet\pki "
        r"--container-runtime-endpoint=npipe:////./pipe/containerd-containerd"
    )
    checked(sh(host, "sc.exe", "create", "kubelet", "binPath=", bin_path, "start=", "auto", "depend=", "containerd"))
    host.mkdir(r"C:\var\log\kubelet")
    return host, cluster


def join(host, cluster):
    token = cluster.create_token().token
    return sh(
        host, "kubeadm", "join", ENDPOINT, "--token", token, "--discovery-token-ca-cert-hash", cluster.ca_cert_hash
    )


def test_validation():
    assert validate_faults({"service_crash_loop": {"Kubelet": "boom"}}) == {"service_crash_loop": {"kubelet": "boom"}}
    assert validate_faults({"service_crash_loop": None}) == {"service_crash_loop": None}
    for bad in ("boom", {"kubelet": ""}, {"kubelet": 3}):
        with pytest.raises(ValueError, match="service_crash_loop must map a service name"):
            validate_faults({"service_crash_loop": bad})


def test_kubelet_crash_loop_joins_but_the_node_is_not_ready_and_the_log_ends_with_the_crash():
    host, cluster = kubelet_host()
    host.faults["service_crash_loop"] = {"kubelet": CRASH}
    result = join(host, cluster)
    assert result.rc == 0, result.stderr  # it lived long enough for the health check and the TLS bootstrap
    assert host.exists(r"C:\etc\kubernetes\kubelet.conf")
    node = cluster.node("win22")
    assert node is not None
    assert node.condition() == (False, "NodeStatusUnknown", "Kubelet stopped posting node status.")
    assert host.service("kubelet").state == "running"  # the SCM keeps restarting it
    log = host.read_file(KUBELET_LOG).decode().splitlines()
    assert log[-1] == CRASH
    assert any('"Kubelet version"' in line for line in log[:-1])  # its start-up came first
    assert host.extra["crash_loops"]["kubelet"] == {"message": CRASH, "crashes": 1}

    # Each restart crashes again, with one more line in the log.
    host.stop_service("kubelet")
    assert host.start_service("kubelet") is None
    assert host.read_file(KUBELET_LOG).decode().splitlines().count(CRASH) == 2
    assert host.extra["crash_loops"]["kubelet"]["crashes"] == 2
    assert not cluster.node("win22").ready

    # Without the fault the next start serves again.
    host.faults.pop("service_crash_loop")
    host.stop_service("kubelet")
    assert host.start_service("kubelet") is None
    assert cluster.node("win22").ready


def test_a_crash_looping_runtime_serves_no_pipe():
    host = make_host(WS2022)
    host.faults["service_crash_loop"] = {"containerd": "containerd: panic: simulated"}
    start_containerd(host, "1.7.28")
    assert host.service("containerd").state == "running"
    assert daemon_on(host, "npipe:////./pipe/containerd-containerd") is None
    assert host.read_file(r"C:\ProgramData\containerd\containerd.log").decode().splitlines()[-1] == (
        "containerd: panic: simulated"
    )
