# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the join role decides on the controller: its inputs, the skew against the real API server,
what a failed ``kubeadm join`` means, the labels and taints to patch, and why a node is not Ready.

Secrets: the bootstrap token (its id is public - kubeadm prints it and names the Secret after it -
its secret half is not) and the CA certificate hashes. Nothing returned here as a message contains
them: kubeadm's own texts are masked with ``mask_secrets`` before they are quoted, and input errors
only name the input that is wrong (they come from ``join.parse_join_command``, which is written that
way).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from ansible_collections.winkube.node.plugins.module_utils import kubernetes as _kubernetes
from ansible_collections.winkube.node.plugins.module_utils.join import parse_join_command
from ansible_collections.winkube.node.plugins.module_utils.versions import Version, parse_version

# kubelet, kube-proxy and kubeadm are installed at winkube_kubernetes_version (the plan's version):
# each must be within its skew rule against the API server before the node joins.
JOIN_COMPONENTS = ("kubelet", "kube-proxy", "kubeadm")
TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
REDACTED = "<redacted>"
DEFAULT_LOG_LINES = 20

# Token format as kubeadm defines it; the secret half is what must never be shown.
_TOKEN_RE = re.compile(r"\b([a-z0-9]{6})\.([a-z0-9]{16})\b")
_HASH_RE = re.compile(r"sha256:[0-9a-fA-F]{64}")
# A PEM block (a kubeconfig or kubelet-client-current.pem quoted in a log): nothing of it is shown.
_PEM_RE = re.compile(r"-----BEGIN [A-Z ]+-----.*?-----END [A-Z ]+-----", re.S)
# Bearer tokens and kubeconfig "token:" lines as kubelet may log them at high verbosity.
_BEARER_RE = re.compile(r"(?i)(authorization:\s*bearer\s+|\btoken:\s*)\S+")
# Kubernetes label syntax (apimachinery validation.IsQualifiedName / IsValidLabelValue).
_NAME_PART = r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?"
_LABEL_NAME_RE = re.compile(rf"^{_NAME_PART}$")
_LABEL_VALUE_RE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$")
_DNS_SUBDOMAIN_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
# A server gitVersion: v1.33.3, plus the distribution suffixes real clusters report (v1.30.2-eks-1552ad0,
# v1.31.4+k3s1, v1.32.4-dispatcher). The skew rules compare minors only, so the suffix is not needed.
_SERVER_VERSION_RE = re.compile(r"^v?(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(?:[-+][0-9A-Za-z.+-]*)?$")


# ---------------------------------------------------------------------------------------------
# Masking


def mask_secrets(text: str, secrets: Sequence[str] = ()) -> str:
    """``text`` with every given secret, every token's secret half, every CA hash and PEM block replaced.

    The given secrets are replaced first and literally (a malformed token kubeadm echoes back would not
    match the token pattern); then anything shaped like a token keeps only its public id.
    """
    out = text
    for secret in sorted(
        (s for s in token_secrets(secrets) if isinstance(s, str) and len(s) >= 6), key=len, reverse=True
    ):
        out = out.replace(secret, REDACTED)
    out = _PEM_RE.sub(f"<PEM block {REDACTED}>", out)
    out = _TOKEN_RE.sub(lambda m: f"{m.group(1)}.{REDACTED}", out)
    out = _HASH_RE.sub(f"sha256:{REDACTED}", out)
    return _BEARER_RE.sub(lambda m: m.group(1) + REDACTED, out)


def token_secrets(values: Sequence[str]) -> List[str]:
    """The strings to mask for the given secrets: each value, a token's secret half, a hash's hex digits."""
    out: List[str] = []
    for value in values:
        if not isinstance(value, str) or not value:
            continue
        out.append(value)
        if _TOKEN_RE.fullmatch(value):
            out.append(value.partition(".")[2])
        elif _HASH_RE.fullmatch(value):
            out.append(value.partition(":")[2])
    return out


