# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""containerd's ``config.toml`` and registry ``hosts.toml`` files for a Windows node, as text.

Pure functions: the plan (``winkube_plan`` from ``node_plan``) decides the version, the schema, the
paths and the pause image; this module only writes them down in the keys each schema uses
(domain facts section 4b) and deep-merges the user's extra settings, refusing those that would
change or contradict what the plan decided.

Abbreviation: CD = containerd/containerd.

* Schema ``version = 2`` (containerd 1.x): CRI settings under ``[plugins."io.containerd.grpc.v1.cri"]``
  (``sandbox_image``, ``cni.bin_dir``/``conf_dir``, ``registry.config_path``).
* Schema ``version = 3`` (containerd 2.x, also 2.3 which introduced 4 and still reads 3): the image
  settings under ``[plugins.'io.containerd.cri.v1.images']`` (``pinned_images.sandbox``,
  ``registry.config_path``), the runtime ones under ``[plugins.'io.containerd.cri.v1.runtime']``
  (``cni.bin_dir`` on 2.0, ``cni.bin_dirs`` from 2.1, ``cni.conf_dir``).
  Sources: CD docs/cri/config.md; internal/cri/config/config.go; plugins/cri/images/plugin.go.
* Registry mirrors: ``config_path`` plus one ``hosts.toml`` per registry (CD docs/hosts.md), the
  way both 1.7 and 2.x document; the deprecated ``registry.mirrors`` tables are never written.

The TOML writer covers what a containerd config holds (tables, arrays of tables, strings, integers,
finite floats, booleans, arrays). Its output is always ASCII, so the file reads the same whatever
code page a tool assumes; containerd itself needs UTF-8 without a BOM (it cannot read UTF-16).
"""

from __future__ import annotations

import copy
import math
import re
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple
from urllib.parse import urlsplit

from ansible_collections.winkube.node.plugins.module_utils.versions import Version, parse_version

CRI_V2 = "io.containerd.grpc.v1.cri"
CRI_IMAGES = "io.containerd.cri.v1.images"
CRI_RUNTIME = "io.containerd.cri.v1.runtime"
# Keys that stay in the io.containerd.grpc.v1.cri plugin in schema 3: streaming and the TCP service
# (domain facts 4b, "streaming / TCP"; CD plugins/cri/runtime/plugin.go migration). Everything else
# moved to the images or runtime plugin.
CRI_V3_STREAMING_KEYS = (
    "disable_tcp_service",
    "stream_server_address",
    "stream_server_port",
    "stream_idle_timeout",
    "enable_tls_streaming",
    "x509_key_pair_streaming",
)
# containerd 2.3's config version 4 made the gRPC/TTRPC/debug/metrics servers plugins with this
# prefix (CD config.go serviceMigrate); the version 3 this collection writes keeps [grpc].
SERVER_PLUGIN_PREFIX = "io.containerd.server.v1."
DEFAULT_REGISTRY_CONFIG_PATH = r"C:\ProgramData\containerd\certs.d"
MIRROR_CAPABILITIES = ("pull", "resolve", "push")

KeyPath = Tuple[str, ...]


class _Absent:
    """A protected key the rendered config does not set: extra settings may not set it either."""

    def __repr__(self) -> str:
        return "<not set>"


ABSENT = _Absent()


@dataclass(frozen=True)
class ConfigSettings:
    """What goes into config.toml; every field comes from the plan except the registry directory."""

    version: Version
    schema: int
    sandbox_image: str
    root: str
    state: str
    address: str
    cni_bin_dir: str
    cni_conf_dir: str
    registry_config_path: str


# ---------------------------------------------------------------------------------------------
# from the plan


def _plan_text(block: Mapping[str, Any], key: str, where: str) -> str:
    value = block.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{where}.{key} is {value!r}, not a non-empty string; run winkube.node.preflight first")
    return value


def settings_from_plan(plan: Any, registry_config_path: str = DEFAULT_REGISTRY_CONFIG_PATH) -> ConfigSettings:
    """Read the config settings from ``winkube_plan``; fail loudly when it is not a containerd plan."""
    if not isinstance(plan, Mapping):
        raise ValueError(f"winkube_plan is a {type(plan).__name__}, not a mapping; run winkube.node.preflight first")
    block = plan.get("containerd")
    if not isinstance(block, Mapping):
        runtime = plan.get("runtime")
        raise ValueError(
            f"winkube_plan has no containerd block (runtime is {runtime!r}); the plan is not for containerd"
        )
    version = parse_version(_plan_text(block, "version", "winkube_plan.containerd"), "containerd version", True)
    schema_block = block.get("config_schema")
    schema = schema_block.get("write") if isinstance(schema_block, Mapping) else None
    if not isinstance(registry_config_path, str) or not re.match(r"^[A-Za-z]:\\", registry_config_path):
        raise ValueError(f"registry_config_path {registry_config_path!r} is not an absolute Windows path (C:\\...)")
    settings = ConfigSettings(
        version=version,
        schema=schema if isinstance(schema, int) and not isinstance(schema, bool) else -1,
        sandbox_image=_plan_text(plan, "pause_image", "winkube_plan"),
        root=_plan_text(block, "root", "winkube_plan.containerd"),
        state=_plan_text(block, "state", "winkube_plan.containerd"),
        address=_plan_text(block, "pipe", "winkube_plan.containerd"),
        cni_bin_dir=_plan_text(block, "cni_bin_dir", "winkube_plan.containerd"),
        cni_conf_dir=_plan_text(block, "cni_conf_dir", "winkube_plan.containerd"),
        registry_config_path=registry_config_path,
    )
    _check_schema(settings)
    return settings


def _check_schema(settings: ConfigSettings) -> None:
    """The plan's schema must be one this writer knows and match the major (2 for 1.x, 3 for 2.x)."""
    expected = {1: 2, 2: 3}.get(settings.version.major)
    if expected is None:
        raise ValueError(f"containerd {settings.version}: only majors 1 and 2 have a known config schema")
    if settings.schema != expected:
        raise ValueError(
            f"the plan says config schema {settings.schema!r} for containerd {settings.version}, but containerd "
            f"{settings.version.major}.x configs are written as version {expected}; the plan is inconsistent"
        )


