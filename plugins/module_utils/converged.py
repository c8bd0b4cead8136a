# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Converged runs: may a role skip its tasks because the node is already in the state it produces?

How it works (docs/converged-runs.md):

- A role that ran (not in check mode) ends by recording, in ``C:\\ProgramData\\winkube\\state\\<role>.json``,
  the digest of its effective inputs and the facts it produced: for each fact its identity (a file's path, a
  service's name...), what the role declares it must be (``expect``) and what the read-only probe observed
  right after the role ran (``observed``). The observed values come from the same probe code that later checks
  them, so a value is never compared with a differently formatted copy of itself.
- preflight's probe (winkube.node.windows_facts) reads every state file and, for each fact in it, the live
  value; ``verdict`` below compares them with the digest of the inputs the role has now.

The guarantee: ``verdict`` says converged only when every check passed: a trusted state file of this schema
and role, the same inputs digest, the probe read exactly the recorded facts without an error, and each
fact's live value equals both what was observed and what the role expects. Anything else (no file, bad
JSON, an unknown field, a probe error, a single differing value) is "not converged", and the role runs
fully. A wrong or failed probe can only cause extra work, never skipped work.

Pure functions; every bad specification raises ValueError naming the entry.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

SCHEMA = 1
# The contract path (notes: issue 5, contract E). Under ProgramData any local user may create files, so a
# state file is trusted only when its owner is SYSTEM, the Administrators group, or the account the
# probe runs as (the owner Windows gives files an administrator creates, depending on the policy
# "Default owner for objects created by members of the Administrators group").
STATE_DIR = "C:\\ProgramData\\winkube\\state"
TRUSTED_OWNERS = ("S-1-5-18", "S-1-5-32-544")

# kind -> (identity keys, observed keys). The identity says which fact; the observed keys are what the
# probe reads for it (plugins/plugin_utils/powershell/windows_facts.ps1, Read-WinkubeFact).
KINDS: Dict[str, Tuple[Tuple[str, ...], Tuple[str, ...]]] = {
    "file": (("path",), ("exists", "sha256")),
    "directory": (("path",), ("exists",)),
    "service": (
        ("name",),
        ("exists", "path", "start_mode", "delayed_auto_start", "state", "username", "display_name", "dependencies"),
    ),
    # hash: the probe returns the sha256 of the value's text instead of the data (a service's Environment
    # may hold proxy credentials, which must appear neither in the state file nor in the probe's output).
    "registry": (("path", "name", "hash"), ("exists", "type", "data", "sha256")),
    "feature": (("name",), ("exists", "install_state")),
    "firewall_rule": (
        ("name",),
        ("count", "enabled", "direction", "action", "protocol", "local_ports", "remote_addresses", "profiles"),
    ),
    # An element of the machine Path (what ansible.windows.win_path adds).
    "path_element": (("element",), ("present",)),
}
# The identity key a plain item of the state_facts filter stands for (a registry value's key is shared by
# the items, so it comes as path=).
PRIMARY_KEY = {kind: "name" if kind == "registry" else keys[0][0] for kind, keys in KINDS.items()}

_ROLE = re.compile(r"^[a-z][a-z0-9_]*$")
# Service and feature names go into a WQL filter and a wildcard-accepting cmdlet: no quoting games.
_PLAIN_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


# ---------------------------------------------------------------------------------------------
# specifications (what a role declares it produces)


def state_path(role: str) -> str:
    """The state file of ``role``."""
    if not isinstance(role, str) or not _ROLE.match(role):
        raise ValueError(f"role must be a role name such as host_prep (lower case, digits, _), got {role!r}")
    return f"{STATE_DIR}\\{role}.json"


def fact_spec(kind: str, item: Any, **extra: Any) -> Dict[str, Any]:
    """One fact specification: ``item`` is the value of the kind's first identity key (a path, a name) or a
    mapping of keys; ``extra`` adds keys (``path=`` for registry values, ``expect=``)."""
    if kind not in KINDS:
        raise ValueError(f"unknown fact kind {kind!r}; known: {', '.join(sorted(KINDS))}")
    spec: Dict[str, Any] = dict(item) if isinstance(item, Mapping) else {PRIMARY_KEY[kind]: item}
    spec.update(extra)
    spec["kind"] = kind
    return validate_spec([spec])[0]


