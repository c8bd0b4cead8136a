# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The controller's artifact cache against a real web server on 127.0.0.1, through ansible's open_url (the
opener the action plugin gives it): reuse, download, verification, the concurrency guarantee, bad inputs."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import re
import stat
import threading
from pathlib import Path
from typing import Any, Dict, List

import pytest
from ansible_collections.winkube.node.plugins.action.artifact_cache import _open
from ansible_collections.winkube.node.plugins.plugin_utils import artifact_cache as ac

from .local_http import LocalWeb

BODY = b"MZ kubelet 1.36.4 " * 1000
SHA = hashlib.sha256(BODY).hexdigest()
NO_WAIT = ac.Policy(retries=0, delay=0, timeout=10)


def entry(url: str, **extra: Any) -> Dict[str, Any]:
    return {"name": "kubelet.exe", "url": url, **(extra or {"sha256": SHA})}


def cache_files(cache: Path) -> List[str]:
    """Every file in the cache, relative, the hidden ones (lock, temporary files) included."""
    return sorted(str(p.relative_to(cache)) for p in cache.rglob("*") if p.is_file())


def test_downloads_once_then_reuses(web: LocalWeb, tmp_path: Path) -> None:
    url = web.serve("/v1.36.4/kubelet.exe", BODY)
    done, errors = ac.ensure_all(str(tmp_path), [entry(url)], _open, NO_WAIT)
    assert errors == []
    path = tmp_path / SHA / "kubelet.exe"
    assert [c.as_dict() for c in done] == [
        {"name": "kubelet.exe", "url": url, "sha256": SHA, "path": str(path), "downloaded": True}
    ]
    assert path.read_bytes() == BODY
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert cache_files(tmp_path) == [f"{SHA}/.kubelet.exe.verified", f"{SHA}/.lock", f"{SHA}/kubelet.exe"]

    again, errors = ac.ensure_all(str(tmp_path), [entry(url)], _open, NO_WAIT)
    assert errors == [] and again[0].downloaded is False and again[0].path == str(path)
    assert web.count("/v1.36.4/kubelet.exe") == 1


def test_a_pinned_digest_is_accepted_in_upper_case(web: LocalWeb, tmp_path: Path) -> None:
    url = web.serve("/kubelet.exe", BODY)
    done, errors = ac.ensure_all(str(tmp_path), [entry(url, sha256=SHA.upper())], _open, NO_WAIT)
    assert errors == [] and done[0].sha256 == SHA and done[0].path == str(tmp_path / SHA / "kubelet.exe")


@pytest.mark.parametrize(
    ("checksum_path", "content"),
    [
        ("/v1.36.4/kubelet.exe.sha256", SHA),  # dl.k8s.io: the digest only
        ("/v1.36.4/kubelet.exe.sha256sum", f"{SHA.upper()}  kubelet.exe\n"),  # GitHub: "digest  name"
    ],
)
def test_the_digest_is_read_from_checksum_url(web: LocalWeb, tmp_path: Path, checksum_path: str, content: str) -> None:
    url = web.serve("/v1.36.4/kubelet.exe", BODY)
    checksum_url = web.serve(checksum_path, content.encode())
    done, errors = ac.ensure_all(str(tmp_path), [entry(url, checksum_url=checksum_url)], _open, NO_WAIT)
    assert errors == [] and done[0].sha256 == SHA and done[0].downloaded
    assert (tmp_path / SHA / "kubelet.exe").read_bytes() == BODY


def test_with_both_a_digest_and_its_checksum_url_the_url_is_only_named(web: LocalWeb, tmp_path: Path) -> None:
    # The kubernetes role read its .sha256 files once for the play; the nodes' tasks must not read them again.
    checksum_url = web.serve("/kubelet.exe.sha256", SHA.encode())
    url = web.serve("/kubelet.exe", b"not kubelet")
    done, errors = ac.ensure_all(str(tmp_path), [entry(url, sha256=SHA, checksum_url=checksum_url)], _open, NO_WAIT)
    assert done == [] and f"against the expected SHA-256 {SHA} (published at {checksum_url}): attempt 1" in errors[0]
    assert web.count("/kubelet.exe.sha256") == 0 and web.count("/kubelet.exe") == 1