# ---------------------------------------------------------------------------------------------
# the document


def _uses_bin_dirs(version: Version) -> bool:
    """``cni.bin_dirs`` (a list) replaced ``cni.bin_dir`` in containerd 2.1 (CD internal/cri/config/config.go)."""
    return (version.major, version.minor) >= (2, 1)


def config_document(settings: ConfigSettings) -> Dict[str, Any]:
    """The settings as nested tables, in the keys of the settings' schema."""
    _check_schema(settings)
    doc: Dict[str, Any] = {
        "version": settings.schema,
        "root": settings.root,
        "state": settings.state,
        "grpc": {"address": settings.address},
    }
    if settings.schema == 2:
        doc["plugins"] = {
            CRI_V2: {
                "sandbox_image": settings.sandbox_image,
                "cni": {"bin_dir": settings.cni_bin_dir, "conf_dir": settings.cni_conf_dir},
                "registry": {"config_path": settings.registry_config_path},
            }
        }
        return doc
    cni: Dict[str, Any] = (
        {"bin_dirs": [settings.cni_bin_dir]} if _uses_bin_dirs(settings.version) else {"bin_dir": settings.cni_bin_dir}
    )
    cni["conf_dir"] = settings.cni_conf_dir
    doc["plugins"] = {
        CRI_IMAGES: {
            "pinned_images": {"sandbox": settings.sandbox_image},
            "registry": {"config_path": settings.registry_config_path},
        },
        CRI_RUNTIME: {"cni": cni},
    }
    return doc


def protected_keys(settings: ConfigSettings) -> Dict[KeyPath, Any]:
    """Keys the plan decides, with the value the rendered config gives them (ABSENT: must stay unset)."""
    common: Dict[KeyPath, Any] = {
        ("version",): settings.schema,
        ("root",): settings.root,
        ("state",): settings.state,
        ("grpc", "address"): settings.address,
    }
    if settings.schema == 2:
        cri = ("plugins", CRI_V2)
        common.update(
            {
                (*cri, "sandbox_image"): settings.sandbox_image,
                (*cri, "cni", "bin_dir"): settings.cni_bin_dir,
                (*cri, "cni", "conf_dir"): settings.cni_conf_dir,
                (*cri, "registry", "config_path"): settings.registry_config_path,
            }
        )
        return common
    images, runtime = ("plugins", CRI_IMAGES), ("plugins", CRI_RUNTIME)
    bin_dirs = _uses_bin_dirs(settings.version)
    common.update(
        {
            (*images, "pinned_images", "sandbox"): settings.sandbox_image,
            (*images, "registry", "config_path"): settings.registry_config_path,
            # Only one of the two CNI keys is written; the other would contradict it.
            (*runtime, "cni", "bin_dirs"): [settings.cni_bin_dir] if bin_dirs else ABSENT,
            (*runtime, "cni", "bin_dir"): ABSENT if bin_dirs else settings.cni_bin_dir,
            (*runtime, "cni", "conf_dir"): settings.cni_conf_dir,
        }
    )
    return common


