"""The container runtimes' image stores on a host and the pull logic ``ctr``, ``crictl`` and the
kubelet share, plus the output helpers those tools use (Go tabwriter, go-units sizes).

``host.images`` maps an image reference to a record: index ``digest`` (what ``ctr images ls``
shows), chosen ``manifest_digest``, ``config_digest`` (the image ID), ``os_version``,
``platform``, ``platforms`` (all in the index), ``size``, ``namespaces`` (containerd namespaces
holding the ref; ``moby`` for Docker's store), ``namespace`` (the first), ``labels``.

Manifest choice: containerd's matcher from the knowledge base (``knowledge.select_manifest``, per
containerd version). Docker Engine (MCR) picks by its own Windows rule (``_moby_select``).
"""

from __future__ import annotations

from typing import Any

from tests.simulator.executables import knowledge
from tests.simulator.executables.registry import ImageIndex, ImageRegistry
from tests.simulator.host import SimulatorError, WindowsHost

MOBY_NAMESPACE = "moby"


class PullError(Exception):
    """A pull the runtime refuses. ``kind``: ``resolve`` (bad or unknown reference, registry
    error) or ``platform`` (no manifest for this host); ``detail`` is containerd's text."""

    def __init__(self, kind: str, detail: str, digest: str = "") -> None:
        super().__init__(detail)
        self.kind = kind
        self.detail = detail
        self.digest = digest


def registry_of(host: WindowsHost) -> ImageRegistry:
    downloads = host.downloads
    reg = getattr(downloads, "images", None)
    if not isinstance(reg, ImageRegistry):
        raise SimulatorError(f"host {host.name} has no image registry fixtures (host.downloads.images)")
    return reg


# ------------------------------------------------------------------ references


def has_domain(ref: str) -> bool:
    first = ref.split("/", 1)[0]
    return "/" in ref and ("." in first or ":" in first or first == "localhost")


def docker_normalize(ref: str) -> str:
    """Docker's reference normalisation as CRI uses it: ``pause:3.6`` → ``docker.io/library/pause:3.6``,
    a missing tag becomes ``latest``."""
    name = ref
    if not has_domain(name):
        name = "docker.io/" + (name if "/" in name else "library/" + name)
    last = name.rsplit("/", 1)[-1]
    if "@" not in name and ":" not in last:
        name += ":latest"
    return name


def ctr_resolve_check(ref: str) -> None:
    """containerd's ``reference.Parse`` as ctr applies it before asking a registry (GT §4.5)."""
    if not has_domain(ref):
        if "/" not in ref and ":" in ref:
            port = ref.split(":", 1)[1]
            raise PullError("resolve", f'parse "dummy://{ref}": invalid port ":{port}" after host')
        host, _, rest = ref.partition("/")
        repo, _, tag = rest.partition(":")
        raise PullError(
            "resolve",
            f'failed to do request: Head "https://{host}/v2/{repo}/manifests/{tag or "latest"}": '
            f"dial tcp: lookup {host}: no such host",
        )
    last = ref.rsplit("/", 1)[-1]
    if "@" not in ref and ":" not in last:
        raise PullError("resolve", "object required")


def split_repo_tag(ref: str) -> tuple[str, str]:
    if "@" in ref:
        return ref.split("@", 1)[0], "<none>"
    head, _, last = ref.rpartition("/")
    if ":" in last:
        name, tag = last.rsplit(":", 1)
        return (head + "/" + name if head else name), tag
    return ref, "<none>"


# ------------------------------------------------------------------ pulls


def _moby_select(host: WindowsHost, index: ImageIndex) -> Any:
    """Docker Engine on Windows: same build as the host, highest revision first. [RECONSTRUCTED:
    moby distribution/pull_v2_windows.go filterManifests/versionMatch, not in the reference]"""
    cands = []
    for m in index.manifests:
        if m.os != "windows" or m.architecture != "amd64":
            continue
        parts = m.os_version.split(".")
        if not m.os_version or (len(parts) >= 3 and parts[2] == str(host.build)):
            cands.append(m)
    cands.sort(key=lambda m: -int(m.os_version.split(".")[3]) if m.os_version.count(".") >= 3 else 0)
    return cands[0] if cands else None


