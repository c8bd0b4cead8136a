# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""collect_logs decisions: what to fetch, the image-list command, the outcome and the summary."""

from __future__ import annotations

import json
from typing import Any

import pytest
from ansible_collections.winkube.node.plugins.module_utils import diagnostics as d

FILES = [
    {"name": "kubelet", "path": r"C:\var\log\kubelet\kubelet.log"},
    {"name": "kube-proxy", "path": r"C:\var\log\kube-proxy\kube-proxy.log"},
]
TEMP = r"C:\Windows\Temp\winkube-collect-logs"


def probe(
    exists: tuple[bool, bool] = (True, False),
    services: dict[str, str | None] | None = None,
    hns_error: str | None = None,
) -> dict[str, Any]:
    states = services if services is not None else {"containerd": "Running", "kubelet": None}
    return {
        "output": [
            {
                "Files": [
                    {"Path": f["path"], "Exists": e, "Length": 120 if e else None}
                    for f, e in zip(FILES, exists, strict=True)
                ],
                "Services": [
                    {"Name": n, "Exists": s is not None, "Status": s, "StartType": "Automatic" if s else None}
                    for n, s in states.items()
                ],
                "Hns": {
                    "Networks": [{"ID": "N1", "Name": "Calico", "Type": "Overlay"}],
                    "Endpoints": [],
                    "Error": hns_error,
                },
            }
        ]
    }


def plan(p: dict[str, Any] | None = None, channels: list[str] | None = None) -> dict[str, Any]:
    return d.collection_plan(
        p or probe(),
        FILES,
        ctr_path=r"C:\Program Files\containerd\ctr.exe",
        docker_path=r"C:\Program Files\Docker\docker.exe",
        channels=channels or ["System", "Application"],
        temp_dir=TEMP,
    )


def test_existing_files_are_fetched_and_missing_ones_reported() -> None:
    got = plan()
    assert got["fetch"] == [{"name": "kubelet", "path": FILES[0]["path"], "local": "kubelet.log"}]
    assert got["missing"] == [
        {"item": r"kube-proxy log (C:\var\log\kube-proxy\kube-proxy.log)", "reason": "not present on the node"}
    ]
    assert got["exports"] == [
        {"channel": "System", "path": TEMP + r"\System.evtx", "local": "System.evtx"},
        {"channel": "Application", "path": TEMP + r"\Application.evtx", "local": "Application.evtx"},
    ]


def test_channel_names_with_slashes_get_safe_file_names() -> None:
    got = plan(channels=["Microsoft-Windows-Containers-Wcifs/Operational"])
    assert got["exports"][0]["local"] == "Microsoft-Windows-Containers-Wcifs_Operational.evtx"


@pytest.mark.parametrize(
    ("services", "runtime", "argv0", "reason"),
    [
        ({"containerd": "Running"}, "containerd", r"C:\Program Files\containerd\ctr.exe", None),
        ({"containerd": None, "docker": "Running"}, "mcr", r"C:\Program Files\Docker\docker.exe", None),
        ({"containerd": "Stopped"}, None, None, "the containerd service is Stopped, so it cannot list its images"),
        ({"containerd": None, "docker": None}, None, None, "no container runtime service (containerd or docker)"),
    ],
)
def test_the_image_list_follows_the_running_runtime(services, runtime, argv0, reason) -> None:
    images = plan(probe(services=services))["images"]
    assert images["runtime"] == runtime
    assert (images["argv"] or [None])[0] == argv0
    assert (images["reason"] or "").startswith(reason or "")
    if runtime == "containerd":
        assert images["argv"][1:] == ["-n", "k8s.io", "images", "ls"]


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"output": []}, "the probe printed 0 objects, expected 1"),
        ({"output": [{"Files": [], "Services": []}]}, "the probe's object has no Hns"),
        ("text", "the probe result must be a mapping, got str"),
    ],
)
def test_a_malformed_probe_result_is_refused(bad, message) -> None:
    with pytest.raises(ValueError, match=message):
        plan(bad)


def test_a_file_the_probe_was_not_asked_about_is_a_programming_error() -> None:
    p = probe()
    p["output"][0]["Files"] = p["output"][0]["Files"][:1]
    with pytest.raises(ValueError, match=r"did not report .*kube-proxy\.log"):
        plan(p)


def test_entries_need_a_name_and_a_path() -> None:
    with pytest.raises(ValueError, match="needs a name and a path"):
        d.collection_plan(probe(), [{"name": "x"}], ctr_path="c", docker_path="d", channels=[], temp_dir=TEMP)
    with pytest.raises(ValueError, match="absolute Windows path"):
        d.collection_plan(probe(), FILES, ctr_path="c", docker_path="d", channels=["System"], temp_dir="tmp")


