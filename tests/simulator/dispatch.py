"""Run one decoded WinRS command on a simulated host: the glue between the decoder and the
module emulations, executor helpers, plain-script registry and executables.

For a module run it counts the run, records a become wrapper (user only; nothing else of it is
honoured), applies an injected module failure, calls the module table — by default
``tests.simulator.modules.run_module(host, request)``, imported on first use so the transport
works before (and without) the emulations — and runs async modules synchronously, storing the
final result in ``host.async_jobs[jid]`` and in the job file, as ``async_status`` reads it.

Every failure is loud: an unknown wrapper, module, helper or script gives rc 1 and a message
naming it.
"""

from __future__ import annotations

import dataclasses
import importlib
import itertools
import json
import logging
import traceback
from collections.abc import Callable
from typing import Any

from tests.simulator.contract import ExecResult, ModuleRequest
from tests.simulator.decoder import (
    CmdInvocation,
    CollectionIndex,
    DecodeError,
    HelperInvocation,
    ModuleInvocation,
    ScriptInvocation,
    bytes_record,
    decode,
)
from tests.simulator.faults import FaultInjector
from tests.simulator.host import DiskFullError, SimulatorError, WindowsHost, expand_env
from tests.simulator.scripts import RebootControl, ScriptContext, ScriptRegistry, clixml_error, run_helper

__all__ = ["Dispatcher", "ExecContext", "ModuleRunner"]

log = logging.getLogger("tests.simulator")

ModuleRunner = Callable[[WindowsHost, ModuleRequest], dict[str, Any]]
ExecutableRunner = Callable[[WindowsHost, list[str], bytes | None, str | None], ExecResult]
TraceSink = Callable[[dict[str, Any]], None]

_PIDS = itertools.count(4100, 4)


@dataclasses.dataclass
class ExecContext:
    host: WindowsHost
    faults: FaultInjector
    reboot: RebootControl


def _json(result: dict[str, Any]) -> str:
    return json.dumps(result, default=str) + "\r\n"


def _failed(msg: str, **extra: Any) -> dict[str, Any]:
    return {"failed": True, "changed": False, "msg": msg, **extra}


def _prefixed(exc: BaseException) -> str:
    text = str(exc)
    return text if text.startswith("simulator: ") else f"simulator: {text}"


def _count(stats: dict[str, Any], key: str, name: str) -> None:
    table = stats.setdefault(key, {})
    table[name] = table.get(name, 0) + 1


