# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The host_prep filters: names, doc sidecars, AnsibleFilterError on bad input, and one real template."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml
from ansible.errors import AnsibleFilterError
from ansible_collections.winkube.node.plugins.filter.host_prep import FilterModule
from ansible_collections.winkube.node.plugins.module_utils.node_facts import windows_node_facts
from ansible_collections.winkube.node.plugins.module_utils.plan import resolve_plan

FILTERS = FilterModule().filters()
REPO_ROOT = Path(__file__).resolve().parents[4]
PLAN = resolve_plan(
    {}, windows_node_facts({"CurrentBuildNumber": "26100", "UBR": 4349, "InstallationType": "Server Core"})
)


def test_filter_names() -> None:
    assert set(FILTERS) == {"defender_exclusions", "firewall_rules"}


def test_filters_return_the_knowledge_base_results() -> None:
    assert FILTERS["defender_exclusions"](PLAN)["processes"][0] == "containerd.exe"
    assert [r["state"] for r in FILTERS["firewall_rules"]("flannel")] == ["present", "absent", "present"]


@pytest.mark.parametrize(
    ("name", "args", "message"),
    [
        ("defender_exclusions", ({},), r"^winkube.node.defender_exclusions: winkube_plan.runtime is missing"),
        ("defender_exclusions", (PLAN, ["C:"]), "^winkube.node.defender_exclusions: refusing to exclude whole drives"),
        ("firewall_rules", ("weave",), "^winkube.node.firewall_rules: unknown CNI 'weave'"),
        ("firewall_rules", ("none", "example.com"), "^winkube.node.firewall_rules: remote address 'example.com'"),
    ],
)
def test_errors_name_the_filter(name: str, args: tuple, message: str) -> None:
    with pytest.raises(AnsibleFilterError, match=message):
        FILTERS[name](*args)


@pytest.mark.slow
def test_filters_run_in_a_real_template(tmp_path: Path) -> None:
    playbook = tmp_path / "play.yml"
    playbook.write_text(
        yaml.safe_dump(
            [
                {
                    "hosts": "localhost",
                    "gather_facts": False,
                    "vars": {"plan": PLAN},
                    "tasks": [
                        {
                            "ansible.builtin.debug": {
                                "msg": "{{ {'x': plan | winkube.node.defender_exclusions([], ['calico.exe']),"
                                " 'r': 'calico' | winkube.node.firewall_rules(['10.0.0.0/8'], ['domain'])} | to_json }}"
                            }
                        }
                    ],
                }
            ]
        )
    )
    env = {**os.environ, "ANSIBLE_CONFIG": str(REPO_ROOT / "ansible.cfg"), "ANSIBLE_STDOUT_CALLBACK": "json"}
    proc = subprocess.run(
        [str(REPO_ROOT / ".venv" / "bin" / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(playbook)],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO_ROOT,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    msg = json.loads(json.loads(proc.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]["msg"])
    assert msg["x"]["processes"][-1] == "calico.exe"
    assert [(r["name"], r.get("remoteip")) for r in msg["r"]] == [
        ("winkube-kubelet", "10.0.0.0/8"),
        ("winkube-calico-vxlan", "10.0.0.0/8"),
        ("winkube-flannel-vxlan", None),
    ]
