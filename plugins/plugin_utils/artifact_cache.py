# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The controller's artifact cache (``winkube_artifact_cache``): each file is downloaded once into
``<cache>/<sha256>/<name>``, verified against its SHA-256, and reused from there by every node and run.

Used by the action plugin ``winkube.node.artifact_cache`` (plugins/action/artifact_cache.py). Guarantees:

* A file is only ever visible under its final name complete and verified: it is written to a temporary
  file in the same folder, its SHA-256 is checked, and only then is it renamed into place (an atomic
  rename on one file system). A mismatch or a failed download leaves nothing behind.
* Many forks (one per host) running the task at once download each file once: the download happens
  under an exclusive ``flock`` on ``<cache>/<sha256>/.lock``, and whoever gets the lock second finds
  the verified file there. ``flock`` locks belong to the open file description, so threads of one
  process exclude each other as well as processes do.
* A cached file is trusted only when its content has the expected digest now; a damaged one is removed
  and downloaded again.

The folder is named after the digest, not the role, so two roles (or two names) of the same content
share one download, and a new published digest never reuses an old file.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import http.client
import os
import posixpath
import re
import tempfile
import time
import urllib.parse
from dataclasses import dataclass
from typing import IO, Any, Callable, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple

from ansible_collections.winkube.node.plugins.module_utils.downloads import parse_sha256_file

CHUNK = 1024 * 1024
# A checksum file is one line; anything much larger is not one (a wrong URL serving a page or a binary).
CHECKSUM_FILE_LIMIT = 64 * 1024
LOCK_NAME = ".lock"
_PART_SUFFIX = ".part"
# Beside each cached file: the digest it had and the file identity it was hashed at (see _verified).
_STAMP_SUFFIX = ".verified"
_SHA256_RE = re.compile(r"^[0-9a-fA-F]{64}$")
# A plain file name: no folder part, and no leading dot (the lock and temporary files start with one).
_NAME_RE = re.compile(r"^[A-Za-z0-9_+-][A-Za-z0-9._+-]*$")
_URL_SCHEMES = ("http", "https")

# (url, validate_certs, timeout) -> a readable response; raises OSError (urllib's URLError and
# HTTPError are OSErrors) or http.client.HTTPException when the request fails.
Opener = Callable[[str, bool, float], Any]


class CacheError(Exception):
    """A file could not be put in the cache; the message names the file, its URL and why."""


@dataclass(frozen=True)
class Artifact:
    """One file to cache: its expected ``sha256``, else the digest ``checksum_url`` publishes (with both, the
    digest was read from there before and ``checksum_url`` only names its source in messages)."""

    name: str
    url: str
    sha256: Optional[str] = None
    checksum_url: Optional[str] = None
    validate_certs: bool = True


@dataclass(frozen=True)
class Cached:
    """Where a verified file is, and whether this call downloaded it."""

    name: str
    url: str
    sha256: str
    path: str
    downloaded: bool

    def as_dict(self) -> Dict[str, Any]:
        return {
            "name": self.name,
            "url": self.url,
            "sha256": self.sha256,
            "path": self.path,
            "downloaded": self.downloaded,
        }


@dataclass(frozen=True)
class Policy:
    """How hard to try: ``retries`` more attempts after a failed one, ``delay`` seconds apart."""

    retries: int = 2
    delay: float = 2.0
    timeout: float = 60.0


# ---------------------------------------------------------------------------------------------
# Inputs


def _check_url(url: Any, what: str) -> str:
    if not isinstance(url, str) or not url.strip():
        raise ValueError(f"{what} must be a non-empty http(s) URL")
    parts = urllib.parse.urlsplit(url.strip())
    if parts.scheme not in _URL_SCHEMES or not parts.netloc:
        raise ValueError(f"{what} {url!r} is not an http(s) URL with a host")
    return url.strip()


