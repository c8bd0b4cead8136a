"""Turn a simulator trace record into a small wire fixture for ``test_decoder.py``.

Capture: run a real ``ansible-playbook`` against the simulator with ``--trace-dir DIR`` (or
``Simulator(..., trace_dir=DIR)``); every WinRS command is written there as JSON, with the
manifest's script bodies already reduced to their sha256. Then::

    python -m tests.simulator.tests.capture_wire DIR/00002-h1-module-ansible.windows.win_ping.json \\
        tests/simulator/tests/fixtures/wire/2.19-win_ping.json --core 2.19.14 --collection "ansible.windows 3.3.0"

A fixture keeps only what came over the wire (command line, framed stdin) and where it came
from; the expected decoding is asserted by the tests, not stored.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def fixture_from_trace(record: dict[str, Any], core: str, collection: str, note: str = "") -> dict[str, Any]:
    if "stdin_payload" not in record and "stdin" not in record:
        raise ValueError("the trace record has no stdin (was it written by this simulator version?)")
    out: dict[str, Any] = {
        "captured": {"ansible_core": core, "collection": collection, "note": note},
        "command": record["command"],
        "arguments": record["arguments"],
    }
    if "stdin_payload" in record:
        out["stdin_payload"] = record["stdin_payload"]
    else:
        out["stdin"] = record["stdin"]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("trace")
    parser.add_argument("out")
    parser.add_argument("--core", required=True, help="ansible-core version of the controller")
    parser.add_argument("--collection", required=True, help='e.g. "ansible.windows 3.3.0"')
    parser.add_argument("--note", default="")
    args = parser.parse_args()
    record = json.loads(Path(args.trace).read_text(encoding="utf-8"))
    fixture = fixture_from_trace(record, args.core, args.collection, args.note)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(fixture, indent=1, sort_keys=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
