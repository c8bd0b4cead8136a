r"""``C:\Windows\System32\tar.exe`` — bsdtar, reading and really extracting archives (tar, tar.gz,
tar.xz, zip: bsdtar detects the format from the data, whatever ``-z`` says) from the simulated disk
into the simulated disk.

Emulated: ``-x`` and ``-t`` with ``-f``, ``-C``, ``-v``, ``-z``/``-J``, ``-k``, ``-m``, ``-O``,
``-p``, ``-P``, ``--strip-components N`` (also ``--strip=N``), old-style bundles (``tar xzf a``),
member patterns; ``--help``, ``--version``, bare ``tar.exe``. Creating archives (``-c``/``-r``/
``-u``) and other options fail loudly. Texts: GT §7.
"""

from __future__ import annotations

import calendar
import dataclasses
import fnmatch
import io
import tarfile
import zipfile
from collections.abc import Iterator

from tests.simulator.contract import ExecResult
from tests.simulator.executables.common import Invocation, fail, not_emulated, ok
from tests.simulator.host import DiskFullError, SimulatorError, WindowsHost

PROG = "tar.exe"

USAGE = (
    "Usage:\n"
    "  List:    tar.exe -tf <archive-filename>\n"
    "  Extract: tar.exe -xf <archive-filename>\n"
    "  Create:  tar.exe -cf <archive-filename> [filenames...]\n"
    "  Help:    tar.exe --help\n"
)

HELP_BODY = """tar.exe(bsdtar): manipulate archive files
First option must be a mode specifier:
  -c Create  -r Add/Replace  -t List  -u Update  -x Extract
Common Options:
  -b #  Use # 512-byte records per I/O block
  -f <filename>  Location of archive (default \\\\.\\tape0)
  -v    Verbose
  -w    Interactive
Create: tar.exe -c [options] [<file> | <dir> | @<archive> | -C <dir> ]
  <file>, <dir>  add these items to archive
  -z, -j, -J, --lzma  Compress archive with gzip/bzip2/xz/lzma
  --format {ustar|pax|cpio|shar}  Select archive format
  --exclude <pattern>  Skip files that match pattern
  -C <dir>  Change to <dir> before processing remaining files
  @<archive>  Add entries from <archive> to output
List: tar.exe -t [options] [<patterns>]
  <patterns>  If specified, list only entries that match
Extract: tar.exe -x [options] [<patterns>]
  <patterns>  If specified, extract only entries that match
  -k    Keep (don't overwrite) existing files
  -m    Don't restore modification times
  -O    Write entries to stdout, don't restore to disk
  -p    Restore permissions (including ACLs, owner, file flags)
"""

# bsdtar shipped per Windows Server build (GT §7): (first build, version line, has bz2lib).
VERSIONS = (
    (0, "bsdtar 3.3.2 - libarchive 3.3.2 zlib/1.2.5.f-ipp", False),
    (20348, "bsdtar 3.5.2 - libarchive 3.5.2 zlib/1.2.5.f-ipp", False),
    (26100, "bsdtar 3.7.7 - libarchive 3.7.7 zlib/1.2.13.1-motley liblzma/5.4.3 bz2lib/1.0.8 libzstd/1.5.5", True),
)

# Short options that take a value (the rest of the bundle, else the next argument).
_VALUE_SHORT = {"f": "file", "C": "directory", "b": "blocksize"}
_BOOL_SHORT = {
    "x": "x",
    "t": "t",
    "c": "c",
    "r": "r",
    "u": "u",
    "v": "verbose",
    "z": "gzip",
    "J": "xz",
    "j": "bzip2",
    "k": "keep",
    "m": "no-mtime",
    "O": "stdout",
    "p": "perms",
    "P": "absolute",
}
_LONG = {
    "extract": ("x", False),
    "get": ("x", False),
    "list": ("t", False),
    "create": ("c", False),
    "file": ("file", True),
    "directory": ("directory", True),
    "cd": ("directory", True),
    "strip-components": ("strip", True),
    "verbose": ("verbose", False),
    "gzip": ("gzip", False),
    "gunzip": ("gzip", False),
    "xz": ("xz", False),
    "bzip2": ("bzip2", False),
    "keep-old-files": ("keep", False),
    "modification-time": ("no-mtime", False),
    "to-stdout": ("stdout", False),
    "preserve-permissions": ("perms", False),
    "same-permissions": ("perms", False),
    "no-same-owner": ("no-same-owner", False),
    "no-same-permissions": ("no-same-permissions", False),
    "absolute-paths": ("absolute", False),
    "help": ("help", False),
    "version": ("version", False),
}


class Usage(Exception):
    """A command line bsdtar rejects; the message is what it prints."""


class Unsupported(Exception):
    """A valid bsdtar option the simulator does not emulate."""


def version_info(host: WindowsHost) -> tuple[str, bool]:
    line, bz2 = VERSIONS[0][1], VERSIONS[0][2]
    for first, text, has_bz2 in VERSIONS:
        if host.build >= first:
            line, bz2 = text, has_bz2
    return line, bz2


