r"""``containerd.exe config default`` on Windows, per release line, and reading a config file the
way containerd's loader does (version check, the settings the simulator needs).

The texts are [RECONSTRUCTED]: the structure, section names and Windows defaults follow containerd's
sources (defaults_windows.go, config_windows.go, docs/cri/config.md; domain facts §4b/§4c) — 1.7
prints ``version = 2`` with BurntSushi-style double-quoted strings, 2.x prints go-toml v2 output
(single-quoted literals) with ``version = 3``; 2.3 introduced ``version = 4``, where the gRPC/TTRPC/
debug/metrics servers became ``io.containerd.server.v1.*`` plugins (config.go ``serviceMigrate``).
Every text parses as TOML; the tests feed it back to the simulated daemon.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from typing import Any

from tests.simulator.executables import knowledge
from tests.simulator.executables.common import go_quote
from tests.simulator.executables.stamp import version_tuple

DEFAULT_CONFIG_PATH = r"C:\Program Files\containerd\config.toml"
DEFAULT_ROOT = r"C:\ProgramData\containerd\root"
DEFAULT_STATE = r"C:\ProgramData\containerd\state"
DEFAULT_ADDRESS = r"\\.\pipe\containerd-containerd"

_V2_TEMPLATE = r"""disabled_plugins = []
imports = []
oom_score = 0
plugin_dir = ""
required_plugins = []
root = "C:\\ProgramData\\containerd\\root"
state = "C:\\ProgramData\\containerd\\state"
temp = ""
version = 2

[cgroup]
  path = ""

[debug]
  address = ""
  format = ""
  gid = 0
  level = ""
  uid = 0

[grpc]
  address = "\\\\.\\pipe\\containerd-containerd"
  gid = 0
  max_recv_message_size = 16777216
  max_send_message_size = 16777216
  tcp_address = ""
  tcp_tls_ca = ""
  tcp_tls_cert = ""
  tcp_tls_key = ""
  uid = 0

[metrics]
  address = ""
  grpc_histogram = false

