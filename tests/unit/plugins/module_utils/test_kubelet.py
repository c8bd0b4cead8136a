# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import copy

import pytest
from ansible_collections.winkube.node.plugins.module_utils import kubelet as k
from ansible_collections.winkube.node.plugins.module_utils.kubernetes import WINDOWS_NODE_PATHS

# The simulator's CommandLineToArgvW: what the SCM's process (and kube-log-runner's child) reads back.
from tests.simulator.executables.cmdline import split as command_line_to_argv

CONTAINERD = "npipe:////./pipe/containerd-containerd"
BASE = "https://dl.k8s.io/v1.34.1/bin/windows/amd64"
PLAN = {
    "kubernetes_version": "1.34.1",
    "cri_endpoint": CONTAINERD,
    "kubernetes_paths": dict(WINDOWS_NODE_PATHS),
    "kubernetes_binaries": {
        c: {"url": f"{BASE}/{c}.exe", "checksum_url": f"{BASE}/{c}.exe.sha256"}
        for c in ("kubelet", "kubeadm", "kube-proxy", "kube-log-runner")
    }
    | {
        "kubectl": {
            "url": "https://dl.k8s.io/release/v1.34.1/bin/windows/amd64/kubectl.exe",
            "checksum_url": "https://dl.k8s.io/release/v1.34.1/bin/windows/amd64/kubectl.exe.sha256",
        }
    },
}
DIGEST = "ab" * 32
BASE_ARGS = [
    r"--cert-dir=C:\var\lib\kubelet\pki",
    r"--config=C:\var\lib\kubelet\config.yaml",
    r"--bootstrap-kubeconfig=C:\etc\kubernetes\bootstrap-kubelet.conf",
    r"--kubeconfig=C:\etc\kubernetes\kubelet.conf",
    f"--container-runtime-endpoint={CONTAINERD}",
    "--enable-debugging-handlers",
    "--cgroups-per-qos=false",
    "--enforce-node-allocatable=",
    "--resolv-conf=",
]
HEAD = [
    r"C:\k\kube-log-runner.exe",
    r"--log-file=C:\var\log\kubelet\kubelet.log",
    r"C:\k\kubelet.exe",
    "--windows-service",
]


def plan_with(**changes: object) -> dict:
    plan = copy.deepcopy(PLAN)
    plan.update(changes)
    return plan


# ------------------------------------------------------------------ kubeadm-flags.env


@pytest.mark.parametrize(
    ("text", "args"),
    [
        ("", []),
        ("\n\n", []),
        ('KUBELET_KUBEADM_ARGS=""\n', []),
        # As kubeadm 1.26-1.34 writes it (GT section 5.3), LF-terminated.
        (
            f'KUBELET_KUBEADM_ARGS="--container-runtime-endpoint={CONTAINERD} '
            '--pod-infra-container-image=registry.k8s.io/pause:3.10"\n',
            [f"--container-runtime-endpoint={CONTAINERD}", "--pod-infra-container-image=registry.k8s.io/pause:3.10"],
        ),
        # CRLF and a BOM (an editor on Windows), extra blanks between words.
        (
            '\ufeffKUBELET_KUBEADM_ARGS="--v=2   --node-ip=10.0.0.5"\r\n',
            ["--v=2", "--node-ip=10.0.0.5"],
        ),
        # Go %q escapes quotes inside the value; quoted words lose their quotes, "" is an empty value.
        (
            'KUBELET_KUBEADM_ARGS="--enforce-node-allocatable=\\"\\" --node-labels=\\"a=b c\\""\n',
            ["--enforce-node-allocatable=", "--node-labels=a=b c"],
        ),
        ("KUBELET_KUBEADM_ARGS=\"--x='single quoted'\"", ["--x=single quoted"]),
        # Go escapes for control and non-ASCII characters.
        ('KUBELET_KUBEADM_ARGS="--a=\\u00e9\\x41"', ["--a=\u00e9A"]),
        # Unquoted, as a hand-written file may be.
        ("KUBELET_KUBEADM_ARGS=--v=3", ["--v=3"]),
    ],
)
def test_parse_kubeadm_flags_env(text: str, args: list[str]) -> None:
    assert k.parse_kubeadm_flags_env(text) == args


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("OTHER=1\n", "must hold the single line KUBELET_KUBEADM_ARGS"),
        ('KUBELET_KUBEADM_ARGS="--v=2"\nKUBELET_EXTRA_ARGS="--v=3"\n', "got 2 line(s)"),
        ('KUBELET_KUBEADM_ARGS="--v=2', "is not a double-quoted string"),
        ('KUBELET_KUBEADM_ARGS="--v=2" "', "unescaped double quote"),
        ('KUBELET_KUBEADM_ARGS="--v=\\q"', "unknown escape \\q"),
        ("KUBELET_KUBEADM_ARGS=--x='open", "unbalanced '"),
    ],
)
def test_parse_kubeadm_flags_env_refuses(text: str, fragment: str) -> None:
    with pytest.raises(ValueError, match=r"kubeadm-flags\.env") as info:
        k.parse_kubeadm_flags_env(text)
    assert fragment in str(info.value)


