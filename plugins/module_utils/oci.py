# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""OCI images on the controller: references, a distribution (registry v2) client, manifests, layers.

Scope: what ``winkube.node.image_signature`` needs to read one image the way a Windows node's runtime
pulls it, and nothing else (no push, no cross-repository mounts).

- References: ``[registry[:port]/]repository[:tag][@sha256:<64 hex>]``; a name without a registry is on
  docker.io (``library/`` for one-component names), as Docker and containerd normalise it.
- Endpoints: the registry's mirrors in the order given, then the registry itself, as containerd's
  ``hosts.toml`` (which the containerd role writes from the same mapping, containerd_config.py) makes
  the runtime try them. Each endpoint's base is the mirror URL with ``/v2`` appended unless it ends in
  it (containerd config/hosts.go); docker.io's own endpoint is registry-1.docker.io. Plain HTTP is used
  only with ``insecure``: an ``http://`` mirror or token realm is refused otherwise.
- Authentication, per endpoint (the distribution token flow): a request answered ``401`` with
  ``WWW-Authenticate: Bearer realm=...,service=...,scope=...`` is retried with a token fetched from the
  realm (with the credentials as basic auth when given); ``Basic`` challenges get the credentials
  directly. Credentials are sent to the registry itself and its token realm only, never to a mirror.
  The ``Authorization`` header is not carried across redirects (blob storage behind a registry).
- Integrity: a manifest fetched by digest must hash to it; one fetched by tag must hash to the
  ``Docker-Content-Digest`` the registry announces when it announces one. Blobs must match the
  descriptor's digest and size. Only sha256 digests are accepted.
- Proxy: the ``proxy`` option when given, else the environment (``HTTPS_PROXY``, ``NO_PROXY``, ...).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import os
import re
import ssl
import tarfile
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import IO, Any, Dict, List, Mapping, Optional, Sequence, Tuple

INDEX_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
)
MANIFEST_TYPES = (
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)
_GZIP_LAYERS = (
    "application/vnd.oci.image.layer.v1.tar+gzip",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
    "application/vnd.docker.image.rootfs.diff.tar.gzip",
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
)
_TAR_LAYERS = (
    "application/vnd.oci.image.layer.v1.tar",
    "application/vnd.oci.image.layer.nondistributable.v1.tar",
)
ACCEPT = ", ".join(INDEX_TYPES + MANIFEST_TYPES)
# containerd refuses manifests and indexes over 4 MiB (core/remotes/docker: MaxManifestSize).
MAX_MANIFEST_BYTES = 4 * 1024 * 1024
MAX_BLOB_BYTES = 4 * 1024 * 1024 * 1024
MAX_EXECUTABLE_BYTES = 256 * 1024 * 1024
DOCKER_HUB = "docker.io"

_DIGEST_RE = re.compile(r"^sha256:[0-9a-f]{64}$")
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_REPOSITORY_RE = re.compile(rf"^{_COMPONENT}(?:/{_COMPONENT})*$")
_TAG_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_REGISTRY_RE = re.compile(rf"^(?:{_LABEL}(?:\.{_LABEL})*|\[[0-9a-fA-F:]+\])(?::[0-9]{{1,5}})?$")
_CHALLENGE_PARAM = re.compile(r'(\w+)="([^"]*)"')


class RegistryError(Exception):
    """The registry could not be read: unreachable, refused, not found, or content that does not verify."""


# ---------------------------------------------------------------------------------------------
# References


@dataclass(frozen=True)
class Reference:
    registry: str
    repository: str
    tag: Optional[str]
    digest: Optional[str]

    @property
    def name(self) -> str:
        """``registry/repository`` as written for this registry (docker.io names keep their short form)."""
        return f"{self.registry}/{self.repository}"

    @property
    def object(self) -> str:
        """What the manifest endpoint is asked for: the digest when pinned, else the tag."""
        return self.digest or self.tag or ""

    def pinned(self, digest: str) -> str:
        """``name:tag@digest`` (``name@digest`` for a reference without a tag)."""
        tag = f":{self.tag}" if self.tag else ""
        return f"{self.name}{tag}@{digest}"

    def __str__(self) -> str:
        tag = f":{self.tag}" if self.tag else ""
        return f"{self.name}{tag}" + (f"@{self.digest}" if self.digest else "")


