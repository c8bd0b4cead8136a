# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""winkube.node.artifact_cache as a task runs it: its options as documented, its result, check mode, and no
call to the managed host. The cache itself is tested in tests/unit/plugins/plugin_utils/test_artifact_cache.py."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Dict, Tuple
from unittest.mock import MagicMock

import pytest
import yaml
from ansible.errors import AnsibleActionFail
from ansible_collections.winkube.node.plugins.action import artifact_cache
from ansible_collections.winkube.node.plugins.modules import artifact_cache as artifact_cache_docs

from ..plugin_utils.local_http import LocalWeb
from .action_harness import assert_no_remote_call, run_controller_action

BODY = b"containerd release archive"
SHA = hashlib.sha256(BODY).hexdigest()


def run_action(args: Dict[str, Any], check_mode: bool = False) -> Tuple[Dict[str, Any], MagicMock]:
    return run_controller_action(artifact_cache.ActionModule, "winkube.node.artifact_cache", args, check_mode)


def test_docs_match_the_argument_spec() -> None:
    docs = yaml.safe_load(artifact_cache_docs.DOCUMENTATION)
    for documented, spec in (
        (docs["options"], artifact_cache.ARGUMENT_SPEC),
        (docs["options"]["files"]["suboptions"], artifact_cache.ARGUMENT_SPEC["files"]["options"]),
    ):
        assert list(documented) == sorted(documented), "options are documented in alphabetical order"
        assert set(documented) == set(spec)
        for name, option in spec.items():
            assert documented[name]["type"] == option["type"], name
            assert documented[name].get("default") == option.get("default"), name
            assert documented[name].get("required", False) == option.get("required", False), name
            assert documented[name]["description"], name
    returned = yaml.safe_load(artifact_cache_docs.RETURN)
    assert set(returned["files"]["contains"]) == {"name", "url", "sha256", "path", "downloaded"}
    assert yaml.safe_load(artifact_cache_docs.EXAMPLES)


def test_the_action_is_controller_only_and_check_mode_safe() -> None:
    assert artifact_cache.ActionModule._requires_connection is False
    assert artifact_cache.ActionModule._supports_check_mode is True


@pytest.mark.parametrize("check_mode", [False, True])
def test_downloads_then_reuses_in_check_mode_too(web: LocalWeb, tmp_path: Path, check_mode: bool) -> None:
    url = web.serve("/containerd.tar.gz", BODY)
    args = {"cache": str(tmp_path), "files": [{"name": "containerd.tar.gz", "url": url, "sha256": SHA}], "delay": 0}
    first, remote = run_action(args, check_mode)
    path = str(tmp_path / SHA / "containerd.tar.gz")
    assert first["changed"] is True and not first.get("failed")
    assert first["files"] == [
        {"name": "containerd.tar.gz", "url": url, "sha256": SHA, "path": path, "downloaded": True}
    ]
    assert first["msg"] == "downloaded and verified containerd.tar.gz; 0 reused from the cache"
    second = run_action(args, check_mode)[0]
    assert second["changed"] is False and second["files"][0]["downloaded"] is False
    assert second["msg"] == "all 1 files were in the cache with their SHA-256"
    assert web.count("/containerd.tar.gz") == 1
    assert_no_remote_call(remote)


def test_a_published_digest_and_a_failure_are_reported(web: LocalWeb, tmp_path: Path) -> None:
    url = web.serve("/v2.1.5/containerd-2.1.5-windows-amd64.tar.gz", BODY + b"!")
    checksum_url = web.serve(
        "/v2.1.5/containerd-2.1.5-windows-amd64.tar.gz.sha256sum",
        f"{SHA}  containerd-2.1.5-windows-amd64.tar.gz\n".encode(),
    )
    files = [{"name": "containerd-2.1.5-windows-amd64.tar.gz", "url": url, "checksum_url": checksum_url}]
    result = run_action({"cache": str(tmp_path), "files": files, "retries": 0})[0]
    actual = hashlib.sha256(BODY + b"!").hexdigest()
    assert result["failed"] is True and result["changed"] is False and result["files"] == []
    assert result["msg"] == (
        f"containerd-2.1.5-windows-amd64.tar.gz: {url} could not be downloaded and verified against the expected "
        f"SHA-256 {SHA} (published at {checksum_url}): attempt 1: the download's SHA-256 is {actual}. "
        f"Nothing was put in {tmp_path / SHA}."
    )


def test_bad_inputs_fail_before_any_request(web: LocalWeb, tmp_path: Path) -> None:
    url = web.serve("/k.exe", BODY)
    result = run_action({"cache": "cache", "files": [{"name": "k.exe", "url": url, "sha256": SHA}]})[0]
    assert result["failed"] and result["msg"].startswith("artifact_cache: cache 'cache' must be an absolute folder")
    result = run_action(
        {"cache": str(tmp_path), "files": [{"name": "k.exe", "url": url, "sha256": SHA}], "retries": -1}
    )[0]
    assert result["failed"] and result["msg"] == "artifact_cache: retries and delay must be >= 0 and timeout > 0"
    result = run_action({"cache": str(tmp_path), "files": [{"name": "../k.exe", "url": url, "sha256": SHA}]})[0]
    assert result["failed"] and "must be a plain file name" in result["msg"]
    assert web.count("/k.exe") == 0


def test_option_errors_come_from_the_argument_spec(tmp_path: Path) -> None:
    with pytest.raises(AnsibleActionFail, match="cache"):
        run_action({"files": []})
    with pytest.raises(AnsibleActionFail, match="one of the following is required: sha256, checksum_url"):
        run_action({"cache": str(tmp_path), "files": [{"name": "k", "url": "https://x/k"}]})
    with pytest.raises(AnsibleActionFail, match=r"Unsupported parameters for .* files\.chcksum_url"):
        run_action(
            {"cache": str(tmp_path), "files": [{"name": "k", "url": "https://x/k", "sha256": SHA, "chcksum_url": "s"}]}
        )
