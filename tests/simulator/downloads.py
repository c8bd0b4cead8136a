"""The simulated internet: URL → bytes for everything the collection downloads, plus the image
registries (``images``) container pulls resolve against. Nothing here opens a connection.

Built deterministically in Python on first use of each URL (and cached for the process), with
the real layouts and checksum files, so checksum verification is exercised for real:

* containerd ``containerd-<v>-windows-amd64.tar.gz`` (``bin/containerd.exe``, ``bin/ctr.exe``,
  ``bin/containerd-shim-runhcs-v1.exe``, ``bin/containerd-stress.exe``) and ``.sha256sum``
  (``sha256sum`` output: ``<hex>  <file name>``), for every release the knowledge base knows
  (``plugins/module_utils/containerd.py`` KNOWN_CONTAINERD_RELEASES) plus two with revisions from
  GT §4.1 — domain facts §4d;
* Kubernetes ``https://dl.k8s.io/v<X.Y.Z>/bin/windows/amd64/{kubelet,kubeadm,kube-proxy,kubectl,
  kube-log-runner}.exe`` (also under ``/release/``, which dl.k8s.io serves alike) with ``.sha256`` and
  ``.sha512`` holding only the hex digest, and ``release/stable.txt`` — domain facts §7 (kube-log-runner
  is in the node release: the Kubernetes system-logs docs; image-builder downloads it from the same
  folder);
* cri-tools ``crictl-v<v>-windows-amd64.tar.gz`` (``crictl.exe`` at the root) + ``.sha256``;
* cri-dockerd ``cri-dockerd-<v>.win.amd64.zip`` (``cri-dockerd/cri-dockerd.exe``), no checksum
  sidecar, as upstream publishes none — domain facts §6;
* MCR ``https://get.mirantis.com/install.ps1`` (the fixture installer the simulator emulates),
  ``win/static/<channel>/index.json`` and ``docker-<v>.zip`` (``docker/docker.exe``,
  ``docker/dockerd.exe``);
* nssm ``https://nssm.cc/release/nssm-2.24.zip`` (``nssm-2.24/win32/nssm.exe``,
  ``nssm-2.24/win64/nssm.exe``, as the real release lays it out), no checksum file: nssm.cc
  publishes none. The fixture's sha256 is its own, not the real zip's (727d1e42...).

The binaries are tiny PE-looking files carrying the identity stamp (``executables/stamp.py``).
Where the reference gives real revisions/build dates they are used; the others are synthetic
(``sha1`` of the name) and say so in the table below.

Tests can add URLs, override content (e.g. to break a checksum), make a URL fail with an HTTP
status (optionally only the first N times) or serve a truncated body — in Python, or from the
hosts file's top-level ``downloads:`` list (``configure``), so a Molecule scenario can serve a
tampered archive or an air-gapped mirror's URLs; ``restore`` undoes such changes for a URL.

The controller reaches the same internet through the control API's mirror
(``{control_url}/mirror/<scheme>/<host>/<path>``, contract B): ``original_url`` maps a mirror URL
back to ``<scheme>://<host>/<path>``, which is what win_get_url on a node fetches too.
"""

from __future__ import annotations

import dataclasses
import functools
import gzip
import hashlib
import http
import io
import json
import re
import tarfile
import threading
import zipfile
from collections.abc import Callable
from typing import Any

from tests.simulator.executables import knowledge
from tests.simulator.executables.registry import ImageRegistry
from tests.simulator.executables.stamp import fake_binary, stamped_text

__all__ = ["DownloadError", "DownloadFixtures", "Response", "original_url"]

# The control API's mirror of this internet: http://127.0.0.1:<control port>/mirror/<scheme>/<host>/<path>.
# The nodes can only reach the simulator on 127.0.0.1, so any port there is taken as the control API.
MIRROR_RE = re.compile(r"^http://127\.0\.0\.1:\d+/mirror/(https?)/([^/?#\s]+)/([^\s#]*)$")