[plugins]

  [plugins."io.containerd.gc.v1.scheduler"]
    deletion_threshold = 0
    mutation_threshold = 100
    pause_threshold = 0.02
    schedule_delay = "0s"
    startup_delay = "100ms"

  [plugins."io.containerd.grpc.v1.cri"]
    cdi_spec_dirs = ["/etc/cdi", "/var/run/cdi"]
    device_ownership_from_security_context = false
    disable_apparmor = false
    disable_cgroup = false
    disable_hugetlb_controller = false
    disable_proc_mount = false
    disable_tcp_service = true
    drain_exec_sync_io_timeout = "0s"
    enable_cdi = false
    enable_selinux = false
    enable_tls_streaming = false
    enable_unprivileged_icmp = false
    enable_unprivileged_ports = false
    ignore_deprecation_warnings = []
    ignore_image_defined_volumes = false
    image_pull_progress_timeout = "5m0s"
    image_pull_with_sync_fs = false
    max_concurrent_downloads = 3
    max_container_log_line_size = 16384
    netns_mounts_under_state_dir = false
    restrict_oom_score_adj = false
    sandbox_image = "@SANDBOX@"
    selinux_category_range = 0
    stats_collect_period = 10
    stream_idle_timeout = "4h0m0s"
    stream_server_address = "127.0.0.1"
    stream_server_port = "0"
    systemd_cgroup = false
    tolerate_missing_hugetlb_controller = false
    unset_seccomp_profile = ""

    [plugins."io.containerd.grpc.v1.cri".cni]
      bin_dir = "C:\\Program Files\\containerd\\cni\\bin"
      conf_dir = "C:\\Program Files\\containerd\\cni\\conf"
      conf_template = ""
      ip_pref = ""
      max_conf_num = 1
      setup_serially = false

    [plugins."io.containerd.grpc.v1.cri".containerd]
      default_runtime_name = "runhcs-wcow-process"
      disable_snapshot_annotations = false
      discard_unpacked_layers = false
      ignore_blockio_not_enabled_errors = false
      ignore_rdt_not_enabled_errors = false
      no_pivot = false
      snapshotter = "windows"

      [plugins."io.containerd.grpc.v1.cri".containerd.default_runtime]
        base_runtime_spec = ""
        cni_conf_dir = ""
        cni_max_conf_num = 0
        container_annotations = []
        pod_annotations = []
        privileged_without_host_devices = false
        privileged_without_host_devices_all_devices_allowed = false
        runtime_engine = ""
        runtime_path = ""
        runtime_root = ""
        runtime_type = ""
        sandbox_mode = ""
        snapshotter = ""

        [plugins."io.containerd.grpc.v1.cri".containerd.default_runtime.options]

      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes]

        [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runhcs-wcow-hypervisor]
          base_runtime_spec = ""
          cni_conf_dir = ""
          cni_max_conf_num = 0
          container_annotations = []
          pod_annotations = []
          privileged_without_host_devices = false
          privileged_without_host_devices_all_devices_allowed = false
          runtime_engine = ""
          runtime_path = ""
          runtime_root = ""
          runtime_type = "io.containerd.runhcs.v1"
          sandbox_mode = "podsandbox"
          snapshotter = ""

          [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runhcs-wcow-hypervisor.options]
            SandboxIsolation = 1

        [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runhcs-wcow-process]
          base_runtime_spec = ""
          cni_conf_dir = ""
          cni_max_conf_num = 0
          container_annotations = []
          pod_annotations = []
          privileged_without_host_devices = false
          privileged_without_host_devices_all_devices_allowed = false
          runtime_engine = ""
          runtime_path = ""
          runtime_root = ""
          runtime_type = "io.containerd.runhcs.v1"
          sandbox_mode = "podsandbox"
          snapshotter = ""

          [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runhcs-wcow-process.options]

    [plugins."io.containerd.grpc.v1.cri".image_decryption]
      key_model = "node"

    [plugins."io.containerd.grpc.v1.cri".registry]
      config_path = ""

      [plugins."io.containerd.grpc.v1.cri".registry.auths]

      [plugins."io.containerd.grpc.v1.cri".registry.configs]

      [plugins."io.containerd.grpc.v1.cri".registry.headers]

      [plugins."io.containerd.grpc.v1.cri".registry.mirrors]

    [plugins."io.containerd.grpc.v1.cri".x509_key_pair_streaming]
      tls_cert_file = ""
      tls_key_file = ""

  [plugins."io.containerd.internal.v1.opt"]
    path = "C:\\ProgramData\\containerd\\root\\opt"

  [plugins."io.containerd.internal.v1.restart"]
    interval = "10s"

  [plugins."io.containerd.internal.v1.tracing"]

  [plugins."io.containerd.metadata.v1.bolt"]
    content_sharing_policy = "shared"

  [plugins."io.containerd.runtime.v2.task"]
    platforms = ["windows/amd64", "linux/amd64"]

  [plugins."io.containerd.service.v1.diff-service"]
    default = ["windows", "windows-lcow"]

  [plugins."io.containerd.service.v1.tasks-service"]
    blockio_config_file = ""
    rdt_config_file = ""

  [plugins."io.containerd.tracing.processor.v1.otlp"]

  [plugins."io.containerd.transfer.v1.local"]
    config_path = ""
    max_concurrent_downloads = 3
    max_concurrent_uploaded_layers = 3

    [[plugins."io.containerd.transfer.v1.local".unpack_config]]
      differ = ""
      platform = "windows/amd64"
      snapshotter = "windows"

[proxy_plugins]

[stream_processors]

  [stream_processors."io.containerd.ocicrypt.decoder.v1.tar"]
    accepts = ["application/vnd.oci.image.layer.v1.tar+encrypted"]
    args = ["--decryption-keys-path", "C:\\Program Files\\containerd\\ocicrypt\\keys"]
    env = ["OCICRYPT_KEYPROVIDER_CONFIG=C:\\Program Files\\containerd\\ocicrypt\\ocicrypt_keyprovider.conf"]
    path = "ctd-decoder"
    returns = "application/vnd.oci.image.layer.v1.tar"

  [stream_processors."io.containerd.ocicrypt.decoder.v1.tar.gzip"]
    accepts = ["application/vnd.oci.image.layer.v1.tar+gzip+encrypted"]
    args = ["--decryption-keys-path", "C:\\Program Files\\containerd\\ocicrypt\\keys"]
    env = ["OCICRYPT_KEYPROVIDER_CONFIG=C:\\Program Files\\containerd\\ocicrypt\\ocicrypt_keyprovider.conf"]
    path = "ctd-decoder"
    returns = "application/vnd.oci.image.layer.v1.tar+gzip"

[timeouts]
  "io.containerd.timeout.bolt.open" = "0s"
  "io.containerd.timeout.metrics.shimstats" = "2s"
  "io.containerd.timeout.shim.cleanup" = "5s"
  "io.containerd.timeout.shim.load" = "5s"
  "io.containerd.timeout.shim.shutdown" = "3s"
  "io.containerd.timeout.task.state" = "2s"

