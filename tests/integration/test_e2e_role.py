# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/e2e.yml on localhost against a fake kubernetes/kubernetes checkout made here.

The checkout is a real git repository whose ``build/run.sh`` records how it was called and "builds" an
``e2e.test`` that records its arguments and environment and writes a Ginkgo v2 JUnit report. The
credentials come from an Ansible Vault file, as they would in real use.
"""

from __future__ import annotations

import json
import os
import platform
import stat
import subprocess
import sys
import textwrap
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from ansible.constants import DEFAULT_VAULT_ID_MATCH
from ansible.parsing.vault import VaultLib, VaultSecret

from tests.simulator.pytest_plugin import REPO_ROOT, ansible_env

PLATFORM = "linux/arm64" if platform.machine() in ("aarch64", "arm64") else "linux/amd64"
SECRETS = {
    "e2e_azure_client_id": "7d1f3c2a-9b8e-4f6d-a5c4-3b2a1f0e9d8c",
    "e2e_azure_client_secret": "Sim-E2E-Cl1ent~Secret.value",
    "e2e_azure_subscription_id": "5e4d3c2b-1a09-4877-a665-544332211000",
    "e2e_azure_tenant_id": "0f1e2d3c-4b5a-4697-8877-665544332211",
    "e2e_azure_storage_account_name": "winkubesimstore42",
    "e2e_azure_storage_account_key": "U2ltLUUyRS1TdG9yYWdlLUFjY291bnQtS2V5LTAxMjM0NQ==",
}
FAILED_TEST = "[It] [sig-windows] [Feature:Windows] Kubelet-Stats [Serial] should return within 10 seconds"
# The report the fake e2e.test writes: one passed, one failed (the message in the text, as Kubernetes writes it)
# and one skipped test.
REPORT = (REPO_ROOT / "tests" / "unit" / "fixtures" / "e2e" / "fake-run" / "junit_01.xml").read_text()
ENV_KEYS = (
    "K8S_SSH_PUBLIC_KEY_PATH",
    "K8S_SSH_PRIVATE_KEY_PATH",
    "AZURE_CREDENTIALS",
    "ARTIFACTS",
    "REGISTRY",
    "AZ_STORAGE_CONTAINER_NAME",
    "WIN_BUILD",
    "KUBE_TEST_REPO_LIST_DOWNLOAD_LOCATION",
    "KUBE_TEST_REPO_LIST",
    "KUBECONFIG",
)


@dataclass
class Lab:
    root: Path
    src: Path
    artifacts: Path
    build_log: Path
    run_log: Path
    vars_file: Path
    vault_file: Path
    vault_password: Path

    def playbook(self, *args: str) -> subprocess.CompletedProcess[str]:
        cmd = [
            str(Path(sys.executable).parent / "ansible-playbook"),
            "-i",
            str(self.root / "inventory.yml"),
            str(REPO_ROOT / "playbooks" / "e2e.yml"),
            "-e",
            f"@{self.vars_file}",
            "-e",
            f"@{self.vault_file}",
            "--vault-password-file",
            str(self.vault_password),
            *args,
        ]
        # Pipelining: the local connection runs each module without copying it to a temporary file first.
        env = ansible_env({"ANSIBLE_PIPELINING": "1"})
        return subprocess.run(cmd, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=180, check=False)

    def builds(self) -> list[dict[str, object]]:
        if not self.build_log.exists():
            return []
        return [json.loads(line) for line in self.build_log.read_text().splitlines()]


def _script(path: Path, body: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!{sys.executable}\n" + textwrap.dedent(body))
    path.chmod(0o755)


def _git(src: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-C", str(src), "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args],
        check=True,
        capture_output=True,
    )


@pytest.fixture
def lab(tmp_path: Path) -> Lab:
    src = tmp_path / "kubernetes"
    build_log, run_log = tmp_path / "build-calls.jsonl", tmp_path / "e2e-run.json"
    (src / "test" / "e2e").mkdir(parents=True)
    (src / "go.mod").write_text(
        "module k8s.io/kubernetes\n\ngo 1.24.0\n\nrequire (\n\tgithub.com/onsi/ginkgo/v2 v2.22.1\n)\n"
    )
    (src / "test" / "e2e" / "e2e_test.go").write_text("package e2e\n")
    (src / ".gitignore").write_text("/_output*/\n")
    # The fake e2e.test, installed by the fake build/run.sh into _output/dockerized/bin/<os>/<arch>/.
    e2e_test = f"""\
        import json, os, sys
        report_dir = next(a.split("=", 1)[1] for a in sys.argv if a.startswith("--report-dir="))
        with open({str(run_log)!r}, "w") as out:
            json.dump({{"argv": sys.argv, "cwd": os.getcwd(), "env": dict(os.environ)}}, out)
        with open(os.path.join(report_dir, "junit_01.xml"), "w") as out:
            out.write({REPORT!r})
        print("Ran 2 of 3 Specs; FAIL! -- 1 Passed | 1 Failed | 0 Pending | 1 Skipped")
        sys.exit(1)
        """
    _script(
        src / "build" / "run.sh",
        f"""\
        import json, os, sys
        with open({str(build_log)!r}, "a") as out:
            out.write(json.dumps({{"argv": sys.argv, "cwd": os.getcwd()}}) + "\\n")
        platform = next(a.split("=", 1)[1] for a in sys.argv if a.startswith("KUBE_BUILD_PLATFORMS="))
        bindir = os.path.join("_output", "dockerized", "bin", *platform.split("/"))
        os.makedirs(bindir, exist_ok=True)
        with open(os.path.join(bindir, "e2e.test"), "w") as out:
            out.write("#!" + sys.executable + "\\n" + {textwrap.dedent(e2e_test)!r})
        os.chmod(os.path.join(bindir, "e2e.test"), 0o755)
        """,
    )
    _git(src, "init", "-q")
    _git(src, "add", "-A")
    _git(src, "commit", "-q", "-m", "fake kubernetes")

    keys = tmp_path / "ssh"
    keys.mkdir()
    (keys / "id_rsa.pub").write_text("ssh-rsa AAAAB3Nza... ci@runner\n")
    (keys / "id_rsa").write_text("-----BEGIN OPENSSH PRIVATE KEY-----\nfake\n-----END OPENSSH PRIVATE KEY-----\n")
    (keys / "id_rsa").chmod(0o600)
    (tmp_path / "kubeconfig").write_text("apiVersion: v1\nkind: Config\nclusters: []\n")
    repo_list = tmp_path / "image-repo-list"
    repo_list.write_text("gcAuthenticatedRegistry: e2eprivate\nprivateRegistry: e2eteam\n")

    (tmp_path / "inventory.yml").write_text(
        yaml.safe_dump(
            {
                "all": {
                    "hosts": {
                        "localhost": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
                    }
                }
            }
        )
    )
    artifacts = tmp_path / "artifacts"
    vars_file = tmp_path / "e2e-vars.yml"
    vars_file.write_text(
        yaml.safe_dump(
            {
                "e2e_kubernetes_src": str(src),
                "e2e_kubeconfig": str(tmp_path / "kubeconfig"),
                "e2e_build_platform": PLATFORM,
                "e2e_artifacts_dir": str(artifacts),
                "e2e_registry": "e2eteam.azurecr.io",
                "e2e_storage_container_name": "e2e-logs",
                "e2e_ssh_public_key_path": str(keys / "id_rsa.pub"),
                "e2e_ssh_private_key_path": str(keys / "id_rsa"),
                "e2e_repo_list_url": str(repo_list),
                "e2e_include_conformance": True,
                "e2e_skip": [r"\[Serial\]"],
                "e2e_extra_args": ["--ginkgo.flakeAttempts=2"],
            }
        )
    )
    vault_password = tmp_path / "vault-pass"
    vault_password.write_text("sim-vault-password\n")
    vault = VaultLib([(DEFAULT_VAULT_ID_MATCH, VaultSecret(b"sim-vault-password"))])
    vault_file = tmp_path / "secrets.yml"
    vault_file.write_bytes(vault.encrypt(yaml.safe_dump(SECRETS)))
    return Lab(tmp_path, src, artifacts, build_log, run_log, vars_file, vault_file, vault_password)


def _assert_no_secret(proc: subprocess.CompletedProcess[str]) -> None:
    output = proc.stdout + proc.stderr
    leaked = [name for name, value in SECRETS.items() if value in output]
    assert leaked == [], f"secrets in the output: {leaked}"


@pytest.mark.slow
def test_e2e_role_builds_once_runs_with_the_windows_settings_and_reports(lab: Lab) -> None:
    proc = lab.playbook("-vvv", "-e", "e2e_fail_on_test_failure=false")
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    _assert_no_secret(proc)

    # The exact build command, run once from the checkout.
    assert lab.builds() == [
        {
            "argv": ["./build/run.sh", "make", f"KUBE_BUILD_PLATFORMS={PLATFORM}", "WHAT=test/e2e/e2e.test"],
            "cwd": str(lab.src),
        }
    ]

    # What the test binary saw.
    run = json.loads(lab.run_log.read_text())
    binary = str(lab.src / "_output" / "dockerized" / "bin" / PLATFORM / "e2e.test")
    credentials = lab.src / "_output" / "winkube-e2e" / "azure.toml"
    assert run["cwd"] == str(lab.src)
    assert run["argv"] == [
        binary,
        "--provider=skeleton",
        "--node-os-distro=windows",
        f"--kubeconfig={lab.root / 'kubeconfig'}",
        f"--report-dir={lab.artifacts}",
        "--ginkgo.no-color",
        r"--ginkgo.focus=\[sig-windows\]|\[Conformance\]",
        r"--ginkgo.skip=\[LinuxOnly\]|\[Serial\]",
        "--ginkgo.flakeAttempts=2",
    ]
    assert {key: run["env"].get(key) for key in ENV_KEYS} == {
        "K8S_SSH_PUBLIC_KEY_PATH": str(lab.root / "ssh" / "id_rsa.pub"),
        "K8S_SSH_PRIVATE_KEY_PATH": str(lab.root / "ssh" / "id_rsa"),
        "AZURE_CREDENTIALS": str(credentials),
        "ARTIFACTS": str(lab.artifacts),
        "REGISTRY": "e2eteam.azurecr.io",
        "AZ_STORAGE_CONTAINER_NAME": "e2e-logs",
        "WIN_BUILD": "https://raw.githubusercontent.com/kubernetes-sigs/windows-testing/master/build/build-windows-k8s.sh",
        "KUBE_TEST_REPO_LIST_DOWNLOAD_LOCATION": str(lab.root / "image-repo-list"),
        "KUBE_TEST_REPO_LIST": str(lab.root / "image-repo-list"),
        "KUBECONFIG": str(lab.root / "kubeconfig"),
    }
    # No credential reaches the binary's environment: only the file holds them.
    assert not [name for name, value in SECRETS.items() if value in json.dumps(run["env"])]

    # The credentials file: owner-only, in an owner-only directory, with the README's [Creds] table.
    assert stat.S_IMODE(credentials.stat().st_mode) == 0o600
    assert stat.S_IMODE(credentials.parent.stat().st_mode) == 0o700
    assert tomllib.loads(credentials.read_text())["Creds"] == {
        "ClientID": SECRETS["e2e_azure_client_id"],
        "ClientSecret": SECRETS["e2e_azure_client_secret"],
        "SubscriptionID": SECRETS["e2e_azure_subscription_id"],
        "TenantID": SECRETS["e2e_azure_tenant_id"],
        "StorageAccountName": SECRETS["e2e_azure_storage_account_name"],
        "StorageAccountKey": SECRETS["e2e_azure_storage_account_key"],
    }

    # The Markdown summary in ARTIFACTS.
    summary = (lab.artifacts / "e2e-summary.md").read_text()
    assert "**FAILED**: 1 of 2 tests that ran failed." in summary
    assert "| Total | 3 |" in summary and "| Skipped | 1 |" in summary
    assert f"### {FAILED_TEST}\n" in summary and "[FAILED] Timed out after 10.000s." in summary

    # Again, with the default e2e_fail_on_test_failure: the binary is up to date, the stale report of an
    # earlier run is removed first, and the failed test fails the play.
    (lab.artifacts / "junit_02.xml").write_text(REPORT)
    again = lab.playbook()
    assert again.returncode == 2, again.stdout[-4000:]
    _assert_no_secret(again)
    assert len(lab.builds()) == 1
    assert "Up to date: built by this role from" in again.stdout
    assert not (lab.artifacts / "junit_02.xml").exists()
    assert f"1 of 2 E2E tests failed: {FAILED_TEST}." in again.stdout
    assert "Summary: " + str(lab.artifacts / "e2e-summary.md") in again.stdout

    # A change in the work tree means a rebuild; a check run says so and changes nothing (no build, no run).
    (lab.src / "test" / "e2e" / "e2e_test.go").write_text("package e2e\n\n// changed\n")
    ran_before = lab.run_log.stat().st_mtime_ns
    check = lab.playbook("--check")
    assert check.returncode == 0, check.stdout[-4000:]
    assert "Building: the work tree has uncommitted changes" in check.stdout
    assert f"Check mode: the tests would run as {binary} --provider=skeleton" in check.stdout
    assert len(lab.builds()) == 1
    assert lab.run_log.stat().st_mtime_ns == ran_before


@pytest.mark.slow
def test_e2e_role_lists_every_bad_input_in_one_message_without_a_secret(lab: Lab) -> None:
    (lab.src / "go.mod").write_text("module github.com/example/not-kubernetes\n")
    os.remove(lab.root / "ssh" / "id_rsa.pub")
    proc = lab.playbook(
        "-vvv",
        "-e",
        "e2e_azure_client_secret=''",
        "-e",
        "e2e_storage_container_name=E2E_Logs",
        "-e",
        "e2e_kubeconfig=kubeconfig",
    )
    assert proc.returncode == 2, proc.stdout[-4000:]
    _assert_no_secret(proc)
    out = proc.stdout
    assert "winkube.node.e2e cannot run, 5 inputs to fix:" in out
    for problem in (
        f"e2e_kubernetes_src: {lab.src} is not a kubernetes/kubernetes checkout (go.mod declares module "
        "github.com/example/not-kubernetes, not k8s.io/kubernetes)",
        "e2e_kubeconfig: kubeconfig is not an absolute path",
        f"e2e_ssh_public_key_path: {lab.root / 'ssh' / 'id_rsa.pub'} does not exist",
        "e2e_storage_container_name: E2E_Logs is not an Azure blob container name",
        "e2e_azure_client_secret: is empty",
    ):
        assert problem in out, problem
    assert lab.builds() == []
    assert not (lab.src / "_output").exists()