def _long(name: str) -> tuple[str, bool]:
    """bsdtar accepts any unambiguous prefix of a long option (``--strip=1`` is common)."""
    if name in _LONG:
        return _LONG[name]
    matches = [k for k in _LONG if k.startswith(name)]
    targets = {_LONG[k] for k in matches}
    if len(targets) == 1:
        return targets.pop()
    if not matches:
        raise Unsupported(f"--{name}")
    raise Usage(f"{PROG}: Option --{name} is not supported")


def parse(args: list[str]) -> tuple[dict[str, object], list[str]]:
    opts: dict[str, object] = {}
    patterns: list[str] = []
    items = list(args)
    if items and not items[0].startswith("-"):
        # Old-style bundle: "xzvf archive" — every letter an option, values follow in order.
        bundle, items = items[0], items[1:]
        for ch in bundle:
            if ch in _VALUE_SHORT:
                if not items:
                    raise Usage(f"{PROG}: Option {ch} requires an argument")
                opts[_VALUE_SHORT[ch]] = items.pop(0)
            elif ch in _BOOL_SHORT:
                opts[_BOOL_SHORT[ch]] = True
            else:
                raise Unsupported(ch)
    i = 0
    while i < len(items):
        a = items[i]
        if a.startswith("--") and len(a) > 2:
            name, eq, value = a[2:].partition("=")
            key, takes = _long(name)
            if takes:
                if not eq:
                    i += 1
                    if i >= len(items):
                        raise Usage(f"{PROG}: Option --{name} requires an argument")
                    value = items[i]
                opts[key] = value
            else:
                opts[key] = True
            i += 1
            continue
        if a.startswith("-") and len(a) > 1:
            j = 1
            while j < len(a):
                ch = a[j]
                if ch in _VALUE_SHORT:
                    rest = a[j + 1 :]
                    if not rest:
                        i += 1
                        if i >= len(items):
                            raise Usage(f"{PROG}: Option -{ch} requires an argument")
                        rest = items[i]
                    opts[_VALUE_SHORT[ch]] = rest
                    break
                if ch not in _BOOL_SHORT:
                    raise Unsupported(f"-{ch}")
                opts[_BOOL_SHORT[ch]] = True
                j += 1
            i += 1
            continue
        patterns.append(a)
        i += 1
    return opts, patterns


def run(inv: Invocation) -> ExecResult:
    if not inv.args:
        return fail(1, USAGE)
    try:
        opts, patterns = parse(inv.args)
    except Usage as exc:
        return fail(1, f"{exc}\n{USAGE}")
    except Unsupported:
        return not_emulated(inv)
    line, has_bz2 = version_info(inv.host)
    if opts.get("help"):
        return ok(HELP_BODY + line + "\n")
    if opts.get("version"):
        return ok(line + "\n")
    modes = [m for m in ("x", "t", "c", "r", "u") if opts.get(m)]
    if not modes:
        return fail(1, f"{PROG}: Must specify one of -c, -r, -t, -u, -x\n")
    if len(modes) > 1:
        return fail(1, f"{PROG}: Can't specify both -{modes[0]} and -{modes[1]}\n")
    if modes[0] not in ("x", "t"):
        return not_emulated(inv)
    strip = 0
    if "strip" in opts:
        try:
            strip = int(str(opts["strip"]))
        except ValueError:
            return fail(1, f"{PROG}: Invalid --strip-components argument: {opts['strip']}\n")
    archive = opts.get("file")
    if archive is None:
        # Without -f bsdtar reads the default tape device, which a server does not have.
        return fail(1, f"{PROG}: Error opening archive: Failed to open '\\\\.\\tape0'\n")
    path = inv.abspath(str(archive)) if str(archive) != "-" else None
    if path is None:
        return not_emulated(inv, f"{inv.exe} reading an archive from stdin")
    entry = inv.host.get(path)
    if entry is None or entry.is_dir:
        return fail(1, f"{PROG}: Error opening archive: Failed to open '{archive}'\n")
    target = inv.cwd
    if "directory" in opts:
        target = inv.abspath(str(opts["directory"]))
        if not inv.host.isdir(target):
            return fail(1, f"{PROG}: could not chdir to '{opts['directory']}'\n")
    return _process(inv, entry.data, _Job(modes[0], target, strip, patterns, opts, has_bz2))


