# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the mcr role decides on the controller: reading the output of docker.exe, cri-dockerd.exe
and the MCR installer, and building cri-dockerd's command line (domain facts section 6,
windows-ground-truth section 8).

Abbreviations: GT = windows-ground-truth.md, LP = Mirantis/launchpad, CRID = Mirantis/cri-dockerd.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, List, Mapping, Optional, Sequence

from ansible_collections.winkube.node.plugins.module_utils.mcr import INSTALLER_REBOOT_EXIT_CODE

# A release version as the tools print it: 25.0.14, 23.0.15-1 (MCR packaging revisions), 0.4.3.
_RELEASE = r"(?P<version>[0-9]+\.[0-9]+\.[0-9]+(?:[-+~][0-9A-Za-z][0-9A-Za-z.+~-]*)?)"
# `docker --version` (GT 8.2 client line): "Docker version 20.10.9, build 591094d".
_DOCKER_CLIENT_RE = re.compile(rf"^Docker version {_RELEASE}, build (?P<commit>\S+)$")
# `cri-dockerd --version` (CRID cmd/server.go: "%s %s\n", PlatformName, FullVersion): "cri-dockerd 0.3.4 (e88b1605)".
_CRI_DOCKERD_RE = re.compile(rf"^cri-dockerd {_RELEASE} \((?P<commit>[^)\s]+)\)$")
# `docker version`: the Version line of the " Engine:" block under "Server: ..." (GT 8.2).
_SERVER_VERSION_RE = re.compile(rf"^\s+Version:\s+{_RELEASE}\s*$")

# LP pkg/configurer/windows.go InstallMCR: the installer's text for "reboot required" (older
# installers say so with exit code 0; newer ones also exit 3010, LP commit 2a00b0f).
REBOOT_TEXT = "Your machine needs to be rebooted"
# Windows PowerShell 5.1 `-File` with a script that does not exist (GT, simulator executables/docker.py).
POWERSHELL_NO_FILE = -196608

# cri-dockerd flags the role sets itself (CRID cmd/cri/options/options.go, config/options.go);
# extra arguments may not set them again.
MANAGED_FLAGS = (
    "--container-runtime-endpoint",
    "--docker-endpoint",
    "--pod-infra-container-image",
    "--network-plugin",
    "--cni-bin-dir",
    "--cni-conf-dir",
)
_PIPE_OR_TCP_RE = re.compile(r"^(?:npipe://(?://)?\./pipe/[A-Za-z0-9_.-]+|tcp://[A-Za-z0-9.-]+:[0-9]{1,5})$")
# C:\ then folder names separated by single backslashes (one optional trailing backslash).
_NAME = r"[^<>:\"/\\|?*\r\n]+"
_WINDOWS_PATH_RE = re.compile(rf"^[A-Za-z]:\\(?:{_NAME}(?:\\{_NAME})*\\?)?$")
_DIGEST_RE = re.compile(r"^sha256:[0-9a-f]{64}$")

TOOLS = ("docker", "docker-server", "cri-dockerd")


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{what} must be a string, got {type(value).__name__}")
    return value


def parse_tool_version(output: Any, tool: str) -> str:
    """The version in a tool's output: ``docker --version``, the engine block of ``docker version``
    (``docker-server``) or ``cri-dockerd --version``. Anything else is refused, never guessed."""
    text = _text(output, f"{tool} output")
    if tool == "docker":
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        match = _DOCKER_CLIENT_RE.match(lines[0]) if len(lines) == 1 else None
        if match is None:
            raise ValueError(f"docker --version printed {text.strip()!r}, not 'Docker version X.Y.Z, build <commit>'")
        return match.group("version")
    if tool == "cri-dockerd":
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        match = _CRI_DOCKERD_RE.match(lines[0]) if len(lines) == 1 else None
        if match is None:
            raise ValueError(
                f"cri-dockerd --version printed {text.strip()!r}, not 'cri-dockerd X.Y.Z (<commit>)' "
                "(a development build says 'dev' and is not a release)"
            )
        return match.group("version")
    if tool == "docker-server":
        return _server_version(text)
    raise ValueError(f"unknown tool {tool!r}; accepted: {', '.join(TOOLS)}")


def _server_version(text: str) -> str:
    """The first ``Version:`` after ``Server:`` / `` Engine:`` in ``docker version`` (GT 8.2)."""
    section = None
    for line in text.splitlines():
        if line.startswith("Server:"):
            section = "server"
        elif line.startswith("Client:"):
            section = "client"
        elif section == "server" and line.strip() == "Engine:":
            section = "engine"
        elif section == "engine":
            match = _SERVER_VERSION_RE.match(line)
            if match:
                return match.group("version")
    raise ValueError("docker version printed no Server/Engine Version line: is the engine running?")


@dataclass(frozen=True)
class InstallerOutcome:
    """What one run of the MCR installer means: ``installed``, ``reboot`` (installed, a reboot
    completes it), ``failed`` or ``skipped`` (it did not run: check mode)."""

    state: str
    message: str

    @property
    def reboot_required(self) -> bool:
        return self.state == "reboot"

    @property
    def failed(self) -> bool:
        return self.state == "failed"


def _last_line(*texts: str) -> str:
    for text in texts:
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        if lines:
            return lines[-1]
    return "(no output)"


