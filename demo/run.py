"""The demo: provision simulated Windows nodes into simulated clusters, converge again, verify.

``make demo`` runs it. For each fleet in ``demo/fleets/`` (a Kubernetes 1.36 cluster with a WS2022
and a WS2025 node, and a 1.34 cluster with a WS2019 node: no Kubernetes release supports both WS2019
and WS2025) it starts the Windows host simulator (the nodes behind real WinRM on 127.0.0.1, the
cluster's Kubernetes API on 127.0.0.1), runs ``playbooks/provision.yml`` with the real
``ansible-playbook``, runs it again to show that nothing changes, runs ``playbooks/verify.yml``, and
prints per node the build, the runtime, the versions, what changed in each run and what each run
cost (module runs, WinRM requests). Nothing leaves this machine.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from demo.common import changed_on_nodes, run_playbook  # noqa: E402
from tests.simulator.server import Simulator  # noqa: E402

# (label, playbook, extra arguments). The fleets set winkube_verify_kubectl: false (demo/fleets).
RUNS = (
    ("first provision", "provision.yml", ()),
    ("converged re-run", "provision.yml", ()),
    ("verify", "verify.yml", ()),
)


def node_summary(sim: Simulator, name: str) -> dict[str, Any]:
    """What the simulator knows about one node: its build, runtime service, cluster Node."""
    state = sim.state(name)
    services = state["services"]
    runtime = next((s for s in ("containerd", "docker") if s in services), None)
    hostname = sim.host(name).hostname.lower()
    node = sim.cluster.node(hostname) if sim.cluster is not None else None
    return {
        "os_version": state["os_version"],
        "runtime": runtime or "-",
        "runtime_state": services[runtime]["state"] if runtime else "-",
        "kubelet": services.get("kubelet", {}).get("state", "-"),
        "node": hostname if node else "-",
        "ready": "Ready" if node is not None and node.ready else "NotReady",
        "kubelet_version": node.kubelet_version if node else "-",
        "container_runtime": node.container_runtime_version if node else "-",
        "boots": state["boot_count"],
    }


def run_fleet(hosts: Path, work: Path) -> tuple[int, dict[str, dict[str, Any]], list[str]]:
    """Provision, re-run and verify one fleet; returns (rc, changes per node and run, summary lines)."""
    changes: dict[str, dict[str, Any]] = {}
    with Simulator(hosts) as sim:
        inventory = sim.write_inventory(work / "inventory.yml", work / "kubeconfig")
        names = [e["name"] for e in sim.endpoints()]
        print(
            f"\n=== {hosts.stem}: Kubernetes {sim.cluster.version} cluster (API {sim.cluster.api_url}), "
            f"nodes {', '.join(names)}; inventory {inventory}"
        )
        for label, playbook, extra in RUNS:
            for name in names:
                sim.reset_stats(name)
            log = work / f"{label.replace(' ', '-')}.log"
            rc, counts, elapsed = run_playbook(inventory, ROOT / "playbooks" / playbook, log, extra)
            print(f"{label}: ansible-playbook playbooks/{playbook} -> rc {rc} in {elapsed:.1f} s")
            things = changed_on_nodes(log.read_text())
            for name in names:
                c, s = counts.get(name, {}), sim.stats(name)
                changes.setdefault(name, {})[label] = c.get("changed", "?")
                print(
                    f"  {name:8} changed tasks={c.get('changed', '?'):<3} things={things.get(name, 0):<3} "
                    f"failed={c.get('failed', '?'):<2} module runs={s['module_runs_total']:<4} "
                    f"WinRM requests={s['winrm_requests']}"
                )
            if rc != 0:
                print(f"\nThe {label} failed; its output is in {log}", file=sys.stderr)
                print(log.read_text()[-4000:], file=sys.stderr)
                return rc, changes, []
        lines = []
        for name in names:
            n = node_summary(sim, name)
            lines.append(
                f"  {name:8} Windows {n['os_version']:<16} {n['runtime']} ({n['runtime_state']}), "
                f"Node {n['node']} {n['ready']}, kubelet {n['kubelet_version']}, {n['container_runtime']}, "
                f"boots={n['boots']}"
            )
        return 0, changes, lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fleets", nargs="*", default=sorted(str(p) for p in (ROOT / "demo" / "fleets").glob("*.yml")))
    parser.add_argument("--workdir", default=str(ROOT / ".demo"))
    args = parser.parse_args(argv)
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    os.chmod(work, 0o700)
    changes: dict[str, dict[str, Any]] = {}
    summary: list[str] = []
    for fleet in args.fleets:
        fleet_work = work / Path(fleet).stem
        fleet_work.mkdir(exist_ok=True)
        rc, fleet_changes, lines = run_fleet(Path(fleet), fleet_work)
        if rc != 0:
            return rc
        changes.update(fleet_changes)
        summary += lines
    print("\nNodes:")
    print("\n".join(summary))
    unchanged = all(c["converged re-run"] == 0 for c in changes.values())
    print("\nChanges per run: " + "; ".join(f"{n}: {c}" for n, c in changes.items()))
    print(f"Converged re-run changed nothing: {'yes' if unchanged else 'NO'}")
    print(
        "\nThe same against real Windows nodes (group windows_nodes, WinRM variables per host, a join command):\n"
        "  ansible-playbook -i inventory.yml winkube.node.provision\n"
        "  ansible-playbook -i inventory.yml winkube.node.verify\n"
        "  (see README.md, 'Running against real Windows nodes', and docs/connecting.md)"
    )
    return 0 if unchanged else 1


if __name__ == "__main__":
    sys.exit(main())
