"""win_find emulation: what win_find.ps1's Search-Path returns for the options the roles use and the
filters around them (file type, hidden, -like and regex patterns, size, recurse and depth)."""

from __future__ import annotations

import hashlib

import pytest

from tests.simulator.host import WindowsHost
from tests.simulator.modules.testing import call

BIN = r"C:\Program Files\containerd\staging\2.3.5\sha256-0123456789abcdef\bin"


@pytest.fixture
def host() -> WindowsHost:
    h = WindowsHost("find", os_version="10.0.20348.2527")
    for name in ("containerd.exe", "ctr.exe", "containerd-shim-runhcs-v1.exe", "containerd-stress.exe"):
        h.write_file(BIN + "\\" + name, b"MZ " + name.encode())
    h.mkdir(BIN + r"\sub")
    h.write_file(BIN + r"\sub\deep.exe", b"MZ deep")
    h.write_file(BIN + r"\README.md", b"# readme")
    h.write_file(BIN + r"\.hidden.exe", b"MZ hidden")
    h.get(BIN + r"\.hidden.exe").attributes = ["Hidden", "Archive"]  # type: ignore[union-attr]
    return h


def names(result: dict) -> list[str]:
    return [f["filename"] for f in result["files"]]


def test_the_release_binaries_in_one_run_with_every_key_of_the_ps1(host: WindowsHost) -> None:
    wanted = ["containerd.exe", "ctr.exe", "containerd-shim-runhcs-v1.exe"]
    result = call(host, "win_find", {"paths": [BIN], "patterns": wanted, "get_checksum": False})
    assert result["changed"] is False and "warnings" not in result
    # Sorted by path; every child of the folder (files, the sub folder, the hidden file) was examined.
    assert names(result) == ["containerd-shim-runhcs-v1.exe", "containerd.exe", "ctr.exe"]
    assert (result["examined"], result["matched"]) == (7, 3)
    assert result["files"][1] == {
        "attributes": "Archive",
        "checksum": None,
        "creationtime": result["files"][1]["creationtime"],
        "exists": True,
        "extension": ".exe",
        "filename": "containerd.exe",
        "isarchive": True,
        "isdir": False,
        "ishidden": False,
        "isreadonly": False,
        "isreg": True,
        "isshared": False,
        "lastaccesstime": result["files"][1]["lastaccesstime"],
        "lastwritetime": result["files"][1]["lastwritetime"],
        "owner": "BUILTIN\\Administrators",
        "path": BIN + r"\containerd.exe",
        "sharename": None,
        "size": len(b"MZ containerd.exe"),
        "isjunction": False,
        "islnk": False,
        "nlink": 1,
        "lnk_source": None,
        "lnk_target": None,
        "hlnk_targets": [],
    }
    assert isinstance(result["files"][1]["lastwritetime"], float)


def test_like_patterns_are_case_insensitive_wildcards_and_checksums_are_optional(host: WindowsHost) -> None:
    result = call(host, "win_find", {"paths": [BIN.upper()], "patterns": ["CONTAINERD*.EXE", "c?r.exe"]})
    assert names(result) == ["containerd-shim-runhcs-v1.exe", "containerd-stress.exe", "containerd.exe", "ctr.exe"]
    # The path keeps the case it was given in, the file name the case it has on disk.
    assert result["files"][2]["path"] == BIN.upper() + r"\containerd.exe"
    assert result["files"][2]["checksum"] == hashlib.sha1(b"MZ containerd.exe").hexdigest()  # noqa: S324
    sha256 = call(host, "win_find", {"paths": [BIN], "patterns": ["ctr.exe"], "checksum_algorithm": "sha256"})
    assert sha256["files"][0]["checksum"] == hashlib.sha256(b"MZ ctr.exe").hexdigest()
    assert names(call(host, "win_find", {"paths": [BIN], "patterns": ["c[st]r.exe", "[a-c]ontainerd.exe"]})) == [
        "containerd.exe",
        "ctr.exe",
    ]


def test_regex_patterns_search_and_honour_case_sensitive(host: WindowsHost) -> None:
    args = {"paths": [BIN], "patterns": ["^CTR"], "use_regex": True}
    assert names(call(host, "win_find", args)) == ["ctr.exe"]
    assert names(call(host, "win_find", {**args, "case_sensitive": True})) == []
    assert names(call(host, "win_find", {"paths": [BIN], "regex": ["stress"], "use_regex": True})) == [
        "containerd-stress.exe"
    ]


def test_hidden_file_type_and_size(host: WindowsHost) -> None:
    assert ".hidden.exe" not in names(call(host, "win_find", {"paths": [BIN]}))
    assert ".hidden.exe" in names(call(host, "win_find", {"paths": [BIN], "hidden": True}))
    folders = call(host, "win_find", {"paths": [BIN], "file_type": "directory"})
    assert names(folders) == ["sub"]
    assert folders["files"][0]["isdir"] is True and folders["files"][0]["size"] is None
    assert folders["files"][0]["extension"] is None and folders["files"][0]["attributes"] == "Directory"
    assert names(call(host, "win_find", {"paths": [BIN], "size": "11"})) == [
        "containerd-shim-runhcs-v1.exe",
        "containerd-stress.exe",
        "containerd.exe",
    ]
    assert names(call(host, "win_find", {"paths": [BIN], "size": "-8", "file_type": "any"})) == ["README.md", "sub"]
    bad = call(host, "win_find", {"paths": [BIN], "size": "10 kb"})
    assert bad["failed"] is True and bad["msg"] == "Invalid size pattern specified"


def test_recurse_and_depth(host: WindowsHost) -> None:
    assert "deep.exe" not in names(call(host, "win_find", {"paths": [BIN]}))
    deep = call(host, "win_find", {"paths": [BIN], "recurse": True, "patterns": ["*.exe"]})
    assert deep["files"][-1]["path"] == BIN + r"\sub\deep.exe" and deep["examined"] == 8
    assert "deep.exe" not in names(call(host, "win_find", {"paths": [BIN], "recurse": True, "depth": 1}))
    assert "deep.exe" in names(call(host, "win_find", {"paths": [BIN], "recurse": True, "depth": 2}))


def test_a_missing_path_or_a_file_warns_and_finds_nothing(host: WindowsHost) -> None:
    result = call(host, "win_find", {"paths": [r"C:\nope", BIN + r"\ctr.exe"]})
    assert "failed" not in result and result["files"] == [] and result["examined"] == 0
    assert result["warnings"] == [
        r"Argument path 'C:\nope' does not exist or is not accessible, skipping",
        f"Argument path '{BIN}\\ctr.exe' is a file not a directory, skipping",
    ]


def test_age_is_not_emulated(host: WindowsHost) -> None:
    result = call(host, "win_find", {"paths": [BIN], "age": "1d"})
    assert (
        result["failed"] is True
        and result["msg"] == "simulator: win_find age is not emulated (file times are not modelled)"
    )
