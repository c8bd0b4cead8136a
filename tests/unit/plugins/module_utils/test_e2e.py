# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The e2e knowledge: credentials TOML, input checks, build and run commands, Ginkgo JUnit parsing, Markdown."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
from ansible_collections.winkube.node.plugins.module_utils import e2e

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "e2e"

CREDS = {
    "e2e_azure_client_id": "0b6a4e77-8c1d-4f2e-9a3b-5d6c7e8f9a01",
    "e2e_azure_client_secret": 'p"a\\ss~w0rd',
    "e2e_azure_subscription_id": "11111111-2222-4333-8444-555555555555",
    "e2e_azure_tenant_id": "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee",
    "e2e_azure_storage_account_name": "winkubee2e01",
    "e2e_azure_storage_account_key": "c2VjcmV0LXN0b3JhZ2Uta2V5LWJ5dGVzLTAxMjM0NTY3ODk=",
}
SRC = "/home/ci/kubernetes"
GO_MOD_V2 = """module k8s.io/kubernetes

go 1.24.0

require (
\tgithub.com/onsi/ginkgo/v2 v2.22.1
\tgithub.com/onsi/gomega v1.36.2
)
"""
GO_MOD_V1 = "module k8s.io/kubernetes\n\ngo 1.18\n\nrequire (\n\tgithub.com/onsi/ginkgo v1.16.5\n)\n"
HEAD = "3f1b2c4d5e6f708192a3b4c5d6e7f8091a2b3c4d"
# git status --porcelain=v2 --branch --untracked-files=all of a clean checkout.
GIT_CLEAN = f"# branch.oid {HEAD}\n# branch.head master\n"


def stat_file(mode: str = "0644") -> dict[str, Any]:
    return {"exists": True, "isreg": True, "isdir": False, "readable": True, "mode": mode}


def good_inputs(**overrides: Any) -> dict[str, Any]:
    inputs = {
        "e2e_kubernetes_src": SRC,
        "e2e_kubeconfig": "/home/ci/.kube/config",
        "e2e_build_platform": "linux/amd64",
        "e2e_artifacts_dir": "/home/ci/artifacts",
        "e2e_registry": "e2eteam.azurecr.io",
        "e2e_storage_container_name": "e2e-logs",
        "e2e_ssh_public_key_path": "/home/ci/.ssh/id_rsa.pub",
        "e2e_ssh_private_key_path": "/home/ci/.ssh/id_rsa",
        "e2e_azure_credentials_path": "/home/ci/kubernetes/_output/winkube-e2e/azure.toml",
        "e2e_win_build_url": e2e.DEFAULT_WIN_BUILD_URL,
        "e2e_repo_list_url": e2e.DEFAULT_REPO_LIST_URL,
        "e2e_include_conformance": False,
        "e2e_focus": [],
        "e2e_skip": [],
        "e2e_parallelism": 1,
        "e2e_extra_args": [],
        **CREDS,
    }
    inputs.update(overrides)
    return inputs


def good_observed(**overrides: Any) -> dict[str, Any]:
    observed = {
        "stat": {
            "e2e_kubernetes_src": {"exists": True, "isdir": True, "isreg": False, "mode": "0755"},
            "e2e_kubeconfig": stat_file("0600"),
            "e2e_ssh_public_key_path": stat_file("0644"),
            "e2e_ssh_private_key_path": stat_file("0600"),
        },
        "run_sh": {"exists": True, "executable": True},
        "go_mod": GO_MOD_V2,
        "git_status": GIT_CLEAN,
        "system": "Linux",
        "machine": "x86_64",
        "wsl_interop": False,
    }
    observed.update(overrides)
    return observed


# --- credentials TOML ------------------------------------------------------------------------------


