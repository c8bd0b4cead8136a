# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The join and verify filters: thin wrappers, AnsibleFilterError naming the filter, a doc sidecar each,
and one run through Ansible."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.winkube.node.plugins.filter.join import FilterModule

FILTERS = FilterModule().filters()
REPO_ROOT = Path(__file__).resolve().parents[4]
TOKEN = "abcdef.0123456789abcdef"
HASH = "sha256:" + "0123456789abcdef" * 4


def call(name: str, *args: Any, **kwargs: Any) -> Any:
    return FILTERS[name](*args, **kwargs)


def test_filter_names() -> None:
    assert set(FILTERS) == {
        "join_inputs",
        "join_skew",
        "kubeadm_join_failure",
        "node_metadata_patch",
        "node_not_ready",
        "cluster_report",
    }


def test_join_inputs_reports_errors_in_the_result() -> None:
    assert call("join_inputs", "", "cp:6443", TOKEN, HASH)["token_id"] == "abcdef"
    assert call("join_inputs", None)["error"].startswith("no join input")


def test_join_skew() -> None:
    assert call("join_skew", "v1.36.4", "1.36.4")["ok"] is True
    with pytest.raises(AnsibleFilterError, match=r"^winkube\.node\.join_skew: the API server reported version 'x'"):
        call("join_skew", "x", "1.36.4")


def test_kubeadm_join_failure_masks_the_given_secrets() -> None:
    result = {"rc": 1, "stdout": "", "stderr": f"something with {TOKEN}\n"}
    assert TOKEN not in call("kubeadm_join_failure", result, [TOKEN], "win1")
    with pytest.raises(AnsibleFilterError, match="secrets must be a string or a list of strings"):
        call("kubeadm_join_failure", result, [1])


def test_node_metadata_patch_errors_name_the_filter() -> None:
    node = {"metadata": {"name": "w", "labels": {}}}
    assert call("node_metadata_patch", node, {"a": "b"}, ["k:NoSchedule"])["changed"] is True
    with pytest.raises(AnsibleFilterError, match=r"^winkube\.node\.node_metadata_patch: join_node_taints\[0\]"):
        call("node_metadata_patch", node, {}, ["k"])


def test_node_not_ready_keyword_arguments() -> None:
    msg = call("node_not_ready", None, "w", log_text="a\nb\n", log_path="C:\\l.log", timeout=5, lines=1)
    assert msg.splitlines() == [
        "Node w did not become Ready within 5 s.",
        "The API server has no Node of that name: the kubelet never registered it.",
        "Last 1 lines of the kubelet log (C:\\l.log):",
        "  b",
    ]


def test_cluster_report_wraps_errors() -> None:
    with pytest.raises(AnsibleFilterError, match=r"^winkube\.node\.cluster_report: nodes must be the list"):
        call("cluster_report", {}, "v1.36.4")


def test_cluster_report_runs_through_ansible() -> None:
    nodes = [
        {
            "metadata": {"name": "docker-desktop"},
            "status": {
                "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady"}],
                "nodeInfo": {"kubeletVersion": "v1.32.2", "kubeProxyVersion": "", "operatingSystem": "linux"},
            },
        }
    ]
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO_ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    proc = subprocess.run(
        [
            str(REPO_ROOT / ".venv" / "bin" / "ansible"),
            "localhost",
            "-m",
            "ansible.builtin.debug",
            "-e",
            json.dumps({"nodes": nodes}),
            "-a",
            "msg={{ nodes | winkube.node.cluster_report('v1.32.2') }}",
        ],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(proc.stdout.split("=>", 1)[1])["msg"]
    assert report["ok"] is True
    assert report["lines"][1].startswith("docker-desktop [linux]: OK")
