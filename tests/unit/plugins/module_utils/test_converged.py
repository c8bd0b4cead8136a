# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The converged-run comparison: only a complete match lets a role skip; everything else makes it run."""

from __future__ import annotations

import copy
import json
from typing import Any, Dict, List

import pytest
from ansible_collections.winkube.node.plugins.module_utils import converged

CODE = "c" * 64
SERVICE_KEY = "HKLM:\\SYSTEM\\CurrentControlSet\\Services\\containerd"
ADMINS = "S-1-5-32-544"
ME = "S-1-5-21-1-2-3-500"

# One fact of every kind, as a role declares them, and what the probe reads for each on a converged node.
SPECS: List[Dict[str, Any]] = [
    {"kind": "file", "path": "C:\\Program Files\\containerd\\bin\\containerd.exe", "expect": {"exists": True}},
    {"kind": "directory", "path": "C:\\ProgramData\\containerd", "expect": {"exists": True}},
    {"kind": "service", "name": "containerd", "expect": {"state": "Running", "start_mode": "Auto"}},
    {
        "kind": "registry",
        "path": "HKLM:\\SOFTWARE\\Policies\\Microsoft\\Windows Defender\\Exclusions\\Paths",
        "name": "C:\\ProgramData\\containerd\\root",
        "expect": {"exists": True, "type": "String", "data": "0"},
    },
    {"kind": "registry", "path": SERVICE_KEY, "name": "Environment", "hash": True},
    {"kind": "feature", "name": "Containers", "expect": {"install_state": "Installed"}},
    {"kind": "firewall_rule", "name": "winkube-kubelet", "expect": {"count": 1, "enabled": True}},
    {"kind": "firewall_rule", "name": "winkube-calico-vxlan", "expect": {"count": 0}},
    {"kind": "path_element", "element": "C:\\Program Files\\containerd\\bin", "expect": {"present": True}},
]
LIVE: List[Dict[str, Any]] = [
    {"kind": "file", "path": SPECS[0]["path"], "exists": True, "sha256": "a" * 64},
    {"kind": "directory", "path": SPECS[1]["path"], "exists": True},
    {
        "kind": "service",
        "name": "containerd",
        "exists": True,
        "path": '"C:\\Program Files\\containerd\\bin\\containerd.exe" --run-service',
        "start_mode": "Auto",
        "delayed_auto_start": False,
        "state": "Running",
        "username": "LocalSystem",
        "display_name": "Containerd",
        "dependencies": [],
    },
    {
        "kind": "registry",
        "path": SPECS[3]["path"],
        "name": SPECS[3]["name"],
        "hash": False,
        "exists": True,
        "type": "String",
        "data": "0",
        "sha256": None,
    },
    {
        "kind": "registry",
        "path": SPECS[4]["path"],
        "name": "Environment",
        "hash": True,
        "exists": True,
        "type": "MultiString",
        "data": None,
        "sha256": "e" * 64,
    },
    {"kind": "feature", "name": "Containers", "exists": True, "install_state": "Installed"},
    {
        "kind": "firewall_rule",
        "name": "winkube-kubelet",
        "count": 1,
        "enabled": True,
        "direction": 1,
        "action": 1,
        "protocol": 6,
        "local_ports": "10250",
        "remote_addresses": "*",
        "profiles": 7,
    },
    {
        "kind": "firewall_rule",
        "name": "winkube-calico-vxlan",
        "count": 0,
        "enabled": None,
        "direction": None,
        "action": None,
        "protocol": None,
        "local_ports": None,
        "remote_addresses": None,
        "profiles": None,
    },
    {"kind": "path_element", "element": SPECS[8]["element"], "present": True},
]
INPUTS = {"plan": {"runtime": "containerd", "containerd": {"version": "2.3.4"}}, "hyperv": False}


def digest(inputs: Any = None, code: str = CODE) -> str:
    return converged.inputs_sha256("containerd", INPUTS if inputs is None else inputs, code)


