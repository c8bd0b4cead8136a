# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the mcr role: read what docker.exe, cri-dockerd.exe and the MCR installer print, and
build cri-dockerd's command line from the node's plan.

Each filter is a thin wrapper over ``plugins/module_utils/mcr_runtime.py``; its ValueError becomes
an AnsibleFilterError that names the filter. Documentation: one ``<filter>.yml`` sidecar per filter.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Mapping, Optional

from ansible_collections.winkube.node.plugins.module_utils import mcr_runtime as _mcr_runtime
from ansible_collections.winkube.node.plugins.module_utils.mcr import INSTALLER_REBOOT_EXIT_CODE
from ansible_collections.winkube.node.plugins.plugin_utils.filters import knowledge_filter


@knowledge_filter("mcr_version")
def mcr_version(output: Any, tool: Any = "docker") -> str:
    """The version a tool printed (``docker``, ``docker-server`` or ``cri-dockerd``)."""
    return _mcr_runtime.parse_tool_version(output, tool)


@knowledge_filter("mcr_installer_result")
def mcr_installer_result(result: Any, reboot_exit_code: Any = INSTALLER_REBOOT_EXIT_CODE) -> Dict[str, Any]:
    """What a run of the MCR installer means."""
    if isinstance(reboot_exit_code, bool) or not isinstance(reboot_exit_code, int):
        raise ValueError(f"reboot_exit_code must be an integer, got {reboot_exit_code!r}")
    outcome = _mcr_runtime.installer_outcome(result, reboot_exit_code)
    return {
        "state": outcome.state,
        "reboot_required": outcome.reboot_required,
        "failed": outcome.failed,
        "message": outcome.message,
    }


@knowledge_filter("mcr_cri_dockerd_args")
def mcr_cri_dockerd_args(plan: Any, docker_endpoint: Any, extra: Optional[Any] = None) -> List[str]:
    """cri-dockerd's arguments from the node's plan (``winkube_plan``)."""
    if not isinstance(plan, Mapping):
        raise ValueError(f"the plan must be the winkube_plan mapping, got {type(plan).__name__}")
    if plan.get("runtime") != "mcr" or not isinstance(plan.get("mcr"), Mapping):
        raise ValueError(f"the plan is for runtime {plan.get('runtime')!r}, not mcr")
    cri_dockerd = plan["mcr"].get("cri_dockerd")
    if not isinstance(cri_dockerd, Mapping):
        raise ValueError("the plan has no mcr.cri_dockerd block")
    if extra is not None and (isinstance(extra, (str, bytes)) or not isinstance(extra, (list, tuple))):
        raise ValueError(f"extra must be a list of arguments, got {type(extra).__name__}")
    return _mcr_runtime.cri_dockerd_arguments(
        plan.get("cri_endpoint"),
        docker_endpoint,
        plan.get("pause_image"),
        cni_bin_dir=cri_dockerd.get("cni_bin_dir"),
        cni_conf_dir=cri_dockerd.get("cni_conf_dir"),
        extra=extra,
    )


@knowledge_filter("mcr_image_digest")
def mcr_image_digest(inspect_output: Any, image: Any) -> str:
    """The digest ``docker image inspect`` records for an image's repository."""
    return _mcr_runtime.image_repo_digest(inspect_output, image)


class FilterModule:
    """winkube.node filters of the mcr role."""

    def filters(self) -> Dict[str, Callable[..., Any]]:
        return {
            "mcr_version": mcr_version,
            "mcr_installer_result": mcr_installer_result,
            "mcr_cri_dockerd_args": mcr_cri_dockerd_args,
            "mcr_image_digest": mcr_image_digest,
        }
