# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The preflight plan: every rule passing and failing, all violations at once, the plan's shape."""

from __future__ import annotations

import json
from datetime import date
from typing import Any, Dict, List, Mapping, Optional

import pytest
from ansible_collections.winkube.node.plugins.module_utils import plan as plan_module
from ansible_collections.winkube.node.plugins.module_utils.containerd import (
    KNOWN_CONTAINERD_RELEASES,
    containerd_supported,
)
from ansible_collections.winkube.node.plugins.module_utils.kubernetes import DEFAULT_KUBERNETES_VERSION
from ansible_collections.winkube.node.plugins.module_utils.node_facts import windows_node_facts
from ansible_collections.winkube.node.plugins.module_utils.plan import (
    INPUTS,
    PlanError,
    Violation,
    failure_message,
    mask_credentials,
    planned_kubernetes_range,
    resolve_plan,
    service_environment,
)
from ansible_collections.winkube.node.plugins.module_utils.versions import Version, parse_version

TODAY = date(2026, 12, 1)
SHA = "ab" * 32
MCR_OK = {"winkube_container_runtime": "mcr", "mcr_installer_sha256": SHA, "cri_dockerd_sha256": SHA}
WS2016, WS2019, WS2022, WS2025, WS20H2, WS1903, WS23H2 = 14393, 17763, 20348, 26100, 19042, 18362, 25398


def node(build: int, ubr: int = 2113) -> Dict[str, Any]:
    """The windows_node fact windows_facts would return for a Server Core host of ``build``."""
    return windows_node_facts(
        {"CurrentBuildNumber": str(build), "UBR": ubr, "InstallationType": "Server Core", "EditionID": "ServerStandard"}
    )


def plan(inputs: Optional[Mapping[str, Any]] = None, build: int = WS2022, today: date = TODAY) -> Dict[str, Any]:
    return resolve_plan(inputs or {}, node(build), today=today)


def violations(inputs: Optional[Mapping[str, Any]] = None, build: int = WS2022, **kw: Any) -> List[Violation]:
    with pytest.raises(PlanError) as raised:
        resolve_plan(inputs or {}, kw.get("windows_node", node(build)), today=kw.get("today", TODAY))
    return list(raised.value.violations)


def rules(inputs: Optional[Mapping[str, Any]] = None, build: int = WS2022, **kw: Any) -> List[str]:
    return [v.rule for v in violations(inputs, build, **kw)]


def only(inputs: Mapping[str, Any], rule: str, build: int = WS2022) -> Violation:
    found = violations(inputs, build)
    assert [v.rule for v in found] == [rule], [v.line() for v in found]
    return found[0]


# --------------------------------------------------------------------------------------------
# Defaults and the plan's shape


def newest_accepted(kubernetes: str) -> str:
    """Computed here from the release list, independently of the plan."""
    k8s = parse_version(kubernetes)
    accepted = [r.version for r in KNOWN_CONTAINERD_RELEASES if containerd_supported(r.version, k8s).ok]
    return str(max(accepted, key=Version.key))


@pytest.mark.parametrize(
    ("kubernetes", "containerd"), [("1.36.4", "2.3.5"), ("1.35.2", "2.2.3"), ("1.34.3", "2.1.5"), ("1.29.0", "1.7.31")]
)
def test_containerd_defaults_to_the_newest_accepted_known_release(kubernetes: str, containerd: str) -> None:
    resolved = plan({"winkube_kubernetes_version": kubernetes})
    assert resolved["runtime_version"] == resolved["containerd"]["version"] == containerd
    assert containerd == newest_accepted(kubernetes)


def test_defaults_on_ws2022() -> None:
    resolved = plan()
    assert resolved["kubernetes_version"] == DEFAULT_KUBERNETES_VERSION
    assert resolved["kubernetes_minor"] == "1.36"
    assert (resolved["runtime"], resolved["mcr"], resolved["apiserver_version"]) == ("containerd", None, None)
    assert resolved["cri_endpoint"] == "npipe:////./pipe/containerd-containerd"
    assert resolved["pause_image"] == "mcr.microsoft.com/oss/kubernetes/pause:3.6"
    assert (resolved["pause_image_profile"], resolved["pause_image_source"]) == ("production", "profile")
    assert resolved["pause_image_checked"] is True
    assert resolved["pause_image_variants"] == ["ltsc2022"]
    assert resolved["host"] == {
        "build": 20348,
        "revision": 2113,
        "os_version": "10.0.20348.2113",
        "windows_build_label": "10.0.20348",
        "id": "ws2022",
        "name": "Windows Server 2022",
        "release": "21H2",
        "channel": "ltsc",
        "version_tag": "ltsc2022",
    }
    assert resolved["registry_mirrors"] == {}
    assert resolved["service_environment"] == []
    assert resolved["workload_images"] == []
    assert resolved["warnings"] == []
    json.dumps(resolved)  # a fact must be plain data


