"""ansible.windows.win_get_url (win_get_url.ps1 over the collection's WebRequest.psm1).

Content comes from ``host.downloads`` (``downloads.DownloadFixtures``, shared by the server):
``get(url) -> bytes`` — or ``response(url)`` when the fixtures offer it, to see a truncated body —
raising ``DownloadError(status, reason)`` for a URL it does not serve (any exception carrying
``status`` and ``reason`` is taken as such). ``head(url).last_modified`` serves ``force: no``.
Nothing opens a connection. The flow is the ``.ps1``'s: dest as a directory takes the URL's last
segment, ``checksum_url`` is fetched and searched for the file's line (``.sha256sum`` "hash  name"
files; a bare-hash file such as dl.k8s.io's ``.sha256`` has no such line and fails, as on Windows),
an existing dest whose checksum matches is left alone, otherwise the file is fetched, verified and
copied.

A URL under the control API's mirror (``http://127.0.0.1:<port>/mirror/<scheme>/<host>/<path>``,
contract B) is the simulated-internet URL behind it (``downloads.original_url``): the node fetches
what the controller sees there. Messages keep the URL as given, as the real module does.
"""

from __future__ import annotations

import email.utils
import re
import time
import urllib.parse
from typing import NoReturn

from tests.simulator.downloads import original_url
from tests.simulator.host import SimulatorError, WindowsHost

from ._core import ModuleRun, emulates
from ._winutil import checksum, ends_with_separator, join_path, leaf, parent_dir
from .argspec import SpecOverrides

_OVERRIDES = SpecOverrides(
    # Get-AnsibleWindowsWebRequestSpec (module_utils/WebRequest.psm1) marks these no_log.
    options={
        "url_password": {"no_log": True},
        "proxy_password": {"no_log": True},
        "client_cert_password": {"no_log": True},
    },
    # win_get_url.ps1 $spec: mutually_exclusive = @(, @('checksum', 'checksum_url'))
    mutually_exclusive=[["checksum", "checksum_url"]],
)


class _FetchFailed(Exception):
    """A failed request: the .NET WebException message and the response status, if there was one."""

    def __init__(self, message: str, status: int | None) -> None:
        super().__init__(message)
        self.status = status


def _fetch(run: ModuleRun, url: str) -> bytes:
    """Invoke-AnsibleWindowsWebRequest: sets ``msg``/``status_code``/``elapsed`` like the real helper."""
    downloads = run.host.downloads
    if downloads is None:
        raise SimulatorError("simulator: host has no download fixtures (host.downloads is not set)")
    started = time.monotonic()
    try:
        response = getattr(downloads, "response", None)
        if response is not None:
            answer = response(original_url(url))
            data, truncated = answer.body, len(answer.body) < answer.content_length
        else:
            data, truncated = downloads.get(original_url(url)), False
    except Exception as exc:
        _raise_download_error(run, exc, started)
    run.result["elapsed"] = time.monotonic() - started
    if not isinstance(data, (bytes, bytearray)):
        raise SimulatorError(f"simulator: download fixture for {url} is {type(data).__name__}, not bytes")
    if truncated:  # the body ended before Content-Length: the read fails inside the download script
        raise _FetchFailed("The underlying connection was closed: The connection was closed unexpectedly.", None)
    run.result["msg"] = "OK"
    run.result["status_code"] = 200
    return bytes(data)


def _raise_download_error(run: ModuleRun, exc: Exception, started: float) -> NoReturn:
    """A DownloadError becomes the WebException Invoke-AnsibleWindowsWebRequest re-throws."""
    status, reason = getattr(exc, "status", None), getattr(exc, "reason", None)
    if reason is None:
        raise exc
    run.result["elapsed"] = time.monotonic() - started
    if status:
        run.result["status_code"] = int(status)
        raise _FetchFailed(f"The remote server returned an error: ({status}) {reason}.", int(status)) from exc
    raise _FetchFailed(str(reason), None) from exc


def _url_leaf(url: str) -> str:
    return leaf(urllib.parse.urlsplit(url).path)


def _checksum_from_url(run: ModuleRun, checksum_url: str, source_url: str) -> str:
    """Get-ChecksumFromUri: the first line ending in the source file's name, its first field."""
    try:
        text = _fetch(run, checksum_url).decode("utf-8-sig", errors="replace")
    except _FetchFailed as exc:
        run.fail(f"Error when getting the remote checksum from '{checksum_url}'. {exc}")
    basename = re.escape(_url_leaf(source_url))
    # Select-String is case-insensitive by default; the message shows the escaped name, as on Windows.
    pattern = re.compile(r"\s+\.?/?\\?" + basename + r"\s*$", re.I)
    line = next((ln for ln in re.split(r"\r?\n", text) if pattern.search(ln)), None)
    if line is None:
        shown = _ps_regex_escape(_url_leaf(source_url))
        run.fail(f"Checksum record not found for file name '{shown}' in file from url: '{checksum_url}'")
    return re.sub(r"\W+", "", line.split(" ", 1)[0].strip())


