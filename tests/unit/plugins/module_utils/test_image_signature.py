# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Manifest selection per host build, the Authenticode verdicts and their messages, the shipped roots."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any, Dict, List

import pytest
from ansible_collections.winkube.node.plugins.module_utils import authenticode, authenticode_roots
from ansible_collections.winkube.node.plugins.module_utils.image_signature import SelectionError, select_entry

from tests.unit.plugins.module_utils import signing

UTC = datetime.UTC


def _entry(os_version: str, digest_char: str, os: str = "windows", arch: str = "amd64") -> Dict[str, Any]:
    platform = {"os": os, "architecture": arch}
    if os_version:
        platform["os.version"] = os_version
    return {
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": "sha256:" + digest_char * 64,
        "platform": platform,
    }


INDEX: List[Dict[str, Any]] = [
    _entry("", "0", os="linux"),
    _entry("10.0.17763.5576", "1"),
    _entry("10.0.20348.2402", "2"),
    _entry("10.0.26100.4061", "3"),
]


@pytest.mark.parametrize(
    ("build", "containerd", "chosen"),
    [
        ("10.0.17763", "2.3.5", "1"),
        ("10.0.20348.2527", "2.3.5", "2"),
        ("10.0.26100", "2.3.5", "3"),
        (26100, "1.7.28", "3"),  # 1.7 orders the accepted 20348 and 26100 entries by revision: 4061 > 2402
        ("10.0.25398", "2.2.0", "2"),  # 23H2 runs ltsc2022
    ],
)
def test_selection_follows_the_host_build_and_containerd(build: Any, containerd: str, chosen: str) -> None:
    assert select_entry(INDEX, build, containerd)["digest"] == "sha256:" + chosen * 64


def test_containerd_17_prefers_the_higher_revision_not_the_newer_build() -> None:
    index = [_entry("10.0.20348.9999", "2"), _entry("10.0.26100.1", "3")]
    assert select_entry(index, "10.0.26100", "1.7.28")["digest"] == "sha256:" + "2" * 64
    assert select_entry(index, "10.0.26100", "2.3.5")["digest"] == "sha256:" + "3" * 64


def test_no_fitting_manifest_lists_the_os_versions() -> None:
    with pytest.raises(SelectionError) as caught:
        select_entry(INDEX, "10.0.14393", "2.3.5")
    message = str(caught.value)
    assert "no manifest of the index runs on Windows build 14393 with containerd 2.3.5 (windows/amd64)" in message
    assert "10.0.17763.5576 (amd64), 10.0.20348.2402 (amd64), 10.0.26100.4061 (amd64)" in message
    with pytest.raises(SelectionError, match=r"none \(the index has no Windows manifest\)"):
        select_entry([INDEX[0]], "10.0.20348", "2.3.5")


def test_without_containerd_microsofts_rule_selects_and_ambiguity_is_refused() -> None:
    assert select_entry(INDEX, "10.0.20348", None)["digest"] == "sha256:" + "2" * 64
    with pytest.raises(SelectionError, match=r"several manifests fit Windows build 26100 .*give containerd_version"):
        select_entry(INDEX, "10.0.26100", None)
    with pytest.raises(SelectionError, match="with process isolation"):
        select_entry(INDEX, "10.0.14393.1066", None)


def test_bad_inputs_fail_loudly() -> None:
    with pytest.raises(ValueError, match="windows_build"):
        select_entry(INDEX, "server 2022", "2.3.5")
    with pytest.raises(ValueError, match="is not modelled"):
        select_entry(INDEX, "10.0.20348", "1.6.36")


# ---------------------------------------------------------------------------------------------
# Authenticode verdicts


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Dict[str, Any]:
    if signing.OSSLSIGNCODE is None:
        pytest.skip("osslsigncode is not installed (/usr/bin/osslsigncode)")
    work = tmp_path_factory.mktemp("authenticode")
    now = datetime.datetime.now(UTC)
    root = signing.make_ca("unit root")
    pe = signing.minimal_pe()
    past = (now - datetime.timedelta(days=800), now - datetime.timedelta(days=400))
    stamp = int((now - datetime.timedelta(days=500)).timestamp())
    expired = signing.issue(root, "expired signer", valid=past)
    tsa = signing.issue(root, "unit TSA", usages=[signing.ExtendedKeyUsageOID.TIME_STAMPING], valid=past)
    other = signing.make_ca("other root")
    foreign_tsa = signing.issue(other, "foreign TSA", usages=[signing.ExtendedKeyUsageOID.TIME_STAMPING], valid=past)
    return {
        "root": root.certificate,
        "pe": pe,
        "signed": signing.sign(pe, signing.issue(root, "unit signer"), [root], work / "a"),
        "tls_only": signing.sign(
            pe, signing.issue(root, "tls", usages=[signing.ExtendedKeyUsageOID.SERVER_AUTH]), [root], work / "b"
        ),
        "expired": signing.sign(pe, expired, [root], work / "c"),
        "stamped": signing.sign(
            pe, expired, [root], work / "d", tsa=tsa, tsa_chain=[root], tsa_time=stamp, signing_time=stamp
        ),
        "foreign_stamp": signing.sign(
            pe, expired, [root], work / "e", tsa=foreign_tsa, tsa_chain=[other], tsa_time=stamp, signing_time=stamp
        ),
    }