def state_text(live: List[Dict[str, Any]] | None = None) -> str:
    return converged.render_record(converged.build_record("containerd", digest(), SPECS, live or LIVE))


def node_state(text: str | None = None, live: Any = None, owner: str = ADMINS, **entry: Any) -> Dict[str, Any]:
    item = {"owner": owner, "text": state_text() if text is None else text, "live": LIVE if live is None else live}
    item.update(entry)
    return {"current_user": ME, "error": None, "roles": {"containerd": {"error": None, **item}}}


def verdict(state: Any, inputs_digest: str | None = None) -> Dict[str, Any]:
    return converged.verdict("containerd", inputs_digest or digest(), state)


def drifted(index: int, **changes: Any) -> List[Dict[str, Any]]:
    live = copy.deepcopy(LIVE)
    live[index].update(changes)
    return live


# ------------------------------------------------------------------------------------------- a match


def test_a_node_exactly_as_recorded_is_converged() -> None:
    assert verdict(node_state()) == {"converged": True, "reasons": []}


def test_the_record_keeps_every_observed_value_and_renders_stably() -> None:
    record = json.loads(state_text())
    assert record["schema"] == 1 and record["role"] == "containerd" and record["inputs_sha256"] == digest()
    assert record["facts"][2]["observed"]["path"] == LIVE[2]["path"]
    assert record["facts"][4]["observed"]["sha256"] == "e" * 64 and record["facts"][4]["hash"] is True
    # Same facts, same text: an unchanged node rewrites nothing (win_copy reports no change).
    assert state_text() == state_text(copy.deepcopy(LIVE))


def test_the_connecting_account_may_own_the_state_file() -> None:
    assert verdict(node_state(owner=ME))["converged"] is True


def test_paths_and_names_compare_without_case_as_on_windows() -> None:
    live = drifted(0, path=SPECS[0]["path"].upper())
    assert verdict(node_state(live=live))["converged"] is True


# ------------------------------------------------------------------------------------------- drift, per kind

DRIFT = [
    ("file replaced", 0, {"sha256": "b" * 64}, "containerd.exe: sha256 is"),
    ("file removed", 0, {"exists": False, "sha256": None}, "containerd.exe: exists is false"),
    ("directory removed", 1, {"exists": False}, "directory C:\\ProgramData\\containerd: exists is false"),
    ("service stopped", 2, {"state": "Stopped"}, 'service containerd: state is "Stopped", was "Running"'),
    ("service command line", 2, {"path": "other.exe"}, "service containerd: path is"),
    ("service start mode", 2, {"start_mode": "Manual"}, "service containerd: start_mode is"),
    ("service delayed start", 2, {"delayed_auto_start": True}, "delayed_auto_start is true"),
    ("service account", 2, {"username": "NT AUTHORITY\\LocalService"}, "service containerd: username"),
    ("service dependencies", 2, {"dependencies": ["kubelet"]}, "service containerd: dependencies"),
    ("service removed", 2, {"exists": False}, "service containerd: exists is false"),
    ("registry data", 3, {"data": "1"}, 'data is "1", was "0"'),
    ("registry type", 3, {"type": "ExpandString"}, 'type is "ExpandString"'),
    ("registry value removed", 3, {"exists": False, "type": None, "data": None}, "exists is false"),
    ("hashed registry value", 4, {"sha256": "f" * 64}, "Services\\containerd\\Environment: sha256 is"),
    ("feature pending a reboot", 5, {"install_state": "InstallPending"}, 'install_state is "InstallPending"'),
    ("feature removed", 5, {"install_state": "Available"}, "feature Containers: install_state"),
    ("firewall rule deleted", 6, {"count": 0}, "firewall rule winkube-kubelet: count is 0, was 1"),
    ("firewall rule disabled", 6, {"enabled": False}, "firewall rule winkube-kubelet: enabled is false"),
    ("firewall rule profiles", 6, {"profiles": 4}, "profiles is 4, was 7"),
    ("firewall rule remote addresses", 6, {"remote_addresses": "10.0.0.0/255.0.0.0"}, "remote_addresses"),
    ("firewall rule port", 6, {"local_ports": "10255"}, "local_ports"),
    ("closed rule reopened", 7, {"count": 1}, "firewall rule winkube-calico-vxlan: count is 1, was 0"),
    ("duplicate rule", 6, {"count": 2}, "count is 2, was 1"),
    ("path element removed", 8, {"present": False}, "path element C:\\Program Files\\containerd\\bin: present"),
]