def parse_reference(text: Any) -> Reference:
    """Parse an image reference; one without a tag or a digest is refused (no implied ``latest``)."""
    if not isinstance(text, str) or not text.strip() or any(ch.isspace() for ch in text.strip()):
        raise ValueError(f"image {text!r} is not an image reference such as mcr.microsoft.com/oss/kubernetes/pause:3.6")
    rest = text.strip()
    digest = None
    if "@" in rest:
        rest, digest = rest.split("@", 1)
        if not _DIGEST_RE.match(digest):
            raise ValueError(f"image {text}: digest {digest!r} is not sha256: followed by 64 lower-case hex digits")
    first, slash, remainder = rest.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        registry, path = first, remainder
    else:
        registry, path = DOCKER_HUB, rest
    tag = None
    last_slash = path.rfind("/")
    colon = path.rfind(":")
    if colon > last_slash:
        path, tag = path[:colon], path[colon + 1 :]
        if not _TAG_RE.match(tag):
            raise ValueError(f"image {text}: tag {tag!r} is not a valid tag")
    if not _REGISTRY_RE.match(registry):
        raise ValueError(f"image {text}: {registry!r} is not a registry host name with an optional :port")
    if registry == DOCKER_HUB and "/" not in path:
        path = f"library/{path}"
    if not _REPOSITORY_RE.match(path):
        raise ValueError(f"image {text}: repository {path!r} is not a valid repository name (lower case, a-z0-9._-/)")
    if tag is None and digest is None:
        raise ValueError(f"image {text} has neither a tag nor a digest; give one (latest is not implied)")
    return Reference(registry, path, tag, digest)


# ---------------------------------------------------------------------------------------------
# Endpoints and transport


@dataclass(frozen=True)
class Endpoint:
    base: str  # ends with /v2
    mirror: bool

    @property
    def label(self) -> str:
        return f"{'mirror' if self.mirror else 'registry'} {self.base}"


def upstream_base(registry: str, insecure: bool) -> str:
    host = "registry-1.docker.io" if registry == DOCKER_HUB else registry
    return f"{'http' if insecure else 'https'}://{host}/v2"


def _v2(url: str) -> str:
    url = url.rstrip("/")
    return url if url.endswith("/v2") else f"{url}/v2"


def endpoints(reference: Reference, mirrors: Mapping[str, Sequence[str]], insecure: bool) -> List[Endpoint]:
    """The mirrors of the reference's registry, in order, then the registry itself."""
    found: List[Endpoint] = []
    for url in mirrors.get(reference.registry, ()) or ():
        parts = urllib.parse.urlsplit(url) if isinstance(url, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"mirror {url!r} of {reference.registry} is not an http:// or https:// URL")
        if parts.username or parts.password or parts.query or parts.fragment:
            raise ValueError(f"mirror {url!r} of {reference.registry}: give scheme://host[:port][/path] only")
        if parts.scheme == "http" and not insecure:
            raise ValueError(
                f"mirror {url} of {reference.registry} is plain HTTP; set registry_insecure to use it "
                "(only for a registry you run yourself)"
            )
        found.append(Endpoint(_v2(url), mirror=True))
    found.append(Endpoint(upstream_base(reference.registry, insecure), mirror=False))
    return found


class _NoAuthRedirect(urllib.request.HTTPRedirectHandler):
    """Follow redirects (blob storage) for GET only and never from HTTPS to HTTP; unredirected headers
    (Authorization) stay behind."""

    # The signature is urllib's.
    def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str) -> Any:  # noqa: PLR0917
        if req.get_method() != "GET":
            return None
        if urllib.parse.urlsplit(req.full_url).scheme == "https" and urllib.parse.urlsplit(newurl).scheme != "https":
            raise RegistryError(f"{req.full_url} redirects to {newurl}, away from HTTPS; refused")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


@dataclass
class Transport:
    """HTTP(S) with the options of one task: CA bundle, proxy, insecure, credentials, timeout."""

    ca_bundle: Optional[str] = None
    insecure: bool = False
    proxy: Optional[str] = None
    username: Optional[str] = None
    password: Optional[str] = None
    timeout: float = 60.0
    _opener: Any = field(default=None, init=False, repr=False)

    def opener(self) -> Any:
        if self._opener is None:
            context = ssl.create_default_context(cafile=self.ca_bundle)
            proxies = None if self.proxy is None else {"http": self.proxy, "https": self.proxy}
            self._opener = urllib.request.build_opener(
                urllib.request.ProxyHandler(proxies),
                urllib.request.HTTPSHandler(context=context),
                _NoAuthRedirect(),
            )
        return self._opener

    def get(self, url: str, headers: Mapping[str, str], auth: Optional[str]) -> Any:
        """The open response, or urllib.error.HTTPError for a non-2xx answer."""
        scheme = urllib.parse.urlsplit(url).scheme
        if scheme == "http" and not self.insecure:
            raise RegistryError(f"{url} is plain HTTP; set registry_insecure to allow it")
        if scheme not in ("http", "https"):
            raise RegistryError(f"{url}: only http(s) URLs are followed")
        request = urllib.request.Request(url, headers=dict(headers), method="GET")  # noqa: S310 (scheme checked)
        if auth:
            request.add_unredirected_header("Authorization", auth)
        return self.opener().open(request, timeout=self.timeout)

    def basic(self) -> Optional[str]:
        if self.username is None:
            return None
        raw = f"{self.username}:{self.password or ''}".encode()
        return "Basic " + base64.b64encode(raw).decode("ascii")