def installer_outcome(
    result: Mapping[str, Any], reboot_exit_code: int = INSTALLER_REBOOT_EXIT_CODE
) -> InstallerOutcome:
    """Read a ``win_command`` result of ``powershell.exe -File install.ps1``.

    Exit 0 is success unless the output says a reboot is needed (LP checks that text); the reboot
    exit code (3010, ERROR_SUCCESS_REBOOT_REQUIRED) means installed, reboot required; any other exit
    code is a failure whose message names the code and the last line the installer printed."""
    if not isinstance(result, Mapping):
        raise ValueError(
            f"the installer result must be a mapping (a registered win_command), got {type(result).__name__}"
        )
    if result.get("skipped"):
        return InstallerOutcome("skipped", "the installer did not run (check mode)")
    rc = result.get("rc")
    if isinstance(rc, bool) or not isinstance(rc, int):
        raise ValueError(f"the installer result has no integer rc: {rc!r}")
    stdout = result.get("stdout") or ""
    stderr = result.get("stderr") or ""
    if rc == reboot_exit_code:
        return InstallerOutcome("reboot", f"the installer exited {rc}: installed, a reboot completes the installation")
    if rc == 0:
        if REBOOT_TEXT in stdout:
            return InstallerOutcome("reboot", f"the installer said {REBOOT_TEXT!r}")
        return InstallerOutcome("installed", "the installer finished")
    if rc == POWERSHELL_NO_FILE:
        return InstallerOutcome(
            "failed", f"PowerShell did not find the installer script (exit {rc}): {_last_line(stderr, stdout)}"
        )
    return InstallerOutcome(
        "failed",
        f"the Mirantis Container Runtime installer failed with exit code {rc} (only 0 and {reboot_exit_code}, "
        f"reboot required, mean success): {_last_line(stderr, stdout)}",
    )


def cri_dockerd_arguments(
    endpoint: Any,
    docker_endpoint: Any,
    pause_image: Any,
    *,
    cni_bin_dir: Any,
    cni_conf_dir: Any,
    extra: Optional[Sequence[Any]] = None,
) -> List[str]:
    """cri-dockerd's arguments, one ``--flag=value`` each (a value can never be taken for a flag):
    its CRI endpoint for kubelet, the engine's pipe, the pause image, CNI as network plugin and the
    CNI directories, then ``extra`` (more ``--flag[=value]`` arguments that do not repeat those)."""
    for name, value in (("endpoint", endpoint), ("docker_endpoint", docker_endpoint)):
        if not isinstance(value, str) or not _PIPE_OR_TCP_RE.match(value):
            raise ValueError(f"{name} {value!r} is not an npipe:////./pipe/<name> or tcp://<host>:<port> endpoint")
    if not isinstance(pause_image, str) or not pause_image.strip() or any(c.isspace() for c in pause_image.strip()):
        raise ValueError(f"pause image {pause_image!r} is not an image reference")
    for name, value in (("cni_bin_dir", cni_bin_dir), ("cni_conf_dir", cni_conf_dir)):
        if not isinstance(value, str) or not _WINDOWS_PATH_RE.match(value):
            raise ValueError(f"{name} {value!r} is not an absolute Windows path such as C:\\k\\cni\\bin")
    args = [
        f"--container-runtime-endpoint={endpoint}",
        f"--docker-endpoint={docker_endpoint}",
        f"--pod-infra-container-image={pause_image.strip()}",
        "--network-plugin=cni",
        f"--cni-bin-dir={cni_bin_dir}",
        f"--cni-conf-dir={cni_conf_dir}",
    ]
    for item in extra or ():
        if not isinstance(item, str) or not item.startswith("--") or len(item) < 3 or any(c.isspace() for c in item):
            raise ValueError(f"extra argument {item!r} is not one --flag or --flag=value without blanks")
        flag = item.split("=", 1)[0]
        if flag in MANAGED_FLAGS:
            raise ValueError(f"extra argument {item!r} sets {flag}, which the role sets from the plan")
        args.append(item)
    return args


def _repository(image: str) -> str:
    """The repository of a reference without tag or digest, in Docker's familiar form
    (``docker.io/library/x`` is ``x``), which is how ``RepoDigests`` name it."""
    name = image.split("@", 1)[0]
    slash = name.rfind("/")
    # A colon after the last slash starts the tag; one before it belongs to a registry port.
    if ":" in name[slash + 1 :]:
        name = name[: name.rindex(":")]
    for prefix in ("docker.io/library/", "docker.io/"):
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


def image_repo_digest(inspect_output: Any, image: Any) -> str:
    """The ``sha256:`` digest ``docker image inspect`` records for ``image``'s repository
    (``RepoDigests``: the digest the registry served, the manifest list's for a multi-arch image)."""
    text = _text(inspect_output, "docker image inspect output")
    reference = _text(image, "image")
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"docker image inspect output is not JSON: {exc}") from None
    if not isinstance(doc, list) or len(doc) != 1 or not isinstance(doc[0], Mapping):
        raise ValueError("docker image inspect output is not a list with one image")
    repo = _repository(reference)
    for entry in doc[0].get("RepoDigests") or []:
        name, sep, digest = str(entry).partition("@")
        if sep and _repository(name) == repo:
            if not _DIGEST_RE.match(digest):
                raise ValueError(f"RepoDigests entry {entry!r} does not carry a sha256 digest")
            return digest
    raise ValueError(f"docker image inspect shows no RepoDigests entry for {repo} (was {reference} pulled?)")
