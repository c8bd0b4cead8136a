# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The windows_cni_manifests filter: name, doc sidecar, AnsibleFilterError on bad input, a real template."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml
from ansible.errors import AnsibleFilterError
from ansible_collections.winkube.node.plugins.filter.windows_cni import FilterModule

FILTERS = FilterModule().filters()
REPO_ROOT = Path(__file__).resolve().parents[4]


def test_filter_name_and_sidecar() -> None:
    assert set(FILTERS) == {"windows_cni_manifests"}
    doc = yaml.safe_load((REPO_ROOT / "plugins" / "filter" / "windows_cni_manifests.yml").read_text())
    assert doc["DOCUMENTATION"]["name"] == "windows_cni_manifests"
    # Every keyword the filter takes is documented, and nothing else.
    documented = set(doc["DOCUMENTATION"]["options"]) - {"_input"}
    code = FILTERS["windows_cni_manifests"].__wrapped__.__code__
    accepted = set(code.co_varnames[1 : code.co_argcount + code.co_kwonlyargcount])
    assert documented == accepted


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        (
            ("v1.36.4", "10.0.0.1:6443"),
            {"cni": "flannel"},
            r"^winkube.node.windows_cni_manifests: flannel is not supported",
        ),
        (("v1.30.2", "10.0.0.1:6443"), {}, r"^winkube.node.windows_cni_manifests: no known Calico release is tested"),
        (("v1.36.4",), {}, r"^winkube.node.windows_cni_manifests: api_server is missing"),
    ],
)
def test_errors_name_the_filter(args: tuple, kwargs: dict, message: str) -> None:
    with pytest.raises(AnsibleFilterError, match=message):
        FILTERS["windows_cni_manifests"](*args, **kwargs)


@pytest.mark.slow
def test_filter_runs_in_a_real_template(tmp_path: Path) -> None:
    playbook = tmp_path / "play.yml"
    expression = (
        "{{ 'v1.34.2' | winkube.node.windows_cni_manifests('https://10.20.30.10:6443', pod_cidr='192.168.0.0/16',"
        " images={'calico_cni': 'mirror.example/calico/cni-windows'}) | to_json }}"
    )
    playbook.write_text(
        yaml.safe_dump(
            [{"hosts": "localhost", "gather_facts": False, "tasks": [{"ansible.builtin.debug": {"msg": expression}}]}]
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
    assert msg["calico_version"] == "3.32.4"
    assert msg["images"]["calico_cni"] == "mirror.example/calico/cni-windows:v3.32.4"
    assert [m["kind"] for m in msg["manifests"]] == ["ConfigMap", "DaemonSet", "DaemonSet"]
