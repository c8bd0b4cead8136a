"""The simulated cluster: CA pin, bootstrap tokens, join command, nodes, JSON dump."""

from __future__ import annotations

import hashlib
import json
import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding

from tests.simulator.cluster import Cluster, Node
from tests.simulator.executables import knowledge


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_ca_hash_is_sha256_of_the_subject_public_key_info():
    c = Cluster()
    cert = x509.load_pem_x509_certificate(c.ca_cert_pem)
    spki = cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert c.ca_cert_hash == "sha256:" + hashlib.sha256(spki).hexdigest()
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert cert.subject.rfc4514_string() == "CN=kubernetes"


def test_ca_hash_matches_the_openssl_recipe_from_the_kubeadm_docs(tmp_path):
    """kubeadm docs: openssl x509 -pubkey | openssl rsa -pubin -outform der | sha256sum."""
    pem = tmp_path / "ca.crt"
    c = Cluster()
    pem.write_bytes(c.ca_cert_pem)
    try:
        pub = subprocess.run(["openssl", "x509", "-pubkey", "-noout", "-in", str(pem)], check=True, capture_output=True)
        der = subprocess.run(
            ["openssl", "rsa", "-pubin", "-outform", "der"], input=pub.stdout, check=True, capture_output=True
        )
    except FileNotFoundError:
        pytest.skip("openssl is not installed")
    assert c.ca_cert_hash == "sha256:" + hashlib.sha256(der.stdout).hexdigest()


def test_tokens_expire_with_their_ttl():
    clock = Clock()
    c = Cluster(clock=clock)
    tok = c.create_token(ttl=600)
    assert c.token_status(tok.token) == "ok"
    assert c.token_status(f"{tok.id}.{'0' * 16}") == "bad_secret"
    assert c.token_status("zzzzzz.0123456789abcdef") == "unknown"
    clock.now += 599
    assert c.token_status(tok.token) == "ok"
    clock.now += 1
    assert c.token_status(tok.token) == "unknown"  # the token cleaner deleted it
    forever = c.create_token(ttl=0)
    clock.now += 10**9
    assert forever.expires is None and c.token_status(forever.token) == "ok"


def test_explicit_token_must_have_the_bootstrap_form():
    c = Cluster()
    assert c.create_token(token="abcdef.0123456789abcdef").id == "abcdef"
    with pytest.raises(ValueError, match="was not of the form"):
        c.create_token(token="ABCDEF.0123456789abcdef")


def test_join_command_is_what_kubeadm_prints_and_parses_back():
    c = Cluster(endpoint="10.1.2.3:6443")
    line = c.join_command()
    assert line.startswith("kubeadm join 10.1.2.3:6443 --token ")
    assert line.endswith(f"--discovery-token-ca-cert-hash {c.ca_cert_hash} \n")
    # The collection's own parser reads it (cross-check with the knowledge base).
    parsed = knowledge.module("join").parse_join_command(line)
    assert parsed.api_server_endpoint == "10.1.2.3:6443"
    assert c.token_status(parsed.token) == "ok"
    assert tuple(parsed.ca_cert_hashes) == (c.ca_cert_hash,)


def test_endpoint_and_aliases_and_reachability():
    c = Cluster(endpoint="10.1.2.3:6443", aliases=("api.lab.local:6443",))
    assert c.accepts_endpoint("10.1.2.3:6443") and c.accepts_endpoint("https://API.lab.local:6443")
    assert not c.accepts_endpoint("10.1.2.3:443")
    c.reachable = False
    assert not c.accepts_endpoint("10.1.2.3:6443")


def test_kubelet_client_certificate_is_signed_by_the_ca():
    c = Cluster()
    pem = c.issue_kubelet_client_cert("win-node")
    cert = x509.load_pem_x509_certificate(pem)
    assert cert.subject.rfc4514_string() == "CN=system:node:win-node,O=system:nodes"
    c.ca.cert.public_key().verify(
        cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(), cert.signature_hash_algorithm
    )
    key = serialization.load_pem_private_key(pem, password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)


def test_nodes_ready_probe_cordon_delete_and_dump():
    c = Cluster()
    state = {"up": True}
    node = Node(
        name="win1",
        kubelet_version="v1.33.3",
        labels={"kubernetes.io/os": "windows", "node.kubernetes.io/windows-build": "10.0.20348"},
        ready_probe=lambda: (state["up"], "" if state["up"] else "Kubelet stopped posting node status."),
    )
    c.register_node(node)
    assert c.node("win1").ready
    state["up"] = False
    assert not c.node("win1").ready
    c.cordon("win1")
    dump = json.loads(json.dumps(c.to_dict()))
    n = dump["nodes"][0]
    assert n["unschedulable"] and {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"} in n["taints"]
    assert n["conditions"][0] == {
        "type": "Ready",
        "status": "False",
        "reason": "NodeStatusUnknown",
        "message": "Kubelet stopped posting node status.",
    }
    assert n["labels"]["node.kubernetes.io/windows-build"] == "10.0.20348"
    c.cordon("win1", unschedulable=False)
    assert c.node("win1").taints == []
    assert c.delete_node("win1") and not c.delete_node("win1")


def test_dump_lists_tokens_with_expiry():
    clock = Clock()
    c = Cluster(clock=clock, version="v1.35.2")
    c.create_token(ttl=60, description="ci")
    clock.now += 61
    dump = c.to_dict()
    assert dump["version"] == "v1.35.2"
    assert dump["tokens"][0]["expired"] is True and dump["tokens"][0]["description"] == "ci"


def test_kubelet_config_is_a_kubelet_configuration():
    import yaml

    doc = yaml.safe_load(Cluster(cluster_dns="10.96.0.10").kubelet_config_yaml())
    assert doc["kind"] == "KubeletConfiguration"
    assert doc["clusterDNS"] == ["10.96.0.10"]
    assert doc["authentication"]["x509"]["clientCAFile"] == "/etc/kubernetes/pki/ca.crt"