def original_url(url: str) -> str:
    """The simulated-internet URL behind a mirror URL; any other URL is returned unchanged."""
    m = MIRROR_RE.match(url)
    return f"{m.group(1)}://{m.group(2)}/{m.group(3)}" if m else url


FIXED_MTIME = 1_700_000_000  # archive member times: fixed, so archives (and their hashes) are stable


class DownloadError(Exception):
    """What the web server answered instead of the content."""

    def __init__(self, status: int, reason: str, url: str = "") -> None:
        super().__init__(f"{status} {reason}" + (f" ({url})" if url else ""))
        self.status = status
        self.reason = reason
        self.url = url


@dataclasses.dataclass
class Response:
    status: int
    body: bytes
    content_length: int  # what the server announced; larger than len(body) for a truncated body
    last_modified: str = "Tue, 14 Nov 2023 22:13:20 GMT"

    @property
    def truncated(self) -> bool:
        return len(self.body) < self.content_length


# ------------------------------------------------------------------ archive builders


def targz(members: list[tuple[str, bytes | None]]) -> bytes:
    """A gzip'ed tar; a member with content None is a directory."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as tf:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.mtime = FIXED_MTIME
            info.uname = info.gname = "root"
            if data is None:
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
                tf.addfile(info)
            else:
                info.mode = 0o755
                info.size = len(data)
                tf.addfile(info, io.BytesIO(data))
    return gzip.compress(raw.getvalue(), compresslevel=6, mtime=0)


def zipped(members: list[tuple[str, bytes | None]]) -> bytes:
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members:
            info = zipfile.ZipInfo(name + ("/" if data is None else ""), date_time=(2023, 11, 14, 22, 13, 20))
            info.external_attr = (0o40755 << 16) | 0x10 if data is None else 0o755 << 16
            zf.writestr(info, b"" if data is None else data)
    return raw.getvalue()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _synthetic_commit(what: str) -> str:
    return hashlib.sha1(what.encode()).hexdigest()  # noqa: S324 - a stand-in git revision, not security


# ------------------------------------------------------------------ release tables

CONTAINERD_BASE = "https://github.com/containerd/containerd/releases/download"
# Revisions from GT §4.1 (real `containerd --version` outputs); other releases get synthetic ones.
CONTAINERD_REVISIONS = {
    "1.7.20": "8fc6bcff51318944179630522a095cc9dbf9f353",
    "1.7.18": "ae71819c4f5e67bb4d5ae76a6b735f29cc25774e",
    "2.0.3": "06b99ca80cdbfbc6cc8bd567021738c9af2b36ce",
    "2.1.4": "75cb2b7193e4e490e9fbdc236c0e811ccaba3376",
    "2.2.0": "1c4457e00facac03ce1d75f7b6777a7a851e5c41",
}
# hcsshim (containerd-shim-runhcs-v1) vendored per containerd line (domain facts §2c).
HCSSHIM = {(1, 7): "0.11.7", (2, 0): "0.12.9", (2, 1): "0.13.0", (2, 2): "0.14.1", (2, 3): "0.14.1"}
# Go toolchain per containerd line, printed by `ctr version` ("Go version:"). Synthetic: the
# reference records no release's toolchain; only the form (goX.Y.Z) is real.
CONTAINERD_GO = {
    (1, 6): "go1.23.12",
    (1, 7): "go1.24.9",
    (2, 0): "go1.24.9",
    (2, 1): "go1.24.9",
    (2, 2): "go1.25.3",
    (2, 3): "go1.25.3",
}


def containerd_versions() -> list[str]:
    """The knowledge base's known releases plus the ones GT gives real revisions for."""
    return sorted(set(knowledge.known_containerd_releases()) | {"1.7.20", "2.1.4"}, key=_vkey)