def test_credentials_toml_has_the_readme_layout_and_parses_back() -> None:
    text = e2e.render_credentials_toml(CREDS)
    assert text.splitlines()[0] == "[Creds]"
    assert [line.split(" = ")[0] for line in text.splitlines()[1:]] == [
        "  ClientID",
        "  ClientSecret",
        "  SubscriptionID",
        "  TenantID",
        "  StorageAccountName",
        "  StorageAccountKey",
    ]
    # A quote and a backslash in the secret survive the round trip through a real TOML parser.
    assert tomllib.loads(text) == {
        "Creds": {
            "ClientID": CREDS["e2e_azure_client_id"],
            "ClientSecret": CREDS["e2e_azure_client_secret"],
            "SubscriptionID": CREDS["e2e_azure_subscription_id"],
            "TenantID": CREDS["e2e_azure_tenant_id"],
            "StorageAccountName": CREDS["e2e_azure_storage_account_name"],
            "StorageAccountKey": CREDS["e2e_azure_storage_account_key"],
        }
    }


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("plain", '"plain"'),
        ('a"b', '"a\\"b"'),
        ("a\\b", '"a\\\\b"'),
        ("tab\there", '"tab\\there"'),
        ("bell\x07", '"bell\\u0007"'),
        ("ünï", '"ünï"'),
    ],
)
def test_toml_basic_string_escapes(value: str, expected: str) -> None:
    assert e2e.toml_basic_string(value) == expected
    assert tomllib.loads("k = " + expected)["k"] == value


@pytest.mark.parametrize("key", [entry[1] for entry in e2e.CREDENTIALS])
@pytest.mark.parametrize(("bad", "problem"), [(None, "is not set"), ("", "is empty"), ("   ", "is empty")])
def test_every_missing_or_empty_credential_is_named_without_its_value(key: str, bad: Any, problem: str) -> None:
    values = {**CREDS, key: bad}
    assert e2e.credential_problems(values) == [f"{key}: {problem}"]
    with pytest.raises(ValueError, match=f"{key}: {problem}") as caught:
        e2e.render_credentials_toml(values)
    for secret in CREDS.values():
        assert secret not in str(caught.value)


def test_all_credentials_missing_are_reported_together() -> None:
    problems = e2e.credential_problems({})
    assert problems == [f"{entry[1]}: is not set" for entry in e2e.CREDENTIALS]


@pytest.mark.parametrize(
    ("key", "value", "problem"),
    [
        ("e2e_azure_client_id", "my-app", "is not a GUID"),
        ("e2e_azure_subscription_id", "1234", "is not a GUID"),
        ("e2e_azure_tenant_id", "contoso.onmicrosoft.com", "is not a GUID"),
        ("e2e_azure_storage_account_name", "Winkube_E2E", "is not a storage account name"),
        ("e2e_azure_storage_account_key", "not base64!", "is not base64"),
        ("e2e_azure_client_secret", "s3cret\n", "has leading or trailing whitespace"),
        ("e2e_azure_client_secret", 12345, "must be a string, got a int"),
    ],
)
def test_wrong_credentials_are_named_without_their_value(key: str, value: Any, problem: str) -> None:
    problems = e2e.credential_problems({**CREDS, key: value})
    assert len(problems) == 1
    assert problems[0].startswith(f"{key}: {problem}")
    assert str(value).strip() not in problems[0]


# --- input checks ----------------------------------------------------------------------------------


def test_good_inputs_have_no_problem() -> None:
    assert e2e.input_problems(good_inputs(), good_observed()) == []


def test_every_problem_is_listed_in_one_message_and_no_secret_is() -> None:
    inputs = good_inputs(
        e2e_kubeconfig="",
        e2e_registry="https://e2eteam.azurecr.io",
        e2e_ssh_public_key_path="relative/id_rsa.pub",
        e2e_azure_client_secret="",
        e2e_azure_storage_account_key="",
        e2e_build_platform="linux/s390x",
        e2e_parallelism=0,
    )
    observed = good_observed(
        go_mod="module github.com/example/fork\n",
        stat={
            **good_observed()["stat"],
            "e2e_ssh_private_key_path": {"exists": False},
        },
    )
    problems = e2e.input_problems(inputs, observed)
    assert problems == [
        "e2e_kubernetes_src: /home/ci/kubernetes is not a kubernetes/kubernetes checkout (go.mod declares module "
        "github.com/example/fork, not k8s.io/kubernetes)",
        "e2e_kubeconfig: is empty",
        "e2e_ssh_public_key_path: relative/id_rsa.pub is not an absolute path",
        "e2e_ssh_private_key_path: /home/ci/.ssh/id_rsa does not exist",
        "e2e_build_platform: 'linux/s390x' is not one of linux/amd64, linux/arm64, windows/amd64, darwin/amd64, "
        "darwin/arm64",
        "e2e_registry: https://e2eteam.azurecr.io is not a registry host[:port][/path] (no scheme)",
        "e2e_azure_client_secret: is empty",
        "e2e_azure_storage_account_key: is empty",
        "e2e_parallelism: must be a whole number of at least 1, got 0",
    ]
    message = e2e.problems_message(problems)
    assert message.startswith("winkube.node.e2e cannot run, 9 inputs to fix:\n- e2e_kubernetes_src:")
    for secret in CREDS.values():
        assert secret not in message


