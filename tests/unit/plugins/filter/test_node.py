# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The filters: thin wrappers, exact result keys, AnsibleFilterError on bad input, and one real Ansible run."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any, Dict

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.winkube.node.plugins.filter.node import FilterModule

FILTERS = FilterModule().filters()
REPO_ROOT = Path(__file__).resolve().parents[4]
TOKEN = "abcdef.0123456789abcdef"
HASH = "sha256:" + "0123456789abcdef" * 4


def call(name: str, *args: Any, **kwargs: Any) -> Any:
    return FILTERS[name](*args, **kwargs)


def test_filter_names() -> None:
    assert set(FILTERS) == {
        "windows_release",
        "image_compatible",
        "version_skew",
        "containerd_supported",
        "pause_image",
        "kubeadm_join",
        "kube_binary_url",
        "service_environment",
        "configured_pause_image",
    }


# --- windows_release ---------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["10.0.20348.2527", "20348", 20348])
def test_windows_release_forms(value: object) -> None:
    result = call("windows_release", value)
    assert result["build"] == 20348
    assert result["name"] == "Windows Server 2022"
    assert result["version_tag"] == "ltsc2022"
    assert result["channel"] == "ltsc"
    assert result["kubernetes_supported"] is True
    assert result["kubernetes_version"] == "1.36"
    assert result["revision"] == (2527 if value == "10.0.20348.2527" else None)
    json.dumps(result)  # plain data only


def test_windows_release_details() -> None:
    ws2019 = call("windows_release", "10.0.17763.6414")
    assert ws2019["id"] == "ws2019"
    assert ws2019["kubernetes_supported"] is False
    assert ws2019["supported_kubernetes_minors"][0] == "1.14"
    assert ws2019["supported_kubernetes_minors"][-1] == "1.34"
    assert ws2019["shares_build_with"] == ["ws1809sac"]
    assert ws2019["image_tags"]["servercore"] == ["ltsc2019", "1809"]
    assert ws2019["windows_build_label"] == "10.0.17763"
    sac = call("windows_release", 17763, "sac")
    assert (sac["name"], sac["channel"], sac["version_tag"]) == ("Windows Server, version 1809", "sac", "1809")
    ac = call("windows_release", 25398)
    assert (ac["channel"], ac["version_tag"], ac["host_only"]) == ("annual", "ltsc2022", True)
    ws2025 = call("windows_release", "10.0.26100.1742")
    assert ws2025["version_tag"] == "ltsc2025"
    assert ws2025["lifecycle"] == {
        "availability": "2024-11-01",
        "mainstream_end": "2029-10-09",
        "extended_end": "2034-10-10",
    }


@pytest.mark.parametrize("build", [14393, 18362, 18363, 19041, 19042])
def test_ws2016_and_sac_are_not_supported_by_current_kubernetes(build: int) -> None:
    assert call("windows_release", build)["kubernetes_supported"] is False


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        ((22621,), "unknown Windows Server build 22621"),
        ((None,), "Windows version is missing"),
        (("",), "Windows version is empty"),
        (("ltsc2022",), "is not a Windows version"),
        ((20348, "sac"), "not channel 'sac'"),
        ((17763, "beta"), "unknown channel 'beta'"),
    ],
)
def test_windows_release_errors(args: tuple, fragment: str) -> None:
    with pytest.raises(AnsibleFilterError, match=r"winkube\.node\.windows_release: ") as info:
        call("windows_release", *args)
    assert fragment in str(info.value)


# --- image_compatible --------------------------------------------------------------------------


def test_image_compatible() -> None:
    assert call("image_compatible", 20348, "ltsc2019") == {
        "compatible": False,
        "reason": call("image_compatible", 20348, "ltsc2019")["reason"],
    }
    assert call("image_compatible", "10.0.26100.1742", "10.0.20348.2527")["compatible"] is True
    assert call("image_compatible", 17763, "ltsc2022", "hyperv")["compatible"] is False
    assert call("image_compatible", 26100, "ltsc2022", containerd_version="2.2.3")["compatible"] is True
    assert set(call("image_compatible", 20348, "ltsc2022")) == {"compatible", "reason"}


@pytest.mark.parametrize(
    ("args", "kwargs", "fragment"),
    [
        ((20348, "ltsc2022", "sandbox"), {}, "unknown isolation 'sandbox'"),
        ((20348, "ltsc2022"), {"containerd_version": "1.x"}, "containerd_version '1.x' is not a valid version"),
        ((20348, None), {}, "image os.version is missing"),
    ],
)
def test_image_compatible_errors(args: tuple, kwargs: Dict[str, Any], fragment: str) -> None:
    with pytest.raises(AnsibleFilterError, match=r"winkube\.node\.image_compatible: ") as info:
        call("image_compatible", *args, **kwargs)
    assert fragment in str(info.value)


