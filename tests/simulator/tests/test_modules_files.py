"""win_copy (every _copy_mode), win_file, win_stat, slurp and win_get_url emulations."""

from __future__ import annotations

import base64
import hashlib
import io
import zipfile

import pytest

from tests.simulator.host import WindowsHost
from tests.simulator.modules.testing import call

TMP = r"C:\Users\Administrator\AppData\Local\Temp\ansible-tmp-1"


@pytest.fixture
def host() -> WindowsHost:
    return WindowsHost("files", os_version="10.0.20348.2527")


def sha1(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()  # noqa: S324 - what win_copy compares


# --------------------------------------------------------------------------------------------
# win_copy, driven the way plugins/action/win_copy.py drives it


def _query(host: WindowsHost, dest: str, data: bytes, name: str = "source", **extra: object) -> dict:
    files = [{"src": f"/controller/{name}", "dest": name, "checksum": sha1(data)}]
    return call(host, "win_copy", {"_copy_mode": "query", "dest": dest, "files": files, "directories": [], **extra})


def _single(host: WindowsHost, dest: str, data: bytes, **extra: object) -> dict:
    host.write_file(TMP + r"\source", data)  # what put_file left in the task's tmp dir
    return call(host, "win_copy", {"_copy_mode": "single", "src": TMP + r"\source", "dest": dest, **extra})


def test_query_then_single_then_query_again_reports_nothing_to_do(host: WindowsHost) -> None:
    data = b"version = 2\r\n"
    first = _query(host, r"C:\k", data, name="config.toml")
    assert [f["dest"] for f in first["files"]] == ["config.toml"] and first["changed"] is False
    assert first["directories"] == [] and first["symlinks"] == []
    missing_parent = _single(host, r"C:\k\config.toml", data, _original_basename="config.toml")
    assert missing_parent["msg"] == r"Destination directory 'C:\k' does not exist"  # as win_copy.ps1 says
    single = _single(host, "C:\\k\\", data, _original_basename="config.toml")  # a dir dest is created
    assert single == {"changed": True}
    assert host.read_file(r"C:\K\CONFIG.TOML") == data  # lookups ignore case
    assert _query(host, r"C:\k", data, name="config.toml")["files"] == []
    assert _query(host, r"C:\k", b"changed", name="config.toml")["files"]  # a different checksum is sent again
    assert _query(host, r"C:\k", b"changed", name="config.toml", force=False)["files"] == []


def test_single_into_a_directory_with_backup(host: WindowsHost) -> None:
    host.write_file(r"C:\k\a.txt", b"old")
    result = _single(host, "C:\\k\\", b"new", _original_basename="a.txt", backup=True)
    assert result["changed"] is True
    backup = result["backup_file"]
    assert backup.startswith(r"C:\k\a.txt.") and backup.endswith(".bak")
    assert host.read_file(backup) == b"old" and host.read_file(r"C:\k\a.txt") == b"new"


def test_single_refuses_a_missing_parent_and_a_missing_source(host: WindowsHost) -> None:
    assert _single(host, r"C:\nope\a.txt", b"x")["msg"] == r"Destination directory 'C:\nope' does not exist"
    gone = call(host, "win_copy", {"_copy_mode": "single", "src": TMP + r"\gone", "dest": r"C:\a"})
    assert gone == {
        "changed": False,
        "failed": True,
        "msg": f"Cannot copy src file: '{TMP}\\gone' as it does not exist",
    }


def test_explode_extracts_the_plugins_base64_named_zip(host: WindowsHost) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr(base64.b64encode(b"conf").decode() + "/", b"")
        archive.writestr(base64.b64encode(b"conf/a.toml").decode(), b"A")
        archive.writestr(base64.b64encode("b é.txt".encode()).decode(), b"B")
    host.write_file(TMP + r"\source.zip", buf.getvalue())
    result = call(host, "win_copy", {"_copy_mode": "explode", "src": TMP + r"\source.zip", "dest": r"C:\etc\cni"})
    assert result == {"changed": True}
    assert host.read_file(r"C:\etc\cni\conf\a.toml") == b"A"
    assert host.read_file("C:\\etc\\cni\\b é.txt") == b"B"


def test_remote_copy_of_a_file_and_a_folder(host: WindowsHost) -> None:
    host.write_file(r"C:\src\one.txt", b"1")
    host.write_file(r"C:\src\sub\two.txt", b"22")
    file_copy = call(host, "win_copy", {"_copy_mode": "remote", "src": r"C:\src\one.txt", "dest": "C:\\dst\\"})
    assert file_copy["changed"] is True and file_copy["operation"] == "file_copy"
    assert file_copy["dest"] == r"C:\dst\one.txt" and file_copy["checksum"] == sha1(b"1") and file_copy["size"] == 1
    assert file_copy["original_basename"] == "one.txt"
    again = call(host, "win_copy", {"_copy_mode": "remote", "src": r"C:\src\one.txt", "dest": "C:\\dst\\"})
    assert again["changed"] is False
    folder = call(host, "win_copy", {"_copy_mode": "remote", "src": r"C:\src", "dest": r"C:\dst2"}, diff=True)
    assert folder["operation"] == "folder_copy" and folder["dest"] == r"C:\dst2\src" and folder["size"] == 3
    assert host.read_file(r"C:\dst2\src\sub\two.txt") == b"22"
    assert "+C:\\dst2\\src\\sub\\two.txt\n" in folder["diff"]["prepared"]
    contents = call(host, "win_copy", {"_copy_mode": "remote", "src": "C:\\src\\", "dest": r"C:\dst3"})
    assert contents["changed"] is True and host.read_file(r"C:\dst3\sub\two.txt") == b"22"


def test_remote_copy_check_mode_changes_nothing(host: WindowsHost) -> None:
    host.write_file(r"C:\src\one.txt", b"1")
    host.mkdir(r"C:\dst")
    result = call(
        host, "win_copy", {"_copy_mode": "remote", "src": r"C:\src\one.txt", "dest": r"C:\dst\one.txt"}, check=True
    )
    assert result["changed"] is True and result["size"] is None and not host.exists(r"C:\dst\one.txt")


def test_remote_copy_errors(host: WindowsHost) -> None:
    assert call(host, "win_copy", {"_copy_mode": "remote", "src": r"C:\none", "dest": r"C:\x"})["msg"] == (
        r"Cannot copy src file: 'C:\none' as it does not exist"
    )
    host.write_file(r"C:\src\one.txt", b"1")
    host.mkdir(r"C:\dir\one.txt")
    clash = call(host, "win_copy", {"_copy_mode": "remote", "src": r"C:\src\one.txt", "dest": r"C:\dir"})
    assert clash["failed"] is True and clash["operation"] == "file_copy"
    assert clash["msg"] == r"cannot copy file from 'C:\src\one.txt' to 'C:\dir\one.txt': dest is already a folder"


def test_win_copy_disk_full_is_an_unhandled_exception(host: WindowsHost) -> None:
    host.write_file(TMP + r"\source", b"x")
    host.faults["disk_full"] = True
    result = call(host, "win_copy", {"_copy_mode": "single", "src": TMP + r"\source", "dest": r"C:\a.txt"})
    assert result["failed"] is True
    assert result["msg"] == "Unhandled exception while executing module: There is not enough space on the disk."


# --------------------------------------------------------------------------------------------
# win_file


def test_win_file_directory_touch_absent(host: WindowsHost) -> None:
    assert call(host, "win_file", {"path": r"C:\k\logs", "state": "directory"}) == {"changed": True}
    assert host.isdir(r"C:\k\logs")
    assert call(host, "win_file", {"path": r"C:\k\logs", "state": "directory"}) == {"changed": False}
    assert call(host, "win_file", {"path": r"C:\k\logs\a.log", "state": "touch"}) == {"changed": True}
    assert host.read_file(r"C:\k\logs\a.log") == b""
    assert call(host, "win_file", {"path": r"C:\k", "state": "absent"}) == {"changed": True}
    assert not host.exists(r"C:\k\logs\a.log")
    assert call(host, "win_file", {"path": r"C:\k", "state": "absent"}) == {"changed": False}


def test_win_file_check_mode_and_errors(host: WindowsHost) -> None:
    assert call(host, "win_file", {"path": r"C:\new", "state": "directory"}, check=True) == {"changed": True}
    assert not host.exists(r"C:\new")
    host.write_file(r"C:\f.txt", b"x")
    assert (
        call(host, "win_file", {"path": r"C:\f.txt", "state": "directory"})["msg"]
        == r"path C:\f.txt is not a directory"
    )
    assert call(host, "win_file", {"path": r"C:\Windows", "state": "file"})["msg"] == r"path C:\Windows is not a file"
    assert call(host, "win_file", {"path": r"C:\nothing.txt"})["msg"] == r"path C:\nothing.txt will not be created"
    touched = call(host, "win_file", {"path": r"C:\no\dir\a.txt", "state": "touch"})
    assert (
        touched["msg"]
        == r"Unhandled exception while executing module: Could not find a part of the path 'C:\no\dir\a.txt'."
    )


# --------------------------------------------------------------------------------------------
# win_stat and slurp


def test_win_stat_file_directory_and_missing(host: WindowsHost) -> None:
    host.write_file(r"C:\k\kubelet.exe", b"MZ kubelet")
    stat = call(host, "win_stat", {"path": r"c:\K\KUBELET.EXE"})["stat"]
    assert stat["exists"] is True and stat["isreg"] is True and stat["isdir"] is False
    assert stat["checksum"] == sha1(b"MZ kubelet") and stat["size"] == 10
    assert stat["path"] == r"C:\k\kubelet.exe" and stat["filename"] == "kubelet.exe" and stat["extension"] == ".exe"
    assert stat["attributes"] == "Archive" and stat["isarchive"] is True
    sha256 = call(host, "win_stat", {"path": r"C:\k\kubelet.exe", "checksum_algorithm": "sha256"})["stat"]["checksum"]
    assert sha256 == hashlib.sha256(b"MZ kubelet").hexdigest()
    no_sum = call(host, "win_stat", {"path": r"C:\k\kubelet.exe", "get_checksum": False})["stat"]
    assert "checksum" not in no_sum
    folder = call(host, "win_stat", {"path": r"C:\k"})["stat"]
    assert folder["isdir"] is True and folder["attributes"] == "Directory" and folder["size"] == 10
    assert call(host, "win_stat", {"path": r"C:\nope"}) == {
        "changed": False,
        "stat": {"exists": False},
        "invocation": {
            "module_args": {
                "path": r"C:\nope",
                "get_checksum": True,
                "get_size": True,
                "checksum_algorithm": "sha1",
                "follow": False,
            }
        },
    }


def test_slurp(host: WindowsHost) -> None:
    host.write_file(r"C:\etc\kubernetes\kubelet.conf", b"apiVersion: v1\n")
    result = call(host, "slurp", {"path": r"C:\etc\kubernetes\kubelet.conf"})
    assert result == {"changed": False, "content": base64.b64encode(b"apiVersion: v1\n").decode(), "encoding": "base64"}
    assert call(host, "slurp", {"src": r"C:\etc"})["msg"] == r"Path C:\etc is a directory"
    assert call(host, "slurp", {"src": r"C:\nope"})["msg"] == r"Path C:\nope is not found"


# --------------------------------------------------------------------------------------------
# win_get_url over a download fixture double (the interface of downloads.DownloadFixtures)


class DownloadError(Exception):
    def __init__(self, status: int | None, reason: str) -> None:
        super().__init__(f"{status} {reason}")
        self.status = status
        self.reason = reason


class Downloads:
    """``get(url) -> bytes`` or ``DownloadError(status, reason)``, like downloads.DownloadFixtures."""

    def __init__(self, content: dict[str, bytes]) -> None:
        self.content = content
        self.requests: list[str] = []

    def get(self, url: str) -> bytes:
        self.requests.append(url)
        if url not in self.content:
            raise DownloadError(404, "Not Found")
        return self.content[url]


BIN = b"MZ containerd 1.7.28"
URL = "https://github.com/containerd/containerd/releases/download/v1.7.28/containerd-1.7.28-windows-amd64.tar.gz"


@pytest.fixture
def dl_host(host: WindowsHost) -> WindowsHost:
    host.downloads = Downloads(
        {
            URL: BIN,
            URL + ".sha256sum": f"{hashlib.sha256(BIN).hexdigest()}  containerd-1.7.28-windows-amd64.tar.gz\n".encode(),
            "https://dl.k8s.io/v1.33.3/bin/windows/amd64/kubelet.exe.sha256": hashlib.sha256(b"k").hexdigest().encode(),
            "https://dl.k8s.io/v1.33.3/bin/windows/amd64/kubelet.exe": b"k",
        }
    )
    host.mkdir(r"C:\k")
    return host


def test_download_with_checksum_url_then_no_change(dl_host: WindowsHost) -> None:
    args = {"url": URL, "dest": "C:\\k", "checksum_url": URL + ".sha256sum", "checksum_algorithm": "sha256"}
    first = call(dl_host, "win_get_url", args)
    dest = r"C:\k\containerd-1.7.28-windows-amd64.tar.gz"
    assert first["changed"] is True and first["dest"] == dest and first["status_code"] == 200 and first["msg"] == "OK"
    assert first["checksum_dest"] == first["checksum_src"] == hashlib.sha256(BIN).hexdigest()
    assert first["size"] == len(BIN) and isinstance(first["elapsed"], float)
    assert dl_host.read_file(dest) == BIN
    second = call(dl_host, "win_get_url", {**args, "force": False})
    assert second["changed"] is False
    assert dl_host.downloads.requests.count(URL) == 1  # nothing fetched: dest matches the published checksum


def test_checksum_mismatch_and_404_fail_with_the_real_texts(dl_host: WindowsHost) -> None:
    bad = call(
        dl_host, "win_get_url", {"url": URL, "dest": r"C:\k\c.tgz", "checksum": "ABC", "checksum_algorithm": "md5"}
    )
    assert bad["failed"] is True and not dl_host.exists(r"C:\k\c.tgz")
    assert bad["msg"] == f"The checksum for {URL} did not match 'abc', it was '{hashlib.md5(BIN).hexdigest()}'"  # noqa: S324
    missing_url = "https://example.invalid/nope.zip"
    missing = call(dl_host, "win_get_url", {"url": missing_url, "dest": r"C:\k\nope.zip"})
    assert missing["msg"] == (
        f"Error downloading '{missing_url}' to 'C:\\k\\nope.zip': The remote server returned an error: (404) Not Found."
    )
    assert missing["status_code"] == 404 and missing["url"] == missing_url and missing["elapsed"] >= 0


def test_checksum_file_without_the_file_name_fails_as_on_windows(dl_host: WindowsHost) -> None:
    # dl.k8s.io .sha256 files hold only the hash: win_get_url's checksum_url cannot use them.
    url = "https://dl.k8s.io/v1.33.3/bin/windows/amd64/kubelet.exe"
    result = call(
        dl_host,
        "win_get_url",
        {"url": url, "dest": r"C:\k", "checksum_url": url + ".sha256", "checksum_algorithm": "sha256"},
    )
    assert result["msg"] == f"Checksum record not found for file name 'kubelet\\.exe' in file from url: '{url}.sha256'"


def test_download_check_mode_and_missing_parent(dl_host: WindowsHost) -> None:
    result = call(dl_host, "win_get_url", {"url": URL, "dest": r"C:\k\c.tgz"}, check=True)
    assert result["changed"] is True and not dl_host.exists(r"C:\k\c.tgz")
    parent = call(dl_host, "win_get_url", {"url": URL, "dest": r"C:\nope\c.tgz"})
    assert parent["msg"].startswith(r"The path 'C:\nope' does not exist for destination 'C:\nope\c.tgz'")


def test_force_no_keeps_an_existing_file_and_force_yes_compares_checksums(dl_host: WindowsHost) -> None:
    dl_host.write_file(r"C:\k\c.tgz", b"older")
    kept = call(dl_host, "win_get_url", {"url": URL, "dest": r"C:\k\c.tgz", "force": False})
    assert kept["changed"] is False and dl_host.read_file(r"C:\k\c.tgz") == b"older"
    replaced = call(dl_host, "win_get_url", {"url": URL, "dest": r"C:\k\c.tgz"})
    assert replaced["changed"] is True and dl_host.read_file(r"C:\k\c.tgz") == BIN
    same = call(dl_host, "win_get_url", {"url": URL, "dest": r"C:\k\c.tgz"})
    assert same["changed"] is False and same["checksum_src"] == same["checksum_dest"]


def test_a_host_without_download_fixtures_fails_loudly(host: WindowsHost) -> None:
    result = call(host, "win_get_url", {"url": URL, "dest": r"C:\x.tgz"})
    assert (
        result["failed"] is True
        and result["msg"] == "simulator: host has no download fixtures (host.downloads is not set)"
    )


# --------------------------------------------------------------------------------------------
# win_get_url over the real download fixtures (tests/simulator/downloads.py)

CONTAINERD_URL = (
    "https://github.com/containerd/containerd/releases/download/v1.7.28/containerd-1.7.28-windows-amd64.tar.gz"
)
KUBELET_URL = "https://dl.k8s.io/v1.32.0/bin/windows/amd64/kubelet.exe"


@pytest.fixture
def fixtures_host(host: WindowsHost) -> WindowsHost:
    from tests.simulator.downloads import DownloadFixtures

    host.downloads = DownloadFixtures()
    host.mkdir(r"C:\k")
    return host


def test_real_containerd_release_with_its_sha256sum(fixtures_host: WindowsHost) -> None:
    args = {
        "url": CONTAINERD_URL,
        "dest": "C:\\k\\",
        "checksum_url": CONTAINERD_URL + ".sha256sum",
        "checksum_algorithm": "sha256",
    }
    first = call(fixtures_host, "win_get_url", args)
    published = fixtures_host.downloads.get(CONTAINERD_URL + ".sha256sum").decode().split()[0]
    assert first["changed"] is True and first["checksum_dest"] == published
    assert first["dest"] == r"C:\k\containerd-1.7.28-windows-amd64.tar.gz"
    fetched = fixtures_host.downloads.requests[CONTAINERD_URL]
    second = call(fixtures_host, "win_get_url", {**args, "force": False})
    assert second["changed"] is False and fixtures_host.downloads.requests[CONTAINERD_URL] == fetched


def test_real_kubelet_checksums(fixtures_host: WindowsHost) -> None:
    bare = call(
        fixtures_host, "win_get_url", {"url": KUBELET_URL, "dest": r"C:\k", "checksum_url": KUBELET_URL + ".sha256"}
    )
    assert (
        bare["msg"]
        == f"Checksum record not found for file name 'kubelet\\.exe' in file from url: '{KUBELET_URL}.sha256'"
    )
    digest = fixtures_host.downloads.get(KUBELET_URL + ".sha512").decode().strip()
    ok = call(
        fixtures_host,
        "win_get_url",
        {"url": KUBELET_URL, "dest": r"C:\k", "checksum": digest, "checksum_algorithm": "sha512"},
    )
    assert ok["changed"] is True and ok["checksum_dest"] == digest


def test_real_fixture_faults(fixtures_host: WindowsHost) -> None:
    downloads = fixtures_host.downloads
    downloads.override(CONTAINERD_URL, b"tampered")
    sums = {"checksum_url": CONTAINERD_URL + ".sha256sum", "checksum_algorithm": "sha256"}
    tampered = call(fixtures_host, "win_get_url", {"url": CONTAINERD_URL, "dest": r"C:\k\c.tgz", **sums})
    assert tampered["msg"].startswith(f"The checksum for {CONTAINERD_URL} did not match '")
    assert tampered["msg"].endswith(f"it was '{hashlib.sha256(b'tampered').hexdigest()}'")
    downloads.fail(KUBELET_URL, 503)
    unavailable = call(fixtures_host, "win_get_url", {"url": KUBELET_URL, "dest": r"C:\k\kubelet.exe"})
    assert unavailable["msg"].endswith(": The remote server returned an error: (503) Service Unavailable.")
    assert unavailable["status_code"] == 503
    downloads.clear_faults()
    downloads.truncate(KUBELET_URL, 10)
    short = call(fixtures_host, "win_get_url", {"url": KUBELET_URL, "dest": r"C:\k\kubelet.exe"})
    assert short["msg"].endswith(": The underlying connection was closed: The connection was closed unexpectedly.")
    assert not fixtures_host.exists(r"C:\k\kubelet.exe")


def test_force_no_uses_last_modified_of_the_fixture(fixtures_host: WindowsHost) -> None:
    fixtures_host.write_file(r"C:\k\kubelet.exe", b"local copy")  # written now: newer than the fixture's date
    kept = call(fixtures_host, "win_get_url", {"url": KUBELET_URL, "dest": r"C:\k\kubelet.exe", "force": False})
    assert kept["changed"] is False and fixtures_host.read_file(r"C:\k\kubelet.exe") == b"local copy"
    fixtures_host.get(r"C:\k\kubelet.exe").mtime = 0  # older than Last-Modified: fetched again
    fetched = call(fixtures_host, "win_get_url", {"url": KUBELET_URL, "dest": r"C:\k\kubelet.exe", "force": False})
    assert fetched["changed"] is True and fixtures_host.read_file(r"C:\k\kubelet.exe") != b"local copy"