def test_a_checksum_line_for_another_file_or_an_unreadable_one_downloads_nothing(web: LocalWeb, tmp_path: Path) -> None:
    url = web.serve("/v2.1.5/containerd-2.1.5-windows-amd64.tar.gz", BODY)
    other = web.serve("/other.sha256sum", f"{SHA}  containerd-2.1.4-windows-amd64.tar.gz\n".encode())
    missing = web.url("/missing.sha256sum")
    done, errors = ac.ensure_all(
        str(tmp_path),
        [
            {"name": "a.tar.gz", "url": url, "checksum_url": other},
            {"name": "b.tar.gz", "url": url, "checksum_url": missing},
        ],
        _open,
        NO_WAIT,
    )
    assert done == []
    assert errors[0] == (
        f"a.tar.gz: the checksum file {other} is not usable: checksum line names "
        "'containerd-2.1.4-windows-amd64.tar.gz', not 'containerd-2.1.5-windows-amd64.tar.gz'"
    )
    assert errors[1] == (
        f"b.tar.gz: the published checksum {missing} could not be read on the controller "
        f"(attempt 1: HTTP Error 404: Not Found), so {url} was not downloaded"
    )
    assert web.count("/v2.1.5/containerd-2.1.5-windows-amd64.tar.gz") == 0
    assert cache_files(tmp_path) == []


def test_a_digest_mismatch_fails_with_both_digests_and_leaves_nothing(web: LocalWeb, tmp_path: Path) -> None:
    tampered = BODY + b"tampered"
    url = web.serve("/kubelet.exe", tampered)
    pauses: List[float] = []
    done, errors = ac.ensure_all(str(tmp_path), [entry(url)], _open, ac.Policy(retries=1, delay=3), pauses.append)
    actual = hashlib.sha256(tampered).hexdigest()
    assert done == []
    assert errors == [
        f"kubelet.exe: {url} could not be downloaded and verified against the expected SHA-256 {SHA} (pinned): "
        f"attempt 1: the download's SHA-256 is {actual}; attempt 2: the download's SHA-256 is {actual}. "
        f"Nothing was put in {tmp_path / SHA}."
    ]
    assert web.count("/kubelet.exe") == 2 and pauses == [3]
    # Only the lock file: neither the final name nor a temporary file survives.
    assert cache_files(tmp_path) == [f"{SHA}/.lock"]


def test_a_failed_request_is_tried_again(web: LocalWeb, tmp_path: Path) -> None:
    url = web.serve("/kubelet.exe", BODY, status=503, fail_times=1)
    done, errors = ac.ensure_all(str(tmp_path), [entry(url)], _open, ac.Policy(retries=2, delay=0))
    assert errors == [] and done[0].downloaded and web.count("/kubelet.exe") == 2


def test_a_truncated_body_or_an_http_error_leaves_nothing(web: LocalWeb, tmp_path: Path) -> None:
    short = web.serve("/short.exe", BODY, truncate_by=100)
    gone = web.serve("/gone.exe", BODY, status=410)
    done, errors = ac.ensure_all(
        str(tmp_path),
        [{"name": "short.exe", "url": short, "sha256": SHA}, {"name": "gone.exe", "url": gone, "sha256": SHA}],
        _open,
        NO_WAIT,
    )
    assert done == [] and len(errors) == 2
    assert errors[0] == (
        f"short.exe: {short} could not be downloaded and verified against the expected SHA-256 {SHA} (pinned): "
        f"attempt 1: the connection closed after {len(BODY) - 100} of the {len(BODY)} bytes announced. "
        f"Nothing was put in {tmp_path / SHA}."
    )
    assert errors[1].endswith(f"(pinned): attempt 1: HTTP Error 410: Gone. Nothing was put in {tmp_path / SHA}.")
    assert cache_files(tmp_path) == [f"{SHA}/.lock"]


def test_validate_certs_is_honoured(web_tls: LocalWeb, tmp_path: Path) -> None:
    url = web_tls.serve("/kubelet.exe", BODY)
    done, errors = ac.ensure_all(str(tmp_path), [entry(url, sha256=SHA)], _open, NO_WAIT)
    assert done == [] and "attempt 1: " in errors[0] and "CERTIFICATE_VERIFY_FAILED" in errors[0]
    assert cache_files(tmp_path) == [f"{SHA}/.lock"]
    done, errors = ac.ensure_all(str(tmp_path), [entry(url, sha256=SHA, validate_certs=False)], _open, NO_WAIT)
    assert errors == [] and done[0].downloaded