@pytest.mark.parametrize(("index", "changes", "reason"), [d[1:] for d in DRIFT], ids=[d[0] for d in DRIFT])
def test_each_kind_of_drift_is_not_converged_and_says_why(index: int, changes: Dict[str, Any], reason: str) -> None:
    result = verdict(node_state(live=drifted(index, **changes)))
    assert result["converged"] is False
    # One reason per value that differs, each naming the fact.
    assert len(result["reasons"]) == len(changes)
    assert any(reason in r for r in result["reasons"]), result["reasons"]


def test_every_drifted_fact_is_reported() -> None:
    live = drifted(2, state="Stopped")
    live[6]["count"] = 0
    reasons = verdict(node_state(live=live))["reasons"]
    assert [r.split(":")[0] for r in reasons] == ["service containerd", "firewall rule winkube-kubelet"]


def test_a_fact_the_probe_could_not_read_is_not_converged() -> None:
    live = drifted(2, error="Access is denied")
    reasons = verdict(node_state(live=live))["reasons"]
    assert reasons == ["service containerd: the probe could not read it: Access is denied"]


def test_a_probe_answer_missing_a_value_is_not_converged() -> None:
    live = copy.deepcopy(LIVE)
    del live[0]["sha256"]
    assert "did not return sha256" in verdict(node_state(live=live))["reasons"][0]


def test_the_probe_reading_other_facts_is_not_converged() -> None:
    live = drifted(1, path="C:\\elsewhere")
    assert "the probe read directory C:\\elsewhere instead" in verdict(node_state(live=live))["reasons"][0]
    fewer = verdict(node_state(live=LIVE[:-1]))
    assert fewer["reasons"] == [f"{converged.state_path('containerd')}: the probe read 8 facts, the state file has 9"]
    assert verdict(node_state(live="oops"))["converged"] is False


# ------------------------------------------------------------------------------------------- inputs and code


def test_changed_inputs_are_not_converged() -> None:
    other = {**INPUTS, "hyperv": True}
    result = verdict(node_state(), digest(other))
    assert result["converged"] is False
    assert result["reasons"] == [
        f"{converged.state_path('containerd')}: the role's inputs or code changed since it recorded its state"
    ]


def test_a_new_role_release_is_not_converged() -> None:
    assert verdict(node_state(), digest(code="d" * 64))["converged"] is False


def test_the_inputs_digest_ignores_key_order_and_nothing_else() -> None:
    reordered = {"hyperv": False, "plan": {"containerd": {"version": "2.3.4"}, "runtime": "containerd"}}
    assert digest(reordered) == digest()
    assert digest({**INPUTS, "plan": {"runtime": "containerd", "containerd": {"version": "2.3.5"}}}) != digest()
    assert converged.inputs_sha256("host_prep", INPUTS, CODE) != digest()


@pytest.mark.parametrize("bad", [{"x": {1, 2}}, {"x": float("nan")}, {1: "a"}, {"x": object()}])
def test_inputs_without_a_faithful_json_form_are_refused(bad: Any) -> None:
    with pytest.raises(ValueError, match="inputs"):
        digest(bad)


def test_a_bad_code_digest_or_role_is_refused() -> None:
    with pytest.raises(ValueError, match="code_sha256"):
        converged.inputs_sha256("containerd", INPUTS, "abc")
    with pytest.raises(ValueError, match="role must be a role name"):
        converged.inputs_sha256("../x", INPUTS, CODE)