def _vkey(v: str) -> tuple[int, ...]:
    return tuple(int(p) for p in v.lstrip("v").split("."))


KUBE_BASE = "https://dl.k8s.io"
KUBE_COMPONENTS = ("kubelet", "kubeadm", "kube-proxy", "kubectl", "kube-log-runner")
# (commit, build date, Go) — 1.32.0 and 1.33.3 from GT §5.1; the rest synthetic commits/dates.
KUBE_RELEASES = {
    "1.32.0": ("70d3cc986aa8221cd1dfb1121852688902d3bf53", "2024-12-11T18:04:20Z", "go1.23.3"),
    "1.33.3": ("80779bd6ff08b451e1c165a338a7b69351e9b0b8", "2025-07-15T18:05:14Z", "go1.24.4"),
    "1.34.1": (None, "2025-09-09T19:44:50Z", "go1.24.6"),
    "1.35.2": (None, "2026-02-10T18:20:11Z", "go1.25.6"),
    "1.36.0": (None, "2026-04-22T17:03:41Z", "go1.26.2"),
}
# kubectl's bundled kustomize per minor (kubectl release notes); 1.35/1.36 not verified.
KUSTOMIZE = {32: "v5.5.0", 33: "v5.6.0", 34: "v5.7.1", 35: "v5.7.1", 36: "v5.7.1"}

CRICTL_BASE = "https://github.com/kubernetes-sigs/cri-tools/releases/download"
CRICTL_VERSIONS = ("1.33.0", "1.34.0", "1.35.0", "1.36.0")

CRI_DOCKERD_BASE = "https://github.com/Mirantis/cri-dockerd/releases/download"
CRI_DOCKERD_RELEASES = {"0.3.4": "e88b1605", "0.4.0": None, "0.4.3": None}  # 0.3.4's from GT §8.3

NSSM_URL = "https://nssm.cc/release/nssm-2.24.zip"
NSSM_VERSION = "2.24"
NSSM_BUILT = "2014-08-31"  # the 2.24 README's release date

MCR_INSTALLER_URL = "https://get.mirantis.com/install.ps1"
MCR_BASE = "https://repos.mirantis.com/win/static"
# (client commit, server commit, Go, client built, server built) — 20.10.9 from GT §8.2.
MCR_RELEASES = {
    "20.10.9": ("591094d", "9b96ce992b", "go1.16.12m2", "12/21/2021_21:34:30", "12/21/2021_21:33:06"),
    "24.0.7": ("4a5f2c8", "311b9ff", "go1.20.10", "Thu_Oct_26_09:08:44_2023", "Thu_Oct_26_09:07:41_2023"),
    "25.0.14": ("a91bd8c", "8d2c5a1", "go1.22.12", "Tue_Jul_22_10:12:05_2025", "Tue_Jul_22_10:11:01_2025"),
}
MCR_CHANNELS = {
    "stable": tuple(MCR_RELEASES),
    "stable-20.10": ("20.10.9",),
    "stable-24.0": ("24.0.7",),
    "stable-25.0": ("25.0.14",),
    # The pre-release channel (domain facts §6): two releases, so a pinned DOCKER_VERSION and the
    # channel's newest differ.
    "test": ("24.0.7", "25.0.14"),
}

_INSTALL_PS1_BODY = """<#
    Simulator fixture standing in for https://get.mirantis.com/install.ps1.
    The Windows host simulator recognises this file by the stamp above and emulates what the
    real installer does: it reads DOWNLOAD_URL, CHANNEL and DOCKER_VERSION from the environment,
    installs dockerd.exe/docker.exe, registers the docker service and enables the Containers
    feature, exiting 3010 when a reboot is required.
#>
[CmdletBinding()]
param(
    [string]$DockerVersion,
    [string]$ContainerDVersion,
    [switch]$Offline,
    [string]$OfflinePackagesPath,
    [switch]$NoServiceStarts,
    [switch]$EngineOnly,
    [switch]$Uninstall
)
throw "This fixture only runs inside the winkube Windows host simulator."
"""