def validate_spec(facts: Any) -> List[Dict[str, Any]]:
    """Check a list of fact specifications and return them normalised (registry ``hash`` always set)."""
    if not isinstance(facts, Sequence) or isinstance(facts, (str, bytes)) or not facts:
        # A record that checks nothing would prove nothing.
        raise ValueError("facts must be a non-empty list of fact specifications")
    out = []
    seen = set()
    for index, fact in enumerate(facts):
        where = f"facts[{index}]"
        if not isinstance(fact, Mapping):
            raise ValueError(f"{where} must be a mapping, got {type(fact).__name__}")
        kind = fact.get("kind")
        if kind not in KINDS:
            raise ValueError(f"{where}.kind must be one of {', '.join(sorted(KINDS))}, got {kind!r}")
        identity_keys, observed_keys = KINDS[kind]
        unknown = sorted(set(fact) - {"kind", "expect"} - set(identity_keys))
        if unknown:
            raise ValueError(f"{where} ({kind}) has unknown keys {unknown}; allowed: {sorted(identity_keys)}, expect")
        spec: Dict[str, Any] = {"kind": kind}
        for key in identity_keys:
            if key == "hash":
                value = fact.get("hash", False)
                if not isinstance(value, bool):
                    raise ValueError(f"{where}.hash must be true or false, got {value!r}")
            else:
                value = fact.get(key)
                if not isinstance(value, str) or not value:
                    raise ValueError(f"{where}.{key} must be a non-empty string, got {value!r}")
            spec[key] = value
        if kind in ("service", "feature") and not _PLAIN_NAME.match(spec["name"]):
            raise ValueError(f"{where}.name must be a plain {kind} name (letters, digits, _ . -), got {spec['name']!r}")
        expect = fact.get("expect", {})
        if not isinstance(expect, Mapping):
            raise ValueError(f"{where}.expect must be a mapping of {', '.join(observed_keys)}")
        bad = sorted(set(expect) - set(observed_keys))
        if bad:
            reads = ", ".join(observed_keys)
            raise ValueError(f"{where}.expect has keys the probe does not read for a {kind}: {bad}; it reads {reads}")
        spec["expect"] = dict(expect)
        ident = identity(spec)
        if ident in seen:
            raise ValueError(f"{where} repeats {describe(spec)}")
        seen.add(ident)
        out.append(spec)
    return out


def identity(fact: Mapping[str, Any]) -> Tuple[Any, ...]:
    """What a fact is about: its kind and identity keys (paths and names compare case-insensitively, as on Windows)."""
    kind = fact.get("kind")
    if kind not in KINDS:
        return ("?", repr(kind))
    values = []
    for key in KINDS[kind][0]:
        value = fact.get(key, False if key == "hash" else None)
        values.append(value.lower() if isinstance(value, str) else value)
    return (kind, *values)


def describe(fact: Mapping[str, Any]) -> str:
    kind = fact.get("kind")
    if kind == "registry":
        return f"registry value {fact.get('path')}\\{fact.get('name')}"
    if kind in KINDS:
        return f"{kind.replace('_', ' ')} {fact.get(KINDS[kind][0][0])}"
    return f"fact of unknown kind {kind!r}"


def probe_request(specs: Sequence[Mapping[str, Any]]) -> List[Dict[str, Any]]:
    """What the probe needs to read the facts: kind and identity only."""
    specs = validate_spec(specs)
    return [{key: spec[key] for key in ("kind", *KINDS[spec["kind"]][0])} for spec in specs]


# ---------------------------------------------------------------------------------------------
# inputs


