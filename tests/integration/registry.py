# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A real OCI registry for tests: Debian's ``docker-registry`` (the CNCF distribution registry) on
127.0.0.1, and a small client that publishes blobs, manifests and indexes to it over HTTP.

Nothing here talks to any other host. ``REGISTRY_BINARY`` missing means the tests skip, saying so.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

REGISTRY_BINARY = Path("/usr/bin/docker-registry")
SKIP_REASON = (
    "Debian's docker-registry is not installed (/usr/bin/docker-registry); `apt-get install -y docker-registry` "
    "(make setup) provides the real registry these tests publish to"
)

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass
class Registry:
    """A running docker-registry; ``host`` is ``127.0.0.1:<port>``."""

    process: subprocess.Popen
    host: str
    root: Path

    @classmethod
    def start(cls, root: Path) -> Registry:
        port = free_port()
        root.mkdir(parents=True, exist_ok=True)
        config = root / "config.yml"
        config.write_text(
            "version: 0.1\nlog:\n  level: error\n"
            f"storage:\n  filesystem:\n    rootdirectory: {root / 'data'}\n"
            f"http:\n  addr: 127.0.0.1:{port}\n"
        )
        log = (root / "registry.log").open("wb")
        process = subprocess.Popen([str(REGISTRY_BINARY), "serve", str(config)], stdout=log, stderr=subprocess.STDOUT)
        registry = cls(process, f"127.0.0.1:{port}", root)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(
                    f"docker-registry exited with {process.returncode}: {(root / 'registry.log').read_text()}"
                )
            try:
                with urllib.request.urlopen(f"http://{registry.host}/v2/", timeout=2) as response:
                    if response.status == 200:
                        return registry
            except (urllib.error.URLError, OSError):
                time.sleep(0.1)
        registry.stop()
        raise RuntimeError("docker-registry did not answer on /v2/ within 15 s")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def _request(self, method: str, url: str, data: bytes, headers: Dict[str, str]) -> Any:
        request = urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310
        # A direct connection: the test registry is local, whatever proxy the environment names.
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        return opener.open(request, timeout=30)

    def push_blob(self, repository: str, data: bytes) -> Dict[str, Any]:
        """Upload ``data`` monolithically (POST then PUT ?digest=); returns digest and size."""
        digest = digest_of(data)
        base = f"http://{self.host}"
        with self._request("POST", f"{base}/v2/{repository}/blobs/uploads/", b"", {"Content-Length": "0"}) as answer:
            location = answer.headers["Location"]
        url = urllib.parse.urljoin(base, location)
        url += ("&" if "?" in url else "?") + urllib.parse.urlencode({"digest": digest})
        headers = {"Content-Type": "application/octet-stream", "Content-Length": str(len(data))}
        with self._request("PUT", url, data, headers) as answer:
            if answer.status != 201:
                raise RuntimeError(f"blob upload answered {answer.status}")
        return {"digest": digest, "size": len(data)}

    def push_manifest(self, repository: str, reference: str, document: Dict[str, Any]) -> Dict[str, Any]:
        """PUT a manifest or index under a tag (or its digest); returns the descriptor the registry stored."""
        body = json.dumps(document, indent=2).encode()
        media_type = document["mediaType"]
        url = f"http://{self.host}/v2/{repository}/manifests/{reference}"
        with self._request("PUT", url, body, {"Content-Type": media_type}) as answer:
            stored = answer.headers.get("Docker-Content-Digest")
        digest = digest_of(body)
        if stored != digest:
            raise RuntimeError(f"the registry stored {stored}, expected {digest}")
        return {"mediaType": media_type, "digest": digest, "size": len(body)}

    def push_image(
        self,
        repository: str,
        layers: Sequence[bytes],
        os_version: str,
        docker_types: bool = False,
        tag: Optional[str] = None,
    ) -> Dict[str, Any]:
        """A Windows/amd64 image: config and gzip layers (base first), its manifest (by digest, or ``tag``)."""
        layer_type = DOCKER_LAYER_GZIP if docker_types else OCI_LAYER_GZIP
        descriptors: List[Dict[str, Any]] = []
        diff_ids = []
        for layer in layers:
            descriptors.append({"mediaType": layer_type, **self.push_blob(repository, layer)})
            diff_ids.append(digest_of(gzip.decompress(layer)))
        config = {
            "architecture": "amd64",
            "os": "windows",
            "os.version": os_version,
            "config": {"Entrypoint": ["/pause.exe"]},
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
        }
        config_blob = self.push_blob(repository, json.dumps(config).encode())
        manifest = {
            "schemaVersion": 2,
            "mediaType": DOCKER_MANIFEST if docker_types else OCI_MANIFEST,
            "config": {"mediaType": DOCKER_CONFIG if docker_types else OCI_CONFIG, **config_blob},
            "layers": descriptors,
        }
        body = json.dumps(manifest, indent=2).encode()
        descriptor = self.push_manifest(repository, tag or digest_of(body), manifest)
        descriptor["platform"] = {"architecture": "amd64", "os": "windows", "os.version": os_version}
        return descriptor

    def push_index(
        self, repository: str, tag: str, manifests: Sequence[Dict[str, Any]], docker_types: bool = False
    ) -> str:
        """An index (OCI, or a Docker manifest list) of ``manifests`` under ``tag``; returns its digest."""
        document = {
            "schemaVersion": 2,
            "mediaType": DOCKER_LIST if docker_types else OCI_INDEX,
            "manifests": list(manifests),
        }
        return self.push_manifest(repository, tag, document)["digest"]