def exports(rcs: dict[str, int]) -> list[dict[str, Any]]:
    out = []
    for e in plan()["exports"]:
        rc = rcs.get(e["channel"], 0)
        stderr = (
            "" if rc == 0 else f"Failed to export log {e['channel']}. The specified channel could not be found.\r\n"
        )
        out.append({"item": e, "rc": rc, "stderr": stderr, "failed": False})
    return out


def test_fetch_list_adds_only_the_exports_that_worked() -> None:
    got = d.fetch_list(plan(), exports({"Application": 15007}))
    assert [f["local"] for f in got] == ["kubelet.log", "System.evtx"]


def test_outcome_and_summary_name_every_item_and_reason() -> None:
    p = plan()
    ex = exports({"Application": 15007})
    fetches = [{"item": f, "changed": True, "dest": "/x/" + f["local"], "checksum": "abc"} for f in d.fetch_list(p, ex)]
    fetches[1] = {"item": fetches[1]["item"], "failed": True, "msg": "the remote file does not exist"}
    images = {"rc": 0, "stdout": "REF TYPE DIGEST\n", "failed": False}
    got = d.report(
        "node1",
        "2026-12-01T10:00:00Z",
        probe=probe(),
        plan=p,
        export_results=ex,
        fetch_results=fetches,
        image_result=images,
    )
    assert got["collected"] == [
        {"item": r"kubelet (C:\var\log\kubelet\kubelet.log)", "file": "kubelet.log"},
        {"item": "runtime image list", "file": "images.txt"},
    ]
    assert got["missing"] == [
        {"item": r"kube-proxy log (C:\var\log\kube-proxy\kube-proxy.log)", "reason": "not present on the node"},
        {"item": rf"System event log ({TEMP}\System.evtx)", "reason": "the remote file does not exist"},
        {
            "item": "Application event log",
            "reason": "Failed to export log Application. The specified channel could not be found.",
        },
    ]
    summary = got["summary"]
    assert summary.startswith("# node1: logs collected 2026-12-01T10:00:00Z\n")
    assert "- Application event log: Failed to export log Application." in summary
    assert "| containerd | Running | Automatic |" in summary and "| kubelet | not installed | |" in summary
    assert "HNS: 1 network(s), 0 endpoint(s)." in summary
    assert json.loads(got["hns"]) == {
        "networks": [{"ID": "N1", "Name": "Calico", "Type": "Overlay"}],
        "endpoints": [],
        "error": None,
    }
    assert json.loads(got["services"])[0]["Name"] == "containerd"


def test_an_image_list_that_was_not_run_or_failed_says_why() -> None:
    stopped = plan(probe(services={"containerd": "Stopped"}))
    got = d.outcome(stopped, [], [], None)
    assert got["missing"][-1] == {
        "item": "runtime image list",
        "reason": "the containerd service is Stopped, so it cannot list its images",
    }
    failed = d.outcome(plan(), [], [], {"rc": 1, "stderr": "ctr: failed to dial\n", "failed": False})
    assert failed["missing"][-1] == {"item": "runtime image list", "reason": "ctr: failed to dial"}


def test_check_mode_skips_are_reported_as_such() -> None:
    p = plan()
    skipped = [{"item": e, "skipped": True} for e in p["exports"]]
    got = d.outcome(p, skipped, [{"item": p["fetch"][0], "skipped": True}], {"skipped": True})
    reasons = {m["item"]: m["reason"] for m in got["missing"]}
    assert reasons["System event log"] == "skipped (check mode)"
    assert reasons[r"kubelet (C:\var\log\kubelet\kubelet.log)"] == "skipped (check mode)"


def test_hns_unavailable_is_reported_in_the_summary() -> None:
    error = "The term 'Get-HnsNetwork' is not recognized as the name of a cmdlet"
    got = d.report(
        "n",
        "t",
        probe=probe(hns_error=error),
        plan=plan(probe(hns_error=error)),
        export_results=[],
        fetch_results=[],
        image_result=None,
    )
    assert f"- HNS networks and endpoints: {error}" in got["summary"]


@pytest.mark.parametrize(("name", "local"), [("kubelet", "kubelet.log"), ("a b/c", "a_b_c.log"), ("..x", "x.log")])
def test_local_names(name, local) -> None:
    assert d.local_name(name) == local


def test_a_name_without_letters_cannot_name_a_file() -> None:
    with pytest.raises(ValueError, match="cannot name a file"):
        d.local_name("//")
