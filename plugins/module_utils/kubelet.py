# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
r"""The Kubernetes node files and the kubelet Windows service of one node.

- ``node_artifacts``: what the kubernetes role downloads (kubelet, kubeadm, kube-log-runner, and
  kube-proxy / kubectl when asked), from the plan's URLs; kube-log-runner.exe sits beside kubelet.exe
  in the release (image-builder downloads it from the same ``.../bin/windows/amd64/`` folder) and
  kubectl comes from the ``/release/`` form (``downloads.kube_binary_url``).
- ``artifact_checksums``: the artifacts with the digests of their published ``.sha256`` files
  (fetched on the controller), every bad file refused with its URL.
- ``parse_kubeadm_flags_env``: the arguments in ``kubeadm-flags.env`` exactly as kubeadm writes it
  (GT section 5.3: ``KUBELET_KUBEADM_ARGS=%q`` -- one line, Go-quoted, sorted ``--name=value``).
- ``kubelet_service_command``: the service's command line. image-builder's sc path registers the
  kubelet without kubeadm's flags and only a later script re-creates it (anchors step 9); here the
  flags are part of the command line every time it is rendered: base flags, then kubeadm's, then the
  user's, the later value of a flag winning, each flag once.
- ``quote_argument`` / ``join_command_line``: Windows quoting that ``CommandLineToArgvW`` reads back
  (the rules of Go's ``syscall.EscapeArg``, which kube-log-runner uses again for its child).
"""

from __future__ import annotations

import ntpath
import re
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from ansible_collections.winkube.node.plugins.module_utils import downloads as _downloads
from ansible_collections.winkube.node.plugins.module_utils.versions import Version, parse_version

SERVICE_NAME = "kubelet"
ENV_VARIABLE = "KUBELET_KUBEADM_ARGS"
# Flags kubelet no longer knows, by the first minor without them (GT section 5.3: --container-runtime
# removed in 1.27 with dockershim's leftovers, --pod-infra-container-image in 1.35, kubernetes PR #133778).
# A flags file that still has one would make kubelet exit with "unknown flag".
REMOVED_FLAGS: Dict[str, int] = {"container-runtime": 27, "pod-infra-container-image": 35}
# Flags the plan decides: the SCM needs --windows-service, the runtime decides the CRI endpoint.
PLAN_FLAGS = ("windows-service", "container-runtime-endpoint")
_FLAG_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")


@dataclass(frozen=True)
class Artifact:
    """One file the role installs: its name in the bin folder and where it comes from."""

    name: str
    url: str
    checksum_url: str


# ---------------------------------------------------------------------------------------------
# Artifacts


def _plan_mapping(plan: Any, key: str) -> Mapping[str, Any]:
    if not isinstance(plan, Mapping):
        raise ValueError(f"winkube_plan is a {type(plan).__name__}, not a mapping; run winkube.node.preflight first")
    value = plan.get(key)
    if not isinstance(value, Mapping) or not value:
        raise ValueError(f"winkube_plan.{key} is missing or empty; run winkube.node.preflight first")
    return value


def _planned_binary(binaries: Mapping[str, Any], component: str) -> Artifact:
    entry = binaries.get(component)
    if not isinstance(entry, Mapping) or not entry.get("url") or not entry.get("checksum_url"):
        raise ValueError(f"winkube_plan.kubernetes_binaries.{component} has no url and checksum_url")
    return Artifact(f"{component}.exe", str(entry["url"]), str(entry["checksum_url"]))


def node_artifacts(plan: Any, kube_proxy: bool = False, kubectl: bool = False) -> List[Artifact]:
    """The files for the plan's Kubernetes version, in install order."""
    binaries = _plan_mapping(plan, "kubernetes_binaries")
    components = ["kubelet", "kubeadm", "kube-log-runner"] + ["kube-proxy"] * kube_proxy + ["kubectl"] * kubectl
    return [_planned_binary(binaries, component) for component in components]


def artifact_checksums(artifacts: Sequence[Mapping[str, Any]], files: Mapping[str, Any]) -> List[Dict[str, str]]:
    """Each artifact with ``sha256`` from its ``.sha256`` file (``files``: checksum URL -> content)."""
    out = []
    for artifact in artifacts:
        url = str(artifact["checksum_url"])
        if url not in files:
            raise ValueError(f"no checksum file was fetched for {artifact['name']} ({url})")
        content = files[url]
        if not isinstance(content, str):
            raise ValueError(f"{artifact['name']}: the checksum file {url} was not read as text")
        try:
            digest = _downloads.parse_sha256_file(content)
        except ValueError as exc:
            raise ValueError(f"{artifact['name']}: the published checksum file {url} is not usable: {exc}") from None
        out.append({**{k: str(v) for k, v in artifact.items()}, "sha256": digest})
    return out


