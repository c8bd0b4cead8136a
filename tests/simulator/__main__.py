"""``python -m tests.simulator serve --config HOSTS.yml --inventory-out INVENTORY.yml``

Starts every host of HOSTS.yml on 127.0.0.1, writes an Ansible inventory for them (mode 0600:
it holds the passwords), prints where each host and the control API listen, and serves until
SIGTERM or SIGINT.

``start`` does the same in the background (for Molecule's create step and the demo): it returns
once the hosts answer, with the server's pid in ``--pidfile`` and its output in ``--log``;
``stop --pidfile`` ends it (and succeeds when nothing runs, so destroy can always be called).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from tests.simulator.config import ConfigError, check_bind, load_config
from tests.simulator.host import SimulatorError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tests.simulator", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the hosts of a HOSTS.yml until SIGTERM/SIGINT")
    serve.add_argument("--config", required=True, help="HOSTS.yml")
    serve.add_argument("--inventory-out", required=True, help="where to write the Ansible inventory (0600)")
    serve.add_argument(
        "--kubeconfig-out",
        default=None,
        help="where to write the cluster's admin kubeconfig (0600; default INVENTORY.kubeconfig with a cluster:)",
    )
    serve.add_argument("--bind", default=None, help="listen address; only 127.0.0.1 is accepted")
    serve.add_argument("--control-port", type=int, default=None, help="port of the control API (default: any)")
    serve.add_argument("--trace-dir", default=None, help="write every decoded WinRS command there as JSON")
    serve.add_argument(
        "--collections-path",
        action="append",
        default=[],
        help="extra directory holding ansible_collections/ (module sources are checked against it)",
    )
    serve.add_argument("-v", "--verbose", action="count", default=0, help="log each command (-v) or HTTP request (-vv)")
    start = sub.add_parser("start", help="run `serve` in the background and return once it is ready")
    start.add_argument("--config", required=True, help="HOSTS.yml")
    start.add_argument("--inventory-out", required=True, help="where to write the Ansible inventory (0600)")
    start.add_argument("--kubeconfig-out", default=None, help="as for serve")
    start.add_argument("--pidfile", required=True, help="where to write the server's process id")
    start.add_argument("--log", required=True, help="file for the server's output")
    start.add_argument("--timeout", type=float, default=60.0, help="seconds to wait until it is ready")
    stop = sub.add_parser("stop", help="stop a server started with `start`")
    stop.add_argument("--pidfile", required=True, help="the pid file `start` wrote")
    stop.add_argument("--timeout", type=float, default=20.0, help="seconds to wait before SIGKILL")
    for p in (start, stop):
        p.set_defaults(verbose=0)
    return parser


def serve(args: argparse.Namespace) -> int:
    from tests.simulator.server import Simulator

    config = load_config(args.config)
    if args.bind is not None:
        config.bind = check_bind(args.bind)
    if args.control_port is not None:
        config.control_port = args.control_port
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    sim = Simulator(config, trace_dir=args.trace_dir, collections_paths=args.collections_path)
    with sim:
        path = sim.write_inventory(args.inventory_out, args.kubeconfig_out)
        for ep in sim.endpoints():
            print(f"{ep['name']}: {ep['url']} ({ep['auth']}, user {ep['user']})", flush=True)
        print(f"control: {sim.control_url}", flush=True)
        if sim.api is not None:
            print(f"api: {sim.cluster.api_url} (endpoint {sim.cluster.endpoint})", flush=True)
            print(f"kubeconfig: {sim.kubeconfig_path}", flush=True)
        print(f"inventory: {path}", flush=True)
        print("ready", flush=True)
        stop.wait()
        print("stopping", flush=True)
    return 0


def start(args: argparse.Namespace) -> int:
    config = load_config(args.config)  # a bad HOSTS.yml fails here, with its message, not in the background
    if args.kubeconfig_out and not config.cluster_enabled:
        raise SimulatorError("simulator: a kubeconfig needs a cluster: in HOSTS.yml")
    log = Path(args.log)
    log.parent.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "tests.simulator", "serve", "--config", args.config]
    cmd += ["--inventory-out", args.inventory_out]
    if args.kubeconfig_out:
        cmd += ["--kubeconfig-out", args.kubeconfig_out]
    root = Path(__file__).resolve().parents[2]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")])))
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=root, env=env, start_new_session=True)
    Path(args.pidfile).write_text(f"{proc.pid}\n")
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        text = log.read_text()
        lines = text.splitlines()
        if "ready" in lines:
            print("\n".join(lines[: lines.index("ready")]))
            return 0
        if proc.poll() is not None:
            Path(args.pidfile).unlink(missing_ok=True)
            print(f"error: the simulator exited with {proc.returncode}:\n{text}", file=sys.stderr)
            return 2
        time.sleep(0.1)
    proc.kill()
    Path(args.pidfile).unlink(missing_ok=True)
    print(f"error: the simulator was not ready after {args.timeout:.0f} s:\n{log.read_text()}", file=sys.stderr)
    return 2


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def stop(args: argparse.Namespace) -> int:
    pidfile = Path(args.pidfile)
    if not pidfile.exists():
        print(f"no simulator running ({pidfile} does not exist)")
        return 0
    pid = int(pidfile.read_text().strip())
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + args.timeout
    while _alive(pid) and time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        time.sleep(0.1)
    if _alive(pid):
        os.kill(pid, signal.SIGKILL)
    pidfile.unlink()
    print(f"stopped the simulator (pid {pid})")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, format="%(asctime)s %(name)s %(levelname)s %(message)s", stream=sys.stderr)
    try:
        return {"serve": serve, "start": start, "stop": stop}[args.command](args)
    except (ConfigError, SimulatorError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
