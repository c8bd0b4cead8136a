# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Decisions of a Windows Update patch run on a joined node (playbooks/patch.yml, roles/patch).

* ``patch_actions``: from the Node object and the update search (``ansible.windows.win_updates`` with
  ``state: searched``), whether the node is patched (updates are selected), taken up again (a previous
  run marked it and stopped before uncordoning) or left alone, and whether it stays cordoned after
  (an operator cordoned it before the run).
* ``patch_services``: the services that must run again after the reboots (kubelet and the runtime's).
* ``patch_image_check``: whether the pause image and the declared workload images still run on the
  node's build after the update (Microsoft's rule and the runtime's manifest matcher, from
  ``images.py``). Monthly cumulative updates change only the revision, which matters for process
  isolation on Windows Server 2016; an update that changes the build matters everywhere.
* ``patch_report``: what the run did to the node, revision before and after and the updates.

Pure functions; every bad input raises ValueError with what was wrong and what would work.
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Tuple

from ansible_collections.winkube.node.plugins.module_utils import images as _images
from ansible_collections.winkube.node.plugins.module_utils import pause as _pause
from ansible_collections.winkube.node.plugins.module_utils.node_join import ready_condition
from ansible_collections.winkube.node.plugins.module_utils.versions import parse_version

# The annotation a patch run puts on the Node before it drains it and removes after the uncordon:
# a node that still carries it was left cordoned by a run that stopped, and is taken up again.
PATCHING_ANNOTATION = "winkube.node/patching"
# Its values: whether the run uncordons the node at its end (the node was cordoned before: it stays so).
UNCORDON = "uncordon"
KEEP_CORDONED = "keep-cordoned"
KUBELET_SERVICE = "kubelet"