@pytest.mark.parametrize(
    ("observed", "problem"),
    [
        ({"stat": {"e2e_kubernetes_src": {"exists": False}}}, "e2e_kubernetes_src: /home/ci/kubernetes does not exist"),
        (
            {"stat": {"e2e_kubernetes_src": {"exists": True, "isdir": False}}},
            "e2e_kubernetes_src: /home/ci/kubernetes is not a directory",
        ),
        ({"run_sh": {"exists": False}}, "e2e_kubernetes_src: /home/ci/kubernetes has no executable build/run.sh"),
        ({"run_sh": {"exists": True, "executable": False}}, "has no executable build/run.sh"),
        ({"go_mod": None}, "has no go.mod, so it is not a kubernetes/kubernetes checkout"),
        ({"go_mod": "module k8s.io/kubernetes\n"}, "go.mod requires neither github.com/onsi/ginkgo nor"),
        ({"git_status": None}, "is not a git work tree with a commit (git status failed)"),
        ({"git_status": "# branch.oid (initial)\n# branch.head main\n"}, "is not a git work tree with a commit"),
    ],
)
def test_a_checkout_that_is_not_kubernetes_is_refused(observed: dict[str, Any], problem: str) -> None:
    base = good_observed()
    merged = {**base, **observed, "stat": {**base["stat"], **observed.get("stat", {})}}
    problems = e2e.input_problems(good_inputs(), merged)
    assert len(problems) == 1, problems
    assert problem in problems[0]


@pytest.mark.parametrize(
    ("variable", "stat", "problem"),
    [
        ("e2e_kubeconfig", {"exists": False}, "/home/ci/.kube/config does not exist"),
        ("e2e_kubeconfig", {"exists": True, "isreg": False, "isdir": True}, "is not a regular file"),
        ("e2e_kubeconfig", {**stat_file(), "readable": False}, "is not readable by this user"),
        ("e2e_ssh_public_key_path", {"exists": False}, "/home/ci/.ssh/id_rsa.pub does not exist"),
        ("e2e_ssh_private_key_path", stat_file("0644"), "has mode 0644; ssh refuses a private key"),
        ("e2e_ssh_private_key_path", stat_file("0640"), "has mode 0640"),
    ],
)
def test_an_absent_or_unusable_file_is_refused(variable: str, stat: dict[str, Any], problem: str) -> None:
    observed = good_observed()
    observed["stat"] = {**observed["stat"], variable: stat}
    problems = e2e.input_problems(good_inputs(), observed)
    assert len(problems) == 1 and problems[0].startswith(variable + ": ") and problem in problems[0], problems


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"e2e_storage_container_name": "E2E_Logs"}, "e2e_storage_container_name: E2E_Logs is not an Azure blob"),
        ({"e2e_storage_container_name": "e2e--logs"}, "is not an Azure blob container name"),
        ({"e2e_storage_container_name": ""}, "e2e_storage_container_name: is empty"),
        ({"e2e_registry": ""}, "e2e_registry: is empty"),
        ({"e2e_win_build_url": "ftp://example/build.sh"}, "e2e_win_build_url: ftp://example/build.sh is not an http"),
        ({"e2e_win_build_url": "/opt/build.sh"}, "is not an http(s) URL"),
        ({"e2e_repo_list_url": "images/list"}, "e2e_repo_list_url: images/list is not an absolute path"),
        ({"e2e_focus": "[sig-windows]"}, "e2e_focus: must be a list of non-empty regular expressions"),
        ({"e2e_skip": ["", "x"]}, "e2e_skip: must be a list of non-empty regular expressions"),
        ({"e2e_parallelism": True}, "e2e_parallelism: must be a whole number"),
        ({"e2e_extra_args": "--ginkgo.v"}, "e2e_extra_args: must be a list of non-empty strings"),
        ({"e2e_include_conformance": "yes"}, "e2e_include_conformance: must be true or false"),
        ({"e2e_artifacts_dir": "artifacts"}, "e2e_artifacts_dir: artifacts is not an absolute path"),
        ({"e2e_azure_credentials_path": ""}, "e2e_azure_credentials_path: is empty"),
        (
            {"e2e_azure_credentials_path": "/home/ci/artifacts/creds/azure.toml"},
            "e2e_azure_credentials_path: /home/ci/artifacts/creds/azure.toml is inside e2e_artifacts_dir",
        ),
        ({"e2e_azure_credentials_path": "/home/ci/artifacts-private/azure.toml"}, None),
    ],
)
def test_wrong_settings_are_refused(overrides: dict[str, Any], problem: str | None) -> None:
    problems = e2e.input_problems(good_inputs(**overrides), good_observed())
    if problem is None:
        assert problems == []
    else:
        assert len(problems) == 1 and problem in problems[0], problems


