r"""``ctr.exe`` (stamp ``ctr``): ``--version``, ``version`` and ``images pull|ls|rm`` against the
running containerd daemon (the service whose pipe ``--address`` names; default
``\\.\pipe\containerd-containerd``).

``version`` prints the client block, then — once the daemon answers on its pipe — the server's
version, revision and UUID (containerd cmd/ctr/commands/version/version.go); without a daemon the client
block is printed and the dial fails, which is what a caller waiting for the pipe retries on.
``images pull --hosts-dir DIR`` is accepted (containerd docs/hosts.md): the simulated registries answer
every reference themselves, so the directory only has to be a string, as for the real ctr, which
does not require it to exist.

A pull picks the manifest with the *running* containerd's platform matcher (knowledge base, per
version); the output follows the ctr major: 1.x prints the local-pull progress table and
``unpacking ... done``; 2.x the transfer-service tree (GT §4.5). Errors are ``ctr: <err>`` on
stderr, exit 1. Other commands and flags fail loudly.
"""

from __future__ import annotations

from tests.simulator.contract import ExecResult
from tests.simulator.executables import runtime
from tests.simulator.executables.common import (
    FlagError,
    Invocation,
    daemon_on,
    fail,
    getenv,
    go_quote,
    logrus_line,
    not_emulated,
    ok,
    parse_flags,
)
from tests.simulator.host import SimulatorError

GLOBAL = {
    "address": "str",
    "namespace": "str",
    "timeout": "str",
    "connect-timeout": "str",
    "debug": "bool",
    "version": "bool",
    "help": "bool",
}
GLOBAL_ALIASES = {"a": "address", "n": "namespace", "v": "version", "h": "help"}
PULL = {
    "platform": "list",
    "local": "bool",
    "user": "str",
    "skip-verify": "bool",
    "plain-http": "bool",
    "hosts-dir": "str",
}
PULL_ALIASES = {"u": "user", "k": "skip-verify"}
DEFAULT_ADDRESS = r"\\.\pipe\containerd-containerd"
BAR = "|" + "+" * 38 + "|"


def run(inv: Invocation) -> ExecResult:
    assert inv.stamp is not None
    try:
        g = parse_flags(inv.args, GLOBAL, GLOBAL_ALIASES, interspersed=False)
    except FlagError as exc:
        return fail(1, f"ctr: flag provided but not defined: {exc}\n")
    pkg = "github.com/containerd/containerd" + ("/v2" if inv.stamp.major >= 2 else "")
    if g.get("version"):
        return ok(f"ctr {pkg} v{inv.stamp.version}\n")
    address = str(g.get("address") or getenv(inv.host, "CONTAINERD_ADDRESS") or DEFAULT_ADDRESS)
    if g.positional == ["version"]:
        return _version(inv, address)
    if not g.positional or g.positional[0] not in ("images", "image", "i"):
        return not_emulated(inv)
    sub = g.positional[1:]
    if not sub:
        return not_emulated(inv)
    namespace = str(g.get("namespace") or getenv(inv.host, "CONTAINERD_NAMESPACE") or "default")
    daemon = daemon_on(inv.host, address)
    if daemon is None or daemon.get("kind") != "containerd":
        return fail(1, _dial_failure(address))
    cmd, rest = sub[0], sub[1:]
    if cmd == "pull":
        return _pull(inv, rest, namespace, daemon)
    if cmd in ("ls", "list"):
        return _ls(inv, rest, namespace, str(daemon.get("sandbox_image", "")))
    if cmd in ("rm", "remove", "delete", "del"):
        return _rm(inv, rest, namespace)
    return not_emulated(inv)


def _dial_failure(address: str) -> str:
    """[RECONSTRUCTED] the gRPC dial failure of a named pipe nobody listens on."""
    inner = f"transport: error while dialing: open {address}: The system cannot find the file specified."
    return (
        f"ctr: failed to dial {go_quote(address)}: context deadline exceeded: connection error: "
        f"desc = {go_quote(inner)}\n"
    )


def _version(inv: Invocation, address: str) -> ExecResult:
    """``ctr version``: fmt.Println("  Version: ", v) puts two blanks after "Version:" (Println adds one)."""
    assert inv.stamp is not None
    go = inv.stamp.get("go")
    if not go:
        return not_emulated(inv, f"ctr version for a ctr.exe whose stamp has no go field ({inv.path})")
    client = f"Client:\n  Version:  v{inv.stamp.version}\n  Revision: {inv.stamp.get('commit')}\n  Go version: {go}\n\n"
    daemon = daemon_on(inv.host, address)
    if daemon is None or daemon.get("kind") != "containerd":
        return fail(1, _dial_failure(address), client)
    server = (
        f"Server:\n  Version:  v{daemon['version']}\n  Revision: {daemon.get('revision', '')}\n"
        f"  UUID: {daemon.get('uuid', '')}\n"
    )
    warnings = ""
    if daemon["version"] != inv.stamp.version:
        warnings += "WARNING: version mismatch\n"
    if daemon.get("revision", "") != inv.stamp.get("commit"):
        warnings += "WARNING: revision mismatch\n"
    return ok(client + server, warnings)


