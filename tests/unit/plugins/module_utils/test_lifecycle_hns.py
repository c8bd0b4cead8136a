# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which HNS endpoints and networks a reset deletes (lifecycle.reset_hns), from the HNS probe's result."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest
import yaml
from ansible_collections.winkube.node.plugins.module_utils import lifecycle

REPO_ROOT = Path(__file__).resolve().parents[4]
DEFAULT_NETWORKS = yaml.safe_load((REPO_ROOT / "roles" / "reset" / "defaults" / "main.yml").read_text())[
    "reset_hns_networks"
]

CALICO = "28893E01-AC8D-4BE6-85D4-7CD3A78611C1"
NAT = "C08CB7B8-9B3C-408E-8E30-5E16A3AEB444"
EXTERNAL = "B84E00EB-D250-4433-A3DE-E2FC84C23386"
VXLAN = "6A2D1B5C-0000-4000-8000-000000000001"
FLANNEL = "6A2D1B5C-0000-4000-8000-000000000002"
CBR0 = "6A2D1B5C-0000-4000-8000-000000000003"
GONE = "6A2D1B5C-0000-4000-8000-0000000000FF"  # a network HNS no longer lists


def network(nid: str, name: str, kind: str = "Overlay") -> Dict[str, Any]:
    return {"ID": nid, "Name": name, "Type": kind}


def ep_id(n: int) -> str:
    return f"5E1D8701-E648-441B-87A7-{n:012X}"


def endpoint(n: int, network_id: Optional[str], network_name: Optional[str]) -> Dict[str, Any]:
    return {
        "ID": ep_id(n),
        "Name": f"ep{n}",
        "VirtualNetwork": network_id,
        "VirtualNetworkName": network_name,
    }


def probe(networks: List[Dict[str, Any]], endpoints: List[Dict[str, Any]], unavailable: Any = None) -> Dict[str, Any]:
    """A win_powershell result of hns_state.ps1."""
    return {
        "changed": False,
        "output": [{"Networks": networks, "Endpoints": endpoints, "Unavailable": unavailable}],
    }


def test_the_default_list_is_the_cni_networks() -> None:
    assert DEFAULT_NETWORKS == ["Calico", "vxlan0", "flannel.4096", "cbr0"]


def test_the_default_list_deletes_the_cni_networks_and_keeps_nat_and_external() -> None:
    networks = [
        network(NAT, "nat", "NAT"),
        network(CALICO, "Calico"),
        network(EXTERNAL, "External", "L2Bridge"),
        network(VXLAN, "vxlan0"),
        network(FLANNEL, "flannel.4096"),
        network(CBR0, "cbr0", "L2Bridge"),
    ]
    endpoints = [
        endpoint(1, CALICO, "Calico"),
        endpoint(2, NAT, "nat"),
        endpoint(3, EXTERNAL, "External"),
        endpoint(4, CBR0, "cbr0"),
        endpoint(5, CALICO, "Calico"),
    ]
    t = lifecycle.reset_hns(probe(networks, endpoints), DEFAULT_NETWORKS)
    assert t == {
        "available": True,
        "reason": None,
        "endpoints": [
            {"id": ep_id(1), "name": "ep1", "network": "Calico"},
            {"id": ep_id(4), "name": "ep4", "network": "cbr0"},
            {"id": ep_id(5), "name": "ep5", "network": "Calico"},
        ],
        "networks": [
            {"id": CALICO, "name": "Calico", "type": "Overlay"},
            {"id": VXLAN, "name": "vxlan0", "type": "Overlay"},
            {"id": FLANNEL, "name": "flannel.4096", "type": "Overlay"},
            {"id": CBR0, "name": "cbr0", "type": "L2Bridge"},
        ],
        "endpoint_ids": [ep_id(1), ep_id(4), ep_id(5)],
        "network_ids": [CALICO, VXLAN, FLANNEL, CBR0],
        # Endpoints come first: hnsdiag delete endpoints runs before hnsdiag delete networks.
        "ids": [ep_id(1), ep_id(4), ep_id(5), CALICO, VXLAN, FLANNEL, CBR0],
        "kept_networks": ["nat", "External"],
    }


@pytest.mark.parametrize(("listed", "present"), [(["calico"], "Calico"), (["Calico"], "CALICO"), (["  cbr0 "], "CBR0")])
def test_names_compare_without_case_as_hns_does(listed: List[str], present: str) -> None:
    t = lifecycle.reset_hns(probe([network(CALICO, present)], [endpoint(1, CALICO, present)]), listed)
    assert (t["network_ids"], t["endpoint_ids"]) == ([CALICO], [ep_id(1)])