def _ps_regex_escape(text: str) -> str:
    """[regex]::Escape: escapes \\ * + ? | { [ ( ) ^ $ . # and white space (not ] or })."""
    return re.sub(r"([\\*+?|{\[()^$.#\s])", r"\\\1", text)


def _dest_checksum(host: WindowsHost, dest: str, algorithm: str) -> str | None:
    entry = host.get(dest)
    if entry is None or entry.is_dir:
        return None
    return checksum(entry.data, algorithm)


def _download(run: ModuleRun, url: str, dest: str, *, wanted: str | None, dest_sum: str | None, algorithm: str) -> None:
    """Invoke-DownloadFile."""
    host = run.host
    parent = parent_dir(dest)
    if not host.isdir(parent):
        run.fail(
            f"The path '{parent}' does not exist for destination '{dest}', or is not visible to the current user. "
            "Ensure download destination folder exists (perhaps using win_file state=directory) "
            "before win_get_url runs."
        )
    try:
        data = _fetch(run, url)
    except _FetchFailed as exc:
        run.fail(f"Error downloading '{url}' to '{dest}': {exc}")
    got = checksum(data, algorithm)
    run.result["checksum_src"] = got
    if wanted and wanted != got:
        run.fail(f"The checksum for {url} did not match '{wanted}', it was '{got}'")
    if host.exists(dest) and dest_sum == got:
        run.result["checksum_dest"] = dest_sum
        run.result["size"] = len(data)
        return
    if not run.check_mode:
        try:
            host.write_file(dest, data, make_parents=False)
        except OSError as exc:  # e.g. the host's full-disk fault, caught by the download's try/catch
            run.fail(f"Error downloading '{url}' to '{dest}': {exc.strerror}")
    run.result["changed"] = True


def _is_modified(run: ModuleRun, url: str, dest: str) -> bool:
    """Compare-ModifiedFile: a HEAD request's Last-Modified against the file's write time. Fixtures
    without ``head()`` have no dates: the remote copy then counts as not newer."""
    head = getattr(run.host.downloads, "head", None)
    entry = run.host.get(dest)
    if head is None or entry is None:
        return False
    started = time.monotonic()
    try:
        answer = head(original_url(url))
    except Exception as exc:
        try:
            _raise_download_error(run, exc, started)
        except _FetchFailed as failed:
            run.fail(f"Error when requesting 'Last-Modified' date from '{url}'. {failed}")
    stamp = getattr(answer, "last_modified", None)
    if not stamp:
        return False
    remote = email.utils.parsedate_to_datetime(stamp).timestamp() if isinstance(stamp, str) else float(stamp)
    return remote > entry.mtime


@emulates("ansible.windows.win_get_url", _OVERRIDES)
def win_get_url(run: ModuleRun) -> None:
    p, host = run.params, run.host
    url, dest, force = p["url"], p["dest"], p["force"]
    run.result["elapsed"] = 0
    run.result["url"] = url
    if host.isdir(dest):
        name = _url_leaf(url)
        dest = join_path(dest, name or urllib.parse.urlsplit(url).hostname or "")
    elif ends_with_separator(dest):
        run.fail(
            f"The destination path '{dest}' does not exist, or is not visible to the current user. "
            "Ensure download destination folder exists (perhaps using win_file state=directory) "
            "before win_get_url runs."
        )
    run.result["dest"] = dest
    wanted = p["checksum"].strip().lower() if p["checksum"] else p["checksum"]
    algorithm = p["checksum_algorithm"].strip().lower()
    checksum_url = p["checksum_url"].strip() if p["checksum_url"] else None
    if checksum_url:
        if urllib.parse.urlsplit(checksum_url).scheme not in ("file", "ftp", "http", "https"):
            run.fail(f"Unsupported 'checksum_url' value for '{dest}': '{checksum_url}'")
        wanted = _checksum_from_url(run, checksum_url, url)

    dest_sum = _dest_checksum(host, dest, algorithm) if host.exists(dest) else None
    if dest_sum is not None and wanted and dest_sum != wanted:
        force = True  # a dest that does not match the checksum is always fetched again
    if dest_sum and wanted and dest_sum == wanted and not force:
        run.result["checksum_dest"] = dest_sum
        run.result["size"] = host.get(dest).size  # type: ignore[union-attr]
    elif force or not host.exists(dest) or _is_modified(run, url, dest):
        # force=no with an existing dest downloads only when the remote copy is newer (Compare-ModifiedFile)
        _download(run, url, dest, wanted=wanted, dest_sum=dest_sum, algorithm=algorithm)
    if "checksum_dest" not in run.result and host.exists(dest):
        run.result["checksum_dest"] = _dest_checksum(host, dest, algorithm)
        run.result["size"] = host.get(dest).size  # type: ignore[union-attr]
