"""The simulated image registries: image reference → OCI index (one entry per platform, with
``os.version`` for Windows manifests). ``ctr``/``crictl`` pulls resolve here; nothing goes on the
network. Digests are real sha256 of the JSON documents built here, so they are stable and distinct.

Seeded with the images the collection deals with (domain facts §1b, §5b, §5c):

* ``registry.k8s.io/pause`` 3.6, 3.8, 3.9, 3.10, 3.10.1, 3.10.2 — Windows variants from the
  knowledge base (``plugins/module_utils/pause.py``), plus the usual Linux platforms. For 3.10.2
  the knowledge base asserts only ltsc2025; ltsc2022 is added because SIG-Windows CI says 3.10.2
  "is backward-compatible with 2022" (domain facts §2c), 1809 is left out (UNCONFIRMED).
* ``mcr.microsoft.com/oss/kubernetes/pause`` 3.6 and 3.9 — 1809 (17763) and ltsc2022 (20348).
* ``mcr.microsoft.com/windows/servercore`` and ``nanoserver`` — 1809/ltsc2019, ltsc2022, ltsc2025.

Revision numbers (the 4th ``os.version`` field) and sizes are plausible, not copied from the real
registries; tests that care add their own entries with ``add``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Any

INDEX_DOCKER = "application/vnd.docker.distribution.manifest.list.v2+json"
INDEX_OCI = "application/vnd.oci.image.index.v1+json"
MANIFEST_DOCKER = "application/vnd.docker.distribution.manifest.v2+json"
MANIFEST_OCI = "application/vnd.oci.image.manifest.v1+json"

# Windows variant name → build, as the pause manifest lists name them.
VARIANT_BUILDS = {
    "1809": 17763,
    "ltsc2019": 17763,
    "1903": 18362,
    "1909": 18363,
    "2004": 19041,
    "20H2": 19042,
    "ltsc2022": 20348,
    "ltsc2025": 26100,
}
LINUX_PLATFORMS = (("amd64", ""), ("arm", "v7"), ("arm64", ""), ("ppc64le", ""), ("s390x", ""))


def _digest(doc: Any) -> tuple[str, int]:
    raw = json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()
    return "sha256:" + hashlib.sha256(raw).hexdigest(), len(raw)


@dataclasses.dataclass
class Manifest:
    """One platform's image manifest inside an index."""

    os: str
    architecture: str
    os_version: str = ""
    variant: str = ""
    size: int = 0  # content size of config + layers, what ``ctr images ls`` sums up
    digest: str = ""
    config_digest: str = ""  # the image ID (crictl's IMAGE ID column)
    manifest_size: int = 0
    layers: list[str] = dataclasses.field(default_factory=list)

    @property
    def platform(self) -> str:
        return "/".join(p for p in (self.os, self.architecture, self.variant) if p)

    def descriptor_platform(self) -> dict[str, str]:
        p = {"os": self.os, "architecture": self.architecture}
        if self.os_version:
            p["os.version"] = self.os_version
        if self.variant:
            p["variant"] = self.variant
        return p


@dataclasses.dataclass
class ImageIndex:
    ref: str
    media_type: str
    manifests: list[Manifest]
    digest: str = ""

    def oci_manifests(self) -> list[dict[str, Any]]:
        """The index's ``manifests`` array as the registry serves it (what the matcher reads)."""
        kind = MANIFEST_DOCKER if self.media_type == INDEX_DOCKER else MANIFEST_OCI
        return [
            {"mediaType": kind, "digest": m.digest, "size": m.manifest_size, "platform": m.descriptor_platform()}
            for m in self.manifests
        ]

    def platforms(self) -> list[str]:
        return sorted({m.platform for m in self.manifests})

    def by_digest(self, digest: str) -> Manifest | None:
        return next((m for m in self.manifests if m.digest == digest), None)