def test_a_local_repo_list_must_exist() -> None:
    inputs = good_inputs(e2e_repo_list_url="file:///srv/mirror/image-repo-list")
    observed = good_observed()
    observed["stat"] = {**observed["stat"], "e2e_repo_list_url": {"exists": False}}
    assert e2e.input_problems(inputs, observed) == ["e2e_repo_list_url: /srv/mirror/image-repo-list does not exist"]
    observed["stat"]["e2e_repo_list_url"] = stat_file()
    assert e2e.input_problems(inputs, observed) == []


@pytest.mark.parametrize(
    ("system", "machine", "wsl", "runs"),
    [
        ("Linux", "x86_64", False, ("linux/amd64",)),
        ("Linux", "x86_64", True, ("linux/amd64", "windows/amd64")),
        ("Linux", "aarch64", True, ("linux/arm64",)),
        ("Darwin", "arm64", False, ("darwin/arm64", "darwin/amd64")),
        ("Darwin", "x86_64", False, ("darwin/amd64",)),
        ("FreeBSD", "amd64", False, ()),
        ("Linux", "s390x", False, ()),
    ],
)
def test_host_platforms(system: str, machine: str, wsl: bool, runs: tuple[str, ...]) -> None:
    assert e2e.host_platforms(system, machine, wsl) == runs


def test_a_binary_the_host_cannot_run_is_refused() -> None:
    problems = e2e.input_problems(good_inputs(e2e_build_platform="windows/amd64"), good_observed())
    assert problems == [
        "e2e_build_platform: a windows/amd64 binary cannot run on this Linux x86_64 host (it runs linux/amd64)"
    ]
    assert e2e.input_problems(good_inputs(e2e_build_platform="windows/amd64"), good_observed(wsl_interop=True)) == []


@pytest.mark.parametrize(
    ("go_mod", "major"), [(GO_MOD_V2, 2), (GO_MOD_V1, 1), ("require github.com/onsi/ginkgo/v2 v2.9.1\n", 2)]
)
def test_ginkgo_major_comes_from_go_mod(go_mod: str, major: int) -> None:
    assert e2e.ginkgo_major(go_mod) == major


