# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The patch filters: thin wrappers, AnsibleFilterError naming the filter, a doc sidecar each, and one run
through Ansible."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible.errors import AnsibleFilterError
from ansible_collections.winkube.node.plugins.filter.patch import FilterModule

FILTERS = FilterModule().filters()
REPO_ROOT = Path(__file__).resolve().parents[4]
NODE = {
    "metadata": {"name": "win2022"},
    "spec": {},
    "status": {"conditions": [{"type": "Ready", "status": "True"}]},
}
SEARCH = {"updates": {"6a1f6f1e-3e55-4b3a-9a4e-1c2d3e4f5a60": {"title": "CU (KB5041160)", "kb": ["5041160"]}}}


def call(name: str, *args: Any, **kwargs: Any) -> Any:
    return FILTERS[name](*args, **kwargs)


def test_filter_names_and_sidecars() -> None:
    assert set(FILTERS) == {"patch_actions", "patch_services", "patch_image_check", "patch_report"}
    for name in FILTERS:
        doc = yaml.safe_load((REPO_ROOT / "plugins" / "filter" / f"{name}.yml").read_text())
        assert doc["DOCUMENTATION"]["name"] == name
        assert doc["RETURN"]["_value"]["description"]


def test_errors_name_the_filter() -> None:
    assert call("patch_actions", NODE, SEARCH, "win2022")["patch"] is True
    with pytest.raises(AnsibleFilterError, match=r"^winkube\.node\.patch_actions: the cluster has no Node win2022"):
        call("patch_actions", None, SEARCH, "win2022")
    with pytest.raises(AnsibleFilterError, match=r"^winkube\.node\.patch_services: winkube_plan must be a mapping"):
        call("patch_services", None)
    with pytest.raises(AnsibleFilterError, match=r"^winkube\.node\.patch_image_check: windows_node must be"):
        call("patch_image_check", None, {})


def test_report_takes_only_a_real_boolean_for_check_mode() -> None:
    actions = call("patch_actions", NODE, SEARCH, "win2022")
    before = {"os_version": "10.0.20348.2527"}
    assert call("patch_report", before, None, SEARCH, actions, check_mode=True)["status"] == "would install"
    with pytest.raises(AnsibleFilterError, match=r"^winkube\.node\.patch_report: check_mode must be true or false"):
        call("patch_report", before, None, SEARCH, actions, check_mode="false")


def test_patch_actions_runs_through_ansible() -> None:
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO_ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    proc = subprocess.run(
        [
            str(REPO_ROOT / ".venv" / "bin" / "ansible"),
            "localhost",
            "-m",
            "ansible.builtin.debug",
            "-e",
            json.dumps({"node": NODE, "search": SEARCH}),
            "-a",
            "msg={{ (node | winkube.node.patch_actions(search, 'win2022')).reason }}",
        ],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert '"msg": "1 update(s) to install"' in proc.stdout