def test_containerd_block() -> None:
    block = plan()["containerd"]
    assert block["version"] == "2.3.5"
    assert block["config_schema"] == {"write": 3, "latest": 4}
    assert block["install_dir"] == r"C:\Program Files\containerd"
    assert block["config_path"] == r"C:\Program Files\containerd\config.toml"
    assert block["root"] == r"C:\ProgramData\containerd\root"
    assert block["state"] == r"C:\ProgramData\containerd\state"
    assert block["cni_bin_dir"] == r"C:\Program Files\containerd\cni\bin"
    assert block["cni_conf_dir"] == r"C:\Program Files\containerd\cni\conf"
    assert block["pipe"] == r"\\.\pipe\containerd-containerd"
    url = "https://github.com/containerd/containerd/releases/download/v2.3.5/containerd-2.3.5-windows-amd64.tar.gz"
    assert block["release"] == {"url": url, "checksum_url": url + ".sha256sum", "checksum_format": "sha256sum"}


def test_containerd_1_x_writes_schema_2_and_the_base_url_is_configurable() -> None:
    block = plan(
        {
            "winkube_kubernetes_version": "1.35.0",
            "containerd_version": "v1.7.28",
            "containerd_download_base_url": "https://mirror.example/containerd/",
        }
    )["containerd"]
    assert block["config_schema"] == {"write": 2, "latest": 2}
    assert block["release"]["url"] == "https://mirror.example/containerd/v1.7.28/containerd-1.7.28-windows-amd64.tar.gz"


def test_kubernetes_binaries_and_paths() -> None:
    resolved = plan({"winkube_kubernetes_download_base_url": "https://k8s-mirror.example/dl"})
    assert set(resolved["kubernetes_binaries"]) == {"kubelet", "kubeadm", "kube-proxy", "kubectl", "kube-log-runner"}
    runner = resolved["kubernetes_binaries"]["kube-log-runner"]
    assert runner["url"] == "https://k8s-mirror.example/dl/v1.36.4/bin/windows/amd64/kube-log-runner.exe"
    kubectl = resolved["kubernetes_binaries"]["kubectl"]
    assert kubectl["url"] == "https://k8s-mirror.example/dl/release/v1.36.4/bin/windows/amd64/kubectl.exe"
    kube_proxy = resolved["kubernetes_binaries"]["kube-proxy"]
    assert kube_proxy["url"] == "https://k8s-mirror.example/dl/v1.36.4/bin/windows/amd64/kube-proxy.exe"
    assert kube_proxy["checksum_url"] == kube_proxy["url"] + ".sha256"
    assert kube_proxy["checksum_format"] == "sha256"
    paths = resolved["kubernetes_paths"]
    assert paths["kubelet_config"] == r"C:\var\lib\kubelet\config.yaml"
    assert paths["kubeadm_flags_env"] == r"C:\var\lib\kubelet\kubeadm-flags.env"
    assert paths["kubelet_conf"] == r"C:\etc\kubernetes\kubelet.conf"
    assert paths["ca_cert"] == r"C:\etc\kubernetes\pki\ca.crt"


def test_default_kubernetes_binaries_come_from_dl_k8s_io() -> None:
    url = plan()["kubernetes_binaries"]["kubelet"]["url"]
    assert url == "https://dl.k8s.io/v1.36.4/bin/windows/amd64/kubelet.exe"


# --------------------------------------------------------------------------------------------
# Build and Kubernetes version


@pytest.mark.parametrize(
    ("build", "kubernetes", "expected"),
    [
        (WS2016, "1.36.4", ["build.kubernetes_support", "pause.image"]),
        (WS2016, "1.30.0", ["build.kubernetes_support", "pause.image"]),
        (WS2019, "1.34.3", []),
        (WS2019, "1.35.0", ["build.kubernetes_support"]),
        (WS2022, "1.24.0", []),
        (WS2022, "1.36.4", []),
        (WS2025, "1.36.4", []),
        (WS2025, "1.34.3", ["build.kubernetes_support"]),
        (WS20H2, "1.36.4", ["build.kubernetes_support", "build.end_of_life"]),
        # The 1.23-1.34 docs text still names 20H2, but Microsoft stopped servicing it in 2022.
        (WS20H2, "1.30.0", ["build.end_of_life"]),
        (WS1903, "1.24.0", ["build.kubernetes_support", "build.end_of_life"]),
        (WS23H2, "1.36.4", ["build.kubernetes_support"]),
    ],
)
def test_build_support(build: int, kubernetes: str, expected: List[str]) -> None:
    inputs = {"winkube_kubernetes_version": kubernetes}
    if expected:
        assert rules(inputs, build) == expected
    else:
        assert plan(inputs, build)["host"]["build"] == build


def test_unsupported_build_message_says_who_supports_what() -> None:
    found = only({"winkube_kubernetes_version": "1.36.4"}, "build.kubernetes_support", WS2019)
    assert "Windows Server 2019 (build 17763) is not a supported node OS for Kubernetes 1.36" in found.problem
    assert "Kubernetes 1.14 to 1.34 support it" in found.problem
    assert "Windows Server 2022 (build 20348), Windows Server 2025 (build 26100)" in found.fix
    assert "plan Kubernetes 1.34 or older (down to 1.24)" in found.fix


def test_ws2016_is_supported_by_no_kubernetes_version() -> None:
    found = violations({}, WS2016)[0]
    assert "no Kubernetes version in the knowledge base lists it" in found.problem
    assert "plan Kubernetes" not in found.fix