# ---------------------------------------------------------------------------------------------
# Inputs


@dataclass(frozen=True)
class JoinTarget:
    api_server_endpoint: str
    token: str = field(repr=False)
    ca_cert_hashes: Tuple[str, ...] = field(repr=False)

    @property
    def token_id(self) -> str:
        return self.token.partition(".")[0]


def _given(value: Any) -> bool:
    return value not in (None, "", [])


def resolve_join_inputs(
    join_command: Any = None, api_endpoint: Any = None, token: Any = None, ca_cert_hash: Any = None
) -> JoinTarget:
    """The join target from ``join_command`` or from endpoint + token + CA hash(es); ValueError otherwise."""
    parts = {"join_api_endpoint": api_endpoint, "join_token": token, "join_ca_cert_hash": ca_cert_hash}
    given = [name for name, value in parts.items() if _given(value)]
    if _given(join_command):
        if given:
            raise ValueError(
                f"give either join_command or {', '.join(parts)}, not both (also given: {', '.join(given)})"
            )
        parsed = parse_join_command(join_command)
    else:
        missing = [name for name in parts if name not in given]
        if len(missing) == len(parts):
            raise ValueError(
                "no join input: set join_command (the output of `kubeadm token create --print-join-command`), "
                "or join_api_endpoint, join_token and join_ca_cert_hash, or join_control_plane_host"
            )
        if missing:
            raise ValueError(
                f"{', '.join(missing)} missing: join_api_endpoint, join_token and join_ca_cert_hash go together"
            )
        parsed = _parse_parts(api_endpoint, token, ca_cert_hash)
    if parsed.control_plane:
        raise ValueError("the join command joins a control-plane node; Windows nodes can only join as workers")
    return JoinTarget(parsed.api_server_endpoint, parsed.token, parsed.ca_cert_hashes)


def _parse_parts(api_endpoint: Any, token: Any, ca_cert_hash: Any) -> Any:
    hashes = ca_cert_hash if isinstance(ca_cert_hash, list) else [ca_cert_hash]
    for name, value in (("join_api_endpoint", api_endpoint), ("join_token", token)):
        if not isinstance(value, str) or not value.strip() or len(value.split()) != 1:
            raise ValueError(f"{name} must be one word (a string without blanks)")
    if not all(isinstance(h, str) and len(h.split()) == 1 for h in hashes):
        raise ValueError("join_ca_cert_hash must be a string or a list of strings without blanks")
    if api_endpoint.startswith(("https://", "http://")):
        raise ValueError("join_api_endpoint is host:port without a scheme, as kubeadm join takes it")
    # One validation for both forms: the parts become the command kubeadm would print.
    words = ["kubeadm", "join", api_endpoint, "--token", token]
    for value in hashes:
        words += ["--discovery-token-ca-cert-hash", value]
    try:
        return parse_join_command(" ".join(words))
    except ValueError as exc:
        raise ValueError(f"join_api_endpoint/join_token/join_ca_cert_hash: {exc}") from None


def join_inputs(
    join_command: Any = None, api_endpoint: Any = None, token: Any = None, ca_cert_hash: Any = None
) -> Dict[str, Any]:
    """``resolve_join_inputs`` as a dict with ``error`` set instead of raising.

    The role keeps the result in a no_log fact and asserts on ``error`` in a task that may be shown:
    a no_log task that fails hides its message, and the message here is free of secrets.
    """
    try:
        target = resolve_join_inputs(join_command, api_endpoint, token, ca_cert_hash)
    except ValueError as exc:
        return {"error": str(exc), "api_server_endpoint": None, "token": None, "token_id": None, "ca_cert_hashes": []}
    return {
        "error": None,
        "api_server_endpoint": target.api_server_endpoint,
        "token": target.token,
        "token_id": target.token_id,
        "ca_cert_hashes": list(target.ca_cert_hashes),
    }


# ---------------------------------------------------------------------------------------------
# Skew against the real API server


