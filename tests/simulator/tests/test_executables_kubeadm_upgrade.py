"""kubeadm upgrade node on a worker: the kubelet configuration synced from the cluster, the 1.35
kubeadm-flags.env rewrite, and loud failures for what has no known real text."""

from __future__ import annotations

import re

import yaml

from tests.simulator.executables.testing import checked, install_kube, sh
from tests.simulator.tests.test_executables_kubeadm import join, node_host

CONFIG = r"C:\var\lib\kubelet\config.yaml"
FLAGS = r"C:\var\lib\kubelet\kubeadm-flags.env"
SKIPPED = [
    "[upgrade/preflight] Skipping prepull. Not a control plane node.",
    "[upgrade/control-plane] Skipping phase. Not a control plane node.",
    "[upgrade/kubeconfig] Skipping phase. Not a control plane node.",
]


def joined(kube: str, cluster_version: str):
    host, cluster = node_host(kube=kube, cluster_version=kube, containerd="2.1.5")
    checked(join(host))
    cluster.version = cluster_version  # the control plane was upgraded first (kubeadm upgrade apply)
    return host, cluster


def test_a_worker_syncs_its_kubelet_configuration_and_keeps_its_flags_before_1_35():
    host, cluster = joined("1.33.3", "1.34.1")
    host.write_file(CONFIG, b"kind: KubeletConfiguration\nold: true\n")
    flags_before = host.read_file(FLAGS)
    install_kube(host, "1.34.1", ("kubeadm",))
    r = checked(sh(host, r"C:\k\kubeadm.exe", "upgrade", "node"))
    lines = r.stdout.splitlines()
    assert lines[:3] == [
        '[upgrade] Reading configuration from the "kubeadm-config" ConfigMap in namespace "kube-system"...',
        "[upgrade] Use 'kubeadm init phase upload-config kubeadm --config your-config-file' to re-upload it.",
        "[upgrade/preflight] Running pre-flight checks",
    ]
    assert lines[3:6] == SKIPPED
    backup = re.fullmatch(
        r"\[upgrade\] Backing up kubelet config file to (\\etc\\kubernetes\\tmp\\kubeadm-kubelet-config-"
        r"\d{4}(-\d\d){5})\\config\.yaml",
        lines[6],
    )
    assert backup, lines[6]
    assert lines[7:] == [
        '[kubelet-start] Writing kubelet configuration to file "\\\\var\\\\lib\\\\kubelet\\\\config.yaml"',
        "[upgrade/kubelet-config] The kubelet configuration for this node was successfully upgraded!",
        "[upgrade/addon] Skipping the addon/coredns phase. Not a control plane node.",
        "[upgrade/addon] Skipping the addon/kube-proxy phase. Not a control plane node.",
    ]
    assert "postupgrade.go:105] Using temporary directory " + backup.group(1) in r.stderr
    assert host.read_file("C:" + backup.group(1) + r"\config.yaml") == b"kind: KubeletConfiguration\nold: true\n"
    assert host.read_file(CONFIG).decode() == cluster.kubelet_config_yaml()
    assert yaml.safe_load(host.read_file(CONFIG))["kind"] == "KubeletConfiguration"
    assert host.read_file(FLAGS) == flags_before  # kubeadm < 1.35 leaves the env file alone
    assert host.service("kubelet").state == "running"  # upgrade node does not touch the kubelet


def test_from_1_35_the_flags_file_loses_the_pause_image_flag():
    host, _ = joined("1.34.1", "1.35.2")
    assert b"--pod-infra-container-image=" in host.read_file(FLAGS)
    install_kube(host, "1.35.2", ("kubeadm",))
    r = checked(sh(host, r"C:\k\kubeadm.exe", "upgrade", "node"))
    assert r.stdout.splitlines()[-1] == (
        "[kubelet-start] Writing kubelet environment file with flags to file "
        '"\\\\var\\\\lib\\\\kubelet\\\\kubeadm-flags.env"'
    )
    assert (
        host.read_file(FLAGS)
        == b'KUBELET_KUBEADM_ARGS="--container-runtime-endpoint=npipe:////./pipe/containerd-containerd"\n'
    )
    backup = re.search(
        r"Backing up kubelet env file to (\\etc\\kubernetes\\tmp\\kubeadm-kubelet-env-[-\d]+)\\", r.stdout
    )
    assert backup and b"--pod-infra-container-image=" in host.read_file("C:" + backup.group(1) + r"\kubeadm-flags.env")


def test_what_has_no_known_text_fails_loudly():
    host, cluster = joined("1.33.3", "1.33.3")
    install_kube(host, "1.34.1", ("kubeadm",))
    newer = sh(host, r"C:\k\kubeadm.exe", "upgrade", "node")
    assert (newer.rc, newer.stderr) == (
        1,
        "simulator: kubeadm 1.34.1 upgrade node against control plane v1.33.3 is not emulated\n",
    )
    cluster.version = "1.34.1"
    host.remove(r"C:\etc\kubernetes\kubelet.conf")
    assert "is not emulated" in sh(host, r"C:\k\kubeadm.exe", "upgrade", "node").stderr
    assert "is not emulated" in sh(host, r"C:\k\kubeadm.exe", "upgrade", "apply", "v1.34.1").stderr