# --- build -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("platform", "binary"),
    [
        ("linux/amd64", "/home/ci/kubernetes/_output/dockerized/bin/linux/amd64/e2e.test"),
        ("linux/arm64", "/home/ci/kubernetes/_output/dockerized/bin/linux/arm64/e2e.test"),
        ("windows/amd64", "/home/ci/kubernetes/_output/dockerized/bin/windows/amd64/e2e.test.exe"),
        ("darwin/amd64", "/home/ci/kubernetes/_output/dockerized/bin/darwin/amd64/e2e.test"),
    ],
)
def test_build_command_and_binary_per_platform(platform: str, binary: str) -> None:
    assert e2e.build_argv(platform, e2e.build_targets(1, 2)) == [
        "./build/run.sh",
        "make",
        "KUBE_BUILD_PLATFORMS=" + platform,
        "WHAT=test/e2e/e2e.test",
    ]
    assert e2e.binary_path(SRC, platform) == binary


@pytest.mark.parametrize(
    ("ginkgo", "what"),
    [
        (2, "WHAT=test/e2e/e2e.test vendor/github.com/onsi/ginkgo/v2/ginkgo"),
        (1, "WHAT=test/e2e/e2e.test vendor/github.com/onsi/ginkgo/ginkgo"),
    ],
)
def test_a_parallel_run_also_builds_the_ginkgo_cli(ginkgo: int, what: str) -> None:
    assert e2e.build_argv("linux/amd64", e2e.build_targets(4, ginkgo))[-1] == what


def test_unknown_platform_is_refused() -> None:
    with pytest.raises(ValueError, match="build platform 'linux/s390x' is not one of"):
        e2e.build_argv("linux/s390x", [e2e.E2E_TARGET])


@pytest.mark.parametrize(
    ("status", "state"),
    [
        (GIT_CLEAN, {"head": HEAD, "dirty": False}),
        (GIT_CLEAN + "1 .M N... 100644 100644 100644 0123 4567 test/e2e/e2e_test.go\n", {"head": HEAD, "dirty": True}),
        (GIT_CLEAN + "? test/e2e/windows/new_test.go\n", {"head": HEAD, "dirty": True}),
        ("# branch.oid (initial)\n", {"head": None, "dirty": False}),
        (None, {"head": None, "dirty": None}),
    ],
)
def test_git_state(status: str | None, state: dict[str, Any]) -> None:
    assert e2e.git_state(status) == state


def test_run_plan_needs_a_commit() -> None:
    with pytest.raises(ValueError, match="the checkout has no HEAD commit"):
        e2e.run_plan(good_inputs(), GO_MOD_V2, "# branch.oid (initial)\n")


SUMS = {"e2e.test": "ab" * 32}
STAMP = e2e.build_stamp(HEAD, "linux/amd64", [e2e.E2E_TARGET], SUMS)


# Each case: stamp, HEAD, dirty tree, targets, checksums of the binaries, up to date, reason.
@pytest.mark.parametrize(
    "case",
    [
        (STAMP, HEAD, False, [e2e.E2E_TARGET], SUMS, True, "built by this role from " + HEAD),
        (None, HEAD, False, [e2e.E2E_TARGET], {"e2e.test": None}, False, "no built e2e.test yet"),
        (None, HEAD, False, [e2e.E2E_TARGET], SUMS, False, "not built by this role (no build stamp)"),
        (STAMP, HEAD, True, [e2e.E2E_TARGET], SUMS, False, "the work tree has uncommitted changes"),
        (STAMP, "f" * 40, False, [e2e.E2E_TARGET], SUMS, False, "HEAD moved from " + HEAD),
        (STAMP, HEAD, False, e2e.build_targets(2, 2), {**SUMS, "ginkgo": "cd" * 32}, False, "other targets"),
        (STAMP, HEAD, False, [e2e.E2E_TARGET], {"e2e.test": "ef" * 32}, False, "e2e.test changed since the last"),
    ],
)
def test_build_decision(case: tuple[Any, ...]) -> None:
    stamp, head, dirty, targets, sums, up_to_date, reason = case
    decision = e2e.build_decision(
        stamp, head=head, dirty=dirty, platform="linux/amd64", targets=targets, checksums=sums
    )
    assert decision["up_to_date"] is up_to_date
    assert reason in decision["reason"]


# --- run -------------------------------------------------------------------------------------------


