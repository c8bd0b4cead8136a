# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""image_signature runs on the controller only: its options, its failures, no call to the managed host.
The registry side is tested against real registries in tests/integration/test_image_signature.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Tuple
from unittest.mock import MagicMock

import pytest
import yaml
from ansible.errors import AnsibleActionFail
from ansible_collections.winkube.node.plugins.action import image_signature
from ansible_collections.winkube.node.plugins.modules import image_signature as image_signature_docs

from .action_harness import assert_no_remote_call, run_controller_action


def run_action(args: Dict[str, Any]) -> Tuple[Dict[str, Any], MagicMock]:
    return run_controller_action(image_signature.ActionModule, "winkube.node.image_signature", args)


def test_the_action_is_controller_only_and_check_mode_safe() -> None:
    assert image_signature.ActionModule._requires_connection is False
    assert image_signature.ActionModule._supports_check_mode is True


def test_required_and_unknown_options_are_argument_errors() -> None:
    with pytest.raises(AnsibleActionFail, match="image"):
        run_action({"windows_build": "10.0.20348"})
    with pytest.raises(AnsibleActionFail, match="fail_on_unsigend"):
        run_action({"image": "r.example/p:1", "windows_build": 20348, "fail_on_unsigend": False})


def test_bad_inputs_fail_with_the_reason_before_any_request(tmp_path: Path) -> None:
    result, remote = run_action({"image": "r.example/pause", "windows_build": 20348})
    assert result["failed"] and "has neither a tag nor a digest" in result["msg"]
    result = run_action({"image": "r.example/p:1", "windows_build": 20348, "trusted_ca_bundle": str(tmp_path / "x")})[0]
    assert (
        result["failed"] and "trusted_ca_bundle" in result["msg"] and "is not a file on the controller" in result["msg"]
    )
    bundle = tmp_path / "empty.pem"
    bundle.write_text("no certificates\n")
    result = run_action({"image": "r.example/p:1", "windows_build": 20348, "trusted_ca_bundle": str(bundle)})[0]
    assert result["failed"] and "holds no PEM certificate" in result["msg"]
    result = run_action({"image": "r.example/p:1", "windows_build": 20348, "registry_password": "pw"})[0]
    assert result["failed"] and result["msg"] == "registry_password needs registry_username"
    assert_no_remote_call(remote)


def test_an_unreachable_registry_fails_with_each_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    args = {"image": "127.0.0.1:9/p:1", "windows_build": 20348, "registry_insecure": True, "timeout": 2}
    result, remote = run_action(args)
    assert (
        result["failed"]
        and "the manifest 1 of 127.0.0.1:9/p:1: registry http://127.0.0.1:9/v2: unreachable" in result["msg"]
    )
    assert_no_remote_call(remote)


def test_docs_match_the_argument_spec() -> None:
    docs = yaml.safe_load(image_signature_docs.DOCUMENTATION)
    options = docs["options"]
    assert list(options) == sorted(options), "options are documented in alphabetical order"
    assert set(options) == set(image_signature.ARGUMENT_SPEC)
    for name, spec in image_signature.ARGUMENT_SPEC.items():
        documented = options[name]
        assert documented["type"] == spec["type"], name
        assert documented.get("default") == spec.get("default"), name
        assert documented.get("required", False) == spec.get("required", False), name
        assert documented["description"], name
    returned = yaml.safe_load(image_signature_docs.RETURN)
    issue_returns = {"index_digest", "manifest_digest", "os_version", "pinned_image", "signed", "status", "signer"}
    assert issue_returns <= set(returned)
    assert {"registry_username", "registry_password"} <= {
        n for n, s in image_signature.ARGUMENT_SPEC.items() if s.get("no_log")
    }
