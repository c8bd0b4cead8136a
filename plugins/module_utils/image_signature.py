# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check an image's Windows executable for an Authenticode signature, as the host build would pull it.

``check_image`` composes the pieces: resolve the reference (``oci``), select the manifest the host build
runs (``select_entry``, containerd's matcher from ``images``), fetch its layers and find the executable
(``oci.find_file``), verify it (``authenticode``). The action plugin ``winkube.node.image_signature``
is a thin wrapper around it.

The pinned reference: ``repo:tag@<index digest>`` when the image is an index (every node, of every build,
then pulls the same immutable index and selects from it the manifest whose layers were verified for its
build), ``repo:tag@<manifest digest>`` when the reference names a single manifest.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Sequence

from ansible_collections.winkube.node.plugins.module_utils import authenticode as _authenticode
from ansible_collections.winkube.node.plugins.module_utils import images as _images
from ansible_collections.winkube.node.plugins.module_utils import oci as _oci
from ansible_collections.winkube.node.plugins.module_utils.authenticode_roots import load_roots
from ansible_collections.winkube.node.plugins.module_utils.versions import parse_version
from ansible_collections.winkube.node.plugins.module_utils.windows import parse_windows_version

# ENTRYPOINT of the Kubernetes pause image for Windows, which Microsoft's signed image is built from
# (kubernetes/kubernetes build/pause/Dockerfile_windows: ``ADD bin/pause-windows-${ARCH}.exe /pause.exe``).
DEFAULT_EXECUTABLE = "/pause.exe"
ARCHITECTURE = "amd64"


class SelectionError(ValueError):
    """No manifest (or more than one, undecidably) fits the host build."""


@dataclass(frozen=True)
class Request:
    image: str
    windows_build: Any
    containerd_version: Optional[str]
    executable: str
    trusted_roots: Sequence[Any]  # cryptography x509.Certificate
    transport: _oci.Transport
    mirrors: Mapping[str, Sequence[str]]


def _os_versions(entries: Sequence[Mapping[str, Any]]) -> str:
    listed = []
    for entry in entries:
        platform = entry.get("platform") or {}
        if str(platform.get("os", "")).lower() == "windows":
            listed.append(f"{platform.get('os.version') or '(none)'} ({platform.get('architecture')})")
    return ", ".join(listed) if listed else "none (the index has no Windows manifest)"


def select_entry(entries: Sequence[Mapping[str, Any]], windows_build: Any, containerd_version: Any) -> Dict[str, Any]:
    """The index entry the host pulls.

    With ``containerd_version``: containerd's own matcher for that release (``images.select_manifest``).
    Without (Mirantis Container Runtime, whose engine's matcher is not modelled): Microsoft's process
    isolation rule decides, and more than one fitting manifest is refused instead of guessed.
    """
    host = parse_windows_version(windows_build, "windows_build")
    if containerd_version is not None:
        version = parse_version(containerd_version, "containerd_version", True)
        chosen = _images.select_manifest(host.os_version, list(entries), version, ARCHITECTURE)
        if chosen is None:
            raise SelectionError(
                f"no manifest of the index runs on Windows build {host.build} with containerd {version} "
                f"(windows/{ARCHITECTURE}); the index has os.version {_os_versions(entries)}"
            )
        return dict(chosen)
    fitting = []
    for entry in entries:
        platform = entry.get("platform") or {}
        if str(platform.get("os", "")).lower() != "windows" or platform.get("architecture") != ARCHITECTURE:
            continue
        os_version = platform.get("os.version")
        if not os_version:
            fitting.append(entry)
            continue
        try:
            compatible = _images.image_compatible(host.os_version, os_version, "process").compatible
        except ValueError:
            compatible = False
        if compatible:
            fitting.append(entry)
    if not fitting:
        raise SelectionError(
            f"no manifest of the index runs on Windows build {host.build} with process isolation "
            f"(windows/{ARCHITECTURE}); the index has os.version {_os_versions(entries)}"
        )
    if len({e["digest"] for e in fitting}) > 1:
        raise SelectionError(
            f"several manifests fit Windows build {host.build} ({_os_versions(fitting)}) and the runtime's choice "
            "among them is only modelled for containerd; give containerd_version"
        )
    return dict(fitting[0])


def _entry_for_manifest(config: Mapping[str, Any], digest: str) -> Dict[str, Any]:
    """An index-like entry for a reference that names one manifest, from its image config."""
    platform = {"os": config.get("os", ""), "architecture": config.get("architecture", "")}
    if config.get("os.version"):
        platform["os.version"] = config["os.version"]
    return {"digest": digest, "platform": platform}


def _config(client: _oci.RegistryClient, manifest: _oci.Manifest) -> Dict[str, Any]:
    sink = io.BytesIO()
    size = manifest.config.get("size")
    if isinstance(size, int) and size > _oci.MAX_MANIFEST_BYTES:
        raise _oci.RegistryError(f"the image config is {size} bytes, more than 4 MiB")
    client.blob(str(manifest.config.get("digest", "")), size if isinstance(size, int) else None, sink)
    try:
        document = json.loads(sink.getvalue())
    except ValueError:
        raise _oci.RegistryError("the image config is not JSON") from None
    if not isinstance(document, dict):
        raise _oci.RegistryError("the image config is not a JSON object")
    return document


def check_image(request: Request) -> Dict[str, Any]:
    """The module result (without ``failed``); raises ValueError/RegistryError/SelectionError with the reason."""
    reference = _oci.parse_reference(request.image)
    target = _oci.windows_path(request.executable)
    client = _oci.RegistryClient(reference, request.transport, request.mirrors)
    body, media_type, top_digest = client.manifest(reference.object)
    index_digest: Optional[str] = None
    if media_type in _oci.INDEX_TYPES:
        index_digest = top_digest
        entries = _oci.parse_index(body, media_type)
        entry = select_entry(entries, request.windows_build, request.containerd_version)
        manifest_digest = entry["digest"]
        body, media_type, _digest = client.manifest(manifest_digest)
        if media_type not in _oci.MANIFEST_TYPES:
            raise _oci.RegistryError(f"index entry {manifest_digest} is a {media_type or 'document'}, not a manifest")
        manifest = _oci.parse_manifest(body, media_type)
        os_version = (entry.get("platform") or {}).get("os.version") or ""
    elif media_type in _oci.MANIFEST_TYPES:
        manifest_digest = top_digest
        manifest = _oci.parse_manifest(body, media_type)
        config = _config(client, manifest)
        entry = select_entry(
            [_entry_for_manifest(config, top_digest)], request.windows_build, request.containerd_version
        )
        os_version = (entry.get("platform") or {}).get("os.version") or ""
    else:
        raise _oci.RegistryError(
            f"{reference} is a {media_type or 'document without a media type'}, not an image index or manifest"
        )
    data, layer_digest = _oci.find_file(client, manifest, target)
    verdict = _authenticode.verify_pe(data, request.trusted_roots)
    executable = f"{request.executable} (sha256:{hashlib.sha256(data).hexdigest()}, layer {layer_digest})"
    return {
        "changed": False,
        "index_digest": index_digest,
        "manifest_digest": manifest_digest,
        "os_version": os_version,
        "pinned_image": reference.pinned(index_digest or manifest_digest),
        "signed": verdict.signed,
        "status": verdict.status,
        "signer": verdict.signer,
        "msg": f"{reference} for Windows build {_build(request.windows_build)}: {executable} is {verdict.status}: "
        f"{verdict.reason}",
    }


def _build(value: Any) -> int:
    return parse_windows_version(value, "windows_build").build


def trusted_roots(bundle_path: Optional[str]) -> List[Any]:
    """The roots from ``trusted_ca_bundle``, or Microsoft's shipped roots when it is not given."""
    if bundle_path is None:
        return list(load_roots())
    if not os.path.isfile(bundle_path):
        raise ValueError(f"trusted_ca_bundle {bundle_path} is not a file")
    with open(bundle_path, "rb") as handle:
        return list(_authenticode.parse_pem_bundle(handle.read(), f"trusted_ca_bundle {bundle_path}"))