class ImageRegistry:
    """All registries the simulated hosts can pull from, keyed by full reference (``host/repo:tag``)."""

    def __init__(self, seed: bool = True) -> None:
        self._images: dict[str, ImageIndex] = {}
        self.failures: dict[str, str] = {}  # ref → error text the registry gives (e.g. access denied)
        if seed:
            seed_defaults(self)

    def add(
        self,
        ref: str,
        platforms: list[dict[str, Any]],
        media_type: str = INDEX_DOCKER,
    ) -> ImageIndex:
        """Add (or replace) an image. Each platform: ``os``, ``architecture`` and optional
        ``os_version``, ``variant``, ``size``. Digests are computed from the generated documents."""
        manifests = []
        for p in platforms:
            m = Manifest(
                os=p["os"],
                architecture=p["architecture"],
                os_version=p.get("os_version", ""),
                variant=p.get("variant", ""),
                size=int(p.get("size", 0)),
            )
            config = {"architecture": m.architecture, "os": m.os, "os.version": m.os_version, "image": ref}
            m.config_digest, config_size = _digest(config)
            layer_count = 2 if m.os == "windows" else 1
            m.layers = [_digest({"layer": i, "of": m.config_digest})[0] for i in range(layer_count)]
            doc = {
                "schemaVersion": 2,
                "config": {"digest": m.config_digest, "size": config_size},
                "layers": [{"digest": d} for d in m.layers],
            }
            m.digest, m.manifest_size = _digest(doc)
            if not m.size:
                m.size = 300_000 if m.os == "linux" else 120_000_000
            manifests.append(m)
        index = ImageIndex(ref=ref, media_type=media_type, manifests=manifests)
        index.digest = _digest({"mediaType": media_type, "manifests": index.oci_manifests()})[0]
        self._images[ref] = index
        return index

    def remove(self, ref: str) -> None:
        self._images.pop(ref, None)

    def refs(self) -> list[str]:
        return sorted(self._images)

    def resolve(self, ref: str) -> ImageIndex | None:
        """The index for ``repo:tag`` or ``repo@sha256:...`` (None: the registry says not found)."""
        if "@" in ref:
            name, digest = ref.split("@", 1)
            for index in self._images.values():
                if index.ref.rsplit(":", 1)[0] == name and index.digest == digest:
                    return index
            return None
        return self._images.get(ref)

    def state(self) -> dict[str, Any]:
        return {
            ref: {
                "digest": i.digest,
                "media_type": i.media_type,
                "manifests": [dataclasses.asdict(m) for m in i.manifests],
            }
            for ref, i in sorted(self._images.items())
        }


def _windows(variant: str, revision: int, size: int) -> dict[str, Any]:
    return {
        "os": "windows",
        "architecture": "amd64",
        "os_version": f"10.0.{VARIANT_BUILDS[variant]}.{revision}",
        "size": size,
    }


def _linux() -> list[dict[str, Any]]:
    return [{"os": "linux", "architecture": a, "variant": v, "size": 301_775} for a, v in LINUX_PLATFORMS]


# Plausible revisions per pause tag (release-date order), per build.
_PAUSE_REVISIONS = {
    "3.6": {17763: 2114, 18362: 1256, 18363: 1556, 19041: 1165, 19042: 1165, 20348: 169},
    "3.8": {17763: 3287, 19042: 1889, 20348: 887},
    "3.9": {17763: 4377, 19042: 2846, 20348: 1726},
    "3.10": {17763: 5576, 20348: 2402},
    "3.10.1": {17763: 7009, 20348: 3207},
    "3.10.2": {20348: 4052, 26100: 4061},
}


def _pause_variants(tag: str) -> tuple[str, ...]:
    from tests.simulator.executables import knowledge

    if tag == "3.10.2":
        return ("ltsc2022", "ltsc2025")  # see the module docstring
    return tuple(knowledge.module("pause").pause_windows_variants(tag).windows)


def seed_defaults(reg: ImageRegistry) -> None:
    for tag, revisions in _PAUSE_REVISIONS.items():
        wins = [
            _windows(v, revisions[VARIANT_BUILDS[v]], 104_000_000 + VARIANT_BUILDS[v]) for v in _pause_variants(tag)
        ]
        reg.add(f"registry.k8s.io/pause:{tag}", _linux() + wins)
    reg.add(
        "mcr.microsoft.com/oss/kubernetes/pause:3.6",
        [
            {"os": "linux", "architecture": "amd64", "size": 301_775},
            _windows("1809", 2300, 105_112_000),
            _windows("ltsc2022", 350, 117_300_000),
        ],
    )
    reg.add(
        "mcr.microsoft.com/oss/kubernetes/pause:3.9",
        [
            {"os": "linux", "architecture": "amd64", "size": 311_000},
            _windows("1809", 4377, 106_000_000),
            _windows("ltsc2022", 1726, 118_400_000),
        ],
    )
    for tag, variant, revision, size in (
        ("ltsc2019", "ltsc2019", 6414, 2_700_000_000),
        ("1809", "1809", 6414, 2_700_000_000),
        ("ltsc2022", "ltsc2022", 2527, 1_450_000_000),
        ("ltsc2025", "ltsc2025", 4349, 1_980_000_000),
    ):
        reg.add(f"mcr.microsoft.com/windows/servercore:{tag}", [_windows(variant, revision, size)])
        reg.add(f"mcr.microsoft.com/windows/nanoserver:{tag}", [_windows(variant, revision, size // 20)])