# ------------------------------------------------------------------ flags


def test_merge_later_wins_in_the_first_place_without_duplicates() -> None:
    merged = k.merge_flags([("a", "1"), ("b", None)], [("c", "3"), ("a", "2")], [("b", "x")])
    assert merged == [("a", "2"), ("b", "x"), ("c", "3")]


@pytest.mark.parametrize(
    ("extra", "flags"),
    [
        (None, []),
        ({}, []),
        ({"v": 2, "rotate-certificates": True, "x": None}, [("v", "2"), ("rotate-certificates", "true"), ("x", None)]),
        ({"--node-labels": ["a=b", "c=d"]}, [("node-labels", "a=b,c=d")]),
        (["--v=4", "--max-pods", "30", "--flag"], [("v", "4"), ("max-pods", "30"), ("flag", None)]),
    ],
)
def test_extra_flags(extra: object, flags: list) -> None:
    assert k.extra_flags(extra) == flags


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        ("--v=2", "must be a mapping or a list"),
        (["v=2"], "is not a --flag"),
        ({"bad name": 1}, "is not a flag name"),
        ({"v": {"nested": 1}}, "must be a string, number, bool or list"),
        ({"windows-service": False}, "may not set --windows-service"),
        (["--container-runtime-endpoint=npipe:////./pipe/other"], "may not set --container-runtime-endpoint"),
    ],
)
def test_extra_flags_refuses(extra: object, fragment: str) -> None:
    with pytest.raises(ValueError, match="kubernetes_kubelet_extra_args") as info:
        k.extra_flags(extra)
    assert fragment in str(info.value)


# ------------------------------------------------------------------ the service command line


def test_command_before_join_has_the_base_flags() -> None:
    command = k.kubelet_service_command(PLAN)
    assert command.startswith(
        '"C:\\k\\kube-log-runner.exe" --log-file=C:\\var\\log\\kubelet\\kubelet.log "C:\\k\\kubelet'
    )
    assert command_line_to_argv(command) == HEAD + BASE_ARGS


def test_command_keeps_kubeadm_flags_then_extra_args_later_wins() -> None:
    flags_env = (
        f'KUBELET_KUBEADM_ARGS="--container-runtime-endpoint={CONTAINERD} --hostname-override=node-a '
        '--pod-infra-container-image=registry.k8s.io/pause:3.10 --register-with-taints=os=windows:NoSchedule"\n'
    )
    extra = {"hostname-override": "node-b", "v": 2, "resolv-conf": r"C:\etc\resolv.conf"}
    argv = command_line_to_argv(k.kubelet_service_command(PLAN, flags_env, extra))
    assert argv == [
        *HEAD,
        *BASE_ARGS[:-1],
        r"--resolv-conf=C:\etc\resolv.conf",  # the extra argument's value in the base flag's place
        "--hostname-override=node-b",
        "--pod-infra-container-image=registry.k8s.io/pause:3.10",
        "--register-with-taints=os=windows:NoSchedule",
        "--v=2",
    ]
    names = [a.split("=", 1)[0] for a in argv[3:]]
    assert len(names) == len(set(names))


def test_kubeadm_endpoint_spelling_of_the_same_pipe_is_accepted() -> None:
    flags_env = 'KUBELET_KUBEADM_ARGS="--container-runtime-endpoint=npipe://./pipe/containerd-containerd"'
    argv = command_line_to_argv(k.kubelet_service_command(PLAN, flags_env))
    assert "--container-runtime-endpoint=npipe://./pipe/containerd-containerd" in argv
    assert sum(a.startswith("--container-runtime-endpoint=") for a in argv) == 1


