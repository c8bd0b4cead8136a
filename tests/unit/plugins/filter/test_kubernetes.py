# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The kubernetes role's filters: names, doc sidecars, plain results, AnsibleFilterError."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.winkube.node.plugins.filter.kubernetes import FilterModule

from ..module_utils.test_kubelet import DIGEST, PLAN

FILTERS = FilterModule().filters()
REPO_ROOT = Path(__file__).resolve().parents[4]


def call(name: str, *args: Any, **kwargs: Any) -> Any:
    return FILTERS[name](*args, **kwargs)


def test_filter_names() -> None:
    assert set(FILTERS) == {
        "kubernetes_artifacts",
        "kubernetes_artifact_checksums",
        "kubelet_service_command",
        "kube_proxy_service_command",
    }


def test_artifacts_and_checksums_are_plain_data() -> None:
    artifacts = call("kubernetes_artifacts", PLAN, False, True)
    assert [a["name"] for a in artifacts] == ["kubelet.exe", "kubeadm.exe", "kube-log-runner.exe", "kubectl.exe"]
    files = {a["checksum_url"]: DIGEST + "\n" for a in artifacts}
    verified = call("kubernetes_artifact_checksums", artifacts, files)
    assert {a["sha256"] for a in verified} == {DIGEST}
    assert all(a.__class__ is dict and set(a) == {"name", "url", "checksum_url", "sha256"} for a in verified)


def test_kubelet_service_command_takes_a_missing_flags_file_as_none() -> None:
    assert call("kubelet_service_command", PLAN, None) == call("kubelet_service_command", PLAN, "")


@pytest.mark.parametrize(
    ("name", "args", "fragment"),
    [
        ("kubernetes_artifacts", (PLAN, "yes"), "winkube.node.kubernetes_artifacts: kube_proxy and kubectl must be"),
        ("kubernetes_artifact_checksums", ("x", {}), "winkube.node.kubernetes_artifact_checksums: the artifacts must"),
        ("kubernetes_artifact_checksums", ([], "x"), "the checksum files must be a mapping"),
        ("kubelet_service_command", (PLAN, "", None, 5), "winkube.node.kubelet_service_command: log_file must be"),
        ("kubelet_service_command", (PLAN, "", "--v=2"), "must be a mapping or a list"),
        ("kube_proxy_service_command", (PLAN, "relative.conf"), "winkube.node.kube_proxy_service_command: the kube"),
    ],
)
def test_errors_name_the_filter(name: str, args: tuple, fragment: str) -> None:
    with pytest.raises(AnsibleFilterError) as info:
        call(name, *args)
    assert fragment in str(info.value)