def _forbidden(settings: ConfigSettings, extra: Mapping[str, Any]) -> List[str]:
    """Extra tables that belong to the other schema or conflict with config_path, each with the reason."""
    problems: List[str] = []
    plugins = extra.get("plugins")
    if not isinstance(plugins, Mapping):
        return problems
    for plugin_id in plugins:
        if isinstance(plugin_id, str) and plugin_id.startswith(SERVER_PLUGIN_PREFIX):
            problems.append(
                f"{dotted(('plugins', plugin_id))} is a config version 4 server plugin (containerd 2.3+); this config "
                f"is version {settings.schema}, where the gRPC server is [grpc] and its address comes from the plan"
            )
    if settings.schema == 2:
        for plugin_id in (CRI_IMAGES, CRI_RUNTIME):
            if plugin_id in plugins:
                problems.append(
                    f"{dotted(('plugins', plugin_id))} is a containerd 2.x section (config version 3); containerd "
                    f"{settings.version} reads version 2, where these settings live under "
                    f"{dotted(('plugins', CRI_V2))}"
                )
        registry = _table_at(extra, ("plugins", CRI_V2, "registry"))
    else:
        cri = plugins.get(CRI_V2)
        if isinstance(cri, Mapping):
            for key in cri:
                if key not in CRI_V3_STREAMING_KEYS:
                    problems.append(
                        f"{dotted(('plugins', CRI_V2, key))} is a config version 2 key; in version 3 (containerd "
                        f"{settings.version}) {dotted(('plugins', CRI_V2))} keeps only "
                        f"{', '.join(CRI_V3_STREAMING_KEYS)}; the image and runtime settings moved to "
                        f"{dotted(('plugins', CRI_IMAGES))} and {dotted(('plugins', CRI_RUNTIME))}"
                    )
        registry = _table_at(extra, ("plugins", CRI_IMAGES, "registry"))
    for key in ("mirrors", "configs"):
        if isinstance(registry, Mapping) and key in registry:
            problems.append(
                f"registry.{key} is the deprecated CRI registry setting; containerd refuses it together with "
                "config_path (CD pkg/cri/config/config.go ValidatePluginConfig); give mirrors in "
                "winkube_registry_mirrors (they become hosts.toml files)"
            )
    return problems


def _table_at(doc: Mapping[str, Any], path: KeyPath) -> Any:
    cur: Any = doc
    for key in path:
        if not isinstance(cur, Mapping) or key not in cur:
            return None
        cur = cur[key]
    return cur


def _protection_problems(settings: ConfigSettings, extra: Mapping[str, Any]) -> List[str]:
    problems: List[str] = []
    for path, rendered in protected_keys(settings).items():
        cur: Any = extra
        for depth, key in enumerate(path):
            if key not in cur:
                break
            value = cur[key]
            if depth == len(path) - 1:
                if rendered is ABSENT:
                    problems.append(
                        f"{dotted(path)} must not be set: the config sets the other CNI key for containerd "
                        f"{settings.version}"
                    )
                elif value != rendered:
                    problems.append(
                        f"{dotted(path)} is decided by the plan ({_value(rendered)}); extra config has {_shown(value)}"
                    )
                break
            if not isinstance(value, Mapping):
                problems.append(
                    f"{dotted(path[: depth + 1])} would replace the table holding {dotted(path)} with {_shown(value)}"
                )
                break
            cur = value
    return problems


def _shown(value: Any) -> str:
    try:
        return _value(value)
    except ValueError:
        return repr(value)