def test_focus_and_skip_keep_the_windows_defaults_and_add_the_users() -> None:
    assert e2e.focus_regex(False, []) == r"\[sig-windows\]"
    assert e2e.focus_regex(True, [r"\[sig-apps\].CronJob", r"\[sig-windows\]"]) == (
        r"\[sig-windows\]|\[Conformance\]|\[sig-apps\].CronJob"
    )
    assert e2e.skip_regex([]) == r"\[LinuxOnly\]"
    assert e2e.skip_regex([r"\[Serial\]", "GMSA"]) == r"\[LinuxOnly\]|\[Serial\]|GMSA"


WINDOWS_FLAGS = [
    "--provider=skeleton",
    "--node-os-distro=windows",
    "--kubeconfig=/home/ci/.kube/config",
    "--report-dir=/home/ci/artifacts",
]


@pytest.mark.parametrize(
    ("platform", "binary"),
    [
        ("linux/amd64", "/home/ci/kubernetes/_output/dockerized/bin/linux/amd64/e2e.test"),
        ("windows/amd64", "/home/ci/kubernetes/_output/dockerized/bin/windows/amd64/e2e.test.exe"),
        ("darwin/arm64", "/home/ci/kubernetes/_output/dockerized/bin/darwin/arm64/e2e.test"),
    ],
)
def test_run_command_per_platform(platform: str, binary: str) -> None:
    argv = e2e.run_argv(
        src=SRC,
        platform=platform,
        kubeconfig="/home/ci/.kube/config",
        report_dir="/home/ci/artifacts",
        focus=r"\[sig-windows\]",
        skip=r"\[LinuxOnly\]",
        parallelism=1,
        ginkgo=2,
        extra_args=["--ginkgo.flakeAttempts=2"],
    )
    assert argv == [
        binary,
        *WINDOWS_FLAGS,
        "--ginkgo.no-color",
        r"--ginkgo.focus=\[sig-windows\]",
        r"--ginkgo.skip=\[LinuxOnly\]",
        "--ginkgo.flakeAttempts=2",
    ]


@pytest.mark.parametrize(("ginkgo", "no_color"), [(2, "--no-color"), (1, "--noColor")])
def test_a_parallel_run_goes_through_the_ginkgo_cli(ginkgo: int, no_color: str) -> None:
    argv = e2e.run_argv(
        src=SRC,
        platform="linux/amd64",
        kubeconfig="/home/ci/.kube/config",
        report_dir="/home/ci/artifacts",
        focus="F",
        skip="S",
        parallelism=4,
        ginkgo=ginkgo,
        extra_args=["--prepull-images=true"],
    )
    bindir = "/home/ci/kubernetes/_output/dockerized/bin/linux/amd64/"
    assert argv == [
        bindir + "ginkgo",
        "--nodes=4",
        no_color,
        "--focus=F",
        "--skip=S",
        bindir + "e2e.test",
        "--",
        *WINDOWS_FLAGS,
        "--prepull-images=true",
    ]


def test_run_plan_holds_no_credential_and_the_readme_environment() -> None:
    inputs = good_inputs(e2e_include_conformance=True, e2e_parallelism=2)
    plan = e2e.run_plan({k: v for k, v in inputs.items() if k not in CREDS}, GO_MOD_V2, GIT_CLEAN)
    assert (plan["head"], plan["dirty"]) == (HEAD, False)
    assert plan["build_argv"][-1] == "WHAT=test/e2e/e2e.test vendor/github.com/onsi/ginkgo/v2/ginkgo"
    assert plan["stamp_path"] == SRC + "/_output/dockerized/bin/linux/amd64/.winkube-e2e-build.json"
    assert plan["repo_list_download"] is True
    assert plan["repo_list_path"] == SRC + "/_output/winkube-e2e/image-repo-list"
    assert plan["environment"] == {
        "K8S_SSH_PUBLIC_KEY_PATH": "/home/ci/.ssh/id_rsa.pub",
        "K8S_SSH_PRIVATE_KEY_PATH": "/home/ci/.ssh/id_rsa",
        "AZURE_CREDENTIALS": SRC + "/_output/winkube-e2e/azure.toml",
        "ARTIFACTS": "/home/ci/artifacts",
        "REGISTRY": "e2eteam.azurecr.io",
        "AZ_STORAGE_CONTAINER_NAME": "e2e-logs",
        "WIN_BUILD": e2e.DEFAULT_WIN_BUILD_URL,
        "KUBE_TEST_REPO_LIST_DOWNLOAD_LOCATION": e2e.DEFAULT_REPO_LIST_URL,
        "KUBE_TEST_REPO_LIST": SRC + "/_output/winkube-e2e/image-repo-list",
        "KUBECONFIG": "/home/ci/.kube/config",
    }
    assert r"--focus=\[sig-windows\]|\[Conformance\]" in plan["run_argv"]
    for secret in CREDS.values():
        assert secret not in repr(plan)


