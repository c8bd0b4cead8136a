# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""config.toml and hosts.toml rendering: the output is parsed back with tomllib and its keys are
checked against domain facts 4b for each schema; extra settings that would change what the plan
decides are refused."""

from __future__ import annotations

import copy
import math
import tomllib
from typing import Any, Dict

import pytest
from ansible_collections.winkube.node.plugins.module_utils import containerd_config as cc

PAUSE = "mcr.microsoft.com/oss/kubernetes/pause:3.6"
ROOT = r"C:\ProgramData\containerd\root"
STATE = r"C:\ProgramData\containerd\state"
PIPE = r"\\.\pipe\containerd-containerd"
CNI_BIN = r"C:\Program Files\containerd\cni\bin"
CNI_CONF = r"C:\Program Files\containerd\cni\conf"
CERTS = r"C:\ProgramData\containerd\certs.d"
CRI = "io.containerd.grpc.v1.cri"
IMAGES = "io.containerd.cri.v1.images"
RUNTIME = "io.containerd.cri.v1.runtime"


def plan(version: str = "2.3.5", schema: int = 3, **changes: Any) -> Dict[str, Any]:
    """A containerd plan as node_plan returns it (plugins/modules/node_plan.py RETURN)."""
    p: Dict[str, Any] = {
        "runtime": "containerd",
        "pause_image": PAUSE,
        "pause_image_profile": "production",
        "pause_image_source": "profile",
        "registry_mirrors": {},
        "containerd": {
            "version": version,
            "config_schema": {"write": schema, "latest": 4 if version.startswith("2.3") else schema},
            "install_dir": r"C:\Program Files\containerd",
            "config_path": r"C:\Program Files\containerd\config.toml",
            "root": ROOT,
            "state": STATE,
            "cni_bin_dir": CNI_BIN,
            "cni_conf_dir": CNI_CONF,
            "pipe": PIPE,
            "service_name": "containerd",
        },
    }
    p["containerd"].update(changes)
    return p


def settings(version: str = "2.3.5", schema: int = 3) -> cc.ConfigSettings:
    return cc.settings_from_plan(plan(version, schema))


def render(version: str = "2.3.5", schema: int = 3, extra: Any = None) -> Dict[str, Any]:
    text = cc.render_config(settings(version, schema), extra)
    return tomllib.loads(text)


# --- the keys of each schema (domain facts 4b) ---------------------------------------------------


@pytest.mark.parametrize("version", ["1.6.39", "1.7.28", "1.7.31"])
def test_schema_2_for_containerd_1(version: str) -> None:
    doc = render(version, 2)
    assert doc["version"] == 2
    assert (doc["root"], doc["state"], doc["grpc"]) == (ROOT, STATE, {"address": PIPE})
    cri = doc["plugins"][CRI]
    assert cri["sandbox_image"] == PAUSE
    assert cri["cni"] == {"bin_dir": CNI_BIN, "conf_dir": CNI_CONF}
    assert cri["registry"] == {"config_path": CERTS}
    # Nothing of the 2.x layout, and no deprecated mirrors next to config_path.
    assert set(doc["plugins"]) == {CRI}
    assert set(cri) == {"sandbox_image", "cni", "registry"}


@pytest.mark.parametrize(
    ("version", "cni_bin"),
    [
        ("2.0.6", {"bin_dir": CNI_BIN}),  # bin_dirs arrived in 2.1
        ("2.1.5", {"bin_dirs": [CNI_BIN]}),
        ("2.2.3", {"bin_dirs": [CNI_BIN]}),
        ("2.3.5", {"bin_dirs": [CNI_BIN]}),  # 2.3 introduced version 4 and still takes 3
    ],
)
def test_schema_3_for_containerd_2(version: str, cni_bin: Dict[str, Any]) -> None:
    doc = render(version, 3)
    assert doc["version"] == 3
    assert (doc["root"], doc["state"], doc["grpc"]) == (ROOT, STATE, {"address": PIPE})
    assert set(doc["plugins"]) == {IMAGES, RUNTIME}
    assert doc["plugins"][IMAGES] == {"pinned_images": {"sandbox": PAUSE}, "registry": {"config_path": CERTS}}
    assert doc["plugins"][RUNTIME] == {"cni": {**cni_bin, "conf_dir": CNI_CONF}}


def test_the_text_is_ascii_without_bom_and_readable() -> None:
    text = cc.render_config(settings())
    assert text.isascii() and not text.startswith("\ufeff") and text.endswith("\n")
    assert text.splitlines()[0] == "# containerd 2.3.5 configuration (config version 3), written by winkube.node."
    # Literal strings keep Windows paths single-backslashed.
    assert "  address = '\\\\.\\pipe\\containerd-containerd'" in text.splitlines()
    assert "[plugins.'io.containerd.cri.v1.images'.pinned_images]" in text.splitlines()


def test_the_registry_folder_is_an_input() -> None:
    s = cc.settings_from_plan(plan(), r"D:\registries")
    assert tomllib.loads(cc.render_config(s))["plugins"][IMAGES]["registry"] == {"config_path": r"D:\registries"}


def test_same_input_same_bytes() -> None:
    extra = {"plugins": {"io.containerd.gc.v1.scheduler": {"pause_threshold": 0.05}}}
    assert cc.render_config(settings(), extra) == cc.render_config(settings(), copy.deepcopy(extra))


# --- reading the plan ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("not a plan", "winkube_plan is a str, not a mapping"),
        ({"runtime": "mcr", "containerd": None}, "no containerd block (runtime is 'mcr')"),
        (plan("2.3.5", 2), "the plan says config schema 2 for containerd 2.3.5, but containerd 2.x configs"),
        (plan("1.7.31", 3), "containerd 1.x configs are written as version 2"),
        (plan("3.0.0", 3), "only majors 1 and 2 have a known config schema"),
        (plan(config_schema=None), "the plan says config schema -1"),
        (plan(pipe=""), "winkube_plan.containerd.pipe is '', not a non-empty string"),
        (plan(version="2.3"), "needs a patch number"),
        ({**plan(), "pause_image": None}, "winkube_plan.pause_image is None"),
    ],
)
def test_plans_that_cannot_be_rendered(given: Any, message: str) -> None:
    with pytest.raises(ValueError) as err:
        cc.settings_from_plan(given)
    assert message in str(err.value)


def test_registry_folder_must_be_absolute() -> None:
    with pytest.raises(ValueError, match="not an absolute Windows path"):
        cc.settings_from_plan(plan(), "certs.d")


# --- extra settings --------------------------------------------------------------------------------


def test_extra_settings_are_deep_merged() -> None:
    extra = {
        "debug": {"level": "info"},
        "plugins": {
            IMAGES: {"discard_unpacked_layers": True, "pinned_images": {"sandbox": PAUSE}},
            RUNTIME: {"containerd": {"runtimes": {"runhcs-wcow-hypervisor": {"options": {"SandboxIsolation": 1}}}}},
            CRI: {"stream_server_port": "10010", "enable_tls_streaming": False},
            "io.containerd.transfer.v1.local": {
                "unpack_config": [{"platform": "windows/amd64", "snapshotter": "windows"}],
            },
        },
        "timeouts": {"io.containerd.timeout.shim.load": "10s"},
        "imports": [r"C:\Program Files\containerd\conf.d\*.toml"],
    }
    doc = render(extra=extra)
    assert doc["debug"] == {"level": "info"}
    assert doc["plugins"][IMAGES] == {
        "pinned_images": {"sandbox": PAUSE},
        "registry": {"config_path": CERTS},
        "discard_unpacked_layers": True,
    }
    assert doc["plugins"][RUNTIME]["cni"]["conf_dir"] == CNI_CONF  # merged, not replaced
    assert doc["plugins"][RUNTIME]["containerd"]["runtimes"]["runhcs-wcow-hypervisor"]["options"] == {
        "SandboxIsolation": 1
    }
    assert doc["plugins"][CRI] == {"stream_server_port": "10010", "enable_tls_streaming": False}
    assert doc["plugins"]["io.containerd.transfer.v1.local"]["unpack_config"] == [
        {"platform": "windows/amd64", "snapshotter": "windows"}
    ]
    assert doc["timeouts"] == {"io.containerd.timeout.shim.load": "10s"}
    assert doc["imports"] == [r"C:\Program Files\containerd\conf.d\*.toml"]


def test_extra_settings_do_not_change_the_input() -> None:
    extra = {"plugins": {IMAGES: {"discard_unpacked_layers": True}}}
    before = copy.deepcopy(extra)
    render(extra=extra)
    assert extra == before


def test_values_equal_to_the_plan_are_accepted() -> None:
    doc = render(extra={"version": 3, "root": ROOT, "plugins": {RUNTIME: {"cni": {"bin_dirs": [CNI_BIN]}}}})
    assert doc["version"] == 3


@pytest.mark.parametrize(
    ("version", "schema", "extra", "message"),
    [
        ("2.3.5", 3, {"version": 2}, "version is decided by the plan (3); extra config has 2"),
        ("1.7.31", 2, {"version": 3}, "version is decided by the plan (2); extra config has 3"),
        ("2.3.5", 3, {"root": r"D:\containerd"}, "root is decided by the plan ('C:\\ProgramData\\containerd\\root')"),
        ("2.3.5", 3, {"state": r"D:\state"}, "state is decided by the plan"),
        ("2.3.5", 3, {"grpc": {"address": r"\\.\pipe\other"}}, "grpc.address is decided by the plan"),
        ("2.3.5", 3, {"grpc": "off"}, "grpc would replace the table holding grpc.address with 'off'"),
        (
            "2.3.5",
            3,
            {"plugins": {IMAGES: {"pinned_images": {"sandbox": "registry.k8s.io/pause:3.10.2"}}}},
            "plugins.'io.containerd.cri.v1.images'.pinned_images.sandbox is decided by the plan",
        ),
        (
            "1.7.31",
            2,
            {"plugins": {CRI: {"sandbox_image": "registry.k8s.io/pause:3.8"}}},
            "plugins.'io.containerd.grpc.v1.cri'.sandbox_image is decided by the plan",
        ),
        (
            "1.7.31",
            2,
            {"plugins": {CRI: {"cni": {"conf_dir": r"C:\etc\cni\net.d"}}}},
            "plugins.'io.containerd.grpc.v1.cri'.cni.conf_dir is decided by the plan",
        ),
        (
            "2.3.5",
            3,
            {"plugins": {IMAGES: {"registry": {"config_path": r"C:\certs"}}}},
            "plugins.'io.containerd.cri.v1.images'.registry.config_path is decided by the plan",
        ),
        ("2.3.5", 3, {"plugins": "none"}, "plugins would replace the table holding"),
        ("2.3.5", 3, {"plugins": {IMAGES: []}}, "plugins.'io.containerd.cri.v1.images' would replace the table"),
        (
            "2.3.5",
            3,
            {"plugins": {RUNTIME: {"cni": {"bin_dir": CNI_BIN}}}},
            "plugins.'io.containerd.cri.v1.runtime'.cni.bin_dir must not be set",
        ),
        (
            "2.0.6",
            3,
            {"plugins": {RUNTIME: {"cni": {"bin_dirs": [CNI_BIN]}}}},
            "plugins.'io.containerd.cri.v1.runtime'.cni.bin_dirs must not be set",
        ),
        (
            "1.7.31",
            2,
            {"plugins": {IMAGES: {"discard_unpacked_layers": True}}},
            "plugins.'io.containerd.cri.v1.images' is a containerd 2.x section (config version 3); containerd 1.7.31",
        ),
        (
            "2.2.3",
            3,
            {"plugins": {CRI: {"containerd": {"snapshotter": "windows"}}}},
            "plugins.'io.containerd.grpc.v1.cri'.containerd is a config version 2 key; in version 3",
        ),
        (
            "2.3.5",
            3,
            {"plugins": {CRI: {"sandbox_image": PAUSE}}},
            "plugins.'io.containerd.grpc.v1.cri'.sandbox_image is a config version 2 key",
        ),
        (
            "1.7.31",
            2,
            {"plugins": {CRI: {"registry": {"mirrors": {"docker.io": {"endpoint": ["https://m"]}}}}}},
            "registry.mirrors is the deprecated CRI registry setting",
        ),
        (
            "2.3.5",
            3,
            {"plugins": {IMAGES: {"registry": {"configs": {"r.example": {"auth": {"username": "u"}}}}}}},
            "registry.configs is the deprecated CRI registry setting",
        ),
        (
            "2.3.5",
            3,
            {"plugins": {"io.containerd.server.v1.grpc": {"address": PIPE}}},
            "plugins.'io.containerd.server.v1.grpc' is a config version 4 server plugin",
        ),
    ],
)
def test_extra_settings_that_are_refused(version: str, schema: int, extra: Any, message: str) -> None:
    with pytest.raises(ValueError) as err:
        render(version, schema, extra)
    assert str(err.value).startswith("containerd_extra_config is refused: ")
    assert message in str(err.value)


def test_every_refusal_is_listed_in_one_message() -> None:
    with pytest.raises(ValueError) as err:
        render(extra={"version": 2, "root": r"D:\x", "plugins": {CRI: {"sandbox_image": PAUSE}}})
    text = str(err.value)
    assert text.count("; ") >= 2
    for part in ("version is decided", "root is decided", "sandbox_image is a config version 2 key"):
        assert part in text


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["not", "a", "table"], "containerd_extra_config must be a mapping of TOML tables and keys, got list"),
        ({"debug": {"level": None}}, "containerd_extra_config debug.level is null"),
        ({"debug": {1: "x"}}, "containerd_extra_config key 1 under debug is not a name"),
        ({"gc": {"pause_threshold": math.nan}}, "gc.pause_threshold is nan; only finite numbers"),
        ({"x": {"when": object()}}, "x.when is a object, not a TOML value"),
        ({"x": [{"a": 1}, 2]}, "x: a list mixing tables and values cannot be written as TOML"),
    ],
)
def test_extra_settings_that_toml_cannot_hold(extra: Any, message: str) -> None:
    with pytest.raises(ValueError) as err:
        render(extra=extra)
    assert message in str(err.value)


# --- the TOML writer -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "plain",
        r"C:\Program Files\x",
        "it's",
        'quote " and \\ backslash',
        "tab\tnew\nline\r\x01\x7f",
        "caf\u00e9 \u2603 \U0001f600",
        "",
    ],
)
def test_strings_round_trip_and_stay_ascii(value: str) -> None:
    text = cc.dumps_toml({"k": value, "t": {value or "empty": value}})
    assert text.isascii()
    assert tomllib.loads(text) == {"k": value, "t": {value or "empty": value}}


def test_values_tables_and_arrays_round_trip() -> None:
    doc = {
        "b": True,
        "i": -3,
        "f": 0.25,
        "list": [1, 2, [3, "x"]],
        "empty": [],
        "only_children": {"child": {"x": 1}},
        "empty_table": {},
        "tables": [{"a": 1, "sub": {"b": 2}}, {"a": 2}],
        "dotted.key": {"'quoted'": 1},
    }
    text = cc.dumps_toml(doc)
    assert tomllib.loads(text) == doc
    assert "[only_children]" not in text  # a table of tables needs no header
    assert "[empty_table]" in text  # an empty one does
    assert text.count("[[tables]]") == 2


# --- hosts.toml (containerd docs/hosts.md) ------------------------------------------------------


def test_hosts_files_per_registry() -> None:
    files = cc.hosts_files(
        {
            "registry.example:5000": ["https://mirror.example/registry-example/", "http://10.0.0.5:5000"],
            "docker.io": ["https://mirror.example"],
        }
    )
    assert [(f.registry, f.directory) for f in files] == [
        ("docker.io", "docker.io"),
        ("registry.example:5000", "registry.example_5000_"),  # Windows has no ':' in names
    ]
    docker = tomllib.loads(files[0].content)
    assert docker == {
        "server": "https://registry-1.docker.io",
        "host": {"https://mirror.example": {"capabilities": ["pull", "resolve"]}},
    }
    other = tomllib.loads(files[1].content)
    assert other["server"] == "https://registry.example:5000"
    # Mirrors are tried in the order given, then the server.
    assert list(other["host"]) == ["https://mirror.example/registry-example", "http://10.0.0.5:5000"]
    assert files[1].content.isascii()


def test_capabilities_are_an_input() -> None:
    (only,) = cc.hosts_files({"quay.io": ["https://m.example"]}, ["pull"])
    assert tomllib.loads(only.content)["host"]["https://m.example"] == {"capabilities": ["pull"]}


def test_no_mirrors_no_files() -> None:
    assert cc.hosts_files({}) == []
    assert cc.hosts_files(None) == []


@pytest.mark.parametrize(
    ("mirrors", "capabilities", "message"),
    [
        ({"docker.io": ["https://user:pw@mirror.example"]}, ["pull"], "carries credentials in its URL"),
        ({"docker.io": ["ftp://mirror.example"]}, ["pull"], "is not an http:// or https:// URL with a host"),
        ({"docker.io": ["https://m.example/?x=1"]}, ["pull"], "has a query or fragment"),
        ({"docker.io": ["https://m.example", "https://m.example/"]}, ["pull"], "is listed twice"),
        ({"docker.io": []}, ["pull"], "not a non-empty list"),
        ({"docker.io": [3]}, ["pull"], "mirror 3 of docker.io is not a URL"),
        ({"docker.io": ["https://m.example"]}, [], "must be a non-empty list of distinct values"),
        ({"docker.io": ["https://m.example"]}, ["pull", "pull"], "distinct values"),
        ({"docker.io": ["https://m.example"]}, ["fetch"], "from pull, resolve, push"),
        ({"https://docker.io": ["https://m.example"]}, ["pull"], "is not a registry host name"),
        (["docker.io"], ["pull"], "registry mirrors must be a mapping"),
    ],
)
def test_mirrors_that_are_refused(mirrors: Any, capabilities: Any, message: str) -> None:
    with pytest.raises(ValueError) as err:
        cc.hosts_files(mirrors, capabilities)
    assert message in str(err.value)