# ---------------------------------------------------------------------------------------------
# kubeadm-flags.env

_GO_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\", '"': '"'}


def go_unquote(text: str) -> str:
    """The inverse of Go's ``%q`` for a double-quoted string (``strconv.Unquote``)."""
    if len(text) < 2 or text[0] != '"' or text[-1] != '"':
        raise ValueError(f"{text[:40]!r} is not a double-quoted string")
    body, out, i = text[1:-1], [], 0
    while i < len(body):
        c = body[i]
        if c == '"':
            raise ValueError("an unescaped double quote inside the quoted value")
        if c != "\\":
            out.append(c)
            i += 1
            continue
        if i + 1 >= len(body):
            raise ValueError("the quoted value ends in a lone backslash")
        e = body[i + 1]
        if e in _GO_ESCAPES:
            out.append(_GO_ESCAPES[e])
            i += 2
            continue
        width = {"x": 2, "u": 4, "U": 8}.get(e)
        digits = body[i + 2 : i + 2 + width] if width else ""
        if width is None or len(digits) != width or not re.fullmatch(r"[0-9a-fA-F]+", digits):
            raise ValueError(f"unknown escape \\{e} in the quoted value")
        out.append(chr(int(digits, 16)))
        i += 2 + width
    return "".join(out)


def split_words(value: str) -> List[str]:
    """Split a flags value into words at blanks; double or single quotes group and are removed, so
    ``--enforce-node-allocatable=""`` is that flag with an empty value (how the anchors write it)."""
    words: List[str] = []
    buf: List[str] = []
    in_word, quote, i = False, "", 0
    while i < len(value):
        c = value[i]
        if quote:
            if c == quote:
                quote = ""
            elif c == "\\" and quote == '"' and i + 1 < len(value) and value[i + 1] in '"\\':
                buf.append(value[i + 1])
                i += 1
            else:
                buf.append(c)
        elif c in "\"'":
            quote, in_word = c, True
        elif c.isspace():
            if in_word:
                words.append("".join(buf))
                buf, in_word = [], False
        else:
            buf.append(c)
            in_word = True
        i += 1
    if quote:
        raise ValueError(f"unbalanced {quote} in {value!r}")
    if in_word:
        words.append("".join(buf))
    return words


def parse_kubeadm_flags_env(text: str) -> List[str]:
    """The kubelet arguments in ``kubeadm-flags.env``; an empty text (no file yet) has none."""
    if not isinstance(text, str):
        raise ValueError(f"kubeadm-flags.env content must be text, got {type(text).__name__}")
    lines = [line.strip() for line in text.lstrip("\ufeff").splitlines() if line.strip()]
    if not lines:
        return []
    if len(lines) != 1 or not lines[0].startswith(ENV_VARIABLE + "="):
        raise ValueError(
            f'kubeadm-flags.env must hold the single line {ENV_VARIABLE}="..." that kubeadm writes, '
            f"got {len(lines)} line(s) starting {lines[0][:40]!r}"
        )
    raw = lines[0][len(ENV_VARIABLE) + 1 :]
    try:
        value = go_unquote(raw) if raw.startswith('"') else raw
        return split_words(value)
    except ValueError as exc:
        raise ValueError(f"kubeadm-flags.env: {exc}") from None


# ---------------------------------------------------------------------------------------------
# Flags


def parse_flag(word: str, where: str) -> Tuple[str, Optional[str]]:
    """``--name=value`` -> (name, value); ``--name`` -> (name, None)."""
    if not isinstance(word, str) or not word.startswith("--"):
        raise ValueError(f"{where}: {word!r} is not a --flag (kubelet's flags are long flags)")
    name, eq, value = word[2:].partition("=")
    if not _FLAG_NAME_RE.match(name):
        raise ValueError(f"{where}: {word!r} has no valid flag name")
    return name, value if eq else None


def _flags_from_words(words: Sequence[str], where: str) -> List[Tuple[str, Optional[str]]]:
    """Words as flags; ``--name value`` pairs are read like pflag does for a non-boolean flag."""
    out: List[Tuple[str, Optional[str]]] = []
    i = 0
    while i < len(words):
        name, value = parse_flag(words[i], where)
        if value is None and i + 1 < len(words) and not words[i + 1].startswith("--"):
            value = words[i + 1]
            i += 1
        out.append((name, value))
        i += 1
    return out


def _flag_value(value: Any, name: str, where: str) -> Optional[str]:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return None
    if isinstance(value, (int, float, str)):
        return str(value)
    if isinstance(value, (list, tuple)) and all(isinstance(v, (str, int)) for v in value):
        return ",".join(str(v) for v in value)  # pflag's StringSlice / mapStringString comma form
    raise ValueError(f"{where}: the value of {name!r} must be a string, number, bool or list")


