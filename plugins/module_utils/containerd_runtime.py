# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading what a running containerd says through ``ctr.exe``, and the pause-image source rule.

Pure functions over the text ``ctr`` prints (windows-ground-truth section 4, containerd's
cmd/ctr sources), so the role's decisions (is the daemon up and which release is it, is the pause
image present and what is its digest) are made in Python and unit-tested, not in Jinja.

Abbreviations: CD = containerd/containerd, GT = windows-ground-truth.md, KW = kubernetes/website.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Dict, List, Optional

from ansible_collections.winkube.node.plugins.module_utils.pause import MICROSOFT_PAUSE_REPOSITORY

_DIGEST_RE = re.compile(r"^sha256:[0-9a-f]{64}$")
# What ``ctr images ls`` prints first (CD cmd/ctr/commands/images/images.go; GT 4.4).
CTR_LS_COLUMNS = ("REF", "TYPE", "DIGEST", "SIZE", "PLATFORMS", "LABELS")


@dataclass(frozen=True)
class CtrImage:
    """One row of ``ctr images ls``."""

    ref: str
    media_type: str
    digest: str
    size: str
    platforms: List[str]
    labels: Dict[str, str]


def _column_starts(header: str) -> List[int]:
    """Where each column begins: tabwriter pads every cell of a column to the same width, so the
    header's words mark the columns (SIZE cells hold a blank, "294.7 KiB", so splitting on blanks
    would not do)."""
    starts = []
    position = 0
    for name in CTR_LS_COLUMNS:
        found = re.search(rf"(?:^|(?<= )){name}(?= |$)", header[position:])
        if found is None:
            raise ValueError(f"ctr images ls header {header.strip()!r} has no {name} column")
        starts.append(position + found.start())
        position += found.end()
    return starts


def parse_ctr_images(text: str) -> List[CtrImage]:
    """The rows of ``ctr images ls`` (not ``-q``). An empty namespace prints just the header."""
    if not isinstance(text, str):
        raise ValueError(f"ctr images ls output must be text, got {type(text).__name__}")
    lines = [line.rstrip("\r") for line in text.splitlines() if line.strip()]
    if not lines:
        raise ValueError("ctr images ls printed nothing; it always prints at least its header line")
    starts = _column_starts(lines[0])
    images = []
    for line in lines[1:]:
        ends = [*starts[1:], len(line)]
        cells = [line[starts[i] : ends[i]].strip() for i in range(len(starts))]
        ref, media_type, digest, size, platforms, labels = cells
        if not ref or not _DIGEST_RE.match(digest):
            raise ValueError(f"ctr images ls row {line.strip()!r} does not have a reference and a sha256 digest")
        parsed_labels: Dict[str, str] = {}
        if labels and labels != "-":
            for item in labels.split(","):
                key, _sep, value = item.partition("=")
                parsed_labels[key] = value
        images.append(CtrImage(ref, media_type, digest, size, [p for p in platforms.split(",") if p], parsed_labels))
    return images


def find_image(text: str, ref: str) -> Optional[CtrImage]:
    """The row of ``ref`` in ``ctr images ls`` output, or None when the image is not in the namespace."""
    for image in parse_ctr_images(text):
        if image.ref == ref:
            return image
    return None


@dataclass(frozen=True)
class CtrVersion:
    """``ctr version``: the client's release and, when the daemon answered, the server's."""

    client_version: str
    client_revision: str
    server_version: Optional[str]
    server_revision: Optional[str]
    server_uuid: Optional[str]


def _fields(block: List[str]) -> Dict[str, str]:
    out: Dict[str, str] = {}
    for line in block:
        key, colon, value = line.strip().partition(":")
        if colon:
            out[key.strip()] = value.strip()
    return out


def parse_ctr_version(text: str) -> CtrVersion:
    """``ctr version`` output (CD cmd/ctr/commands/version/version.go): a ``Client:`` block, a blank
    line, then ``Server:`` with Version, Revision and UUID once the daemon answered on its pipe."""
    if not isinstance(text, str) or "Client:" not in text:
        raise ValueError("ctr version output has no Client: block")
    client_part, has_server, server_part = text.partition("Server:")
    client = _fields(client_part.split("Client:", 1)[1].splitlines())
    if "Version" not in client:
        raise ValueError("ctr version output has no client Version line")
    server = _fields(server_part.splitlines()) if has_server else {}
    return CtrVersion(
        client_version=client["Version"],
        client_revision=client.get("Revision", ""),
        server_version=server.get("Version"),
        server_revision=server.get("Revision"),
        server_uuid=server.get("UUID"),
    )


def release_of(printed: str) -> str:
    """The X.Y.Z of a version as containerd prints it: ``v1.7.20``, ``1.7.27``, ``v1.7.9+azure``."""
    match = re.match(r"^v?(\d+\.\d+\.\d+)(?:[+-].*)?$", printed.strip())
    if match is None:
        raise ValueError(f"{printed!r} is not a containerd release version")
    return match.group(1)


# ---------------------------------------------------------------------------------------------
# the pause image's source


@dataclass(frozen=True)
class PauseSource:
    ok: bool
    reason: str


def repository_of(image: str) -> str:
    """``registry/path`` of an image reference, without its tag or digest."""
    name = image.split("@", 1)[0]
    head, slash, last = name.rpartition("/")
    if ":" in last:
        last = last.split(":", 1)[0]
    return f"{head}{slash}{last}"


def check_pause_source(image: str, profile: str, source: str) -> PauseSource:
    """The ``production`` profile takes Microsoft's Authenticode-signed pause image
    (``mcr.microsoft.com/oss/kubernetes/pause``, KW concepts/windows/intro.md) unless the user chose
    another one explicitly (``pause_image_source == 'override'``, from ``winkube_pause_image``)."""
    if not isinstance(image, str) or not image.strip():
        raise ValueError(f"pause image {image!r} is not an image reference")
    if profile not in ("production", "upstream"):
        raise ValueError(f"unknown pause image profile {profile!r}; accepted: production, upstream")
    if source not in ("profile", "override"):
        raise ValueError(f"unknown pause image source {source!r}; accepted: profile, override")
    if source == "override":
        return PauseSource(True, f"{image} was chosen explicitly (winkube_pause_image)")
    if profile == "upstream":
        return PauseSource(True, f"{image} is the upstream profile's image")
    if repository_of(image.strip()) == MICROSOFT_PAUSE_REPOSITORY:
        return PauseSource(True, f"{image} is Microsoft's signed pause image")
    return PauseSource(
        False,
        f"the production profile needs the Microsoft-signed pause image from {MICROSOFT_PAUSE_REPOSITORY} "
        "(its Windows binaries are Authenticode-signed; Kubernetes docs, concepts/windows/intro.md, Pause container), "
        f"but the plan has {image}; set winkube_pause_image to use another image on purpose, "
        "or winkube_pause_image_profile=upstream",
    )
