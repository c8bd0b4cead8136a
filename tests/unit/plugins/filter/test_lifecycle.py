# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lifecycle filters: names, doc sidecars, AnsibleFilterError on bad input."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.winkube.node.plugins.filter.lifecycle import FilterModule
from ansible_collections.winkube.node.plugins.module_utils.node_facts import windows_node_facts
from ansible_collections.winkube.node.plugins.module_utils.plan import resolve_plan

FILTERS = FilterModule().filters()
REPO_ROOT = Path(__file__).resolve().parents[4]
PLAN = resolve_plan(
    {"winkube_kubernetes_version": "1.34.2"},
    windows_node_facts({"CurrentBuildNumber": "20348", "UBR": 2527, "InstallationType": "Server Core"}),
)
CALICO = "28893E01-AC8D-4BE6-85D4-7CD3A78611C1"
NODE = {
    "metadata": {"name": "win2022"},
    "status": {
        "nodeInfo": {"kubeletVersion": "v1.33.1", "containerRuntimeVersion": f"containerd://{PLAN['runtime_version']}"}
    },
}


def test_filter_names() -> None:
    assert set(FILTERS) == {"reset_targets", "reset_hns", "upgrade_actions"}


def test_filters_return_the_knowledge_base_results() -> None:
    assert FILTERS["reset_targets"](PLAN)["services"] == ["kubelet", "kube-proxy"]
    assert FILTERS["reset_targets"](PLAN, True)["runtime"]["service"] == "containerd"
    hns = {
        "output": [
            {"Networks": [{"ID": CALICO, "Name": "Calico", "Type": "Overlay"}], "Endpoints": [], "Unavailable": None}
        ]
    }
    assert FILTERS["reset_hns"](hns, ["calico"])["network_ids"] == [CALICO]
    actions = FILTERS["upgrade_actions"](NODE, PLAN)
    assert (actions["kubernetes"]["upgrade"], actions["runtime"]["upgrade"]) == (True, False)


@pytest.mark.parametrize(
    ("name", "args", "message"),
    [
        ("reset_targets", ({},), r"^winkube.node.reset_targets: winkube_plan.runtime is missing"),
        ("reset_targets", (PLAN, "false"), r"^winkube.node.reset_targets: remove_runtime must be true or false"),
        ("reset_targets", (PLAN, False, 1), r"^winkube.node.reset_targets: remove_binaries must be true or false"),
        ("reset_hns", ({"output": []}, ["Calico"]), r"^winkube.node.reset_hns: the HNS probe printed 0 objects"),
        ("reset_hns", ({"output": []}, "Calico"), r"^winkube.node.reset_hns: reset_hns_networks must be a list"),
        ("upgrade_actions", ({}, PLAN), r"^winkube.node.upgrade_actions: expected a Node object"),
    ],
)
def test_bad_input_is_an_ansible_filter_error(name: str, args: Any, message: str) -> None:
    with pytest.raises(AnsibleFilterError, match=message):
        FILTERS[name](*args)