def test_end_of_life_sac_names_the_date_and_serviced_releases() -> None:
    found = only({"winkube_kubernetes_version": "1.30.0"}, "build.end_of_life", WS20H2)
    assert "Windows Server, version 20H2 (build 19042) left Microsoft's servicing on 2022-08-09" in found.problem
    assert "Windows Server 2019 (build 17763), Windows Server 2022 (build 20348)" in found.fix


def test_ws2016_is_refused_for_lifecycle_too_once_extended_support_ends() -> None:
    assert rules({}, WS2016, today=date(2027, 1, 12)) == [
        "build.kubernetes_support",
        "build.end_of_life",
        "pause.image",
    ]


def test_ws2019_near_the_end_of_its_kubernetes_support_is_a_warning() -> None:
    resolved = plan({"winkube_kubernetes_version": "1.34.3"}, WS2019)
    assert resolved["pause_image_variants"] == ["1809"]
    assert resolved["pause_image_checked"] is True
    windows, containerd = resolved["warnings"]
    assert "Windows Server 2019 (build 17763) is supported by Kubernetes up to 1.34 only" in windows
    assert "Kubernetes 1.35 and later support Windows Server 2022 (build 20348), Windows Server 2025" in windows
    # The default for 1.34 is the newest accepted release, 2.1.5, on a line that has reached its end of life.
    assert containerd.startswith("containerd 2.1 reached its end of life on 2026-07-03")
    assert containerd.endswith("; 2.0.6 is the newest known accepted release on a supported line")


def test_ws2025_host() -> None:
    resolved = plan({}, WS2025)
    assert resolved["host"]["version_tag"] == "ltsc2025"
    # pause 3.6 has no ltsc2025 variant; WS2025 runs its ltsc2022 variant with process isolation.
    assert resolved["pause_image_variants"] == ["ltsc2022"]
    assert resolved["pause_image_checked"] is True
    assert "containerd 2.3.5" in resolved["pause_image_check"]


@pytest.mark.parametrize("kubernetes", ["1.23.17", "1.37.0", "2.0.0"])
def test_kubernetes_outside_the_knowledge_base(kubernetes: str) -> None:
    found = only({"winkube_kubernetes_version": kubernetes}, "kubernetes.version")
    first, last = planned_kubernetes_range()
    assert (first, last) == (24, 36)
    assert f"Kubernetes {kubernetes} is outside" in found.problem
    assert "1.24 to 1.36" in found.problem


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("1.36", "needs a patch number"),
        (1.3, "quote the version in YAML"),
        ("1.x", "is not a valid version"),
        ("1.36.0-rc.1", "pre-release"),
        ("", "is empty"),
        (True, "boolean"),
        (["1.36.4"], "must be a string"),
    ],
)
def test_bad_kubernetes_version(value: Any, fragment: str) -> None:
    found = only({"winkube_kubernetes_version": value}, "input.winkube_kubernetes_version")
    assert fragment in found.problem
    assert "1.36.4" in found.fix


# --------------------------------------------------------------------------------------------
# containerd


@pytest.mark.parametrize(
    ("kubernetes", "containerd", "rule"),
    [
        ("1.36.4", "1.3.10", "containerd.windows_minimum"),
        ("1.24.0", "1.3.10", "containerd.windows_minimum"),
        ("1.35.0", "1.7.20", "containerd.kubernetes_support"),
        ("1.36.4", "2.1.5", "containerd.kubernetes_support"),
        ("1.34.0", "1.6.38", "containerd.kubernetes_support"),
        ("1.36.4", "2.4.0", "containerd.kubernetes_support"),
        ("1.36.4", "2.2.0", None),
        ("1.35.0", "1.7.28", None),
        ("1.34.0", "1.6.39", None),
    ],
)
def test_containerd_support(kubernetes: str, containerd: str, rule: Optional[str]) -> None:
    inputs = {"winkube_kubernetes_version": kubernetes, "containerd_version": containerd}
    if rule is None:
        assert plan(inputs)["containerd"]["version"] == containerd
    else:
        only(inputs, rule)


def test_containerd_message_shows_the_minimums_and_the_newest_accepted() -> None:
    found = only(
        {"winkube_kubernetes_version": "1.35.2", "containerd_version": "1.7.20"}, "containerd.kubernetes_support"
    )
    assert "containerd 1.7.20 is older than 1.7.28" in found.problem
    assert "2.2 from 2.2.0, 2.1 from 2.1.5, 1.7 from 1.7.28" in found.fix
    assert "the newest known accepted release is 2.2.3" in found.fix


def test_containerd_older_than_1_4_is_never_supported() -> None:
    found = only({"containerd_version": "1.3.10"}, "containerd.windows_minimum")
    assert "older than 1.4.0, which is never supported on Windows" in found.problem


@pytest.mark.parametrize("value", ["1.7", "2.x", 2.3, "2.3.5-rc.1"])
def test_bad_containerd_version(value: Any) -> None:
    assert "2.3.5" in only({"containerd_version": value}, "input.containerd_version").fix