[ttrpc]
  address = ""
  gid = 0
  uid = 0
"""

_V3_HEAD = r"""version = @VERSION@
root = 'C:\ProgramData\containerd\root'
state = 'C:\ProgramData\containerd\state'
temp = ''
disabled_plugins = []
required_plugins = []
oom_score = 0
imports = []
"""

_V3_SERVERS = r"""
[grpc]
  address = '\\.\pipe\containerd-containerd'
  tcp_address = ''
  tcp_tls_ca = ''
  tcp_tls_cert = ''
  tcp_tls_key = ''
  uid = 0
  gid = 0
  max_recv_message_size = 16777216
  max_send_message_size = 16777216

[ttrpc]
  address = ''
  uid = 0
  gid = 0

[debug]
  address = ''
  uid = 0
  gid = 0
  level = ''
  format = ''

[metrics]
  address = ''
  grpc_histogram = false
"""

_V4_SERVERS = r"""
[debug]
  level = ''
  format = ''
  log_trace_id = false
"""

_V3_PLUGINS = r"""
[plugins]
  [plugins.'io.containerd.cri.v1.images']
    snapshotter = 'windows'
    disable_snapshot_annotations = false
    discard_unpacked_layers = false
    max_concurrent_downloads = 3
    image_pull_progress_timeout = '5m0s'
    image_pull_with_sync_fs = false
    stats_collect_period = 10

    [plugins.'io.containerd.cri.v1.images'.pinned_images]
      sandbox = '@SANDBOX@'

    [plugins.'io.containerd.cri.v1.images'.registry]
      config_path = ''

    [plugins.'io.containerd.cri.v1.images'.image_decryption]
      key_model = 'node'

  [plugins.'io.containerd.cri.v1.runtime']
    enable_selinux = false
    selinux_category_range = 0
    max_container_log_line_size = 16384
    disable_apparmor = false
    restrict_oom_score_adj = false
    disable_proc_mount = false
    unset_seccomp_profile = ''
    tolerate_missing_hugetlb_controller = false
    disable_hugetlb_controller = false
    device_ownership_from_security_context = false
    ignore_image_defined_volumes = false
    netns_mounts_under_state_dir = false
    enable_unprivileged_ports = false
    enable_unprivileged_icmp = false
    enable_cdi = true
    cdi_spec_dirs = ['/etc/cdi', '/var/run/cdi']
    drain_exec_sync_io_timeout = '0s'
    ignore_deprecation_warnings = []

    [plugins.'io.containerd.cri.v1.runtime'.containerd]
      default_runtime_name = 'runhcs-wcow-process'
      ignore_blockio_not_enabled_errors = false
      ignore_rdt_not_enabled_errors = false

      [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes]
        [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runhcs-wcow-hypervisor]
          runtime_type = 'io.containerd.runhcs.v1'
          runtime_path = ''
          pod_annotations = []
          container_annotations = []
          privileged_without_host_devices = false
          privileged_without_host_devices_all_devices_allowed = false
          base_runtime_spec = ''
          cni_conf_dir = ''
          cni_max_conf_num = 0
          snapshotter = ''
          sandboxer = 'podsandbox'
          io_type = ''

          [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runhcs-wcow-hypervisor.options]
            SandboxIsolation = 1

        [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runhcs-wcow-process]
          runtime_type = 'io.containerd.runhcs.v1'
          runtime_path = ''
          pod_annotations = []
          container_annotations = []
          privileged_without_host_devices = false
          privileged_without_host_devices_all_devices_allowed = false
          base_runtime_spec = ''
          cni_conf_dir = ''
          cni_max_conf_num = 0
          snapshotter = ''
          sandboxer = 'podsandbox'
          io_type = ''

    [plugins.'io.containerd.cri.v1.runtime'.cni]