def server_version(git_version: Any) -> Version:
    """The version of a running API server from its ``/version`` gitVersion (distribution suffix ignored)."""
    if not isinstance(git_version, str):
        raise ValueError(f"the API server version must be a string like v1.33.3, got {type(git_version).__name__}")
    match = _SERVER_VERSION_RE.match(git_version.strip())
    if match is None:
        raise ValueError(f"the API server reported version {git_version!r}, which is not vMAJOR.MINOR.PATCH")
    return Version(int(match.group(1)), int(match.group(2)), int(match.group(3)))


def join_skew(apiserver_git_version: Any, kubernetes_version: Any) -> Dict[str, Any]:
    """Whether kubelet, kube-proxy and kubeadm at ``kubernetes_version`` may join this API server."""
    apiserver = server_version(apiserver_git_version)
    node = parse_version(kubernetes_version, "winkube_kubernetes_version")
    results = {c: _kubernetes.check_skew(c, node, apiserver) for c in JOIN_COMPONENTS}
    problems = [r.reason for r in results.values() if not r.ok]
    if problems:
        message = (
            f"the node's Kubernetes {node} cannot join kube-apiserver {apiserver}: "
            + "; ".join(problems)
            + ". Set winkube_kubernetes_version to a release the API server accepts (the kubernetes role installs it),"
            " or upgrade the control plane first"
        )
    else:
        message = f"Kubernetes {node} on the node is within the skew policy of kube-apiserver {apiserver}"
    return {
        "ok": not problems,
        "apiserver_version": str(apiserver),
        "kubernetes_version": str(node),
        "components": {c: {"ok": r.ok, "reason": r.reason} for c, r in results.items()},
        "message": message,
    }


# ---------------------------------------------------------------------------------------------
# kubeadm join failures

_PHASE_RE = re.compile(r"^error execution phase (?P<phase>[\w/-]+): (?P<msg>.*)$")
_PREFLIGHT_ERROR_RE = re.compile(r"^\s*\[ERROR (?P<check>[^\]]+)\]: (?P<msg>.*)$")
FIX_WITH_NEW_BOOTSTRAP = (
    "create a new token on a control-plane node (`kubeadm token create --print-join-command`) and pass its output "
    "as join_command, or set join_control_plane_host so that the role creates one; then run the role again "
    "(nothing was changed on this node)"
)

# (what kubeadm says, what it means, what to do), first match wins. Texts: ground truth section 5.5.
_CAUSES: Tuple[Tuple[str, str, str], ...] = (
    (
        "could not find a JWS signature in the cluster-info ConfigMap",
        "the cluster does not know the bootstrap token: it expired (tokens live 24 h unless created with another "
        "--ttl) or was deleted",
        FIX_WITH_NEW_BOOTSTRAP,
    ),
    (
        "failed to verify JWS signature",
        "the token's id is known but its secret is wrong",
        FIX_WITH_NEW_BOOTSTRAP,
    ),
    (
        "could not construct token string",
        "the token is not of the form [a-z0-9]{6}.[a-z0-9]{16}",
        FIX_WITH_NEW_BOOTSTRAP,
    ),
    (
        "are pinned",
        "the cluster's CA does not match join_ca_cert_hash (the --discovery-token-ca-cert-hash)",
        "take the hash from `kubeadm token create --print-join-command` on this cluster's control plane; a node of "
        "another cluster cannot be joined with it",
    ),
    (
        "invalid discovery token CA certificate hash",
        "the CA hash is malformed",
        "give the hash as sha256: followed by 64 hex digits",
    ),
    (
        "failed to request the cluster-info ConfigMap",
        "the node cannot reach the API server endpoint",
        "check that the endpoint of the join command is the address the nodes use (a load balancer or the "
        "control-plane host) and that port 6443 is open between the node and it",
    ),
    (
        "only supports deploying clusters with the control plane version",
        "the node's kubeadm is too new for the control plane",
        "install a kubeadm of the control plane's minor or one newer (winkube_kubernetes_version)",
    ),
    (
        'and status "Ready" already exists',
        "another Ready node already has this name",
        "choose another join_node_name, or delete the existing Node if it is this host's old registration",
    ),
    (
        "10248/healthz",
        "kubeadm started the kubelet but it never became healthy",
        "read the kubelet log (C:\\var\\log\\kubelet\\kubelet.log) and the kubelet service's state",
    ),
    (
        "timed out waiting for the condition",
        "the kubelet did not complete its TLS bootstrap",
        "read the kubelet log (C:\\var\\log\\kubelet\\kubelet.log); the kubelet may not reach the API server",
    ),
)