def extra_flags(
    extra: Any, where: str = "kubernetes_kubelet_extra_args", owned_flags: Sequence[str] = PLAN_FLAGS
) -> List[Tuple[str, Optional[str]]]:
    """Extra flags: a mapping ``{name: value}`` (like kubeadm's kubeletExtraArgs) or a list of
    ``--name=value`` strings. Flags in ``owned_flags`` are refused (the plan decides them)."""
    if extra is None:
        return []
    if isinstance(extra, Mapping):
        flags = []
        for key, value in extra.items():
            name = str(key).lstrip("-")
            if not _FLAG_NAME_RE.match(name):
                raise ValueError(f"{where}: {key!r} is not a flag name")
            flags.append((name, _flag_value(value, name, where)))
    elif isinstance(extra, (list, tuple)):
        flags = _flags_from_words(list(extra), where)
    else:
        raise ValueError(f"{where} must be a mapping or a list of --flag=value strings, got {type(extra).__name__}")
    owned = [flag[0] for flag in flags if flag[0] in owned_flags]
    if owned:
        raise ValueError(f"{where} may not set --{owned[0]}: the role decides it ({', '.join(owned_flags)})")
    return flags


def merge_flags(*groups: Sequence[Tuple[str, Optional[str]]]) -> List[Tuple[str, Optional[str]]]:
    """One entry per flag: a later group's value wins and takes the place of the first occurrence,
    so a changed value does not reorder the command line."""
    merged: Dict[str, Optional[str]] = {}
    for group in groups:
        for name, value in group:
            merged[name] = value
    return list(merged.items())


def _normal_endpoint(endpoint: str) -> str:
    r"""``npipe:////./pipe/x`` and ``npipe://./pipe/x`` name the same pipe."""
    e = endpoint.strip().lower()
    return "npipe://" + e[len("npipe:") :].lstrip("/") if e.startswith("npipe:") else e


def _check_kubeadm_flags(flags: Sequence[Tuple[str, Optional[str]]], cri_endpoint: str, version: Version) -> None:
    for name, value in flags:
        if name == "container-runtime-endpoint" and _normal_endpoint(value or "") != _normal_endpoint(cri_endpoint):
            raise ValueError(
                f"kubeadm-flags.env sets --container-runtime-endpoint={value} but the plan's runtime listens on "
                f"{cri_endpoint}; join with --cri-socket {cri_endpoint} (or fix winkube_container_runtime)"
            )
        removed = REMOVED_FLAGS.get(name)
        if removed is not None and version.minor >= removed:
            raise ValueError(
                f"kubeadm-flags.env has --{name}, which kubelet 1.{removed} and later no longer accept; "
                "run `kubeadm upgrade node` (it rewrites the file) or remove the flag"
            )


# ---------------------------------------------------------------------------------------------
# The command line


def quote_argument(arg: str) -> str:
    """Quote one argument so ``CommandLineToArgvW`` gives it back (Go ``syscall.EscapeArg``):
    unchanged without blanks or quotes, else in quotes with the backslashes before a quote doubled."""
    if arg == "":
        return '""'
    if not any(c in arg for c in ' \t"'):
        return arg
    out, backslashes = ['"'], 0
    for c in arg:
        if c == "\\":
            backslashes += 1
            continue
        if c == '"':
            out.append("\\" * (backslashes * 2 + 1) + '"')
        else:
            out.append("\\" * backslashes + c)
        backslashes = 0
    out.append("\\" * (backslashes * 2) + '"')
    return "".join(out)


def _program(path: str) -> str:
    # CommandLineToArgvW reads argv[0] up to the closing quote with backslashes literal: a program
    # path cannot hold a quote, and quoting it always keeps a path with blanks in one piece.
    if '"' in path:
        raise ValueError(f"a program path cannot contain a double quote: {path!r}")
    return f'"{path}"'


def join_command_line(argv: Sequence[str]) -> str:
    """The command line for ``argv``: the program quoted, every argument through ``quote_argument``."""
    if not argv:
        raise ValueError("a command line needs a program")
    return " ".join([_program(argv[0]), *(quote_argument(a) for a in argv[1:])])


