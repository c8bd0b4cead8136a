# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading docker.exe / cri-dockerd.exe / installer output and building cri-dockerd's arguments."""

from __future__ import annotations

import json
import re
from typing import Any, Dict

import pytest
from ansible_collections.winkube.node.plugins.module_utils import mcr_runtime

# GT 8.2 [VERBATIM], MCR 20.10.9 on Windows Server.
DOCKER_VERSION_OUTPUT = """\
Client: Mirantis Container Runtime
 Version:           20.10.9
 API version:       1.41
 Go version:        go1.16.12m2
 Git commit:        591094d
 Built:             12/21/2021 21:34:30
 OS/Arch:           windows/amd64
 Context:           default
 Experimental:      true

Server: Mirantis Container Runtime
 Engine:
  Version:          20.10.9
  API version:      1.41 (minimum version 1.24)
  Go version:       go1.16.12m2
  Git commit:       9b96ce992b
  Built:            12/21/2021 21:33:06
  OS/Arch:          windows/amd64
  Experimental:     false
"""
DIGEST = "sha256:" + "0123456789abcdef" * 4


@pytest.mark.parametrize(
    ("output", "tool", "version"),
    [
        ("Docker version 20.10.9, build 591094d\n", "docker", "20.10.9"),
        ("Docker version 23.0.15-1, build 3a5e1c8\r\n", "docker", "23.0.15-1"),
        ("cri-dockerd 0.3.4 (e88b1605)\n", "cri-dockerd", "0.3.4"),  # GT 8.3 [VERBATIM]
        ("  cri-dockerd 0.4.3 (1a2b3c4d)  \n\n", "cri-dockerd", "0.4.3"),
        (DOCKER_VERSION_OUTPUT, "docker-server", "20.10.9"),
        (
            DOCKER_VERSION_OUTPUT.replace("  Version:          20.10.9", "  Version:          25.0.14"),
            "docker-server",
            "25.0.14",
        ),
    ],
)
def test_versions(output: str, tool: str, version: str) -> None:
    assert mcr_runtime.parse_tool_version(output, tool) == version


@pytest.mark.parametrize(
    ("output", "tool", "error"),
    [
        ("", "docker", "docker --version printed ''"),
        ("Docker version 20.10, build 591094d", "docker", "not 'Docker version X.Y.Z"),
        ("Docker version 20.10.9, build 591094d\nDocker version 24.0.7, build x", "docker", "printed"),
        ("cri-dockerd dev (HEAD)", "cri-dockerd", "a development build"),
        ("cri-dockerd 0.3.4", "cri-dockerd", "not 'cri-dockerd X.Y.Z (<commit>)'"),
        # the client block alone (engine down): no server version, and the client's is not taken for it
        (DOCKER_VERSION_OUTPUT.split("\n\n", maxsplit=1)[0], "docker-server", "no Server/Engine Version line"),
        ("Docker version 20.10.9, build 591094d", "dockerd", "unknown tool 'dockerd'"),
        (None, "docker", "must be a string"),
    ],
)
def test_versions_refused(output: Any, tool: str, error: str) -> None:
    with pytest.raises(ValueError, match=re.escape(error)):
        mcr_runtime.parse_tool_version(output, tool)


@pytest.mark.parametrize(
    ("result", "state", "message"),
    [
        ({"rc": 0, "stdout": "Mirantis Container Runtime 24.0.7 installed\n"}, "installed", "the installer finished"),
        ({"rc": 3010, "stdout": "Your machine needs to be rebooted\n"}, "reboot", "exited 3010"),
        # older installers say it with exit code 0 (what launchpad looks for)
        (
            {"rc": 0, "stdout": "...\nYour machine needs to be rebooted\n"},
            "reboot",
            "Your machine needs to be rebooted",
        ),
        (
            {"rc": 1, "stdout": "Installing\n", "stderr": "Failed to download https://x/docker-1.zip: 503\n"},
            "failed",
            "failed with exit code 1 (only 0 and 3010, reboot required, mean success): Failed to download",
        ),
        (
            {"rc": 5, "stdout": "", "stderr": ""},
            "failed",
            "exit code 5 (only 0 and 3010, reboot required, mean success): (no output)",
        ),
        (
            {"rc": -196608, "stderr": "The argument 'C:\\x.ps1' to the -File parameter does not exist."},
            "failed",
            "PowerShell did not find the installer script (exit -196608)",
        ),
        ({"skipped": True, "changed": False}, "skipped", "check mode"),
    ],
)
def test_installer_outcome(result: Dict[str, Any], state: str, message: str) -> None:
    outcome = mcr_runtime.installer_outcome(result)
    assert outcome.state == state
    assert message in outcome.message
    assert outcome.reboot_required is (state == "reboot")
    assert outcome.failed is (state == "failed")


def test_installer_outcome_with_another_reboot_code() -> None:
    assert mcr_runtime.installer_outcome({"rc": 3010}, reboot_exit_code=1641).state == "failed"
    assert mcr_runtime.installer_outcome({"rc": 1641}, reboot_exit_code=1641).state == "reboot"


@pytest.mark.parametrize("result", [{"stdout": "x"}, {"rc": "0"}, {"rc": True}, "rc=0", None])
def test_installer_outcome_refuses_what_is_not_a_result(result: Any) -> None:
    with pytest.raises(ValueError, match="installer result"):
        mcr_runtime.installer_outcome(result)