def _canonical(value: Any, where: str = "inputs") -> Any:
    """JSON-able copy with sorted keys; anything JSON cannot carry faithfully is refused, not stringified."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise ValueError(f"{where} is not a finite number")
        return value
    if isinstance(value, Mapping):
        out = {}
        for key in value:
            if not isinstance(key, str):
                raise ValueError(f"{where} has a key that is not a string: {key!r}")
            out[key] = _canonical(value[key], f"{where}.{key}")
        return out
    if isinstance(value, (list, tuple)):
        return [_canonical(item, f"{where}[{i}]") for i, item in enumerate(value)]
    raise ValueError(f"{where} holds a {type(value).__name__}, which has no JSON form: {value!r}")


def _without_revision(inputs: Any) -> Any:
    """The inputs with the plan's host revision (UBR) left out: every Windows update moves it, and no
    role's result depends on it (images match the build, not the revision, from 1809 on: images.py), so
    a patched node stays converged instead of re-running every role after each update."""
    if not isinstance(inputs, Mapping) or not isinstance(inputs.get("plan"), Mapping):
        return inputs
    host = inputs["plan"].get("host")
    if not isinstance(host, Mapping) or "build" not in host:
        return inputs
    steady = {**host, "revision": None, "os_version": f"10.0.{host['build']}"}
    return {**inputs, "plan": {**inputs["plan"], "host": steady}}


def inputs_sha256(role: str, inputs: Any, code_sha256: str) -> str:
    """The digest of what a role converges from: its effective inputs (the host's revision left out,
    see _without_revision) and its own code (a new release of the role may produce a different state
    from the same inputs)."""
    state_path(role)
    if not isinstance(code_sha256, str) or not re.match(r"^[0-9a-f]{64}$", code_sha256):
        raise ValueError(f"code_sha256 must be 64 hex digits, got {code_sha256!r}")
    text = json.dumps(
        {"schema": SCHEMA, "role": role, "code": code_sha256, "inputs": _canonical(_without_revision(inputs))},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
    )
    return hashlib.sha256(text.encode("ascii")).hexdigest()


# ---------------------------------------------------------------------------------------------
# comparison


def _live_problems(spec: Mapping[str, Any], live: Any, observed: Optional[Mapping[str, Any]]) -> List[str]:
    """Why ``live`` is not the recorded fact (empty when it is): wrong fact, probe error, a value that differs
    from what was observed (when given) or from what the role expects."""
    what = describe(spec)
    if not isinstance(live, Mapping):
        return [f"{what}: the probe returned {type(live).__name__}, not a fact"]
    if identity(live) != identity(spec):
        return [f"{what}: the probe read {describe(live)} instead"]
    if live.get("error"):
        return [f"{what}: the probe could not read it: {live['error']}"]
    problems = []
    for key in KINDS[spec["kind"]][1]:
        if key not in live:
            problems.append(f"{what}: the probe did not return {key}")
            continue
        if observed is not None and live[key] != observed.get(key):
            problems.append(f"{what}: {key} is {_show(live[key])}, was {_show(observed.get(key))} when recorded")
        elif key in spec["expect"] and live[key] != spec["expect"][key]:
            problems.append(f"{what}: {key} is {_show(live[key])}, the role needs {_show(spec['expect'][key])}")
    return problems


def _show(value: Any) -> str:
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= 80 else text[:77] + "..."


def build_record(role: str, digest: str, specs: Any, live: Any) -> Dict[str, Any]:
    """The state file's content once the role ran: ``live`` is what the probe read for ``specs`` right now.
    A fact that is not what the role expects means the role did not produce what it declares: refused."""
    state_path(role)
    if not isinstance(digest, str) or not re.match(r"^[0-9a-f]{64}$", digest):
        raise ValueError(f"inputs_sha256 must be 64 hex digits, got {digest!r}")
    specs = validate_spec(specs)
    if not isinstance(live, Sequence) or len(live) != len(specs):
        count = len(live) if isinstance(live, Sequence) else type(live).__name__
        raise ValueError(f"the probe returned {count} facts for {len(specs)} requested")
    pairs = [(spec, live[index]) for index, spec in enumerate(specs)]
    problems = [problem for spec, fact in pairs for problem in _live_problems(spec, fact, None)]
    if problems:
        raise ValueError(f"{role} did not leave the node as it declares: " + "; ".join(problems))
    facts = []
    for spec, fact in pairs:
        observed = {key: fact[key] for key in KINDS[spec["kind"]][1]}
        facts.append({**spec, "observed": observed})
    return {"schema": SCHEMA, "role": role, "inputs_sha256": digest, "facts": facts}


def render_record(record: Mapping[str, Any]) -> str:
    """The text written to the state file: stable (sorted keys), so an unchanged state rewrites nothing."""
    return json.dumps(record, sort_keys=True, indent=1, ensure_ascii=True) + "\n"


def _parse_record(text: Any, role: str, digest: str) -> Tuple[Optional[List[Dict[str, Any]]], List[str]]:
    """The recorded facts (specs with ``observed``) when the record is usable for ``role`` and ``digest``."""
    if not isinstance(text, str):
        return None, ["the probe returned no text for the state file"]
    try:
        record = json.loads(text)
    except ValueError as exc:
        return None, [f"the state file is not JSON ({exc})"]
    if not isinstance(record, dict):
        return None, ["the state file does not hold an object"]
    unknown = sorted(set(record) - {"schema", "role", "inputs_sha256", "facts"})
    if record.get("schema") != SCHEMA or unknown:
        return None, [f"the state file has schema {record.get('schema')!r} (keys {sorted(record)}), not {SCHEMA}"]
    if record.get("role") != role:
        return None, [f"the state file is for role {record.get('role')!r}"]
    if record.get("inputs_sha256") != digest:
        return None, ["the role's inputs or code changed since it recorded its state"]
    facts = record.get("facts")
    try:
        specs = validate_spec([{k: v for k, v in f.items() if k != "observed"} for f in facts])
    except (ValueError, AttributeError, TypeError) as exc:
        return None, [f"the state file's facts are not valid: {exc}"]
    out = []
    for index, spec in enumerate(specs):
        fact = facts[index]
        observed = fact.get("observed")
        keys = KINDS[spec["kind"]][1]
        if not isinstance(observed, dict) or sorted(observed) != sorted(keys):
            return None, [f"the state file's {describe(spec)} has no complete observed values"]
        if any(key in spec["expect"] and observed[key] != spec["expect"][key] for key in keys):
            return None, [f"the state file's {describe(spec)} was recorded other than the role expects"]
        out.append({**spec, "observed": observed})
    return out, []


def verdict(role: str, digest: str, node_state: Any) -> Dict[str, Any]:
    """``{"converged": bool, "reasons": [why not]}`` for ``role`` with the inputs digest it has now, from the
    ``winkube_node_state`` fact preflight's probe set. Only a complete match is converged."""
    path = state_path(role)
    if not isinstance(node_state, Mapping):
        return _no(f"no probe of the node's state (run winkube.node.preflight first in the play), got {node_state!r}")
    if node_state.get("error"):
        return _no(f"the probe could not read the state files: {node_state['error']}")
    roles = node_state.get("roles")
    if not isinstance(roles, Mapping):
        return _no("the probe returned no state files list")
    entry = roles.get(role)
    if entry is None:
        return _no(f"no state file {path} (the role has not completed a run on this node, or it was removed)")
    if not isinstance(entry, Mapping):
        return _no(f"the probe's entry for {path} is not a mapping")
    if entry.get("error"):
        return _no(f"the probe could not read {path}: {entry['error']}")
    owner = entry.get("owner")
    if owner not in TRUSTED_OWNERS and (not owner or owner != node_state.get("current_user")):
        return _no(f"{path} is owned by {owner!r}, not by SYSTEM, Administrators or the connecting account")
    recorded, reasons = _parse_record(entry.get("text"), role, digest)
    if recorded is None:
        return _no(*(f"{path}: {reason}" for reason in reasons))
    live = entry.get("live")
    if not isinstance(live, list) or len(live) != len(recorded):
        count = len(live) if isinstance(live, list) else type(live).__name__
        return _no(f"{path}: the probe read {count} facts, the state file has {len(recorded)}")
    problems = [p for index, fact in enumerate(recorded) for p in _live_problems(fact, live[index], fact["observed"])]
    if problems:
        return _no(*problems)
    return {"converged": True, "reasons": []}