def base_flags(paths: Mapping[str, Any], cri_endpoint: str) -> List[Tuple[str, Optional[str]]]:
    """What every Windows kubelet here starts with (image-builder's sc.yml set, with the plan's paths).

    cgroups-per-qos / enforce-node-allocatable: Windows has no cgroups, and kubelet's defaults
    (true / "pods") make it refuse to start there; resolv-conf: there is no /etc/resolv.conf.
    """

    def path(key: str) -> str:
        value = paths.get(key)
        if not isinstance(value, str) or not value:
            raise ValueError(f"winkube_plan.kubernetes_paths.{key} is missing")
        return value

    return [
        ("cert-dir", path("kubelet_cert_dir")),
        ("config", path("kubelet_config")),
        ("bootstrap-kubeconfig", path("bootstrap_kubelet_conf")),
        ("kubeconfig", path("kubelet_conf")),
        ("container-runtime-endpoint", cri_endpoint),
        ("enable-debugging-handlers", None),
        ("cgroups-per-qos", "false"),
        ("enforce-node-allocatable", ""),
        ("resolv-conf", ""),
    ]


def kubelet_service_argv(
    plan: Any, flags_env: str = "", extra: Any = None, log_file: Optional[str] = None
) -> List[str]:
    """argv of the kubelet service: kube-log-runner, then kubelet with its merged flags."""
    paths = _plan_mapping(plan, "kubernetes_paths")
    cri = plan.get("cri_endpoint")
    if not isinstance(cri, str) or not cri.startswith("npipe://"):
        raise ValueError(f"winkube_plan.cri_endpoint must be an npipe:// endpoint, got {cri!r}")
    version = parse_version(plan.get("kubernetes_version"), "winkube_plan.kubernetes_version", require_patch=True)
    bin_dir = paths.get("bin_dir")
    if not isinstance(bin_dir, str) or not bin_dir:
        raise ValueError("winkube_plan.kubernetes_paths.bin_dir is missing")
    log = log_file or ntpath.join(str(paths.get("kubelet_log_dir") or ""), "kubelet.log")
    kubeadm = _flags_from_words(parse_kubeadm_flags_env(flags_env or ""), "kubeadm-flags.env")
    _check_kubeadm_flags(kubeadm, cri, version)
    merged = merge_flags(base_flags(paths, cri), kubeadm, extra_flags(extra))
    return [
        ntpath.join(bin_dir, "kube-log-runner.exe"),
        _log_flag(log),
        ntpath.join(bin_dir, "kubelet.exe"),
        "--windows-service",
        *(f"--{name}" if value is None else f"--{name}={value}" for name, value in merged),
    ]


def _service_command(argv: Sequence[str]) -> str:
    # kube-log-runner is argv[0]; the wrapped program (argv[2]) is an ordinary argument, quoted like a
    # program for the same reason (a bin folder with blanks).
    return " ".join([_program(argv[0]), quote_argument(argv[1]), _program(argv[2]), *map(quote_argument, argv[3:])])


def _log_flag(log_file: str) -> str:
    if not isinstance(log_file, str) or not ntpath.isabs(log_file):
        raise ValueError(f"the log file must be an absolute Windows path, got {log_file!r}")
    return f"--log-file={log_file}"


def kube_proxy_service_command(plan: Any, kubeconfig: str, extra: Any = None, log_file: Optional[str] = None) -> str:
    """kube-proxy as a Windows service (when it does not run as a HostProcess DaemonSet):
    kube-log-runner, kube-proxy ``--windows-service --kubeconfig=... --proxy-mode=kernelspace`` (the
    Windows proxier, as sig-windows-tools' start.ps1 runs it), then ``extra`` (later values win)."""
    paths = _plan_mapping(plan, "kubernetes_paths")
    bin_dir = paths.get("bin_dir")
    if not isinstance(bin_dir, str) or not bin_dir:
        raise ValueError("winkube_plan.kubernetes_paths.bin_dir is missing")
    if not isinstance(kubeconfig, str) or not ntpath.isabs(kubeconfig):
        raise ValueError(f"the kube-proxy kubeconfig must be an absolute Windows path, got {kubeconfig!r}")
    base: List[Tuple[str, Optional[str]]] = [("kubeconfig", kubeconfig), ("proxy-mode", "kernelspace")]
    merged = merge_flags(base, extra_flags(extra, "kubernetes_kube_proxy_extra_args", ("windows-service",)))
    argv = [
        ntpath.join(bin_dir, "kube-log-runner.exe"),
        _log_flag(log_file or r"C:\var\log\kube-proxy\kube-proxy.log"),
        ntpath.join(bin_dir, "kube-proxy.exe"),
        "--windows-service",
        *(f"--{name}" if value is None else f"--{name}={value}" for name, value in merged),
    ]
    return _service_command(argv)


def kubelet_service_command(plan: Any, flags_env: str = "", extra: Any = None, log_file: Optional[str] = None) -> str:
    """The kubelet service's command line (its ImagePath)."""
    return _service_command(kubelet_service_argv(plan, flags_env, extra, log_file))
