r"""``wevtutil.exe epl <channel> <file> [/ow:true|false] [/q:<xpath>]`` (GT §10.1): export an event log.

The simulated host keeps no event records, so an export is a valid *empty* EVTX file: the 4096-byte
file header of the format (``ElfFile\0`` signature, header size 128, version 3.1, no chunks, the CRC32
of the first 120 bytes) — what Windows writes for a channel with no events. Every other wevtutil
command, and every option of ``epl`` besides ``/ow`` and ``/q`` (``/lf``, ``/sq``, ``/r``…), fails
loudly as not emulated.

Outcomes (success prints nothing and exits 0, GT §10.1 [VERBATIM]); the error texts are
``Failed to export log <channel>. <FormatMessage text>`` with the Win32 error as the exit code
[RECONSTRUCTED: GT §10 lists wevtutil's error strings as not found in sources]:

* the export file exists and ``/ow`` is not true → 80 ``The file exists.``;
* an unknown channel → 15007 ``The specified channel could not be found.``;
* the export file's folder is missing → 3 ``The system cannot find the path specified.``.
"""

from __future__ import annotations

import struct
import zlib

from tests.simulator.contract import ExecResult
from tests.simulator.executables.common import Invocation, fail, not_emulated, ok
from tests.simulator.host import DiskFullError, parent_of

# The channels every Windows Server has, and the ones the roles' services add.
CHANNELS = (
    "Application",
    "System",
    "Security",
    "Setup",
    "Microsoft-Windows-Hyper-V-Compute-Admin",
    "Microsoft-Windows-Hyper-V-Compute-Operational",
    "Microsoft-Windows-Host-Network-Service-Admin",
    "Microsoft-Windows-Host-Network-Service-Operational",
    "Microsoft-Windows-Containers-Wcifs/Operational",
)

_ERRORS = {
    3: "The system cannot find the path specified.",
    80: "The file exists.",
    112: "There is not enough space on the disk.",
    15007: "The specified channel could not be found.",
}


def empty_evtx() -> bytes:
    """The file header of an EVTX file without records (libyal's EVTX format documentation)."""
    header = bytearray(4096)
    header[0:8] = b"ElfFile\x00"
    struct.pack_into(
        "<QQQIHHHH",
        header,
        8,
        0,  # first chunk number
        0,  # last chunk number
        1,  # next record identifier
        128,  # header size
        1,  # minor version
        3,  # major version
        4096,  # header block size
        0,  # number of chunks
    )
    struct.pack_into("<I", header, 120, 0)  # file flags: clean
    struct.pack_into("<I", header, 124, zlib.crc32(bytes(header[:120])))
    return bytes(header)


def _error(channel: str, code: int) -> ExecResult:
    return fail(code, f"Failed to export log {channel}. {_ERRORS[code]}\r\n")


def _option(arg: str) -> tuple[str, str] | None:
    if not arg.startswith("/") or ":" not in arg:
        return None
    name, _, value = arg[1:].partition(":")
    return name.lower(), value.strip('"')


def run(inv: Invocation) -> ExecResult:
    args = list(inv.args)
    if not args or args[0].lower() not in ("epl", "export-log"):
        return not_emulated(inv)
    positional = [a for a in args[1:] if not a.startswith("/")]
    options = [_option(a) for a in args[1:] if a.startswith("/")]
    if len(positional) != 2 or any(o is None or o[0] not in ("ow", "q") for o in options):
        return not_emulated(inv)
    channel, target = positional
    overwrite = any(name == "ow" and value.lower() == "true" for name, value in options if name)
    known = {c.lower(): c for c in CHANNELS}
    if channel.lower() not in known:
        return _error(channel, 15007)
    path = inv.abspath(target)
    host = inv.host
    if host.exists(path) and not overwrite:
        return _error(channel, 80)
    folder = parent_of(path)
    if folder is not None and not host.isdir(folder):
        return _error(channel, 3)
    try:
        host.write_file(path, empty_evtx(), make_parents=False)
    except DiskFullError:
        return _error(channel, 112)
    return ok()