def parse_challenge(header: str) -> Tuple[str, Dict[str, str]]:
    """``Bearer realm="...",service="..."`` -> (``bearer``, {realm, service, ...})."""
    scheme, _sep, params = header.strip().partition(" ")
    return scheme.lower(), {k.lower(): v for k, v in _CHALLENGE_PARAM.findall(params)}


@dataclass
class _Session:
    """One endpoint's authorization, obtained on the first 401 and reused."""

    endpoint: Endpoint
    authorization: Optional[str] = None


class RegistryClient:
    """Reads one repository through its endpoints (mirrors first), authenticating per endpoint."""

    def __init__(self, reference: Reference, transport: Transport, mirrors: Mapping[str, Sequence[str]]) -> None:
        self.reference = reference
        self.transport = transport
        self.sessions = [_Session(e) for e in endpoints(reference, mirrors, transport.insecure)]

    # The one place requests are made: every endpoint in turn until one answers 2xx.
    def _fetch(self, path: str, accept: str, what: str) -> Tuple[Any, _Session]:
        failures: List[str] = []
        for session in self.sessions:
            try:
                response = self._authorized_get(session, f"{session.endpoint.base}/{path}", accept)
                return response, session
            except urllib.error.HTTPError as exc:
                failures.append(f"{session.endpoint.label}: HTTP {exc.code} {_error_text(exc)}")
                if exc.code in (401, 403) and not session.endpoint.mirror:
                    break  # the registry itself refused: its answer is final
            except (urllib.error.URLError, OSError, RegistryError) as exc:
                failures.append(f"{session.endpoint.label}: {_reason(exc)}")
        raise RegistryError(f"{what} of {self.reference}: " + "; ".join(failures))

    def _authorized_get(self, session: _Session, url: str, accept: str) -> Any:
        headers = {"Accept": accept}
        try:
            return self.transport.get(url, headers, session.authorization)
        except urllib.error.HTTPError as exc:
            if exc.code != 401:
                raise
            # First contact (or an expired token): answer the challenge once, then the retry's answer stands.
            challenge = exc.headers.get("WWW-Authenticate", "")
            exc.close()
            session.authorization = self._authorize(session, challenge)
            return self.transport.get(url, headers, session.authorization)

    def _authorize(self, session: _Session, challenge: str) -> str:
        scheme, params = parse_challenge(challenge)
        # Credentials belong to the registry itself; a mirror gets anonymous requests only.
        basic = None if session.endpoint.mirror else self.transport.basic()
        if scheme == "basic":
            if basic is None:
                raise RegistryError(f"{session.endpoint.label} asks for basic authentication and no credentials apply")
            return basic
        if scheme != "bearer" or "realm" not in params:
            raise RegistryError(f"{session.endpoint.label} answered 401 with an unusable challenge {challenge!r}")
        query = {"scope": params.get("scope") or f"repository:{self.reference.repository}:pull"}
        if "service" in params:
            query["service"] = params["service"]
        realm = params["realm"]
        separator = "&" if "?" in realm else "?"
        url = f"{realm}{separator}{urllib.parse.urlencode(query)}"
        try:
            with self.transport.get(url, {"Accept": "application/json"}, basic) as response:
                body = json.loads(response.read(MAX_MANIFEST_BYTES))
        except urllib.error.HTTPError as exc:
            raise RegistryError(
                f"the token service {realm} of {session.endpoint.label} refused a pull token: HTTP {exc.code}"
                + (" (check registry_username/registry_password)" if exc.code in (401, 403) else "")
            ) from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise RegistryError(f"the token service {realm} of {session.endpoint.label}: {_reason(exc)}") from None
        token = body.get("token") or body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise RegistryError(f"the token service {realm} answered without a token")
        return f"Bearer {token}"

    def manifest(self, reference: str) -> Tuple[bytes, str, str]:
        """(body, media type, digest) of ``manifests/<reference>`` (a tag or a digest), verified."""
        response, _session = self._fetch(
            f"{self.reference.repository}/manifests/{reference}", ACCEPT, f"the manifest {reference}"
        )
        with response:
            body = response.read(MAX_MANIFEST_BYTES + 1)
            media_type = response.headers.get("Content-Type", "").split(";")[0].strip()
            announced = response.headers.get("Docker-Content-Digest")
        if len(body) > MAX_MANIFEST_BYTES:
            raise RegistryError(f"the manifest {reference} of {self.reference} is larger than 4 MiB")
        digest = "sha256:" + hashlib.sha256(body).hexdigest()
        expected = reference if reference.startswith("sha256:") else announced
        if expected and expected != digest:
            raise RegistryError(
                f"the manifest {reference} of {self.reference} hashes to {digest}, not {expected}: the content "
                "was changed in transit or by the registry"
            )
        try:
            document = json.loads(body)
        except ValueError:
            raise RegistryError(f"the manifest {reference} of {self.reference} is not JSON") from None
        if isinstance(document, dict) and isinstance(document.get("mediaType"), str):
            media_type = document["mediaType"]
        return body, media_type, digest

    def blob(self, digest: str, size: Optional[int], sink: IO[bytes]) -> None:
        """Write blob ``digest`` to ``sink``; RegistryError unless it has that digest (and size)."""
        if not _DIGEST_RE.match(digest):
            raise RegistryError(f"blob digest {digest!r} is not a sha256 digest")
        limit = MAX_BLOB_BYTES if size is None else size
        if limit > MAX_BLOB_BYTES:
            raise RegistryError(f"blob {digest} is {size} bytes, more than the 4 GiB this client reads")
        response, _session = self._fetch(f"{self.reference.repository}/blobs/{digest}", "*/*", f"the blob {digest}")
        hasher, total = hashlib.sha256(), 0
        with response:
            while chunk := response.read(1024 * 1024):
                total += len(chunk)
                if total > limit:
                    raise RegistryError(f"blob {digest} of {self.reference} is larger than its descriptor says")
                hasher.update(chunk)
                sink.write(chunk)
        if "sha256:" + hasher.hexdigest() != digest or (size is not None and total != size):
            raise RegistryError(
                f"blob {digest} of {self.reference} does not match its descriptor (got sha256:{hasher.hexdigest()}, "
                f"{total} bytes): the content was changed in transit or by the registry"
            )


