"""Fault injection per host, from HOSTS.yml (``faults:``) or the control API.

Kinds (keys of ``host.faults``; ``null`` removes one):

``drop_connection: N`` (or a list)
    close the TCP connection instead of answering the Nth WinRM request counted from when the
    fault was set (a request is one SOAP message after authentication).
``drop_connection_after_module: {MODULE: N | [N, ...]}``
    let the Nth run of that module (FQCN or short name, counted from when the fault was set) run
    to its end on the host, then close the TCP connection instead of answering the request it ran
    in: the network is lost while a task runs, its changes are made and its result never reaches
    the controller. The WinRS shell survives, as on Windows.
``delay: SECONDS``
    wait this long before every response.
``wsman_fault: N`` or ``{on_request: N | [N, ...], code: INT, message: TEXT}``
    answer the Nth request with HTTP 500 and a WSManFault (default code 2150858752, the
    WS-Management error base, and a message that says it was injected).
``module_failures: {MODULE: MESSAGE | {msg: MESSAGE, times: N}}``
    a run of that module (FQCN or short name) fails with ``msg`` without running; ``times``
    limits how many runs fail.
``reboot_seconds: SECONDS``
    a reboot keeps the host down this long (and makes an ``instant`` host reboot realistically).
``disk_full: true``
    file writes fail with Windows error 112 (honoured by ``host.py``).
``service_start_failures: {SERVICE: MESSAGE}``
    starting that service fails with the message (honoured by ``host.py``).
``service_crash_loop: {SERVICE: MESSAGE}``
    the service starts (its binary runs its start-up: a kubelet does its TLS bootstrap and registers
    its Node), then its process exits with MESSAGE, appended as a line to the daemon's log file;
    the SCM's restart failure actions start it again, and it exits again: a crash loop. The
    service keeps showing ``running`` (the restarts are immediate here) but its daemon serves
    nothing: no pipes, and a kubelet posts no node status, so its Node turns NotReady (honoured by
    ``host.py``).
"""

from __future__ import annotations

import copy
import dataclasses
import threading
from typing import Any

from tests.simulator.host import WindowsHost
from tests.simulator.wsman import CODE_SIMULATOR, WSManFault

__all__ = ["FAULT_KINDS", "FaultInjector", "RequestFault", "validate_faults"]

FAULT_KINDS = (
    "drop_connection",
    "drop_connection_after_module",
    "delay",
    "wsman_fault",
    "module_failures",
    "reboot_seconds",
    "disk_full",
    "service_start_failures",
    "service_crash_loop",
)


def _positive_ints(value: Any, what: str, unit: str = "request number") -> list[int]:
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(i, int) and not isinstance(i, bool) and i >= 1 for i in items):
        raise ValueError(f"{what} must be a {unit} >= 1 or a list of them, got {value!r}")
    return sorted(items)