class Dispatcher:
    """Decode and run WinRS commands. ``module_runner`` and ``executables`` are injectable so
    tests can run the transport against a table of their own."""

    def __init__(
        self,
        *,
        index: CollectionIndex,
        scripts: ScriptRegistry,
        module_runner: ModuleRunner | None = None,
        executables: ExecutableRunner | None = None,
        trace: TraceSink | None = None,
    ) -> None:
        self.index = index
        self.scripts = scripts
        self._module_runner = module_runner
        self._executables = executables
        self._trace = trace

    # ---------------------------------------------------------------- lazily bound layers

    def module_runner(self) -> ModuleRunner:
        if self._module_runner is None:
            self._module_runner = _import_attr("tests.simulator.modules", "run_module")
        return self._module_runner

    def executables(self) -> ExecutableRunner:
        if self._executables is None:
            self._executables = _import_attr("tests.simulator.executables", "run")
        return self._executables

    # ---------------------------------------------------------------- entry point

    def run(self, ctx: ExecContext, command: str, arguments: list[str], stdin: bytes) -> ExecResult:
        host = ctx.host
        with host.lock:
            host.stats["commands"] += 1
        record: dict[str, Any] = {"host": host.name, "command": command, "arguments": arguments}
        try:
            invocation, payload = decode(command, arguments, stdin, self.index)
        except DecodeError as exc:
            log.error("%s: %s", host.name, exc)
            result = ExecResult(1, _json(_failed(str(exc))), clixml_error(str(exc)))
            record.update(kind="undecodable", error=str(exc), stdin_size=len(stdin))
            self._emit(record, result)
            return result
        if payload is not None:
            record["stdin_payload"] = payload.record()
        else:
            record["stdin"] = bytes_record(stdin)
        if isinstance(invocation, ModuleInvocation):
            result = self._module(ctx, invocation, record)
        elif isinstance(invocation, HelperInvocation):
            result = self._helper(ctx, invocation, record)
        elif isinstance(invocation, ScriptInvocation):
            result = self._script(ctx, invocation, stdin, record)
        else:
            result = self._cmd(ctx, invocation, stdin, record)
        self._emit(record, result)
        return result

    def _emit(self, record: dict[str, Any], result: ExecResult) -> None:
        if self._trace is None:
            return
        record["result"] = {"rc": result.rc, "stdout": result.stdout[:4000], "stderr": result.stderr[:4000]}
        try:
            self._trace(record)
        except OSError as exc:  # a trace must never break a run
            log.warning("trace not written: %s", exc)

    # ---------------------------------------------------------------- modules

    def _module(self, ctx: ExecContext, inv: ModuleInvocation, record: dict[str, Any]) -> ExecResult:
        host = ctx.host
        req = inv.request
        record.update(
            kind="module",
            module=req.name,
            wrappers=[w.name for w in inv.wrappers],
            # a trace is a debugging aid; it still must not leak what the task hides
            args="(hidden: no_log)" if req.no_log else req.args,
            internal=req.internal,
            source_sha256=req.source_sha256,
            installed_path=inv.installed_path,
        )
        log.info(
            "%s: module %s%s", host.name, req.name, f" via {[w.name for w in inv.wrappers]}" if inv.wrappers else ""
        )
        with host.lock:
            host.count_module(req.name)
            become = inv.become
            if become is not None:
                # Recorded, never honoured: the emulations run as the connection user.
                _count(host.stats, "become", str(become.params.get("BecomeUser") or "SYSTEM"))
            injected = ctx.faults.module_failure(req.name)
            result = _failed(injected) if injected is not None else self._call_module(host, req)
            if injected is None:
                ctx.faults.module_ran(req.name)
            async_params = inv.async_params
            if async_params is not None:
                return self._async(host, req, async_params, result)
        return ExecResult(1 if result.get("failed") else 0, _json(result))

    def _call_module(self, host: WindowsHost, req: ModuleRequest) -> dict[str, Any]:
        try:
            runner = self.module_runner()
        except SimulatorError as exc:
            return _failed(f"{_prefixed(exc)}; cannot run {req.name}")
        try:
            result = runner(host, req)
        except SimulatorError as exc:
            return _failed(_prefixed(exc))
        except Exception as exc:
            log.exception("%s: emulation of %s raised", host.name, req.name)
            return _failed(
                f"simulator: emulation of {req.name} raised {type(exc).__name__}: {exc}",
                exception=traceback.format_exc(),
            )
        if not isinstance(result, dict):
            return _failed(f"simulator: emulation of {req.name} returned {type(result).__name__}, not a result dict")
        return result

    def _async(
        self, host: WindowsHost, req: ModuleRequest, params: dict[str, Any], result: dict[str, Any]
    ) -> ExecResult:
        """async_wrapper.ps1 + async_watchdog.ps1, run to completion before answering."""
        jid = f"{params.get('AsyncJid')}.{next(_PIDS)}"
        async_dir = expand_env(str(params.get("AsyncDir") or r"%USERPROFILE%\.ansible_async"), host.environment())
        results_file = host.norm(async_dir + "\\" + jid)
        started = {
            "started": True,
            "finished": False,
            "results_file": results_file,
            "ansible_job_id": jid,
            "_ansible_suppress_tmpdir_delete": True,
            "ansible_async_watchdog_pid": next(_PIDS),
        }
        final = {**started, "finished": True, **result}
        try:
            host.mkdir(async_dir)
            host.write_file(results_file, json.dumps(final, default=str).encode())
        except DiskFullError as exc:
            return ExecResult(1, _json(_failed(f'Exception calling "WriteAllText": {exc.strerror}')))
        host.async_jobs[jid] = final
        log.info("%s: async job %s (%s) finished synchronously", host.name, jid, req.name)
        return ExecResult(0, _json(started))

    # ---------------------------------------------------------------- helpers, scripts, cmd

    def _helper(self, ctx: ExecContext, inv: HelperInvocation, record: dict[str, Any]) -> ExecResult:
        record.update(kind="helper", helper=inv.name, params=inv.params)
        log.info("%s: helper %s %s", ctx.host.name, inv.name, inv.params)
        with ctx.host.lock:
            _count(ctx.host.stats, "scripts", inv.name)
            return run_helper(ctx.host, inv.name, inv.params, inv.extra_input)

    def _script(self, ctx: ExecContext, inv: ScriptInvocation, stdin: bytes, record: dict[str, Any]) -> ExecResult:
        record.update(kind="script", origin=inv.origin, script=inv.script[:4000], script_args=inv.args)
        host = ctx.host
        with host.lock:
            found = self.scripts.match(inv.script)
            if found is None:
                first = inv.script.strip().splitlines()[0][:160] if inv.script.strip() else ""
                msg = f"simulator: unrecognised PowerShell script: {first!r}"
                log.error("%s: %s", host.name, msg)
                _count(host.stats, "scripts", "<unrecognised>")
                record["handler"] = None
                return ExecResult(1, "", clixml_error(msg))
            name, handler, match = found
            record["handler"] = name
            log.info("%s: script %s", host.name, name)
            _count(host.stats, "scripts", name)
            try:
                return handler(ScriptContext(host=host, reboot=ctx.reboot, args=inv.args, stdin=stdin), match)
            except SimulatorError as exc:
                log.error("%s: %s", host.name, exc)
                return ExecResult(1, "", clixml_error(_prefixed(exc)))

    def _cmd(self, ctx: ExecContext, inv: CmdInvocation, stdin: bytes, record: dict[str, Any]) -> ExecResult:
        record.update(kind="cmd", argv=inv.argv)
        host = ctx.host
        try:
            run = self.executables()
        except SimulatorError as exc:
            return ExecResult(1, "", f"{_prefixed(exc)}; cannot run {inv.argv[0]}\r\n")
        with host.lock:
            _count(host.stats, "scripts", "cmd:" + inv.argv[0].rsplit("\\", 1)[-1].lower())
            try:
                return run(host, inv.argv, stdin or None, None)
            except SimulatorError as exc:
                return ExecResult(1, "", _prefixed(exc) + "\r\n")


def _import_attr(module: str, attr: str) -> Any:
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name == module:
            raise SimulatorError(f"simulator: {module} is not available") from exc
        raise
    fn = getattr(mod, attr, None)
    if fn is None:
        raise SimulatorError(f"simulator: {module} has no {attr}()")
    return fn
