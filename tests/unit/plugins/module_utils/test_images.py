# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

from typing import Any, Dict, List, Optional

import pytest
from ansible_collections.winkube.node.plugins.module_utils.images import (
    containerd_accepts,
    image_compatible,
    matcher_profile,
    rank_manifests,
    select_manifest,
)
from ansible_collections.winkube.node.plugins.module_utils.versions import Version, parse_version


def v(text: str) -> Version:
    return parse_version(text)


# --------------------------------------------------------------------------------------------
# Microsoft's rules


@pytest.mark.parametrize(
    ("host", "image", "isolation", "compatible"),
    [
        # From the issue.
        ("10.0.20348.2527", "ltsc2019", "process", False),  # WS2022 host, ltsc2019 image
        ("10.0.26100.1742", "10.0.20348.2527", "process", True),  # WS2025 host, ltsc2022 image
        ("10.0.17763.6414", "ltsc2022", "process", False),  # WS2019 cannot run ltsc2022 ...
        ("10.0.17763.6414", "ltsc2022", "hyperv", False),  # ... in any isolation
        ("10.0.25398.1", "ltsc2022", "process", True),  # 23H2 runs ltsc2022
        # Same build.
        (20348, "ltsc2022", "process", True),
        (26100, "ltsc2025", "process", True),
        ("10.0.17763.100", "10.0.17763.6414", "process", True),  # revision need not match from 1809 on
        (19042, "20H2", "process", True),
        # Older images.
        (26100, "ltsc2019", "process", False),
        (26100, "ltsc2019", "hyperv", True),
        (26100, "ltsc2016", "hyperv", True),
        (20348, "ltsc2019", "hyperv", True),
        (17763, "ltsc2016", "hyperv", True),
        (17763, "ltsc2016", "process", False),
        (19042, "1809", "process", False),  # SAC host N, older image
        (19042, "1903", "hyperv", True),
        # Newer images never run.
        (20348, "ltsc2025", "process", False),
        (20348, "ltsc2025", "hyperv", False),
        (14393, "1809", "hyperv", False),
        (25398, "ltsc2025", "process", False),
        # HostProcess containers ignore the image version.
        (17763, "ltsc2025", "hostprocess", True),
    ],
)
def test_image_compatible(host: object, image: object, isolation: str, compatible: bool) -> None:
    result = image_compatible(host, image, isolation)
    assert result.compatible is compatible
    assert result.reason


@pytest.mark.parametrize(
    ("host", "image", "compatible"),
    [
        ("10.0.14393.1066", "10.0.14393.1066", True),
        ("10.0.14393.1066", "10.0.14393.2000", False),
    ],
)
def test_ws2016_revision_rule(host: str, image: str, compatible: bool) -> None:
    result = image_compatible(host, image, "process")
    assert result.compatible is compatible
    assert "Windows Server 2016" in result.reason


def test_ws2016_revision_rule_needs_both_revisions() -> None:
    with pytest.raises(ValueError, match="Windows Server 2016 process isolation needs the revision"):
        image_compatible("10.0.14393.1066", "ltsc2016", "process")
    with pytest.raises(ValueError, match="needs the revision"):
        image_compatible(14393, "10.0.14393.1066", "process")
    # Hyper-V isolation does not need matching revisions.
    assert image_compatible("10.0.14393.1066", "10.0.14393.2000", "hyperv").compatible is True


def test_hyperv_reason_mentions_kubernetes_does_not_support_it() -> None:
    assert "Kubernetes does not support Hyper-V" in image_compatible(20348, "ltsc2019", "hyperv").reason


def test_hyperv_on_23h2_is_not_claimed() -> None:
    result = image_compatible(25398, "ltsc2022", "hyperv")
    assert result.compatible is False
    assert "not documented" in result.reason


