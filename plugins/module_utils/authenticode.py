# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Authenticode verification of a Windows executable, on the controller.

Two libraries, chosen because they run here and in an AWX execution environment (DESIGN.md): ``lief``
parses the PE and checks the signature itself (the PE digest in SpcIndirectData, the signer's signature
over its attributes); ``pyhanko-certvalidator`` builds and validates the chain to trusted roots with the
code-signing extended key usage. ``signify`` is not used: its oscrypto cannot read OpenSSL 3.0.10+.

The statuses, in the order they are decided:

- ``unsigned``: the file is a PE without an Authenticode signature.
- ``invalid``: the file is not a PE, or the signature does not fit the file (the file was changed after
  signing, or the signature is corrupt), or a timestamp countersignature does not fit the signature.
- ``untrusted``: the signature fits the file, but its chain does not lead to a trusted root, or the
  signer lacks the code-signing usage, or a certificate was not valid at the validation time.
- ``valid``: all of it holds.

Validation time: the time of a timestamp countersignature (RFC 3161 token or PKCS #9 countersignature)
whose own chain leads to a trusted root with the time-stamping usage, as Windows does, so a binary
signed with a certificate that has expired since stays valid; otherwise the current time.
Revocation is not checked: the controller fetches nothing but the image, so no CRL or OCSP is read.
"""

from __future__ import annotations

import asyncio
import datetime
import hashlib
from dataclasses import dataclass
from typing import Any, List, Optional, Sequence, Tuple

# Controller-side libraries (test-requirements.txt, the execution environment): imported under a guard
# so that loading this module never fails, and a missing one is reported by name when it is needed.
try:
    import lief
    from asn1crypto import cms, tsp
    from asn1crypto import x509 as asn1_x509
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
    from cryptography.hazmat.primitives.serialization import Encoding
    from pyhanko_certvalidator import CertificateValidator, ValidationContext
    from pyhanko_certvalidator.errors import PathBuildingError, PathValidationError, ValidationError
except ImportError as exc:  # pragma: no cover - exercised only where the libraries are missing
    IMPORT_ERROR: Optional[ImportError] = exc
else:
    IMPORT_ERROR = None

REQUIREMENT = "lief, pyhanko-certvalidator and cryptography on the controller (pip install lief pyhanko-certvalidator)"


def require_libraries() -> None:
    """Raise a clear ValueError when the controller lacks a library this module needs."""
    if IMPORT_ERROR is not None:
        raise ValueError(f"Authenticode verification needs {REQUIREMENT}: {IMPORT_ERROR}")


STATUSES = ("valid", "unsigned", "invalid", "untrusted")
_HASHES = ("sha1", "sha256", "sha384", "sha512")


@dataclass(frozen=True)
class AuthenticodeResult:
    status: str
    reason: str
    signer: Optional[str] = None
    validation_time: Optional[str] = None
    timestamp: Optional[str] = None

    @property
    def signed(self) -> bool:
        return self.status != "unsigned"


class _Invalid(Exception):
    """The signature (or its timestamp) does not fit: status ``invalid``."""


def parse_pem_bundle(text: bytes, what: str) -> Tuple[Any, ...]:
    """Every certificate (cryptography x509.Certificate) of a PEM bundle; a bundle without one is refused."""
    require_libraries()
    if b"-----BEGIN CERTIFICATE-----" not in text:
        raise ValueError(f"{what} holds no PEM certificate (-----BEGIN CERTIFICATE-----)")
    try:
        return tuple(x509.load_pem_x509_certificates(text))
    except ValueError:
        raise ValueError(f"{what} is not a PEM certificate bundle: a certificate in it does not parse") from None


def verify_pe(data: bytes, trusted_roots: Sequence[Any], now: Optional[datetime.datetime] = None) -> AuthenticodeResult:
    """The Authenticode status of ``data`` against ``trusted_roots`` (cryptography certificates)."""
    require_libraries()
    # lief reports parse problems of malformed files on stderr; the verdict carries them instead.
    lief.logging.disable()
    flags_type = lief.PE.Signature.VERIFICATION_FLAGS
    if not trusted_roots:
        raise ValueError("no trusted roots given: Authenticode cannot be judged without them")
    binary = lief.PE.parse(data) if data[:2] == b"MZ" else None
    if binary is None:
        return AuthenticodeResult("invalid", "the file is not a PE executable (no MZ/PE header lief can parse)")
    if not binary.has_signatures:
        return AuthenticodeResult("unsigned", "the executable has no Authenticode signature")
    # Certificate times are judged by the chain validation at the validation time, not by lief at "now".
    flags = binary.verify_signature(lief.PE.Signature.VERIFICATION_CHECKS.SKIP_CERT_TIME)
    if flags == flags_type.NO_SIGNATURE:
        return AuthenticodeResult("unsigned", "the executable has no Authenticode signature")
    signer_info, certificates = _signer(binary.signatures[0])
    signer = _find_certificate(certificates, signer_info["sid"])
    subject = _subject(signer) if signer is not None else None
    if flags != flags_type.OK:
        return AuthenticodeResult(
            "invalid",
            f"the signature does not fit the file ({_flag_text(flags)}): it was changed after signing or the "
            "signature is corrupt",
            subject,
        )
    if signer is None:
        return AuthenticodeResult("invalid", "the signature does not carry its signer's certificate")
    roots = [asn1_x509.Certificate.load(r.public_bytes(Encoding.DER)) for r in trusted_roots]
    now = now or datetime.datetime.now(datetime.timezone.utc)
    try:
        stamp = _timestamp(signer_info, certificates)
    except _Invalid as exc:
        return AuthenticodeResult("invalid", f"the timestamp countersignature does not verify: {exc}", subject)
    moment, note = now, "no timestamp countersignature: validated at the current time"
    if stamp is not None:
        when, tsa, others = stamp
        problem = _chain_problem(tsa, others, roots, when, "time_stamping")
        if problem is None:
            moment, note = when, f"validated at the time of its timestamp countersignature ({_iso(when)})"
        else:
            note = f"the timestamp's authority is not trusted ({problem}), so the current time is used"
    problem = _chain_problem(signer, certificates, roots, moment, "code_signing")
    stamp_text = None if stamp is None else _iso(stamp[0])
    if problem is not None:
        return AuthenticodeResult(
            "untrusted", f"signed by {subject}, but {problem}; {note}", subject, _iso(moment), stamp_text
        )
    return AuthenticodeResult("valid", f"signed by {subject}; {note}", subject, _iso(moment), stamp_text)


def _subject(certificate: asn1_x509.Certificate) -> str:
    """RFC 4514 form (``CN=...,O=...``), the way certificate subjects are usually written."""
    return x509.load_der_x509_certificate(certificate.dump()).subject.rfc4514_string()


def _issuer(certificate: asn1_x509.Certificate) -> str:
    return x509.load_der_x509_certificate(certificate.dump()).issuer.rfc4514_string()


def _iso(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.timezone.utc).isoformat()


def _flag_text(flags: Any) -> str:
    return str(flags).split(".", 1)[-1]


def _signer(signature: Any) -> Tuple[Any, List[asn1_x509.Certificate]]:
    """The one SignerInfo of an Authenticode SignedData and the certificates it carries."""
    info = cms.ContentInfo.load(bytes(signature.raw_der))
    signed_data = info["content"]
    signer_infos = signed_data["signer_infos"]
    if len(signer_infos) != 1:
        raise ValueError(f"an Authenticode signature has exactly one signer; this one has {len(signer_infos)}")
    certificates = [c.chosen for c in signed_data["certificates"] if c.name == "certificate"]
    return signer_infos[0], certificates


def _find_certificate(certificates: Sequence[asn1_x509.Certificate], sid: Any) -> Optional[asn1_x509.Certificate]:
    if sid.name == "issuer_and_serial_number":
        issuer, serial = sid.chosen["issuer"], sid.chosen["serial_number"].native
        return next((c for c in certificates if c.issuer == issuer and c.serial_number == serial), None)
    key_id = sid.chosen.native
    return next((c for c in certificates if c.key_identifier == key_id), None)


def _attribute(attributes: Any, name: str) -> Optional[Any]:
    if not attributes:
        return None
    for attribute in attributes:
        if attribute["type"].native == name:
            return attribute["values"][0]
    return None


def _timestamp(
    signer_info: Any, certificates: List[asn1_x509.Certificate]
) -> Optional[Tuple[datetime.datetime, asn1_x509.Certificate, List[asn1_x509.Certificate]]]:
    """(time, TSA certificate, certificates) of a verified countersignature, None without one."""
    signature_value = signer_info["signature"].native
    unsigned = signer_info["unsigned_attrs"]
    token = _attribute(unsigned, "microsoft_time_stamp_token")
    if token is not None:
        # RFC 3161: a SignedData over a TSTInfo whose message imprint is the hash of the signer's signature.
        token_data = token["content"]
        encap = token_data["encap_content_info"]
        if encap["content_type"].native != "tst_info":
            raise _Invalid(f"the timestamp token holds {encap['content_type'].native}, not a TSTInfo")
        tst_bytes = encap["content"].contents
        tst_info = tsp.TSTInfo.load(tst_bytes)
        imprint = tst_info["message_imprint"]
        if _digest(imprint["hash_algorithm"]["algorithm"].native, signature_value) != imprint["hashed_message"].native:
            raise _Invalid("the timestamp token was made for another signature (message imprint mismatch)")
        tsa_certs = [c.chosen for c in token_data["certificates"] if c.name == "certificate"]
        tsa_signer = token_data["signer_infos"][0]
        tsa_cert = _verify_signer_info(tsa_signer, tst_bytes, tsa_certs)
        return tst_info["gen_time"].native, tsa_cert, tsa_certs
    countersignature = _attribute(unsigned, "counter_signature")
    if countersignature is not None:
        # PKCS #9: a SignerInfo whose message digest is the hash of the signer's signature.
        tsa_cert = _verify_signer_info(countersignature, signature_value, certificates)
        when = _attribute(countersignature["signed_attrs"], "signing_time")
        if when is None:
            raise _Invalid("the PKCS #9 countersignature carries no signing time")
        return when.native, tsa_cert, certificates
    return None


def _digest(algorithm: str, data: bytes) -> bytes:
    if algorithm not in _HASHES:
        raise _Invalid(f"digest algorithm {algorithm} is not supported")
    return hashlib.new(algorithm, data).digest()


def _verify_signer_info(
    signer_info: Any, content: bytes, certificates: Sequence[asn1_x509.Certificate]
) -> asn1_x509.Certificate:
    """The certificate that made ``signer_info`` over ``content``; _Invalid when it does not verify."""
    certificate = _find_certificate(certificates, signer_info["sid"])
    if certificate is None:
        raise _Invalid("the countersigner's certificate is not in the signature")
    algorithm = signer_info["digest_algorithm"]["algorithm"].native
    attributes = signer_info["signed_attrs"]
    expected = _attribute(attributes, "message_digest")
    if expected is None or expected.native != _digest(algorithm, content):
        raise _Invalid("the countersignature's message digest does not match what it countersigns")
    # Signed attributes are signed as a DER SET OF, not with the [0] IMPLICIT tag they are stored with.
    signed = b"\x31" + attributes.dump()[1:]
    key = x509.load_der_x509_certificate(certificate.dump()).public_key()
    chosen = getattr(hashes, algorithm.upper())()
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(signer_info["signature"].native, signed, padding.PKCS1v15(), chosen)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signer_info["signature"].native, signed, ec.ECDSA(chosen))
        else:
            raise _Invalid(f"countersignature key type {type(key).__name__} is not supported")
    except InvalidSignature:
        raise _Invalid("the countersignature's signature value does not verify") from None
    return certificate


def _chain_problem(
    leaf: asn1_x509.Certificate,
    others: Sequence[asn1_x509.Certificate],
    roots: Sequence[asn1_x509.Certificate],
    moment: datetime.datetime,
    usage: str,
) -> Optional[str]:
    """None when ``leaf`` chains to one of ``roots`` with ``usage`` at ``moment``, else why not."""
    context = ValidationContext(
        trust_roots=list(roots),
        other_certs=[c for c in others if c != leaf],
        moment=moment,
        allow_fetching=False,
        revocation_mode="soft-fail",
    )
    validator = CertificateValidator(leaf, validation_context=context)
    what = "code-signing" if usage == "code_signing" else "time-stamping"
    try:
        asyncio.run(validator.async_validate_usage(set(), extended_key_usage={usage}))
    except PathBuildingError:
        return f"its certificate chain does not lead to a trusted root (issuer {_issuer(leaf)})"
    except (PathValidationError, ValidationError) as exc:
        return f"its certificate chain is not valid for {what} at {_iso(moment)}: {exc}"
    return None