def pull(
    host: WindowsHost,
    ref: str,
    namespace: str,
    runtime: dict[str, Any],
    labels: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Pull ``ref`` into a namespace of the runtime described by ``runtime`` (a daemon record:
    ``kind`` containerd|dockerd, ``version``). Returns the stored record."""
    reg = registry_of(host)
    if ref in reg.failures:
        raise PullError("resolve", reg.failures[ref])
    index = reg.resolve(ref)
    if index is None:
        raise PullError("resolve", f"{ref}: not found")
    if runtime["kind"] == "dockerd":
        manifest = _moby_select(host, index)
    else:
        try:
            chosen = knowledge.select_manifest(f"10.0.{host.build}", index.oci_manifests(), runtime["version"])
        except ValueError as exc:
            raise SimulatorError(f"containerd {runtime['version']}: {exc}") from exc
        manifest = index.by_digest(chosen["digest"]) if chosen else None
    if manifest is None:
        raise PullError("platform", "no match for platform in manifest", index.digest)
    record = host.images.get(ref)
    namespaces = list(record["namespaces"]) if record else []
    if namespace not in namespaces:
        namespaces.append(namespace)
    merged_labels = dict(record.get("labels", {})) if record else {}
    merged_labels.update(labels or {})
    record = {
        "digest": index.digest,
        "media_type": index.media_type,
        "manifest_digest": manifest.digest,
        "config_digest": manifest.config_digest,
        "os_version": manifest.os_version,
        "platform": manifest.platform,
        "platforms": index.platforms(),
        "size": manifest.size,
        "layers": list(manifest.layers),
        "namespace": namespaces[0],
        "namespaces": namespaces,
        "labels": merged_labels,
    }
    host.images[ref] = record
    return record


def images_in(host: WindowsHost, namespace: str) -> list[tuple[str, dict[str, Any]]]:
    return sorted((ref, rec) for ref, rec in host.images.items() if namespace in rec.get("namespaces", []))


def remove(host: WindowsHost, ref: str, namespace: str) -> bool:
    rec = host.images.get(ref)
    if rec is None or namespace not in rec.get("namespaces", []):
        return False
    rec["namespaces"] = [n for n in rec["namespaces"] if n != namespace]
    if not rec["namespaces"]:
        del host.images[ref]
    else:
        rec["namespace"] = rec["namespaces"][0]
    return True


# ------------------------------------------------------------------ output helpers


def tabwriter(rows: list[list[str]], minwidth: int, padding: int, trailing_tab: bool) -> str:
    """Go ``text/tabwriter`` with a space pad char: every tab-terminated cell is padded to the
    widest cell of its column plus ``padding`` (at least ``minwidth``). Rows ending with a tab
    (``trailing_tab``) pad their last cell too — ctr's rows do, hence its trailing blanks."""
    if not rows:
        return ""
    ncols = max(len(r) for r in rows)
    aligned = ncols if trailing_tab else ncols - 1
    widths = []
    for c in range(aligned):
        w = max((len(r[c]) for r in rows if c < len(r)), default=0) + padding
        widths.append(max(w, minwidth))
    lines = []
    for r in rows:
        cells = [cell.ljust(widths[c]) if c < aligned else cell for c, cell in enumerate(r)]
        lines.append("".join(cells))
    return "\n".join(lines) + "\n"


def binary_size(size: float) -> str:
    """containerd ``progress.Bytes``: ``units.CustomSize("%02.1f %s", b, 1024, KiB...)``."""
    units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"]
    i = 0
    while size >= 1024 and i < len(units) - 1:
        size /= 1024
        i += 1
    return f"{size:02.1f} {units[i]}"


def decimal_size(size: float) -> str:
    """go-units ``HumanSizeWithPrecision(size, 3)`` (crictl's SIZE column)."""
    units = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"]
    i = 0
    while size >= 1000 and i < len(units) - 1:
        size /= 1000
        i += 1
    return f"{size:.3g}{units[i]}"