# ------------------------------------------------------------------------------------------- the state file


def test_no_state_file_is_not_converged() -> None:
    state = {"current_user": ME, "error": None, "roles": {}}
    assert "no state file C:\\ProgramData\\winkube\\state\\containerd.json" in verdict(state)["reasons"][0]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("{not json", "is not JSON"),
        ("[]", "does not hold an object"),
        (json.dumps({"schema": 2, "role": "containerd", "inputs_sha256": "x", "facts": []}), "schema 2"),
        (json.dumps({"schema": 1, "role": "host_prep", "inputs_sha256": "x", "facts": []}), "for role 'host_prep'"),
        (None, "returned no text"),
    ],
    ids=["not json", "not an object", "other schema", "other role", "no text"],
)
def test_a_corrupt_state_file_is_not_converged(text: Any, reason: str) -> None:
    state = node_state(text="")
    state["roles"]["containerd"]["text"] = text
    result = verdict(state)
    assert result["converged"] is False
    assert reason in result["reasons"][0], result["reasons"]


def edited(change: Any) -> str:
    record = json.loads(state_text())
    change(record)
    return json.dumps(record)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda r: r.update(extra=1), "schema 1 (keys"),
        (lambda r: r.update(facts=[]), "facts must be a non-empty list"),
        (lambda r: r["facts"][0].update(kind="socket"), "kind must be one of"),
        (lambda r: r["facts"][0].pop("observed"), "has no complete observed values"),
        (lambda r: r["facts"][0]["observed"].pop("sha256"), "has no complete observed values"),
        (lambda r: r["facts"][2]["observed"].update(state="Stopped"), "was recorded other than the role expects"),
        (lambda r: r["facts"][2].update(name="svc'; drop"), "plain service name"),
        (lambda r: r["facts"][0].update(color="red"), "unknown keys ['color']"),
    ],
    ids=["unknown key", "no facts", "unknown kind", "no observed", "partial observed", "against expect", "name", "key"],
)
def test_an_edited_state_file_is_not_converged(change: Any, reason: str) -> None:
    result = verdict(node_state(text=edited(change)))
    assert result["converged"] is False
    assert reason in result["reasons"][0], result["reasons"]


def test_a_state_file_planted_by_another_account_is_not_trusted() -> None:
    result = verdict(node_state(owner="S-1-5-21-9-9-9-1001"))
    assert result["converged"] is False
    assert "owned by 'S-1-5-21-9-9-9-1001'" in result["reasons"][0]
    assert verdict(node_state(owner=None))["converged"] is False


@pytest.mark.parametrize(
    ("state", "reason"),
    [
        (None, "no probe of the node's state"),
        ({"error": "Access is denied", "roles": {}}, "could not read the state files: Access is denied"),
        ({"error": None}, "no state files list"),
        ({"error": None, "roles": {"containerd": "x"}}, "is not a mapping"),
        ({"error": None, "roles": {"containerd": {"error": "locked"}}}, "could not read C:\\ProgramData"),
    ],
    ids=["no probe", "probe error", "no roles", "bad entry", "entry error"],
)
def test_a_failed_probe_is_not_converged(state: Any, reason: str) -> None:
    result = verdict(state)
    assert result["converged"] is False
    assert reason in result["reasons"][0], result["reasons"]


# ------------------------------------------------------------------------------------------- recording


def test_a_role_that_did_not_produce_what_it_declares_records_nothing() -> None:
    with pytest.raises(ValueError, match='service containerd: state is "Stopped", the role needs "Running"'):
        converged.build_record("containerd", digest(), SPECS, drifted(2, state="Stopped"))
    with pytest.raises(ValueError, match="could not read it: denied"):
        converged.build_record("containerd", digest(), SPECS, drifted(0, error="denied"))
    with pytest.raises(ValueError, match="returned 8 facts for 9 requested"):
        converged.build_record("containerd", digest(), SPECS, LIVE[:-1])
    with pytest.raises(ValueError, match="inputs_sha256"):
        converged.build_record("containerd", "x", SPECS, LIVE)