@pytest.mark.parametrize(
    ("plan", "flags_env", "fragment"),
    [
        (
            PLAN,
            'KUBELET_KUBEADM_ARGS="--container-runtime-endpoint=npipe:////./pipe/cri-dockerd"',
            "the plan's runtime listens on npipe:////./pipe/containerd-containerd",
        ),
        (
            plan_with(kubernetes_version="1.35.2"),
            'KUBELET_KUBEADM_ARGS="--pod-infra-container-image=registry.k8s.io/pause:3.10"',
            "--pod-infra-container-image, which kubelet 1.35 and later no longer accept",
        ),
        (PLAN, 'KUBELET_KUBEADM_ARGS="--container-runtime=remote"', "--container-runtime, which kubelet 1.27"),
        (plan_with(cri_endpoint="unix:///run/containerd.sock"), "", "must be an npipe:// endpoint"),
        (plan_with(kubernetes_version="1.34"), "", "kubernetes_version"),
        ({"kubernetes_paths": {}}, "", "winkube_plan.kubernetes_paths is missing"),
        ("not a plan", "", "run winkube.node.preflight first"),
    ],
)
def test_command_refuses(plan: object, flags_env: str, fragment: str) -> None:
    with pytest.raises(ValueError) as info:
        k.kubelet_service_command(plan, flags_env)
    assert fragment in str(info.value)


def test_relative_log_file_is_refused() -> None:
    with pytest.raises(ValueError, match="absolute Windows path"):
        k.kubelet_service_command(PLAN, log_file="kubelet.log")


def test_paths_with_blanks_survive_the_command_line() -> None:
    paths = {**WINDOWS_NODE_PATHS, "bin_dir": r"C:\Program Files\Kubernetes", "kubelet_config": r"C:\k 8s\config.yaml"}
    command = k.kubelet_service_command(plan_with(kubernetes_paths=paths), log_file=r"C:\logs dir\kubelet.log")
    argv = command_line_to_argv(command)
    assert argv[:3] == [
        r"C:\Program Files\Kubernetes\kube-log-runner.exe",
        r"--log-file=C:\logs dir\kubelet.log",
        r"C:\Program Files\Kubernetes\kubelet.exe",
    ]
    assert r"--config=C:\k 8s\config.yaml" in argv


@pytest.mark.parametrize(
    "arg",
    [
        "",
        "plain",
        "with blank",
        'quote"inside',
        "ends with backslash\\",
        'backslashes\\\\ before "quote"',
        "trailing\\\\",
        "tab\there",
        '--node-labels="a=b"',
        r"C:\path with\blank\\",
    ],
)
def test_quote_argument_round_trips_through_command_line_to_argv(arg: str) -> None:
    assert command_line_to_argv("prog.exe " + k.quote_argument(arg)) == ["prog.exe", arg]


def test_join_command_line_round_trips() -> None:
    argv = [r"C:\Program Files\x\run.exe", "a b", "", 'c"d', "e\\"]
    assert command_line_to_argv(k.join_command_line(argv)) == argv
    with pytest.raises(ValueError, match="cannot contain a double quote"):
        k.join_command_line(['C:\\a"b.exe'])


def test_kube_proxy_service_command() -> None:
    command = k.kube_proxy_service_command(
        PLAN, r"C:\var\lib\kube-proxy\kubeconfig.conf", {"v": 4, "proxy-mode": "kernelspace"}
    )
    assert command_line_to_argv(command) == [
        r"C:\k\kube-log-runner.exe",
        r"--log-file=C:\var\log\kube-proxy\kube-proxy.log",
        r"C:\k\kube-proxy.exe",
        "--windows-service",
        r"--kubeconfig=C:\var\lib\kube-proxy\kubeconfig.conf",
        "--proxy-mode=kernelspace",
        "--v=4",
    ]
    with pytest.raises(ValueError, match="kubernetes_kube_proxy_extra_args may not set --windows-service"):
        k.kube_proxy_service_command(PLAN, r"C:\kp.conf", ["--windows-service=false"])
    with pytest.raises(ValueError, match="absolute Windows path"):
        k.kube_proxy_service_command(PLAN, "kubeconfig.conf")


# ------------------------------------------------------------------ artifacts and checksums