def _members(data: bytes, has_bz2: bool) -> Iterator[tuple[str, bool, bytes, float]]:
    """(name, is_dir, content, mtime) of each member, in archive order, reading as a stream so a
    truncated archive yields what precedes the damage and then raises."""
    if data[:4] == b"PK\x03\x04" or data[:4] == b"PK\x05\x06":
        try:
            zf = zipfile.ZipFile(io.BytesIO(data))
        except zipfile.BadZipFile as exc:
            raise ArchiveError("Truncated ZIP file data") from exc
        for info in zf.infolist():
            mtime = float(_zip_time(info.date_time))
            yield info.filename, info.is_dir(), b"" if info.is_dir() else zf.read(info), mtime
        return
    if data[:3] == b"BZh" and not has_bz2:
        raise ArchiveError('Can\'t initialize filter; unable to run program "bzip2 -d"')
    try:
        tf = tarfile.open(fileobj=io.BytesIO(data), mode="r|*")  # noqa: SIM115 - closed below, read lazily
    except tarfile.ReadError as exc:
        raise ArchiveError("Error opening archive: Unrecognized archive format") from exc
    with tf:
        try:
            for m in tf:
                if m.isdir():
                    yield m.name, True, b"", float(m.mtime)
                elif m.isfile():
                    fh = tf.extractfile(m)
                    yield m.name, False, fh.read() if fh else b"", float(m.mtime)
                else:
                    raise ArchiveError(f"{m.name}: links and special files are not emulated by the simulator")
        except (EOFError, tarfile.ReadError, OSError) as exc:
            raise ArchiveError("Truncated input file (needed 512 bytes, only 0 available)") from exc


def _zip_time(dt: tuple[int, int, int, int, int, int]) -> int:
    return calendar.timegm((*dt, 0, 0, 0))


class ArchiveError(Exception):
    pass


def _clean(name: str, absolute: bool) -> tuple[str, str | None]:
    """Member name as bsdtar extracts it, plus the warning it prints for an absolute name."""
    n = name.replace("\\", "/")
    warning = None
    if not absolute:
        if len(n) >= 2 and n[1] == ":":
            n = n[2:]
            warning = "Removing leading drive letter from member names"
        if n.startswith("/"):
            n = n.lstrip("/")
            warning = warning or "Removing leading '/' from member names"
    while n.startswith("./"):
        n = n[2:]
    return n.rstrip("/"), warning


def _matches(name: str, patterns: list[str]) -> str | None:
    for pat in patterns:
        p = pat.replace("\\", "/").rstrip("/")
        if fnmatch.fnmatchcase(name, p) or name.startswith(p + "/"):
            return pat
    return None


@dataclasses.dataclass
class _Job:
    """One parsed bsdtar run: the mode (``x``/``t``), where to extract, what to select."""

    mode: str
    target: str
    strip: int
    patterns: list[str]
    opts: dict[str, object]
    has_bz2: bool


def _process(inv: Invocation, data: bytes, job: _Job) -> ExecResult:
    host, mode, target, strip, patterns, opts = inv.host, job.mode, job.target, job.strip, job.patterns, job.opts
    has_bz2 = job.has_bz2
    out: list[str] = []
    err: list[str] = []
    warned: set[str] = set()
    matched: set[str] = set()
    failed = False
    try:
        for raw, is_dir, content, mtime in _members(data, has_bz2):
            name, warning = _clean(raw, bool(opts.get("absolute")))
            if warning and warning not in warned:
                warned.add(warning)
                err.append(f"{PROG}: {warning}")
            if not name:
                continue
            if patterns:
                hit = _matches(name, patterns)
                if hit is None:
                    continue
                matched.add(hit)
            if mode == "t":
                out.append(name + ("/" if is_dir else ""))
                continue
            parts = [p for p in name.split("/") if p]
            if ".." in parts:
                err.append(f"{PROG}: {name}: Path contains '..'")
                failed = True
                continue
            parts = parts[strip:]
            if not parts:
                continue
            if opts.get("verbose"):
                err.append(f"x {name}" + ("/" if is_dir else ""))
            if opts.get("stdout"):
                if not is_dir:
                    out.append(content.decode("utf-8", "replace"))
                continue
            dest = host.norm(target.rstrip("\\") + "\\" + "\\".join(parts))
            try:
                if is_dir:
                    host.mkdir(dest)
                    continue
                if opts.get("keep") and host.exists(dest):
                    continue
                host.write_file(dest, content)
                if not opts.get("no-mtime"):
                    entry = host.get(dest)
                    if entry is not None:
                        entry.mtime = mtime
            except DiskFullError:
                err.append(f"{PROG}: {name}: Write failed")
                failed = True
            except (SimulatorError, IsADirectoryError, FileNotFoundError) as exc:
                err.append(f"{PROG}: {name}: Can't create '{name}': {exc}")
                failed = True
    except ArchiveError as exc:
        err.append(f"{PROG}: {exc}")
        return fail(1, "\n".join(err) + "\n", _text(out, mode))
    for pat in patterns:
        if pat not in matched:
            err.append(f"{PROG}: {pat}: Not found in archive")
            failed = True
    if failed:
        err.append(f"{PROG}: Error exit delayed from previous errors.")
        return fail(1, "\n".join(err) + "\n", _text(out, mode))
    return ok(_text(out, mode), "\n".join(err) + ("\n" if err else ""))


def _text(lines: list[str], mode: str) -> str:
    if not lines:
        return ""
    if mode == "t":
        return "\n".join(lines) + "\n"
    return "".join(lines)
