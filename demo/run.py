"""The demo: provision simulated Windows nodes, converge again, and summarise what happened.

``make demo`` runs it. It starts the Windows host simulator (one WS2019, WS2022 and WS2025 node
behind real WinRM on 127.0.0.1), runs ``playbooks/provision.yml`` against it twice with the real
``ansible-playbook``, and prints per node the build, the plan, what changed in each run, and how
many module runs and WinRM requests each run cost. Nothing leaves this machine.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.simulator.pytest_plugin import ansible_env, recap  # noqa: E402
from tests.simulator.server import Simulator  # noqa: E402


def run_playbook(inventory: Path, playbook: Path, log: Path) -> tuple[int, dict[str, dict[str, int]], float]:
    started = time.monotonic()
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(inventory), str(playbook)],
        cwd=ROOT,
        env=ansible_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.monotonic() - started
    log.write_text(proc.stdout + proc.stderr)
    return proc.returncode, recap(proc.stdout), elapsed


def node_summary(sim: Simulator, name: str) -> dict[str, Any]:
    state = sim.state(name)
    services = state["services"]
    runtime = next((s for s in ("containerd", "docker") if s in services), None)
    return {
        "os_version": state["os_version"],
        "runtime": runtime or "-",
        "runtime_state": services[runtime]["state"] if runtime else "-",
        "images": ", ".join(sorted(state.get("images") or {})) or "-",
        "boots": state["boot_count"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hosts", default=str(ROOT / "demo" / "hosts.yml"))
    parser.add_argument("--playbook", default=str(ROOT / "playbooks" / "provision.yml"))
    parser.add_argument("--workdir", default=str(ROOT / ".demo"))
    args = parser.parse_args(argv)
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    os.chmod(work, 0o700)
    with Simulator(args.hosts) as sim:
        inventory = sim.write_inventory(work / "inventory.yml")
        names = [e["name"] for e in sim.endpoints()]
        print(f"Simulated Windows nodes on 127.0.0.1: {', '.join(names)} (inventory: {inventory})")
        runs = []
        for label in ("first run", "converged re-run"):
            for name in names:
                sim.reset_stats(name)
            rc, counts, elapsed = run_playbook(inventory, Path(args.playbook), work / f"{label.replace(' ', '-')}.log")
            stats = {name: sim.stats(name) for name in names}
            runs.append((label, rc, counts, elapsed, stats))
            print(f"\n{label}: ansible-playbook {Path(args.playbook).relative_to(ROOT)} -> rc {rc} in {elapsed:.1f} s")
            for name in names:
                c, s = counts.get(name, {}), stats[name]
                print(
                    f"  {name:8} changed={c.get('changed', '?'):<3} failed={c.get('failed', '?'):<2} "
                    f"module runs={s['module_runs_total']:<4} WinRM requests={s['winrm_requests']}"
                )
            if rc != 0:
                print(f"\nThe {label} failed; its output is in {work}/{label.replace(' ', '-')}.log", file=sys.stderr)
                print((work / f"{label.replace(' ', '-')}.log").read_text()[-4000:], file=sys.stderr)
                return rc
        print("\nNodes after provisioning:")
        for name in names:
            n = node_summary(sim, name)
            print(
                f"  {name:8} Windows {n['os_version']:<16} runtime={n['runtime']} ({n['runtime_state']}) "
                f"boots={n['boots']} images: {n['images']}"
            )
        second = runs[1][2]
        unchanged = all(second.get(name, {}).get("changed") == 0 for name in names)
        print(f"\nConverged re-run changed nothing: {'yes' if unchanged else 'NO'}")
        print(
            "\nSame playbook against real Windows nodes:\n"
            "  ansible-playbook -i inventory.yml playbooks/provision.yml   # group windows_nodes, WinRM vars per host\n"
            "  (see README.md, 'Running against real Windows nodes')"
        )
        return 0 if unchanged else 1


if __name__ == "__main__":
    sys.exit(main())
