# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kubernetes facts: Windows Server support per minor and the version-skew policy.

Abbreviation: KW = kubernetes/website.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Tuple

from ansible_collections.winkube.node.plugins.module_utils.versions import Version, parse_version
from ansible_collections.winkube.node.plugins.module_utils.windows import WindowsRelease

# The collection's default Kubernetes version: a choice of this collection, not a fact. It is a
# current patch of the newest minor in the support table; the release is referenced by
# poseidon/terraform-render-bootstrap PR #429 ("Update Kubernetes from v1.36.2 to v1.36.4").
DEFAULT_KUBERNETES_VERSION = "1.36.4"


@dataclass(frozen=True)
class WindowsSupportRow:
    """Windows Server releases the Kubernetes docs list as supported for minors first..last."""

    first_minor: int
    last_minor: int
    releases: Tuple[str, ...]  # WindowsRelease ids
    status: str
    source: str


# Domain facts section 3a. Kubernetes major is 1 throughout.
#
# Boundary decision for WS2019 / WS2025: the docs page is templated with the current version,
# so the boundary comes from its history. "Windows Server 2019 or Windows Server 2022" was the
# text from website PR #44401 (2023-12) until PR #53724 ("Update the doc for windows server 2025
# support", merged 2025-12-19, right after the v1.35 release; the earlier PR #53349 was held only
# for the v1.35 docs freeze). Since then the text is "Windows Server 2022 or Windows Server 2025".
# So the first docs that name WS2025 and drop WS2019 are the v1.35 docs: WS2019 is supported up
# to 1.34, WS2025 from 1.35. An earlier WS2025 start (a third-party page claims 1.32) is
# UNCONFIRMED and not encoded.
#
# 1.23-1.34 keep 20H2 because the docs text listed it and was never pruned (status partial);
# 20H2 itself went out of support on 2022-08-09, which ``windows_release`` reports separately.
WINDOWS_SUPPORT: Tuple[WindowsSupportRow, ...] = (
    WindowsSupportRow(
        14,
        17,
        ("ws2019", "ws1809sac"),
        "confirmed",
        "KW intro-windows-in-kubernetes.md (zh-cn commented English table; id 37472930 for 1.17)",
    ),
    WindowsSupportRow(
        18, 18, ("ws2019", "ws1809sac", "ws1903", "ws1909"), "confirmed", "KW intro-windows-in-kubernetes.md"
    ),
    WindowsSupportRow(19, 20, ("ws2019", "ws1909", "ws2004"), "confirmed", "KW intro-windows-in-kubernetes.md"),
    WindowsSupportRow(
        21,
        22,
        ("ws2019", "ws2004", "ws20h2"),
        "confirmed",
        "KW intro-windows-in-kubernetes.md (ko copy for 1.21; 1.22 text, website PR #29017)",
    ),
    WindowsSupportRow(
        23,
        34,
        ("ws2019", "ws2022", "ws20h2"),
        "partial",
        "KW content/en/docs/concepts/windows/intro.md @99538990; WS2022 added in website PR #30947",
    ),
    WindowsSupportRow(
        35,
        36,
        ("ws2022", "ws2025"),
        "confirmed (text); version boundary partial",
        "KW content/en/docs/concepts/windows/intro.md (current); website PR #53724 merged 2025-12-19",
    ),
)

# "Current Kubernetes" for support questions: the newest minor the table knows.
CURRENT_KUBERNETES = Version(1, WINDOWS_SUPPORT[-1].last_minor)
OLDEST_KNOWN_KUBERNETES = Version(1, WINDOWS_SUPPORT[0].first_minor)

# Where kubeadm and kubelet put their files on a Windows node. kubeadm's constants are Linux-style
# (/etc/kubernetes, /var/lib/kubelet) and Go resolves them against the current drive, so they land on
# C: (kubeadm's preflight prints \etc\kubernetes\kubelet.conf; website issue #38334). File list: what
# kubeadm join writes and a cleanup script removes; pki link and log dir: sig-windows-tools
# PrepareNode.ps1 (kubelet resolves config.yaml's non-absolute clientCAFile /etc/kubernetes/pki/ca.crt
# under its root dir, hence the link). bin_dir is the sig-windows-tools convention (C:\k\kubelet.exe
# run by StartKubelet.ps1), a choice this collection follows, not something kubelet requires.
# Source: windows ground truth section 5.2.
WINDOWS_NODE_PATHS: Dict[str, str] = {
    "bin_dir": r"C:\k",
    "kubernetes_dir": r"C:\etc\kubernetes",
    "pki_dir": r"C:\etc\kubernetes\pki",
    "manifests_dir": r"C:\etc\kubernetes\manifests",
    "ca_cert": r"C:\etc\kubernetes\pki\ca.crt",
    "kubelet_conf": r"C:\etc\kubernetes\kubelet.conf",
    "bootstrap_kubelet_conf": r"C:\etc\kubernetes\bootstrap-kubelet.conf",
    "kubelet_dir": r"C:\var\lib\kubelet",
    "kubelet_config": r"C:\var\lib\kubelet\config.yaml",
    "kubeadm_flags_env": r"C:\var\lib\kubelet\kubeadm-flags.env",
    "kubelet_cert_dir": r"C:\var\lib\kubelet\pki",
    "kubelet_pki_link": r"C:\var\lib\kubelet\etc\kubernetes\pki",
    "kubelet_log_dir": r"C:\var\log\kubelet",
}

SKEW_COMPONENTS = ("kubelet", "kube-proxy", "kubeadm", "kubectl")
_SKEW_POLICY = "KW content/en/releases/version-skew-policy.md"
_KUBEADM_POLICY = (
    "KW content/en/docs/setup/production-environment/tools/kubeadm/create-cluster-kubeadm.md (Version skew policy)"
)