def _pull(inv: Invocation, args: list[str], namespace: str, daemon: dict) -> ExecResult:
    assert inv.stamp is not None
    try:
        f = parse_flags(args, PULL, PULL_ALIASES)
    except FlagError:
        return not_emulated(inv)
    if len(f.positional) != 1:
        return fail(1, "ctr: please provide an image reference to pull\n")
    for p in f.get("platform", []):
        if p.lower() not in ("windows/amd64", "windows"):
            return not_emulated(inv, f"ctr pull --platform {p} on a Windows host")
    ref = f.positional[0]
    host = inv.host
    legacy = inv.stamp.major < 2 or bool(f.get("local"))
    try:
        runtime.ctr_resolve_check(ref)
        record = runtime.pull(host, ref, namespace, daemon)
    except runtime.PullError as exc:
        if exc.kind == "platform":
            if legacy:
                # GT §4.5 [VERBATIM form]: progress, then the unpack step fails.
                out = _legacy_progress(ref, exc.digest) + f"unpacking windows/amd64 {exc.digest}...\n"
                return fail(1, f"ctr: no match for platform in manifest {exc.digest}: not found\n", out)
            return fail(1, "ctr: no match for platform in manifest: not found\n")
        return fail(1, f"ctr: failed to resolve reference {go_quote(ref)}: {exc.detail}\n")
    except SimulatorError as exc:
        return fail(1, f"simulator: ctr pull: {exc}\n")
    if legacy:
        out = _legacy_progress(ref, record["digest"], record)
        out += f"unpacking {record['platform']} {record['digest']}...\ndone: 25.013ms\n"
        return ok(out)
    return ok(_transfer_progress(ref, record))


def _legacy_progress(ref: str, index_digest: str, record: dict | None = None) -> str:
    """ctr 1.x's progress table: ``%s:\t%s\t%40r\t`` rows and ``elapsed: %-4.1fs\ttotal: %7.6v\t(%v)\t``
    in one tabwriter. ``%7.6v`` cuts the size to 6 characters ("total:  12.8 M"), as the real one does."""
    rows = [[f"{ref}:", "resolved", BAR], [f"index-{index_digest.replace(':', '-', 1)}:", "done", BAR]]
    if record is not None:
        rows.append([f"manifest-{record['manifest_digest'].replace(':', '-', 1)}:", "done", BAR])
        rows += [[f"layer-{d.replace(':', '-', 1)}:", "done", BAR] for d in record["layers"]]
        rows.append([f"config-{record['config_digest'].replace(':', '-', 1)}:", "done", BAR])
    total = runtime.binary_size(record["size"] if record else 0)[:6].rjust(7)
    rate = "25.1 MiB/s" if record else "0.0 B/s"
    rows.append(["elapsed: 3.9 s", f"total: {total}", f"({rate})"])
    return runtime.tabwriter(rows, minwidth=1, padding=1, trailing_tab=True)


def _transfer_progress(ref: str, record: dict) -> str:
    short = record["manifest_digest"].split(":", 1)[1][:12]
    lines = [
        [ref, "saved", ""],
        [f"└──manifest ({short})", "complete", BAR],
    ]
    for d in record["layers"]:
        lines.append([f"   ├──layer ({d.split(':', 1)[1][:12]})", "complete", BAR])
    lines.append([f"   └──config ({record['config_digest'].split(':', 1)[1][:12]})", "complete", BAR])
    body = runtime.tabwriter(lines, minwidth=1, padding=8, trailing_tab=False)
    kind = "application/vnd.docker.distribution.manifest.v2+json"
    total = runtime.binary_size(record["size"])
    return (
        body
        + f"{kind} {record['manifest_digest']}\n"
        + f"Completed pull from OCI Registry ({ref})\telapsed: 0.1 s\ttotal:  {total}\t(24.9 MiB/s)\n"
    )


def _labels(rec: dict, pinned: bool) -> str:
    labels = dict(rec.get("labels") or {})
    if pinned:
        labels["io.cri-containerd.pinned"] = "pinned"  # CRI pins the configured sandbox image (GT 4.4)
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items())) or "-"


def managed(rec: dict) -> bool:
    return (rec.get("labels") or {}).get("io.cri-containerd.image") == "managed"


def _rows(inv: Invocation, namespace: str) -> list[tuple[str, dict]]:
    rows: list[tuple[str, dict]] = []
    for ref, rec in runtime.images_in(inv.host, namespace):
        rows.append((ref, rec))
        if managed(rec):
            # CRI keeps a digest ref and an image-id ref next to the tag (GT §4.4).
            rows.append((f"{runtime.split_repo_tag(ref)[0]}@{rec['digest']}", rec))
            rows.append((rec["config_digest"], rec))
    return sorted(rows, key=lambda r: r[0])


def _ls(inv: Invocation, args: list[str], namespace: str, sandbox_image: str) -> ExecResult:
    quiet = False
    for a in args:
        if a in ("-q", "--quiet"):
            quiet = True
        else:
            return not_emulated(inv)
    rows = _rows(inv, namespace)
    pinned = {id(rec) for ref, rec in runtime.images_in(inv.host, namespace) if ref == sandbox_image and managed(rec)}
    if quiet:
        return ok("".join(ref + "\n" for ref, _ in rows))
    table = [["REF", "TYPE", "DIGEST", "SIZE", "PLATFORMS", "LABELS"]]
    for ref, rec in rows:
        table.append(
            [
                ref,
                rec["media_type"],
                rec["digest"],
                runtime.binary_size(rec["size"]),
                ",".join(rec["platforms"]),
                _labels(rec, id(rec) in pinned),
            ]
        )
    return ok(runtime.tabwriter(table, minwidth=1, padding=1, trailing_tab=True))


def _rm(inv: Invocation, args: list[str], namespace: str) -> ExecResult:
    refs = [a for a in args if a != "--sync"]
    if not refs or any(a.startswith("-") for a in refs):
        return not_emulated(inv)
    out, err = [], []
    for ref in refs:
        if runtime.remove(inv.host, ref, namespace):
            out.append(ref + "\n")
        else:
            # images.go: a missing ref is only a warning; the command still exits 0.
            err.append(logrus_line("warning", f"{ref}: image not found"))
    return ok("".join(out), "".join(err))