def _preflight_fix(check: str) -> str:
    if check.startswith(("FileAvailable", "DirAvailable")):
        return "this host has files of an earlier join: reset it (playbooks/reset.yml, kubeadm reset) first"
    if check == "CRI":
        return "the container runtime is not running on the CRI endpoint: run the runtime role and check its service"
    if check == "Port-10250":
        return "the kubelet service is already running: stop it, or reset the node first"
    if check == "KubeletVersion":
        return "install kubelet with the kubernetes role (C:\\k must be on the machine Path)"
    return "fix the check kubeadm names"


def kubeadm_join_failure(result: Any, secrets: Sequence[str] = (), node_name: str = "") -> str:
    """A message for a failed ``kubeadm join`` result (win_command's rc/stdout/stderr) without secrets."""
    if not isinstance(result, Mapping):
        raise ValueError(f"expected the registered result of kubeadm join, got {type(result).__name__}")
    rc = result.get("rc")
    stderr = mask_secrets(str(result.get("stderr") or ""), secrets)
    stdout = mask_secrets(str(result.get("stdout") or ""), secrets)
    lines = [line.rstrip() for line in stderr.splitlines() if line.strip()]
    lines = [line for line in lines if not line.startswith("To see the stack trace")]
    who = f" on node {node_name}" if node_name else ""
    if rc is None and result.get("msg"):
        # The process did not start at all (win_command reports msg, no rc).
        return f"kubeadm join{who} could not run: {mask_secrets(str(result['msg']), secrets)}"
    phase, said = "", ""
    for line in lines:
        m = _PHASE_RE.match(line)
        if m:
            phase, said = m.group("phase"), m.group("msg")
            break
    preflight = [_PREFLIGHT_ERROR_RE.match(line) for line in lines]
    checks = [(m.group("check"), m.group("msg")) for m in preflight if m]
    parts = [f"kubeadm join{who} failed (rc {rc})" + (f" in phase {phase}" if phase else "") + "."]
    if checks:
        parts.append("kubeadm's preflight refused:")
        parts += [f"  - [{check}] {msg} -> {_preflight_fix(check)}" for check, msg in checks]
    elif said:
        parts.append(f"kubeadm says: {said}")
        cause = next((c for c in _CAUSES if c[0] in said), None)
        if cause is not None:
            parts.append(f"Meaning: {cause[1]}.")
            parts.append(f"Fix: {cause[2]}.")
    else:
        tail = lines[-5:] or [line for line in stdout.splitlines() if line.strip()][-5:]
        parts.append("kubeadm's last output lines:")
        parts += [f"  {line}" for line in tail] or ["  (none)"]
    return "\n".join(parts)


# ---------------------------------------------------------------------------------------------
# Labels and taints