def test_a_local_repo_list_is_used_in_place() -> None:
    plan = e2e.run_plan(good_inputs(e2e_repo_list_url="file:///srv/mirror/image-repo-list"), GO_MOD_V1, GIT_CLEAN)
    assert plan["repo_list_download"] is False
    assert plan["environment"]["KUBE_TEST_REPO_LIST"] == "/srv/mirror/image-repo-list"
    assert "--ginkgo.noColor" in plan["run_argv"]


# --- JUnit -----------------------------------------------------------------------------------------


def load(*names: str) -> list[e2e.JUnitFile]:
    return [e2e.parse_junit((FIXTURES / name).read_text(encoding="utf-8"), name) for name in names]


def test_ginkgo_v2_report_with_failures_errors_and_skips() -> None:
    summary = e2e.summarize_reports(load("v2-failed/junit_01.xml"))
    assert {key: summary[key] for key in ("total", "passed", "failed", "errors", "skipped", "duration")} == {
        "total": 8,
        "passed": 3,
        "failed": 3,
        "errors": 1,
        "skipped": 2,
        "duration": 1834.512,
    }
    assert summary["reports"] == [{"path": "v2-failed/junit_01.xml", "format": "ginkgo-v2", "tests": 8}]
    failures = summary["failures"]
    assert [failure["type"] for failure in failures] == ["failed", "timedout", "panicked"]
    assert failures[0]["name"] == (
        "[It] [sig-windows] [Feature:Windows] Kubelet-Stats [Serial] Kubelet stats collection for Windows nodes "
        "when running 10 pods should return within 10 seconds"
    )
    # Kubernetes leaves message="" (OmitFailureMessageAttr): the message is the element's text.
    assert failures[0]["message"] == (
        "[FAILED] Timed out after 300.001s.\nExpected\n    <bool>: false\nto be true\n"
        "In [It] at: k8s.io/kubernetes/test/e2e/windows/kubelet_stats.go:78 @ 11/30/26 09:21:43.532"
    )
    assert "there isn't enough memory" in failures[1]["name"]
    assert failures[2]["message"].startswith("[PANICKED] Test Panicked")
    assert "runtime error: invalid memory address" in failures[2]["message"]


def test_ginkgo_v2_report_that_passed() -> None:
    summary = e2e.summarize_reports(load("v2-passed/junit_01.xml"))
    assert (summary["total"], summary["passed"], summary["failed"], summary["skipped"]) == (5, 4, 0, 1)
    assert summary["failures"] == []


def test_ginkgo_v1_per_node_reports_are_added_up() -> None:
    summary = e2e.summarize_reports(load("v1-nodes/junit_01.xml", "v1-nodes/junit_02.xml"))
    assert (summary["total"], summary["passed"], summary["failed"], summary["errors"], summary["skipped"]) == (
        7,
        3,
        2,
        0,
        2,
    )
    # The nodes ran at the same time: the run took as long as the slowest node.
    assert summary["duration"] == 612.384
    assert [report["format"] for report in summary["reports"]] == ["ginkgo-v1", "ginkgo-v1"]
    security, gmsa = summary["failures"]
    assert security["type"] == "Failure" and security["report"] == "v1-nodes/junit_02.xml"
    assert security["message"].splitlines()[1] == "Mar 10 10:21:49.101: Unexpected error:"
    assert '"timed out waiting for the condition"' in security["message"]
    assert gmsa["type"] == "Panic" and "index out of range" in gmsa["message"]