def test_bad_containerd_base_url() -> None:
    found = only({"containerd_download_base_url": "ftp://mirror.example"}, "input.containerd_download_base_url")
    assert "https://github.com/containerd/containerd/releases/download" in found.fix


def test_containerd_whose_matcher_is_not_modelled_leaves_the_pause_image_partly_checked() -> None:
    resolved = plan({"winkube_kubernetes_version": "1.34.0", "containerd_version": "1.6.39"})
    assert resolved["pause_image_checked"] is False
    assert resolved["pause_image_variants"] == ["ltsc2022"]
    assert "not modelled" in resolved["pause_image_check"]


@pytest.mark.parametrize(
    ("containerd", "kubernetes", "today", "fragment"),
    [
        ("2.2.3", "1.35.2", TODAY, "containerd 2.2 reached its end of life on 2026-11-06"),
        ("2.2.3", "1.35.2", date(2026, 9, 1), "containerd 2.2 reaches its end of life on 2026-11-06"),
        ("1.7.28", "1.35.2", TODAY, "containerd 1.7 reached its end of life on 2026-09"),
        ("1.7.28", "1.35.2", date(2026, 9, 30), "containerd 1.7 reaches its end of life on 2026-09"),
    ],
)
def test_containerd_lifecycle_warnings(containerd: str, kubernetes: str, today: date, fragment: str) -> None:
    resolved = plan({"winkube_kubernetes_version": kubernetes, "containerd_version": containerd}, today=today)
    assert any(fragment in w for w in resolved["warnings"]), resolved["warnings"]


def test_containerd_lifecycle_warning_without_a_supported_alternative() -> None:
    # Every line Kubernetes 1.35 accepts (2.2, 2.1, 1.7) has reached its end of life by 2026-12-01.
    [warning] = plan({"winkube_kubernetes_version": "1.35.2", "containerd_version": "1.7.28"})["warnings"]
    assert warning.endswith("(CD RELEASES.md HEAD (release lifecycle table))")


def test_no_lifecycle_warning_far_from_the_end() -> None:
    resolved = plan({"winkube_kubernetes_version": "1.35.2"}, today=date(2026, 1, 1))
    assert resolved["warnings"] == []


# --------------------------------------------------------------------------------------------
# Mirantis Container Runtime


def test_mcr_plan() -> None:
    resolved = plan({**MCR_OK, "mcr_version": "25.0.14", "cri_dockerd_version": "v0.3.16"}, WS2022)
    assert (resolved["runtime"], resolved["runtime_version"], resolved["containerd"]) == ("mcr", "25.0.14", None)
    assert resolved["cri_endpoint"] == "npipe:////./pipe/cri-dockerd"
    block = resolved["mcr"]
    assert (block["channel"], block["installer_url"]) == ("stable", "https://get.mirantis.com/install.ps1")
    assert block["installer_sha256"] == SHA
    cri = block["cri_dockerd"]
    assert cri["version"] == "0.3.16"
    assert (
        cri["url"]
        == "https://github.com/Mirantis/cri-dockerd/releases/download/v0.3.16/cri-dockerd-0.3.16.win.amd64.zip"
    )
    assert (cri["sha256"], cri["exe_in_zip"]) == (SHA, "cri-dockerd/cri-dockerd.exe")
    # Docker's own manifest matcher is not modelled: Microsoft's rule passed, the pull is the rest of the check.
    assert resolved["pause_image_checked"] is False
    assert resolved["pause_image_variants"] == ["ltsc2022"]
    assert "Mirantis Container Runtime engine's manifest matcher is not modelled" in resolved["pause_image_check"]


def test_mcr_defaults() -> None:
    block = plan(MCR_OK)["mcr"]
    assert (block["version"], block["channel"], block["cri_dockerd"]["version"]) == (None, "stable", "0.4.3")
    assert plan(MCR_OK)["runtime_version"] is None


def test_missing_cri_dockerd_sha256_is_refused() -> None:
    found = only({**MCR_OK, "cri_dockerd_sha256": None}, "checksum.cri_dockerd_sha256")
    assert "cri-dockerd 0.4.3's cri-dockerd-0.4.3.win.amd64.zip publishes no checksum" in found.problem
    assert "every download needs a checksum" in found.fix


def test_missing_mcr_installer_sha256_is_refused() -> None:
    found = only({**MCR_OK, "mcr_installer_sha256": None}, "checksum.mcr_installer_sha256")
    assert "https://get.mirantis.com/install.ps1 publishes no checksum" in found.problem


@pytest.mark.parametrize("value", ["abc", "g" * 64, 123, "sha256:" + SHA])
def test_bad_cri_dockerd_sha256(value: Any) -> None:
    only({**MCR_OK, "cri_dockerd_sha256": value}, "input.cri_dockerd_sha256")


def test_sha256_is_normalised_to_lower_case() -> None:
    assert plan({**MCR_OK, "cri_dockerd_sha256": SHA.upper()})["mcr"]["cri_dockerd"]["sha256"] == SHA