def _containerd_archive(v: str) -> bytes:
    commit = CONTAINERD_REVISIONS.get(v) or _synthetic_commit(f"containerd v{v}")
    shim = HCSSHIM.get(_vkey(v)[:2], "0.11.7")
    go = CONTAINERD_GO[_vkey(v)[:2]]
    return targz(
        [
            ("bin/", None),
            ("bin/containerd-shim-runhcs-v1.exe", fake_binary("containerd-shim-runhcs-v1", shim)),
            ("bin/containerd-stress.exe", fake_binary("containerd-stress", v, commit=commit, go=go)),
            ("bin/containerd.exe", fake_binary("containerd", v, commit=commit, go=go)),
            ("bin/ctr.exe", fake_binary("ctr", v, commit=commit, go=go)),
        ]
    )


@functools.lru_cache(maxsize=1)
def kube_releases() -> dict[str, tuple[str | None, str, str]]:
    """The table above plus the collection's default Kubernetes version (knowledge base)."""
    releases = dict(KUBE_RELEASES)
    releases.setdefault(knowledge.default_kubernetes_version(), (None, "2026-09-16T16:41:27Z", "go1.26.6"))
    return releases


def kube_binary(component: str, v: str) -> bytes:
    commit, built, go = kube_releases()[v]
    fields = {
        "commit": commit or _synthetic_commit(f"kubernetes v{v}"),
        "build_date": built,
        "go": go,
    }
    if component == "kubectl":
        fields["kustomize"] = KUSTOMIZE[_vkey(v)[1]]
    return fake_binary(component, v, **fields)


def _mcr_zip(v: str) -> bytes:
    client, server, go, cbuilt, sbuilt = MCR_RELEASES[v]
    return zipped(
        [
            ("docker", None),
            ("docker/docker.exe", fake_binary("docker", v, commit=client, go=go, built=cbuilt)),
            ("docker/dockerd.exe", fake_binary("dockerd", v, commit=server, go=go, built=sbuilt)),
        ]
    )


def _sha256sum_file(url: str) -> bytes:
    """``sha256sum <file>`` output for a URL's content."""
    return f"{sha256(cached(url))}  {url.rsplit('/', 1)[-1]}\n".encode()


def _hex_file(url: str, algorithm: str) -> bytes:
    """A dl.k8s.io style checksum file: the hex digest and a newline."""
    return (hashlib.new(algorithm, cached(url)).hexdigest() + "\n").encode()


def _crictl_archive(v: str) -> bytes:
    return targz([("crictl.exe", fake_binary("crictl", v))])


def _cri_dockerd_zip(v: str, commit: str) -> bytes:
    exe = fake_binary("cri-dockerd", v, commit=commit)
    return zipped([("cri-dockerd", None), ("cri-dockerd/cri-dockerd.exe", exe)])


def _mcr_index(versions: tuple[str, ...]) -> bytes:
    # The simulator's stand-in for win/static/<channel>/index.json (its real schema is not in the
    # reference): the versions published on the channel.
    return (json.dumps({"versions": list(versions)}, indent=2) + "\n").encode()


def _installer() -> bytes:
    return stamped_text("mcr-install", "1.0.24", _INSTALL_PS1_BODY)


def _nssm_zip() -> bytes:
    top = f"nssm-{NSSM_VERSION}"
    return zipped(
        [
            (top, None),
            (f"{top}/win32", None),
            (f"{top}/win32/nssm.exe", fake_binary("nssm", NSSM_VERSION, arch="win32", built=NSSM_BUILT)),
            (f"{top}/win64", None),
            (f"{top}/win64/nssm.exe", fake_binary("nssm", NSSM_VERSION, arch="win64", built=NSSM_BUILT)),
        ]
    )


