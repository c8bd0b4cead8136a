# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The mcr filters: thin wrappers, their result keys, AnsibleFilterError naming the filter, the
plan they read, and their doc sidecars."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any, Dict

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.winkube.node.plugins.filter.mcr import FilterModule

FILTERS = FilterModule().filters()
REPO_ROOT = Path(__file__).resolve().parents[4]
DIGEST = "sha256:" + "0123456789abcdef" * 4
PLAN: Dict[str, Any] = {
    "runtime": "mcr",
    "cri_endpoint": "npipe:////./pipe/cri-dockerd",
    "pause_image": "mcr.microsoft.com/oss/kubernetes/pause:3.6",
    "mcr": {"cri_dockerd": {"cni_bin_dir": "C:\\k\\cni\\bin", "cni_conf_dir": "C:\\k\\cni\\config"}},
}


def call(name: str, *args: Any) -> Any:
    return FILTERS[name](*args)


def test_filter_names() -> None:
    assert set(FILTERS) == {"mcr_version", "mcr_installer_result", "mcr_cri_dockerd_args", "mcr_image_digest"}


def test_mcr_version() -> None:
    assert call("mcr_version", "Docker version 24.0.7, build 4a5f2c8\n") == "24.0.7"
    assert call("mcr_version", "cri-dockerd 0.4.3 (1a2b3c4d)\n", "cri-dockerd") == "0.4.3"
    with pytest.raises(AnsibleFilterError, match=r"^winkube\.node\.mcr_version: unknown tool 'docker\.exe'"):
        call("mcr_version", "x", "docker.exe")


def test_mcr_installer_result() -> None:
    assert call("mcr_installer_result", {"rc": 3010, "stdout": ""}, 3010) == {
        "state": "reboot",
        "reboot_required": True,
        "failed": False,
        "message": "the installer exited 3010: installed, a reboot completes the installation",
    }
    failed = call("mcr_installer_result", {"rc": 2, "stderr": "boom\n"})
    assert failed["failed"] is True and failed["message"].endswith(": boom")
    with pytest.raises(AnsibleFilterError, match="reboot_exit_code must be an integer"):
        call("mcr_installer_result", {"rc": 0}, "3010")


def test_mcr_cri_dockerd_args_reads_the_plan() -> None:
    args = call("mcr_cri_dockerd_args", PLAN, "npipe:////./pipe/docker_engine", ["--log-level=info"])
    assert args[0] == "--container-runtime-endpoint=npipe:////./pipe/cri-dockerd"
    assert args[2] == "--pod-infra-container-image=mcr.microsoft.com/oss/kubernetes/pause:3.6"
    assert args[-1] == "--log-level=info"
    assert (
        call("mcr_cri_dockerd_args", PLAN, "npipe:////./pipe/docker_engine")[-1] == "--cni-conf-dir=C:\\k\\cni\\config"
    )


@pytest.mark.parametrize(
    ("plan", "extra", "error"),
    [
        ({**PLAN, "runtime": "containerd"}, None, "the plan is for runtime 'containerd', not mcr"),
        ("mcr", None, "must be the winkube_plan mapping"),
        ({**PLAN, "mcr": {}}, None, "has no mcr.cri_dockerd block"),
        (PLAN, "--log-level=debug", "extra must be a list"),
        ({**PLAN, "pause_image": ""}, None, "is not an image reference"),
    ],
)
def test_mcr_cri_dockerd_args_refused(plan: Any, extra: Any, error: str) -> None:
    with pytest.raises(AnsibleFilterError, match=r"^winkube\.node\.mcr_cri_dockerd_args: .*" + error):
        call("mcr_cri_dockerd_args", copy.deepcopy(plan), "npipe:////./pipe/docker_engine", extra)


def test_mcr_image_digest() -> None:
    output = json.dumps([{"RepoDigests": [f"mcr.microsoft.com/oss/kubernetes/pause@{DIGEST}"]}])
    assert call("mcr_image_digest", output, "mcr.microsoft.com/oss/kubernetes/pause:3.6") == DIGEST
    with pytest.raises(AnsibleFilterError, match=r"^winkube\.node\.mcr_image_digest: .*no RepoDigests entry"):
        call("mcr_image_digest", output, "registry.k8s.io/pause:3.6")
