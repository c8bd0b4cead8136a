r"""``crictl.exe`` (stamp ``crictl``): ``--version``, ``version``, ``images``, ``pull``, ``rmi``
through the CRI of containerd (namespace ``k8s.io``) or cri-dockerd (Docker's image store).

The endpoint comes from ``-r``/``-i``, then ``CONTAINER_RUNTIME_ENDPOINT``/``IMAGE_SERVICE_ENDPOINT``,
then the config file (``--config`` or ``%USERPROFILE%\.crictl\crictl.yaml``), else crictl's default
endpoints with its deprecation warning. References are normalised like Docker's
(``pause:3.6`` → ``docker.io/library/pause:3.6``). Output formats: GT §4.6. Errors are logrus
``level=fatal`` lines, exit 1 [RECONSTRUCTED wording of the gRPC errors].
"""

from __future__ import annotations

import yaml

from tests.simulator.contract import ExecResult
from tests.simulator.executables import runtime
from tests.simulator.executables.common import (
    FlagError,
    Invocation,
    daemon_on,
    fail,
    getenv,
    logrus_line,
    normalize_pipe,
    not_emulated,
    ok,
    parse_flags,
    resolve_path,
)
from tests.simulator.host import SimulatorError

GLOBAL = {
    "runtime-endpoint": "str",
    "image-endpoint": "str",
    "timeout": "str",
    "debug": "bool",
    "config": "str",
    "version": "bool",
    "help": "bool",
}
GLOBAL_ALIASES = {"r": "runtime-endpoint", "i": "image-endpoint", "t": "timeout", "D": "debug", "c": "config"}
DEFAULT_ENDPOINTS = ("npipe:////./pipe/containerd-containerd", "npipe:////./pipe/cri-dockerd")
CRI_NAMESPACE = "k8s.io"


