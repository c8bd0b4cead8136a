"""``kubeadm token create [--ttl D] [--description S] --print-join-command`` as a Linux control-plane
host runs it, against the simulated API server: what the join role delegates to
``join_control_plane_host``.

It does what kubeadm does (cmd/kubeadm/app/cmd/token.go, RunCreateToken): create a bootstrap token as
a ``bootstrap.kubernetes.io/token`` Secret ``bootstrap-token-<id>`` in kube-system through the API
(the simulated API server registers it as a cluster token, expiration honoured), then print
``kubeadm join <endpoint> --token <id>.<secret> --discovery-token-ca-cert-hash sha256:<pin> `` with the
endpoint and CA of the cluster (read here from the public ``cluster-info`` ConfigMap, which carries
the same endpoint and CA as a control plane's admin.conf). The kubeconfig: ``--kubeconfig``, else
``$WINKUBE_SIM_KUBECONFIG``, else kubeadm's default ``/etc/kubernetes/admin.conf``.

Run it with the Python that has the ``kubernetes`` client: ``python tests/simulator/control_plane_kubeadm.py
token create --print-join-command``. Anything else fails loudly (exit 1), as the other emulations do.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import os
import re
import secrets
import string
import sys

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import serialization

ALPHABET = string.ascii_lowercase + string.digits
_DURATION_RE = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


def parse_ttl(text: str) -> float | None:
    """A Go duration of hours/minutes/seconds (``24h0m0s``, ``1h``, ``90m``); ``0`` never expires."""
    if text in ("0", "0s"):
        return None
    m = _DURATION_RE.match(text)
    if not text or m is None:
        raise ValueError(f'invalid argument "{text}" for "--ttl" flag: time: invalid duration "{text}"')
    hours, minutes, seconds = (int(g or 0) for g in m.groups())
    return hours * 3600 + minutes * 60 + seconds


def _args(argv: list[str]) -> dict[str, str | bool]:
    if argv[:2] != ["token", "create"]:
        raise ValueError(f"simulator: kubeadm {' '.join(argv)} is not emulated on the control plane")
    out: dict[str, str | bool] = {"ttl": "24h0m0s", "description": "", "print-join-command": False}
    rest = argv[2:]
    while rest:
        word = rest.pop(0)
        name, has_value, value = word.lstrip("-").partition("=")
        if name == "print-join-command":
            out[name] = True
        elif name in ("ttl", "description", "kubeconfig"):
            if not has_value:
                if not rest:
                    raise ValueError(f"flag needs an argument: --{name}")
                value = rest.pop(0)
            out[name] = value
        else:
            raise ValueError(f"unknown flag: {word}")
    return out


def main(argv: list[str]) -> int:
    from kubernetes import client, config

    try:
        args = _args(argv)
        ttl = parse_ttl(str(args["ttl"]))
    except ValueError as exc:
        sys.stderr.write(f"{exc}\n")
        return 1
    kubeconfig = str(args.get("kubeconfig") or os.environ.get("WINKUBE_SIM_KUBECONFIG") or "/etc/kubernetes/admin.conf")
    config.load_kube_config(config_file=kubeconfig)
    api = client.CoreV1Api()
    token_id = "".join(secrets.choice(ALPHABET) for _ in range(6))
    token_secret = "".join(secrets.choice(ALPHABET) for _ in range(16))
    data = {
        "token-id": token_id,
        "token-secret": token_secret,
        "usage-bootstrap-authentication": "true",
        "usage-bootstrap-signing": "true",
        "auth-extra-groups": "system:bootstrappers:kubeadm:default-node-token",
    }
    if args["description"]:
        data["description"] = str(args["description"])
    if ttl is not None:
        expires = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=ttl)
        data["expiration"] = expires.strftime("%Y-%m-%dT%H:%M:%SZ")
    secret = client.V1Secret(
        metadata=client.V1ObjectMeta(name=f"bootstrap-token-{token_id}", namespace="kube-system"),
        type="bootstrap.kubernetes.io/token",
        data={k: base64.b64encode(v.encode()).decode() for k, v in data.items()},
    )
    api.create_namespaced_secret("kube-system", secret)
    token = f"{token_id}.{token_secret}"
    if not args["print-join-command"]:
        sys.stdout.write(token + "\n")
        return 0
    info = yaml.safe_load(api.read_namespaced_config_map("cluster-info", "kube-public").data["kubeconfig"])
    cluster = info["clusters"][0]["cluster"]
    endpoint = cluster["server"].removeprefix("https://")
    ca = x509.load_pem_x509_certificate(base64.b64decode(cluster["certificate-authority-data"]))
    spki = ca.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    pin = "sha256:" + hashlib.sha256(spki).hexdigest()
    # Every flag ends with a blank (kubernetes PR #75487), so the line does too.
    sys.stdout.write(f"kubeadm join {endpoint} --token {token} --discovery-token-ca-cert-hash {pin} \n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