def parse_artifact(entry: Mapping[str, Any]) -> Artifact:
    """An :class:`Artifact` from one ``files`` entry, or ValueError naming what is wrong with it."""
    name = entry.get("name")
    if not isinstance(name, str) or not _NAME_RE.match(name) or name in (".", ".."):
        raise ValueError(
            f"name {name!r} must be a plain file name (letters, digits, . _ + -, not starting with a dot), "
            "as it is stored under <cache>/<sha256>/"
        )
    url = _check_url(entry.get("url"), f"{name}: url")
    sha256 = entry.get("sha256")
    checksum_url = entry.get("checksum_url")
    if sha256 is None and checksum_url is None:
        raise ValueError(f"{name}: give sha256 (the expected digest) or checksum_url (where it is published)")
    if sha256 is not None:
        if not isinstance(sha256, str) or not _SHA256_RE.match(sha256):
            raise ValueError(f"{name}: sha256 must be 64 hex digits, got {str(sha256)[:80]!r}")
        sha256 = sha256.lower()
    if checksum_url is not None:
        checksum_url = _check_url(checksum_url, f"{name}: checksum_url")
    validate_certs = entry.get("validate_certs", True)
    if not isinstance(validate_certs, bool):
        raise ValueError(f"{name}: validate_certs must be a boolean")
    return Artifact(name, url, sha256, checksum_url, validate_certs)


def check_cache_dir(cache: Any) -> str:
    """The cache folder, created when missing; ValueError when it cannot be one."""
    if not isinstance(cache, str) or not cache:
        raise ValueError("cache must be an absolute folder on the controller")
    if not os.path.isabs(cache):
        raise ValueError(f"cache {cache!r} must be an absolute folder on the controller, not a relative path")
    try:
        os.makedirs(cache, mode=0o755, exist_ok=True)
    except OSError as exc:
        reason = exc.strerror or exc
        raise ValueError(f"cache {cache} cannot be created as a folder on the controller: {reason}") from None
    if not os.access(cache, os.W_OK | os.X_OK):
        raise ValueError(f"cache {cache} is not a folder the controller's user can write to")
    return cache


def url_file_name(url: str) -> str:
    """The file name a URL serves (its last path segment), as a ``.sha256sum`` line names it."""
    return urllib.parse.unquote(posixpath.basename(urllib.parse.urlsplit(url).path))


# ---------------------------------------------------------------------------------------------
# Digests and files


def file_sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _identity(path: str) -> str:
    """What changes whenever the file's content may have: device, inode, size, and the modification and
    status-change times (ctime cannot be set back by a user, unlike mtime)."""
    st = os.stat(path)
    return f"{st.st_dev}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}"


def _stamp_path(path: str) -> str:
    folder, name = os.path.split(path)
    return os.path.join(folder, f".{name}{_STAMP_SUFFIX}")


def _write_stamp(path: str, sha256: str) -> None:
    """Remember that ``path`` as it is now has ``sha256``, so the next host of the run (every node's task
    asks for the same files) need not hash a few hundred megabytes again. Best effort: without a stamp
    the file is only hashed again."""
    with contextlib.suppress(OSError):
        fd, part = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".stamp.", suffix=_PART_SUFFIX)
        try:
            with os.fdopen(fd, "w", encoding="ascii") as handle:
                handle.write(f"{sha256} {_identity(path)}\n")
            os.replace(part, _stamp_path(path))
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(part)
            raise


def _verified(path: str, sha256: str) -> bool:
    """Whether ``path`` is a regular file with this digest now (missing or unreadable: no). A stamp
    written when the file was last hashed stands for the hash while the file is unchanged since."""
    try:
        if not os.path.isfile(path):
            return False
        with contextlib.suppress(OSError), open(_stamp_path(path), encoding="ascii") as handle:
            if handle.read().split() == [sha256, _identity(path)]:
                return True
        if file_sha256(path) != sha256:
            return False
    except OSError:
        return False
    _write_stamp(path, sha256)
    return True