@CNI_BIN@
      conf_dir = 'C:\Program Files\containerd\cni\conf'
      max_conf_num = 1
      setup_serially = false
      conf_template = ''
      ip_pref = ''

  [plugins.'io.containerd.gc.v1.scheduler']
    pause_threshold = 0.02
    deletion_threshold = 0
    mutation_threshold = 100
    schedule_delay = '0s'
    startup_delay = '100ms'

  [plugins.'io.containerd.grpc.v1.cri']
    disable_tcp_service = true
    stream_server_address = '127.0.0.1'
    stream_server_port = '0'
    stream_idle_timeout = '4h0m0s'
    enable_tls_streaming = false

    [plugins.'io.containerd.grpc.v1.cri'.x509_key_pair_streaming]
      tls_cert_file = ''
      tls_key_file = ''

  [plugins.'io.containerd.internal.v1.opt']
    path = 'C:\ProgramData\containerd\root\opt'

  [plugins.'io.containerd.metadata.v1.bolt']
    content_sharing_policy = 'shared'

  [plugins.'io.containerd.service.v1.diff-service']
    default = ['windows', 'windows-lcow']

  [plugins.'io.containerd.service.v1.tasks-service']
    blockio_config_file = ''
    rdt_config_file = ''

  [plugins.'io.containerd.transfer.v1.local']
    max_concurrent_downloads = 3
    max_concurrent_uploaded_layers = 3
    config_path = ''

    [[plugins.'io.containerd.transfer.v1.local'.unpack_config]]
      platform = 'windows/amd64'
      snapshotter = 'windows'
@SERVER_PLUGINS@
[cgroup]
  path = ''

[timeouts]
  'io.containerd.timeout.bolt.open' = '0s'
  'io.containerd.timeout.cri.defercleanup' = '1m0s'
  'io.containerd.timeout.metrics.shimstats' = '2s'
  'io.containerd.timeout.shim.cleanup' = '5s'
  'io.containerd.timeout.shim.load' = '5s'
  'io.containerd.timeout.shim.shutdown' = '3s'
  'io.containerd.timeout.task.state' = '2s'

[stream_processors]
  [stream_processors.'io.containerd.ocicrypt.decoder.v1.tar']
    accepts = ['application/vnd.oci.image.layer.v1.tar+encrypted']
    returns = 'application/vnd.oci.image.layer.v1.tar'
    path = 'ctd-decoder'
    args = ['--decryption-keys-path', 'C:\Program Files\containerd\ocicrypt\keys']
    env = ['OCICRYPT_KEYPROVIDER_CONFIG=C:\Program Files\containerd\ocicrypt\ocicrypt_keyprovider.conf']

  [stream_processors.'io.containerd.ocicrypt.decoder.v1.tar.gzip']
    accepts = ['application/vnd.oci.image.layer.v1.tar+gzip+encrypted']
    returns = 'application/vnd.oci.image.layer.v1.tar+gzip'
    path = 'ctd-decoder'
    args = ['--decryption-keys-path', 'C:\Program Files\containerd\ocicrypt\keys']
    env = ['OCICRYPT_KEYPROVIDER_CONFIG=C:\Program Files\containerd\ocicrypt\ocicrypt_keyprovider.conf']
"""

_V4_SERVER_PLUGINS = r"""
  [plugins.'io.containerd.server.v1.grpc']
    address = '\\.\pipe\containerd-containerd'
    uid = 0
    gid = 0
    max_recv_message_size = 16777216
    max_send_message_size = 16777216

  [plugins.'io.containerd.server.v1.ttrpc']
    address = '\\.\pipe\containerd-containerd.ttrpc'
    uid = 0
    gid = 0
"""


def max_config_version(containerd_version: str) -> int:
    """Newest ``version =`` a release reads: 2 for 1.x, 3 for 2.0 to 2.2, 4 from 2.3 (domain facts §4b)."""
    major, minor, _ = version_tuple(containerd_version)
    if major == 1:
        return 2
    return 4 if (major, minor) >= (2, 3) else 3


def config_default(containerd_version: str) -> str:
    """What ``containerd.exe config default`` prints for this release."""
    major, minor, _ = version_tuple(containerd_version)
    sandbox = knowledge.default_sandbox_image(containerd_version)
    if major == 1:
        return _V2_TEMPLATE.replace("@SANDBOX@", sandbox)
    version = max_config_version(containerd_version)
    # bin_dir was deprecated for bin_dirs in 2.1 (internal/cri/config/config.go).
    cni_bin = (
        "      bin_dir = 'C:\\Program Files\\containerd\\cni\\bin'"
        if (major, minor) == (2, 0)
        else "      bin_dirs = ['C:\\Program Files\\containerd\\cni\\bin']"
    )
    plugins = (
        _V3_PLUGINS.replace("@SANDBOX@", sandbox)
        .replace("@CNI_BIN@", cni_bin)
        .replace("@SERVER_PLUGINS@", _V4_SERVER_PLUGINS if version >= 4 else "")
    )
    servers = _V4_SERVERS if version >= 4 else _V3_SERVERS
    return _V3_HEAD.replace("@VERSION@", str(version)) + servers + plugins


@dataclasses.dataclass
class LoadedConfig:
    version: int
    address: str
    root: str
    state: str
    sandbox_image: str
    warnings: list[str]


class ConfigError(Exception):
    """The daemon refuses to start; the message is containerd's own error text."""