def _check_extra_values(value: Any, path: KeyPath) -> None:
    """Extra settings must be what TOML can hold: string keys, no null, finite numbers."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str) or not key:
                raise ValueError(f"containerd_extra_config key {key!r} under {dotted(path) or 'the top'} is not a name")
            _check_extra_values(item, (*path, key))
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _check_extra_values(item, (*path, f"[{i}]"))
    elif value is None:
        raise ValueError(f"containerd_extra_config {dotted(path)} is null; TOML has no null value, leave the key out")
    elif isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"containerd_extra_config {dotted(path)} is {value!r}; only finite numbers are accepted")
    elif not isinstance(value, (str, int, float, bool)):
        raise ValueError(f"containerd_extra_config {dotted(path)} is a {type(value).__name__}, not a TOML value")


def merge_extra(settings: ConfigSettings, doc: Dict[str, Any], extra: Optional[Mapping[str, Any]]) -> Dict[str, Any]:
    """``doc`` deep-merged with ``extra`` (tables merge, anything else replaces), after refusing what
    would change a key the plan decides, replace a table holding one, or belong to the other schema."""
    if extra is None:
        return doc
    if not isinstance(extra, Mapping):
        raise ValueError(
            f"containerd_extra_config must be a mapping of TOML tables and keys, got {type(extra).__name__}"
        )
    _check_extra_values(extra, ())
    problems = _protection_problems(settings, extra) + _forbidden(settings, extra)
    if problems:
        raise ValueError("containerd_extra_config is refused: " + "; ".join(problems))
    merged = copy.deepcopy(doc)
    _deep_merge(merged, extra)
    return merged


def _deep_merge(base: Dict[str, Any], extra: Mapping[str, Any]) -> None:
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            _deep_merge(base[key], value)
        else:
            base[key] = _plain(value)


def _plain(value: Any) -> Any:
    """A deep copy in plain dicts and lists (Ansible hands over its own mapping and sequence types)."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def render_config(settings: ConfigSettings, extra: Optional[Mapping[str, Any]] = None) -> str:
    """The config.toml text for ``settings``, with ``extra`` deep-merged into it."""
    doc = merge_extra(settings, config_document(settings), extra)
    header = (
        f"# containerd {settings.version} configuration (config version {settings.schema}), written by winkube.node.\n"
        "# Managed file: change the role's inputs (containerd_extra_config) instead of editing it.\n"
    )
    return header + dumps_toml(doc)


# ---------------------------------------------------------------------------------------------
# TOML writing

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def _string(text: str) -> str:
    """A literal string ('...') when the text allows one (Windows paths stay readable: no doubled
    backslashes), else a basic string with escapes; non-ASCII is escaped so the file stays ASCII."""
    literal_ok = all(32 <= ord(c) < 127 or c == "\t" for c in text) and "'" not in text
    if literal_ok:
        return "'" + text + "'"
    out = []
    for c in text:
        if c in _ESCAPES:
            out.append(_ESCAPES[c])
        elif ord(c) < 32 or ord(c) == 127:
            out.append(f"\\u{ord(c):04X}")
        elif ord(c) > 126:
            out.append(f"\\u{ord(c):04X}" if ord(c) <= 0xFFFF else f"\\U{ord(c):08X}")
        else:
            out.append(c)
    return '"' + "".join(out) + '"'


def _key(key: str) -> str:
    return key if _BARE_KEY.match(key) else _string(key)


def dotted(path: Sequence[str]) -> str:
    """A key path as TOML writes it: ``plugins.'io.containerd.cri.v1.images'.pinned_images``."""
    return ".".join(_key(k) for k in path)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value!r} is not a finite number")
        return repr(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, (list, tuple)):
        if any(isinstance(v, Mapping) for v in value):
            raise ValueError("a list mixing tables and values cannot be written as TOML")
        return "[" + ", ".join(_value(v) for v in value) + "]"
    raise ValueError(f"a {type(value).__name__} is not a TOML value")


def _is_table_array(value: Any) -> bool:
    return isinstance(value, (list, tuple)) and bool(value) and all(isinstance(v, Mapping) for v in value)


def _emit(lines: List[str], path: KeyPath, table: Mapping[str, Any], array_item: bool = False) -> None:
    scalars = [(k, v) for k, v in table.items() if not isinstance(v, Mapping) and not _is_table_array(v)]
    tables = [(k, v) for k, v in table.items() if isinstance(v, Mapping)]
    arrays = [(k, v) for k, v in table.items() if _is_table_array(v)]
    # A table holding only sub-tables needs no header of its own; an empty one does, to exist.
    if path and (array_item or scalars or not (tables or arrays)):
        lines.append("")
        lines.append(f"[[{dotted(path)}]]" if array_item else f"[{dotted(path)}]")
    indent = "  " if path else ""
    for key, value in scalars:
        try:
            lines.append(f"{indent}{_key(key)} = {_value(value)}")
        except ValueError as exc:
            raise ValueError(f"{dotted((*path, key))}: {exc}") from None
    for key, value in tables:
        _emit(lines, (*path, key), value)
    for key, items in arrays:
        for item in items:
            _emit(lines, (*path, key), item, array_item=True)


