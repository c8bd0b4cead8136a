# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test material for Authenticode and OCI image tests, made at test time.

- ``minimal_pe()``: a valid PE32+ executable (one .text section returning 0), built byte by byte
  because no Windows toolchain is installed here.
- ``TestPki``: a root CA, a code-signing leaf (and a TSA) made with ``cryptography``.
- ``sign()``: Authenticode-signs a PE with the real ``osslsigncode`` (optionally with its built-in
  RFC 3161 time-stamping authority), so the verifier is tested on what a real signer produces.
- ``windows_layer()``: a Windows layer tarball (``Files/`` and ``Hives/`` prefixes) holding a file.
"""

from __future__ import annotations

import datetime
import gzip
import io
import shutil
import struct
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence, Tuple

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

OSSLSIGNCODE = shutil.which("osslsigncode")

_FILE_ALIGNMENT = 0x200
_SECTION_ALIGNMENT = 0x1000


def minimal_pe(code: bytes = b"\x31\xc0\xc3") -> bytes:
    """A PE32+ (x64) console executable with one section; ``code`` is its entry point (xor eax,eax; ret)."""
    dos = bytearray(0x40)
    dos[0:2] = b"MZ"
    struct.pack_into("<I", dos, 0x3C, 0x40)  # e_lfanew: the PE header follows the DOS header
    coff = struct.pack("<HHIIIHH", 0x8664, 1, 0, 0, 0, 240, 0x0022)  # AMD64, 1 section, executable, large-address
    image_size = 2 * _SECTION_ALIGNMENT
    optional = struct.pack(
        "<HBBIIIIIQIIHHHHHHIIIIHHQQQQII",
        0x20B,  # PE32+
        14,
        0,
        _FILE_ALIGNMENT,  # SizeOfCode
        0,
        0,
        _SECTION_ALIGNMENT,  # AddressOfEntryPoint
        _SECTION_ALIGNMENT,  # BaseOfCode
        0x140000000,  # ImageBase
        _SECTION_ALIGNMENT,
        _FILE_ALIGNMENT,
        6,
        0,
        0,
        0,
        6,
        0,
        0,  # Win32VersionValue
        image_size,
        _FILE_ALIGNMENT,  # SizeOfHeaders
        0,  # CheckSum (osslsigncode recomputes it)
        3,  # Subsystem: console
        0x8160,  # DllCharacteristics: dynamic base, NX, terminal-server aware, high-entropy VA
        0x100000,
        0x1000,
        0x100000,
        0x1000,
        0,
        16,  # NumberOfRvaAndSizes
    )
    directories = bytes(16 * 8)
    section = struct.pack(
        "<8sIIIIIIHHI",
        b".text",
        len(code),
        _SECTION_ALIGNMENT,
        _FILE_ALIGNMENT,
        _FILE_ALIGNMENT,  # PointerToRawData
        0,
        0,
        0,
        0,
        0x60000020,  # code, execute, read
    )
    headers = bytes(dos) + b"PE\0\0" + coff + optional + directories + section
    headers += bytes(_FILE_ALIGNMENT - len(headers))
    body = code + bytes(_FILE_ALIGNMENT - len(code))
    return headers + body


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "winkube test"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


@dataclass
class Issued:
    certificate: x509.Certificate
    key: rsa.RSAPrivateKey

    def cert_pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def key_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def make_ca(common_name: str, now: Optional[datetime.datetime] = None) -> Issued:
    now = now or datetime.datetime.now(datetime.UTC)
    key = _key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(_name(common_name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=3650))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )  # keyCertSign, cRLSign
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return Issued(cert, key)


def issue(
    ca: Issued,
    common_name: str,
    usages: Sequence[x509.ObjectIdentifier] = (ExtendedKeyUsageOID.CODE_SIGNING,),
    valid: Tuple[datetime.datetime, datetime.datetime] | None = None,
) -> Issued:
    """A leaf certificate from ``ca`` with the given extended key usages (code signing by default)."""
    now = datetime.datetime.now(datetime.UTC)
    not_before, not_after = valid or (now - datetime.timedelta(days=30), now + datetime.timedelta(days=365))
    key = _key()
    critical_eku = list(usages) == [ExtendedKeyUsageOID.TIME_STAMPING]  # RFC 3161 requires it critical for a TSA
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(ca.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True
        )  # digitalSignature
        .add_extension(x509.ExtendedKeyUsage(list(usages)), critical=critical_eku)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), critical=False)
        .sign(ca.key, hashes.SHA256())
    )
    return Issued(cert, key)


def sign(
    unsigned: bytes,
    signer: Issued,
    chain: Sequence[Issued],
    workdir: Path,
    *,
    tsa: Optional[Issued] = None,
    tsa_chain: Sequence[Issued] = (),
    tsa_time: Optional[int] = None,
    signing_time: Optional[int] = None,
) -> bytes:
    """``unsigned`` Authenticode-signed by ``signer`` with osslsigncode (SHA-256), with an RFC 3161
    timestamp from osslsigncode's built-in TSA when ``tsa`` is given."""
    if OSSLSIGNCODE is None:
        raise RuntimeError("osslsigncode is not installed")
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "in.exe").write_bytes(unsigned)
    (workdir / "certs.pem").write_bytes(signer.cert_pem() + b"".join(c.cert_pem() for c in chain))
    (workdir / "key.pem").write_bytes(signer.key_pem())
    out = workdir / "out.exe"
    out.unlink(missing_ok=True)
    argv = [OSSLSIGNCODE, "sign", "-certs", str(workdir / "certs.pem"), "-key", str(workdir / "key.pem")]
    argv += ["-h", "sha256", "-n", "winkube test pause"]
    if signing_time is not None:
        argv += ["-time", str(signing_time)]
    if tsa is not None:
        (workdir / "tsa.pem").write_bytes(tsa.cert_pem() + b"".join(c.cert_pem() for c in tsa_chain))
        (workdir / "tsa.key").write_bytes(tsa.key_pem())
        argv += ["-TSA-certs", str(workdir / "tsa.pem"), "-TSA-key", str(workdir / "tsa.key")]
        if tsa_time is not None:
            argv += ["-TSA-time", str(tsa_time)]
    argv += ["-in", str(workdir / "in.exe"), "-out", str(out)]
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"osslsigncode failed ({done.returncode}): {done.stdout}{done.stderr}")
    return out.read_bytes()


def tamper(signed: bytes) -> bytes:
    """The signed file with one byte of its code changed: the signature stays, the digest no longer fits."""
    data = bytearray(signed)
    data[_FILE_ALIGNMENT] ^= 0xFF  # first byte of .text
    return bytes(data)


def windows_layer(files: dict[str, bytes], compress: bool = True, whiteouts: Sequence[str] = ()) -> bytes:
    """A Windows image layer: each path (``pause.exe``, ``Windows/System32/x.exe``) under ``Files/``,
    with the ``Hives/`` folder Windows layers carry, optionally gzip-compressed."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for directory in ("Files", "Hives"):
            info = tarfile.TarInfo(directory)
            info.type = tarfile.DIRTYPE
            info.mode = 0o755
            tar.addfile(info)
        for path, data in files.items():
            info = tarfile.TarInfo(f"Files/{path}")
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
        for path in whiteouts:
            head, _sep, leaf = f"Files/{path}".rpartition("/")
            info = tarfile.TarInfo(f"{head}/.wh.{leaf}")
            tar.addfile(info, io.BytesIO(b""))
    raw = buffer.getvalue()
    return gzip.compress(raw, mtime=0) if compress else raw
