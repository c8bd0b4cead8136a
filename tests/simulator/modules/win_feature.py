"""ansible.windows.win_feature (win_feature.ps1, a Legacy module over Install-/Uninstall-WindowsFeature).

A feature whose ``restart_needed`` is set (Containers, Hyper-V) is only *pending* after the install:
``install_pending`` stays until ``host.reboot()``, the result says ``reboot_required: true`` and
``exitcode: SuccessRestartRequired``, and ``ansible_reboot_pending`` becomes true. The services a
feature brings (hns/vmcompute for Containers, vmms/vmcompute for Hyper-V) appear when the feature
is really installed, i.e. at once or after the reboot.
"""

from __future__ import annotations

import zlib
from typing import Any

from tests.simulator.host import Feature, Service, SimulatorError, WindowsHost

from ._core import ModuleRun, emulates

# Management tools Install-WindowsFeature -IncludeManagementTools adds, per feature (lower-case).
_MANAGEMENT_TOOLS = {"hyper-v": ("RSAT-Hyper-V-Tools", "Hyper-V-PowerShell")}

# Services a feature installs: (name, display name, start mode); windows-ground-truth §3.2.
_FEATURE_SERVICES: dict[str, tuple[tuple[str, str, str], ...]] = {
    "containers": (("hns", "Host Network Service", "manual"), ("vmcompute", "Hyper-V Host Compute Service", "manual")),
    "hyper-v": (
        ("vmms", "Hyper-V Virtual Machine Management", "auto"),
        ("vmcompute", "Hyper-V Host Compute Service", "manual"),
    ),
}

_HOOK_FLAG = "win_feature.boot_hook"


def _feature_id(feature: Feature) -> int:
    # The ServerManager feature Id is not modelled; a stable number keeps the result shape.
    return 1000 + zlib.crc32(feature.name.lower().encode()) % 9000


def ensure_feature_services(host: WindowsHost) -> None:
    """Create the services of every installed feature that are not there yet (a boot hook too)."""
    for key, services in _FEATURE_SERVICES.items():
        feature = host.features.get(key)
        if feature is None or not feature.installed:
            continue
        for name, display, mode in services:
            if host.service(name) is None:
                host.services[name.lower()] = Service(
                    name=name,
                    display_name=display,
                    start_mode=mode,
                    path=rf"C:\Windows\system32\svchost.exe -k {name}",
                    service_type="win32_share_process",
                )


def _register_boot_hook(host: WindowsHost) -> None:
    if not host.extra.get(_HOOK_FLAG):
        host.boot_hooks.append(ensure_feature_services)
        host.extra[_HOOK_FLAG] = True


def _feature_result(feature: Feature) -> dict[str, Any]:
    return {
        "id": _feature_id(feature),
        "display_name": feature.display_name,
        "message": [],
        "reboot_required": feature.restart_needed,
        "skip_reason": "NotSkipped",
        "success": True,
    }


def _resolve(host: WindowsHost, names: list[str], include_tools: bool) -> list[Feature]:
    out: list[Feature] = []
    for name in names:
        feature = host.features.get(str(name).lower())
        if feature is None:
            known = ", ".join(sorted(f.name for f in host.features.values()))
            raise SimulatorError(f"simulator: Windows feature '{name}' is not modelled on this host (known: {known})")
        out.append(feature)
        if include_tools:
            out.extend(
                host.features[t.lower()]
                for t in _MANAGEMENT_TOOLS.get(feature.name.lower(), ())
                if t.lower() in host.features
            )
    return _unique(out)


def _unique(features: list[Feature]) -> list[Feature]:
    seen: set[str] = set()
    out = []
    for f in features:
        if f.name.lower() not in seen:
            seen.add(f.name.lower())
            out.append(f)
    return out


def _install(run: ModuleRun, features: list[Feature]) -> list[Feature]:
    todo = [f for f in features if not f.installed and not f.install_pending]
    if not run.check_mode:
        for feature in todo:
            if feature.restart_needed:
                feature.install_pending = True
                run.host.reboot_pending = True
            else:
                feature.installed = True
        _register_boot_hook(run.host)
        ensure_feature_services(run.host)
    return todo


def _uninstall(run: ModuleRun, features: list[Feature]) -> list[Feature]:
    todo = [f for f in features if f.installed or f.install_pending]
    if not run.check_mode:
        for feature in todo:
            feature.installed = False
            feature.install_pending = False
            if feature.restart_needed:
                run.host.reboot_pending = True
    return todo


@emulates("ansible.windows.win_feature")
def win_feature(run: ModuleRun) -> None:
    p = run.params
    include_tools = bool(p["include_management_tools"])
    if p["state"] == "present" and p["source"] and not run.host.exists(p["source"]):
        run.fail(f"Failed to find source path {p['source']} for feature install")
    features = _resolve(run.host, p["name"], include_tools)
    changed = _install(run, features) if p["state"] == "present" else _uninstall(run, features)
    restart = any(f.restart_needed for f in changed)
    run.result["feature_result"] = [_feature_result(f) for f in changed]
    run.result["changed"] = bool(changed)
    run.result["success"] = True
    run.result["exitcode"] = ("SuccessRestartRequired" if restart else "Success") if changed else "NoChangeNeeded"
    run.result["reboot_required"] = restart
    run.result["failed"] = False
