"""community.windows.win_firewall_rule (win_firewall_rule.ps1, a Legacy module over HNetCfg.FwPolicy2).

Rules live in ``host.firewall_rules`` keyed by rule name, each a dict of the ``INetFwRule``
properties the module compares (``Name``, ``Description``, ``Direction`` 1/2, ``Action`` 0/1,
``ApplicationName``, ``Grouping``, ``ServiceName``, ``Enabled``, ``Profiles`` bit mask,
``LocalAddresses``, ``RemoteAddresses``, ``LocalPorts``, ``RemotePorts``, ``Protocol`` number,
``InterfaceTypes``, ``EdgeTraversalOptions``, ``SecureFlags``, ``IcmpTypesAndCodes``).
"""

from __future__ import annotations

from typing import Any

from tests.simulator.host import expand_env

from ._core import ModuleRun, emulates
from ._winutil import net_str
from .argspec import SpecOverrides

_OVERRIDES = SpecOverrides(
    # win_firewall_rule.ps1 (community.windows 3.1.0) still reads these with Get-AnsibleParam although
    # the documentation no longer lists them.
    options={
        "interfacetypes": {"type": "list"},
        "edge": {"type": "str", "choices": ["no", "yes", "deferapp", "deferuser"]},
        "security": {"type": "str", "choices": ["notrequired", "authnoencap", "authenticate", "authdynenc", "authenc"]},
    },
)

# The order win_firewall_rule.ps1 compares properties in, paired with the option each comes from.
_COMPARED = (
    ("Description", "description"),
    ("Direction", "direction"),
    ("Action", "action"),
    ("ApplicationName", "program"),
    ("Grouping", "group"),
    ("ServiceName", "service"),
    ("Enabled", "enabled"),
    ("Profiles", "profiles"),
    ("LocalAddresses", "localip"),
    ("RemoteAddresses", "remoteip"),
    ("LocalPorts", "localport"),
    ("RemotePorts", "remoteport"),
    ("Protocol", "protocol"),
    ("InterfaceTypes", "interfacetypes"),
    ("EdgeTraversalOptions", "edge"),
    ("SecureFlags", "security"),
    ("IcmpTypesAndCodes", "icmp_type_code"),
)
_ALL_PROFILES = 0x7FFFFFFF
_PROTOCOL_ANY = 256


class _RuleError(Exception):
    """A `throw` inside the module's try block: Fail-Json with the message and an exception text."""


def new_rule() -> dict[str, Any]:
    """A fresh HNetCfg.FWRule (INetFwRule defaults, reconstructed from the COM documentation)."""
    return {
        "Name": None,
        "Description": None,
        "Direction": 1,
        "Action": 1,
        "ApplicationName": None,
        "Grouping": None,
        "ServiceName": None,
        "Enabled": False,
        "Profiles": _ALL_PROFILES,
        "LocalAddresses": "*",
        "RemoteAddresses": "*",
        "LocalPorts": None,
        "RemotePorts": None,
        "Protocol": _PROTOCOL_ANY,
        "InterfaceTypes": "All",
        "EdgeTraversalOptions": 0,
        "SecureFlags": 0,
        "IcmpTypesAndCodes": None,
    }


def _protocol(value: str) -> int:
    if value.strip().lstrip("-").isdigit():
        return int(value)
    lowered = value.lower()
    for prefix, number in (("tcp", 6), ("udp", 17), ("icmpv4", 1), ("icmpv6", 58)):
        if lowered == prefix or (prefix.startswith("icmp") and lowered.startswith(prefix)):
            return number
    raise _RuleError(f"Unknown protocol '{value}'.")


def _profiles(values: list[Any]) -> int:
    bits = {"domain": 1, "private": 2, "public": 4}
    total = 0
    for value in dict.fromkeys(str(v) for v in values):
        if value.lower() not in bits:
            raise _RuleError(f"Unknown profile '{value}'.")
        total += bits[value.lower()]
    return _ALL_PROFILES if total == 7 else total


def _set_protocol(rule: dict[str, Any], number: int) -> None:
    rule["Protocol"] = number
    if number in (6, 17):  # ports exist only for TCP/UDP and read back as "*" when unset
        rule["LocalPorts"] = rule["LocalPorts"] or "*"
        rule["RemotePorts"] = rule["RemotePorts"] or "*"
    if number in (1, 58):
        rule["IcmpTypesAndCodes"] = rule["IcmpTypesAndCodes"] or "*"


def _set_ports(rule: dict[str, Any], key: str, value: str) -> None:
    if rule["Protocol"] not in (6, 17):
        # INetFwRule rejects ports unless Protocol is TCP or UDP (E_INVALIDARG) [RECONSTRUCTED text].
        raise _RuleError(
            f'Exception setting "{key}": "The parameter is incorrect. '
            '(Exception from HRESULT: 0x80070057 (E_INVALIDARG))"'
        )
    rule[key] = value