def _seconds(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ValueError(f"{what} must be a number of seconds >= 0, got {value!r}")
    return float(value)


def _validate_one(kind: str, value: Any) -> Any:
    if kind == "drop_connection":
        return _positive_ints(value, "drop_connection")
    if kind == "drop_connection_after_module":
        if not isinstance(value, dict) or not value:
            raise ValueError(f"drop_connection_after_module must map a module name to run numbers, got {value!r}")
        return {
            str(name): _positive_ints(runs, f"drop_connection_after_module.{name}", "run number")
            for name, runs in value.items()
        }
    if kind in ("delay", "reboot_seconds"):
        return _seconds(value, kind)
    if kind == "disk_full":
        if not isinstance(value, bool):
            raise ValueError(f"disk_full must be true or false, got {value!r}")
        return value
    if kind == "wsman_fault":
        spec = {"on_request": value} if not isinstance(value, dict) else dict(value)
        unknown = set(spec) - {"on_request", "code", "message"}
        if unknown:
            raise ValueError(
                f"wsman_fault: unknown key(s) {', '.join(sorted(unknown))} (known: on_request, code, message)"
            )
        if "on_request" not in spec:
            raise ValueError("wsman_fault needs on_request")
        code = spec.get("code", CODE_SIMULATOR)
        if isinstance(code, bool) or not isinstance(code, int) or code < 0:
            raise ValueError(f"wsman_fault.code must be a non-negative integer, got {code!r}")
        message = spec.get("message", "simulator: injected WSManFault")
        if not isinstance(message, str) or not message:
            raise ValueError("wsman_fault.message must be a non-empty string")
        return {
            "on_request": _positive_ints(spec["on_request"], "wsman_fault.on_request"),
            "code": code,
            "message": message,
        }
    if kind == "module_failures":
        if not isinstance(value, dict):
            raise ValueError(f"module_failures must map a module name to a message, got {value!r}")
        out: dict[str, dict[str, Any]] = {}
        for name, spec in value.items():
            entry = {"msg": spec} if isinstance(spec, str) else spec
            if not isinstance(entry, dict) or not isinstance(entry.get("msg"), str) or set(entry) - {"msg", "times"}:
                raise ValueError(f"module_failures.{name} must be a message or {{msg: TEXT, times: N}}, got {spec!r}")
            times = entry.get("times")
            if times is not None and (isinstance(times, bool) or not isinstance(times, int) or times < 1):
                raise ValueError(f"module_failures.{name}.times must be an integer >= 1, got {times!r}")
            out[str(name)] = {"msg": entry["msg"], "times": times}
        return out
    if kind == "service_crash_loop":
        if not isinstance(value, dict) or not all(isinstance(v, str) and v for v in value.values()):
            raise ValueError(f"service_crash_loop must map a service name to the message it exits with, got {value!r}")
        return {str(k).lower(): v for k, v in value.items()}
    if kind == "service_start_failures":
        if not isinstance(value, dict) or not all(isinstance(v, str) and v for v in value.values()):
            raise ValueError(f"service_start_failures must map a service name to a message, got {value!r}")
        # host.py looks services up by lower-case name
        return {str(k).lower(): v for k, v in value.items()}
    raise ValueError(f"unknown fault kind {kind!r} (known: {', '.join(FAULT_KINDS)})")


def validate_faults(faults: Any) -> dict[str, Any]:
    """Validate a faults mapping; ``None`` values are kept (they mean: remove this fault)."""
    if not isinstance(faults, dict):
        raise ValueError(f"faults must be a mapping, got {type(faults).__name__}")
    return {kind: None if value is None else _validate_one(kind, value) for kind, value in faults.items()}


@dataclasses.dataclass
class RequestFault:
    """What to do with one WinRM request."""

    drop: bool = False
    fault: WSManFault | None = None
    delay: float = 0.0


class FaultInjector:
    """Applies the faults in ``host.faults``; counters live here, not in the host state."""

    def __init__(self, host: WindowsHost) -> None:
        self.host = host
        self._lock = threading.Lock()
        self._counters: dict[str, int] = {"drop_connection": 0, "wsman_fault": 0}
        # Runs per module name of drop_connection_after_module, and the server threads whose
        # current request ran a module that must not be answered.
        self._module_runs: dict[str, int] = {}
        self._drop_after: set[int] = set()
        self.injected: dict[str, int] = {}

    def configure(self, faults: dict[str, Any]) -> dict[str, Any]:
        """Merge validated faults into ``host.faults`` (request counters restart for the kinds
        given) and return the current set."""
        checked = validate_faults(faults)
        with self._lock:
            for kind, value in checked.items():
                if value is None:
                    self.host.faults.pop(kind, None)
                else:
                    self.host.faults[kind] = value
                if kind in self._counters:
                    self._counters[kind] = 0
                if kind == "drop_connection_after_module":
                    self._module_runs.clear()
            return self.current()

    def current(self) -> dict[str, Any]:
        return copy.deepcopy({k: v for k, v in self.host.faults.items() if k in FAULT_KINDS})

    def _count(self, kind: str) -> None:
        self.injected[kind] = self.injected.get(kind, 0) + 1

    def on_request(self) -> RequestFault:
        with self._lock:
            faults = self.host.faults
            result = RequestFault(delay=float(faults.get("delay") or 0.0))
            if "drop_connection" in faults:
                self._counters["drop_connection"] += 1
                if self._counters["drop_connection"] in faults["drop_connection"]:
                    self._count("drop_connection")
                    result.drop = True
                    return result
            spec = faults.get("wsman_fault")
            if spec:
                self._counters["wsman_fault"] += 1
                if self._counters["wsman_fault"] in spec["on_request"]:
                    self._count("wsman_fault")
                    result.fault = WSManFault(spec["code"], spec["message"])
            if result.delay:
                self._count("delay")
            return result

    def module_ran(self, fqcn: str) -> bool:
        """Count a run of the module that has finished on the host; when it is one of the runs
        ``drop_connection_after_module`` names, the request it ran in is not answered
        (``take_drop_after_module`` in the same server thread)."""
        with self._lock:
            table = self.host.faults.get("drop_connection_after_module") or {}
            short = fqcn.rsplit(".", 1)[-1]
            key = fqcn if fqcn in table else short if short in table else None
            if key is None:
                return False
            run = self._module_runs[key] = self._module_runs.get(key, 0) + 1
            if run not in table[key]:
                return False
            self._count("drop_connection_after_module")
            # The module runs synchronously in the thread that handles its WinRM request.
            self._drop_after.add(threading.get_ident())
            return True

    def take_drop_after_module(self) -> bool:
        """Whether the request this thread just handled ran a module whose answer must be lost."""
        with self._lock:
            ident = threading.get_ident()
            if ident not in self._drop_after:
                return False
            self._drop_after.discard(ident)
            return True

    def module_failure(self, fqcn: str) -> str | None:
        """The injected failure message for this module run, if any (consumes one ``times``)."""
        with self._lock:
            table = self.host.faults.get("module_failures") or {}
            short = fqcn.rsplit(".", 1)[-1]
            key = fqcn if fqcn in table else short if short in table else None
            if key is None:
                return None
            entry = table[key]
            if entry.get("times") is not None:
                entry["times"] -= 1
                if entry["times"] <= 0:
                    del table[key]
                    if not table:
                        self.host.faults.pop("module_failures", None)
            self._count("module_failures")
            return str(entry["msg"])

    def reboot_seconds(self) -> float | None:
        value = self.host.faults.get("reboot_seconds")
        return None if value is None else float(value)
