# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The join role at -vvv never shows the bootstrap token, its secret half or the CA hash: not in a
failed join (a token whose secret is wrong, rescued) and not in the join that follows with the
inventory's fresh token, which really happens (the Node is Ready)."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest
import yaml

from tests.simulator.pytest_plugin import SimHandle, windows_sim

__all__ = ["windows_sim"]

WRONG_SECRET = "wr0ngs3cretvalue"


def _play() -> list:
    chain = [
        {"name": f"Run {role}", "ansible.builtin.include_role": {"name": f"winkube.node.{role}"}}
        for role in ("preflight", "host_prep", "containerd", "kubernetes")
    ]
    wrong_join = {
        "name": "Join with the right token id and a wrong secret",
        "block": [
            {
                "name": "Join the cluster",
                "ansible.builtin.include_role": {"name": "winkube.node.join"},
                "vars": {
                    "join_command": (
                        f"kubeadm join {{{{ fresh.api_server_endpoint }}}} --token {{{{ fresh.token.split('.')[0] }}}}"
                        f".{WRONG_SECRET} --discovery-token-ca-cert-hash {{{{ fresh.ca_cert_hashes[0] }}}}"
                    ),
                    "fresh": "{{ hostvars[inventory_hostname].join_command | winkube.node.kubeadm_join }}",
                },
            },
            {"name": "Never reached", "ansible.builtin.fail": {"msg": "joined with a wrong secret"}},
        ],
        "rescue": [
            {
                "name": "Check the reason",
                "ansible.builtin.assert": {
                    "that": ["ansible_failed_result.msg is search('the token.s id is known but its secret is wrong')"]
                },
            }
        ],
    }
    join = {"name": "Join with the fresh token", "ansible.builtin.include_role": {"name": "winkube.node.join"}}
    return [
        {"name": "Join at -vvv", "hosts": "windows_nodes", "gather_facts": False, "tasks": [*chain, wrong_join, join]}
    ]


@pytest.mark.slow
def test_join_never_shows_the_token_or_the_ca_hash(windows_sim: Callable[..., SimHandle], tmp_path: Path) -> None:
    sim = windows_sim({"hosts": [{"name": "win2022"}], "cluster": {"version": "1.36.4"}})
    inventory = yaml.safe_load(sim.inventory.read_text())
    join_command = inventory["all"]["children"]["windows_nodes"]["vars"]["join_command"]
    words = join_command.split()
    token = words[words.index("--token") + 1]
    ca_hash = words[words.index("--discovery-token-ca-cert-hash") + 1]
    play = tmp_path / "join.yml"
    play.write_text(yaml.safe_dump(_play(), sort_keys=False))

    proc = sim.playbook(play, "-vvv")
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert "the token's id is known but its secret is wrong" in output  # the failure was shown, masked
    assert "rescued=1" in output
    nodes = sim.control("/cluster")[1]["nodes"]
    assert [(n["name"], n["ready"]) for n in nodes] == [("win2022", True)]  # the real join happened
    for secret in (token, token.split(".")[1], WRONG_SECRET, ca_hash, ca_hash.split(":")[1]):
        assert secret not in output, f"a secret of the join appears in the -vvv output ({len(secret)} characters)"