@pytest.mark.parametrize(
    ("name", "fmt"), [("v2-empty/junit_01.xml", "ginkgo-v2"), ("v1-empty/junit_01.xml", "ginkgo-v1")]
)
def test_empty_reports_have_no_test(name: str, fmt: str) -> None:
    summary = e2e.summarize_reports(load(name))
    assert (summary["total"], summary["passed"], summary["failed"], summary["skipped"]) == (0, 0, 0, 0)
    assert summary["reports"][0]["format"] == fmt
    assert "**NO TEST RAN**" in e2e.render_markdown(summary)


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("", "x.xml is empty, not a JUnit report"),
        ("<testsuites><testsuite>", "x.xml is not well-formed XML"),
        ("<html><body>502</body></html>", "its root element is <html>"),
        ('<testsuite><testcase classname="c"/></testsuite>', "a <testcase> has no name attribute"),
        ('<testsuites><testsuite><testcase name="t" status="flaky"/></testsuite></testsuites>', "unknown status"),
        ('<testsuite time="fast"></testsuite>', "is not a number"),
    ],
)
def test_broken_reports_fail_loudly(text: str, error: str) -> None:
    with pytest.raises(ValueError, match=error.replace("<", "<").replace("(", r"\(")):
        e2e.parse_junit(text, "x.xml")


def test_a_failed_status_without_its_element_is_not_called_passed() -> None:
    junit = e2e.parse_junit('<testsuites><testsuite><testcase name="t" status="failed"/></testsuite></testsuites>', "x")
    assert junit.cases[0].outcome == "failed"


def test_no_report_at_all_is_an_error() -> None:
    with pytest.raises(ValueError, match="there is no JUnit report"):
        e2e.summarize_reports([])


# --- Markdown --------------------------------------------------------------------------------------


def test_markdown_summary_of_a_failed_run() -> None:
    text = e2e.render_markdown(e2e.summarize_reports(load("v2-failed/junit_01.xml")), "Windows E2E on aks-1")
    lines = text.splitlines()
    assert lines[:3] == ["# Windows E2E on aks-1", "", "**FAILED**: 3 of 6 tests that ran failed."]
    assert "| Total | 8 |" in lines and "| Passed | 3 |" in lines and "| Failed | 3 |" in lines
    assert "| of which errors | 1 |" in lines and "| Skipped | 2 |" in lines
    assert "Duration: 30m 35s (1834.512 s)" in lines
    assert "Reports: `v2-failed/junit_01.xml` (ginkgo-v2, 8 tests)" in lines
    assert lines.count("## Failures") == 1
    heading = lines.index(
        "### [It] [sig-windows] [Feature:Windows] Kubelet-Stats [Serial] Kubelet stats collection for Windows nodes "
        "when running 10 pods should return within 10 seconds"
    )
    assert lines[heading + 2] == "failed, in `v2-failed/junit_01.xml`"
    assert lines[heading + 4 : heading + 6] == ["```text", "[FAILED] Timed out after 300.001s."]
    assert text.endswith("```\n")


def test_markdown_of_a_passed_run_has_no_failure_section() -> None:
    text = e2e.render_markdown(e2e.summarize_reports(load("v2-passed/junit_01.xml")))
    assert text.splitlines()[2] == "**PASSED**: all 4 tests that ran passed."
    assert "## Failures" not in text


def test_markdown_fences_and_truncates_long_messages() -> None:
    message = "\n".join(["```go"] + [f"line {n}" for n in range(100)])
    summary = {
        "total": 1,
        "passed": 0,
        "failed": 1,
        "errors": 0,
        "skipped": 0,
        "duration": 7200.0,
        "reports": [{"path": "junit_01.xml", "format": "ginkgo-v2", "tests": 1}],
        "failures": [{"name": "t", "message": message, "type": "failed", "report": "junit_01.xml"}],
    }
    text = e2e.render_markdown(summary)
    assert "````text\n```go\n" in text
    assert "... (61 more lines in the report)\n````" in text
    assert "Duration: 2h 00m 00s (7200.000 s)" in text
