# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import pytest
from ansible_collections.winkube.node.plugins.module_utils.kubernetes import (
    CURRENT_KUBERNETES,
    DEFAULT_KUBERNETES_VERSION,
    WINDOWS_NODE_PATHS,
    WINDOWS_SUPPORT,
    check_kube_proxy_kubelet_skew,
    check_kubeadm_kubelet_skew,
    check_skew,
    support_row,
    windows_supported,
)
from ansible_collections.winkube.node.plugins.module_utils.versions import Version, parse_version
from ansible_collections.winkube.node.plugins.module_utils.windows import release_by_id, release_for_build


def v(text: str) -> Version:
    return parse_version(text)


def test_current_kubernetes_is_the_newest_table_minor() -> None:
    assert Version(1, 36) == CURRENT_KUBERNETES
    assert parse_version(DEFAULT_KUBERNETES_VERSION).minor_line == CURRENT_KUBERNETES.minor_line
    assert parse_version(DEFAULT_KUBERNETES_VERSION).patch is not None


def test_table_has_no_gaps_or_overlaps() -> None:
    minors = [m for row in WINDOWS_SUPPORT for m in range(row.first_minor, row.last_minor + 1)]
    assert minors == list(range(14, 37))
    assert all(row.source for row in WINDOWS_SUPPORT)


@pytest.mark.parametrize(
    ("build", "channel", "k8s", "expected"),
    [
        # Current Kubernetes (1.36): WS2022 and WS2025 only.
        (20348, None, "1.36", True),
        (26100, None, "1.36", True),
        (17763, None, "1.36", False),
        (14393, None, "1.36", False),  # WS2016 was never listed
        (19042, None, "1.36", False),  # SAC builds are gone
        (18362, None, "1.36", False),
        (17763, "sac", "1.36", False),
        (25398, None, "1.36", False),  # 23H2 is not named by the Kubernetes docs
        # WS2019 up to 1.34, not from 1.35: the docs switched to "WS2022 or WS2025" with website
        # PR #53724 (merged 2025-12-19, after the v1.35 docs freeze), so 1.35 is the boundary.
        (17763, None, "1.34", True),
        (17763, None, "1.35", False),
        (26100, None, "1.34", False),  # WS2025 before 1.35 is UNCONFIRMED: not encoded as supported
        (26100, None, "1.35", True),
        (20348, None, "1.23", True),
        (20348, None, "1.22", False),
        (14393, None, "1.20", False),
        (17763, "sac", "1.17", True),
        (18362, None, "1.18", True),
        (18362, None, "1.19", False),
    ],
)
def test_windows_supported(build: int, channel: object, k8s: str, expected: bool) -> None:
    assert windows_supported(release_for_build(build, channel), v(k8s)) is expected


def test_windows_supported_defaults_to_current() -> None:
    assert windows_supported(release_by_id("ws2025")) is True
    assert windows_supported(release_by_id("ws2019")) is False


@pytest.mark.parametrize("k8s", ["1.13", "1.37", "2.0"])
def test_support_row_outside_the_table_raises(k8s: str) -> None:
    with pytest.raises(ValueError, match=r"outside the Windows support table \(1\.14 to 1\.36\)"):
        support_row(v(k8s))