def node_labels(value: Any) -> Dict[str, str]:
    """``join_node_labels`` validated: a mapping of qualified names to label values."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ValueError(f"join_node_labels must be a mapping of label to value, got {type(value).__name__}")
    out: Dict[str, str] = {}
    for key, raw in value.items():
        _qualified_name(key, "join_node_labels key")
        if isinstance(raw, bool) or not isinstance(raw, (str, int)):
            raise ValueError(f"join_node_labels[{key!r}] must be a string (quote numbers and booleans in YAML)")
        text = str(raw)
        if len(text) > 63 or not _LABEL_VALUE_RE.match(text):
            raise ValueError(
                f"join_node_labels[{key!r}] value {text!r} is not a label value (at most 63 of [A-Za-z0-9-_.], "
                "starting and ending with a letter or digit)"
            )
        out[str(key)] = text
    return out


def _qualified_name(key: Any, what: str) -> str:
    if not isinstance(key, str) or not key:
        raise ValueError(f"{what} must be a non-empty string")
    prefix, slash, name = key.rpartition("/")
    if slash and (not prefix or len(prefix) > 253 or not _DNS_SUBDOMAIN_RE.match(prefix)):
        raise ValueError(f"{what} {key!r} has a prefix that is not a lower-case DNS subdomain")
    if len(name) > 63 or not _LABEL_NAME_RE.match(name):
        raise ValueError(
            f"{what} {key!r}: the name part must be at most 63 of [A-Za-z0-9-_.], alphanumeric at the ends"
        )
    return key


def node_taints(value: Any) -> List[Dict[str, str]]:
    """``join_node_taints`` validated: ``key[=value]:Effect`` strings or ``{key, value?, effect}`` mappings."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValueError(f"join_node_taints must be a list, got {type(value).__name__}")
    out: List[Dict[str, str]] = []
    for index, item in enumerate(value):
        taint = _taint(item, f"join_node_taints[{index}]")
        if any(t["key"] == taint["key"] and t["effect"] == taint["effect"] for t in out):
            raise ValueError(f"join_node_taints[{index}]: {taint['key']}:{taint['effect']} is given twice")
        out.append(taint)
    return out


def _taint(item: Any, what: str) -> Dict[str, str]:
    if isinstance(item, str):
        kv, sep, effect = item.rpartition(":")
        if not sep:
            raise ValueError(f"{what} {item!r} has no effect; write key=value:Effect, e.g. os=windows:NoSchedule")
        key, _sep, value = kv.partition("=")
    elif isinstance(item, Mapping):
        unknown = set(item) - {"key", "value", "effect"}
        if unknown:
            raise ValueError(
                f"{what} has unknown keys {', '.join(sorted(map(str, unknown)))}; known: key, value, effect"
            )
        key, value, effect = item.get("key"), item.get("value", ""), item.get("effect")
    else:
        raise ValueError(f"{what} must be a string key=value:Effect or a mapping, got {type(item).__name__}")
    _qualified_name(key, f"{what} key")
    if effect not in TAINT_EFFECTS:
        raise ValueError(f"{what} effect {effect!r} is not one of {', '.join(TAINT_EFFECTS)}")
    if not isinstance(value, str) or (value and (len(value) > 63 or not _LABEL_VALUE_RE.match(value))):
        raise ValueError(f"{what} value must be a label value (at most 63 of [A-Za-z0-9-_.])")
    return {"key": key, "value": value, "effect": effect} if value else {"key": key, "effect": effect}