def test_one_failing_file_does_not_stop_the_others(web: LocalWeb, tmp_path: Path) -> None:
    good = web.serve("/kubeadm.exe", BODY)
    done, errors = ac.ensure_all(
        str(tmp_path),
        [
            {"name": "kubelet.exe", "url": web.url("/nope"), "sha256": "0" * 64},
            {"name": "kubeadm.exe", "url": good, "sha256": SHA},
        ],
        _open,
        NO_WAIT,
    )
    assert [c.name for c in done] == ["kubeadm.exe"] and len(errors) == 1 and errors[0].startswith("kubelet.exe: ")


def test_a_damaged_cached_file_is_replaced_and_stale_temporary_files_are_removed(web: LocalWeb, tmp_path: Path) -> None:
    url = web.serve("/kubelet.exe", BODY)
    folder = tmp_path / SHA
    folder.mkdir()
    (folder / "kubelet.exe").write_bytes(b"damaged")
    (folder / ".kubelet.exe.abc123.part").write_bytes(b"left by a killed fork")
    done, errors = ac.ensure_all(str(tmp_path), [entry(url)], _open, NO_WAIT)
    assert errors == [] and done[0].downloaded
    assert (folder / "kubelet.exe").read_bytes() == BODY
    assert cache_files(tmp_path) == [f"{SHA}/.kubelet.exe.verified", f"{SHA}/.lock", f"{SHA}/kubelet.exe"]