def _mapping(value: Any, what: str, fix: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ValueError(f"{what} must be a mapping, got {type(value).__name__}; {fix}")
    return value


def _update_entries(result: Any, key: str) -> List[Dict[str, Any]]:
    """The entries of a win_updates result's ``updates``/``filtered_updates``, sorted by title."""
    value = result.get(key)
    if value is None:
        return []
    if not isinstance(value, Mapping):
        raise ValueError(f"the win_updates result's {key} must be a mapping of update ids, got {type(value).__name__}")
    entries = []
    for uid, info in value.items():
        if not isinstance(info, Mapping) or not isinstance(info.get("title"), str):
            raise ValueError(f"the win_updates result's {key}[{uid}] has no title: not a win_updates update entry")
        kb = info.get("kb") or []
        if not isinstance(kb, list):
            raise ValueError(f"the win_updates result's {key}[{uid}].kb must be a list, got {type(kb).__name__}")
        entry = {"id": str(uid), "title": info["title"], "kb": [str(k) for k in kb]}
        for optional in ("installed", "downloaded", "failure_hresult_code", "failure_msg", "filtered_reasons"):
            if optional in info:
                entry[optional] = info[optional]
        entries.append(entry)
    return sorted(entries, key=lambda e: (e["title"], e["id"]))


def _search(result: Any) -> Mapping[str, Any]:
    result = _mapping(result, "the update search", "register the ansible.windows.win_updates task (state: searched)")
    if result.get("failed"):
        raise ValueError(f"the update search failed: {result.get('msg', 'no message')}")
    if "updates" not in result:
        raise ValueError("the update search has no 'updates': it is not a win_updates result")
    return result


def _node_meta(node: Any, node_name: str) -> Tuple[Mapping[str, Any], Mapping[str, Any]]:
    if node is None:
        raise ValueError(
            f"the cluster has no Node {node_name}: a patch run needs a joined node; provision and join it first "
            "(or set patch_node_name to its Node's name)"
        )
    node = _mapping(node, f"Node {node_name}", "pass the Node object kubernetes.core.k8s_info returns")
    return _mapping(node.get("metadata") or {}, f"Node {node_name} metadata", "pass a Node object"), node


def patch_actions(node: Any, search: Any, node_name: str) -> Dict[str, Any]:
    """What a patch run does with one node.

    ``patch``: updates are selected, so the node is drained, updated and uncordoned. ``resume``: the Node
    carries the annotation of a run that stopped before its uncordon; it is waited for, checked and
    uncordoned even when no update is left. ``keep_cordoned``: the Node was cordoned before this run (and
    not by a patch run): it is drained and updated, but left cordoned. A node that is not Ready before its
    patch is refused: after the reboots, Ready is the proof the patch did no harm.
    """
    result = _search(search)
    metadata, node_obj = _node_meta(node, node_name)
    updates = _update_entries(result, "updates")
    filtered = _update_entries(result, "filtered_updates")
    annotations = metadata.get("annotations") or {}
    mark = annotations.get(PATCHING_ANNOTATION)
    if mark not in (None, UNCORDON, KEEP_CORDONED):
        raise ValueError(
            f"Node {node_name} has annotation {PATCHING_ANNOTATION}={mark!r}, which a patch run never writes "
            f"({UNCORDON} or {KEEP_CORDONED}); remove it or set it to one of those"
        )
    resume = mark is not None
    cordoned = bool((node_obj.get("spec") or {}).get("unschedulable"))
    condition = ready_condition(node_obj) or {}
    ready = condition.get("status") == "True"
    patch = bool(updates)
    if patch and not ready and not resume:
        state = ", ".join(f"{k}={condition[k]}" for k in ("status", "reason", "message") if condition.get(k))
        raise ValueError(
            f"Node {node_name} is not Ready before its patch ({state or 'no Ready condition'}): a patch is proven "
            "harmless by the node being Ready again after its reboots; fix the node first (playbooks/collect_logs.yml "
            "gathers its logs), then run the patch again"
        )
    if resume:
        reason = f"a previous patch run left Node {node_name} cordoned; it is finished now"
    elif patch:
        reason = f"{len(updates)} update(s) to install"
    else:
        reason = "no update to install"
    return {
        "node": node_name,
        "patch": patch,
        "resume": resume,
        "run": patch or resume,
        "ready": ready,
        "keep_cordoned": mark == KEEP_CORDONED if resume else cordoned,
        "mark": mark or (KEEP_CORDONED if cordoned else UNCORDON),
        "updates": updates,
        "filtered_updates": filtered,
        "reason": reason,
    }


def patch_services(plan: Any, cri_dockerd_service: str = "cri-dockerd") -> List[str]:
    """kubelet and the services of the plan's runtime: what runs again after the reboots."""
    plan = _mapping(plan, "winkube_plan", "run the winkube.node.preflight role first")
    runtime = plan.get("runtime")
    if runtime == "containerd":
        block = _mapping(plan.get("containerd"), "winkube_plan.containerd", "run the winkube.node.preflight role first")
        services = [block.get("service_name")]
    elif runtime == "mcr":
        block = _mapping(plan.get("mcr"), "winkube_plan.mcr", "run the winkube.node.preflight role first")
        services = [block.get("service_name"), cri_dockerd_service]
    else:
        raise ValueError(f"winkube_plan.runtime {runtime!r} is neither containerd nor mcr")
    if not all(isinstance(s, str) and s for s in services):
        raise ValueError(f"winkube_plan names no service for runtime {runtime}: run the winkube.node.preflight role")
    return [KUBELET_SERVICE, *services]


def _os_version(windows_node: Any, what: str) -> str:
    node = _mapping(windows_node, what, "pass the windows_node fact winkube.node.windows_facts sets")
    value = node.get("os_version")
    if not isinstance(value, str) or value.count(".") != 3:
        raise ValueError(f"{what}.os_version must be 10.0.<build>.<revision>, got {value!r}")
    return value


def _matcher(plan: Mapping[str, Any]) -> Tuple[Optional[Any], Optional[str]]:
    """The containerd release whose manifest matcher is checked, or why only Microsoft's rule is."""
    if plan.get("runtime") != "containerd":
        return None, "the Mirantis Container Runtime engine's manifest matcher is not modelled"
    version = parse_version(plan.get("runtime_version"), "winkube_plan.runtime_version", True)
    try:
        _images.matcher_profile(version)
    except ValueError as exc:
        return None, str(exc)
    return version, None


def _check(host: str, image_os_version: Any, containerd: Any, limitation: Optional[str]) -> Tuple[Optional[bool], str]:
    """True/False, or None when only Microsoft's rule could be evaluated (and allows it)."""
    try:
        windows = _images.image_compatible(host, image_os_version, "process")
        if not windows.compatible:
            return False, windows.reason
        if limitation is not None:
            return None, f"{windows.reason}; the runtime's manifest matcher is not checked: {limitation}"
        result = _images.image_compatible(host, image_os_version, "process", containerd)
    except ValueError as exc:
        return False, str(exc)
    return result.compatible, result.reason


def _pause_candidates(plan: Mapping[str, Any]) -> Tuple[List[str], str]:
    image = plan.get("pause_image")
    try:
        return list(_pause.pause_image_variants(image).windows), "the knowledge base's variants"
    except ValueError as exc:
        planned = [str(t) for t in plan.get("pause_image_variants") or []]
        return planned, f"the variants the plan accepted ({exc})"


def patch_image_check(windows_node: Any, plan: Any) -> Dict[str, Any]:
    """Whether the pause image and the plan's workload images still run on the node after the update.

    ``windows_node`` is the fact winkube.node.windows_facts sets, read again after the update. The pause
    image runs when one of its Windows variants does; each workload image must run itself. ``ok`` is false
    when one of them cannot run (``problems`` says which and why); an image only Microsoft's rule could be
    checked for (MCR, a containerd release whose matcher is not modelled) is ``checked: null``.
    """
    host = _os_version(windows_node, "windows_node")
    plan = _mapping(plan, "winkube_plan", "run the winkube.node.preflight role first")
    containerd, limitation = _matcher(plan)
    problems: List[str] = []
    image = plan.get("pause_image")
    candidates, source = _pause_candidates(plan)
    variants = [(tag, *_check(host, tag, containerd, limitation)) for tag in candidates]
    fitting = [v for v in variants if v[1] is not False]
    if not candidates:
        pause = {"image": image, "checked": None, "variant": None, "reason": f"not checked: {source}"}
    elif fitting:
        tag, ok, reason = next((v for v in fitting if v[1]), fitting[0])
        pause = {"image": image, "checked": ok, "variant": tag, "reason": reason}
    else:
        reasons = "; ".join(f"{tag}: {reason}" for tag, _ok, reason in variants)
        pause = {"image": image, "checked": False, "variant": None, "reason": reasons}
        problems.append(f"pause image {image} has no Windows variant ({source}) that runs on {host}: {reasons}")
    workloads = []
    for raw in plan.get("workload_images") or []:
        entry = _mapping(raw, "winkube_plan.workload_images[]", "run the winkube.node.preflight role first")
        ok, reason = _check(host, entry.get("os_version"), containerd, limitation)
        workloads.append(
            {"image": entry.get("image"), "os_version": entry.get("os_version"), "checked": ok, "reason": reason}
        )
        if ok is False:
            problems.append(f"workload image {entry.get('image')} (os.version {entry.get('os_version')}): {reason}")
    return {"os_version": host, "ok": not problems, "pause": pause, "workloads": workloads, "problems": problems}


def _revision(windows_node: Any, what: str) -> Tuple[str, int, int]:
    version = _os_version(windows_node, what)
    build, revision = version.split(".")[2:]
    if not build.isdigit() or not revision.isdigit():
        raise ValueError(f"{what}.os_version must be 10.0.<build>.<revision>, got {version!r}")
    return version, int(build), int(revision)


def patch_report(
    before: Any, after: Any, updates: Any, actions: Any, *, check_mode: bool = False, timeline: Any = None
) -> Dict[str, Any]:
    """What the patch run did to one node: its version before and after, the updates and a summary line.

    ``before``/``after`` are windows_facts' ``windows_node`` before the run and after the update (``after``
    null when nothing was installed: check mode, nothing to do). ``updates`` is the win_updates result of the
    install (or, in check mode and when nothing is to do, of the search). ``actions`` is ``patch_actions``;
    ``timeline`` (when the drain started, the node was Ready again, uncordoned) is copied into the report.
    """
    if timeline is not None and not isinstance(timeline, Mapping):
        raise ValueError(f"timeline must be a mapping of step names to times, got {type(timeline).__name__}")
    actions = _mapping(actions, "actions", "pass the result of winkube.node.patch_actions")
    node = str(actions.get("node") or "?")
    result = _mapping(updates, "the win_updates result", "register the ansible.windows.win_updates task")
    os_before, build_before, revision_before = _revision(before, "windows_node before the patch")
    if after is None:
        os_after, build_after, revision_after = os_before, build_before, revision_before
    else:
        os_after, build_after, revision_after = _revision(after, "windows_node after the patch")
    entries = _update_entries(result, "updates")
    installed = [e for e in entries if e.get("installed")]
    failed = [e for e in entries if "failure_hresult_code" in e]
    kbs = ", ".join(("KB" + e["kb"][0]) if e["kb"] else e["title"] for e in (entries if check_mode else installed))
    if check_mode:
        status = "would install" if entries else "up to date"
        summary = f"{node}: {os_before}; would install {len(entries)} update(s)" + (f": {kbs}" if kbs else "")
    elif not actions.get("run"):
        status = "up to date"
        summary = f"{node}: {os_before}; {actions.get('reason', 'nothing to do')}"
    else:
        status = "failed" if failed or result.get("failed") else "patched"
        summary = f"{node}: {os_before} -> {os_after}; {len(installed)} update(s) installed" + (
            f": {kbs}" if kbs else ""
        )
        if failed:
            summary += f"; {len(failed)} failed"
        if actions.get("resume"):
            summary += "; finished the run that had left it cordoned"
    return {
        "node": node,
        "status": status,
        "os_version_before": os_before,
        "os_version_after": os_after,
        "revision_before": revision_before,
        "revision_after": revision_after,
        "build_changed": build_before != build_after,
        "installed": installed,
        "failed": failed,
        "would_install": entries if check_mode else [],
        "rebooted": bool(result.get("rebooted")),
        "timeline": dict(timeline or {}),
        "summary": summary,
    }