def _config_file(inv: Invocation, path: str | None) -> dict:
    if path is None:
        profile = getenv(inv.host, "USERPROFILE") or r"C:\Users\Administrator"
        path = profile + r"\.crictl\crictl.yaml"
    entry = inv.host.get(resolve_path(inv.host, path, inv.cwd))
    if entry is None or entry.is_dir:
        return {}
    try:
        doc = yaml.safe_load(entry.data.decode("utf-8-sig")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise SimulatorError(f"load config file: {exc}") from exc
    return doc if isinstance(doc, dict) else {}


def _endpoint(inv: Invocation, flags: dict) -> tuple[list[str], str]:
    """Candidate image endpoints and the warning crictl prints when it falls back to defaults."""
    cfg = _config_file(inv, flags.get("config"))
    explicit = (
        flags.get("image-endpoint")
        or getenv(inv.host, "IMAGE_SERVICE_ENDPOINT")
        or cfg.get("image-endpoint")
        or flags.get("runtime-endpoint")
        or getenv(inv.host, "CONTAINER_RUNTIME_ENDPOINT")
        or cfg.get("runtime-endpoint")
    )
    if explicit:
        return [str(explicit)], ""
    warning = logrus_line(
        "warning",
        f"image connect using default endpoints: [{' '.join(DEFAULT_ENDPOINTS)}]. "
        "As the default settings are now deprecated, you should set the endpoint instead.",
    )
    return list(DEFAULT_ENDPOINTS), warning


def _connect(inv: Invocation, endpoints: list[str]) -> tuple[dict | None, str]:
    for ep in endpoints:
        daemon = daemon_on(inv.host, ep)
        if daemon is not None and daemon.get("kind") in ("containerd", "cri-dockerd"):
            return daemon, ep
    ep = endpoints[-1]
    pipe = normalize_pipe(ep)
    return None, (
        f'validate service connection: validate CRI v1 image API for external endpoint "{ep}": rpc error: '
        f'code = Unavailable desc = connection error: desc = "transport: Error while dialing: open {pipe}: '
        'The system cannot find the file specified."'
    )


def _store(inv: Invocation, daemon: dict) -> tuple[str, dict | None]:
    """The namespace CRI images live in, and the runtime that pulls (dockerd behind cri-dockerd)."""
    if daemon["kind"] == "containerd":
        return CRI_NAMESPACE, daemon
    engine = daemon_on(inv.host, r"\\.\pipe\docker_engine")
    return runtime.MOBY_NAMESPACE, engine


def run(inv: Invocation) -> ExecResult:
    assert inv.stamp is not None
    try:
        g = parse_flags(inv.args, GLOBAL, GLOBAL_ALIASES, interspersed=False)
    except FlagError as exc:
        return fail(1, logrus_line("fatal", f"flag provided but not defined: {exc}"))
    if g.get("version"):
        return ok(f"crictl version v{inv.stamp.version}\n")
    if not g.positional:
        return not_emulated(inv)
    cmd, rest = g.positional[0], g.positional[1:]
    if cmd not in ("images", "image", "img", "pull", "rmi", "version"):
        return not_emulated(inv)
    try:
        endpoints, warning = _endpoint(inv, g.values)
    except SimulatorError as exc:
        return fail(1, logrus_line("fatal", str(exc)))
    daemon, error = _connect(inv, endpoints)
    if daemon is None:
        return fail(1, warning + logrus_line("fatal", error))
    if cmd == "version":
        if rest:
            return not_emulated(inv)
        name = "containerd" if daemon["kind"] == "containerd" else "docker"
        return ok(
            f"Version:  0.1.0\nRuntimeName:  {name}\nRuntimeVersion:  v{daemon['version']}\nRuntimeApiVersion:  v1\n",
            warning,
        )
    namespace, puller = _store(inv, daemon)
    if cmd == "pull":
        return _pull(inv, rest, namespace, puller, warning)
    if cmd == "rmi":
        return _rmi(inv, rest, namespace, warning)
    return _images(inv, rest, namespace, warning)


def _pull(inv: Invocation, args: list[str], namespace: str, puller: dict | None, warning: str) -> ExecResult:
    if len(args) != 1 or args[0].startswith("-"):
        return not_emulated(inv)
    ref = runtime.docker_normalize(args[0])
    if puller is None:
        return fail(
            1,
            warning
            + logrus_line(
                "fatal", "pulling image: rpc error: code = Unknown desc = Cannot connect to the Docker daemon"
            ),
        )
    labels = {"io.cri-containerd.image": "managed"} if namespace == CRI_NAMESPACE else {}
    try:
        record = runtime.pull(inv.host, ref, namespace, puller, labels)
    except runtime.PullError as exc:
        if exc.kind == "platform":
            cause = "no match for platform in manifest: not found"
        else:
            cause = f"failed to resolve reference {ref!r}: {exc.detail}".replace("'", '"')
        msg = f'pulling image: rpc error: code = NotFound desc = failed to pull and unpack image "{ref}": {cause}'
        return fail(1, warning + logrus_line("fatal", msg))
    except SimulatorError as exc:
        return fail(1, f"simulator: crictl pull: {exc}\n")
    return ok(f"Image is up to date for {record['config_digest']}\n", warning)


def _images(inv: Invocation, args: list[str], namespace: str, warning: str) -> ExecResult:
    quiet = digests = False
    repo_filter = None
    for a in args:
        if a in ("-q", "--quiet"):
            quiet = True
        elif a == "--digests":
            digests = True
        elif not a.startswith("-") and repo_filter is None:
            repo_filter = runtime.docker_normalize(a)
        else:
            return not_emulated(inv)
    rows = runtime.images_in(inv.host, namespace)
    if repo_filter:
        rows = [
            (r, rec)
            for r, rec in rows
            if r == repo_filter or runtime.split_repo_tag(r)[0] == repo_filter.rsplit(":", 1)[0]
        ]
    if quiet:
        ids = list(dict.fromkeys(rec["config_digest"] for _, rec in rows))
        return ok("".join(i + "\n" for i in ids), warning)
    header = ["IMAGE", "TAG", *(["DIGEST"] if digests else []), "IMAGE ID", "SIZE"]
    table = [header]
    for ref, rec in rows:
        repo, tag = runtime.split_repo_tag(ref)
        row = [repo, tag]
        if digests:
            row.append(rec["manifest_digest"].split(":", 1)[1][:13])
        row += [rec["config_digest"].split(":", 1)[1][:13], runtime.decimal_size(rec["size"])]
        table.append(row)
    return ok(runtime.tabwriter(table, minwidth=20, padding=3, trailing_tab=False), warning)


def _id_prefix(target: str, image_id: str) -> bool:
    """crictl accepts an image ID prefix (hex, as ``crictl images`` prints 13 of them)."""
    hexpart = target.removeprefix("sha256:")
    return len(hexpart) >= 4 and all(c in "0123456789abcdef" for c in hexpart) and image_id[7:].startswith(hexpart)


def _rmi(inv: Invocation, args: list[str], namespace: str, warning: str) -> ExecResult:
    if not args or any(a.startswith("-") for a in args):
        return not_emulated(inv)
    out, err = [], []
    for target in args:
        hits = [
            ref
            for ref, rec in runtime.images_in(inv.host, namespace)
            if ref == runtime.docker_normalize(target)
            or rec["config_digest"] == target
            or _id_prefix(target, rec["config_digest"])
        ]
        if not hits:
            err.append(logrus_line("error", f"no such image {target}"))
            continue
        for ref in hits:
            runtime.remove(inv.host, ref, namespace)
            out.append(f"Deleted: {ref}\n")
    if err:
        return fail(1, warning + "".join(err) + logrus_line("fatal", "unable to remove the image(s)"), "".join(out))
    return ok("".join(out), warning)
