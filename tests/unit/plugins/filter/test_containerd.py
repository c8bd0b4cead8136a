# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The containerd role's filters: names, doc sidecars, plain results, AnsibleFilterError, one real run."""

from __future__ import annotations

import json
import os
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.winkube.node.plugins.filter.containerd import FilterModule

from ..module_utils.test_containerd_config import plan
from ..module_utils.test_containerd_runtime import CLIENT, LISTING, PAUSE_DIGEST, SERVER

FILTERS = FilterModule().filters()
REPO_ROOT = Path(__file__).resolve().parents[4]


def call(name: str, *args: Any, **kwargs: Any) -> Any:
    return FILTERS[name](*args, **kwargs)


def test_filter_names() -> None:
    assert set(FILTERS) == {
        "containerd_config",
        "containerd_hosts_toml",
        "containerd_pause_source",
        "ctr_images",
        "ctr_version",
    }


def test_containerd_config() -> None:
    text = call("containerd_config", plan("1.7.31", 2), {"debug": {"level": "info"}})
    doc = tomllib.loads(text)
    assert doc["version"] == 2 and doc["debug"] == {"level": "info"}
    assert call("containerd_config", plan()) == call("containerd_config", plan(), {})


def test_containerd_hosts_toml() -> None:
    files = call("containerd_hosts_toml", {"docker.io": ["https://mirror.example"]}, ["pull"])
    assert [sorted(f) for f in files] == [["content", "directory", "registry"]]
    assert files[0]["directory"] == "docker.io"
    assert tomllib.loads(files[0]["content"])["host"] == {"https://mirror.example": {"capabilities": ["pull"]}}
    assert call("containerd_hosts_toml", {}) == []


def test_containerd_pause_source() -> None:
    assert call("containerd_pause_source", plan()) == {
        "ok": True,
        "reason": "mcr.microsoft.com/oss/kubernetes/pause:3.6 is Microsoft's signed pause image",
    }
    refused = call("containerd_pause_source", {**plan(), "pause_image": "registry.k8s.io/pause:3.6"})
    assert refused["ok"] is False and "winkube_pause_image" in refused["reason"]


def test_ctr_filters() -> None:
    rows = call("ctr_images", LISTING)
    assert rows[1] == {
        "ref": "registry.k8s.io/pause:3.6",
        "type": "application/vnd.docker.distribution.manifest.list.v2+json",
        "digest": PAUSE_DIGEST,
        "size": "294.7 KiB",
        "platforms": ["linux/amd64", "linux/arm/v7", "linux/arm64", "linux/ppc64le", "linux/s390x", "windows/amd64"],
        "labels": {"io.cri-containerd.image": "managed", "io.cri-containerd.pinned": "pinned"},
    }
    version = call("ctr_version", CLIENT + SERVER)
    assert (version["client_release"], version["server_release"]) == ("1.7.20", "1.7.20")
    assert call("ctr_version", CLIENT)["server_release"] is None
    json.dumps([rows, version])  # plain data only


@pytest.mark.parametrize(
    ("name", "args", "message"),
    [
        ("containerd_config", ("nope",), "winkube.node.containerd_config: winkube_plan is a str"),
        ("containerd_config", (plan(), {"version": 2}), "winkube.node.containerd_config: containerd_extra_config is"),
        ("containerd_hosts_toml", ({"docker.io": ["https://m.example"]}, "pull"), "capabilities must be a list"),
        ("containerd_pause_source", ([],), "winkube.node.containerd_pause_source: winkube_plan is a list"),
        ("ctr_images", ("",), "winkube.node.ctr_images: ctr images ls printed nothing"),
        ("ctr_version", ("",), "winkube.node.ctr_version: ctr version output has no Client: block"),
    ],
)
def test_errors_name_the_filter(name: str, args: tuple, message: str) -> None:
    with pytest.raises(AnsibleFilterError) as err:
        call(name, *args)
    assert message in str(err.value)


def test_containerd_config_runs_through_ansible(tmp_path: Path) -> None:
    """Ansible hands the filter its own mapping types; the text must come out the same."""
    out = tmp_path / "config.toml"
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO_ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    proc = subprocess.run(
        [
            str(REPO_ROOT / ".venv" / "bin" / "ansible"),
            "localhost",
            "-m",
            "ansible.builtin.copy",
            "-e",
            json.dumps({"winkube_plan": plan("2.2.3"), "extra": {"plugins": {"io.containerd.gc.v1.scheduler": {}}}}),
            "-a",
            f"dest={out} content={{{{ winkube_plan | winkube.node.containerd_config(extra) }}}}",
        ],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert out.read_text() == call(
        "containerd_config", plan("2.2.3"), {"plugins": {"io.containerd.gc.v1.scheduler": {}}}
    )