@pytest.mark.parametrize(
    ("facts", "message"),
    [
        ([], "non-empty list"),
        ("file", "non-empty list"),
        ([{"kind": "socket"}], "kind must be one of"),
        ([{"kind": "file"}], "path must be a non-empty string"),
        ([{"kind": "file", "path": ""}], "path must be a non-empty string"),
        ([{"kind": "file", "path": "C:\\a", "name": "x"}], "unknown keys ['name']"),
        ([{"kind": "file", "path": "C:\\a", "expect": {"state": "Running"}}], "does not read for a file"),
        ([{"kind": "registry", "path": "HKLM:\\X", "name": "v", "hash": "yes"}], "hash must be true or false"),
        ([{"kind": "feature", "name": "Containers*"}], "plain feature name"),
        ([{"kind": "file", "path": "C:\\a"}, {"kind": "file", "path": "c:\\A"}], "repeats file c:\\A"),
        ([{"kind": "file", "path": "C:\\a", "expect": []}], "expect must be a mapping"),
        (["C:\\a"], "must be a mapping"),
    ],
)
def test_bad_fact_specifications_are_refused(facts: Any, message: str) -> None:
    with pytest.raises(ValueError) as exc:
        converged.validate_spec(facts)
    assert message in str(exc.value)


def test_fact_spec_builds_from_a_plain_item() -> None:
    assert converged.fact_spec("registry", "Exclusions_Paths", path="HKLM:\\X", expect={"data": 1}) == {
        "kind": "registry",
        "path": "HKLM:\\X",
        "name": "Exclusions_Paths",
        "hash": False,
        "expect": {"data": 1},
    }
    assert converged.fact_spec("path_element", "C:\\k")["element"] == "C:\\k"
    with pytest.raises(ValueError, match="unknown fact kind"):
        converged.fact_spec("socket", "x")
    assert converged.probe_request(SPECS[3:5]) == [
        {"kind": "registry", "path": SPECS[3]["path"], "name": SPECS[3]["name"], "hash": False},
        {"kind": "registry", "path": SPECS[4]["path"], "name": "Environment", "hash": True},
    ]


# ------------------------------------------------------------------------------------------- the probe's answer


def test_the_probe_state_becomes_a_fact_keyed_by_lower_case_role() -> None:
    raw = {
        "current_user": ME,
        "error": None,
        "files": [{"role": "Containerd", "owner": ADMINS, "text": "{}", "live": None, "error": None}],
    }
    assert converged.node_state_fact(raw) == {
        "current_user": ME,
        "error": None,
        "roles": {"containerd": {"owner": ADMINS, "text": "{}", "live": [], "error": None}},
    }
    assert converged.node_state_fact({"current_user": ME, "error": None, "files": None})["roles"] == {}
    assert "no State object" in converged.node_state_fact(None)["error"]
    assert "has no role" in converged.node_state_fact({"files": [{"owner": ADMINS}]})["error"]


def test_a_windows_update_revision_keeps_the_digest_but_another_build_does_not() -> None:
    def plan_on(os_version: str, build: int, revision: int) -> dict[str, Any]:
        host = {"build": build, "revision": revision, "os_version": os_version, "id": "ws2022"}
        return {**INPUTS, "plan": {"runtime": "containerd", "host": host}}

    before = digest(plan_on("10.0.20348.2527", 20348, 2527))
    assert digest(plan_on("10.0.20348.2582", 20348, 2582)) == before
    assert digest(plan_on("10.0.26100.2314", 26100, 2314)) != before
    # everything else in the plan still counts
    other = plan_on("10.0.20348.2527", 20348, 2527)
    other["plan"]["runtime"] = "mcr"
    assert digest(other) != before
