# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the collect_logs role brings back from a node, and the summary it writes.

The role probes the node once (which log files exist, the services, HNS), then this module decides
what to fetch, which runtime to ask for its image list, and afterwards renders the per-node summary
from what really happened: every item is either collected (with its size) or listed with the reason
it could not be. Pure functions; the role's tasks do the I/O.
"""

from __future__ import annotations

import json
import re
from typing import Any, Dict, List, Mapping, Optional, Sequence

# Windows file names cannot hold these; the controller-side names are built from the item names.
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _mapping(value: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ValueError(f"{what} must be a mapping, got {type(value).__name__}")
    return value


def _list(value: Any, what: str) -> List[Any]:
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
        raise ValueError(f"{what} must be a list, got {type(value).__name__}")
    return list(value)


def local_name(name: str, suffix: str = ".log") -> str:
    """The file name an item gets on the controller (``kube-proxy`` → ``kube-proxy.log``)."""
    cleaned = _UNSAFE.sub("_", name).strip("._")
    if not cleaned:
        raise ValueError(f"{name!r} cannot name a file")
    return cleaned + suffix


def probe_output(result: Any) -> Mapping[str, Any]:
    """The one object the node_diagnostics probe printed (a win_powershell result)."""
    output = _list(_mapping(result, "the probe result").get("output"), "the probe output")
    if len(output) != 1:
        raise ValueError(f"the probe printed {len(output)} objects, expected 1")
    found = _mapping(output[0], "the probe's object")
    for key in ("Files", "Services", "Hns"):
        if key not in found:
            raise ValueError(f"the probe's object has no {key}")
    return found


def collection_plan(
    probe: Any,
    files: Any,
    *,
    ctr_path: str,
    docker_path: str,
    channels: Any,
    temp_dir: str,
) -> Dict[str, Any]:
    """What to fetch and how to list images, from the probe and the role's ``collect_logs_files``.

    Returns ``fetch`` (name, path, local name for each existing file), ``missing`` (item, reason),
    ``exports`` (the wevtutil exports, see event_log_exports) and ``images`` (``argv`` or null,
    ``runtime``, ``reason`` when null).
    """
    found = probe_output(probe)
    by_path = {str(f.get("Path", "")).lower(): f for f in _list(found["Files"], "Files")}
    fetch: List[Dict[str, str]] = []
    missing: List[Dict[str, str]] = []
    for item in _list(files, "collect_logs_files"):
        spec = _mapping(item, "a collect_logs_files entry")
        name, path = str(spec.get("name", "")), str(spec.get("path", ""))
        if not name or not path:
            raise ValueError(f"a collect_logs_files entry needs a name and a path, got {dict(spec)!r}")
        seen = by_path.get(path.lower())
        if seen is None:
            raise ValueError(f"the probe did not report {path} (it must be given every path)")
        if seen.get("Exists"):
            fetch.append({"name": name, "path": path, "local": local_name(name)})
        else:
            missing.append({"item": f"{name} log ({path})", "reason": "not present on the node"})
    services = {str(s.get("Name", "")).lower(): s for s in _list(found["Services"], "Services")}
    return {
        "fetch": fetch,
        "missing": missing,
        "exports": event_log_exports(channels, temp_dir),
        "images": _image_command(services, ctr_path, docker_path),
    }


def _image_command(services: Mapping[str, Any], ctr_path: str, docker_path: str) -> Dict[str, Any]:
    def running(name: str) -> bool:
        return bool(services.get(name, {}).get("Exists")) and services[name].get("Status") == "Running"

    # The kubelet's images live in containerd's k8s.io namespace; with MCR in the engine.
    if running("containerd"):
        return {"runtime": "containerd", "argv": [ctr_path, "-n", "k8s.io", "images", "ls"], "reason": None}
    if running("docker"):
        return {"runtime": "mcr", "argv": [docker_path, "images", "--digests"], "reason": None}
    present = [n for n in ("containerd", "docker") if services.get(n, {}).get("Exists")]
    if present:
        state = services[present[0]].get("Status")
        reason = f"the {present[0]} service is {state}, so it cannot list its images"
    else:
        reason = "no container runtime service (containerd or docker) on the node"
    return {"runtime": None, "argv": None, "reason": reason}


def _command_outcome(item: str, result: Any) -> Optional[Dict[str, str]]:
    """None when a command result succeeded, else the missing entry that says why."""
    res = _mapping(result, f"the result for {item}")
    if res.get("skipped"):
        return {"item": item, "reason": "skipped (check mode)"}
    if res.get("failed") or res.get("rc", 0) != 0:
        detail = str(res.get("stderr") or res.get("msg") or "").strip().splitlines()
        why = detail[-1] if detail else f"exit code {res.get('rc')}"
        return {"item": item, "reason": why}
    return None


def outcome(
    plan: Any,
    exports: Sequence[Any],
    fetches: Sequence[Any],
    images: Optional[Any],
) -> Dict[str, Any]:
    """What was collected and what was not, from the plan and the task results.

    ``exports``: the wevtutil results (each with ``item.channel``), ``fetches``: the fetch results (each
    with ``item.name``/``item.path``/``item.local``), ``images``: the image-list command result or None.
    """
    p = _mapping(plan, "the collection plan")
    collected: List[Dict[str, Any]] = []
    missing: List[Dict[str, str]] = list(p.get("missing", []))
    for res in fetches:
        r = _mapping(res, "a fetch result")
        item = _mapping(r.get("item"), "a fetch result's item")
        label = f"{item['name']} ({item['path']})"
        if r.get("skipped"):
            missing.append({"item": label, "reason": "skipped (check mode)"})
        elif r.get("failed"):
            missing.append({"item": label, "reason": str(r.get("msg", "fetch failed")).strip()})
        else:
            collected.append({"item": label, "file": item["local"]})
    for res in exports:
        r = _mapping(res, "an export result")
        channel = str(_mapping(r.get("item"), "an export result's item").get("channel"))
        why = _command_outcome(f"{channel} event log", r)
        if why is not None:
            missing.append(why)
    planned = _mapping(p.get("images"), "the plan's images")
    if images is None or planned.get("argv") is None:
        # Not run: the plan said why (no runtime service, or it is not running).
        reason = planned.get("reason")
        missing.append({"item": "runtime image list", "reason": str(reason)})
    else:
        why = _command_outcome("runtime image list", images)
        if why is None:
            collected.append({"item": "runtime image list", "file": "images.txt"})
        else:
            missing.append(why)
    return {"collected": collected, "missing": missing}


def event_log_exports(channels: Any, temp_dir: str) -> List[Dict[str, str]]:
    """One wevtutil export per channel: the channel, the file on the node, the name on the controller."""
    if not isinstance(temp_dir, str) or not re.match(r"^[A-Za-z]:\\", temp_dir):
        raise ValueError(f"the node's temporary folder must be an absolute Windows path, got {temp_dir!r}")
    out = []
    for channel in _list(channels, "collect_logs_event_logs"):
        if not isinstance(channel, str) or not channel.strip():
            raise ValueError(f"an event log name must be a non-empty string, got {channel!r}")
        local = local_name(channel, ".evtx")
        out.append({"channel": channel, "path": temp_dir.rstrip("\\") + "\\" + local, "local": local})
    return out


def export_fetches(exports: Sequence[Any]) -> List[Dict[str, str]]:
    """The exported event logs to fetch: one entry per wevtutil run that succeeded."""
    out = []
    for res in exports:
        r = _mapping(res, "an export result")
        item = _mapping(r.get("item"), "an export result's item")
        if _command_outcome(str(item.get("channel")), r) is None:
            out.append({"name": f"{item['channel']} event log", "path": str(item["path"]), "local": str(item["local"])})
    return out


def hns_report(probe: Any) -> Dict[str, Any]:
    """The HNS part of the probe, as written to hns.json (and an entry for the summary if absent)."""
    hns = _mapping(probe_output(probe)["Hns"], "Hns")
    return {
        "networks": _list(hns.get("Networks") or [], "Hns.Networks"),
        "endpoints": _list(hns.get("Endpoints") or [], "Hns.Endpoints"),
        "error": hns.get("Error"),
    }


def render_summary(node: str, when: str, probe: Any, result: Any) -> str:
    """The Markdown summary of one node's collection."""
    found = probe_output(probe)
    res = _mapping(result, "the collection outcome")
    hns = hns_report(probe)
    lines = [f"# {node}: logs collected {when}", "", "## Collected", ""]
    collected = _list(res.get("collected", []), "collected")
    lines += [f"- {c['item']}: `{c['file']}`" for c in collected] or ["- nothing"]
    lines += ["- services: `services.json`", "- HNS networks and endpoints: `hns.json`"]
    lines += ["", "## Not collected", ""]
    missing = _list(res.get("missing", []), "missing")
    if hns["error"]:
        missing = [*missing, {"item": "HNS networks and endpoints", "reason": str(hns["error"])}]
    lines += [f"- {m['item']}: {m['reason']}" for m in missing] or ["- nothing: everything was collected"]
    lines += ["", "## Services", "", "| service | status | start type |", "|---|---|---|"]
    for s in _list(found["Services"], "Services"):
        if s.get("Exists"):
            lines.append(f"| {s['Name']} | {s.get('Status')} | {s.get('StartType')} |")
        else:
            lines.append(f"| {s['Name']} | not installed | |")
    lines += ["", f"HNS: {len(hns['networks'])} network(s), {len(hns['endpoints'])} endpoint(s).", ""]
    return "\n".join(lines)


def services_report(probe: Any) -> str:
    """services.json: the probe's service states, as JSON text."""
    return json.dumps(_list(probe_output(probe)["Services"], "Services"), indent=2) + "\n"


def fetch_list(plan: Any, export_results: Sequence[Any]) -> List[Dict[str, str]]:
    """Every file to fetch: the log files that exist and the event logs that were exported."""
    existing = _list(_mapping(plan, "the collection plan").get("fetch"), "the plan's fetch")
    return [*existing, *export_fetches(export_results)]


def report(
    node: str,
    when: str,
    *,
    probe: Any,
    plan: Any,
    export_results: Sequence[Any],
    fetch_results: Sequence[Any],
    image_result: Optional[Any],
) -> Dict[str, Any]:
    """The files the role writes beside the fetched logs: the summary, services.json, hns.json."""
    result = outcome(plan, export_results, fetch_results, image_result)
    return {
        **result,
        "summary": render_summary(node, when, probe, result),
        "services": services_report(probe),
        "hns": json.dumps(hns_report(probe), indent=2) + "\n",
    }