# --- version_skew ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("component", "version", "apiserver", "ok"),
    [
        ("kubelet", "1.33", "1.36", True),
        ("kubelet", "1.32", "1.36", False),
        ("kubelet", "1.37", "1.36", False),
        ("kube-proxy", "v1.33.9", "v1.36.4", True),
        ("kube-proxy", "1.32.0", "1.36.4", False),
        ("kube-proxy", "1.37.0", "1.36.4", False),
        ("kubectl", "1.35", "1.36", True),
        ("kubectl", "1.37", "1.36", True),
        ("kubectl", "1.34", "1.36", False),
        ("kubeadm", "1.36.4", "1.36.1", True),
        ("kubeadm", "1.35.9", "1.36.1", False),
    ],
)
def test_version_skew(component: str, version: str, apiserver: str, ok: bool) -> None:
    result = call("version_skew", version, apiserver, component)
    assert set(result) == {"ok", "reason"}
    assert result["ok"] is ok


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("1.36", "1.36", "etcd"), "unknown component 'etcd'; accepted: kubelet, kube-proxy, kubeadm, kubectl"),
        (("1.x", "1.36", "kubelet"), "kubelet version '1.x' is not a valid version"),
        (("v1.36.1-garbage", "1.36", "kubelet"), "'v1.36.1-garbage' is not a valid version"),
        (("1.36", "", "kubelet"), "kube-apiserver version is empty"),
        (("1.36", None, "kubelet"), "kube-apiserver version is missing"),
        (("1.36", "1.36", None), "component must be a string"),
    ],
)
def test_version_skew_errors(args: tuple, fragment: str) -> None:
    with pytest.raises(AnsibleFilterError, match=r"winkube\.node\.version_skew: ") as info:
        call("version_skew", *args)
    assert fragment in str(info.value)
    if "valid version" in fragment or "empty" in fragment:
        assert "X.Y or X.Y.Z" in str(info.value)  # says what is accepted


# --- containerd_supported ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("containerd", "kubernetes", "ok", "minimum"),
    [
        ("1.7.20", "1.35", False, ["2.2.0", "2.1.5", "1.7.28"]),
        ("1.7.28", "1.35.1", True, ["2.2.0", "2.1.5", "1.7.28"]),
        ("2.1.5", "1.36", False, ["2.3.0", "2.2.0"]),
        ("v2.2.0", "v1.36.4", True, ["2.3.0", "2.2.0"]),
        ("1.3.10", "1.36", False, ["2.3.0", "2.2.0"]),
    ],
)
def test_containerd_supported(containerd: str, kubernetes: str, ok: bool, minimum: list) -> None:
    result = call("containerd_supported", containerd, kubernetes)
    assert result == {"ok": ok, "reason": result["reason"], "minimum": minimum}


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("2.2", "1.36"), "containerd version 2.2 needs a patch number"),
        (("2.2.0", "1.23"), "outside the containerd support table"),
        (("2.2.0-rc.1", "1.36"), "is a pre-release"),
        ((None, "1.36"), "containerd version is missing"),
    ],
)
def test_containerd_supported_errors(args: tuple, fragment: str) -> None:
    with pytest.raises(AnsibleFilterError, match=r"winkube\.node\.containerd_supported: ") as info:
        call("containerd_supported", *args)
    assert fragment in str(info.value)


# --- pause_image -------------------------------------------------------------------------------


def test_pause_image() -> None:
    assert call("pause_image", "1.36.4") == "mcr.microsoft.com/oss/kubernetes/pause:3.6"
    assert call("pause_image", "1.36", "production") == "mcr.microsoft.com/oss/kubernetes/pause:3.6"
    assert call("pause_image", "1.35", profile="upstream") == "registry.k8s.io/pause:3.6"


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("1.36", "signed"), "unknown pause image profile 'signed'; accepted: production, upstream"),
        (("1.36", None), "unknown pause image profile None"),
        (("1.x",), "Kubernetes version '1.x' is not a valid version"),
        (("1.37",), "outside the Windows support table"),
    ],
)
def test_pause_image_errors(args: tuple, fragment: str) -> None:
    with pytest.raises(AnsibleFilterError, match=r"winkube\.node\.pause_image: ") as info:
        call("pause_image", *args)
    assert fragment in str(info.value)


# --- kubeadm_join ------------------------------------------------------------------------------