_POS = re.compile(r"\(at line (\d+), column (\d+)\)")


def _toml_error(containerd_version: str, path: str, exc: Exception) -> ConfigError:
    """containerd's TOML error: 1.7 (go-toml v1 ``LoadFile``) ``failed to load TOML: <path>: (r, c):
    <msg>``; 2.x ``failed to unmarshal TOML at row r column c: <msg>`` (config.go loadConfigFile).
    The position comes from Python's parser, the wording after it is tomllib's. [RECONSTRUCTED]"""
    text = str(exc)
    m = _POS.search(text)
    row, col = (m.group(1), m.group(2)) if m else ("1", "1")
    msg = _POS.sub("", text).strip()
    if version_tuple(containerd_version)[0] == 1:
        return ConfigError(f"failed to load TOML: {path}: ({row}, {col}): {msg}")
    return ConfigError(f"failed to unmarshal TOML at row {row} column {col}: {msg}")


def _get(d: dict[str, Any], *keys: str) -> Any:
    cur: Any = d
    for k in keys:
        if not isinstance(cur, dict) or k not in cur:
            return None
        cur = cur[k]
    return cur


def load(containerd_version: str, path: str, data: bytes | None) -> LoadedConfig:
    """Read a config as the daemon does at start. ``data`` None: the file does not exist, which
    containerd accepts (``LoadConfig`` errors with IsNotExist are ignored): built-in defaults."""
    defaults = LoadedConfig(
        version=max_config_version(containerd_version),
        address=DEFAULT_ADDRESS,
        root=DEFAULT_ROOT,
        state=DEFAULT_STATE,
        sandbox_image=knowledge.default_sandbox_image(containerd_version),
        warnings=[],
    )
    if data is None:
        return defaults
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        # PowerShell 5's Out-File default is UTF-16LE with a BOM: containerd cannot read that,
        # which is why the docs pipe `config default` through `Out-File -Encoding ascii`.
        exc = tomllib.TOMLDecodeError("invalid character (at line 1, column 1)")
        raise _toml_error(containerd_version, path, exc)
    try:
        doc = tomllib.loads(data.decode("utf-8-sig"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise _toml_error(containerd_version, path, exc) from exc
    raw_version = doc.get("version", 0)
    version = raw_version if isinstance(raw_version, int) else 0
    top = max_config_version(containerd_version)
    if version > top:
        # config.go ValidateVersion (same wording in 1.7's ValidateV2).
        raise ConfigError(
            f"failed to load TOML from {path}: expected containerd config version equal to or less than "
            f"`{top}`, got `{version}`"
        )
    warnings = []
    if version < top:
        if version_tuple(containerd_version)[0] == 1:
            if version < 2:
                warnings.append(
                    f"containerd config version `{max(version, 1)}` has been deprecated and will be converted on "
                    "each startup in containerd v2.0, use `containerd config migrate` after upgrading to "
                    "containerd 2.0 to avoid conversion on startup"
                )
        else:
            warnings.append(
                f"Configuration migrated from version {max(version, 1)}, use `containerd config migrate` to avoid "
                "migration"
            )
    for key in ("disabled_plugins", "required_plugins"):
        for p in doc.get(key, []) or []:
            if "." not in str(p):
                kind = key.split("_")[0]
                raise ConfigError(
                    f"failed to load TOML from {path}: invalid {kind} plugin URI {go_quote(str(p))} "
                    "expect io.containerd.x.vx"
                )
    address = (
        _get(doc, "plugins", "io.containerd.server.v1.grpc", "address")
        if version >= 4
        else _get(doc, "grpc", "address")
    ) or DEFAULT_ADDRESS
    if version >= 3:
        sandbox = _get(doc, "plugins", "io.containerd.cri.v1.images", "pinned_images", "sandbox")
    else:
        # v1/v2 key; a 2.x daemon migrates it to pinned_images["sandbox"] (plugins/cri/images/plugin.go).
        sandbox = _get(doc, "plugins", "io.containerd.grpc.v1.cri", "sandbox_image") or _get(
            doc, "plugins", "cri", "sandbox_image"
        )
    return LoadedConfig(
        version=version,
        address=str(address),
        root=str(doc.get("root") or DEFAULT_ROOT),
        state=str(doc.get("state") or DEFAULT_STATE),
        sandbox_image=str(sandbox or defaults.sandbox_image),
        warnings=warnings,
    )