@pytest.mark.parametrize(
    "channel", ["stable", "test", "stable-25.0", "stable-25.0.14", "stable/fips", "stable-29.2.1/fips"]
)
def test_mcr_channels(channel: str) -> None:
    assert plan({**MCR_OK, "mcr_channel": channel})["mcr"]["channel"] == channel


@pytest.mark.parametrize("channel", ["latest", "Stable", "stable-25", "", 25])
def test_bad_mcr_channel(channel: Any) -> None:
    assert "stable-<major.minor>" in only({**MCR_OK, "mcr_channel": channel}, "input.mcr_channel").fix


@pytest.mark.parametrize(("name", "value"), [("cri_dockerd_version", "0.4"), ("mcr_version", "25.0")])
def test_bad_mcr_versions(name: str, value: str) -> None:
    only({**MCR_OK, name: value}, f"input.{name}")


def test_mcr_on_ws2019_with_kubernetes_1_34() -> None:
    resolved = plan({**MCR_OK, "winkube_kubernetes_version": "1.34.3"}, WS2019)
    assert resolved["pause_image_variants"] == ["1809"]


@pytest.mark.parametrize("runtime", ["docker", "Containerd", "", 1])
def test_unknown_runtime(runtime: Any) -> None:
    found = only({"winkube_container_runtime": runtime}, "input.winkube_container_runtime")
    assert "containerd (the default) or mcr" in found.fix


# --------------------------------------------------------------------------------------------
# Pause image


def test_upstream_profile() -> None:
    resolved = plan({"winkube_pause_image_profile": "upstream"})
    assert (resolved["pause_image"], resolved["pause_image_checked"]) == ("registry.k8s.io/pause:3.6", True)


@pytest.mark.parametrize("profile", ["signed", "Production", 3])
def test_unknown_pause_profile(profile: Any) -> None:
    only({"winkube_pause_image_profile": profile}, "input.winkube_pause_image_profile")


def test_known_override_is_checked() -> None:
    resolved = plan({"winkube_pause_image": "registry.k8s.io/pause:3.9"}, WS2025)
    assert (resolved["pause_image"], resolved["pause_image_source"]) == ("registry.k8s.io/pause:3.9", "override")
    assert resolved["pause_image_checked"] is True
    assert resolved["pause_image_variants"] == ["ltsc2022"]


@pytest.mark.parametrize(
    ("image", "fragment"),
    [
        ("registry.example:5000/pause:3.6", "no Windows variant data for registry.example:5000/pause:3.6"),
        ("registry.k8s.io/pause@sha256:" + "0" * 64, "pinned by digest"),
        ("registry.k8s.io/pause", "has no tag"),
        ("mcr.microsoft.com/oss/kubernetes/pause:3.6-hotfix.20220114", "no Windows variant data"),
    ],
)
def test_override_with_unknown_variants_is_not_guessed(image: str, fragment: str) -> None:
    resolved = plan({"winkube_pause_image": image})
    assert (resolved["pause_image"], resolved["pause_image_source"]) == (image, "override")
    assert resolved["pause_image_checked"] is False
    assert fragment in resolved["pause_image_check"]
    assert "the runtime's pull of the image is the check" in resolved["pause_image_check"]
    assert resolved["pause_image_variants"] == []


def test_production_override_outside_microsoft_is_warned_about() -> None:
    [warning] = plan({"winkube_pause_image": "registry.k8s.io/pause:3.9"})["warnings"]
    assert "not from Microsoft's signed location (mcr.microsoft.com/oss/kubernetes/pause)" in warning
    assert plan({"winkube_pause_image": "mcr.microsoft.com/oss/kubernetes/pause:3.9"})["warnings"] == []
    upstream = {"winkube_pause_image_profile": "upstream", "winkube_pause_image": "registry.k8s.io/pause:3.9"}
    assert plan(upstream)["warnings"] == []


def test_pause_image_without_a_variant_for_the_host_is_refused() -> None:
    found = only({"winkube_pause_image": "registry.k8s.io/pause:3.4"}, "pause.image")
    assert "pause image registry.k8s.io/pause:3.4 has no Windows variant that Windows Server 2022" in found.problem
    assert "variants 1809, 1903, 1909, 2004" in found.problem
    assert "closest: 2004:" in found.problem
    assert "registry.k8s.io/pause:3.6" in found.fix
    assert "mcr.microsoft.com/oss/kubernetes/pause:3.6" in found.fix
    assert "registry.k8s.io/pause:3.4," not in found.fix


def test_partial_variant_list_does_not_prove_a_miss() -> None:
    # 3.10.2 is only known to add ltsc2025; whether ltsc2022 is still in it is UNCONFIRMED.
    resolved = plan({"winkube_pause_image": "registry.k8s.io/pause:3.10.2"}, WS2022)
    assert resolved["pause_image_checked"] is False
    assert "variant list is incomplete" in resolved["pause_image_check"]
    ws2025 = plan({"winkube_pause_image": "registry.k8s.io/pause:3.10.2"}, WS2025)
    assert (ws2025["pause_image_checked"], ws2025["pause_image_variants"]) == (True, ["ltsc2025"])


@pytest.mark.parametrize("image", ["", "   ", "registry.k8s.io/pause 3.6", 3.6])
def test_bad_pause_override(image: Any) -> None:
    only({"winkube_pause_image": image}, "input.winkube_pause_image")