def test_kubeadm_join() -> None:
    result = call(
        "kubeadm_join", f"kubeadm join 192.0.2.10:6443 --token {TOKEN} --discovery-token-ca-cert-hash {HASH}\n"
    )
    assert result == {
        "api_server_endpoint": "192.0.2.10:6443",
        "token": TOKEN,
        "ca_cert_hashes": [HASH],
        "control_plane": False,
    }
    control = call(
        "kubeadm_join",
        f"kubeadm join cp:6443 --token {TOKEN} --discovery-token-ca-cert-hash {HASH} "
        f"--discovery-token-ca-cert-hash {HASH} --control-plane",
    )
    assert control["control_plane"] is True
    assert control["ca_cert_hashes"] == [HASH, HASH]


def test_kubeadm_join_bad_token_is_not_echoed() -> None:
    bad = "abcdef.0123456789ABCDEF"
    with pytest.raises(AnsibleFilterError, match=r"winkube\.node\.kubeadm_join: the --token value") as info:
        call("kubeadm_join", f"kubeadm join 192.0.2.10:6443 --token {bad} --discovery-token-ca-cert-hash {HASH}")
    assert bad not in str(info.value)
    assert "0123456789ABCDEF" not in str(info.value)


# --- kube_binary_url ---------------------------------------------------------------------------


def test_kube_binary_url() -> None:
    assert call("kube_binary_url", "kubelet", "1.36.4") == {
        "url": "https://dl.k8s.io/v1.36.4/bin/windows/amd64/kubelet.exe",
        "checksum_url": "https://dl.k8s.io/v1.36.4/bin/windows/amd64/kubelet.exe.sha256",
    }
    assert (
        call("kube_binary_url", "kubectl", "v1.36.4")["url"]
        == "https://dl.k8s.io/release/v1.36.4/bin/windows/amd64/kubectl.exe"
    )
    mirror = call("kube_binary_url", "kubeadm", "1.36.4", base_url="https://mirror.example.com/k8s")
    assert mirror["url"] == "https://mirror.example.com/k8s/v1.36.4/bin/windows/amd64/kubeadm.exe"


@pytest.mark.parametrize(
    ("args", "kwargs", "fragment"),
    [
        (
            ("kubelet.exe", "1.36.4"),
            {},
            "unknown component 'kubelet.exe'; accepted: kubelet, kubeadm, kube-proxy, kubectl",
        ),
        (("kubelet", "1.36"), {}, "kubelet version 1.36 needs a patch number"),
        (("kubelet", "1.36.4", "arm64"), {}, "unknown architecture 'arm64'; accepted: amd64"),
        (("kubelet", "1.36.4"), {"base_url": "dl.k8s.io"}, "must be an http(s) URL"),
        ((None, "1.36.4"), {}, "component must be a string"),
    ],
)
def test_kube_binary_url_errors(args: tuple, kwargs: Dict[str, Any], fragment: str) -> None:
    with pytest.raises(AnsibleFilterError, match=r"winkube\.node\.kube_binary_url: ") as info:
        call("kube_binary_url", *args, **kwargs)
    assert fragment in str(info.value)


# --- through Ansible ---------------------------------------------------------------------------


def _ansible(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO_ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    return subprocess.run(
        [str(REPO_ROOT / ".venv" / "bin" / "ansible"), "localhost", "-m", "ansible.builtin.debug", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_filter_runs_through_ansible() -> None:
    proc = _ansible("-a", "msg={{ 20348 | winkube.node.windows_release }}")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "localhost | SUCCESS => " in proc.stdout
    result = json.loads(proc.stdout.split("=>", 1)[1])["msg"]
    assert result["name"] == "Windows Server 2022"
    assert result["build"] == 20348
    assert result["version_tag"] == "ltsc2022"
    assert result["kubernetes_supported"] is True


def test_bad_token_through_ansible_is_not_echoed() -> None:
    secret = "0123456789ABCDEF"
    join = f"kubeadm join 192.0.2.10:6443 --token abcdef.{secret} --discovery-token-ca-cert-hash {HASH}"
    proc = _ansible("-e", json.dumps({"join_text": join}), "-a", "msg={{ join_text | winkube.node.kubeadm_join }}")
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "the --token value is not a bootstrap token" in output
    assert secret not in output


def test_service_environment_filter_gives_the_real_entries_and_masks_errors() -> None:
    from ansible.errors import AnsibleFilterError
    from ansible_collections.winkube.node.plugins.filter.node import service_environment

    env = service_environment({"https_proxy": "http://bob:pw1@proxy.example:8080"}, "10.96.0.0/12")
    assert env == [
        "HTTPS_PROXY=http://bob:pw1@proxy.example:8080",
        "NO_PROXY=localhost,127.0.0.1,10.96.0.0/12,.svc,.cluster.local",
    ]
    assert service_environment({}) == []
    with pytest.raises(AnsibleFilterError) as refused:
        service_environment({"https_proxy": "bob:pw1@proxy.example:8080"})
    assert "pw1" not in str(refused.value) and "[input.winkube_proxy]" in str(refused.value)
