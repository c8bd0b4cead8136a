"""The frame every emulation runs in: registration, one module run, and the result it prints.

An emulation is a function ``(run: ModuleRun) -> None`` registered with ``@emulates(fqcn)``. It
reads ``run.params`` (already validated like the real module util would), changes ``run.host``,
fills ``run.result`` / ``run.diff`` and calls ``run.warn``/``run.fail``/``run.unhandled``. How the
JSON is assembled then depends on the module util the real ``.ps1`` uses (see ``argspec``):
Ansible.Basic adds ``invocation``, ``warnings`` and ``diff``; Legacy prints the result hashtable
as the module built it.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable
from typing import Any, NoReturn

from tests.simulator.contract import ModuleRequest
from tests.simulator.host import DiskFullError, SimulatorError, WindowsHost

from .argspec import FLAVOUR_BASIC, ModuleSpec, SpecOverrides, Validation, load_spec, mask_no_log, validate

__all__ = [
    "REGISTRY",
    "ModuleFailed",
    "ModuleNotEmulated",
    "ModuleRun",
    "Registration",
    "UnhandledError",
    "emulates",
    "execute",
]


class ModuleNotEmulated(SimulatorError):
    """No emulation is registered for the requested module."""

    def __init__(self, name: str) -> None:
        super().__init__(f"simulator: module {name} is not emulated")
        self.module = name


class ModuleFailed(Exception):
    """``$module.FailJson(msg)`` / ``Fail-Json $result msg``: ``extra`` keys are added to the result."""

    def __init__(self, msg: str, **extra: Any) -> None:
        super().__init__(msg)
        self.msg = msg
        self.extra = extra


class UnhandledError(Exception):
    """An exception the ``.ps1`` does not catch: the module wrapper prints "Unhandled exception while
    executing module: ..." and none of the module's own result keys."""


@dataclasses.dataclass
class ModuleRun:
    """One module invocation on one host."""

    host: WindowsHost
    request: ModuleRequest
    spec: ModuleSpec
    params: dict[str, Any]
    module_name: str
    result: dict[str, Any] = dataclasses.field(default_factory=lambda: {"changed": False})
    diff: dict[str, Any] = dataclasses.field(default_factory=dict)
    warnings: list[str] = dataclasses.field(default_factory=list)

    @property
    def check_mode(self) -> bool:
        return self.request.check_mode

    @property
    def diff_mode(self) -> bool:
        return self.request.diff

    def warn(self, message: str) -> None:
        self.warnings.append(message)

    def fail(self, msg: str, **extra: Any) -> NoReturn:
        raise ModuleFailed(msg, **extra)

    def unhandled(self, msg: str) -> NoReturn:
        raise UnhandledError(msg)

    def pseudo_pid(self) -> int:
        """A process id for names the real module builds from ``$pid`` (backup files)."""
        return 2000 + next(_PIDS)


_PIDS = itertools.count(4)

Emulation = Callable[[ModuleRun], None]


@dataclasses.dataclass(frozen=True)
class Registration:
    fqcn: str
    func: Emulation
    overrides: SpecOverrides


REGISTRY: dict[str, Registration] = {}


def emulates(fqcn: str, overrides: SpecOverrides | None = None) -> Callable[[Emulation], Emulation]:
    """Register ``func`` as the emulation of ``fqcn`` (``overrides``: what the docs do not state)."""

    def register(func: Emulation) -> Emulation:
        if fqcn in REGISTRY:
            raise SimulatorError(f"module {fqcn} is registered twice")
        REGISTRY[fqcn] = Registration(fqcn, func, overrides or SpecOverrides())
        return func

    return register


def spec_of(fqcn: str) -> ModuleSpec:
    reg = REGISTRY.get(fqcn)
    if reg is None:
        raise ModuleNotEmulated(fqcn)
    return load_spec(fqcn, reg.overrides)


# --------------------------------------------------------------------------------------------
# assembling the printed result


def _basic_output(run: ModuleRun, validation: Validation, failure: ModuleFailed | None) -> dict[str, Any]:
    out = dict(run.result)
    if failure is not None:
        out.update(failure.extra)
        out["failed"] = True
        out["msg"] = mask_no_log(failure.msg, validation.no_log_values)
    out["invocation"] = {"module_args": mask_no_log(validation.params, validation.no_log_values)}
    if run.warnings:
        out["warnings"] = list(run.warnings)
    if run.diff_mode and run.diff:
        out["diff"] = run.diff
    return out


def _legacy_output(run: ModuleRun, failure: ModuleFailed | None) -> dict[str, Any]:
    out = dict(run.result)
    if run.warnings:  # Add-Warning
        out["warnings"] = list(run.warnings)
    if failure is not None:
        out.update(failure.extra)
        out["msg"] = failure.msg
        out["failed"] = True
    out.setdefault("changed", False)
    return out


def _unhandled_output(message: str) -> dict[str, Any]:
    # module_wrapper.ps1 Write-AnsibleErrorJson: only these three keys.
    return {
        "failed": True,
        "msg": f"Unhandled exception while executing module: {message}",
        "exception": f"{message}\r\n(simulated: raised by the module emulation, no PowerShell stack trace)",
    }


def _early_output(spec: ModuleSpec, validation: Validation) -> dict[str, Any] | None:
    """The result when the module util stops before the module body runs (skip or bad arguments)."""
    basic = spec.flavour == FLAVOUR_BASIC
    if validation.skipped:
        if basic:
            return {
                "changed": False,
                "skipped": True,
                "msg": f"remote module ({validation.module_name}) does not support check mode",
                "invocation": {"module_args": mask_no_log(validation.params, validation.no_log_values)},
            }
        return {"changed": False, "skipped": True, "msg": "remote module does not support check mode"}
    if validation.error is not None:
        if basic:
            return {
                "changed": False,
                "failed": True,
                "msg": mask_no_log(validation.error, validation.no_log_values),
                "invocation": {"module_args": mask_no_log(validation.params, validation.no_log_values)},
            }
        return {"changed": False, "failed": True, "msg": validation.error}
    return None


def execute(host: WindowsHost, request: ModuleRequest) -> dict[str, Any]:
    """Run one module request against ``host`` and return the JSON the real module prints."""
    reg = REGISTRY.get(request.name)
    if reg is None:
        raise ModuleNotEmulated(request.name)
    spec = load_spec(reg.fqcn, reg.overrides)
    validation = validate(spec, request.args, request.internal, host.environment())
    early = _early_output(spec, validation)
    if early is not None:
        return early
    run = ModuleRun(host=host, request=request, spec=spec, params=validation.params, module_name=validation.module_name)
    failure: ModuleFailed | None = None
    try:
        reg.func(run)
    except ModuleFailed as exc:
        failure = exc
    except UnhandledError as exc:
        return _unhandled_output(str(exc))
    except DiskFullError as exc:
        return _unhandled_output(str(exc.strerror))
    except SimulatorError as exc:
        text = str(exc)
        failure = ModuleFailed(text if text.startswith("simulator:") else f"simulator: {text}")
    if spec.flavour == FLAVOUR_BASIC:
        return _basic_output(run, validation, failure)
    return _legacy_output(run, failure)