@pytest.mark.parametrize(
    ("component", "version", "apiserver", "ok"),
    [
        # kubelet: never newer, up to 3 older (2 when kubelet < 1.25).
        ("kubelet", "1.36.4", "1.36.0", True),
        ("kubelet", "1.35", "1.36", True),
        ("kubelet", "1.33", "1.36", True),
        ("kubelet", "1.32", "1.36", False),
        ("kubelet", "1.37", "1.36", False),
        ("kubelet", "1.25", "1.28", True),
        ("kubelet", "1.24", "1.27", False),  # kubelet < 1.25: at most two older
        ("kubelet", "1.24", "1.26", True),
        # kube-proxy: same rules.
        ("kube-proxy", "1.33.1", "v1.36.4", True),
        ("kube-proxy", "1.32", "1.36", False),
        ("kube-proxy", "1.37", "1.36", False),
        ("kube-proxy", "1.22", "1.25", False),
        # kubectl: within one minor either way.
        ("kubectl", "1.35", "1.36", True),
        ("kubectl", "1.37", "1.36", True),
        ("kubectl", "1.36", "1.36", True),
        ("kubectl", "1.34", "1.36", False),
        ("kubectl", "1.38", "1.36", False),
        # kubeadm: control plane at kubeadm's minor or one older, i.e. kubeadm = apiserver or +1.
        ("kubeadm", "1.36", "1.36", True),
        ("kubeadm", "1.37", "1.36", True),
        ("kubeadm", "1.35", "1.36", False),
        ("kubeadm", "1.38", "1.36", False),
        # different majors are never within policy
        ("kubelet", "2.0", "1.36", False),
    ],
)
def test_check_skew(component: str, version: str, apiserver: str, ok: bool) -> None:
    result = check_skew(component, v(version), v(apiserver))
    assert result.ok is ok
    assert component in result.reason or "major" in result.reason
    if component in ("kubelet", "kube-proxy", "kubectl"):
        assert "version-skew-policy.md" in result.reason or "major" in result.reason


def test_skew_reasons_say_what_is_wrong() -> None:
    assert "4 minor versions older" in check_skew("kubelet", v("1.32"), v("1.36")).reason
    assert "at most 3 older" in check_skew("kubelet", v("1.32"), v("1.36")).reason
    assert "newer than kube-apiserver 1.36" in check_skew("kubelet", v("1.37"), v("1.36")).reason
    assert "create-cluster-kubeadm.md" in check_skew("kubeadm", v("1.35"), v("1.36")).reason


def test_check_skew_unknown_component() -> None:
    with pytest.raises(
        ValueError, match="unknown component 'kube-scheduler'; accepted: kubelet, kube-proxy, kubeadm, kubectl"
    ):
        check_skew("kube-scheduler", v("1.36"), v("1.36"))


@pytest.mark.parametrize(
    ("kube_proxy", "kubelet", "ok"),
    [
        ("1.36", "1.33", True),
        ("1.33", "1.36", True),
        ("1.36", "1.32", False),
        ("1.24", "1.22", True),
        ("1.24", "1.21", False),
    ],
)
def test_kube_proxy_kubelet_skew(kube_proxy: str, kubelet: str, ok: bool) -> None:
    assert check_kube_proxy_kubelet_skew(v(kube_proxy), v(kubelet)).ok is ok


@pytest.mark.parametrize(
    ("kubeadm", "kubelet", "ok"),
    [("1.36", "1.36", True), ("1.36", "1.33", True), ("1.36", "1.32", False), ("1.36", "1.37", False)],
)
def test_kubeadm_kubelet_skew(kubeadm: str, kubelet: str, ok: bool) -> None:
    assert check_kubeadm_kubelet_skew(v(kubeadm), v(kubelet)).ok is ok


def test_windows_node_paths_are_kubeadm_constants_on_the_system_drive() -> None:
    # kubeadm's /etc/kubernetes and /var/lib/kubelet resolve against C: (windows ground truth 5.2).
    assert WINDOWS_NODE_PATHS["kubelet_conf"] == r"C:\etc\kubernetes\kubelet.conf"
    assert WINDOWS_NODE_PATHS["bootstrap_kubelet_conf"] == r"C:\etc\kubernetes\bootstrap-kubelet.conf"
    assert WINDOWS_NODE_PATHS["kubeadm_flags_env"] == r"C:\var\lib\kubelet\kubeadm-flags.env"
    assert WINDOWS_NODE_PATHS["kubelet_cert_dir"] == r"C:\var\lib\kubelet\pki"
    assert all(path.startswith("C:\\") and "/" not in path for path in WINDOWS_NODE_PATHS.values())
    # Files live under their directories.
    assert WINDOWS_NODE_PATHS["ca_cert"].startswith(WINDOWS_NODE_PATHS["pki_dir"] + "\\")
    assert WINDOWS_NODE_PATHS["kubelet_config"].startswith(WINDOWS_NODE_PATHS["kubelet_dir"] + "\\")
