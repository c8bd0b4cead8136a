# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading ``ctr images ls`` and ``ctr version``, and the pause-image source rule.

The ``ctr images ls`` samples are the verbatim rows of windows-ground-truth 4.4 (containerd PR #6491
and a CRI-pulled pause image), laid out by Go's tabwriter as ctr prints them."""

from __future__ import annotations

from typing import List

import pytest
from ansible_collections.winkube.node.plugins.module_utils import containerd_runtime as rt

PAUSE_DIGEST = "sha256:3d380ca8864549e74af4b29c10f9cb0956236dfb01c40ca076fb6c37253234db"
SERVERCORE_DIGEST = "sha256:7d370baf7e097a20bdd52d5a214fcad25f83caccca049cced5d5eb64d659c45e"
MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"


def tabwriter(rows: List[List[str]]) -> str:
    """ctr's tabwriter (minwidth 1, padding 1, every cell tab-terminated, so rows end in a blank)."""
    widths = [max(len(r[c]) for r in rows) + 1 for c in range(len(rows[0]))]
    return "".join("".join(cell.ljust(widths[c]) for c, cell in enumerate(r)) + "\n" for r in rows)


HEADER = ["REF", "TYPE", "DIGEST", "SIZE", "PLATFORMS", "LABELS"]
PLATFORMS = "linux/amd64,linux/arm/v7,linux/arm64,linux/ppc64le,linux/s390x,windows/amd64"
LABELS = "io.cri-containerd.image=managed,io.cri-containerd.pinned=pinned"
LISTING = tabwriter(
    [
        HEADER,
        [
            "mcr.microsoft.com/windows/servercore:10.0.17763.2458",
            MANIFEST_LIST,
            SERVERCORE_DIGEST,
            "480.0 B",
            "windows/amd64",
            "-",
        ],
        ["registry.k8s.io/pause:3.6", MANIFEST_LIST, PAUSE_DIGEST, "294.7 KiB", PLATFORMS, LABELS],
        [f"registry.k8s.io/pause@{PAUSE_DIGEST}", MANIFEST_LIST, PAUSE_DIGEST, "294.7 KiB", PLATFORMS, LABELS],
    ]
)


def test_rows_of_ctr_images_ls() -> None:
    images = rt.parse_ctr_images(LISTING)
    assert [i.ref for i in images] == [
        "mcr.microsoft.com/windows/servercore:10.0.17763.2458",
        "registry.k8s.io/pause:3.6",
        f"registry.k8s.io/pause@{PAUSE_DIGEST}",
    ]
    servercore, pause, _digest_ref = images
    assert (servercore.digest, servercore.size, servercore.platforms, servercore.labels) == (
        SERVERCORE_DIGEST,
        "480.0 B",
        ["windows/amd64"],
        {},
    )
    assert pause.media_type == MANIFEST_LIST
    assert pause.size == "294.7 KiB"  # the blank inside SIZE does not shift the columns
    assert pause.platforms[-1] == "windows/amd64" and len(pause.platforms) == 6
    assert pause.labels == {"io.cri-containerd.image": "managed", "io.cri-containerd.pinned": "pinned"}


def test_find_image() -> None:
    assert rt.find_image(LISTING, "registry.k8s.io/pause:3.6").digest == PAUSE_DIGEST
    assert rt.find_image(LISTING, "registry.k8s.io/pause:3.9") is None
    assert rt.find_image(LISTING, "registry.k8s.io/pause") is None  # refs match exactly


def test_an_empty_namespace_prints_only_the_header() -> None:
    assert rt.parse_ctr_images(tabwriter([HEADER])) == []
    assert rt.parse_ctr_images(tabwriter([HEADER]).replace("\n", "\r\n")) == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "printed nothing"),
        ("registry.k8s.io/pause:3.6\n", "has no REF column"),
        ("REF TYPE DIGEST SIZE PLATFORMS\n", "has no LABELS column"),
        (tabwriter([HEADER, ["x", "t", "md5:abc", "1 B", "windows/amd64", "-"]]), "does not have a reference"),
        (None, "must be text"),
    ],
)
def test_listings_that_are_not_ctr_images_ls(text: object, message: str) -> None:
    with pytest.raises(ValueError) as err:
        rt.parse_ctr_images(text)  # type: ignore[arg-type]
    assert message in str(err.value)


# --- ctr version ---------------------------------------------------------------------------------

