"""HNS on the simulated host: HOSTS.yml ``seed.hns``, the reset role's HNS probe and ``hnsdiag.exe delete``."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from tests.simulator.config import ConfigError, parse_config
from tests.simulator.contract import ModuleRequest
from tests.simulator.executables.testing import make_host, sh
from tests.simulator.host import WindowsHost
from tests.simulator.modules import run_module
from tests.simulator.modules.hns_state import REGISTERED, SCRIPT, SHA256
from tests.simulator.modules.node_diagnostics import NOT_RECOGNIZED
from tests.simulator.modules.win_feature import ensure_feature_services

CALICO = "28893E01-AC8D-4BE6-85D4-7CD3A78611C1"
NAT = "C08CB7B8-9B3C-408E-8E30-5E16A3AEB444"
EP1 = "5E1D8701-E648-441B-87A7-3AA5347147E3"
EP2 = "5E1D8701-E648-441B-87A7-3AA5347147E4"
EP_NAT = "5E1D8701-E648-441B-87A7-3AA5347147E5"
HNS = {
    "networks": [
        {"ID": CALICO, "Name": "Calico", "Type": "Overlay", "ManagementIP": "10.0.2.15"},
        {"ID": NAT, "Name": "nat", "Type": "NAT"},
    ],
    "endpoints": [
        {"ID": EP1, "Name": "Ethernet", "VirtualNetwork": CALICO},
        {"ID": EP2, "Name": "cali-ep", "VirtualNetwork": CALICO.lower(), "VirtualNetworkName": "Calico"},
        {"ID": EP_NAT, "Name": "nat-ep", "VirtualNetwork": NAT},
    ],
}


def _config(hns: Any) -> dict[str, Any]:
    return {"hosts": [{"name": "w", "seed": {"features": ["Containers"], "hns": hns}}]}


def _host(containers: bool = True) -> WindowsHost:
    """A host seeded as the server seeds it from HOSTS.yml, with the Containers feature's services."""
    seed = parse_config(_config(HNS)).hosts[0].seed
    if not containers:
        seed = {**seed, "features": []}
    host = make_host()
    host.apply_seed(seed)
    ensure_feature_services(host)
    return host


def _probe(host: WindowsHost, check_mode: bool = False) -> dict[str, Any]:
    result = run_module(
        host,
        ModuleRequest(
            "ansible.windows.win_powershell",
            {"script": SCRIPT.read_text(encoding="utf-8"), "depth": 5},
            {"_ansible_check_mode": check_mode},
        ),
    )
    assert result["changed"] is False and not result.get("failed"), result
    return result["output"][0]


def _ids(host: WindowsHost, kind: str) -> list[str]:
    return [o["ID"] for o in host.extra["hns"][kind]]


# ------------------------------------------------------------------------------------ seed.hns


def test_seeded_endpoints_get_the_name_of_their_network() -> None:
    seed = parse_config(_config(HNS)).hosts[0].seed["hns"]
    assert [(e["VirtualNetwork"], e["VirtualNetworkName"]) for e in seed["endpoints"]] == [
        (CALICO, "Calico"),
        (CALICO, "Calico"),
        (NAT, "nat"),
    ]
    assert seed["networks"] == HNS["networks"]


