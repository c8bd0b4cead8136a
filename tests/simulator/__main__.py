"""``python -m tests.simulator serve --config HOSTS.yml --inventory-out INVENTORY.yml``

Starts every host of HOSTS.yml on 127.0.0.1, writes an Ansible inventory for them (mode 0600:
it holds the passwords), prints where each host and the control API listen, and serves until
SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Sequence

from tests.simulator.config import ConfigError, check_bind, load_config
from tests.simulator.host import SimulatorError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tests.simulator", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the hosts of a HOSTS.yml until SIGTERM/SIGINT")
    serve.add_argument("--config", required=True, help="HOSTS.yml")
    serve.add_argument("--inventory-out", required=True, help="where to write the Ansible inventory (0600)")
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
        path = sim.write_inventory(args.inventory_out)
        for ep in sim.endpoints():
            print(f"{ep['name']}: {ep['url']} ({ep['auth']}, user {ep['user']})", flush=True)
        print(f"control: {sim.control_url}", flush=True)
        print(f"inventory: {path}", flush=True)
        print("ready", flush=True)
        stop.wait()
        print("stopping", flush=True)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, format="%(asctime)s %(name)s %(levelname)s %(message)s", stream=sys.stderr)
    try:
        return serve(args)
    except (ConfigError, SimulatorError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
