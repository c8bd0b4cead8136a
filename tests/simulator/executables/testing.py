r"""Helpers for tests that need a host with binaries installed the way the collection installs
them (download fixture → disk → service). Used by ``tests/simulator/tests/test_executables_*.py``;
other pieces' tests may use them too. Every step goes through the emulated tools themselves
(``tar.exe``, ``containerd.exe --register-service``, ``sc.exe``), so a helper never fakes state.
"""

from __future__ import annotations

from tests.simulator import executables
from tests.simulator.cluster import Cluster
from tests.simulator.contract import ExecResult
from tests.simulator.downloads import CONTAINERD_BASE, KUBE_BASE, DownloadFixtures
from tests.simulator.host import WindowsHost

CONTAINERD_DIR = r"C:\Program Files\containerd"
K_DIR = r"C:\k"

WS2019 = "10.0.17763.6414"
WS2022 = "10.0.20348.2527"
WS2025 = "10.0.26100.4349"


def make_host(
    os_version: str = WS2022,
    name: str = "win",
    downloads: DownloadFixtures | None = None,
    cluster: Cluster | None = None,
) -> WindowsHost:
    """A fresh host wired as the server wires it (executables installed, shared objects set)."""
    host = WindowsHost(name, os_version)
    executables.install(host)
    host.downloads = downloads or DownloadFixtures()
    host.cluster = cluster
    return host


def sh(host: WindowsHost, *argv: str, stdin: bytes | None = None, chdir: str | None = None) -> ExecResult:
    return executables.run(host, list(argv), stdin, chdir)


def checked(result: ExecResult) -> ExecResult:
    if result.rc != 0:
        raise AssertionError(f"rc {result.rc}\nstdout: {result.stdout}\nstderr: {result.stderr}")
    return result


def install_containerd(host: WindowsHost, version: str, config: bytes | None = None, register: bool = True) -> str:
    """Download, extract (tar.exe --strip-components 1), write the config (``config default``
    unless given) and register the service. Returns the path of containerd.exe."""
    url = f"{CONTAINERD_BASE}/v{version}/containerd-{version}-windows-amd64.tar.gz"
    archive = rf"C:\Windows\Temp\containerd-{version}.tar.gz"
    host.write_file(archive, host.downloads.get(url))
    host.mkdir(CONTAINERD_DIR)
    checked(sh(host, "tar.exe", "-xzf", archive, "-C", CONTAINERD_DIR, "--strip-components", "1"))
    exe = CONTAINERD_DIR + r"\containerd.exe"
    if config is None:
        config = checked(sh(host, exe, "config", "default")).stdout.encode()
    host.write_file(CONTAINERD_DIR + r"\config.toml", config)
    if register:
        checked(sh(host, exe, "--register-service", "--log-file", r"C:\ProgramData\containerd\containerd.log"))
    return exe


def start_containerd(host: WindowsHost, version: str) -> str:
    exe = install_containerd(host, version)
    err = host.start_service("containerd")
    if err:
        raise AssertionError(f"containerd did not start: {err} / {host.extra.get('service_failures')}")
    return exe


def install_kube(host: WindowsHost, version: str, components: tuple[str, ...] = ("kubelet", "kubeadm")) -> None:
    r"""Put the Kubernetes binaries in ``C:\k`` and ``C:\k`` on the machine Path."""
    for comp in components:
        host.write_file(
            rf"{K_DIR}\{comp}.exe", host.downloads.get(f"{KUBE_BASE}/v{version}/bin/windows/amd64/{comp}.exe")
        )
    path = host.env_machine["Path"]
    if K_DIR.lower() not in path.lower().split(";"):
        host.env_machine["Path"] = path + ";" + K_DIR


def create_kubelet_service(host: WindowsHost, extra_args: str = "") -> None:
    """The kubelet service as a node provisioner creates it: native ``--windows-service``, the
    files kubeadm join writes, containerd's pipe."""
    bin_path = (
        rf"{K_DIR}\kubelet.exe --windows-service --config=C:\var\lib\kubelet\config.yaml "
        r"--bootstrap-kubeconfig=C:\etc\kubernetes\bootstrap-kubelet.conf --kubeconfig=C:\etc\kubernetes\kubelet.conf "
        r"--cert-dir=C:\var\lib\kubelet\pki --container-runtime-endpoint=npipe:////./pipe/containerd-containerd"
        + (" " + extra_args if extra_args else "")
    )
    checked(sh(host, "sc.exe", "create", "kubelet", "binPath=", bin_path, "start=", "auto", "depend=", "containerd"))