def _stable_marker(version: str) -> bytes:
    return f"v{version}\n".encode()


@functools.lru_cache(maxsize=1)
def default_builders() -> dict[str, Callable[[], bytes]]:
    """URL → builder for the default fixture set (cheap: nothing is built until asked for)."""
    b: dict[str, Callable[[], bytes]] = {}

    def with_sums(url: str, build: Callable[[], bytes], kind: str) -> None:
        b[url] = build
        if kind == "sha256sum":
            b[url + ".sha256sum"] = functools.partial(_sha256sum_file, url)
            return
        b[url + ".sha256"] = functools.partial(_hex_file, url, "sha256")
        if kind == "sha256+512":
            b[url + ".sha512"] = functools.partial(_hex_file, url, "sha512")

    for v in containerd_versions():
        url = f"{CONTAINERD_BASE}/v{v}/containerd-{v}-windows-amd64.tar.gz"
        with_sums(url, functools.partial(_containerd_archive, v), "sha256sum")
    for v in kube_releases():
        for comp in KUBE_COMPONENTS:
            build = functools.partial(kube_binary, comp, v)
            with_sums(f"{KUBE_BASE}/v{v}/bin/windows/amd64/{comp}.exe", build, "sha256+512")
            with_sums(f"{KUBE_BASE}/release/v{v}/bin/windows/amd64/{comp}.exe", build, "sha256+512")
    b[f"{KUBE_BASE}/release/stable.txt"] = functools.partial(_stable_marker, knowledge.default_kubernetes_version())
    for v in CRICTL_VERSIONS:
        url = f"{CRICTL_BASE}/v{v}/crictl-v{v}-windows-amd64.tar.gz"
        with_sums(url, functools.partial(_crictl_archive, v), "sha256")
    for v, commit in CRI_DOCKERD_RELEASES.items():
        c = commit or _synthetic_commit(f"cri-dockerd v{v}")[:8]
        b[f"{CRI_DOCKERD_BASE}/v{v}/cri-dockerd-{v}.win.amd64.zip"] = functools.partial(_cri_dockerd_zip, v, c)
    b[MCR_INSTALLER_URL] = _installer
    b[NSSM_URL] = _nssm_zip
    for channel, versions in MCR_CHANNELS.items():
        b[f"{MCR_BASE}/{channel}/index.json"] = functools.partial(_mcr_index, versions)
        for v in versions:
            b[f"{MCR_BASE}/{channel}/x86_64/docker-{v}.zip"] = functools.partial(_mcr_zip, v)
    return b


@functools.cache
def cached(url: str) -> bytes:
    """Default content of a URL, built once per process."""
    return default_builders()[url]()


# ------------------------------------------------------------------ the fixture set


