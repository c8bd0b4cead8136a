"""HTTP authentication as the WinRM service does it: Basic, and NTLM with message encryption.

Basic is checked on every request. NTLM authenticates the *TCP connection* (HTTP.sys keeps the
security context per connection), so one ``NtlmConnection`` lives as long as a keep-alive
connection; once it is complete, a client on plain HTTP encrypts every message with it
(``multipart/encrypted``, MS-WSMV 2.2.9.1.1) and the responses are encrypted the same way.

The NTLM acceptor is pyspnego's. It reads the accepted credentials from the file named by the
``NTLM_USER_FILE`` environment variable; as that is process-wide and hosts may have different
passwords, every acceptor call runs under one lock with the variable pointing at the host's own
file (written by ``write_ntlm_user_file``, mode 0600, smbpasswd format so any password works).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import dataclasses
import hmac
import os
import re
import struct
import threading
from collections.abc import Iterator
from pathlib import Path

import spnego
from spnego._ntlm_raw.crypto import lmowfv1, ntowfv1
from spnego.channel_bindings import GssChannelBindings
from spnego.exceptions import SpnegoError

__all__ = [
    "ENCRYPTED_CONTENT_TYPE",
    "AuthError",
    "Credentials",
    "NtlmConnection",
    "check_basic",
    "write_ntlm_user_file",
]

_PROTOCOL = b"application/HTTP-SPNEGO-session-encrypted"
_BOUNDARY = b"--Encrypted Boundary"
ENCRYPTED_CONTENT_TYPE = (
    'multipart/encrypted;protocol="application/HTTP-SPNEGO-session-encrypted";boundary="Encrypted Boundary"'
)

_ENV_LOCK = threading.Lock()


class AuthError(Exception):
    """Authentication failed or a message could not be decrypted: answer 401/400."""


@dataclasses.dataclass(frozen=True)
class Credentials:
    user: str
    password: str
    hostname: str  # NetBIOS name, accepted as the domain part (HOST\\user)


def check_basic(header: str | None, creds: Credentials) -> bool:
    if not header or not header.lower().startswith("basic "):
        return False
    try:
        user, _, password = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return False
    return _user_matches(user, creds) and hmac.compare_digest(password.encode(), creds.password.encode())


def _user_matches(user: str, creds: Credentials) -> bool:
    domain, _, name = user.rpartition("\\")
    if domain and domain.upper() not in (".", creds.hostname.upper()):
        return False
    return name.lower() == creds.user.lower()


def write_ntlm_user_file(path: Path, creds: Credentials) -> Path:
    """Write the acceptor's credential store: the user without a domain, as ``.\\user`` and as
    ``HOSTNAME\\user`` (smbpasswd lines carry hashes, so ``:`` in a password is fine)."""
    lm = lmowfv1(creds.password).hex().upper()
    nt = ntowfv1(creds.password).hex().upper()
    names = [creds.user, f"{creds.hostname}\\{creds.user}", f".\\{creds.user}"]
    lines = [f"{n}:1000:{lm}:{nt}:[U]:LCT-00000000" for n in names]
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    return path


@contextlib.contextmanager
def _user_file(path: Path) -> Iterator[None]:
    with _ENV_LOCK:
        old = os.environ.get("NTLM_USER_FILE")
        os.environ["NTLM_USER_FILE"] = str(path)
        try:
            yield
        finally:
            if old is None:
                os.environ.pop("NTLM_USER_FILE", None)
            else:
                os.environ["NTLM_USER_FILE"] = old


class NtlmConnection:
    """The NTLM state of one TCP connection."""

    def __init__(self, user_file: Path, channel_bindings: bytes | None = None) -> None:
        self._user_file = user_file
        self._cbt = GssChannelBindings(application_data=channel_bindings) if channel_bindings else None
        self._ctx: spnego.ContextProxy | None = None
        self.complete = False
        self.user: str | None = None

    def step(self, auth_header: str) -> str | None:
        """Process ``Authorization: Negotiate|NTLM <token>``; return the ``WWW-Authenticate``
        value to send back with a 401, or None once the connection is authenticated."""
        scheme, _, b64 = auth_header.partition(" ")
        if scheme.lower() not in ("negotiate", "ntlm"):
            raise AuthError(f"unsupported authorization scheme {scheme!r}")
        try:
            token = base64.b64decode(b64.strip(), validate=True)
        except binascii.Error as exc:
            raise AuthError("authorization token is not base64") from exc
        with _user_file(self._user_file):
            try:
                if self._ctx is None or token.startswith(b"NTLMSSP\x00\x01"):
                    # A new NEGOTIATE message restarts the handshake on this connection.
                    protocol = "ntlm" if token.startswith(b"NTLMSSP\x00") else "negotiate"
                    self._ctx = spnego.server(protocol=protocol, channel_bindings=self._cbt)
                    self.complete = False
                out = self._ctx.step(token)
            except SpnegoError as exc:
                self._ctx = None
                raise AuthError(f"NTLM authentication failed: {exc}") from exc
        if self._ctx.complete:
            self.complete = True
            self.user = self._ctx.client_principal
            return None
        return f"{scheme} {base64.b64encode(out or b'').decode()}"

    # ---------------------------------------------------------------- message encryption

    def unwrap_message(self, body: bytes) -> bytes:
        if self._ctx is None or not self.complete:
            raise AuthError("encrypted message on a connection that is not authenticated")
        m = re.search(rb"OriginalContent:\s*type=[^;]+;charset=[^;]+;Length=(\d+)\r\n", body)
        start = body.find(b"application/octet-stream\r\n")
        if m is None or start == -1:
            raise AuthError("malformed multipart/encrypted body")
        length = int(m.group(1))
        pos = start + len(b"application/octet-stream\r\n")
        (sig_len,) = struct.unpack("<I", body[pos : pos + 4])
        sig = body[pos + 4 : pos + 4 + sig_len]
        sealed = body[pos + 4 + sig_len : pos + 4 + sig_len + length]
        try:
            data = self._ctx.unwrap(sig + sealed).data
        except SpnegoError as exc:
            raise AuthError(f"message could not be decrypted: {exc}") from exc
        if len(data) != length:
            raise AuthError("decrypted length does not match OriginalContent")
        return data

    def wrap_message(self, data: bytes) -> bytes:
        if self._ctx is None or not self.complete:
            raise AuthError("cannot encrypt on a connection that is not authenticated")
        wrapped = self._ctx.wrap(data, encrypt=True).data
        sig, sealed = wrapped[:16], wrapped[16:]
        return (
            _BOUNDARY + b"\r\n"
            b"\tContent-Type: " + _PROTOCOL + b"\r\n"
            b"\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length=" + str(len(data)).encode() + b"\r\n"
            + _BOUNDARY + b"\r\n"
            b"\tContent-Type: application/octet-stream\r\n" + struct.pack("<I", len(sig)) + sig + sealed
            + _BOUNDARY + b"--\r\n"
        )  # fmt: skip