CLIENT = (
    "Client:\n  Version:  v1.7.20\n  Revision: 8fc6bcff51318944179630522a095cc9dbf9f353\n  Go version: go1.22.5\n\n"
)
SERVER = (
    "Server:\n"
    "  Version:  v1.7.20\n"
    "  Revision: 8fc6bcff51318944179630522a095cc9dbf9f353\n"
    "  UUID: 0a3c6d7e-1f2b-4c5d-8e9f-0a1b2c3d4e5f\n"
)


def test_ctr_version_with_the_server() -> None:
    v = rt.parse_ctr_version(CLIENT + SERVER)
    assert (v.client_version, v.client_revision) == ("v1.7.20", "8fc6bcff51318944179630522a095cc9dbf9f353")
    assert (v.server_version, v.server_uuid) == ("v1.7.20", "0a3c6d7e-1f2b-4c5d-8e9f-0a1b2c3d4e5f")


def test_ctr_version_before_the_daemon_answers() -> None:
    v = rt.parse_ctr_version(CLIENT)
    assert v.client_version == "v1.7.20"
    assert (v.server_version, v.server_revision, v.server_uuid) == (None, None, None)


@pytest.mark.parametrize("text", ["", "ctr: failed to dial", "Client:\n  Revision: x\n", None])
def test_output_that_is_not_ctr_version(text: object) -> None:
    with pytest.raises(ValueError):
        rt.parse_ctr_version(text)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("printed", "release"),
    [("v1.7.20", "1.7.20"), ("1.7.27", "1.7.27"), ("v1.7.9+azure", "1.7.9"), ("v2.3.5-12-gabcdef.m", "2.3.5")],
)
def test_release_of(printed: str, release: str) -> None:
    assert rt.release_of(printed) == release


@pytest.mark.parametrize("printed", ["latest", "v2.3", "2.3.5.1", ""])
def test_release_of_refuses_what_is_not_a_release(printed: str) -> None:
    with pytest.raises(ValueError):
        rt.release_of(printed)


# --- the pause image's source -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("image", "profile", "source", "ok"),
    [
        ("mcr.microsoft.com/oss/kubernetes/pause:3.6", "production", "profile", True),
        ("mcr.microsoft.com/oss/kubernetes/pause@sha256:" + "a" * 64, "production", "profile", True),
        ("registry.k8s.io/pause:3.6", "production", "profile", False),
        # Another Microsoft path, or a look-alike, is not the location the profile names.
        ("mcr.microsoft.com/oss/v2/kubernetes/pause:3.10.2", "production", "profile", False),
        ("mcr.microsoft.com/oss/kubernetes/pause-evil:3.6", "production", "profile", False),
        ("mirror.example/mcr.microsoft.com/oss/kubernetes/pause:3.6", "production", "profile", False),
        ("registry.k8s.io/pause:3.6", "production", "override", True),
        ("registry.k8s.io/pause:3.6", "upstream", "profile", True),
    ],
)
def test_check_pause_source(image: str, profile: str, source: str, ok: bool) -> None:
    result = rt.check_pause_source(image, profile, source)
    assert result.ok is ok
    if not ok:
        assert result.reason.startswith(
            "the production profile needs the Microsoft-signed pause image from mcr.microsoft.com/oss/kubernetes/pause"
        )
        assert image in result.reason and "winkube_pause_image" in result.reason


@pytest.mark.parametrize(
    ("image", "profile", "source", "message"),
    [
        ("", "production", "profile", "is not an image reference"),
        ("registry.k8s.io/pause:3.6", "signed", "profile", "unknown pause image profile 'signed'"),
        ("registry.k8s.io/pause:3.6", "production", None, "unknown pause image source None"),
    ],
)
def test_check_pause_source_refuses_unknown_inputs(image: str, profile: str, source: object, message: str) -> None:
    with pytest.raises(ValueError) as err:
        rt.check_pause_source(image, profile, source)  # type: ignore[arg-type]
    assert message in str(err.value)


@pytest.mark.parametrize(
    ("image", "repository"),
    [
        ("mcr.microsoft.com/oss/kubernetes/pause:3.6", "mcr.microsoft.com/oss/kubernetes/pause"),
        ("localhost:5000/pause:3.6", "localhost:5000/pause"),
        ("localhost:5000/pause", "localhost:5000/pause"),
        ("registry.k8s.io/pause@sha256:" + "b" * 64, "registry.k8s.io/pause"),
    ],
)
def test_repository_of(image: str, repository: str) -> None:
    assert rt.repository_of(image) == repository