@contextlib.contextmanager
def folder_lock(folder: str) -> Iterator[None]:
    """Hold the exclusive lock of a digest folder (waits for whoever holds it)."""
    fd = os.open(os.path.join(folder, LOCK_NAME), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the last descriptor releases the flock


def _remove_stale_parts(folder: str) -> None:
    """Temporary files of a download that died with its process (only called under the lock, so
    nobody is writing them)."""
    for entry in os.listdir(folder):
        if entry.startswith(".") and entry.endswith(_PART_SUFFIX):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(os.path.join(folder, entry))


def _fsync_dir(folder: str) -> None:
    # The rename is durable only once the folder's entry is on disk too.
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _reason(exc: BaseException) -> str:
    """A one-line reason: urllib's HTTPError says ``HTTP Error 404: Not Found``, a URLError its cause."""
    reason = getattr(exc, "reason", None)
    if reason is not None and not hasattr(exc, "code"):
        return str(reason)
    return str(exc) or type(exc).__name__


def _stream_to(response: Any, handle: IO[bytes]) -> str:
    digest = hashlib.sha256()
    received = 0
    for chunk in iter(lambda: response.read(CHUNK), b""):
        digest.update(chunk)
        handle.write(chunk)
        received += len(chunk)
    # http.client's read(amt) returns b"" when the server closes early, without raising IncompleteRead;
    # what it still expected is left in `length` (an uncompressed body with a Content-Length).
    remaining = getattr(response, "length", None)
    if isinstance(remaining, int) and remaining > 0:
        raise _Truncated(received, received + remaining)
    return digest.hexdigest()


class _Mismatch(Exception):
    def __init__(self, actual: str) -> None:
        super().__init__(actual)
        self.actual = actual


class _Truncated(Exception):
    def __init__(self, received: int, announced: int) -> None:
        super().__init__(f"the connection closed after {received} of the {announced} bytes announced")


def _download_once(artifact: Artifact, sha256: str, final: str, open_url: Opener, *, timeout: float) -> None:
    """One attempt: the body into a temporary file beside ``final``, verified, renamed into place.
    Raises _Mismatch, OSError or HTTPException; the temporary file never survives a failure."""
    folder = os.path.dirname(final)
    fd, part = tempfile.mkstemp(dir=folder, prefix=f".{artifact.name}.", suffix=_PART_SUFFIX)
    try:
        with os.fdopen(fd, "wb") as handle:
            response = open_url(artifact.url, artifact.validate_certs, timeout)
            try:
                actual = _stream_to(response, handle)
            finally:
                close = getattr(response, "close", None)
                if close is not None:
                    close()
            handle.flush()
            os.fsync(handle.fileno())
        if actual != sha256:
            raise _Mismatch(actual)
        os.chmod(part, 0o644)  # mkstemp makes it 0600; the cache is readable like get_url left it
        os.replace(part, final)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(part)
        raise
    with contextlib.suppress(OSError):  # the file is in place and verified; durability is best effort
        _fsync_dir(folder)
    _write_stamp(final, sha256)


def _attempts(policy: Policy, sleep: Callable[[float], None]) -> Iterator[int]:
    for attempt in range(policy.retries + 1):
        if attempt:
            sleep(policy.delay)
        yield attempt + 1


def published_sha256(
    artifact: Artifact, open_url: Opener, policy: Policy, sleep: Callable[[float], None] = time.sleep
) -> str:
    """The digest ``checksum_url`` publishes for the artifact (a ``.sha256`` hex file, or a ``.sha256sum``
    line that must name the URL's file)."""
    if artifact.checksum_url is None:
        raise CacheError(f"{artifact.name}: neither sha256 nor checksum_url is given")
    last = ""
    for attempt in _attempts(policy, sleep):
        try:
            response = open_url(artifact.checksum_url, artifact.validate_certs, policy.timeout)
            try:
                body = response.read(CHECKSUM_FILE_LIMIT + 1)
            finally:
                close = getattr(response, "close", None)
                if close is not None:
                    close()
        except (OSError, http.client.HTTPException) as exc:
            last = f"attempt {attempt}: {_reason(exc)}"
            continue
        if len(body) > CHECKSUM_FILE_LIMIT:
            raise CacheError(
                f"{artifact.name}: the checksum file {artifact.checksum_url} is larger than "
                f"{CHECKSUM_FILE_LIMIT} bytes; it is not a checksum file"
            )
        try:
            return parse_sha256_file(body.decode("utf-8-sig", errors="replace"), url_file_name(artifact.url))
        except ValueError as exc:
            what = f"{artifact.name}: the checksum file {artifact.checksum_url}"
            raise CacheError(f"{what} is not usable: {exc}") from None
    raise CacheError(
        f"{artifact.name}: the published checksum {artifact.checksum_url} could not be read on the controller "
        f"({last}), so {artifact.url} was not downloaded"
    )


def ensure(
    cache: str,
    artifact: Artifact,
    open_url: Opener,
    policy: Optional[Policy] = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Cached:
    """The verified file of ``artifact`` in ``cache``: reused when it is there with its digest, else
    downloaded (once, whatever the number of concurrent callers) and verified. Raises CacheError."""
    policy = policy or Policy()
    sha256 = artifact.sha256 or published_sha256(artifact, open_url, policy, sleep)
    folder = os.path.join(cache, sha256)
    final = os.path.join(folder, artifact.name)
    # Without the lock first: a verified file is never replaced by anything but the same content, so
    # readers need not queue behind each other to hash it.
    if _verified(final, sha256):
        return Cached(artifact.name, artifact.url, sha256, final, False)
    try:
        os.makedirs(folder, mode=0o755, exist_ok=True)
    except OSError as exc:
        raise CacheError(f"{artifact.name}: cannot create the cache folder {folder}: {exc.strerror or exc}") from None
    failures: List[str] = []
    try:
        with folder_lock(folder):
            if _verified(final, sha256):  # another fork downloaded it while this one waited
                return Cached(artifact.name, artifact.url, sha256, final, False)
            _remove_stale_parts(folder)
            if os.path.lexists(final):  # there but not this content: never leave it for anyone to use
                os.unlink(final)
            for attempt in _attempts(policy, sleep):
                try:
                    _download_once(artifact, sha256, final, open_url, timeout=policy.timeout)
                except _Mismatch as exc:
                    failures.append(f"attempt {attempt}: the download's SHA-256 is {exc.actual}")
                except _Truncated as exc:
                    failures.append(f"attempt {attempt}: {exc}")
                except (OSError, http.client.HTTPException) as exc:
                    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EACCES, errno.EROFS):
                        failures.append(f"attempt {attempt}: cannot write into {folder}: {exc.strerror}")
                        break  # the cache folder, not the network: trying again changes nothing
                    failures.append(f"attempt {attempt}: {_reason(exc)}")
                else:
                    return Cached(artifact.name, artifact.url, sha256, final, True)
    except OSError as exc:  # the lock file or the folder itself
        raise CacheError(f"{artifact.name}: the cache folder {folder} is not usable: {exc.strerror or exc}") from None
    source = f"published at {artifact.checksum_url}" if artifact.checksum_url else "pinned"
    raise CacheError(
        f"{artifact.name}: {artifact.url} could not be downloaded and verified against the expected SHA-256 {sha256} "
        f"({source}): {'; '.join(failures)}. Nothing was put in {folder}."
    )


def ensure_all(
    cache: str,
    entries: Sequence[Mapping[str, Any]],
    open_url: Opener,
    policy: Optional[Policy] = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Tuple[List[Cached], List[str]]:
    """Every entry cached, in order: the verified files and the failures (one sentence each). A bad cache
    folder or entry raises ValueError before any request; a failed file does not stop the others."""
    root = check_cache_dir(cache)
    artifacts = [parse_artifact(entry) for entry in entries]
    done: List[Cached] = []
    errors: List[str] = []
    for artifact in artifacts:
        try:
            done.append(ensure(root, artifact, open_url, policy, sleep))
        except CacheError as exc:
            errors.append(str(exc))
    return done, errors