def test_a_file_hashed_once_is_not_hashed_again_until_it_changes(
    web: LocalWeb, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every node's task asks for the same files: the stamp spares the controller hashing them per node.
    url = web.serve("/kubelet.exe", BODY)
    assert ac.ensure_all(str(tmp_path), [entry(url)], _open, NO_WAIT)[1] == []
    hashed: list[str] = []
    real = ac.file_sha256
    monkeypatch.setattr(ac, "file_sha256", lambda path: hashed.append(path) or real(path))
    for _node in range(3):
        assert ac.ensure_all(str(tmp_path), [entry(url)], _open, NO_WAIT)[0][0].downloaded is False
    assert hashed == []
    # Changed behind the cache's back, even to the same size with the old modification time: the status
    # change time differs, so the file is hashed, found wrong and downloaded again.
    path = tmp_path / SHA / "kubelet.exe"
    before = path.stat()
    path.write_bytes(b"X" * len(BODY))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    done, errors = ac.ensure_all(str(tmp_path), [entry(url)], _open, NO_WAIT)
    assert errors == [] and done[0].downloaded is True and path.read_bytes() == BODY
    # Hashed before taking the lock and again under it (another fork may have replaced it meanwhile).
    assert hashed == [str(path)] * 2 and web.count("/kubelet.exe") == 2
    # A stamp for other content is no proof either.
    (tmp_path / SHA / ".kubelet.exe.verified").write_text("0" * 64 + " 1:2:3:4:5\n")
    assert ac.ensure_all(str(tmp_path), [entry(url)], _open, NO_WAIT)[0][0].downloaded is False
    assert len(hashed) == 3


def test_a_damaged_cached_file_is_removed_even_when_the_download_fails(web: LocalWeb, tmp_path: Path) -> None:
    folder = tmp_path / SHA
    folder.mkdir()
    (folder / "kubelet.exe").write_bytes(b"damaged")
    errors = ac.ensure_all(str(tmp_path), [entry(web.url("/nope"))], _open, NO_WAIT)[1]
    assert len(errors) == 1 and cache_files(tmp_path) == [f"{SHA}/.lock"]


def test_concurrent_threads_download_once(web: LocalWeb, tmp_path: Path) -> None:
    # Slow enough that every thread asks before the first download is done.
    url = web.serve("/kubelet.exe", BODY, delay=0.5)
    barrier = threading.Barrier(8)
    results: List[ac.Cached] = []

    def one() -> None:
        barrier.wait()
        results.append(ac.ensure(str(tmp_path), ac.parse_artifact(entry(url)), _open, NO_WAIT))

    threads = [threading.Thread(target=one) for _thread in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 8 and {r.path for r in results} == {str(tmp_path / SHA / "kubelet.exe")}
    assert sum(r.downloaded for r in results) == 1
    assert web.count("/kubelet.exe") == 1


def _fork_main(cache: str, url: str, start: Any, out: Any) -> None:
    start.wait()
    cached = ac.ensure(cache, ac.parse_artifact(entry(url)), _open, NO_WAIT)
    out.put(cached.downloaded)


def test_concurrent_processes_download_once(web: LocalWeb, tmp_path: Path) -> None:
    # Forks are what ansible-playbook runs hosts in: the lock is a flock on a file, shared across processes.
    url = web.serve("/kubelet.exe", BODY, delay=0.5)
    context = multiprocessing.get_context("fork")
    start, out = context.Event(), context.Queue()
    procs = [context.Process(target=_fork_main, args=(str(tmp_path), url, start, out)) for _proc in range(4)]
    for p in procs:
        p.start()
    start.set()
    for p in procs:
        p.join(30)
    assert [p.exitcode for p in procs] == [0, 0, 0, 0]
    assert sorted(out.get(timeout=5) for _proc in procs) == [False, False, False, True]
    assert web.count("/kubelet.exe") == 1
    assert (tmp_path / SHA / "kubelet.exe").read_bytes() == BODY


def test_bad_cache_folders_fail_before_any_request(web: LocalWeb, tmp_path: Path) -> None:
    url = web.serve("/kubelet.exe", BODY)
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("x")
    with pytest.raises(ValueError, match="must be an absolute folder on the controller, not a relative path"):
        ac.ensure_all("relative/cache", [entry(url)], _open, NO_WAIT)
    with pytest.raises(ValueError, match=re.escape(f"cache {not_a_folder} cannot be created as a folder on the")):
        ac.ensure_all(str(not_a_folder), [entry(url)], _open, NO_WAIT)
    with pytest.raises(ValueError, match=re.escape(f"cache {not_a_folder / 'sub'} cannot be created as a folder")):
        ac.ensure_all(str(not_a_folder / "sub"), [entry(url)], _open, NO_WAIT)
    assert web.count("/kubelet.exe") == 0


def test_a_read_only_cache_folder_is_refused(web: LocalWeb, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = web.serve("/k.exe", BODY)
    if os.geteuid() == 0:
        # root may write into a 0500 folder: what the check asks the OS is answered "no" here instead.
        real_access = os.access
        monkeypatch.setattr(ac.os, "access", lambda p, mode: False if Path(p) == tmp_path else real_access(p, mode))
    tmp_path.chmod(0o500)
    try:
        with pytest.raises(ValueError, match="is not a folder the controller's user can write to"):
            ac.ensure_all(str(tmp_path), [entry(url)], _open, NO_WAIT)
    finally:
        tmp_path.chmod(0o700)
    assert web.count("/k.exe") == 0


def test_a_digest_folder_that_cannot_be_created_fails_that_file(web: LocalWeb, tmp_path: Path) -> None:
    (tmp_path / SHA).write_text("a file where the digest folder goes")
    errors = ac.ensure_all(str(tmp_path), [entry(web.serve("/k.exe", BODY))], _open, NO_WAIT)[1]
    assert errors == [f"kubelet.exe: cannot create the cache folder {tmp_path / SHA}: File exists"]


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"name": "../kubelet.exe"}, "name '../kubelet.exe' must be a plain file name"),
        ({"name": ".lock"}, "name '.lock' must be a plain file name"),
        ({"name": "a/b"}, "name 'a/b' must be a plain file name"),
        ({"url": "ftp://x/k.exe"}, "kubelet.exe: url 'ftp://x/k.exe' is not an http(s) URL with a host"),
        ({"sha256": "abc"}, "kubelet.exe: sha256 must be 64 hex digits, got 'abc'"),
        ({"sha256": None}, "kubelet.exe: give sha256 (the expected digest) or checksum_url (where it is published)"),
        ({"checksum_url": "file:///k.sha256"}, "kubelet.exe: checksum_url 'file:///k.sha256' is not an http(s) URL"),
        ({"validate_certs": "yes"}, "kubelet.exe: validate_certs must be a boolean"),
    ],
)
def test_bad_entries_are_refused(bad: Dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError) as raised:
        ac.parse_artifact({"name": "kubelet.exe", "url": "https://dl.k8s.io/k.exe", "sha256": SHA, **bad})
    assert message in str(raised.value)


def test_url_file_name() -> None:
    assert ac.url_file_name("https://h/v2.1.5/containerd-2.1.5-windows-amd64.tar.gz?x=1") == (
        "containerd-2.1.5-windows-amd64.tar.gz"
    )
    assert ac.url_file_name("https://h/a%20b.zip") == "a b.zip"