class DownloadFixtures:
    """URL → content for one simulator (shared by its hosts), with fault injection."""

    def __init__(self, defaults: bool = True) -> None:
        self._defaults = defaults
        self._content: dict[str, bytes] = {}  # added or overridden URLs
        self._removed: set[str] = set()
        self._faults: dict[str, dict[str, Any]] = {}
        self._truncate: dict[str, int] = {}
        self.requests: dict[str, int] = {}
        self.images = ImageRegistry(seed=defaults)
        self._lock = threading.Lock()  # shared by every host's server thread

    # ---------------------------------------------------------- lookup

    def has(self, url: str) -> bool:
        if url in self._removed:
            return False
        return url in self._content or (self._defaults and url in default_builders())

    def urls(self) -> list[str]:
        known = set(self._content) | (set(default_builders()) if self._defaults else set())
        return sorted(known - self._removed)

    def content(self, url: str) -> bytes:
        """The body served for ``url`` now, without counting a request (KeyError when there is none)."""
        try:
            return self._body(url)
        except DownloadError:
            raise KeyError(f"no fixture for {url}") from None

    def _body(self, url: str) -> bytes:
        if url in self._content:
            return self._content[url]
        if url not in self._removed and self._defaults and url in default_builders():
            return cached(url)
        raise DownloadError(404, "Not Found", url)

    def response(self, url: str) -> Response:
        """The server's answer to GET: raises DownloadError for an error status."""
        with self._lock:
            self.requests[url] = self.requests.get(url, 0) + 1
            fault = self._faults.get(url)
            if fault is not None and fault["times"] is not None:
                fault["times"] -= 1
                if fault["times"] <= 0:
                    del self._faults[url]
        if fault is not None:
            raise DownloadError(fault["status"], fault["reason"], url)
        body = self._body(url)
        if url in self._truncate:
            return Response(200, body[: self._truncate[url]], len(body))
        return Response(200, body, len(body))

    def get(self, url: str) -> bytes:
        """The bytes a client receives (a truncated body is returned short; ``response`` tells)."""
        return self.response(url).body

    def head(self, url: str) -> Response:
        resp = self.response(url)
        return Response(resp.status, b"", resp.content_length, resp.last_modified)

    # ---------------------------------------------------------- changes for tests

    def add(self, url: str, content: bytes) -> None:
        self._content[url] = bytes(content)
        self._removed.discard(url)

    def override(self, url: str, content: bytes) -> None:
        """Replace the content of a URL that exists (a tampered artifact, say)."""
        if not self.has(url):
            raise KeyError(f"no fixture for {url}")
        self.add(url, content)

    def remove(self, url: str) -> None:
        self._content.pop(url, None)
        self._removed.add(url)

    def fail(self, url: str, status: int, reason: str | None = None, times: int | None = None) -> None:
        """Answer ``status`` for this URL (all requests, or only the next ``times``)."""
        phrase = reason or http.HTTPStatus(status).phrase
        self._faults[url] = {"status": status, "reason": phrase, "times": times}

    def truncate(self, url: str, nbytes: int) -> None:
        """Serve only the first ``nbytes`` while announcing the full Content-Length."""
        self._truncate[url] = nbytes

    def restore(self, url: str) -> None:
        """Serve a URL as the defaults do again: its added content, removal, faults and truncation go."""
        with self._lock:
            self._content.pop(url, None)
            self._removed.discard(url)
            self._faults.pop(url, None)
            self._truncate.pop(url, None)

    def clear_faults(self, url: str | None = None) -> None:
        if url is None:
            self._faults.clear()
            self._truncate.clear()
        else:
            self._faults.pop(url, None)
            self._truncate.pop(url, None)

    def configure(self, entries: list[dict[str, Any]]) -> None:
        """Apply the hosts file's ``downloads:`` entries in order (validated by ``config.py``): each has
        ``url`` and one of ``content`` (text to serve), ``content_from`` (serve what another URL serves
        now), ``status`` (+ optional ``times``: answer that HTTP status), ``truncate`` (serve only that many
        bytes) or ``absent: true`` (404). A ``content_from`` naming no fixture is a KeyError."""
        for entry in entries:
            url = entry["url"]
            if "content" in entry:
                self.add(url, entry["content"].encode("utf-8"))
            elif "content_from" in entry:
                self.add(url, self.content(entry["content_from"]))
            elif "status" in entry:
                self.fail(url, entry["status"], times=entry.get("times"))
            elif "truncate" in entry:
                self.truncate(url, entry["truncate"])
            elif entry.get("absent"):
                self.remove(url)
            else:
                raise KeyError(f"downloads entry for {url} says nothing to do")

    def state(self) -> dict[str, Any]:
        return {
            "urls": len(self.urls()),
            "added": sorted(self._content),
            "removed": sorted(self._removed),
            "faults": {u: dict(f) for u, f in sorted(self._faults.items())},
            "truncated": dict(sorted(self._truncate.items())),
            "requests": dict(sorted(self.requests.items())),
            "images": self.images.refs(),
        }