@pytest.mark.parametrize(
    ("hns", "message"),
    [
        ([], r"seed.hns: must be a mapping with networks and endpoints"),
        ({"switches": []}, r"seed.hns: unknown key\(s\) switches"),
        ({"networks": [{"ID": "nat", "Name": "nat", "Type": "NAT"}]}, r"networks\[0\].ID: must be an HNS id"),
        ({"networks": [{"ID": NAT, "Type": "NAT"}]}, r"networks\[0\].Name: must be a non-empty string"),
        ({"networks": [{"ID": NAT, "Name": "nat"}]}, r"networks\[0\].Type: must be a non-empty string"),
        ({"networks": [{"ID": NAT, "Name": "nat", "Type": "NAT", "Mode": "x"}]}, r"unknown key\(s\) Mode"),
        ({"endpoints": [{"ID": EP1, "VirtualNetwork": CALICO}]}, r"endpoints\[0\].VirtualNetwork: must be the ID"),
        (
            {"networks": HNS["networks"], "endpoints": [{"ID": EP1, "VirtualNetwork": NAT, "VirtualNetworkName": "x"}]},
            r"endpoints\[0\].VirtualNetworkName: network C08CB7B8-.* is 'nat'",
        ),
        (
            {"networks": HNS["networks"], "endpoints": [{"ID": NAT.lower(), "VirtualNetwork": NAT}]},
            r"endpoints\[0\].ID: .* is seeded twice",
        ),
    ],
)
def test_bad_hns_seeds_are_refused_with_their_path(hns: Any, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_config(_config(hns))


# ------------------------------------------------------------------------------------ the probe


def test_the_probe_emulation_follows_the_current_script() -> None:
    current = hashlib.sha256(SCRIPT.read_text(encoding="utf-8").encode()).hexdigest()
    assert current == SHA256, f"hns_state.ps1 changed; review its emulation, then set SHA256 = {current!r}"
    assert REGISTERED


@pytest.mark.parametrize("check_mode", [False, True])
def test_the_probe_lists_what_select_object_keeps(check_mode: bool) -> None:
    out = _probe(_host(), check_mode)
    assert out == {
        "Networks": [
            {"ID": CALICO, "Name": "Calico", "Type": "Overlay"},
            {"ID": NAT, "Name": "nat", "Type": "NAT"},
        ],
        "Endpoints": [
            {"ID": EP1, "Name": "Ethernet", "VirtualNetwork": CALICO, "VirtualNetworkName": "Calico"},
            {"ID": EP2, "Name": "cali-ep", "VirtualNetwork": CALICO, "VirtualNetworkName": "Calico"},
            {"ID": EP_NAT, "Name": "nat-ep", "VirtualNetwork": NAT, "VirtualNetworkName": "nat"},
        ],
        "Unavailable": None,
    }


def test_without_the_containers_feature_the_probe_says_the_cmdlets_are_missing() -> None:
    out = _probe(_host(containers=False))
    assert out == {"Networks": [], "Endpoints": [], "Unavailable": NOT_RECOGNIZED.format(name="Get-HnsNetwork")}


# ------------------------------------------------------------------------------------ hnsdiag.exe


def test_delete_endpoints_then_networks_through_path_without_case() -> None:
    host = _host()
    r = sh(host, "hnsdiag.exe", "delete", "endpoints", EP1, EP2.lower())
    assert (r.rc, r.stdout, r.stderr) == (0, "", "")
    assert _ids(host, "endpoints") == [EP_NAT]
    r = sh(host, r"C:\Windows\System32\hnsdiag.exe", "DELETE", "Networks", CALICO)
    assert (r.rc, r.stdout, r.stderr) == (0, "", "")
    assert _ids(host, "networks") == [NAT]
    assert _probe(host)["Networks"] == [{"ID": NAT, "Name": "nat", "Type": "NAT"}]


def test_an_unknown_id_fails_and_the_known_ones_are_deleted() -> None:
    host = _host()
    unknown = "6A2D1B5C-0000-4000-8000-0000000000FF"
    r = sh(host, "hnsdiag.exe", "delete", "endpoints", EP1, unknown, EP2)
    assert (r.rc, r.stdout) == (1, f"{unknown}: Element not found.\r\n")
    assert _ids(host, "endpoints") == [EP_NAT]
    again = sh(host, "hnsdiag.exe", "delete", "endpoints", EP1)
    assert (again.rc, again.stdout) == (1, f"{EP1}: Element not found.\r\n")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["delete", "networks", CALICO], "hnsdiag.exe delete networks of a network with endpoints"),
        (["list", "networks"], "hnsdiag.exe list networks is not emulated"),
        (["list", "endpoints", "-d"], "is not emulated"),
        (["delete", "loadbalancers", CALICO], "is not emulated"),
        (["delete", "endpoints"], "is not emulated"),
        (["delete", "endpoints", EP1, "-d"], "is not emulated"),
    ],
)
def test_what_is_not_emulated_fails_loudly_and_changes_nothing(argv: list[str], message: str) -> None:
    host = _host()
    r = sh(host, "hnsdiag.exe", *argv)
    assert r.rc == 1 and message in r.stderr and r.stderr.startswith("simulator: ")
    assert (_ids(host, "networks"), _ids(host, "endpoints")) == ([CALICO, NAT], [EP1, EP2, EP_NAT])


def test_without_the_host_network_service_hnsdiag_is_not_emulated() -> None:
    r = sh(_host(containers=False), "hnsdiag.exe", "delete", "endpoints", EP1)
    assert r.rc == 1 and "without the Host Network Service" in r.stderr


def test_win_command_runs_hnsdiag_with_argv() -> None:
    host = _host()
    result = run_module(
        host,
        ModuleRequest("ansible.windows.win_command", {"argv": ["hnsdiag.exe", "delete", "endpoints", EP_NAT]}, {}),
    )
    assert (result["rc"], result.get("failed", False)) == (0, False), result
    assert EP_NAT not in _ids(host, "endpoints")
