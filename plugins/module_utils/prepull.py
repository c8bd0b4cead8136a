# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which images to pre-pull onto a node (``winkube_prepull_images``), decided before any pull.

Windows base images are gigabytes; pulling them during provisioning saves the first pod minutes.
An entry is an image reference. A Windows base image of ``mcr.microsoft.com/windows`` (servercore,
nanoserver, server, windows) given without a tag gets the tag of the node's build from the
knowledge base (``windows.WINDOWS_RELEASES``: ``ltsc2022`` on a WS2022 node). A known Windows tag
is checked against the host build with Microsoft's process-isolation rule (``images.image_compatible``)
and refused before anything is pulled when it cannot run there. Any other reference is pulled as
given; the runtime then picks the manifest for the host build or fails, and ``pull_failure``
explains that failure.
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Optional

from ansible_collections.winkube.node.plugins.module_utils import images as _images
from ansible_collections.winkube.node.plugins.module_utils import windows as _windows
from ansible_collections.winkube.node.plugins.module_utils.versions import Version, parse_version

# docker/distribution reference grammar, simplified to what a pull accepts: name[:tag][@digest].
_REFERENCE_RE = re.compile(
    r"^(?P<name>[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[0-9]+)?(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*)"
    r"(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?"
    r"(?:@(?P<digest>sha256:[0-9a-f]{64}))?$"
)
_NO_MATCH = ("no match for platform in manifest", "no matching manifest for windows")


def _parts(image: str) -> Optional[Dict[str, Optional[str]]]:
    m = _REFERENCE_RE.match(image)
    return None if m is None else m.groupdict()


def _base_repository(name: str) -> Optional[str]:
    """``servercore`` for ``mcr.microsoft.com/windows/servercore``; None for other repositories."""
    prefix = _windows.MCR_WINDOWS + "/"
    if name.startswith(prefix) and name[len(prefix) :] in _windows.IMAGE_REPOSITORIES:
        return name[len(prefix) :]
    if name == _windows.MCR_WINDOWS:
        return "windows"
    return None


def _default_tag(repository: str, release: _windows.WindowsRelease) -> Optional[str]:
    tags = release.image_tags_dict().get(repository)
    return tags[0] if tags else None


def _one(image: Any, host: _windows.WindowsVersion, containerd: Optional[Version]) -> Dict[str, Any]:
    """The pull for one entry, or ValueError saying why it cannot run on this host."""
    if not isinstance(image, str) or not image.strip():
        raise ValueError(f"{image!r} is not an image reference")
    parts = _parts(image.strip())
    if parts is None:
        raise ValueError(f"{image!r} is not an image reference (name[:tag][@sha256:digest], lower-case name)")
    name, tag, digest = str(parts["name"]), parts["tag"], parts["digest"]
    release = _windows.release_for_build(host.build)
    base = _base_repository(name)
    tag_from = "given"
    if tag is None and digest is None:
        if base is None:
            raise ValueError(f"{image}: give a tag (only Windows base images get the node's tag by default)")
        tag = _default_tag(base, release)
        if tag is None:
            raise ValueError(f"{image}: {release.name} has no {base} image (knowledge base: {release.source})")
        tag_from = f"the node's build ({release.name})"
    ref = name + (f":{tag}" if tag else "") + (f"@{digest}" if digest else "")
    image_build = _windows.IMAGE_TAG_BUILDS.get((tag or "").lower()) if base is not None else None
    if image_build is not None:
        check = _images.image_compatible(host.os_version, str(image_build), "process", containerd)
        if not check.compatible:
            raise ValueError(f"{ref} cannot run on this node: {check.reason}")
    return {"image": ref, "tag_from": tag_from, "image_build": image_build}


def prepull_check(images: Any, host_version: Any, containerd_version: Any = None) -> Dict[str, List[Any]]:
    """``pulls``: every image to pre-pull, in order, without duplicates; ``refused``: why each other entry
    cannot be pulled onto this host. A value that is not a list at all is a ValueError."""
    if images is None:
        return {"pulls": [], "refused": []}
    if isinstance(images, (str, bytes)) or not isinstance(images, (list, tuple)):
        raise ValueError(f"winkube_prepull_images must be a list of image references, got {type(images).__name__}")
    host = _windows.parse_windows_version(host_version, "host version")
    containerd = None if containerd_version in (None, "") else parse_version(containerd_version, "containerd version")
    pulls: List[Dict[str, Any]] = []
    refused: List[str] = []
    for entry in images:
        try:
            pull = _one(entry, host, containerd)
        except ValueError as exc:
            refused.append(str(exc))
            continue
        if pull["image"] not in [p["image"] for p in pulls]:
            pulls.append(pull)
    return {"pulls": pulls, "refused": refused}


def prepull_plan(images: Any, host_version: Any, containerd_version: Any = None) -> List[Dict[str, Any]]:
    """The images to pre-pull; one ValueError listing every refused entry."""
    checked = prepull_check(images, host_version, containerd_version)
    if checked["refused"]:
        raise ValueError("refused before pulling anything: " + "; ".join(checked["refused"]))
    return checked["pulls"]


def pull_failure(image: str, output: str, host_version: Any) -> str:
    """A clear message for a failed pull: a missing manifest for the build is named as such."""
    host = _windows.parse_windows_version(host_version, "host version")
    text = " ".join(str(output or "").split())
    if any(marker in text.lower() for marker in _NO_MATCH):
        release = _windows.release_for_build(host.build)
        return (
            f"{image} has no manifest for this node's Windows build {host.build} ({release.name}): the image was not "
            f"built for it; use a tag built for {release.version_tag}, or leave the tag out for a Windows base image "
            f"(the runtime said: {text})"
        )
    return f"pulling {image} failed: {text or 'no output'}"
