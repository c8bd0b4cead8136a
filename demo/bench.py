"""The benchmark behind the README's performance figures (``make bench``).

For each fleet size (default 1, 10 and 50 simulated nodes, forks = nodes) it starts the Windows host
simulator with a simulated cluster, runs ``playbooks/provision.yml`` on the bare fleet (first
provision), then again (converged re-run), and reads the simulator's counters: module runs and WinRM
requests per node, what changed per node, and the wall time of each run. It also counts how often
the controller fetched each artifact from the simulator's mirror, to show that with
``winkube_artifact_cache`` an artifact is downloaded once per run, not once per node.

Targets it checks and prints (it exits 1 when one is missed): a converged re-run needs at most
``--max-converged`` (5) module runs per node and changes nothing; a first provision needs no more
module runs per node than twice the number of things that changed on it. A thing is a changed task
or a changed item of a loop (one registry value, one folder, one file), as the output lists them: the
PLAY RECAP counts a loop of ten registry values as one change, and the table shows that count too.

The figures are measurements of this machine's controller against the simulator (no network, no
real Windows): they show how controller work grows with the fleet, not how long a real node takes.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from demo.common import changed_on_nodes, run_playbook  # noqa: E402
from tests.simulator.server import Simulator  # noqa: E402

# The two builds Kubernetes 1.36 supports, in turn (a WS2019 node needs a 1.34 cluster: demo/fleets).
BUILDS = (
    ("10.0.20348.2527", {}),
    ("10.0.26100.2314", {}),
)


CHECKSUM_SUFFIXES = (".sha256", ".sha256sum", ".sha512")
# The containerd releases through the simulator's mirror (the cluster gives the inventory dl.k8s.io's):
# with winkube_artifact_cache the controller downloads them, and it must reach only 127.0.0.1. Without the
# cache the nodes fetch the same URLs, so both runs count them under the same upstream URL.
CONTAINERD_MIRROR = "{{ sim_control_url }}/mirror/https/github.com/containerd/containerd/releases/download"


def fleet(size: int, cache: Path | None) -> dict[str, Any]:
    """A HOSTS.yml document for ``size`` nodes and a cluster."""
    hosts = []
    for i in range(size):
        os_version, host_vars = BUILDS[i % len(BUILDS)]
        hosts.append({"name": f"node{i + 1:02d}", "os_version": os_version, "auth": "ntlm", "vars": dict(host_vars)})
    # The controller's own kubectl is not part of the simulated fleet (see demo/fleets).
    top_vars: dict[str, Any] = {"winkube_verify_kubectl": False, "containerd_download_base_url": CONTAINERD_MIRROR}
    if cache is not None:
        top_vars["winkube_artifact_cache"] = str(cache)
    return {"hosts": hosts, "cluster": {"version": "1.36.4"}, "vars": top_vars}


def per_node(values: list[int]) -> dict[str, float]:
    return {"mean": round(statistics.fmean(values), 1), "max": max(values), "min": min(values)}


def measure(size: int, playbook: Path, work: Path, use_cache: bool) -> dict[str, Any]:
    cache = work / f"cache-{size}" if use_cache else None
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
    with Simulator(fleet(size, cache)) as sim:
        inventory = sim.write_inventory(work / f"inventory-{size}.yml")
        names = [e["name"] for e in sim.endpoints()]
        runs: dict[str, Any] = {}
        for label in ("first", "converged"):
            for name in names:
                sim.reset_stats(name)
            mirror_before = dict(sim.downloads.state()["requests"])
            rc, counts, elapsed = run_playbook(
                inventory, playbook, work / f"{label}-{size}.log", extra=["--forks", str(size)]
            )
            stats = {name: sim.stats(name) for name in names}
            things = changed_on_nodes((work / f"{label}-{size}.log").read_text())
            runs[label] = {
                "rc": rc,
                "wall_s": round(elapsed, 1),
                "module_runs": per_node([stats[n]["module_runs_total"] for n in names]),
                "winrm_requests": per_node([stats[n]["winrm_requests"] for n in names]),
                # Changed tasks (the PLAY RECAP) and changed things (each item of a loop counts).
                "changed": per_node([counts.get(n, {}).get("changed", -1) for n in names]),
                "things_changed": per_node([things.get(n, 0) for n in names]),
                "ratio_ok": all(stats[n]["module_runs_total"] <= 2 * max(things.get(n, 0), 1) for n in names),
                # Requests per URL of the simulated internet (nodes' win_get_url and the controller's
                # fetches through the mirror alike).
                "downloads": _mirror_delta(mirror_before, dict(sim.downloads.state()["requests"])),
            }
            if rc != 0:
                runs[label]["log_tail"] = (work / f"{label}-{size}.log").read_text()[-3000:]
                break
        return {"nodes": size, "forks": size, "artifact_cache": use_cache, **runs}


def _mirror_delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {url: n - before.get(url, 0) for url, n in after.items() if n - before.get(url, 0)}


def check(result: dict[str, Any], max_converged: int) -> list[str]:
    """The targets this result misses, as sentences."""
    missed = []
    size = result["nodes"]
    for label in ("first", "converged"):
        run = result.get(label)
        if run is None or run["rc"] != 0:
            missed.append(f"{size} nodes: the {label} run failed (rc {run and run['rc']})")
    conv = result.get("converged")
    if conv and conv["rc"] == 0:
        if conv["module_runs"]["max"] > max_converged:
            missed.append(
                f"{size} nodes: a converged re-run cost up to {conv['module_runs']['max']} module runs per node "
                f"(target: at most {max_converged})"
            )
        if conv["changed"]["max"] != 0:
            missed.append(f"{size} nodes: the converged re-run changed something")
    first = result.get("first")
    if first and first["rc"] == 0 and not first["ratio_ok"]:
        missed.append(f"{size} nodes: a first provision cost more than twice as many module runs as things it changed")
    return missed


def table(results: list[dict[str, Any]]) -> str:
    rows = [
        "| nodes (forks) | run | wall time | module runs / node | WinRM requests / node | things changed / node "
        "| changed tasks / node |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        for label in ("first", "converged"):
            run = r.get(label)
            if not run:
                continue
            rows.append(
                f"| {r['nodes']} ({r['forks']}) | {'first provision' if label == 'first' else 'converged re-run'} "
                f"| {run['wall_s']} s | {run['module_runs']['mean']} (max {run['module_runs']['max']}) "
                f"| {run['winrm_requests']['mean']} | {run['things_changed']['mean']} | {run['changed']['mean']} |"
            )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", default="1,10,50", help="fleet sizes, comma-separated (default 1,10,50)")
    parser.add_argument("--playbook", default=str(ROOT / "playbooks" / "provision.yml"))
    parser.add_argument("--max-converged", type=int, default=5)
    parser.add_argument("--no-cache", action="store_true", help="leave winkube_artifact_cache unset")
    parser.add_argument("--out", default=str(ROOT / "build" / "bench.json"))
    args = parser.parse_args(argv)
    sizes = [int(x) for x in args.nodes.split(",") if x.strip()]
    results = []
    with tempfile.TemporaryDirectory(prefix="winkube-bench-") as tmp:
        work = Path(tmp)
        for size in sizes:
            started = time.monotonic()
            print(f"== {size} node(s), forks {size} ...", flush=True)
            result = measure(size, Path(args.playbook), work, use_cache=not args.no_cache)
            results.append(result)
            print(f"   done in {time.monotonic() - started:.0f} s", flush=True)
            for label in ("first", "converged"):
                if result.get(label, {}).get("log_tail"):
                    print(f"   the {label} run failed:\n{result[label]['log_tail']}", file=sys.stderr)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print()
    print(table(results))
    for r in results:
        first = r.get("first") or {}
        artifacts = {u: n for u, n in (first.get("downloads") or {}).items() if not u.endswith(CHECKSUM_SUFFIXES)}
        if artifacts:
            how = "winkube_artifact_cache: once per run" if r["artifact_cache"] else "no cache: once per node"
            print(f"\n{r['nodes']} nodes, first run, downloads per artifact ({how}):")
            for url, count in sorted(artifacts.items()):
                print(f"  {count:>3}  {url}")
    missed = [m for r in results for m in check(r, args.max_converged)]
    print(f"\nfigures: {out}")
    if missed:
        print("targets missed:\n  " + "\n  ".join(missed))
        return 1
    print(
        f"targets met: converged re-run <= {args.max_converged} module runs per node and no change; "
        "first provision <= 2 x things changed"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