@dataclass(frozen=True)
class SkewResult:
    ok: bool
    reason: str


def support_row(kubernetes: Version) -> WindowsSupportRow:
    """The support row for a Kubernetes minor; minors outside the table raise."""
    if kubernetes.major == 1:
        for row in WINDOWS_SUPPORT:
            if row.first_minor <= kubernetes.minor <= row.last_minor:
                return row
    raise ValueError(
        f"Kubernetes {kubernetes.minor_text} is outside the Windows support table "
        f"({OLDEST_KNOWN_KUBERNETES.minor_text} to {CURRENT_KUBERNETES.minor_text})"
    )


def windows_supported(release: WindowsRelease, kubernetes: Version = CURRENT_KUBERNETES) -> bool:
    """Whether the Kubernetes docs list ``release`` as a supported node OS for that minor."""
    return release.id in support_row(kubernetes).releases


def _minor_gap(component: Version, apiserver: Version) -> int:
    """How many minors ``component`` is older than the API server (negative when newer)."""
    return apiserver.minor - component.minor


def check_skew(component: str, component_version: Version, apiserver_version: Version) -> SkewResult:
    """Apply the upstream skew rule for ``component`` against kube-apiserver (patches are ignored)."""
    if component not in SKEW_COMPONENTS:
        raise ValueError(f"unknown component {component!r}; accepted: {', '.join(SKEW_COMPONENTS)}")
    comp = f"{component} {component_version.minor_text}"
    api = f"kube-apiserver {apiserver_version.minor_text}"
    if component_version.major != apiserver_version.major:
        return SkewResult(False, f"{comp} and {api} have different major versions; the skew policy covers minors only")
    gap = _minor_gap(component_version, apiserver_version)
    if component in ("kubelet", "kube-proxy"):
        return _node_component_skew(component, comp, api, component_version, gap)
    if component == "kubectl":
        if abs(gap) <= 1:
            return SkewResult(True, f"{comp} is within one minor version of {api} ({_SKEW_POLICY})")
        return SkewResult(
            False, f"{comp} is {abs(gap)} minor versions away from {api}; kubectl must be within one ({_SKEW_POLICY})"
        )
    # kubeadm: "kubeadm can be used with Kubernetes components that are the same version as kubeadm or
    # one version older", so the control plane may be kubeadm's minor or one below it. For `kubeadm join`
    # the binary must also match the kubeadm version the cluster was created or last upgraded with, which
    # is kube-apiserver's minor or one above it; that rule is not stricter in terms of the API server.
    if gap in (0, -1):
        return SkewResult(True, f"{api} is the same minor as {comp} or one older ({_KUBEADM_POLICY})")
    if gap > 0:
        return SkewResult(
            False, f"{comp} is older than {api}; kubeadm must not be older than the control plane ({_KUBEADM_POLICY})"
        )
    return SkewResult(
        False,
        f"{comp} is {-gap} minor versions newer than {api}; kubeadm may be at most one minor newer ({_KUBEADM_POLICY})",
    )


def _node_component_skew(component: str, comp: str, api: str, version: Version, gap: int) -> SkewResult:
    if gap < 0:
        return SkewResult(
            False, f"{comp} is newer than {api}; {component} must not be newer than kube-apiserver ({_SKEW_POLICY})"
        )
    # "kubelet may be up to three minor versions older than kube-apiserver (kubelet < 1.25 may only be up
    # to two minor versions older)"; kube-proxy has the same rule. The n-3 rule appears from the v1.28
    # docs on (the first release that carried it was not re-verified), and it is applied as written.
    allowed = 3 if version.minor >= 25 else 2
    if gap <= allowed:
        return SkewResult(
            True, f"{comp} is {gap} minor version(s) older than {api}; up to {allowed} allowed ({_SKEW_POLICY})"
        )
    return SkewResult(
        False,
        f"{comp} is {gap} minor versions older than {api}; {component} may be at most {allowed} older ({_SKEW_POLICY})",
    )


def check_kube_proxy_kubelet_skew(kube_proxy: Version, kubelet: Version) -> SkewResult:
    """kube-proxy must be within +/-3 minors of the kubelet on the same node (+/-2 below 1.25)."""
    gap = abs(kubelet.minor - kube_proxy.minor)
    allowed = 3 if min(kube_proxy.minor, kubelet.minor) >= 25 else 2
    pair = f"kube-proxy {kube_proxy.minor_text} and kubelet {kubelet.minor_text}"
    if kube_proxy.major == kubelet.major and gap <= allowed:
        return SkewResult(True, f"{pair} are {gap} minor version(s) apart; up to {allowed} allowed ({_SKEW_POLICY})")
    return SkewResult(False, f"{pair} are too far apart; at most {allowed} minor versions are allowed ({_SKEW_POLICY})")


def check_kubeadm_kubelet_skew(kubeadm: Version, kubelet: Version) -> SkewResult:
    """kubelet may be kubeadm's minor or up to three older, never newer (kubeadm docs, current text)."""
    gap = kubeadm.minor - kubelet.minor
    pair = f"kubelet {kubelet.minor_text} with kubeadm {kubeadm.minor_text}"
    if kubeadm.major == kubelet.major and 0 <= gap <= 3:
        return SkewResult(True, f"{pair}: kubelet is {gap} minor version(s) older; up to 3 allowed ({_KUBEADM_POLICY})")
    return SkewResult(False, f"{pair}: kubelet must be kubeadm's minor or up to 3 older ({_KUBEADM_POLICY})")


def parse_kubernetes_version(value: object, what: str = "Kubernetes version") -> Version:
    return parse_version(value, what)
