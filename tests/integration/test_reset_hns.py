# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The reset role's HNS step (roles/reset/tasks/hns.yml) when hnsdiag.exe fails, with the real ansible-playbook.

The Molecule reset scenario covers the deletion itself, the check run and the second run; here a
deletion fails: the role must name the ids HNS still holds, and must not fail for an id that went
away by itself between the read and the deletion (a CNI cleaning up at the same time).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.simulator import executables, pytest_plugin
from tests.simulator.executables import hnsdiag
from tests.simulator.executables.common import Invocation
from tests.simulator.pytest_plugin import SimHandle, recap

windows_sim = pytest_plugin.windows_sim

NODE = "win2022"
CALICO = "28893E01-AC8D-4BE6-85D4-7CD3A78611C1"
NAT = "C08CB7B8-9B3C-408E-8E30-5E16A3AEB444"
EP_CALICO = "5E1D8701-E648-441B-87A7-3AA5347147E3"
EP_NAT = "3F2E1D0C-9B8A-4765-8432-10FEDCBA9876"
HOSTS = {
    "hosts": [
        {
            "name": NODE,
            "seed": {
                "features": ["Containers"],
                "services": [{"name": "hns", "display_name": "Host Network Service", "start_mode": "manual"}],
                "hns": {
                    "networks": [
                        {"ID": CALICO, "Name": "Calico", "Type": "Overlay"},
                        {"ID": NAT, "Name": "nat", "Type": "NAT"},
                    ],
                    "endpoints": [
                        {"ID": EP_CALICO, "Name": "Ethernet", "VirtualNetwork": CALICO},
                        {"ID": EP_NAT, "Name": "nat-ep", "VirtualNetwork": NAT},
                    ],
                },
            },
        }
    ]
}
# Only the HNS step: the rest of the role needs a plan and a cluster, which this test is not about.
PLAYBOOK = """\
- name: Delete the CNI's HNS networks
  hosts: windows_nodes
  gather_facts: false
  tasks:
    - name: Run the reset role's HNS step
      ansible.builtin.include_role:
        name: winkube.node.reset
        tasks_from: hns.yml
"""


def _run(sim: SimHandle, tmp_path: Path) -> tuple[int, str]:
    playbook = tmp_path / "hns.yml"
    playbook.write_text(PLAYBOOK)
    proc = sim.playbook(playbook)
    return proc.returncode, proc.stdout + proc.stderr


def _left(sim: SimHandle) -> tuple[list[str], list[str]]:
    hns = sim.host(NODE).extra["hns"]
    return [n["ID"] for n in hns["networks"]], [e["ID"] for e in hns["endpoints"]]


@pytest.mark.slow
def test_a_failed_deletion_names_the_ids_hns_still_holds(windows_sim, tmp_path: Path) -> None:
    sim = windows_sim(HOSTS)
    sim.set_faults(NODE, module_failures={"ansible.windows.win_command": "injected: hnsdiag.exe did not start"})
    rc, out = _run(sim, tmp_path)
    assert rc == 2, out[-4000:]
    assert f"hnsdiag.exe could not delete the HNS objects {EP_CALICO}, {CALICO}" in out, out[-4000:]
    assert "injected: hnsdiag.exe did not start" in out
    # Both runs failed before they started; nothing was deleted, and nat was never asked for.
    assert _left(sim) == ([CALICO, NAT], [EP_CALICO, EP_NAT])


@pytest.mark.slow
def test_an_id_that_went_away_meanwhile_is_not_a_failure(
    windows_sim, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = windows_sim(HOSTS)

    def cni_first(inv: Invocation):
        # The CNI deletes the endpoint just before hnsdiag does: hnsdiag then fails with "Element not found".
        endpoints = inv.host.extra["hns"]["endpoints"]
        endpoints[:] = [e for e in endpoints if e["ID"] != EP_CALICO]
        return hnsdiag.run(inv)

    monkeypatch.setitem(executables.SYSTEM_TOOLS, r"c:\windows\system32\hnsdiag.exe", cni_first)
    rc, out = _run(sim, tmp_path)
    assert rc == 0, out[-4000:]
    assert recap(out)[NODE]["failed"] == 0
    assert _left(sim) == ([NAT], [EP_NAT])
    # The endpoint run failed ("Element not found"), so HNS was read again: the read, and the re-read.
    assert sim.stats(NODE)["module_runs"]["ansible.windows.win_powershell"] == 2