def _verdict(pki: Dict[str, Any], name: str) -> authenticode.AuthenticodeResult:
    return authenticode.verify_pe(pki[name] if isinstance(name, str) else name, [pki["root"]])


def test_a_signature_to_a_trusted_root_is_valid(pki: Dict[str, Any]) -> None:
    result = _verdict(pki, "signed")
    assert (result.status, result.signed, result.signer) == ("valid", True, "CN=unit signer,O=winkube test")
    assert result.reason.endswith("no timestamp countersignature: validated at the current time")


def test_unsigned_and_not_a_pe(pki: Dict[str, Any]) -> None:
    unsigned = authenticode.verify_pe(pki["pe"], [pki["root"]])
    assert (unsigned.status, unsigned.signed, unsigned.reason) == (
        "unsigned",
        False,
        "the executable has no Authenticode signature",
    )
    garbage = authenticode.verify_pe(b"#!/bin/sh\necho pause\n", [pki["root"]])
    assert garbage.status == "invalid" and "not a PE executable" in garbage.reason
    truncated = authenticode.verify_pe(pki["pe"][:100], [pki["root"]])  # MZ header, nothing behind it
    assert truncated.status == "invalid" and "not a PE executable" in truncated.reason


def test_changed_after_signing_is_invalid(pki: Dict[str, Any]) -> None:
    result = authenticode.verify_pe(signing.tamper(pki["signed"]), [pki["root"]])
    assert result.status == "invalid" and result.signer == "CN=unit signer,O=winkube test"
    assert (
        "the signature does not fit the file (BAD_DIGEST" in result.reason and "changed after signing" in result.reason
    )


def test_an_unknown_root_is_untrusted(pki: Dict[str, Any]) -> None:
    result = authenticode.verify_pe(pki["signed"], [signing.make_ca("unrelated").certificate])
    assert result.status == "untrusted"
    assert "its certificate chain does not lead to a trusted root (issuer CN=unit root,O=winkube test)" in result.reason


def test_a_signer_without_code_signing_usage_is_untrusted(pki: Dict[str, Any]) -> None:
    result = _verdict(pki, "tls_only")
    assert result.status == "untrusted" and "not valid for the purpose of code signing" in result.reason


def test_an_expired_signer_without_timestamp_is_untrusted(pki: Dict[str, Any]) -> None:
    result = _verdict(pki, "expired")
    assert result.status == "untrusted" and "certificate expired" in result.reason


def test_a_trusted_timestamp_is_the_validation_time(pki: Dict[str, Any]) -> None:
    result = _verdict(pki, "stamped")
    assert result.status == "valid", result.reason
    assert result.timestamp == result.validation_time
    assert "validated at the time of its timestamp countersignature" in result.reason


def test_an_untrusted_timestamp_is_not_honoured(pki: Dict[str, Any]) -> None:
    result = _verdict(pki, "foreign_stamp")
    assert result.status == "untrusted"
    assert (
        "the timestamp's authority is not trusted" in result.reason and "so the current time is used" in result.reason
    )


def test_no_roots_is_refused(pki: Dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="no trusted roots given"):
        authenticode.verify_pe(pki["signed"], [])


def test_pem_bundles(tmp_path: Path) -> None:
    root = signing.make_ca("bundle root")
    assert authenticode.parse_pem_bundle(root.cert_pem(), "bundle") == (root.certificate,)
    with pytest.raises(ValueError, match="bundle holds no PEM certificate"):
        authenticode.parse_pem_bundle(b"nothing here", "bundle")
    broken = b"-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n"
    with pytest.raises(ValueError, match="a certificate in it does not parse"):
        authenticode.parse_pem_bundle(broken, "bundle")


def test_the_shipped_microsoft_roots_match_their_pins() -> None:
    roots = authenticode_roots.load_roots()
    names = [r.subject.rfc4514_string() for r in roots]
    assert names == [
        "CN=Microsoft Root Certificate Authority 2011,O=Microsoft Corporation,L=Redmond,ST=Washington,C=US",
        "CN=Microsoft Root Certificate Authority 2010,O=Microsoft Corporation,L=Redmond,ST=Washington,C=US",
    ]
    # Self-signed roots: each signature verifies with its own key.
    for root in roots:
        root.verify_directly_issued_by(root)


def test_a_shipped_root_that_differs_from_its_pin_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    first = authenticode_roots.MICROSOFT_ROOTS[0]
    changed = authenticode_roots.PinnedRoot(first.name, "0" * 40, first.sha256, first.source, first.pem)
    monkeypatch.setattr(authenticode_roots, "MICROSOFT_ROOTS", (changed,))
    with pytest.raises(ValueError, match="does not match its pinned fingerprints"):
        authenticode_roots.load_roots()
