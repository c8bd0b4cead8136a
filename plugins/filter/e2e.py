# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters for the e2e role: its input check, the credentials TOML, the run plan and the build's up-to-date
decision.

Thin wrappers over ``plugins/module_utils/e2e.py``; every ValueError becomes an AnsibleFilterError naming the
filter. Documentation: the ``e2e_*.yml`` files beside this one.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Mapping, Optional

from ansible_collections.winkube.node.plugins.module_utils import e2e as _e2e
from ansible_collections.winkube.node.plugins.plugin_utils.filters import knowledge_filter


@knowledge_filter("e2e_input_check")
def e2e_input_check(inputs: Mapping[str, Any], observed: Mapping[str, Any]) -> Dict[str, Any]:
    """Every unusable input (never a credential's value) and the one failure message for them."""
    problems = _e2e.input_problems(inputs, observed)
    return {"ok": not problems, "problems": problems, "message": _e2e.problems_message(problems) if problems else ""}


@knowledge_filter("e2e_credentials_toml")
def e2e_credentials_toml(credentials: Mapping[str, Any]) -> str:
    """The AZURE_CREDENTIALS file's text; it holds the secrets, so only a no_log task may use it."""
    return _e2e.render_credentials_toml(credentials)


@knowledge_filter("e2e_run_plan")
def e2e_run_plan(inputs: Mapping[str, Any], go_mod: str, git_status: str) -> Dict[str, Any]:
    """The checkout's state, the build, binaries, stamp, repo list, command and environment of the run."""
    return _e2e.run_plan(inputs, go_mod, git_status)


def _checksums(stats: Mapping[str, Mapping[str, Any]]) -> Dict[str, Optional[str]]:
    """Binary name to SHA-256 from ansible.builtin.stat results (None for a binary that is not there)."""
    return {name: (stat.get("checksum") if stat.get("exists") else None) for name, stat in stats.items()}


@knowledge_filter("e2e_build_decision")
def e2e_build_decision(
    stats: Mapping[str, Mapping[str, Any]],
    stamp: Optional[Mapping[str, Any]],
    plan: Mapping[str, Any],
) -> Dict[str, Any]:
    """Whether the built binaries are up to date, and why."""
    return _e2e.build_decision(
        stamp,
        head=plan["head"],
        dirty=plan["dirty"],
        platform=plan["platform"],
        targets=plan["targets"],
        checksums=_checksums(stats),
    )


@knowledge_filter("e2e_build_stamp")
def e2e_build_stamp(stats: Mapping[str, Mapping[str, Any]], plan: Mapping[str, Any]) -> Dict[str, Any]:
    """The stamp recorded beside the binaries after a build from a clean tree."""
    checksums = _checksums(stats)
    missing = sorted(name for name, checksum in checksums.items() if not checksum)
    if missing:
        raise ValueError("cannot stamp a build without %s" % ", ".join(missing))
    return _e2e.build_stamp(plan["head"], plan["platform"], plan["targets"], checksums)


class FilterModule:
    """winkube.node filters for the e2e role."""

    def filters(self) -> Dict[str, Callable[..., Any]]:
        return {
            "e2e_input_check": e2e_input_check,
            "e2e_credentials_toml": e2e_credentials_toml,
            "e2e_run_plan": e2e_run_plan,
            "e2e_build_decision": e2e_build_decision,
            "e2e_build_stamp": e2e_build_stamp,
        }