def _error_text(exc: urllib.error.HTTPError) -> str:
    """The distribution error code (MANIFEST_UNKNOWN, UNAUTHORIZED, ...) when the body carries one."""
    try:
        body = json.loads(exc.read(65536) or b"{}")
        codes = [e.get("code") for e in body.get("errors", []) if isinstance(e, dict)]
        return ", ".join(c for c in codes if isinstance(c, str)) or exc.reason
    except (ValueError, AttributeError, OSError):
        return str(exc.reason)
    finally:
        exc.close()


def _reason(exc: BaseException) -> str:
    if isinstance(exc, urllib.error.URLError) and not isinstance(exc, urllib.error.HTTPError):
        return f"unreachable ({exc.reason})"
    return str(exc)


# ---------------------------------------------------------------------------------------------
# Documents


def parse_index(body: bytes, media_type: str) -> List[Dict[str, Any]]:
    """The ``manifests`` of an index, each with mediaType, digest, size and platform checked."""
    document = json.loads(body)
    entries = document.get("manifests") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise RegistryError(f"the {media_type} document has no manifests list")
    for number, entry in enumerate(entries):
        if not isinstance(entry, dict) or not _DIGEST_RE.match(str(entry.get("digest", ""))):
            raise RegistryError(f"index entry #{number} has no sha256 digest")
        if entry.get("mediaType") in INDEX_TYPES:
            raise RegistryError(f"index entry #{number} is itself an index; nested indexes are not supported")
    return entries


@dataclass(frozen=True)
class Manifest:
    config: Dict[str, Any]
    layers: List[Dict[str, Any]]


def parse_manifest(body: bytes, media_type: str) -> Manifest:
    document = json.loads(body)
    if not isinstance(document, dict) or document.get("schemaVersion") != 2:
        raise RegistryError(f"the {media_type or 'manifest'} is not a schema 2 image manifest")
    config, layers = document.get("config"), document.get("layers")
    if not isinstance(config, dict) or not isinstance(layers, list) or not layers:
        raise RegistryError("the image manifest has no config or no layers")
    for number, layer in enumerate(layers):
        if not isinstance(layer, dict) or not _DIGEST_RE.match(str(layer.get("digest", ""))):
            raise RegistryError(f"layer #{number} of the image manifest has no sha256 digest")
    return Manifest(config, layers)


