# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The sig-windows end-to-end test workflow (domain facts section 9): inputs, build, run and report.

Pure functions only; the e2e role reaches them through its filters and the module
``winkube.node.e2e_junit_summary`` through ``summarize_reports``/``render_markdown``.

Sources: kubernetes-sigs/windows-testing README.md (the ``[Creds]`` TOML, the environment variables,
``--provider=skeleton --node-os-distro=windows``, focus ``\\[sig-windows\\]``, skip ``\\[LinuxOnly\\]``),
kubernetes/kubernetes ``build/run.sh`` and ``build/common.sh`` (binaries under
``_output/dockerized/bin/<os>/<arch>/``; ``_output/`` is never synced into the build container),
``hack/ginkgo-e2e.sh`` (parallel runs go through the ``ginkgo`` CLI, ``--nodes=N``),
onsi/ginkgo ``reporters/junit_reporter.go`` (v1: one ``<testsuite>`` per parallel node, ``<failure type=...>``
with the message as text, empty ``<skipped/>``) and ``reporters/junit_report.go`` (v2: ``<testsuites>`` with
one merged ``<testsuite>``, ``status`` per testcase, ``<skipped message>``, ``<failure message type>``,
``<error message type>``), kubernetes ``test/e2e/framework`` (v2 writes ``junit_<prefix>01.xml`` with
``OmitFailureMessageAttr``, so the message is the element's text).

This file is imported on the host that runs the tests too, so it keeps to what Python 3.8 accepts.
"""

from __future__ import annotations

import base64
import binascii
import posixpath
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple
from urllib.parse import urlsplit

WINDOWS_TESTING_RAW = "https://raw.githubusercontent.com/kubernetes-sigs/windows-testing/master"
DEFAULT_WIN_BUILD_URL = WINDOWS_TESTING_RAW + "/build/build-windows-k8s.sh"
DEFAULT_REPO_LIST_URL = WINDOWS_TESTING_RAW + "/images/image-repo-list"

# KUBE_BUILD_PLATFORMS values the role builds; each maps to the hosts that can run the binary.
PLATFORMS = ("linux/amd64", "linux/arm64", "windows/amd64", "darwin/amd64", "darwin/arm64")
E2E_TARGET = "test/e2e/e2e.test"
GINKGO_TARGETS = {1: "vendor/github.com/onsi/ginkgo/ginkgo", 2: "vendor/github.com/onsi/ginkgo/v2/ginkgo"}
DEFAULT_FOCUS = r"\[sig-windows\]"
CONFORMANCE_FOCUS = r"\[Conformance\]"
DEFAULT_SKIP = r"\[LinuxOnly\]"

# (TOML key, role variable), in the order of the windows-testing README.
CREDENTIALS = (
    ("ClientID", "e2e_azure_client_id"),
    ("ClientSecret", "e2e_azure_client_secret"),
    ("SubscriptionID", "e2e_azure_subscription_id"),
    ("TenantID", "e2e_azure_tenant_id"),
    ("StorageAccountName", "e2e_azure_storage_account_name"),
    ("StorageAccountKey", "e2e_azure_storage_account_key"),
)
_GUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
# Azure naming rules: storage accounts 3-24 lowercase letters and digits; blob containers 3-63 lowercase
# letters, digits and single hyphens, starting and ending with a letter or digit.
_STORAGE_ACCOUNT_RE = re.compile(r"^[a-z0-9]{3,24}$")
_CONTAINER_RE = re.compile(r"^(?=.{3,63}$)[a-z0-9]+(-[a-z0-9]+)*$")
_REGISTRY_RE = re.compile(r"^[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._/-]+)?$")
_GO_MOD_MODULE_RE = re.compile(r"^module\s+(\S+)\s*$", re.MULTILINE)
_GO_MOD_GINKGO_RE = re.compile(r"^\s*(?:require\s+)?github\.com/onsi/ginkgo(/v2)?\s+v\d", re.MULTILINE)
_SHA_RE = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")


# --------------------------------------------------------------------------------------------------
# Inputs


def _text_problem(value: Any) -> Optional[str]:
    """Why a required text input is unusable, or None. Never quotes the value: it may be a secret."""
    if value is None:
        return "is not set"
    if not isinstance(value, str):
        return "must be a string, got a %s" % type(value).__name__
    if not value.strip():
        return "is empty"
    if value != value.strip():
        # A trailing newline from a file or a vault paste would end up inside the quoted TOML value.
        return "has leading or trailing whitespace"
    return None


def credential_problems(values: Mapping[str, Any]) -> List[str]:
    """One ``<variable>: <problem>`` line per unusable Azure credential (values keyed by role variable)."""
    problems = []
    for key, variable in CREDENTIALS:
        value = values.get(variable)
        problem = _text_problem(value)
        if problem is None and key in ("ClientID", "SubscriptionID", "TenantID") and not _GUID_RE.match(value):
            problem = "is not a GUID (8-4-4-4-12 hex digits), which an Azure %s always is" % key
        if problem is None and key == "StorageAccountName" and not _STORAGE_ACCOUNT_RE.match(value):
            problem = "is not a storage account name (3 to 24 lowercase letters and digits)"
        if problem is None and key == "StorageAccountKey" and not _is_base64(value):
            problem = "is not base64, which an Azure storage account key always is"
        if problem is not None:
            problems.append("%s: %s" % (variable, problem))
    return problems


def _is_base64(value: str) -> bool:
    try:
        return len(base64.b64decode(value, validate=True)) > 0
    except (binascii.Error, ValueError):
        return False


def toml_basic_string(value: str) -> str:
    """``value`` as a TOML basic string (quotes, backslashes and control characters escaped)."""
    out = []
    for char in value:
        if char in ('"', "\\"):
            out.append("\\" + char)
        elif char == "\n":
            out.append("\\n")
        elif char == "\t":
            out.append("\\t")
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append("\\u%04X" % ord(char))
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def render_credentials_toml(values: Mapping[str, Any]) -> str:
    """The ``AZURE_CREDENTIALS`` file (windows-testing README layout) from the role's credential variables.

    Raises ValueError naming every unusable variable (never a value) when one is missing or wrong.
    """
    problems = credential_problems(values)
    if problems:
        raise ValueError("the Azure credentials are incomplete: " + "; ".join(problems))
    lines = ["[Creds]"]
    lines.extend("  %s = %s" % (key, toml_basic_string(values[variable])) for key, variable in CREDENTIALS)
    return "\n".join(lines) + "\n"


def kubernetes_go_module(go_mod: str) -> Optional[str]:
    """The module path that a go.mod declares, or None."""
    match = _GO_MOD_MODULE_RE.search(go_mod or "")
    return match.group(1) if match else None


def ginkgo_major(go_mod: str) -> int:
    """The Ginkgo major version (1 or 2) that a kubernetes go.mod requires (v2 since Kubernetes 1.25)."""
    majors = {2 if match.group(1) else 1 for match in _GO_MOD_GINKGO_RE.finditer(go_mod or "")}
    if 2 in majors:
        return 2
    if 1 in majors:
        return 1
    raise ValueError("go.mod requires neither github.com/onsi/ginkgo nor github.com/onsi/ginkgo/v2")


def git_state(status: Optional[str]) -> Dict[str, Any]:
    """HEAD and whether the work tree has changes, from ``git status --porcelain=v2 --branch`` (None: git failed).

    Any entry line (changed, staged, unmerged or untracked path) makes the tree dirty; header lines start with #.
    """
    if status is None:
        return {"head": None, "dirty": None}
    head = None
    dirty = False
    for line in status.splitlines():
        if line.startswith("# branch.oid "):
            oid = line.split(" ", 2)[2].strip()
            head = oid if _SHA_RE.match(oid) else None  # "(initial)" before the first commit
        elif line.strip() and not line.startswith("#"):
            dirty = True
    return {"head": head, "dirty": dirty}


def host_platforms(system: str, machine: str, wsl_interop: bool = False) -> Tuple[str, ...]:
    """The build platforms whose binaries run on a host (``uname -s``/``uname -m`` as Ansible reports them).

    An Apple silicon Mac runs darwin/amd64 under Rosetta 2; WSL runs Windows executables through its
    interop (``/proc/sys/fs/binfmt_misc/WSLInterop``).
    """
    arch = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get((machine or "").lower())
    if arch is None:
        return ()
    if system == "Linux":
        runs = ["linux/" + arch]
        if wsl_interop and arch == "amd64":
            runs.append("windows/amd64")
        return tuple(runs)
    if system == "Darwin":
        return ("darwin/arm64", "darwin/amd64") if arch == "arm64" else ("darwin/amd64",)
    return ()


def _path_problem(variable: str, path: Any, stat: Optional[Mapping[str, Any]], kind: str) -> Optional[str]:
    """Why a path input is unusable. ``stat`` is what ansible.builtin.stat returned for it."""
    problem = _text_problem(path)
    if problem is not None:
        return "%s: %s" % (variable, problem)
    if not posixpath.isabs(path):
        # The path is also exported to the test binary, which does not expand ~ or resolve relative paths.
        return "%s: %s is not an absolute path" % (variable, path)
    if stat is None:
        return None
    if not stat.get("exists"):
        return "%s: %s does not exist" % (variable, path)
    if kind == "dir" and not stat.get("isdir"):
        return "%s: %s is not a directory" % (variable, path)
    if kind == "file" and not stat.get("isreg"):
        return "%s: %s is not a regular file" % (variable, path)
    if kind == "file" and stat.get("readable") is False:
        return "%s: %s is not readable by this user" % (variable, path)
    return None


def _inside(path: Any, directory: Any) -> bool:
    """Whether absolute ``path`` is ``directory`` or below it (both normalised; False unless both are absolute)."""
    if not (
        isinstance(path, str) and isinstance(directory, str) and posixpath.isabs(path) and posixpath.isabs(directory)
    ):
        return False
    path, directory = posixpath.normpath(path), posixpath.normpath(directory)
    return path == directory or path.startswith(directory.rstrip("/") + "/")


def _url_problem(
    variable: str, value: Any, allow_local: bool, local_stat: Optional[Mapping[str, Any]]
) -> Optional[str]:
    problem = _text_problem(value)
    if problem is not None:
        return "%s: %s" % (variable, problem)
    parts = urlsplit(value)
    if parts.scheme in ("http", "https") and parts.netloc:
        return None
    if allow_local and (parts.scheme == "file" or not parts.scheme):
        local = parts.path if parts.scheme == "file" else value
        return _path_problem(variable, local, local_stat, "file")
    accepted = "an http(s) URL or an absolute local file" if allow_local else "an http(s) URL"
    return "%s: %s is not %s" % (variable, value, accepted)


def repo_list_local_path(value: str) -> Optional[str]:
    """The local file of ``e2e_repo_list_url`` (a path or a ``file://`` URL), or None for an http(s) URL."""
    parts = urlsplit(value or "")
    if parts.scheme == "file":
        return parts.path
    if not parts.scheme:
        return value
    return None


def _patterns_problem(variable: str, value: Any) -> Optional[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value):
        return "%s: must be a list of non-empty regular expressions" % variable
    return None


def input_problems(inputs: Mapping[str, Any], observed: Mapping[str, Any]) -> List[str]:
    """Every unusable input of the e2e role, one ``<variable>: <problem>`` line each; empty when all are usable.

    ``inputs`` are the role variables. ``observed`` is what the role saw on the host that runs the tests:
    ``stat`` (variable name to ansible.builtin.stat's ``stat`` dict), ``run_sh`` (the stat of build/run.sh),
    ``go_mod`` (the checkout's go.mod text or None), ``git_status`` (``git status --porcelain=v2 --branch``
    or None), ``system``/``machine``/``wsl_interop`` (the host). No line quotes a credential.
    """
    stats = observed.get("stat") or {}
    problems: List[Optional[str]] = []

    src = inputs.get("e2e_kubernetes_src")
    src_problem = _path_problem("e2e_kubernetes_src", src, stats.get("e2e_kubernetes_src"), "dir")
    problems.append(src_problem)
    if src_problem is None:
        run_sh = observed.get("run_sh") or {}
        go_mod = observed.get("go_mod")
        module = kubernetes_go_module(go_mod) if go_mod is not None else None
        if not run_sh.get("exists") or not run_sh.get("executable"):
            problems.append("e2e_kubernetes_src: %s has no executable build/run.sh" % src)
        if go_mod is None:
            problems.append("e2e_kubernetes_src: %s has no go.mod, so it is not a kubernetes/kubernetes checkout" % src)
        elif module != "k8s.io/kubernetes":
            problems.append(
                "e2e_kubernetes_src: %s is not a kubernetes/kubernetes checkout (go.mod declares module %s, "
                "not k8s.io/kubernetes)" % (src, module or "nothing")
            )
        else:
            try:
                ginkgo_major(go_mod)
            except ValueError as exc:
                problems.append("e2e_kubernetes_src: %s" % exc)
        if git_state(observed.get("git_status"))["head"] is None:
            # The build's up-to-date check compares commits, so the checkout must be a git work tree with a commit.
            problems.append("e2e_kubernetes_src: %s is not a git work tree with a commit (git status failed)" % src)

    problems.append(_path_problem("e2e_kubeconfig", inputs.get("e2e_kubeconfig"), stats.get("e2e_kubeconfig"), "file"))
    problems.append(_path_problem("e2e_artifacts_dir", inputs.get("e2e_artifacts_dir"), None, "dir"))
    problems.append(_path_problem("e2e_azure_credentials_path", inputs.get("e2e_azure_credentials_path"), None, "file"))
    credentials_path, artifacts = inputs.get("e2e_azure_credentials_path"), inputs.get("e2e_artifacts_dir")
    if _inside(credentials_path, artifacts):
        # ARTIFACTS is what CI uploads and publishes; the secrets must not travel with it.
        problems.append(
            "e2e_azure_credentials_path: %s is inside e2e_artifacts_dir %s, which is published with the logs"
            % (credentials_path, artifacts)
        )
    for variable in ("e2e_ssh_public_key_path", "e2e_ssh_private_key_path"):
        problems.append(_path_problem(variable, inputs.get(variable), stats.get(variable), "file"))
    private_stat = stats.get("e2e_ssh_private_key_path") or {}
    private_mode = private_stat.get("mode") if private_stat.get("isreg") else None
    if private_mode and int(private_mode, 8) & 0o077:
        # ssh refuses such a key ("UNPROTECTED PRIVATE KEY FILE"), so log collection would fail late.
        problems.append(
            "e2e_ssh_private_key_path: %s has mode %s; ssh refuses a private key that others can access "
            "(chmod 600 it)" % (inputs.get("e2e_ssh_private_key_path"), private_mode)
        )

    platform = inputs.get("e2e_build_platform")
    if platform not in PLATFORMS:
        problems.append("e2e_build_platform: %r is not one of %s" % (platform, ", ".join(PLATFORMS)))
    elif observed.get("system") is not None:
        runnable = host_platforms(observed.get("system"), observed.get("machine"), bool(observed.get("wsl_interop")))
        if platform not in runnable:
            problems.append(
                "e2e_build_platform: a %s binary cannot run on this %s %s host (it runs %s)"
                % (platform, observed.get("system"), observed.get("machine"), ", ".join(runnable) or "none of them")
            )

    registry = inputs.get("e2e_registry")
    problem = _text_problem(registry)
    if problem is None and not _REGISTRY_RE.match(registry):
        problem = "%s is not a registry host[:port][/path] (no scheme)" % registry
    problems.append("e2e_registry: %s" % problem if problem else None)

    container = inputs.get("e2e_storage_container_name")
    problem = _text_problem(container)
    if problem is None and not _CONTAINER_RE.match(container):
        problem = "%s is not an Azure blob container name (3 to 63 lowercase letters, digits and single hyphens)" % (
            container
        )
    problems.append("e2e_storage_container_name: %s" % problem if problem else None)

    problems.extend(credential_problems(inputs))
    problems.append(_url_problem("e2e_win_build_url", inputs.get("e2e_win_build_url"), False, None))
    problems.append(
        _url_problem("e2e_repo_list_url", inputs.get("e2e_repo_list_url"), True, stats.get("e2e_repo_list_url"))
    )
    if not isinstance(inputs.get("e2e_include_conformance"), bool):
        problems.append("e2e_include_conformance: must be true or false")
    problems.append(_patterns_problem("e2e_focus", inputs.get("e2e_focus")))
    problems.append(_patterns_problem("e2e_skip", inputs.get("e2e_skip")))
    parallelism = inputs.get("e2e_parallelism")
    if isinstance(parallelism, bool) or not isinstance(parallelism, int) or parallelism < 1:
        problems.append("e2e_parallelism: must be a whole number of at least 1, got %r" % (parallelism,))
    extra = inputs.get("e2e_extra_args")
    if not isinstance(extra, list) or not all(isinstance(item, str) and item for item in extra):
        problems.append("e2e_extra_args: must be a list of non-empty strings")
    return [problem for problem in problems if problem]


def problems_message(problems: Sequence[str]) -> str:
    """The role's single failure message for ``input_problems``."""
    return "winkube.node.e2e cannot run, %d input%s to fix:\n%s" % (
        len(problems),
        "" if len(problems) == 1 else "s",
        "\n".join("- " + problem for problem in problems),
    )


# --------------------------------------------------------------------------------------------------
# Build


def _split_platform(platform: str) -> Tuple[str, str]:
    if platform not in PLATFORMS:
        raise ValueError("build platform %r is not one of %s" % (platform, ", ".join(PLATFORMS)))
    os_name, arch = platform.split("/")
    return os_name, arch


def output_dir(src: str, platform: str) -> str:
    """Where build/run.sh leaves the binaries of a platform."""
    os_name, arch = _split_platform(platform)
    return posixpath.join(src, "_output", "dockerized", "bin", os_name, arch)


def binary_path(src: str, platform: str, name: str = "e2e.test") -> str:
    """The built ``e2e.test`` (or ``ginkgo``) of a platform; Go adds ``.exe`` for windows."""
    os_name = _split_platform(platform)[0]
    return posixpath.join(output_dir(src, platform), name + (".exe" if os_name == "windows" else ""))


def build_targets(parallelism: int, ginkgo: int) -> List[str]:
    """The make WHAT targets: e2e.test, and the ginkgo CLI that a parallel run needs."""
    if parallelism > 1:
        return [E2E_TARGET, GINKGO_TARGETS[ginkgo]]
    return [E2E_TARGET]


def build_argv(platform: str, targets: Sequence[str]) -> List[str]:
    """``./build/run.sh make KUBE_BUILD_PLATFORMS=<os>/<arch> WHAT=<targets>``, run in the checkout."""
    _split_platform(platform)
    return ["./build/run.sh", "make", "KUBE_BUILD_PLATFORMS=" + platform, "WHAT=" + " ".join(targets)]


def build_stamp(head: str, platform: str, targets: Sequence[str], checksums: Mapping[str, str]) -> Dict[str, Any]:
    """What the role records beside the binaries after a build it ran from a clean tree."""
    return {"head": head, "platform": platform, "targets": list(targets), "sha256": dict(checksums)}


def build_decision(
    stamp: Optional[Mapping[str, Any]],
    *,
    head: str,
    dirty: bool,
    platform: str,
    targets: Sequence[str],
    checksums: Mapping[str, Optional[str]],
) -> Dict[str, Any]:
    """Whether the binaries in ``_output`` are up to date, with the reason.

    Up to date means: this role built them (its stamp is there), from the same HEAD commit, for the same
    platform and targets, the work tree has no change git reports (``git status --porcelain``: modified,
    staged or untracked files), and each binary still has the SHA-256 recorded after that build. Anything else
    (a binary built by hand, a dirty tree, a new commit, a replaced binary) rebuilds: the role cannot tell
    which sources a change touches, and a build from unchanged sources is cheap compared to a wrong test run.
    """
    missing = [name for name, checksum in checksums.items() if not checksum]
    if missing:
        return {"up_to_date": False, "reason": "no built %s yet" % ", ".join(sorted(missing))}
    if dirty:
        return {"up_to_date": False, "reason": "the work tree has uncommitted changes"}
    if not stamp:
        return {"up_to_date": False, "reason": "the binaries were not built by this role (no build stamp)"}
    if stamp.get("head") != head:
        return {"up_to_date": False, "reason": "HEAD moved from %s to %s" % (stamp.get("head"), head)}
    if stamp.get("platform") != platform or list(stamp.get("targets") or []) != list(targets):
        return {"up_to_date": False, "reason": "the last build was for other targets or another platform"}
    recorded = stamp.get("sha256") or {}
    changed = sorted(name for name, checksum in checksums.items() if recorded.get(name) != checksum)
    if changed:
        return {"up_to_date": False, "reason": "%s changed since the last build" % ", ".join(changed)}
    return {"up_to_date": True, "reason": "built by this role from %s with a clean tree" % head}


# --------------------------------------------------------------------------------------------------
# Run


def focus_regex(include_conformance: bool, user_focus: Sequence[str]) -> str:
    """The Ginkgo focus: the sig-windows tests, Conformance when asked, and the user's patterns (any matches)."""
    patterns = [DEFAULT_FOCUS, *([CONFORMANCE_FOCUS] if include_conformance else []), *user_focus]
    return "|".join(_dedupe(patterns))


def skip_regex(user_skip: Sequence[str]) -> str:
    """The Ginkgo skip: Linux-only tests always, and the user's patterns."""
    return "|".join(_dedupe([DEFAULT_SKIP, *user_skip]))


def _dedupe(items: Sequence[str]) -> List[str]:
    seen: List[str] = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return seen


def _windows_args(kubeconfig: str, report_dir: str) -> List[str]:
    """The e2e.test flags of a Windows run (windows-testing README)."""
    return [
        "--provider=skeleton",
        "--node-os-distro=windows",
        "--kubeconfig=" + kubeconfig,
        "--report-dir=" + report_dir,
    ]


def run_argv(
    *,
    src: str,
    platform: str,
    kubeconfig: str,
    report_dir: str,
    focus: str,
    skip: str,
    parallelism: int,
    ginkgo: int,
    extra_args: Sequence[str] = (),
) -> List[str]:
    """The command of the run.

    One process: ``e2e.test <Windows flags> --ginkgo.no-color --ginkgo.focus=F --ginkgo.skip=S <extra>`` (v1 spells
    ``--ginkgo.noColor``). In parallel a Ginkgo suite runs only under its CLI, so, as hack/ginkgo-e2e.sh does:
    ``ginkgo --nodes=N --no-color --focus=F --skip=S e2e.test -- <Windows flags> <extra>`` (v1: ``--noColor``).
    """
    if ginkgo not in GINKGO_TARGETS:
        raise ValueError("Ginkgo major %r is not 1 or 2" % (ginkgo,))
    e2e_binary = binary_path(src, platform)
    test_args = _windows_args(kubeconfig, report_dir)
    if parallelism <= 1:
        no_color = "--ginkgo.no-color" if ginkgo == 2 else "--ginkgo.noColor"
        return [e2e_binary, *test_args, no_color, "--ginkgo.focus=" + focus, "--ginkgo.skip=" + skip, *extra_args]
    return [
        binary_path(src, platform, "ginkgo"),
        "--nodes=%d" % parallelism,
        "--no-color" if ginkgo == 2 else "--noColor",
        "--focus=" + focus,
        "--skip=" + skip,
        e2e_binary,
        "--",
        *test_args,
        *extra_args,
    ]


def run_environment(inputs: Mapping[str, Any], credentials_path: str, repo_list_path: str) -> Dict[str, str]:
    """The environment of the run (windows-testing README), plus KUBECONFIG and KUBE_TEST_REPO_LIST, the
    downloaded repo list that e2e.test reads. It holds paths and names only, never a credential."""
    return {
        "K8S_SSH_PUBLIC_KEY_PATH": inputs["e2e_ssh_public_key_path"],
        "K8S_SSH_PRIVATE_KEY_PATH": inputs["e2e_ssh_private_key_path"],
        "AZURE_CREDENTIALS": credentials_path,
        "ARTIFACTS": inputs["e2e_artifacts_dir"],
        "REGISTRY": inputs["e2e_registry"],
        "AZ_STORAGE_CONTAINER_NAME": inputs["e2e_storage_container_name"],
        "WIN_BUILD": inputs["e2e_win_build_url"],
        "KUBE_TEST_REPO_LIST_DOWNLOAD_LOCATION": inputs["e2e_repo_list_url"],
        "KUBE_TEST_REPO_LIST": repo_list_path,
        "KUBECONFIG": inputs["e2e_kubeconfig"],
    }


STAMP_NAME = ".winkube-e2e-build.json"


def run_plan(inputs: Mapping[str, Any], go_mod: str, git_status: str) -> Dict[str, Any]:
    """Everything the role acts on once ``input_problems`` found nothing: the checkout's HEAD and whether its tree
    is dirty, the build, the binaries, the stamp, the repo list, the run's command and environment."""
    git = git_state(git_status)
    if git["head"] is None:
        raise ValueError("the checkout has no HEAD commit")
    src, platform = inputs["e2e_kubernetes_src"], inputs["e2e_build_platform"]
    parallelism = inputs["e2e_parallelism"]
    ginkgo = ginkgo_major(go_mod)
    targets = build_targets(parallelism, ginkgo)
    binaries = {"e2e.test": binary_path(src, platform)}
    if parallelism > 1:
        binaries["ginkgo"] = binary_path(src, platform, "ginkgo")
    credentials_path = inputs["e2e_azure_credentials_path"]
    local_repo_list = repo_list_local_path(inputs["e2e_repo_list_url"])
    # A remote repo list is downloaded beside the credentials, outside ARTIFACTS (which is often published).
    repo_list_path = local_repo_list or posixpath.join(posixpath.dirname(credentials_path), "image-repo-list")
    focus = focus_regex(inputs["e2e_include_conformance"], inputs["e2e_focus"])
    skip = skip_regex(inputs["e2e_skip"])
    return {
        "head": git["head"],
        "dirty": git["dirty"],
        "platform": platform,
        "ginkgo": ginkgo,
        "targets": targets,
        "build_argv": build_argv(platform, targets),
        "binaries": binaries,
        "stamp_path": posixpath.join(output_dir(src, platform), STAMP_NAME),
        "repo_list_path": repo_list_path,
        "repo_list_download": local_repo_list is None,
        "focus": focus,
        "skip": skip,
        "run_argv": run_argv(
            src=src,
            platform=platform,
            kubeconfig=inputs["e2e_kubeconfig"],
            report_dir=inputs["e2e_artifacts_dir"],
            focus=focus,
            skip=skip,
            parallelism=parallelism,
            ginkgo=ginkgo,
            extra_args=inputs["e2e_extra_args"],
        ),
        "environment": run_environment(inputs, credentials_path, repo_list_path),
    }


# --------------------------------------------------------------------------------------------------
# Report


@dataclass(frozen=True)
class TestCase:
    name: str
    classname: str
    outcome: str  # passed, failed, errored or skipped
    kind: str  # the failure/error type (failed, timedout, aborted, panicked, interrupted; v1 Failure/Timeout/Panic)
    message: str
    time: float
    source: str


@dataclass
class JUnitFile:
    source: str
    format: str  # ginkgo-v2 (<testsuites>) or ginkgo-v1 (<testsuite>)
    time: float
    cases: List[TestCase] = field(default_factory=list)


_FAILED_STATES = ("failed", "timedout", "aborted")
_ERROR_STATES = ("panicked", "interrupted")


def _float(value: Optional[str], what: str) -> float:
    if value in (None, ""):
        return 0.0
    try:
        return float(value)
    except ValueError as exc:
        raise ValueError("%s is not a number: %r" % (what, value)) from exc


def _testcase(element: ET.Element, source: str) -> TestCase:
    name = element.get("name")
    if name is None:
        raise ValueError("%s: a <testcase> has no name attribute" % source)
    outcome, kind, message = "passed", "", ""
    for tag, result in (("failure", "failed"), ("error", "errored")):
        child = element.find(tag)
        if child is not None:
            outcome, kind = result, child.get("type") or tag
            # Kubernetes writes the failure without its message attribute (OmitFailureMessageAttr): the text is it.
            message = (child.get("message") or "").strip() or (child.text or "").strip()
            break
    else:
        skipped = element.find("skipped")
        status = (element.get("status") or "").lower()
        if skipped is not None:
            outcome, kind, message = "skipped", status or "skipped", (skipped.get("message") or "").strip()
        elif status in _FAILED_STATES or status in _ERROR_STATES:
            # A v2 status without its element: trust the status rather than call the test passed.
            outcome = "failed" if status in _FAILED_STATES else "errored"
            kind, message = status, "(the report gives no failure message)"
        elif status not in ("", "passed"):
            raise ValueError("%s: testcase %r has the unknown status %r" % (source, name, status))
    return TestCase(
        name=name.strip(),
        classname=element.get("classname") or "",
        outcome=outcome,
        kind=kind,
        message=message,
        time=_float(element.get("time"), "%s: the time of %r" % (source, name)),
        source=source,
    )


def parse_junit(text: str, source: str) -> JUnitFile:
    """One JUnit file as Ginkgo writes it: v2 ``<testsuites><testsuite>...`` or v1 ``<testsuite>`` per node."""
    if not text.strip():
        raise ValueError("%s is empty, not a JUnit report (did the test binary stop while writing it?)" % source)
    try:
        # The file comes from the test binary the role ran; ElementTree does not fetch external entities.
        root = ET.fromstring(text)  # noqa: S314
    except ET.ParseError as exc:
        raise ValueError("%s is not well-formed XML: %s" % (source, exc)) from exc
    if root.tag == "testsuites":
        suites, fmt = root.findall("testsuite"), "ginkgo-v2"
        time = _float(root.get("time"), source + ": testsuites time")
        if root.get("time") is None:
            time = sum(_float(suite.get("time"), source + ": testsuite time") for suite in suites)
    elif root.tag == "testsuite":
        suites, fmt = [root], "ginkgo-v1"
        time = _float(root.get("time"), source + ": testsuite time")
    else:
        raise ValueError(
            "%s is not a JUnit report: its root element is <%s>, not <testsuites> or <testsuite>"
            % (
                source,
                root.tag,
            )
        )
    cases = [_testcase(case, source) for suite in suites for case in suite.findall("testcase")]
    return JUnitFile(source=source, format=fmt, time=time, cases=cases)


def summarize_reports(files: Sequence[JUnitFile]) -> Dict[str, Any]:
    """Totals over the report files, with every failed or errored test and its message.

    ``failed`` counts failures and errors (``errors`` says how many were errors: panics, interrupts).
    ``duration`` is the longest file's time: Ginkgo v1's per-node files ran at the same time, and v2 writes
    one file with the suite's run time.
    """
    if not files:
        raise ValueError("there is no JUnit report to summarize")
    cases = [case for junit in files for case in junit.cases]
    count = {
        outcome: sum(1 for case in cases if case.outcome == outcome)
        for outcome in ("passed", "failed", "errored", "skipped")
    }
    return {
        "total": len(cases),
        "passed": count["passed"],
        "failed": count["failed"] + count["errored"],
        "errors": count["errored"],
        "skipped": count["skipped"],
        "duration": round(max(junit.time for junit in files), 3),
        "failures": [
            {"name": case.name, "message": case.message, "type": case.kind, "report": case.source}
            for case in cases
            if case.outcome in ("failed", "errored")
        ],
        "reports": [{"path": junit.source, "format": junit.format, "tests": len(junit.cases)} for junit in files],
    }


def _duration_text(seconds: float) -> str:
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return "%dh %02dm %02ds" % (hours, minutes, secs)
    if minutes:
        return "%dm %02ds" % (minutes, secs)
    return "%.1fs" % seconds


def _fence(text: str) -> str:
    """A code fence longer than any backtick run in ``text``."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


MAX_MESSAGE_LINES = 40


def render_markdown(summary: Mapping[str, Any], title: str = "sig-windows E2E results") -> str:
    """The Markdown summary written into ARTIFACTS."""
    ran = summary["passed"] + summary["failed"]
    if summary["failed"]:
        verdict = "**FAILED**: %d of %d tests that ran failed." % (summary["failed"], ran)
    elif ran == 0:
        verdict = "**NO TEST RAN**: every test was skipped or the report is empty."
    else:
        verdict = "**PASSED**: all %d tests that ran passed." % ran
    lines = [
        "# " + title,
        "",
        verdict,
        "",
        "| Result | Tests |",
        "| --- | ---: |",
        "| Total | %d |" % summary["total"],
        "| Passed | %d |" % summary["passed"],
        "| Failed | %d |" % summary["failed"],
        "| of which errors | %d |" % summary["errors"],
        "| Skipped | %d |" % summary["skipped"],
        "",
        "Duration: %s (%.3f s)" % (_duration_text(summary["duration"]), summary["duration"]),
        "",
        "Reports: "
        + ", ".join("`%s` (%s, %d tests)" % (r["path"], r["format"], r["tests"]) for r in summary["reports"]),
    ]
    if summary["failures"]:
        lines += ["", "## Failures", ""]
        for failure in summary["failures"]:
            message_lines = (failure["message"] or "(no message)").splitlines()
            if len(message_lines) > MAX_MESSAGE_LINES:
                cut = len(message_lines) - MAX_MESSAGE_LINES
                message_lines = [*message_lines[:MAX_MESSAGE_LINES], "... (%d more lines in the report)" % cut]
            body = "\n".join(message_lines)
            fence = _fence(body)
            lines += ["### " + failure["name"], "", "%s, in `%s`" % (failure["type"], failure["report"]), ""]
            lines += [fence + "text", body, fence, ""]
    return "\n".join(lines).rstrip("\n") + "\n"