# --------------------------------------------------------------------------------------------
# Workload images


@pytest.mark.parametrize(
    ("build", "os_version", "ok"),
    [
        (WS2022, "ltsc2019", False),
        (WS2022, "10.0.17763.5830", False),
        (WS2022, "ltsc2022", True),
        (WS2022, "10.0.20348.2527", True),
        (WS2025, "10.0.20348.2527", True),
        (WS2025, "ltsc2025", True),
        (WS2022, "ltsc2025", False),
    ],
)
def test_workload_images(build: int, os_version: str, ok: bool) -> None:
    inputs = {"preflight_workload_images": [{"image": "registry.example/shop/web:2.1", "os_version": os_version}]}
    if ok:
        [checked] = plan(inputs, build)["workload_images"]
        assert checked["checked"] is True
        assert checked["os_version"] == os_version
    else:
        found = only(inputs, "workload.image", build)
        assert f"workload image registry.example/shop/web:2.1 (os.version {os_version}) cannot run" in found.problem


def test_ltsc2019_workload_on_ws2022_says_what_would_work() -> None:
    inputs = {"preflight_workload_images": [{"image": "shop/web:2.1", "os_version": "ltsc2019"}]}
    found = only(inputs, "workload.image")
    assert "process isolation needs the same build" in found.problem
    assert "use a build of shop/web:2.1 for ltsc2022 (os.version 10.0.20348)" in found.fix


def test_every_refused_workload_image_is_reported() -> None:
    images = [
        {"image": "a", "os_version": "ltsc2019"},
        {"image": "b", "os_version": "ltsc2022"},
        {"image": "c", "os_version": "ltsc2025"},
    ]
    found = violations({"preflight_workload_images": images})
    assert [(v.rule, v.problem.split(" (")[0]) for v in found] == [
        ("workload.image", "workload image a"),
        ("workload.image", "workload image c"),
    ]


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("shop/web:2.1", "preflight_workload_images is a str"),
        (["shop/web:2.1"], "preflight_workload_images[0] is a str"),
        ([{"os_version": "ltsc2022"}], "preflight_workload_images[0].image None is missing"),
        ([{"image": "a", "os_version": "ltsc2022", "isolation": "hyperv"}], "unknown keys ['isolation']"),
        ([{"image": "a", "os_version": "ltsc2030"}], "is not a Windows version"),
        ([{"image": "a"}], "os_version is missing"),
        ([{"image": "a", "os_version": "10.0.25398.1"}], "23H2 publishes no container images"),
    ],
)
def test_bad_workload_images(value: Any, fragment: str) -> None:
    assert fragment in only({"preflight_workload_images": value}, "input.preflight_workload_images").problem


def test_ws2016_workload_needs_revisions() -> None:
    # Reported together with the host's own problems; the revision rule is Microsoft's, not a guess.
    found = violations({"preflight_workload_images": [{"image": "old", "os_version": "ltsc2016"}]}, WS2016)
    [workload] = [v for v in found if v.rule == "workload.image"]
    assert "needs the revision of host and image to match" in workload.problem


# --------------------------------------------------------------------------------------------
# Version skew


@pytest.mark.parametrize(
    ("kubernetes", "apiserver", "expected"),
    [
        ("1.36.4", "1.32", ["skew.kubelet", "skew.kubeadm", "skew.kube-proxy"]),
        ("1.36.4", "1.35.1", ["skew.kubelet", "skew.kube-proxy"]),  # kubeadm may be one minor newer
        ("1.35.2", "1.36", ["skew.kubeadm"]),  # kubeadm must not be older; kubelet one older is fine
        ("1.33.0", "1.36", ["skew.kubeadm"]),  # kubelet three older is fine
        ("1.32.0", "1.36", ["skew.kubelet", "skew.kubeadm", "skew.kube-proxy"]),
        ("1.36.4", "1.36.0", []),
        ("1.36.4", "v1.36", []),
    ],
)
def test_skew(kubernetes: str, apiserver: str, expected: List[str]) -> None:
    inputs = {"winkube_kubernetes_version": kubernetes, "winkube_apiserver_version": apiserver}
    if expected:
        assert rules(inputs) == expected
    else:
        assert plan(inputs)["apiserver_version"] == apiserver.lstrip("v")


def test_skew_message_says_which_version_works() -> None:
    found = violations({"winkube_apiserver_version": "1.32"})
    assert "kubelet 1.36 is newer than kube-apiserver 1.32" in found[0].problem
    assert all("set winkube_kubernetes_version to 1.32.z" in v.fix for v in found)


def test_skew_against_an_api_server_outside_the_knowledge_base() -> None:
    found = violations({"winkube_apiserver_version": "1.20"})
    assert "no Kubernetes version the knowledge base covers (1.24 to 1.36)" in found[0].fix


@pytest.mark.parametrize("value", ["1.x", 1.36, "latest"])
def test_bad_apiserver_version(value: Any) -> None:
    only({"winkube_apiserver_version": value}, "input.winkube_apiserver_version")


# --------------------------------------------------------------------------------------------
# Registry mirrors, proxy, service environment


