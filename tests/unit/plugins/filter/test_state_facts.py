# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The state_facts filter and the digest of a role's code (converged runs, docs/converged-runs.md)."""

from __future__ import annotations

from pathlib import Path

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.winkube.node.plugins.filter.converged import state_facts
from ansible_collections.winkube.node.plugins.plugin_utils.node_state import role_code_sha256


def test_items_become_specifications_with_the_keyword_arguments() -> None:
    assert state_facts(["ctr.exe"], "file", folder="C:\\containerd\\bin\\", expect={"exists": True}) == [
        {"kind": "file", "path": "C:\\containerd\\bin\\ctr.exe", "expect": {"exists": True}}
    ]
    assert state_facts([{"name": "x", "hash": True}], "registry", path="HKLM:\\K")[0]["hash"] is True


@pytest.mark.parametrize(
    ("items", "kind", "extra", "message"),
    [
        ("C:\\a", "file", {}, "must be a list"),
        (["a"], "service", {"folder": "C:\\x"}, "folder= needs"),
        ([{"path": "a"}], "file", {"folder": "C:\\x"}, "every item must be a relative path"),
        (["a"], "socket", {}, "unknown fact kind"),
        (["a"], "registry", {}, "path must be a non-empty string"),
    ],
)
def test_bad_input_fails_naming_the_filter(items: object, kind: str, extra: dict, message: str) -> None:
    with pytest.raises(AnsibleFilterError, match=r"winkube\.node\.state_facts: .*" + message):
        state_facts(items, kind, **extra)


def test_the_role_code_digest_follows_the_code_and_not_the_metadata(tmp_path: Path) -> None:
    role = tmp_path / "r"
    (role / "tasks").mkdir(parents=True)
    (role / "meta").mkdir()
    (role / "tasks" / "main.yml").write_text("---\n")
    (role / "meta" / "main.yml").write_text("galaxy_info: {}\n")
    first = role_code_sha256(str(role))
    (role / "meta" / "main.yml").write_text("galaxy_info: {author: x}\n")
    (role / "tasks" / ".main.yml.swp").write_text("editor")
    assert role_code_sha256(str(role)) == first
    (role / "tasks" / "main.yml").write_text("---\n- name: X\n")
    assert role_code_sha256(str(role)) != first
    (role / "defaults").mkdir()
    (role / "defaults" / "main.yml").write_text("x: 1\n")
    assert len({first, role_code_sha256(str(role))}) == 2
    with pytest.raises(ValueError, match="not a role"):
        role_code_sha256(str(tmp_path))