ENDPOINT = "npipe:////./pipe/cri-dockerd"
DOCKER = "npipe:////./pipe/docker_engine"
PAUSE = "mcr.microsoft.com/oss/kubernetes/pause:3.6"


def _args(**overrides: Any) -> Any:
    values: Dict[str, Any] = {
        "endpoint": ENDPOINT,
        "docker_endpoint": DOCKER,
        "pause_image": PAUSE,
        "cni_bin_dir": "C:\\k\\cni\\bin",
        "cni_conf_dir": "C:\\k\\cni\\config",
        "extra": None,
    }
    values.update(overrides)
    return mcr_runtime.cri_dockerd_arguments(
        values["endpoint"],
        values["docker_endpoint"],
        values["pause_image"],
        cni_bin_dir=values["cni_bin_dir"],
        cni_conf_dir=values["cni_conf_dir"],
        extra=values["extra"],
    )


def test_cri_dockerd_arguments() -> None:
    assert _args() == [
        "--container-runtime-endpoint=npipe:////./pipe/cri-dockerd",
        "--docker-endpoint=npipe:////./pipe/docker_engine",
        "--pod-infra-container-image=mcr.microsoft.com/oss/kubernetes/pause:3.6",
        "--network-plugin=cni",
        "--cni-bin-dir=C:\\k\\cni\\bin",
        "--cni-conf-dir=C:\\k\\cni\\config",
    ]
    extra = _args(
        extra=["--log-level=debug", "--image-pull-progress-deadline=5m"], cni_bin_dir="C:\\Program Files\\cni\\"
    )
    assert extra[4] == "--cni-bin-dir=C:\\Program Files\\cni\\"
    assert extra[-2:] == ["--log-level=debug", "--image-pull-progress-deadline=5m"]
    assert _args(docker_endpoint="tcp://127.0.0.1:2375")[1] == "--docker-endpoint=tcp://127.0.0.1:2375"


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"endpoint": "unix:///var/run/cri-dockerd.sock"}, "endpoint 'unix:///var/run/cri-dockerd.sock' is not"),
        ({"docker_endpoint": r"\\.\pipe\docker_engine"}, "docker_endpoint"),
        ({"pause_image": "pause 3.6"}, "is not an image reference"),
        ({"pause_image": None}, "is not an image reference"),
        ({"cni_bin_dir": "/opt/cni/bin"}, "cni_bin_dir '/opt/cni/bin' is not an absolute Windows path"),
        ({"cni_conf_dir": "C:\\k\\\\config"}, "cni_conf_dir"),
        ({"cni_conf_dir": "C:\\k\\cni:config"}, "cni_conf_dir"),
        ({"extra": ["--pod-infra-container-image=registry.k8s.io/pause:3.10"]}, "which the role sets from the plan"),
        ({"extra": ["--network-plugin"]}, "which the role sets from the plan"),
        ({"extra": ["-v"]}, "is not one --flag or --flag=value"),
        ({"extra": ["--log-level debug"]}, "without blanks"),
        ({"extra": [3]}, "is not one --flag"),
    ],
)
def test_cri_dockerd_arguments_refused(overrides: Dict[str, Any], error: str) -> None:
    with pytest.raises(ValueError, match=re.escape(error)):
        _args(**overrides)


def _inspect(*repo_digests: str) -> str:
    return json.dumps([{"Id": "sha256:" + "f" * 64, "RepoTags": [PAUSE], "RepoDigests": list(repo_digests)}], indent=4)


def test_image_digest() -> None:
    other = "sha256:" + "a" * 64
    output = _inspect(f"mirror.example/pause@{other}", f"mcr.microsoft.com/oss/kubernetes/pause@{DIGEST}")
    assert mcr_runtime.image_repo_digest(output, PAUSE) == DIGEST
    assert mcr_runtime.image_repo_digest(output, "mirror.example/pause:3.6") == other
    # Docker's familiar names: docker.io/library/x is x
    assert mcr_runtime.image_repo_digest(_inspect(f"nginx@{DIGEST}"), "docker.io/library/nginx:1.27") == DIGEST
    assert (
        mcr_runtime.image_repo_digest(_inspect(f"localhost:5000/pause@{DIGEST}"), "localhost:5000/pause:3.6") == DIGEST
    )
    assert (
        mcr_runtime.image_repo_digest(_inspect(f"mcr.microsoft.com/oss/kubernetes/pause@{DIGEST}"), f"{PAUSE}@{DIGEST}")
        == DIGEST
    )


@pytest.mark.parametrize(
    ("output", "error"),
    [
        ("[]", "not a list with one image"),
        ("Error: No such image", "is not JSON"),
        (_inspect(), "no RepoDigests entry for mcr.microsoft.com/oss/kubernetes/pause"),
        (_inspect(f"registry.k8s.io/pause@{DIGEST}"), "no RepoDigests entry"),
        (_inspect("mcr.microsoft.com/oss/kubernetes/pause@sha256:xyz"), "does not carry a sha256 digest"),
        (json.dumps({"RepoDigests": []}), "not a list with one image"),
    ],
)
def test_image_digest_refused(output: str, error: str) -> None:
    with pytest.raises(ValueError, match=re.escape(error)):
        mcr_runtime.image_repo_digest(output, PAUSE)
