# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pause image a runtime is configured with (plugins/plugin_utils/pause_config.py) and its filter."""

from __future__ import annotations

import pytest
from ansible_collections.winkube.node.plugins.filter.node import configured_pause_image
from ansible_collections.winkube.node.plugins.module_utils import containerd_config
from ansible_collections.winkube.node.plugins.plugin_utils.pause_config import (
    containerd_sandbox_image,
    cri_dockerd_pause_image,
)

PINNED = "mcr.microsoft.com/oss/kubernetes/pause:3.6@sha256:" + "a" * 64


def rendered(containerd_version: str) -> str:
    """A config.toml as the containerd role writes it for that release."""
    plan = {
        "containerd": {
            "version": containerd_version,
            "config_schema": {"write": 3 if containerd_version.startswith("2.") else 2},
            "root": "C:\\ProgramData\\containerd\\root",
            "state": "C:\\ProgramData\\containerd\\state",
            "pipe": "npipe:////./pipe/containerd-containerd",
            "cni_bin_dir": "C:\\opt\\cni\\bin",
            "cni_conf_dir": "C:\\etc\\cni\\net.d",
        },
        "pause_image": PINNED,
    }
    return containerd_config.render_config(containerd_config.settings_from_plan(plan))


@pytest.mark.parametrize("version", ["1.7.27", "2.0.5", "2.1.5", "2.3.5"])
def test_the_image_the_role_writes_is_the_image_read_back(version: str) -> None:
    assert containerd_sandbox_image(rendered(version)) == PINNED


def test_hand_written_files_of_each_schema() -> None:
    v2 = 'version = 2\n[plugins."io.containerd.grpc.v1.cri"]\n  sandbox_image = "registry.k8s.io/pause:3.6"\n'
    v3 = "version = 3\n[plugins.'io.containerd.cri.v1.images'.pinned_images]\nsandbox = 'registry.k8s.io/pause:3.9'\n"
    v1 = '[plugins.cri]\n[plugins."io.containerd.grpc.v1.cri"]\nsandbox_image = "example.com/pause:1"\n'
    assert containerd_sandbox_image(v2) == "registry.k8s.io/pause:3.6"
    assert containerd_sandbox_image(v3) == "registry.k8s.io/pause:3.9"
    assert containerd_sandbox_image(v1) == "example.com/pause:1"
    # A commented-out line is not a setting (the regex this replaces could not tell).
    assert containerd_sandbox_image('version = 2\n# sandbox_image = "x/pause:1"\n') is None
    # The schema-2 key in a schema-3 file is not what containerd 2.x reads.
    assert containerd_sandbox_image('version = 3\n[plugins."io.containerd.grpc.v1.cri"]\nsandbox_image = "a"\n') is None
    assert containerd_sandbox_image("") is None and containerd_sandbox_image(None) is None


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("version = 2\nsandbox_image = \n", "is not valid TOML"),
        ("version = 4\n", "version = 4; this collection reads versions 1, 2 and 3"),
        ('version = 2\n[plugins."io.containerd.grpc.v1.cri"]\nsandbox_image = 3\n', "to a int, not a string"),
        (b"version = 2", "must be text, got bytes"),
    ],
)
def test_a_file_that_cannot_be_read_says_why(text: object, problem: str) -> None:
    with pytest.raises(ValueError, match=r"config\.toml") as err:
        containerd_sandbox_image(text)
    assert problem in str(err.value)


def test_cri_dockerd_arguments() -> None:
    base = "--container-runtime-endpoint npipe:////./pipe/cri-dockerd --network-plugin cni"
    assert cri_dockerd_pause_image(base) is None
    assert cri_dockerd_pause_image(base + " --pod-infra-container-image=" + PINNED) == PINNED
    assert cri_dockerd_pause_image("--pod-infra-container-image " + PINNED + " --x") == PINNED
    assert cri_dockerd_pause_image('--pod-infra-container-image "a/p:1" --pod-infra-container-image=b/p:2') == "b/p:2"
    assert cri_dockerd_pause_image("--no-pod-infra-container-image=a/p:1") is None
    assert cri_dockerd_pause_image("") is None
    with pytest.raises(ValueError, match="must be text"):
        cri_dockerd_pause_image(["--pod-infra-container-image=a"])


def test_the_filter_reports_a_problem_instead_of_failing_preflight() -> None:
    assert configured_pause_image(rendered("2.3.5")) == {"image": PINNED, "problem": None}
    assert configured_pause_image("", "--pod-infra-container-image=a/p:1") == {"image": "a/p:1", "problem": None}
    assert configured_pause_image("", "") == {"image": None, "problem": None}
    broken = configured_pause_image("version = [", "")
    assert broken["image"] is None and "not valid TOML" in broken["problem"]
