# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pre-pull decisions: the node's tag for base images, refusals by build, references, pull failures."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.winkube.node.plugins.filter.prepull import FilterModule
from ansible_collections.winkube.node.plugins.module_utils import prepull as p

WS2019, WS2022, WS2025 = "10.0.17763.6414", "10.0.20348.2527", "10.0.26100.2314"
SC = "mcr.microsoft.com/windows/servercore"
NANO = "mcr.microsoft.com/windows/nanoserver"


@pytest.mark.parametrize(
    ("host", "image", "expected"),
    [
        (WS2019, SC, SC + ":ltsc2019"),
        (WS2022, SC, SC + ":ltsc2022"),
        (WS2025, SC, SC + ":ltsc2025"),
        (WS2022, NANO, NANO + ":ltsc2022"),
        (WS2019, NANO, NANO + ":1809"),
    ],
)
def test_base_images_without_a_tag_get_the_nodes_tag(host, image, expected) -> None:
    [pull] = p.prepull_plan([image], host)
    assert pull["image"] == expected
    assert pull["tag_from"].startswith("the node's build (Windows Server 20")


def test_given_tags_digests_and_other_images_are_kept_and_duplicates_dropped() -> None:
    digest = "sha256:" + "a" * 64
    got = p.prepull_plan(
        [SC + ":ltsc2022", SC, "registry.example:5000/team/app:1.2", f"registry.example/app@{digest}"], WS2022
    )
    assert [g["image"] for g in got] == [
        SC + ":ltsc2022",
        "registry.example:5000/team/app:1.2",
        f"registry.example/app@{digest}",
    ]
    assert [g["image_build"] for g in got] == [20348, None, None]


@pytest.mark.parametrize(
    ("host", "image", "reason"),
    [
        (WS2022, SC + ":ltsc2025", "an image newer than the host never runs"),
        (WS2019, SC + ":ltsc2022", "an image newer than the host never runs"),
        (WS2022, SC + ":ltsc2019", "process isolation needs the same build"),
        (WS2022, "registry.example/app", "give a tag"),
        (WS2022, "Registry.Example/App:1", "is not an image reference"),
        (WS2022, "", "is not an image reference"),
        (WS2022, 42, "is not an image reference"),
    ],
)
def test_entries_that_cannot_run_are_refused_with_the_reason(host, image, reason) -> None:
    checked = p.prepull_check([image, NANO], host)
    assert [x["image"] for x in checked["pulls"]] == [p.prepull_plan([NANO], host)[0]["image"]]
    assert len(checked["refused"]) == 1 and reason in checked["refused"][0]
    with pytest.raises(ValueError, match=r"^refused before pulling anything: "):
        p.prepull_plan([image, NANO], host)


def test_ws2025_runs_ltsc2022_images_per_the_knowledge_base() -> None:
    assert p.prepull_plan([SC + ":ltsc2022"], WS2025, "2.3.5")[0]["image_build"] == 20348


def test_no_images_and_bad_lists() -> None:
    assert p.prepull_check(None, WS2022) == {"pulls": [], "refused": []}
    for bad in ("mcr.microsoft.com/windows/servercore", {"image": SC}):
        with pytest.raises(ValueError, match="must be a list of image references"):
            p.prepull_check(bad, WS2022)


def test_a_missing_manifest_is_named_and_other_failures_quoted() -> None:
    msg = p.pull_failure("registry.k8s.io/pause:3.10.2", "ctr: no match for platform in manifest: not found\n", WS2019)
    assert msg.startswith(
        "registry.k8s.io/pause:3.10.2 has no manifest for this node's Windows build 17763 (Windows Server 2019)"
    )
    assert "use a tag built for ltsc2019" in msg and msg.endswith(
        "(the runtime said: ctr: no match for platform in manifest: not found)"
    )
    docker = p.pull_failure(
        "x:1", "no matching manifest for windows/amd64 10.0.20348 in the manifest list entries", WS2022
    )
    assert "has no manifest for this node's Windows build 20348" in docker
    assert p.pull_failure("x:1", 'ctr: failed to resolve reference "x:1": not found', WS2022) == (
        'pulling x:1 failed: ctr: failed to resolve reference "x:1": not found'
    )


PLAN = {"host": {"os_version": WS2022}, "containerd": {"version": "2.3.5"}, "runtime": "containerd"}
FILTERS = FilterModule().filters()


def test_filters_wrap_the_knowledge_and_name_themselves_in_errors() -> None:
    assert FILTERS["prepull_images"]([SC], PLAN)["pulls"][0]["image"] == SC + ":ltsc2022"
    results = [
        {"item": {"image": SC + ":ltsc2022"}, "rc": 0},
        {"item": {"image": "y:1"}, "skipped": True},
        {
            "item": {"image": "x:1"},
            "rc": 1,
            "stderr": "ctr: no match for platform in manifest: not found",
            "stdout": "",
        },
    ]
    [message] = FILTERS["prepull_failures"](results, PLAN)
    assert message.startswith("x:1 has no manifest for this node's Windows build 20348")
    with pytest.raises(AnsibleFilterError, match=r"^winkube\.node\.prepull_images: the plan must be the winkube_plan"):
        FILTERS["prepull_images"]([SC], {})
    with pytest.raises(AnsibleFilterError, match=r"^winkube\.node\.prepull_failures: every pull result"):
        FILTERS["prepull_failures"]([{"rc": 1}], PLAN)