def dumps_toml(doc: Mapping[str, Any]) -> str:
    """``doc`` as TOML text (keys in the document's order, so the same input gives the same bytes)."""
    lines: List[str] = []
    _emit(lines, (), doc)
    return "\n".join(lines).lstrip("\n") + "\n"


# ---------------------------------------------------------------------------------------------
# hosts.toml (CD docs/hosts.md)


@dataclass(frozen=True)
class HostsFile:
    """One registry's ``hosts.toml``: the directory under config_path and the file's text."""

    registry: str
    directory: str
    content: str


def hosts_directory(registry: str) -> str:
    """The registry host namespace directory. Windows has no ``:`` in file names, so a port is written
    ``host_port_``, the first name containerd looks for (CD docs/hosts.md, "Port Handling")."""
    host, colon, port = registry.rpartition(":")
    if colon and port.isdigit() and host:
        return f"{host}_{port}_"
    return registry


def upstream_server(registry: str) -> str:
    """The registry's own endpoint, tried after the mirrors; docker.io is served by registry-1.docker.io."""
    if registry == "docker.io":
        return "https://registry-1.docker.io"
    return f"https://{registry}"


def _mirror_url(registry: str, url: Any) -> str:
    if not isinstance(url, str) or not url.strip():
        raise ValueError(f"mirror {url!r} of {registry} is not a URL")
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"mirror {url!r} of {registry} is not an http:// or https:// URL with a host")
    if parts.username is not None or parts.password is not None:
        # containerd's hosts.toml parser keeps only scheme, host and path (CD core/remotes/docker/config/hosts.go).
        raise ValueError(
            f"a mirror of {registry} carries credentials in its URL; containerd ignores them in hosts.toml, so "
            "give the URL without user:password@ and authenticate through the registry's own means"
        )
    if parts.query or parts.fragment:
        raise ValueError(f"mirror {url!r} of {registry} has a query or fragment; give scheme://host[:port][/path]")
    return url.strip().rstrip("/")


def render_hosts_toml(registry: str, mirrors: Sequence[Any], capabilities: Sequence[Any]) -> str:
    """``hosts.toml`` for one registry: its mirrors in order, the registry itself as the fallback server."""
    caps = list(capabilities)
    if not caps or any(c not in MIRROR_CAPABILITIES for c in caps) or len(set(caps)) != len(caps):
        raise ValueError(
            f"mirror capabilities {caps!r} must be a non-empty list of distinct values "
            f"from {', '.join(MIRROR_CAPABILITIES)}"
        )
    if not isinstance(mirrors, (list, tuple)) or not mirrors:
        raise ValueError(f"the mirrors of {registry} are {mirrors!r}, not a non-empty list")
    doc: Dict[str, Any] = {"server": upstream_server(registry), "host": {}}
    for url in mirrors:
        key = _mirror_url(registry, url)
        if key in doc["host"]:
            raise ValueError(f"mirror {key} of {registry} is listed twice")
        doc["host"][key] = {"capabilities": caps}
    header = f"# Registry mirrors for {registry}, written by winkube.node (containerd docs/hosts.md).\n"
    return header + dumps_toml(doc)


def hosts_files(mirrors: Any, capabilities: Sequence[Any] = ("pull", "resolve")) -> List[HostsFile]:
    """One HostsFile per registry of the plan's ``registry_mirrors`` (sorted by registry)."""
    if mirrors is None:
        return []
    if not isinstance(mirrors, Mapping):
        raise ValueError(f"registry mirrors must be a mapping of registry to mirror URLs, got {type(mirrors).__name__}")
    out = []
    seen: Dict[str, str] = {}
    for registry in sorted(mirrors):
        if not isinstance(registry, str) or not re.match(r"^[A-Za-z0-9.-]+(:[0-9]+)?$", registry):
            raise ValueError(f"registry {registry!r} is not a registry host name with an optional :port")
        directory = hosts_directory(registry)
        if directory.lower() in seen:
            raise ValueError(f"registries {seen[directory.lower()]} and {registry} would share {directory}")
        seen[directory.lower()] = registry
        out.append(HostsFile(registry, directory, render_hosts_toml(registry, mirrors[registry], capabilities)))
    return out
