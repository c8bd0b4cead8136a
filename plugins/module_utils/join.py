# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parse the output of ``kubeadm token create --print-join-command``.

Shape: ``kubeadm join <host>:<port> --token <id>.<secret> --discovery-token-ca-cert-hash sha256:<hex>
[--discovery-token-ca-cert-hash ...] [--control-plane [--certificate-key <hex>]]``.
Token format ``[a-z0-9]{6}\\.[a-z0-9]{16}`` and hash format ``sha256:`` + 64 hex digits as kubeadm
defines them (kubernetes/website reference/access-authn-authz/bootstrap-tokens.md;
kubeadm-join.md "discovery-token-ca-cert-hash").

Error messages name the bad part and describe what is wrong, but never contain any value taken
from the input: the token, its secret half, the certificate key, and anything that might be a
misplaced token (positional arguments, unknown options' values) stay out of them.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

TOKEN_RE = re.compile(r"^[a-z0-9]{6}\.[a-z0-9]{16}$")
CA_CERT_HASH_RE = re.compile(r"^sha256:[0-9a-fA-F]{64}$")
_CERTIFICATE_KEY_RE = re.compile(r"^[0-9a-fA-F]{64}$")
_FLAG_NAME_RE = re.compile(r"^--[a-z][a-z0-9-]{0,63}$")
_DNS_LABEL_RE = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$", re.IGNORECASE)
_VALUE_FLAGS = ("--token", "--discovery-token-ca-cert-hash", "--certificate-key")
_BOOL_FLAGS = ("--control-plane", "--discovery-token-unsafe-skip-ca-verification")


@dataclass(frozen=True)
class JoinCommand:
    api_server_endpoint: str
    token: str = field(repr=False)  # kept out of repr so it cannot leak through logs or tracebacks
    ca_cert_hashes: Tuple[str, ...]
    control_plane: bool


def parse_join_command(text: object) -> JoinCommand:
    """Parse one ``kubeadm join`` command line; raises ValueError naming the bad part."""
    tokens = _join_tokens(text)
    values: Dict[str, List[str]] = {name: [] for name in _VALUE_FLAGS}
    flags = set()
    positional: List[str] = []
    i = 2
    while i < len(tokens):
        word = tokens[i]
        i += 1
        if not word.startswith("--"):
            positional.append(word)
            continue
        name, has_inline, inline = word.partition("=")
        if name in _BOOL_FLAGS and not has_inline:
            flags.add(name)
        elif name in _VALUE_FLAGS:
            if has_inline:
                values[name].append(inline)
            elif i < len(tokens) and not tokens[i].startswith("--"):
                values[name].append(tokens[i])
                i += 1
            else:
                raise ValueError(f"option {name} has no value")
        else:
            shown = name if _FLAG_NAME_RE.match(name) else "an unrecognised option"
            raise ValueError(
                f"unsupported option {shown} in the join command; accepted: {', '.join(_VALUE_FLAGS + _BOOL_FLAGS)}"
            )
    if "--discovery-token-unsafe-skip-ca-verification" in flags:
        raise ValueError("--discovery-token-unsafe-skip-ca-verification is not accepted: pin the CA with a hash")
    return JoinCommand(
        api_server_endpoint=_endpoint(positional),
        token=_token(values["--token"]),
        ca_cert_hashes=_hashes(values["--discovery-token-ca-cert-hash"]),
        control_plane=_control_plane("--control-plane" in flags, values["--certificate-key"]),
    )


def _join_tokens(text: object) -> List[str]:
    if not isinstance(text, str) or not text.strip():
        raise ValueError("join command is empty; expected the output of `kubeadm token create --print-join-command`")
    # kubeadm init prints the command wrapped with backslash-newline continuations.
    joined = re.sub(r"\\[ \t]*\r?\n", " ", text)
    lines = [line.split() for line in joined.splitlines()]
    commands = [words for words in lines if words[:2] == ["kubeadm", "join"]]
    if not commands:
        raise ValueError("no line starting with 'kubeadm join' found in the join command output")
    if len(commands) > 1:
        raise ValueError(f"found {len(commands)} 'kubeadm join' lines; expected exactly one")
    return commands[0]


def _endpoint(positional: List[str]) -> str:
    if not positional:
        raise ValueError("the API server endpoint (host:port after 'kubeadm join') is missing")
    if len(positional) > 1:
        raise ValueError(f"expected one positional argument (the API server endpoint), found {len(positional)}")
    endpoint = positional[0]
    host, sep, port = endpoint.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) <= 65535:
        raise ValueError("the API server endpoint must be host:port with a port from 1 to 65535")
    if not _valid_host(host):
        raise ValueError(
            "the API server endpoint host is not an IPv4 address, a [bracketed] IPv6 address or a DNS name"
        )
    return endpoint


def _valid_host(host: str) -> bool:
    if host.startswith("[") and host.endswith("]"):
        try:
            return ipaddress.ip_address(host[1:-1]).version == 6
        except ValueError:
            return False
    try:
        return ipaddress.ip_address(host).version == 4
    except ValueError:
        pass
    if host.replace(".", "").isdigit():
        return False  # looks like a malformed IPv4 address, not a name
    labels = host.rstrip(".").split(".")
    return 0 < len(host) <= 253 and all(_DNS_LABEL_RE.match(label) for label in labels)


def _token(found: List[str]) -> str:
    if not found:
        raise ValueError("the --token option is missing")
    if len(found) > 1:
        raise ValueError("--token is given more than once")
    token = found[0]
    if TOKEN_RE.match(token):
        return token
    token_id, dot, secret = token.partition(".")
    if not dot:
        problem = "it has no '.' between the token id and the secret"
    elif not re.match(r"^[a-z0-9]{6}$", token_id):
        problem = f"the token id has {len(token_id)} characters or characters outside [a-z0-9]; expected 6 of [a-z0-9]"
    else:
        problem = f"the secret has {len(secret)} characters or characters outside [a-z0-9]; expected 16 of [a-z0-9]"
    raise ValueError(f"the --token value is not a bootstrap token of the form [a-z0-9]{{6}}.[a-z0-9]{{16}}: {problem}")


def _hashes(found: List[str]) -> Tuple[str, ...]:
    if not found:
        raise ValueError("no --discovery-token-ca-cert-hash given; the cluster CA must be pinned")
    for index, value in enumerate(found, start=1):
        if not CA_CERT_HASH_RE.match(value):
            raise ValueError(f"--discovery-token-ca-cert-hash #{index} is not 'sha256:' followed by 64 hex digits")
    return tuple(value.lower() for value in found)


def _control_plane(control_plane: bool, certificate_keys: List[str]) -> bool:
    if len(certificate_keys) > 1:
        raise ValueError("--certificate-key is given more than once")
    key: Optional[str] = certificate_keys[0] if certificate_keys else None
    if key is not None and not _CERTIFICATE_KEY_RE.match(key):
        raise ValueError("--certificate-key is not 64 hex digits")
    if key is not None and not control_plane:
        raise ValueError("--certificate-key is only valid together with --control-plane")
    # The certificate key is validated but not returned: Windows nodes cannot be control-plane nodes
    # (kubernetes/website concepts/windows/intro.md), so callers only need to see control_plane=True.
    return control_plane