def _build(run: ModuleRun) -> dict[str, Any]:
    p = run.params
    rule = new_rule()
    if p["name"]:
        rule["Name"] = p["name"]
    rule["Enabled"] = p["enabled"] if p["enabled"] is not None else True
    if p["description"] is not None:
        rule["Description"] = p["description"]
    if p["group"] is not None:
        rule["Grouping"] = p["group"]
    if p["program"] is not None and p["program"] != "any":
        rule["ApplicationName"] = expand_env(p["program"], run.host.environment())
    if p["service"] is not None and p["service"] != "any":
        rule["ServiceName"] = p["service"]
    if p["protocol"] is not None and p["protocol"] != "any":
        _set_protocol(rule, _protocol(p["protocol"]))
    if p["localport"] is not None and p["localport"] != "any":
        _set_ports(rule, "LocalPorts", p["localport"])
    if p["remoteport"] is not None and p["remoteport"] != "any":
        _set_ports(rule, "RemotePorts", p["remoteport"])
    if p["localip"] is not None and p["localip"] != "any":
        rule["LocalAddresses"] = p["localip"]
    if p["remoteip"] is not None and p["remoteip"] != "any":
        rule["RemoteAddresses"] = p["remoteip"]
    if p["icmp_type_code"] is not None:
        codes = ",".join(str(c) for c in p["icmp_type_code"])
        if codes != "any":
            rule["IcmpTypesAndCodes"] = codes
    if p["direction"] is not None:
        rule["Direction"] = {"in": 1, "out": 2}[p["direction"]]
    if p["action"] is not None:
        rule["Action"] = {"block": 0, "allow": 1}[p["action"]]
    if p["profiles"] is not None:
        rule["Profiles"] = _profiles(p["profiles"])
    if p["interfacetypes"] is not None and [str(t) for t in p["interfacetypes"]] != ["any"]:
        kinds = {"wireless": "Wireless", "lan": "Lan", "ras": "RemoteAccess"}
        unknown = [t for t in p["interfacetypes"] if str(t) not in kinds]
        if unknown:
            raise _RuleError(f"Unknown interface type '{unknown[0]}'.")
        rule["InterfaceTypes"] = ",".join(dict.fromkeys(kinds[str(t)] for t in p["interfacetypes"]))
    if p["edge"] is not None and p["edge"] != "no":
        rule["EdgeTraversalOptions"] = {"yes": 1, "deferapp": 2, "deferuser": 3}[p["edge"]]
    if p["security"] is not None and p["security"] != "notrequired":
        rule["SecureFlags"] = {"authnoencap": 1, "authenticate": 2, "authdynenc": 3, "authenc": 4}[p["security"]]
    return rule


def _same(key: str, existing: Any, new: Any) -> bool:
    """PowerShell -ne (case-insensitive for strings); address lists compare as sets."""
    if isinstance(existing, str) and isinstance(new, str):
        if key.endswith("Addresses"):
            return sorted(existing.lower().split(",")) == sorted(new.lower().split(","))
        return existing.lower() == new.lower()
    return existing == new


def _diff_lines(sign: str, rule: dict[str, Any]) -> str:
    return "".join(
        f"{sign}{prop}='{'' if rule.get(prop) is None else net_str(rule.get(prop))}'\n" for prop, _ in _COMPARED
    )


@emulates("community.windows.win_firewall_rule", _OVERRIDES)
def win_firewall_rule(run: ModuleRun) -> None:
    p, rules = run.params, run.host.firewall_rules
    name, group = p["name"], p["group"]
    if not name and not group:
        run.fail("Either name or group must be specified")
    if run.diff_mode:
        run.result["diff"] = {"prepared": ""}
    diff = run.result.get("diff")
    existing = [
        key
        for key, rule in rules.items()
        if (name and str(rule.get("Name") or key).lower() == name.lower())
        or (not name and group and str(rule.get("Grouping") or "").lower() == group.lower())
    ]
    try:
        wanted = _build(run)
    except _RuleError as exc:
        run.fail(str(exc), exception=f"{exc}\r\n")
    passed = {option: p.get(option) for _, option in _COMPARED}
    if p["state"] == "absent":
        if not existing:
            run.result["msg"] = (
                f"Firewall rule '{name}' does not exist." if name else f"No firewall rules in group '{group}' exist."
            )
            return
        removed = []
        for key in existing:
            if diff is not None:
                diff["prepared"] += f"-[{rules[key]['Name']}]\n" + _diff_lines("-", rules[key])
            removed.append(rules[key]["Name"])
            if not run.check_mode:
                del rules[key]
            run.result["changed"] = True
        run.result["msg"] = "Firewall rule(s) '" + "', '".join(removed) + "' removed."
        return
    if not existing and name:
        if diff is not None:
            diff["prepared"] += f"+[{wanted['Name']}]\n" + _diff_lines("+", wanted)
        if not run.check_mode:
            rules[name] = wanted
        run.result["changed"] = True
        run.result["msg"] = f"Firewall rule '{name}' created."
        return
    if existing:
        changed_rules, unchanged_rules = [], []
        for key in existing:
            rule = rules[key]
            if diff is not None:
                diff["prepared"] += f"[{rule['Name']}]\n"
            changed = False
            for prop, option in _COMPARED:
                if passed[option] is None or _same(prop, rule.get(prop), wanted[prop]):
                    continue
                if diff is not None:
                    diff["prepared"] += f"-{prop}='{net_str(rule.get(prop)) if rule.get(prop) is not None else ''}'\n"
                    diff["prepared"] += f"+{prop}='{net_str(wanted[prop]) if wanted[prop] is not None else ''}'\n"
                if not run.check_mode:
                    rule[prop] = wanted[prop]
                changed = True
            (changed_rules if changed else unchanged_rules).append(rule["Name"])
            run.result["changed"] = run.result["changed"] or changed
        run.result["msg"] = (
            "Firewall rule(s) changed '"
            + "', '".join(changed_rules)
            + "' - unchanged '"
            + "', '".join(unchanged_rules)
            + "'"
        )
