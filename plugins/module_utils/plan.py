# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The preflight plan of one Windows node: every version rule checked before anything changes.

``resolve_plan(inputs, windows_node)`` takes the public inputs (role variables, by name) and the
``windows_node`` fact of ``winkube.node.windows_facts`` and returns the plan later roles act on, or
raises ``PlanError`` carrying every violation found. Checks that depend on a bad value are skipped
rather than guessed (a bad ``winkube_kubernetes_version`` cannot be checked against the host build),
so each violation is a real one. The rules and data all come from the other knowledge modules; this
module only composes them and phrases what would work.

Decisions made here:
- The Kubernetes versions this collection plans are those both the Windows support table and the
  containerd table cover (1.24 to 1.36 today). From 1.24 on dockershim is gone, so Mirantis
  Container Runtime always needs cri-dockerd.
- Every download has a checksum. Kubernetes binaries and containerd publish checksum files; MCR's
  installer script and cri-dockerd's release zip publish none, so their SHA-256 must be given
  (``mcr_installer_sha256``, ``cri_dockerd_sha256``) and a missing one is a violation.
- A pause image is "checked" only when both Microsoft's host/image rule and the runtime's manifest
  matcher could be evaluated for one of its Windows variants. containerd releases whose matcher the
  knowledge base does not model, and MCR's engine, get Microsoft's rule only: a refusal there is
  still a violation, an acceptance leaves ``pause_image_checked`` false with the reason. An image
  whose variants are unknown (other registries, digests, unknown tags) is not guessed either; the
  runtime's pull is the real check. A variant list marked partial in the knowledge base cannot prove
  that no variant fits, so a miss there is left unchecked instead of refused.
- ``today`` (default: the current date) only decides lifecycle questions: a Windows release past
  Microsoft's end of servicing is refused, a containerd line past or near its end of life warned about.