def _same_taint(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    return a.get("key") == b.get("key") and a.get("effect") == b.get("effect")


def _comparable(taint: Mapping[str, Any]) -> Tuple[str, str, str]:
    return (str(taint.get("key")), str(taint.get("value") or ""), str(taint.get("effect")))


def node_metadata_patch(node: Any, labels: Any = None, taints: Any = None) -> Dict[str, Any]:
    """What to patch on ``node`` (a Node object) so it carries ``labels`` and ``taints``.

    Labels are added or updated, never removed (the role cannot tell which other labels are someone
    else's). A taint replaces the node's taint of the same key and effect; other taints (the node
    controller's not-ready taint, a cordon) are kept. ``spec.taints`` is a list without a merge key,
    so a merge patch carries the whole list. ``changed`` is false when nothing needs patching.
    """
    if not isinstance(node, Mapping) or not isinstance(node.get("metadata"), Mapping):
        raise ValueError("expected a Node object with metadata (from kubernetes.core.k8s_info)")
    want_labels = node_labels(labels)
    want_taints = node_taints(taints)
    have_labels = node["metadata"].get("labels") or {}
    have_taints = list((node.get("spec") or {}).get("taints") or [])
    label_patch = {k: v for k, v in want_labels.items() if have_labels.get(k) != v}
    kept = [t for t in have_taints if not any(_same_taint(t, w) for w in want_taints)]
    merged = kept + list(want_taints)
    # Order-insensitive: the API keeps the list as sent, another writer may have reordered it.
    taints_differ = sorted(map(_comparable, merged)) != sorted(map(_comparable, have_taints))
    patch: Dict[str, Any] = {}
    if label_patch:
        patch["metadata"] = {"labels": label_patch}
    if taints_differ:
        patch["spec"] = {"taints": [dict(t) for t in merged]}
    return {
        "changed": bool(patch),
        "patch": patch,
        "labels": sorted(label_patch),
        "taints": [
            _taint_text(t) for t in want_taints if not any(_comparable(t) == _comparable(h) for h in have_taints)
        ],
    }


def _taint_text(taint: Mapping[str, Any]) -> str:
    value = taint.get("value")
    return f"{taint['key']}{'=' + value if value else ''}:{taint['effect']}"


# ---------------------------------------------------------------------------------------------
# Readiness


def ready_condition(node: Any) -> Optional[Dict[str, Any]]:
    """The Ready condition of a Node object, or None when it has none (yet)."""
    if not isinstance(node, Mapping):
        return None
    for condition in (node.get("status") or {}).get("conditions") or []:
        if isinstance(condition, Mapping) and condition.get("type") == "Ready":
            return dict(condition)
    return None


def node_is_ready(node: Any) -> bool:
    condition = ready_condition(node)
    return condition is not None and condition.get("status") == "True"


def log_tail(text: Any, lines: int = DEFAULT_LOG_LINES, secrets: Sequence[str] = ()) -> List[str]:
    """The last ``lines`` non-blank lines of a log, secrets masked."""
    if text is None:
        return []
    if not isinstance(text, str):
        raise ValueError(f"the log must be text, got {type(text).__name__}")
    if isinstance(lines, bool) or not isinstance(lines, int) or lines < 1:
        raise ValueError(f"lines must be a positive integer, got {lines!r}")
    # Masked as a whole first: a PEM block spans lines.
    masked = mask_secrets(text.lstrip("\ufeff"), secrets)
    return [line.rstrip("\r") for line in masked.splitlines() if line.strip()][-lines:]


def node_not_ready_message(
    node_name: str,
    node: Any,
    *,
    log_text: Any = None,
    log_path: str = "",
    timeout: Any = None,
    lines: int = DEFAULT_LOG_LINES,
    secrets: Sequence[str] = (),
) -> str:
    """Why the role stopped waiting: the Node's Ready condition and the kubelet log's last lines."""
    waited = f" within {timeout} s" if timeout is not None else ""
    parts = [f"Node {node_name} did not become Ready{waited}."]
    if not isinstance(node, Mapping) or not node:
        parts.append("The API server has no Node of that name: the kubelet never registered it.")
    else:
        condition = ready_condition(node)
        if condition is None:
            parts.append("The Node has no Ready condition yet: the kubelet never posted its status.")
        else:
            fields = [f"status={condition.get('status')}"]
            fields += [f"{k}={condition[k]}" for k in ("reason", "message", "lastHeartbeatTime") if condition.get(k)]
            parts.append("Ready condition: " + ", ".join(mask_secrets(str(f), secrets) for f in fields))
    tail = log_tail(log_text, lines, secrets)
    where = f" ({log_path})" if log_path else ""
    if log_text is None:
        parts.append(f"The kubelet log{where} could not be read.")
    elif not tail:
        parts.append(f"The kubelet log{where} is empty.")
    else:
        parts.append(f"Last {len(tail)} lines of the kubelet log{where}:")
        parts += [f"  {line}" for line in tail]
    return "\n".join(parts)
