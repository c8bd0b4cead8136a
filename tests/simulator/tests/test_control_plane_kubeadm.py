"""The control plane's ``kubeadm token create --print-join-command`` (tests/simulator/control_plane_kubeadm.py):
it creates the token through the simulated API and prints a join command the simulated kubeadm join accepts."""

from __future__ import annotations

import pytest

from tests.simulator import control_plane_kubeadm as cp
from tests.simulator.server import Simulator


@pytest.mark.parametrize(
    ("text", "seconds"), [("24h0m0s", 86400), ("1h", 3600), ("90m", 5400), ("45s", 45), ("0", None)]
)
def test_parse_ttl(text, seconds):
    assert cp.parse_ttl(text) == seconds


@pytest.mark.parametrize("argv", [["token", "list"], ["token", "create", "--bogus"], ["token", "create", "--ttl"]])
def test_unknown_commands_and_flags_fail(argv, capsys):
    assert cp.main(argv) == 1
    assert capsys.readouterr().err.strip()


def test_bad_ttl_fails_like_kubeadm(capsys):
    assert cp.main(["token", "create", "--ttl", "soon"]) == 1
    assert 'invalid argument "soon" for "--ttl" flag' in capsys.readouterr().err


def test_print_join_command_registers_a_token_of_the_cluster(tmp_path, capsys):
    with Simulator({"hosts": [{"name": "w1"}], "cluster": {"version": "1.36.4"}}) as sim:
        kubeconfig = sim.write_kubeconfig(tmp_path / "admin.conf")
        assert cp.main(["token", "create", "--ttl", "1h", "--print-join-command", "--kubeconfig", str(kubeconfig)]) == 0
        line = capsys.readouterr().out
        words = line.split()
        assert words[:2] == ["kubeadm", "join"] and line.endswith(" \n")
        token = words[words.index("--token") + 1]
        assert words[words.index("--discovery-token-ca-cert-hash") + 1] == sim.cluster.ca_cert_hash
        assert sim.cluster.accepts_endpoint(words[2])
        assert sim.cluster.token_status(token) == "ok"
        expires = sim.cluster.tokens[token.split(".")[0]].expires
        assert expires is not None and 3500 < expires - sim.cluster.clock() <= 3600