"""

from __future__ import annotations

import ipaddress
import ntpath
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple
from urllib.parse import urlsplit

from ansible_collections.winkube.node.plugins.module_utils import containerd as _containerd
from ansible_collections.winkube.node.plugins.module_utils import downloads as _downloads
from ansible_collections.winkube.node.plugins.module_utils import images as _images
from ansible_collections.winkube.node.plugins.module_utils import kubernetes as _kubernetes
from ansible_collections.winkube.node.plugins.module_utils import mcr as _mcr
from ansible_collections.winkube.node.plugins.module_utils import pause as _pause
from ansible_collections.winkube.node.plugins.module_utils import windows as _windows
from ansible_collections.winkube.node.plugins.module_utils.node_facts import release_info
from ansible_collections.winkube.node.plugins.module_utils.versions import Version, at_least, parse_version

RUNTIMES = ("containerd", "mcr")
DEFAULT_RUNTIME = "containerd"
DEFAULT_PAUSE_PROFILE = "production"
DEFAULT_CRI_DOCKERD_VERSION = _mcr.CRI_DOCKERD_LATEST_KNOWN_TAG.lstrip("v")
CRI_ENDPOINTS = {"containerd": _containerd.KUBELET_RUNTIME_ENDPOINT, "mcr": _mcr.CRI_DOCKERD_ENDPOINT}
PLANNED_COMPONENTS = ("kubelet", "kubeadm", "kube-proxy")

INPUTS = (
    "winkube_kubernetes_version",
    "winkube_container_runtime",
    "winkube_pause_image_profile",
    "winkube_pause_image",
    "winkube_apiserver_version",
    "winkube_kubernetes_download_base_url",
    "winkube_registry_mirrors",
    "winkube_proxy",
    "winkube_service_cidr",
    "winkube_pod_cidr",
    "containerd_version",
    "containerd_download_base_url",
    "mcr_channel",
    "mcr_version",
    "mcr_installer_sha256",
    "cri_dockerd_version",
    "cri_dockerd_sha256",
    "preflight_workload_images",
)

PROXY_KEYS = ("http_proxy", "https_proxy", "no_proxy")
# Schemes Go's http.ProxyFromEnvironment understands (containerd, kubelet and dockerd are Go programs).
PROXY_SCHEMES = ("http", "https", "socks5")
# Cluster-internal destinations that must bypass the proxy; the CIDRs go between the two groups.
NO_PROXY_HOSTS = ("localhost", "127.0.0.1")
NO_PROXY_DOMAINS = (".svc", ".cluster.local")
WORKLOAD_IMAGE_KEYS = ("image", "os_version")
# A containerd line this close to its end of life gets a warning.
EOL_WARNING_DAYS = 90

_SHA256_RE = re.compile(r"^[0-9a-fA-F]{64}$")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_REGISTRY_HOST_RE = re.compile(rf"^{_LABEL}(?:\.{_LABEL})*(?::[0-9]{{1,5}})?$")
# userinfo in a URL ("scheme://user:pass@host"); greedy up to the last '@' before the path, so a
# password containing '@' is masked whole.
_URL_USERINFO_RE = re.compile(r"(://)[^/\s]*@")
_BARE_USERINFO_RE = re.compile(r"(^|['\"\s])[^/\s:'\"]+:[^/\s'\"]*@")


# ---------------------------------------------------------------------------------------------
# Violations


@dataclass(frozen=True)
class Violation:
    """One broken rule: what is wrong (``problem``) and what would work (``fix``)."""

    rule: str
    problem: str
    fix: str

    @property
    def message(self) -> str:
        return f"{self.problem}; {self.fix}"

    def line(self) -> str:
        return f"- [{self.rule}] {self.message}"

    def as_dict(self) -> Dict[str, str]:
        return {"rule": self.rule, "problem": self.problem, "fix": self.fix, "message": self.message}


class PlanError(ValueError):
    """Every violation found while resolving a plan."""

    def __init__(self, violations: Sequence[Violation]) -> None:
        self.violations: Tuple[Violation, ...] = tuple(violations)
        super().__init__(failure_message("<host>", self.violations))


def failure_message(host: str, violations: Sequence[Violation]) -> str:
    """The one message preflight fails with: the host, then one line per violation."""
    return "\n".join([f"winkube.node preflight failed for {host}:", *(v.line() for v in violations)])


def mask_credentials(text: str) -> str:
    """Replace ``user:pass@`` in URLs (or a bare ``user:pass@host``) with ``***@``."""
    return _BARE_USERINFO_RE.sub(r"\1***@", _URL_USERINFO_RE.sub(r"\1***@", text))


def _shown(value: Any) -> str:
    """A value for a message: repr with credentials masked."""
    return mask_credentials(repr(value))


@dataclass
class _Checks:
    violations: List[Violation] = field(default_factory=list)
    warnings: List[str] = field(default_factory=list)

    def fail(self, rule: str, problem: str, fix: str) -> None:
        self.violations.append(Violation(rule, problem, fix))


# ---------------------------------------------------------------------------------------------
# Input parsing: a bad value is a violation, and the caller gets None for it


def _version(
    c: _Checks,
    inputs: Mapping[str, Any],
    name: str,
    example: str,
    *,
    default: Optional[str] = None,
    require_patch: bool = True,
) -> Optional[Version]:
    value = inputs.get(name)
    value = default if value is None else value
    if value is None:
        return None
    try:
        return parse_version(value, name, require_patch)
    except ValueError as exc:
        c.fail(f"input.{name}", str(exc), f"set {name} to a released version such as {example!r}")
        return None


def _choice(
    c: _Checks, inputs: Mapping[str, Any], name: str, *, default: str, accepted: Sequence[str], fix: str
) -> Optional[str]:
    value = inputs.get(name)
    value = default if value is None else value
    if isinstance(value, str) and value in accepted:
        return value
    c.fail(f"input.{name}", f"{name} {_shown(value)} is not one of {', '.join(accepted)}", fix)
    return None


def _sha256(c: _Checks, inputs: Mapping[str, Any], name: str, what: str) -> Optional[str]:
    value = inputs.get(name)
    if isinstance(value, str) and _SHA256_RE.match(value.strip()):
        return value.strip().lower()
    fix = (
        f"set {name} to the 64-hex-digit SHA-256 of {what} (for example the output of "
        "Get-FileHash -Algorithm SHA256 on a copy you checked); every download needs a checksum"
    )
    if value is None:
        c.fail(f"checksum.{name}", f"{what} publishes no checksum and {name} is not set", fix)
    else:
        c.fail(f"input.{name}", f"{name} {_shown(value)} is not a SHA-256 digest (64 hex digits)", fix)
    return None


def _base_url(c: _Checks, inputs: Mapping[str, Any], name: str, default: str) -> Optional[str]:
    value = inputs.get(name)
    if value is None:
        return default
    try:
        return _downloads.validate_base_url(value)
    except ValueError:
        c.fail(
            f"input.{name}",
            f"{name} {_shown(value)} is not an http(s) URL with a host and no query or fragment",
            f"set {name} to a URL such as {default!r} (the default) or the same layout on a mirror",
        )
        return None


def _unknown_inputs(c: _Checks, inputs: Mapping[str, Any]) -> None:
    for name in sorted(set(map(str, inputs)) - set(INPUTS)):
        c.fail("input.unknown", f"{name!r} is not an input of the preflight plan", f"use one of: {', '.join(INPUTS)}")


# ---------------------------------------------------------------------------------------------
# The host and its build


@dataclass(frozen=True)
class _Host:
    version: _windows.WindowsVersion
    release: _windows.WindowsRelease

    @property
    def label(self) -> str:
        return f"{self.release.name} (build {self.version.build})"


def _host(c: _Checks, node: Any) -> Optional[_Host]:
    rule, fix = "host.windows_node", "pass the windows_node fact that winkube.node.windows_facts returns for this host"
    if not isinstance(node, Mapping):
        c.fail(rule, f"windows_node is a {type(node).__name__}, not the windows_facts fact (a mapping)", fix)
        return None
    raw = node.get("os_version", node.get("build"))
    try:
        version = _windows.parse_windows_version(raw, "windows_node.os_version")
        release_id = node.get("id")
        if release_id is None:
            release = _windows.release_for_build(version.build, node.get("channel"))
        elif not isinstance(release_id, str):
            raise ValueError(f"windows_node.id must be a release id string, got {type(release_id).__name__}")
        else:
            release = _windows.release_by_id(release_id)
            if release.build != version.build:
                raise ValueError(
                    f"windows_node.id {release_id!r} is build {release.build}, "
                    f"but its os_version is {version.os_version}"
                )
    except ValueError as exc:
        c.fail(rule, str(exc), fix)
        return None
    return _Host(version, release)


def _minor_ranges(minors: Sequence[str]) -> str:
    """``["1.14", "1.15", "1.16", "1.18"]`` -> ``"1.14 to 1.16, 1.18"``."""
    numbers = sorted(int(m.split(".")[1]) for m in minors)
    runs: List[List[int]] = []
    for n in numbers:
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    return ", ".join(f"1.{r[0]}" if len(r) == 1 else f"1.{r[0]} to 1.{r[-1]}" for r in runs)


def _release_names(release_ids: Sequence[str]) -> str:
    releases = (_windows.release_by_id(i) for i in release_ids)
    return ", ".join(f"{r.name} (build {r.build})" for r in releases)


def _check_build(c: _Checks, host: _Host, kubernetes: Version) -> Dict[str, Any]:
    info = release_info(host.version, host.release.channel, kubernetes)
    row = _kubernetes.support_row(kubernetes)
    minors = info["supported_kubernetes_minors"]
    if not info["kubernetes_supported"]:
        where = (
            f"Kubernetes {_minor_ranges(minors)} support it"
            if minors
            else "no Kubernetes version in the knowledge base lists it"
        )
        fix = f"use a build Kubernetes {kubernetes.minor_text} supports: {_release_names(row.releases)} ({row.source})"
        first, last = planned_kubernetes_range()
        planned = [m for m in minors if first <= int(m.split(".")[1]) <= last]
        if planned:
            fix += f"; or plan Kubernetes {planned[-1]} or older (down to {planned[0]}) for this host"
        c.fail(
            "build.kubernetes_support",
            f"{host.label} is not a supported node OS for Kubernetes {kubernetes.minor_text} ({where})",
            fix,
        )
        return info
    current = _kubernetes.CURRENT_KUBERNETES
    if not _kubernetes.windows_supported(host.release, current):
        last = max(minors, key=lambda m: int(m.split(".")[1]))
        later = _kubernetes.support_row(Version(1, int(last.split(".")[1]) + 1))
        c.warnings.append(
            f"{host.label} is supported by Kubernetes up to {last} only; Kubernetes 1.{later.first_minor} and later "
            f"support {_release_names(later.releases)}: move the node before upgrading past {last}"
        )
    return info


def _check_lifecycle(c: _Checks, host: _Host, kubernetes: Optional[Version], today: date) -> None:
    end = host.release.extended_end or host.release.mainstream_end
    if end is None or today <= date.fromisoformat(end):
        return
    candidates = (
        _kubernetes.support_row(kubernetes).releases if kubernetes else [r.id for r in _windows.WINDOWS_RELEASES]
    )
    serviced = [
        r.id
        for r in map(_windows.release_by_id, candidates)
        if (r.extended_end or r.mainstream_end) and date.fromisoformat(r.extended_end or r.mainstream_end) >= today
    ]
    fix = f"use a release Microsoft still services: {_release_names(serviced)}" if serviced else "use a newer release"
    c.fail("build.end_of_life", f"{host.label} left Microsoft's servicing on {end} ({host.release.source})", fix)


# ---------------------------------------------------------------------------------------------
# Kubernetes version range and skew


def planned_kubernetes_range() -> Tuple[int, int]:
    """Kubernetes minors (major 1) that both the Windows support and the containerd tables cover."""
    first = max(_kubernetes.WINDOWS_SUPPORT[0].first_minor, _containerd.KUBERNETES_CONTAINERD[0].kubernetes_minor)
    last = min(_kubernetes.WINDOWS_SUPPORT[-1].last_minor, _containerd.KUBERNETES_CONTAINERD[-1].kubernetes_minor)
    return first, last


def _check_kubernetes_range(c: _Checks, kubernetes: Version) -> bool:
    first, last = planned_kubernetes_range()
    if kubernetes.major == 1 and first <= kubernetes.minor <= last:
        return True
    c.fail(
        "kubernetes.version",
        f"Kubernetes {kubernetes} is outside the versions the knowledge base covers for Windows nodes "
        f"(1.{first} to 1.{last})",
        f"set winkube_kubernetes_version to a release from 1.{first} to 1.{last}, "
        f"such as {_kubernetes.DEFAULT_KUBERNETES_VERSION}",
    )
    return False


def _skew_fix(apiserver: Version) -> str:
    first, last = planned_kubernetes_range()
    # The skew rules reach at most 3 minors below and 1 above kube-apiserver; try each planned minor there.
    candidates = range(max(first, apiserver.minor - 3), min(last, apiserver.minor + 1) + 1)
    fitting = [
        minor
        for minor in (candidates if apiserver.major == 1 else ())
        if all(_kubernetes.check_skew(comp, Version(1, minor), apiserver).ok for comp in PLANNED_COMPONENTS)
    ]
    if not fitting:
        return (
            f"no Kubernetes version the knowledge base covers (1.{first} to 1.{last}) runs kubelet, kube-proxy and "
            f"kubeadm within the skew policy against kube-apiserver {apiserver.minor_text}; "
            "upgrade the control plane into that range first"
        )
    versions = " or ".join(f"1.{m}.z" for m in fitting)
    return (
        f"set winkube_kubernetes_version to {versions}, which kubelet, kube-proxy and kubeadm all accept against "
        f"kube-apiserver {apiserver.minor_text}, or upgrade the control plane first"
    )


def _check_skew(c: _Checks, kubernetes: Version, apiserver: Version) -> None:
    for component in PLANNED_COMPONENTS:
        result = _kubernetes.check_skew(component, kubernetes, apiserver)
        if not result.ok:
            c.fail(f"skew.{component}", result.reason, _skew_fix(apiserver))


# ---------------------------------------------------------------------------------------------
# Runtimes


@dataclass(frozen=True)
class _Matcher:
    """What decides which image variant the runtime pulls: containerd's modelled matcher, or only Windows' rule."""

    containerd: Optional[Version]
    limitation: Optional[str]  # why only Microsoft's rule is evaluated; None when the matcher is modelled


def _containerd_block(
    c: _Checks, inputs: Mapping[str, Any], kubernetes: Optional[Version], today: date
) -> Tuple[Optional[Dict[str, Any]], _Matcher]:
    unmatched = _Matcher(None, "the containerd version is not usable (see the containerd violation)")
    base_url = _base_url(c, inputs, "containerd_download_base_url", _containerd.RELEASE_BASE_URL)
    example = str(_containerd.newest_containerd_for(kubernetes or _kubernetes.CURRENT_KUBERNETES))
    version = _version(c, inputs, "containerd_version", example)
    if inputs.get("containerd_version") is None and kubernetes is not None:
        # The default: the newest release the knowledge base knows and accepts for this Kubernetes minor.
        version = _containerd.newest_containerd_for(kubernetes)
    if version is None or kubernetes is None:
        return None, unmatched
    support = _containerd.containerd_supported(version, kubernetes)
    if not support.ok:
        minimum = _containerd.WINDOWS_MINIMUM_CONTAINERD
        rule = "containerd.kubernetes_support" if at_least(version, minimum) else "containerd.windows_minimum"
        lines = ", ".join(f"{m.minor_text} from {m}" for m in support.minimum)
        c.fail(
            rule,
            support.reason,
            f"set containerd_version to a release of an accepted line ({lines}); "
            f"the newest known accepted release is {_containerd.newest_containerd_for(kubernetes)}",
        )
        return None, unmatched
    _containerd_lifecycle_warning(c, version, kubernetes, today)
    schema = _containerd.config_schema(version)
    paths = _containerd.WINDOWS_DEFAULT_PATHS
    block: Dict[str, Any] = {
        "version": str(version),
        "config_schema": {"write": schema.write, "latest": schema.latest},
        "install_dir": ntpath.dirname(paths["config"]),
        "config_path": paths["config"],
        "root": paths["root"],
        "state": paths["state"],
        "cni_bin_dir": paths["cni_bin_dir"],
        "cni_conf_dir": paths["cni_conf_dir"],
        "pipe": paths["grpc_address"],
        "service_name": _containerd.SERVICE_NAME,
    }
    if base_url is not None:
        artifact = _containerd.release_tarball(version, base_url)
        block["release"] = {
            "url": artifact.url,
            "checksum_url": artifact.checksum_url,
            "checksum_format": artifact.checksum_format,
        }
    try:
        _images.matcher_profile(version)
    except ValueError as exc:
        return block, _Matcher(None, str(exc))
    return block, _Matcher(version, None)


def _containerd_lifecycle_warning(c: _Checks, version: Version, kubernetes: Version, today: date) -> None:
    row = _containerd.line_lifecycle(version)
    if row is None:
        return
    end = _containerd.end_of_life_date(row)
    if today > end:
        state = f"reached its end of life on {row.end_of_life}"
    elif today + timedelta(days=EOL_WARNING_DAYS) >= end:
        state = f"reaches its end of life on {row.end_of_life}"
    else:
        return
    alternative = _supported_alternative(version, kubernetes, today)
    hint = "" if alternative is None else f"; {alternative} is the newest known accepted release on a supported line"
    c.warnings.append(f"containerd {version.minor_text} {state} ({row.source}){hint}")


def _supported_alternative(version: Version, kubernetes: Version, today: date) -> Optional[Version]:
    """The newest known release of another accepted line whose end of life is not near, if any."""

    def supported(candidate: Version) -> bool:
        row = _containerd.line_lifecycle(candidate)
        horizon = today + timedelta(days=EOL_WARNING_DAYS)
        return row is not None and _containerd.end_of_life_date(row) >= horizon

    candidates = [
        known.version
        for known in _containerd.KNOWN_CONTAINERD_RELEASES
        if known.version.minor_line != version.minor_line
        and _containerd.containerd_supported(known.version, kubernetes).ok
        and supported(known.version)
    ]
    return max(candidates, key=Version.key) if candidates else None


def _mcr_block(c: _Checks, inputs: Mapping[str, Any]) -> Dict[str, Any]:
    channel_value = inputs.get("mcr_channel")
    channel: Optional[str] = _mcr.DEFAULT_CHANNEL if channel_value is None else None
    if channel_value is not None:
        try:
            channel = _mcr.validate_channel(channel_value)
        except ValueError:
            c.fail(
                "input.mcr_channel",
                f"mcr_channel {_shown(channel_value)} is not an MCR channel",
                f"use one of the forms {_mcr.CHANNEL_FORMS} (default {_mcr.DEFAULT_CHANNEL})",
            )
    mcr_version = _version(c, inputs, "mcr_version", "25.0.14")
    installer_sha256 = _sha256(c, inputs, "mcr_installer_sha256", f"the MCR installer script {_mcr.INSTALLER_URL}")
    # dockershim left kubelet in Kubernetes 1.24 and every version planned here is newer, so MCR always
    # needs cri-dockerd between kubelet and the engine.
    cri_version = _version(
        c, inputs, "cri_dockerd_version", DEFAULT_CRI_DOCKERD_VERSION, default=DEFAULT_CRI_DOCKERD_VERSION
    )
    cri_what = "the cri-dockerd release zip"
    if cri_version is not None:
        cri_what = f"cri-dockerd {cri_version}'s {_mcr.CRI_DOCKERD_ASSET.format(version=cri_version)}"
    cri_sha256 = _sha256(c, inputs, "cri_dockerd_sha256", cri_what)
    cri_dockerd: Dict[str, Any] = {
        "version": None if cri_version is None else str(cri_version),
        "sha256": cri_sha256,
        "exe_in_zip": _mcr.CRI_DOCKERD_EXE_IN_ZIP,
        "endpoint": _mcr.CRI_DOCKERD_ENDPOINT,
        "cni_bin_dir": _mcr.CRI_DOCKERD_CNI_BIN_DIR,
        "cni_conf_dir": _mcr.CRI_DOCKERD_CNI_CONF_DIR,
    }
    if cri_version is not None:
        cri_dockerd["url"] = _mcr.cri_dockerd_artifact(cri_version).url
    return {
        "channel": channel,
        "version": None if mcr_version is None else str(mcr_version),
        "installer_url": _mcr.INSTALLER_URL,
        "installer_sha256": installer_sha256,
        "download_url": _mcr.DEFAULT_DOWNLOAD_URL,
        "reboot_exit_code": _mcr.INSTALLER_REBOOT_EXIT_CODE,
        "service_name": _mcr.SERVICE_NAME,
        "data_root": _mcr.DEFAULT_DATA_ROOT,
        "cri_dockerd": cri_dockerd,
    }


# ---------------------------------------------------------------------------------------------
# Images


def _process_check(host: _Host, image_os_version: Any, matcher: _Matcher) -> Tuple[Optional[bool], str]:
    """True/False from Microsoft's rule plus the runtime's matcher; None when only Microsoft's rule passed.

    Raises ValueError when the knowledge base cannot decide (e.g. WS2016 without revisions).
    """
    windows = _images.image_compatible(host.version.os_version, image_os_version, "process")
    if not windows.compatible or matcher.limitation is not None:
        if windows.compatible:
            return None, f"{windows.reason}; the runtime's manifest matcher is not checked: {matcher.limitation}"
        return False, windows.reason
    result = _images.image_compatible(host.version.os_version, image_os_version, "process", matcher.containerd)
    return result.compatible, result.reason


def _complete(variants: _pause.PauseVariants) -> bool:
    """Whether a variant list is known in full, so that a miss proves no variant fits."""
    return "partial" not in variants.status and "UNCONFIRMED" not in variants.status


def _pause_suggestions(host: _Host, matcher: _Matcher) -> List[str]:
    """Pause images of the knowledge base with a variant that runs on ``host``."""
    fitting: List[str] = []
    candidates = [f"{_pause.UPSTREAM_PAUSE_REPOSITORY}:{row.tag}" for row in _pause.PAUSE_WINDOWS_VARIANTS]
    candidates += [f"{_pause.MICROSOFT_PAUSE_REPOSITORY}:{tag}" for tag in _pause.MICROSOFT_PAUSE_TAGS]
    for image in candidates:
        if any(_fits(host, tag, matcher) for tag in _pause.pause_image_variants(image).windows):
            fitting.append(image)
    return fitting


def _fits(host: _Host, tag: str, matcher: _Matcher) -> bool:
    """Not refused (None counts: only Microsoft's rule could be evaluated, and it allows the variant)."""
    try:
        return _process_check(host, tag, matcher)[0] is not False
    except ValueError:
        return False


def _pause_plan(c: _Checks, inputs: Mapping[str, Any], host: Optional[_Host], matcher: _Matcher) -> Dict[str, Any]:
    profile = _choice(
        c,
        inputs,
        "winkube_pause_image_profile",
        default=DEFAULT_PAUSE_PROFILE,
        accepted=tuple(_pause.PAUSE_PROFILES),
        fix="set winkube_pause_image_profile to production (Microsoft-signed, the default) or upstream, "
        "or give the image itself in winkube_pause_image",
    )
    override = inputs.get("winkube_pause_image")
    if override is not None and (
        not isinstance(override, str) or not override.strip() or any(ch.isspace() for ch in override.strip())
    ):
        c.fail(
            "input.winkube_pause_image",
            f"winkube_pause_image {_shown(override)} is not an image reference",
            "set it to a reference such as 'mcr.microsoft.com/oss/kubernetes/pause:3.6', or leave it unset to use "
            "the profile's image",
        )
        override = None
    image = override.strip() if override is not None else (_pause.PAUSE_PROFILES[profile] if profile else None)
    plan: Dict[str, Any] = {
        "pause_image": image,
        "pause_image_profile": profile,
        "pause_image_source": "override" if override is not None else "profile",
        "pause_image_checked": False,
        "pause_image_check": "not checked: the host is unknown",
        "pause_image_variants": [],
    }
    microsoft = _pause.MICROSOFT_PAUSE_REPOSITORY + ":"
    if override is not None and profile == "production" and not image.startswith(microsoft):
        c.warnings.append(
            f"winkube_pause_image {image} replaces the production profile's image; it is not from Microsoft's "
            f"signed location ({_pause.MICROSOFT_PAUSE_REPOSITORY}), so its binaries may not be Authenticode-signed"
        )
    if image is None or host is None:
        return plan
    try:
        variants = _pause.pause_image_variants(image)
    except ValueError as exc:
        plan["pause_image_check"] = f"not checked: {exc}; the runtime's pull of the image is the check"
        return plan
    results = []
    for tag in variants.windows:
        try:
            results.append((tag, *_process_check(host, tag, matcher)))
        except ValueError as exc:
            results.append((tag, False, str(exc)))
    fitting = [(tag, ok, reason) for tag, ok, reason in results if ok is not False]
    plan["pause_image_variants"] = [tag for tag, _ok, _reason in fitting]
    if fitting:
        tag, ok, reason = next(((t, o, r) for t, o, r in fitting if o), fitting[0])
        plan["pause_image_checked"] = bool(ok)
        state = "checked" if ok else "not fully checked"
        plan["pause_image_check"] = f"{state}: variant {tag}: {reason}"
        return plan
    listed = ", ".join(variants.windows)
    if not _complete(variants):
        plan["pause_image_check"] = (
            f"not checked: none of the known Windows variants of {image} ({listed}) runs on {host.label}, but the "
            f"variant list is incomplete ({variants.status}); the runtime's pull of the image is the check"
        )
        return plan
    suggestions = _pause_suggestions(host, matcher)
    fix = (
        f"set winkube_pause_image to a pause image with a variant this host runs: {', '.join(suggestions)}"
        if suggestions
        else f"no pause image in the knowledge base runs on {host.label} with process isolation; "
        "use a supported Windows Server build"
    )
    c.fail(
        "pause.image",
        f"pause image {image} has no Windows variant that {host.label} runs with process isolation "
        f"(variants {listed}; closest: {_closest_reason(host, results)})",
        fix,
    )
    return plan


def _closest_reason(host: _Host, results: Sequence[Tuple[str, Optional[bool], str]]) -> str:
    """The refusal of the variant whose build is nearest the host's: the one a reader would try first."""
    if not results:
        return "none listed"
    builds = _windows.IMAGE_TAG_BUILDS

    def distance(result: Tuple[str, Optional[bool], str]) -> int:
        return abs(builds.get(result[0].lower(), 0) - host.version.build)

    tag, _ok, reason = min(results, key=distance)
    return f"{tag}: {reason}"


def _workload_images(c: _Checks, value: Any, host: Optional[_Host], matcher: _Matcher) -> List[Dict[str, Any]]:
    if value is None:
        return []
    rule = "input.preflight_workload_images"
    shape = "a list of mappings with 'image' (a reference) and 'os_version' (the image's os.version or tag)"
    if not isinstance(value, list):
        c.fail(rule, f"preflight_workload_images is a {type(value).__name__}", f"give {shape}")
        return []
    checked: List[Dict[str, Any]] = []
    for index, entry in enumerate(value):
        where = f"preflight_workload_images[{index}]"
        if not isinstance(entry, Mapping):
            c.fail(rule, f"{where} is a {type(entry).__name__}, not a mapping", f"give {shape}")
            continue
        unknown = sorted(set(map(str, entry)) - set(WORKLOAD_IMAGE_KEYS))
        image = entry.get("image")
        if unknown or not isinstance(image, str) or not image.strip():
            problem = f"{where} has unknown keys {unknown}" if unknown else f"{where}.image {_shown(image)} is missing"
            c.fail(rule, problem, f"give {shape}")
            continue
        try:
            _windows.parse_image_os_version(entry.get("os_version"), f"{where}.os_version")
        except ValueError as exc:
            c.fail(rule, str(exc), f"set {where}.os_version to the os.version the image declares, e.g. 10.0.20348.2527")
            continue
        if host is None:
            continue
        os_version = entry["os_version"]
        try:
            ok, reason = _process_check(host, os_version, matcher)
        except ValueError as exc:
            ok, reason = False, str(exc)
        checked.append({"image": image, "os_version": os_version, "checked": ok is True, "reason": reason})
        if ok is None:
            c.warnings.append(f"workload image {image}: {reason}")
        elif not ok:
            c.fail(
                "workload.image",
                f"workload image {image} (os.version {os_version}) cannot run on {host.label} with process "
                f"isolation: {reason}",
                f"use a build of {image} for {host.release.version_tag} "
                f"(os.version 10.0.{host.release.image_build}), or schedule it on nodes of its own build",
            )
    return checked


# ---------------------------------------------------------------------------------------------
# Network: registry mirrors, proxy, service environment


def _http_url(value: Any, schemes: Sequence[str]) -> bool:
    if not isinstance(value, str) or not value.strip() or any(ch.isspace() for ch in value.strip()):
        return False
    try:
        parts = urlsplit(value.strip())
        # .port raises ValueError for a port that is not a number from 0 to 65535.
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        return False
    return parts.scheme in schemes and bool(parts.hostname) and port_ok and not parts.query and not parts.fragment


def _registry_mirrors(c: _Checks, value: Any) -> Dict[str, List[str]]:
    if value is None:
        return {}
    rule = "input.winkube_registry_mirrors"
    shape = "a mapping of registry host to a list of http(s) endpoints, e.g. {'docker.io': ['https://mirror.example']}"
    if not isinstance(value, Mapping):
        c.fail(rule, f"winkube_registry_mirrors is a {type(value).__name__}, not a mapping", f"give {shape}")
        return {}
    mirrors: Dict[str, List[str]] = {}
    for host, endpoints in value.items():
        if not isinstance(host, str) or not _REGISTRY_HOST_RE.match(host):
            problem = f"registry {_shown(host)} is not a registry host name (with an optional :port)"
            c.fail(rule, problem, f"give {shape}")
            continue
        if not isinstance(endpoints, list) or not endpoints:
            c.fail(rule, f"the endpoints of {host} are {_shown(endpoints)}, not a non-empty list", f"give {shape}")
            continue
        bad = [e for e in endpoints if not _http_url(e, ("http", "https"))]
        if bad:
            c.fail(
                rule,
                f"endpoint(s) {', '.join(map(_shown, bad))} of {host} are not http:// or https:// URLs with a host",
                f"give {shape}",
            )
            continue
        mirrors[host] = [e.strip() for e in endpoints]
    return mirrors


def _cidrs(c: _Checks, inputs: Mapping[str, Any], name: str) -> List[str]:
    value = inputs.get(name)
    if value is None:
        return []
    items = value.split(",") if isinstance(value, str) else value
    fix = f"set {name} to a CIDR such as '10.96.0.0/12' (dual-stack: comma-separated or a list)"
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        c.fail(f"input.{name}", f"{name} {_shown(value)} is not a CIDR string or list of CIDRs", fix)
        return []
    cidrs = [i.strip() for i in items]
    for cidr in cidrs:
        try:
            ipaddress.ip_network(cidr, strict=False)
        except ValueError:
            c.fail(f"input.{name}", f"{name} entry {cidr!r} is not a CIDR", fix)
            return []
    return cidrs


def _no_proxy_entries(c: _Checks, value: Any) -> List[str]:
    if value is None:
        return []
    # A trailing comma in the string form is harmless; in a list an empty entry is a mistake.
    items = [i for i in value.split(",") if i.strip()] if isinstance(value, str) else value
    fix = "set no_proxy to a comma-separated string or a list of host names, domains (.example.com), IPs or CIDRs"
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        c.fail("input.winkube_proxy", f"winkube_proxy.no_proxy {_shown(value)} is not a string or list", fix)
        return []
    entries = [i.strip() for i in items]
    bad = [e for e in entries if not e or any(ch.isspace() for ch in e)]
    if bad:
        c.fail("input.winkube_proxy", f"winkube_proxy.no_proxy has empty or blank entries {bad!r}", fix)
        return []
    return entries


def _service_environment(c: _Checks, inputs: Mapping[str, Any]) -> List[str]:
    value = inputs.get("winkube_proxy")
    cidrs = _cidrs(c, inputs, "winkube_service_cidr") + _cidrs(c, inputs, "winkube_pod_cidr")
    if value is None:
        return []
    rule = "input.winkube_proxy"
    if not isinstance(value, Mapping):
        c.fail(rule, f"winkube_proxy is a {type(value).__name__}, not a mapping", f"give a mapping with {PROXY_KEYS}")
        return []
    unknown = sorted(set(map(str, value)) - set(PROXY_KEYS))
    if unknown:
        c.fail(rule, f"winkube_proxy has unknown keys {unknown}", f"use only {', '.join(PROXY_KEYS)} (lower case)")
    proxies: Dict[str, str] = {}
    for key in ("http_proxy", "https_proxy"):
        url = value.get(key)
        if url is None:
            continue
        if _http_url(url, PROXY_SCHEMES):
            proxies[key] = url.strip()
        else:
            c.fail(
                rule,
                f"winkube_proxy.{key} {_shown(url)} is not a proxy URL",
                f"give a URL with a scheme ({', '.join(PROXY_SCHEMES)}) and a host, e.g. http://proxy.example:3128",
            )
    no_proxy = _no_proxy_entries(c, value.get("no_proxy"))
    if not proxies:
        if no_proxy:
            c.warnings.append("winkube_proxy.no_proxy is set without http_proxy or https_proxy: it has no effect")
        return []
    merged = list(dict.fromkeys([*no_proxy, *NO_PROXY_HOSTS, *cidrs, *NO_PROXY_DOMAINS]))
    environment = [f"{key.upper()}={url}" for key, url in proxies.items()]
    return [*environment, f"NO_PROXY={','.join(merged)}"]


def service_environment(inputs: Mapping[str, Any]) -> List[str]:
    """The services' proxy environment (``NAME=value``, credentials included) for valid inputs;
    raises PlanError with every violation otherwise (node_plan reports them first)."""
    c = _Checks()
    environment = _service_environment(c, inputs)
    if c.violations:
        raise PlanError(c.violations)
    return environment


# ---------------------------------------------------------------------------------------------
# The plan


def _kubernetes_binaries(c: _Checks, inputs: Mapping[str, Any], kubernetes: Optional[Version]) -> Dict[str, Any]:
    base_url = _base_url(c, inputs, "winkube_kubernetes_download_base_url", _downloads.DEFAULT_BASE_URL)
    if kubernetes is None or base_url is None:
        return {}
    binaries = {}
    # Every file the kubernetes role may download, so the role never derives a URL of its own; the
    # version rules (PLANNED_COMPONENTS) concern only the node components.
    for component in _downloads.KUBE_COMPONENTS:
        binary = _downloads.kube_binary_url(component, kubernetes, base_url=base_url)
        binaries[component] = {"url": binary.url, "checksum_url": binary.checksum_url, "checksum_format": "sha256"}
    return binaries


def _host_block(host: Optional[_Host]) -> Optional[Dict[str, Any]]:
    if host is None:
        return None
    return {
        "build": host.version.build,
        "revision": host.version.revision,
        "os_version": host.version.os_version,
        "windows_build_label": host.version.node_label,
        "id": host.release.id,
        "name": host.release.name,
        "release": host.release.release,
        "channel": host.release.channel,
        "version_tag": host.release.version_tag,
    }


def resolve_plan(inputs: Mapping[str, Any], windows_node: Mapping[str, Any], today: Optional[date] = None) -> dict:
    """The plan for one node, or PlanError with every violation found."""
    if not isinstance(inputs, Mapping):
        raise PlanError([Violation("input", f"inputs are a {type(inputs).__name__}", "give a mapping of inputs")])
    when = today or date.today()
    c = _Checks()
    _unknown_inputs(c, inputs)
    host = _host(c, windows_node)

    default_kubernetes = _kubernetes.DEFAULT_KUBERNETES_VERSION
    kubernetes = _version(c, inputs, "winkube_kubernetes_version", default_kubernetes, default=default_kubernetes)
    if kubernetes is not None and not _check_kubernetes_range(c, kubernetes):
        kubernetes = None
    if host is not None:
        if kubernetes is not None:
            _check_build(c, host, kubernetes)
        _check_lifecycle(c, host, kubernetes, when)

    runtime = _choice(
        c,
        inputs,
        "winkube_container_runtime",
        default=DEFAULT_RUNTIME,
        accepted=RUNTIMES,
        fix="set winkube_container_runtime to containerd (the default) or mcr (Mirantis Container Runtime with "
        "cri-dockerd)",
    )
    containerd_block, mcr_block = None, None
    matcher = _Matcher(None, "the container runtime is not usable (see its violation)")
    if runtime == "containerd":
        containerd_block, matcher = _containerd_block(c, inputs, kubernetes, when)
    elif runtime == "mcr":
        mcr_block = _mcr_block(c, inputs)
        matcher = _Matcher(None, "the Mirantis Container Runtime engine's manifest matcher is not modelled")

    pause = _pause_plan(c, inputs, host, matcher)
    workloads = _workload_images(c, inputs.get("preflight_workload_images"), host, matcher)

    apiserver = _version(c, inputs, "winkube_apiserver_version", "1.36", require_patch=False)
    if apiserver is not None and kubernetes is not None:
        _check_skew(c, kubernetes, apiserver)

    binaries = _kubernetes_binaries(c, inputs, kubernetes)
    mirrors = _registry_mirrors(c, inputs.get("winkube_registry_mirrors"))
    environment = _service_environment(c, inputs)

    if c.violations:
        raise PlanError(c.violations)
    # Only reachable with every value valid: the Optional values above are all set here.
    runtime_version = containerd_block["version"] if containerd_block else mcr_block["version"]
    return {
        "kubernetes_version": str(kubernetes),
        "kubernetes_minor": kubernetes.minor_text,
        "apiserver_version": None if apiserver is None else str(apiserver),
        "runtime": runtime,
        "runtime_version": runtime_version,
        "containerd": containerd_block,
        "mcr": mcr_block,
        "cri_endpoint": CRI_ENDPOINTS[runtime],
        **pause,
        "workload_images": workloads,
        "kubernetes_binaries": binaries,
        "kubernetes_paths": dict(_kubernetes.WINDOWS_NODE_PATHS),
        "registry_mirrors": mirrors,
        # Shown in task output: credentials masked. The real entries come from
        # service_environment(inputs), which the preflight role keeps in a no_log fact.
        "service_environment": [mask_credentials(entry) for entry in environment],
        "host": _host_block(host),
        "warnings": c.warnings,
    }
