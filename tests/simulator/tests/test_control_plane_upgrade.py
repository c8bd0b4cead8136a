"""POST /cluster: the simulated control plane is upgraded before its nodes, one minor at a time."""

from __future__ import annotations

from typing import Any

import pytest

from tests.simulator.tests.support import double_runner


@pytest.fixture
def sim(windows_sim: Any) -> Any:
    return windows_sim({"cluster": {"version": "1.33.3"}, "hosts": [{"name": "w1"}]}, module_runner=double_runner)


def test_the_api_server_reports_the_upgraded_version(sim: Any) -> None:
    status, dump = sim.control("/cluster", {"version": "v1.34.1"})
    assert (status, dump["version"]) == (200, "v1.34.1")
    assert sim.sim.cluster.git_version == "v1.34.1"
    assert sim.control("/cluster")[1]["version"] == "v1.34.1"
    assert sim.control("/cluster", {"version": "1.34.2"})[1]["version"] == "v1.34.2"  # a patch


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"version": "1.35.0"}, "POST /cluster: 1.35.0 skips a minor from v1.33.3"),
        ({"version": "1.33.3"}, "POST /cluster: 1.33.3 is not newer than the control plane's v1.33.3"),
        ({"version": "1.32.9"}, "is not newer than"),
        ({"version": "1.34"}, "version must be X.Y.Z"),
        ({"version": 1.34}, 'takes {"version": "X.Y.Z"}'),
        ({"versions": "1.34.1"}, 'takes {"version": "X.Y.Z"}'),
    ],
)
def test_what_kubeadm_upgrade_apply_would_refuse_is_refused(sim: Any, body: Any, message: str) -> None:
    status, reply = sim.control("/cluster", body)
    assert status == 400
    assert message in reply["error"]
    assert sim.sim.cluster.git_version == "v1.33.3"


def test_without_a_cluster_there_is_nothing_to_upgrade(windows_sim: Any) -> None:
    handle = windows_sim({"hosts": [{"name": "w1"}]}, module_runner=double_runner, with_executables=False)
    assert handle.control("/cluster", {"version": "1.34.1"})[0] == 404