def test_the_endpoints_of_other_networks_stay_even_when_they_record_a_listed_name() -> None:
    # The endpoint's network exists and is nat: its id decides, not the name it records.
    t = lifecycle.reset_hns(probe([network(NAT, "nat", "NAT")], [endpoint(1, NAT, "Calico")]), ["Calico"])
    assert (t["ids"], t["kept_networks"]) == ([], ["nat"])


def test_an_endpoint_whose_network_is_gone_goes_when_it_names_a_listed_network() -> None:
    endpoints = [
        endpoint(1, GONE, "Calico"),
        endpoint(2, GONE, "nat"),
        endpoint(3, None, "vxlan0"),
        endpoint(4, "", ""),
    ]
    t = lifecycle.reset_hns(probe([], endpoints), DEFAULT_NETWORKS)
    assert t["endpoints"] == [
        {"id": ep_id(1), "name": "ep1", "network": "Calico"},
        {"id": ep_id(3), "name": "ep3", "network": "vxlan0"},
    ]
    assert t["network_ids"] == []


def test_the_same_id_in_another_case_is_the_same_network() -> None:
    t = lifecycle.reset_hns(probe([network(CALICO, "Calico")], [endpoint(1, CALICO.lower(), "Calico")]), ["Calico"])
    assert t["endpoint_ids"] == [ep_id(1)]


@pytest.mark.parametrize("listed", [DEFAULT_NETWORKS, []])
def test_an_empty_hns_or_an_empty_list_deletes_nothing(listed: List[str]) -> None:
    assert lifecycle.reset_hns(probe([], []), listed)["ids"] == []
    kept = lifecycle.reset_hns(probe([network(CALICO, "Calico")], [endpoint(1, CALICO, "Calico")]), [])
    assert (kept["ids"], kept["kept_networks"]) == ([], ["Calico"])


def test_without_the_hns_cmdlets_there_is_nothing_to_delete_and_it_says_why() -> None:
    reason = "The term 'Get-HnsNetwork' is not recognized as the name of a cmdlet, function, script file, or ..."
    t = lifecycle.reset_hns(probe([], [], reason), DEFAULT_NETWORKS)
    assert (t["available"], t["reason"], t["ids"], t["kept_networks"]) == (False, reason, [], [])


def test_a_property_hns_leaves_out_is_an_empty_name() -> None:
    t = lifecycle.reset_hns(
        probe([network(CALICO, "Calico")], [{**endpoint(1, CALICO, None), "Name": None}]), ["Calico"]
    )
    assert t["endpoints"] == [{"id": ep_id(1), "name": "", "network": "Calico"}]


@pytest.mark.parametrize(
    ("result", "names", "message"),
    [
        ("text", DEFAULT_NETWORKS, r"expected the win_powershell result of hns_state.ps1, got str"),
        ({"output": []}, DEFAULT_NETWORKS, r"the HNS probe printed 0 objects, expected the one object"),
        ({"output": [{}, {}]}, DEFAULT_NETWORKS, r"printed 2 objects"),
        ({"changed": False}, DEFAULT_NETWORKS, r"printed no objects"),
        ({"output": [{"Networks": []}]}, DEFAULT_NETWORKS, r"has no Endpoints, Unavailable: it is not hns_state.ps1's"),
        (probe("nat", []), DEFAULT_NETWORKS, r"Networks must be a list of objects, got str"),
        (probe([], ["x"]), DEFAULT_NETWORKS, r"Endpoints must be a list of objects"),
        (probe([network("nat", "nat")], []), DEFAULT_NETWORKS, r"an HNS network has ID 'nat', not an HNS id"),
        (probe([network(CALICO, 7)], []), DEFAULT_NETWORKS, rf"HNS network {CALICO} has Name 7, not a string"),
        (probe([network(CALICO, "a"), network(CALICO.lower(), "b")], []), DEFAULT_NETWORKS, r"lists the id .* twice"),
        (probe([], [endpoint(1, "x", "Calico")]), DEFAULT_NETWORKS, r"has VirtualNetwork 'x', not an HNS id"),
        (probe([], [{"Name": "e"}]), DEFAULT_NETWORKS, r"an HNS endpoint has ID None"),
        (probe([network(NAT, "nat")], [], "not recognized"), DEFAULT_NETWORKS, r"unavailable .* and lists HNS objects"),
        (probe([], [], ""), DEFAULT_NETWORKS, r"unavailable \(''\)"),
        (probe([], []), "Calico", r"reset_hns_networks must be a list of HNS network names, got 'Calico'"),
        (probe([], []), None, r"must be a list of HNS network names, got None"),
        (probe([], []), ["Calico", ""], r"holds ''; every entry must be a network name"),
        (probe([], []), ["Calico", 1], r"holds 1; every entry must be a network name"),
    ],
)
def test_bad_input_is_refused(result: Any, names: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        lifecycle.reset_hns(result, names)