# ---------------------------------------------------------------------------------------------
# Layers: finding one file as the container would see it


def windows_path(path: Any) -> str:
    """``C:\\pause.exe``, ``/pause.exe`` or ``pause.exe`` -> ``pause.exe`` (lower case: Windows ignores case)."""
    if not isinstance(path, str) or not path.strip():
        raise ValueError(f"executable {path!r} is not a path inside the image")
    text = path.strip().replace("\\", "/")
    if re.match(r"^[A-Za-z]:", text):
        if text[0].lower() != "c":
            raise ValueError(f"executable {path}: a container's file system is C:")
        text = text[2:]
    parts = [p for p in text.split("/") if p not in ("", ".")]
    if not parts or ".." in parts:
        raise ValueError(f"executable {path!r} is not a path inside the image")
    return "/".join(parts).lower()


def _layer_path(name: str) -> Optional[str]:
    """A tar member's path in the container (``Files/`` stripped for Windows layers), lower case;
    None for what is not part of the file system (``Hives/``, ``UtilityVM/``)."""
    text = name.replace("\\", "/").lstrip("./").lstrip("/")
    head, _sep, rest = text.partition("/")
    if head.lower() == "files":
        return rest.lower()
    if head.lower() in ("hives", "utilityvm"):
        return None
    return text.lower()


@dataclass(frozen=True)
class LayerLookup:
    """What one layer says about a path: its bytes, that it deletes it, or nothing."""

    data: Optional[bytes] = None
    deleted: bool = False
    problem: Optional[str] = None


def search_layer(stream: IO[bytes], media_type: str, target: str) -> LayerLookup:
    """Look for ``target`` (from ``windows_path``) in one layer tarball."""
    if media_type in _GZIP_LAYERS:
        stream = gzip.GzipFile(fileobj=stream, mode="rb")  # type: ignore[assignment]
    elif media_type not in _TAR_LAYERS:
        raise RegistryError(f"layer media type {media_type!r} is not supported (gzip or plain tar only)")
    parents = target.split("/")[:-1]
    ancestors = {"/".join(parents[:i]) for i in range(len(parents) + 1)}
    found: Optional[bytes] = None
    deleted, problem = False, None
    try:
        with tarfile.open(fileobj=stream, mode="r|") as tar:
            for member in tar:
                path = _layer_path(member.name)
                if path is None:
                    continue
                directory, _sep, leaf = path.rpartition("/")
                if leaf == ".wh..wh..opq" and directory in ancestors:
                    deleted = True  # an opaque directory hides everything below from lower layers
                elif leaf.startswith(".wh.") and _hides(directory, leaf[4:], target):
                    deleted = True
                elif path == target:
                    if not member.isfile():
                        problem = f"is a {'link' if member.issym() or member.islnk() else 'non-regular file'}"
                    elif member.size > MAX_EXECUTABLE_BYTES:
                        problem = f"is {member.size} bytes, more than the {MAX_EXECUTABLE_BYTES} this check reads"
                    else:
                        handle = tar.extractfile(member)
                        found = handle.read() if handle is not None else None
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise RegistryError(f"the layer is not a readable tar archive: {exc}") from None
    if found is not None or problem is not None:
        return LayerLookup(found, False, problem)
    return LayerLookup(None, deleted, None)


def _hides(directory: str, name: str, target: str) -> bool:
    hidden = f"{directory}/{name}" if directory else name
    return target == hidden or target.startswith(hidden + "/")


def find_file(client: RegistryClient, manifest: Manifest, executable: str) -> Tuple[bytes, str]:
    """(bytes, layer digest) of ``executable`` as the container sees it: from the top layer down."""
    target = windows_path(executable)
    with tempfile.TemporaryDirectory(prefix="winkube-layer-") as workdir:
        for number in range(len(manifest.layers) - 1, -1, -1):
            layer = manifest.layers[number]
            digest = layer["digest"]
            path = f"{workdir}/{number}"
            with open(path, "w+b") as sink:
                client.blob(digest, layer.get("size"), sink)
                sink.seek(0)
                lookup = search_layer(sink, str(layer.get("mediaType", "")), target)
            os.unlink(path)  # layers can be large: keep one on disk at a time
            if lookup.problem is not None:
                raise RegistryError(f"{executable} in layer {digest} {lookup.problem}; expected a regular file")
            if lookup.data is not None:
                return lookup.data, digest
            if lookup.deleted:
                raise RegistryError(f"{executable} is deleted by layer {digest} (a whiteout), so the image lacks it")
    raise RegistryError(f"{executable} is in none of the image's {len(manifest.layers)} layers")