def test_reason_names_the_rule_source() -> None:
    assert "version-compatibility.md" in image_compatible(20348, "ltsc2019").reason
    assert "portability.md" in image_compatible(25398, "ltsc2022").reason


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        ((20348, "ltsc2022", "kata"), "unknown isolation 'kata'; accepted: process, hyperv, hostprocess"),
        ((22621, "ltsc2022"), "unknown Windows Server build 22621"),
        ((20348, "10.0.25398.1"), "23H2 publishes no container images"),
        ((None, "ltsc2022"), "host version is missing"),
        ((20348, ""), "image os.version is empty"),
    ],
)
def test_image_compatible_bad_input(args: tuple, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        image_compatible(*args)


def test_image_compatible_with_containerd() -> None:
    ok = image_compatible(26100, "ltsc2022", "process", v("2.2.3"))
    assert ok.compatible is True
    assert "containerd 2.2.3" in ok.reason
    assert image_compatible(26100, "ltsc2022", "process", v("1.7.28")).compatible is True
    # A rule Windows already refuses stays refused.
    assert image_compatible(20348, "ltsc2019", "process", v("2.2.3")).compatible is False
    with pytest.raises(ValueError, match="only evaluated for process isolation"):
        image_compatible(20348, "ltsc2019", "hyperv", v("2.2.3"))
    with pytest.raises(ValueError, match=r"matcher of containerd 1\.6\.39 is not modelled"):
        image_compatible(20348, "ltsc2022", "process", v("1.6.39"))
    assert image_compatible(17763, "ltsc2025", "hostprocess", v("1.5.18")).compatible is False


# --------------------------------------------------------------------------------------------
# containerd's platforms matcher


@pytest.mark.parametrize(
    ("containerd", "platforms_version"),
    [
        ("1.7.28", "v0.2.1"),
        ("2.0.6", "v1.0.0-rc.1"),
        ("2.1.5", "v1.0.0-rc.2"),
        ("2.2.3", "v1.0.0-rc.2"),
        ("2.3.0", "v1.0.0-rc.4"),
        ("2.3.4", "v1.0.0-rc.4"),
        ("2.3.5", "v1.0.0-rc.5"),
        ("2.4.0", "v1.0.0-rc.5"),
    ],
)
def test_matcher_profile(containerd: str, platforms_version: str) -> None:
    assert matcher_profile(v(containerd)).platforms_version == platforms_version


@pytest.mark.parametrize("containerd", ["1.6.39", "2.5.0", "3.0.0"])
def test_matcher_profile_unknown(containerd: str) -> None:
    with pytest.raises(ValueError, match="is not modelled"):
        matcher_profile(v(containerd))


def test_matcher_profile_2_3_needs_patch() -> None:
    with pytest.raises(ValueError, match=r"2\.3\.5 changed the Windows matcher"):
        matcher_profile(v("2.3"))


ALL = ["1.7.28", "2.0.6", "2.1.5", "2.2.3", "2.3.4", "2.3.5"]


@pytest.mark.parametrize("containerd", ALL)
@pytest.mark.parametrize(
    ("host", "image", "expected"),
    [
        (17763, 17763, True),
        (17763, 14393, False),  # below 20348 only the exact build
        (20348, 20348, True),
        (20348, 17763, False),
        (20348, 26100, False),
        (25398, 20348, True),  # 23H2
        (26100, 20348, True),  # WS2025 accepts ltsc2022 with every modelled containerd
        (26100, 26100, True),
        (26100, 17763, False),
    ],
)
def test_containerd_accepts_known_hosts(containerd: str, host: int, image: int, expected: bool) -> None:
    assert containerd_accepts(host, (10, 0, image), matcher_profile(v(containerd))) is expected


@pytest.mark.parametrize(
    ("containerd", "expected"),
    [
        ("1.7.28", True),  # LTSC list [20348]: floor 20348
        ("2.0.6", True),
        ("2.1.5", False),  # rc.2: floor = newest LTSC strictly below the host = 26100
        ("2.2.3", False),
        ("2.3.4", False),
        ("2.3.5", True),  # rc.5: "a 26200 host still floors at 20348"
    ],
)
def test_host_past_the_latest_ltsc(containerd: str, expected: bool) -> None:
    assert containerd_accepts(26200, (10, 0, 20348), matcher_profile(v(containerd))) is expected


def entry(os_version: Optional[str], os: str = "windows", arch: str = "amd64", **extra: Any) -> Dict[str, Any]:
    platform: Dict[str, Any] = {"os": os, "architecture": arch}
    if os_version is not None:
        platform["os.version"] = os_version
    platform.update(extra)
    return {
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": f"sha256:{os_version}",
        "platform": platform,
    }


def picked(host: object, manifests: List[Dict[str, Any]], containerd: str) -> Optional[str]:
    chosen = select_manifest(host, manifests, v(containerd))
    return None if chosen is None else chosen["platform"].get("os.version", "")


INDEX = [
    entry(None, os="linux"),
    entry("10.0.17763.6414"),
    entry("10.0.20348.2762"),
    entry("10.0.26100.2033"),
]


@pytest.mark.parametrize(
    ("containerd", "expected"),
    [
        # containerd 1.7 orders matches by revision only: the ltsc2022 entry (2762) beats the
        # ltsc2025 one (2033) on a WS2025 host.
        ("1.7.28", "10.0.20348.2762"),
        # 2.x orders by os.version string: the 26100 entry wins.
        ("2.0.6", "10.0.26100.2033"),
        ("2.1.5", "10.0.26100.2033"),
        ("2.2.3", "10.0.26100.2033"),
        ("2.3.5", "10.0.26100.2033"),
    ],
)
def test_ws2025_host_with_a_2025_aware_index(containerd: str, expected: str) -> None:
    assert picked(26100, INDEX, containerd) == expected


@pytest.mark.parametrize("containerd", ALL)
def test_ws2025_host_with_an_index_without_2025(containerd: str) -> None:
    # pause:3.10 has 1809 and ltsc2022 only: every modelled containerd falls back to ltsc2022.
    index = [entry("10.0.17763.6414"), entry("10.0.20348.2762")]
    assert picked("10.0.26100.2894", index, containerd) == "10.0.20348.2762"


@pytest.mark.parametrize("containerd", ALL)
@pytest.mark.parametrize(
    ("host", "expected"),
    [(17763, "10.0.17763.6414"), (20348, "10.0.20348.2762"), (25398, "10.0.20348.2762"), (14393, None), (19042, None)],
)
def test_other_hosts(containerd: str, host: int, expected: Optional[str]) -> None:
    assert picked(host, INDEX, containerd) == expected


@pytest.mark.parametrize(("containerd", "expected"), [("2.2.3", None), ("2.3.4", None), ("2.3.5", "10.0.20348.2762")])
def test_26200_host_with_an_index_without_2025(containerd: str, expected: Optional[str]) -> None:
    index = [entry("10.0.17763.6414"), entry("10.0.20348.2762")]
    assert picked(26200, index, containerd) == expected


def test_revision_vs_string_ordering() -> None:
    index = [entry("10.0.20348.999"), entry("10.0.20348.1000")]
    assert picked(20348, index, "1.7.28") == "10.0.20348.1000"  # numeric revision
    assert picked(20348, index, "2.2.3") == "10.0.20348.999"  # byte-wise string: "9" > "1"


def test_empty_os_version_matches_and_sorts_last() -> None:
    only_empty = [entry(None, os="linux"), entry(None)]
    for containerd in ALL:
        assert picked(14393, only_empty, containerd) == ""
    mixed = [entry(None), entry("10.0.20348.2762")]
    assert picked(20348, mixed, "2.2.3") == "10.0.20348.2762"
    assert picked(20348, mixed, "1.7.28") == "10.0.20348.2762"
    # A revision-less entry and an empty one tie under 1.7 (both revision 0): index order stays.
    tie = [entry(None), entry("10.0.20348")]
    assert picked(20348, tie, "1.7.28") == ""
    assert picked(20348, tie, "2.2.3") == "10.0.20348"


def test_ties_keep_index_order() -> None:
    first = entry("10.0.20348.2762")
    second = dict(entry("10.0.20348.2762"), digest="sha256:second")
    assert select_manifest(20348, [first, second], v("2.2.3")) is first
    assert select_manifest(20348, [first, second], v("1.7.28")) is first


def test_rank_manifests_order_and_filtering() -> None:
    index = [*INDEX, entry("10.0.26100.1", arch="arm64"), entry("garbage"), entry("10.0.20348.5", os="Windows")]
    ranked = [e["platform"]["os.version"] for e in rank_manifests(26100, index, v("2.2.3"))]
    assert ranked == ["10.0.26100.2033", "10.0.20348.5", "10.0.20348.2762"]
    ranked_17 = [e["platform"]["os.version"] for e in rank_manifests(26100, index, v("1.7.28"))]
    assert ranked_17 == ["10.0.20348.2762", "10.0.26100.2033", "10.0.20348.5"]


def test_arch_normalisation_and_variants() -> None:
    index = [entry("10.0.20348.1", arch="x86_64"), entry("10.0.20348.2", arch="amd64", variant="v3")]
    assert picked(20348, index, "2.2.3") == "10.0.20348.1"
    assert picked(20348, [entry("10.0.20348.2", arch="amd64", variant="v1")], "2.2.3") == "10.0.20348.2"


def test_host_revision_is_ignored() -> None:
    # containerd builds the host spec from major.minor.build only.
    assert picked("10.0.20348.1", INDEX, "2.2.3") == "10.0.20348.2762"


def test_win32k_feature_is_satisfied_other_features_are_not_modelled() -> None:
    assert picked(20348, [entry("10.0.20348.1", **{"os.features": ["win32k"]})], "2.3.5") == "10.0.20348.1"
    with pytest.raises(ValueError, match=r"manifest #0: os.features \['gpu'\] are not modelled"):
        select_manifest(20348, [entry("10.0.20348.1", **{"os.features": ["gpu"]})], v("2.3.5"))


def test_index_document_is_accepted() -> None:
    assert picked(20348, {"schemaVersion": 2, "manifests": INDEX}, "2.2.3") == "10.0.20348.2762"  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("manifests", "fragment"),
    [
        ("not a list", "manifests must be a list"),
        ({"schemaVersion": 2}, "manifests must be a list"),
        (["x"], "manifest #0 is a str"),
        ([{"digest": "sha256:a"}], "manifest #0 has no platform object"),
        ([{"platform": {"os": "windows"}}], "manifest #0: platform.architecture must be a string"),
        (
            [{"platform": {"os": "windows", "architecture": "amd64", "os.version": 20348}}],
            "os.version must be a string",
        ),
    ],
)
def test_select_manifest_bad_input(manifests: object, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        select_manifest(20348, manifests, v("2.2.3"))


def test_select_manifest_bad_host_and_arch() -> None:
    with pytest.raises(ValueError, match="host build is missing"):
        select_manifest(None, INDEX, v("2.2.3"))
    with pytest.raises(ValueError, match="architecture 'arm64' is not modelled"):
        select_manifest(20348, INDEX, v("2.2.3"), "arm64")
