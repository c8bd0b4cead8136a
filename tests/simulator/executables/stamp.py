r"""The identity stamp that fake binaries carry — the one definition, used by ``downloads.py`` to
build them and by ``executables`` to recognise them.

A simulated binary is a small file that starts like a PE image (``MZ``) and contains exactly one
line::

    WINKUBE-SIM-BINARY name=<tool> version=<version> [key=value ...]

``name`` says which emulation answers (``containerd``, ``ctr``, ``kubelet``, ``mcr-install`` ...),
``version`` is the release without a leading ``v`` (``1.7.28``, ``1.33.3``). Further fields carry
what the real tool prints about itself: ``commit`` (git revision), ``build_date``, ``go`` (Go
version), ``kustomize``. Values never contain blanks. The identity comes from the content and not
from the file name, as on Windows: a renamed ``containerd.exe`` is still containerd.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re

MARKER = "WINKUBE-SIM-BINARY"

_LINE = re.compile(rb"WINKUBE-SIM-BINARY((?: [a-z_]+=[^\s]+)+)[ \t]*(?:\r?\n|$)")
_FIELD = re.compile(r"^[a-z_]+$")
_VALUE = re.compile(r"^[^\s]+$")

# The first bytes of a real PE file ("MZ" DOS header). Enough for anything that sniffs the type.
_PE_HEAD = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00\xb8" + b"\x00" * 7 + b"\n"
_DOS_STUB = b"This program cannot be run in DOS mode.\r\n"


@dataclasses.dataclass(frozen=True)
class Stamp:
    """What a stamped file says about itself."""

    name: str
    version: str
    fields: dict[str, str] = dataclasses.field(default_factory=dict)

    def get(self, key: str, default: str = "") -> str:
        return self.fields.get(key, default)

    @property
    def major(self) -> int:
        return version_tuple(self.version)[0]

    @property
    def minor(self) -> int:
        return version_tuple(self.version)[1]


def version_tuple(version: str) -> tuple[int, int, int]:
    """``1.7.28`` / ``v1.33.3`` / ``20.10.9`` → (major, minor, patch); pre-release suffixes dropped."""
    core = version.lstrip("v").split("-", 1)[0].split("+", 1)[0]
    parts = core.split(".")
    if len(parts) < 2 or not all(p.isdigit() for p in parts[:3]):
        raise ValueError(f"not a release version: {version!r}")
    nums = [int(p) for p in parts[:3]] + [0] * (3 - len(parts[:3]))
    return nums[0], nums[1], nums[2]


def stamp_line(name: str, version: str, **fields: str) -> str:
    """The stamp line for a binary (no line ending)."""
    items = {"name": name, "version": version, **fields}
    for key, value in items.items():
        if not _FIELD.match(key) or not _VALUE.match(str(value)):
            raise ValueError(f"bad stamp field {key}={value!r}")
    return MARKER + "".join(f" {k}={v}" for k, v in items.items())


def fake_binary(name: str, version: str, **fields: str) -> bytes:
    """A small, deterministic, PE-looking file carrying the stamp. Padding makes sizes differ per
    tool (as real ones do) while staying a few KiB."""
    line = stamp_line(name, version, **fields).encode()
    seed = hashlib.sha256(line).digest()
    filler = (seed * 64)[: 1024 + seed[0] * 8]
    return _PE_HEAD + _DOS_STUB + line + b"\n" + filler


def stamped_text(name: str, version: str, body: str, comment: str = "#", **fields: str) -> bytes:
    """A text file (a script such as ``install.ps1``) whose identity is the stamp in a comment."""
    return f"{comment} {stamp_line(name, version, **fields)}\n{body}".encode()


def parse_stamp(data: bytes) -> Stamp | None:
    """Find the stamp in a file's content; None when there is none (a real or unknown binary)."""
    m = _LINE.search(data)
    if m is None:
        return None
    fields: dict[str, str] = {}
    for item in m.group(1).decode("ascii", "replace").split():
        key, _, value = item.partition("=")
        fields[key] = value
    name = fields.pop("name", "")
    version = fields.pop("version", "")
    if not name or not version:
        return None
    return Stamp(name=name, version=version, fields=fields)