def _no(*reasons: str) -> Dict[str, Any]:
    return {"converged": False, "reasons": list(reasons)}


def node_state_fact(raw: Any) -> Dict[str, Any]:
    """The ``winkube_node_state`` fact from the probe's ``State`` output: ``{current_user, error, roles}``,
    ``roles`` keyed by the state file's name. A malformed answer becomes an error, never a guess."""
    if not isinstance(raw, Mapping):
        return {"current_user": None, "error": f"the probe returned no State object ({raw!r})", "roles": {}}
    roles: Dict[str, Any] = {}
    files = raw.get("files")
    if files is None:
        files = []
    if not isinstance(files, list):
        return {"current_user": raw.get("current_user"), "error": "the probe's State.files is not a list", "roles": {}}
    for entry in files:
        role = entry.get("role") if isinstance(entry, Mapping) else None
        if not isinstance(role, str):
            error = f"a state file entry has no role: {entry!r}"
            return {"current_user": raw.get("current_user"), "error": error, "roles": {}}
        live = entry.get("live")
        roles[role.lower()] = {
            "owner": entry.get("owner"),
            "text": entry.get("text"),
            "live": [] if live is None else live,
            "error": entry.get("error"),
        }
    return {"current_user": raw.get("current_user"), "error": raw.get("error"), "roles": roles}
