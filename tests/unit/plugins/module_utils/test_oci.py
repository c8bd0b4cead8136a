# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The OCI client: references, endpoints, the token-auth flow against a tiny local registry, integrity
checks, and finding a file in Windows layers."""

from __future__ import annotations

import base64
import hashlib
import http.server
import io
import json
import threading
import urllib.parse
from dataclasses import dataclass, field
from typing import Any, Dict, Iterator, List, Optional, Tuple

import pytest
from ansible_collections.winkube.node.plugins.module_utils import oci

from tests.unit.plugins.module_utils import signing

DIGEST = "sha256:" + "a" * 64


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


# ---------------------------------------------------------------------------------------------
# References and endpoints


@pytest.mark.parametrize(
    ("text", "registry", "repository", "tag", "digest"),
    [
        ("mcr.microsoft.com/oss/kubernetes/pause:3.6", "mcr.microsoft.com", "oss/kubernetes/pause", "3.6", None),
        ("pause:3.6", "docker.io", "library/pause", "3.6", None),
        ("user/app:1", "docker.io", "user/app", "1", None),
        ("localhost:5000/a/b:x", "localhost:5000", "a/b", "x", None),
        (f"127.0.0.1:5000/a@{DIGEST}", "127.0.0.1:5000", "a", None, DIGEST),
        (f"registry.k8s.io/pause:3.10@{DIGEST}", "registry.k8s.io", "pause", "3.10", DIGEST),
    ],
)
def test_references_parse_like_docker(
    text: str, registry: str, repository: str, tag: Optional[str], digest: Optional[str]
) -> None:
    ref = oci.parse_reference(text)
    assert (ref.registry, ref.repository, ref.tag, ref.digest) == (registry, repository, tag, digest)


def test_pinned_reference_keeps_the_tag_and_names_the_digest() -> None:
    ref = oci.parse_reference("mcr.microsoft.com/oss/kubernetes/pause:3.6")
    assert ref.pinned(DIGEST) == f"mcr.microsoft.com/oss/kubernetes/pause:3.6@{DIGEST}"
    assert oci.parse_reference(f"pause@{DIGEST}").pinned(DIGEST) == f"docker.io/library/pause@{DIGEST}"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("mcr.microsoft.com/oss/kubernetes/pause", "has neither a tag nor a digest"),
        ("registry.example/Pause:1", "is not a valid repository name"),
        ("registry.example/pause@sha512:abc", "is not sha256: followed by 64"),
        ("registry.example/pause:bad tag", "is not an image reference"),
        ("", "is not an image reference"),
    ],
)
def test_bad_references_say_why(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        oci.parse_reference(text)


def test_mirrors_come_first_then_the_registry_with_v2_appended() -> None:
    ref = oci.parse_reference("docker.io/library/pause:3.6")
    found = oci.endpoints(ref, {"docker.io": ["https://mirror.example", "https://m2.example/v2/"]}, insecure=False)
    assert [(e.base, e.mirror) for e in found] == [
        ("https://mirror.example/v2", True),
        ("https://m2.example/v2", True),
        ("https://registry-1.docker.io/v2", False),
    ]


def test_a_plain_http_mirror_needs_registry_insecure() -> None:
    ref = oci.parse_reference("registry.example/pause:3.6")
    with pytest.raises(ValueError, match="is plain HTTP; set registry_insecure"):
        oci.endpoints(ref, {"registry.example": ["http://mirror.example"]}, insecure=False)
    with pytest.raises(ValueError, match="scheme://host"):
        oci.endpoints(ref, {"registry.example": ["https://u:p@mirror.example"]}, insecure=False)


def test_challenges_parse() -> None:
    scheme, params = oci.parse_challenge('Bearer realm="https://auth.example/token",service="reg",scope="a:b:pull"')
    assert scheme == "bearer" and params == {
        "realm": "https://auth.example/token",
        "service": "reg",
        "scope": "a:b:pull",
    }


# ---------------------------------------------------------------------------------------------
# A tiny registry: token auth, one index, one manifest, blobs behind a redirect


@dataclass
class FakeRegistry:
    documents: Dict[str, Tuple[str, bytes]] = field(default_factory=dict)  # path -> (media type, body)
    blobs: Dict[str, bytes] = field(default_factory=dict)
    users: Dict[str, str] = field(default_factory=dict)  # basic auth the token service accepts; empty: anonymous
    auth: str = "bearer"  # bearer | basic | none
    announce: Dict[str, str] = field(default_factory=dict)  # path -> Docker-Content-Digest to announce
    log: List[Dict[str, Any]] = field(default_factory=list)
    token: str = "t0ken"
    port: int = 0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def _handler(registry: FakeRegistry) -> type:
    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *_args: Any) -> None:
            pass

        def _send(self, code: int, body: bytes = b"", headers: Optional[Dict[str, str]] = None) -> None:
            self.send_response(code)
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            url = urllib.parse.urlsplit(self.path)
            auth = self.headers.get("Authorization")
            registry.log.append({"path": url.path, "query": dict(urllib.parse.parse_qsl(url.query)), "auth": auth})
            if url.path == "/token":
                expected = {
                    f"Basic {base64.b64encode(f'{u}:{p}'.encode()).decode()}" for u, p in registry.users.items()
                }
                if registry.users and auth not in expected:
                    self._send(401)
                    return
                self._send(200, json.dumps({"token": registry.token}).encode(), {"Content-Type": "application/json"})
                return
            if url.path.startswith("/storage/"):
                self._send(200, registry.blobs[url.path.rsplit("/", 1)[1]])
                return
            if not self._authorized(auth):
                return
            if url.path in registry.documents:
                media_type, body = registry.documents[url.path]
                headers = {"Content-Type": media_type}
                if url.path in registry.announce:
                    headers["Docker-Content-Digest"] = registry.announce[url.path]
                self._send(200, body, headers)
                return
            if "/blobs/" in url.path and url.path.rsplit("/", 1)[1] in registry.blobs:
                self._send(307, headers={"Location": f"/storage/{url.path.rsplit('/', 1)[1]}"})
                return
            body = json.dumps({"errors": [{"code": "MANIFEST_UNKNOWN", "message": "manifest unknown"}]}).encode()
            self._send(404, body, {"Content-Type": "application/json"})

        def _authorized(self, auth: Optional[str]) -> bool:
            if registry.auth == "none":
                return True
            if registry.auth == "bearer" and auth == f"Bearer {registry.token}":
                return True
            if registry.auth == "basic" and auth in {
                f"Basic {base64.b64encode(f'{u}:{p}'.encode()).decode()}" for u, p in registry.users.items()
            }:
                return True
            if registry.auth == "bearer":
                challenge = f'Bearer realm="{registry.base}/token",service="fake-registry"'
            else:
                challenge = 'Basic realm="fake"'
            self._send(401, b'{"errors":[{"code":"UNAUTHORIZED"}]}', {"WWW-Authenticate": challenge})
            return False

    return Handler


@pytest.fixture
def fake() -> Iterator[FakeRegistry]:
    registry = FakeRegistry()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(registry))
    registry.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield registry
    server.shutdown()
    server.server_close()


def _client(fake: FakeRegistry, **transport: Any) -> oci.RegistryClient:
    ref = oci.parse_reference(f"127.0.0.1:{fake.port}/team/pause:3.6")
    return oci.RegistryClient(ref, oci.Transport(insecure=True, proxy=None, timeout=5, **transport), {})


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")


def _publish_manifest(fake: FakeRegistry, body: bytes, tag: str = "3.6") -> str:
    media_type = oci.MANIFEST_TYPES[0]
    fake.documents[f"/v2/team/pause/manifests/{tag}"] = (media_type, body)
    fake.documents[f"/v2/team/pause/manifests/{_digest(body)}"] = (media_type, body)
    return _digest(body)


def test_token_flow_asks_the_realm_for_a_pull_scope_and_retries_with_the_bearer(fake: FakeRegistry) -> None:
    body = json.dumps({"schemaVersion": 2, "mediaType": oci.MANIFEST_TYPES[0]}).encode()
    digest = _publish_manifest(fake, body)
    client = _client(fake)
    assert client.manifest("3.6") == (body, oci.MANIFEST_TYPES[0], digest)
    first, token, retry = fake.log
    assert (first["path"], first["auth"]) == ("/v2/team/pause/manifests/3.6", None)
    assert token["path"] == "/token" and token["auth"] is None  # anonymous: no credentials given
    assert token["query"] == {"scope": "repository:team/pause:pull", "service": "fake-registry"}
    assert retry["auth"] == "Bearer t0ken"
    # The token is kept for the next request to the same endpoint.
    client.manifest(digest)
    assert [e["path"] for e in fake.log[3:]] == [f"/v2/team/pause/manifests/{digest}"]


def test_token_flow_sends_the_credentials_to_the_token_service(fake: FakeRegistry) -> None:
    fake.users = {"robot": "s3cret"}
    _publish_manifest(fake, b'{"schemaVersion": 2}')
    _client(fake, username="robot", password="s3cret").manifest("3.6")
    token = next(e for e in fake.log if e["path"] == "/token")
    assert token["auth"] == "Basic " + base64.b64encode(b"robot:s3cret").decode()


def test_a_refused_token_says_to_check_the_credentials(fake: FakeRegistry) -> None:
    fake.users = {"robot": "s3cret"}
    _publish_manifest(fake, b'{"schemaVersion": 2}')
    with pytest.raises(oci.RegistryError, match=r"refused a pull token: HTTP 401 \(check registry_username"):
        _client(fake, username="robot", password="wrong").manifest("3.6")


def test_basic_auth_challenge_gets_the_credentials_or_says_none_apply(fake: FakeRegistry) -> None:
    fake.auth, fake.users = "basic", {"robot": "pw"}
    _publish_manifest(fake, b'{"schemaVersion": 2}')
    assert _client(fake, username="robot", password="pw").manifest("3.6")[0] == b'{"schemaVersion": 2}'
    with pytest.raises(oci.RegistryError, match="asks for basic authentication and no credentials apply"):
        _client(fake).manifest("3.6")


def test_a_manifest_that_does_not_hash_to_its_digest_is_refused(fake: FakeRegistry) -> None:
    fake.auth = "none"
    body = b'{"schemaVersion": 2}'
    fake.documents[f"/v2/team/pause/manifests/{DIGEST}"] = (oci.MANIFEST_TYPES[0], body)
    with pytest.raises(oci.RegistryError, match=f"hashes to {_digest(body)}, not {DIGEST}"):
        _client(fake).manifest(DIGEST)
    fake.documents["/v2/team/pause/manifests/3.6"] = (oci.MANIFEST_TYPES[0], body)
    fake.announce["/v2/team/pause/manifests/3.6"] = DIGEST
    with pytest.raises(oci.RegistryError, match="changed in transit or by the registry"):
        _client(fake).manifest("3.6")


def test_unknown_manifest_reports_the_registry_error_code(fake: FakeRegistry) -> None:
    fake.auth = "none"
    with pytest.raises(
        oci.RegistryError, match=r"the manifest 9\.9 of .*: registry http://.*/v2: HTTP 404 MANIFEST_UNKNOWN"
    ):
        _client(fake).manifest("9.9")


def test_unreachable_registry_names_every_endpoint(fake: FakeRegistry) -> None:
    ref = oci.parse_reference("127.0.0.1:9/team/pause:3.6")  # port 9 (discard): nothing listens
    client = oci.RegistryClient(ref, oci.Transport(insecure=True, timeout=2), {"127.0.0.1:9": [fake.base + "/gone"]})
    with pytest.raises(oci.RegistryError) as caught:
        client.manifest("3.6")
    assert f"mirror {fake.base}/gone/v2: HTTP 404 MANIFEST_UNKNOWN" in str(caught.value)
    assert "registry http://127.0.0.1:9/v2: unreachable" in str(caught.value)


def test_credentials_are_never_sent_to_a_mirror(fake: FakeRegistry) -> None:
    fake.users = {"robot": "s3cret"}
    ref = oci.parse_reference("127.0.0.1:9/team/pause:3.6")
    transport = oci.Transport(insecure=True, timeout=2, username="robot", password="s3cret")
    client = oci.RegistryClient(ref, transport, {"127.0.0.1:9": [fake.base]})
    with pytest.raises(oci.RegistryError, match="refused a pull token"):
        client.manifest("3.6")
    assert all(entry["auth"] is None for entry in fake.log)


def test_blobs_follow_the_redirect_without_the_authorization_and_are_verified(fake: FakeRegistry) -> None:
    data = b"layer bytes"
    fake.blobs[_digest(data)] = data
    sink = io.BytesIO()
    _client(fake).blob(_digest(data), len(data), sink)
    assert sink.getvalue() == data
    storage = next(e for e in fake.log if e["path"].startswith("/storage/"))
    assert storage["auth"] is None  # the bearer token stays with the registry
    fake.blobs[DIGEST] = data  # served under a digest it does not have
    with pytest.raises(oci.RegistryError, match="does not match its descriptor"):
        _client(fake).blob(DIGEST, len(data), io.BytesIO())
    with pytest.raises(oci.RegistryError, match="larger than its descriptor says"):
        _client(fake).blob(_digest(data), 3, io.BytesIO())


def test_plain_http_needs_registry_insecure(fake: FakeRegistry) -> None:
    ref = oci.parse_reference(f"127.0.0.1:{fake.port}/team/pause:3.6")
    transport = oci.Transport(insecure=False)
    with pytest.raises(oci.RegistryError, match="is plain HTTP; set registry_insecure"):
        transport.get(f"{fake.base}/v2/", {}, None)
    assert oci.endpoints(ref, {}, insecure=False)[0].base.startswith("https://")


# ---------------------------------------------------------------------------------------------
# Layers


GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"


def _search(layer: bytes, target: str = "pause.exe", media_type: str = GZIP) -> oci.LayerLookup:
    return oci.search_layer(io.BytesIO(layer), media_type, target)


def test_windows_paths_normalise() -> None:
    assert oci.windows_path("C:\\pause.exe") == oci.windows_path("/pause.exe") == oci.windows_path("Pause.EXE")
    assert oci.windows_path("/Windows/System32/wincat.exe") == "windows/system32/wincat.exe"
    with pytest.raises(ValueError, match="container's file system is C:"):
        oci.windows_path("D:\\pause.exe")
    with pytest.raises(ValueError, match="not a path inside the image"):
        oci.windows_path("../pause.exe")


def test_a_windows_layer_is_read_under_files() -> None:
    layer = signing.windows_layer({"pause.exe": b"MZ-pause", "Windows/System32/wincat.exe": b"MZ-wincat"})
    assert _search(layer).data == b"MZ-pause"
    assert _search(layer, "windows/system32/wincat.exe").data == b"MZ-wincat"
    assert _search(layer, "other.exe") == oci.LayerLookup()
    plain = signing.windows_layer({"pause.exe": b"MZ"}, compress=False)
    assert _search(plain, media_type="application/vnd.oci.image.layer.v1.tar").data == b"MZ"


def test_whiteouts_delete_the_file_and_its_folders() -> None:
    assert _search(signing.windows_layer({}, whiteouts=["pause.exe"])).deleted
    assert _search(signing.windows_layer({}, whiteouts=["Windows"]), "windows/system32/x.exe").deleted
    assert not _search(signing.windows_layer({}, whiteouts=["other.exe"])).deleted


def test_unsupported_layers_say_so() -> None:
    with pytest.raises(oci.RegistryError, match="is not supported"):
        _search(b"", media_type="application/vnd.oci.image.layer.v1.tar+zstd")
    with pytest.raises(oci.RegistryError, match="not a readable tar archive"):
        _search(b"not gzip")


def test_index_and_manifest_documents_are_checked() -> None:
    nested = {"manifests": [{"mediaType": oci.INDEX_TYPES[0], "digest": DIGEST}]}
    with pytest.raises(oci.RegistryError, match="nested indexes are not supported"):
        oci.parse_index(json.dumps(nested).encode(), oci.INDEX_TYPES[0])
    with pytest.raises(oci.RegistryError, match="has no sha256 digest"):
        oci.parse_index(b'{"manifests": [{"digest": "md5:1"}]}', oci.INDEX_TYPES[0])
    with pytest.raises(oci.RegistryError, match="no config or no layers"):
        oci.parse_manifest(b'{"schemaVersion": 2, "layers": []}', oci.MANIFEST_TYPES[0])