def test_registry_mirrors() -> None:
    mirrors = {
        "docker.io": ["https://mirror.example", "http://10.0.0.5:5000"],
        "registry.k8s.io": ["https://m2.example/"],
    }
    assert plan({"winkube_registry_mirrors": mirrors})["registry_mirrors"] == mirrors


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        (["https://mirror.example"], "is a list, not a mapping"),
        ({"https://docker.io": ["https://mirror.example"]}, "is not a registry host name"),
        ({"docker.io": "https://mirror.example"}, "not a non-empty list"),
        ({"docker.io": []}, "not a non-empty list"),
        ({"docker.io": ["ftp://mirror.example"]}, "are not http:// or https:// URLs"),
        ({"docker.io": ["https://"]}, "are not http:// or https:// URLs"),
        ({"docker.io": ["https://mirror.example:99999"]}, "are not http:// or https:// URLs"),
    ],
)
def test_bad_registry_mirrors(value: Any, fragment: str) -> None:
    assert fragment in only({"winkube_registry_mirrors": value}, "input.winkube_registry_mirrors").problem


def test_proxy_environment_adds_the_cluster_internal_defaults() -> None:
    resolved = plan(
        {
            "winkube_proxy": {
                "http_proxy": "http://proxy.example:3128",
                "https_proxy": "http://proxy.example:3128",
                "no_proxy": "corp.example,.internal,",
            },
            "winkube_service_cidr": "10.96.0.0/12",
            "winkube_pod_cidr": ["10.244.0.0/16", "fd00:10:244::/56"],
        }
    )
    assert resolved["service_environment"] == [
        "HTTP_PROXY=http://proxy.example:3128",
        "HTTPS_PROXY=http://proxy.example:3128",
        "NO_PROXY=corp.example,.internal,localhost,127.0.0.1,10.96.0.0/12,10.244.0.0/16,fd00:10:244::/56,"
        ".svc,.cluster.local",
    ]


def test_no_proxy_list_and_duplicates() -> None:
    resolved = plan({"winkube_proxy": {"https_proxy": "http://p.example:8080", "no_proxy": ["localhost", ".svc"]}})
    assert resolved["service_environment"] == [
        "HTTPS_PROXY=http://p.example:8080",
        "NO_PROXY=localhost,.svc,127.0.0.1,.cluster.local",
    ]


def test_no_proxy_without_a_proxy_is_a_warning() -> None:
    resolved = plan({"winkube_proxy": {"no_proxy": ".corp.example"}})
    assert resolved["service_environment"] == []
    assert any("no_proxy is set without http_proxy or https_proxy" in w for w in resolved["warnings"])


def test_proxy_credentials_reach_the_service_but_never_a_message() -> None:
    proxy = {"http_proxy": "http://alice:s3cr@t@proxy.example:3128", "https_proxy": "alice:s3cr@t@proxy.example:3128"}
    found = violations({"winkube_proxy": {**proxy, "no_proxy": 5}})
    text = failure_message("win-node-1", found)
    assert "s3cr" not in text and "alice" not in text
    assert "winkube_proxy.https_proxy '***@proxy.example:3128' is not a proxy URL" in text
    assert [v.rule for v in found] == ["input.winkube_proxy", "input.winkube_proxy"]
    inputs = {"winkube_proxy": {"http_proxy": proxy["http_proxy"]}}
    # The plan is shown in task output: masked. The services get the real value.
    assert plan(inputs)["service_environment"][0] == "HTTP_PROXY=http://***@proxy.example:3128"
    assert service_environment(inputs)[0] == "HTTP_PROXY=http://alice:s3cr@t@proxy.example:3128"
    with pytest.raises(PlanError) as refused:
        service_environment({"winkube_proxy": {**proxy, "no_proxy": 5}})
    assert "s3cr" not in failure_message("h", refused.value.violations)


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("http://proxy.example:3128", "winkube_proxy is a str, not a mapping"),
        ({"HTTP_PROXY": "http://proxy.example:3128"}, "unknown keys ['HTTP_PROXY']"),
        ({"http_proxy": "proxy.example:3128"}, "is not a proxy URL"),
        ({"http_proxy": "ftp://proxy.example"}, "is not a proxy URL"),
        ({"https_proxy": "http://proxy.example", "no_proxy": ["a", ""]}, "empty or blank entries"),
        ({"https_proxy": "http://proxy.example", "no_proxy": {"a": 1}}, "is not a string or list"),
    ],
)
def test_bad_proxy(value: Any, fragment: str) -> None:
    assert fragment in only({"winkube_proxy": value}, "input.winkube_proxy").problem


@pytest.mark.parametrize(("name", "value"), [("winkube_service_cidr", "10.96.0.0/33"), ("winkube_pod_cidr", 10)])
def test_bad_cidrs(name: str, value: Any) -> None:
    only({name: value}, f"input.{name}")


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("http://alice:pw@proxy:3128", "http://***@proxy:3128"),
        ("'http://alice:p@ss@proxy:3128/path'", "'http://***@proxy:3128/path'"),
        ("'alice:pw@proxy:3128'", "'***@proxy:3128'"),
        ("http://proxy:3128", "http://proxy:3128"),
        ("registry.k8s.io/pause@sha256:00", "registry.k8s.io/pause@sha256:00"),
    ],
)
def test_mask_credentials(text: str, masked: str) -> None:
    assert mask_credentials(text) == masked