def test_node_artifacts() -> None:
    names = [(a.name, a.url) for a in k.node_artifacts(PLAN, kube_proxy=True, kubectl=True)]
    assert names == [
        ("kubelet.exe", f"{BASE}/kubelet.exe"),
        ("kubeadm.exe", f"{BASE}/kubeadm.exe"),
        ("kube-log-runner.exe", f"{BASE}/kube-log-runner.exe"),
        ("kube-proxy.exe", f"{BASE}/kube-proxy.exe"),
        ("kubectl.exe", "https://dl.k8s.io/release/v1.34.1/bin/windows/amd64/kubectl.exe"),
    ]
    assert [a.name for a in k.node_artifacts(PLAN)] == ["kubelet.exe", "kubeadm.exe", "kube-log-runner.exe"]
    assert all(a.checksum_url == a.url + ".sha256" for a in k.node_artifacts(PLAN, True, True))


def test_node_artifacts_are_the_plans_own_urls() -> None:
    # The role downloads exactly what the plan lists: no URL is derived from another one.
    mirror = "http://127.0.0.1:4242/mirror/https/dl.k8s.io/v1.34.1/bin/windows/amd64"
    binaries = {
        c: {"url": f"{mirror}/{c}.exe", "checksum_url": f"{mirror}/{c}.exe.sha256"}
        for c in ("kubelet", "kubeadm", "kube-log-runner")
    }
    binaries["kubectl"] = {
        "url": "https://elsewhere.example/kubectl.exe",
        "checksum_url": "https://elsewhere.example/k",
    }
    artifacts = k.node_artifacts(plan_with(kubernetes_binaries=binaries), kubectl=True)
    assert [a.url for a in artifacts] == [
        f"{mirror}/kubelet.exe",
        f"{mirror}/kubeadm.exe",
        f"{mirror}/kube-log-runner.exe",
        "https://elsewhere.example/kubectl.exe",
    ]
    assert artifacts[-1].name == "kubectl.exe" and artifacts[-1].checksum_url == "https://elsewhere.example/k"


@pytest.mark.parametrize(
    ("plan", "kube_proxy", "fragment"),
    [
        (plan_with(kubernetes_binaries={}), False, "winkube_plan.kubernetes_binaries is missing or empty"),
        (
            plan_with(kubernetes_binaries={"kubelet": PLAN["kubernetes_binaries"]["kubelet"]}),
            False,
            "kubeadm has no url",
        ),
        (plan_with(kubernetes_binaries={"kubelet": {"url": "x"}}), False, "kubelet has no url and checksum_url"),
        (
            plan_with(kubernetes_binaries={c: PLAN["kubernetes_binaries"][c] for c in ("kubelet", "kubeadm")}),
            False,
            "kube-log-runner has no url",
        ),
    ],
)
def test_node_artifacts_refuses(plan: dict, kube_proxy: bool, fragment: str) -> None:
    with pytest.raises(ValueError) as info:
        k.node_artifacts(plan, kube_proxy=kube_proxy, kubectl=True)
    assert fragment in str(info.value)


def test_artifact_checksums() -> None:
    artifacts = [
        {"name": "kubelet.exe", "url": "https://x/kubelet.exe", "checksum_url": "https://x/kubelet.exe.sha256"}
    ]
    out = k.artifact_checksums(artifacts, {"https://x/kubelet.exe.sha256": DIGEST.upper() + "\n"})
    assert out == [{**artifacts[0], "sha256": DIGEST}]


@pytest.mark.parametrize(
    ("files", "fragment"),
    [
        ({}, "no checksum file was fetched for kubelet.exe (https://x/kubelet.exe.sha256)"),
        ({"https://x/kubelet.exe.sha256": ""}, "checksum file is empty"),
        ({"https://x/kubelet.exe.sha256": "<html>503</html>"}, "does not start with a 64-hex-digit SHA-256 digest"),
        ({"https://x/kubelet.exe.sha256": f"{DIGEST}\n{DIGEST}\n"}, "has 2 lines"),
        ({"https://x/kubelet.exe.sha256": "ab" * 31}, "64-hex-digit"),
        ({"https://x/kubelet.exe.sha256": None}, "was not read as text"),
    ],
)
def test_artifact_checksums_refuses_bad_files(files: dict, fragment: str) -> None:
    artifacts = [
        {"name": "kubelet.exe", "url": "https://x/kubelet.exe", "checksum_url": "https://x/kubelet.exe.sha256"}
    ]
    with pytest.raises(ValueError) as info:
        k.artifact_checksums(artifacts, files)
    assert fragment in str(info.value)
    assert "kubelet.exe" in str(info.value)