# --------------------------------------------------------------------------------------------
# Inputs and the host fact


def test_unknown_input_is_named() -> None:
    found = only({"containerd_verison": "2.3.5"}, "input.unknown")
    assert "'containerd_verison' is not an input" in found.problem


def test_inputs_must_be_a_mapping() -> None:
    with pytest.raises(PlanError) as raised:
        resolve_plan(["winkube_kubernetes_version"], node(WS2022), today=TODAY)  # type: ignore[arg-type]
    assert raised.value.violations[0].rule == "input"


@pytest.mark.parametrize(
    ("windows_node", "fragment"),
    [
        (None, "windows_node is a NoneType"),
        ("10.0.20348", "windows_node is a str"),
        ({}, "windows_node.os_version is missing"),
        ({"os_version": "10.0.26334.1"}, "unknown Windows Server build 26334"),
        ({"os_version": "10.0.20348.1", "id": "ws2019"}, "windows_node.id 'ws2019' is build 17763"),
        ({"os_version": "10.0.20348.1", "id": ["ws2022"]}, "must be a release id string"),
        ({"os_version": "10.0.20348.1", "id": "ws2030"}, "unknown Windows release id 'ws2030'"),
    ],
)
def test_bad_windows_node(windows_node: Any, fragment: str) -> None:
    found = violations({}, windows_node=windows_node)
    assert [v.rule for v in found] == ["host.windows_node"]
    assert fragment in found[0].problem
    assert "winkube.node.windows_facts" in found[0].fix


def test_minimal_windows_node_and_sac_1809_by_id() -> None:
    assert resolve_plan({}, {"build": 20348}, today=TODAY)["host"]["revision"] is None
    found = violations(
        {"winkube_kubernetes_version": "1.34.0"}, windows_node={"os_version": "10.0.17763.1", "id": "ws1809sac"}
    )
    assert [v.rule for v in found] == ["build.kubernetes_support"]
    assert "Windows Server, version 1809 (build 17763)" in found[0].problem


# Values of the wrong kind for every input: each is a violation of that input, never a traceback.
WRONG_VALUES: Dict[str, List[Any]] = {name: [object(), 1.5, True] for name in INPUTS}


@pytest.mark.parametrize(
    ("name", "value"), [(name, value) for name, values in WRONG_VALUES.items() for value in values]
)
def test_wrong_kind_of_value_is_a_violation_of_that_input(name: str, value: Any) -> None:
    runtime = {"winkube_container_runtime": "mcr"} if name.startswith(("mcr_", "cri_dockerd_")) else {}
    inputs = {**MCR_OK, **runtime} if runtime else {}
    inputs[name] = value
    found = violations(inputs)
    assert any(v.rule in (f"input.{name}", f"checksum.{name}") for v in found), [v.line() for v in found]


# --------------------------------------------------------------------------------------------
# All violations together, and the message


def test_all_violations_are_reported_together() -> None:
    inputs = {
        "winkube_kubernetes_version": "1.36.4",
        "containerd_version": "1.3.10",
        "winkube_apiserver_version": "1.32",
        "preflight_workload_images": [{"image": "shop/web:2.1", "os_version": "ltsc2019"}],
        "winkube_registry_mirrors": {"docker.io": "https://mirror.example"},
    }
    found = violations(inputs, WS2016)
    assert [v.rule for v in found] == [
        "build.kubernetes_support",
        "containerd.windows_minimum",
        "pause.image",
        "workload.image",
        "skew.kubelet",
        "skew.kubeadm",
        "skew.kube-proxy",
        "input.winkube_registry_mirrors",
    ]
    message = failure_message("win-node-1", found)
    lines = message.splitlines()
    assert lines[0] == "winkube.node preflight failed for win-node-1:"
    assert len(lines) == 1 + len(found)
    assert all(line.startswith("- [") and "; " in line for line in lines[1:])
    assert lines[1].startswith("- [build.kubernetes_support] Windows Server 2016 (build 14393) is not")


def test_violation_record() -> None:
    violation = Violation("skew.kubelet", "kubelet is too new", "use an older one")
    assert violation.line() == "- [skew.kubelet] kubelet is too new; use an older one"
    assert violation.as_dict() == {
        "rule": "skew.kubelet",
        "problem": "kubelet is too new",
        "fix": "use an older one",
        "message": "kubelet is too new; use an older one",
    }
    error = PlanError([violation])
    assert isinstance(error, ValueError)
    assert error.violations == (violation,)


def test_today_defaults_to_the_current_date() -> None:
    assert resolve_plan({}, node(WS2022))["kubernetes_version"] == DEFAULT_KUBERNETES_VERSION


def test_module_constants_come_from_the_knowledge_base() -> None:
    assert plan_module.DEFAULT_CRI_DOCKERD_VERSION == "0.4.3"
    assert set(plan_module.CRI_ENDPOINTS) == set(plan_module.RUNTIMES)
