"""winkube.node.image_signature against a real registry with images made here (issue 7).

Real parts: Debian's ``docker-registry`` on 127.0.0.1, PE files signed by ``osslsigncode`` with a CA made
at test time, the real action plugin through ``ansible-playbook``, the real preflight task file
``pause_signature.yml`` and the real containerd config renderer. Published (repository ``winkube/pause``):

- ``signed``: an OCI index with Windows manifests for builds 17763, 20348 and 26100, each a base layer and a
  top layer holding ``pause.exe`` signed by the test CA; ``signed-docker``: the same as a Docker manifest list.
- ``unsigned``, ``tampered`` (one code byte changed after signing), ``untrusted`` (signed by another CA),
  ``timestamped`` (signed with a certificate that has expired since, with an RFC 3161 timestamp from when it was
  valid), ``whiteout`` (a top layer deletes pause.exe), ``single`` (a tag naming one manifest, no index).
"""

from __future__ import annotations

import datetime
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator

import pytest
import yaml

# Ansible's collection finder (installed there) makes winkube.node's module_utils importable below.
import tests.unit.conftest  # noqa: F401

# isort: split
from ansible_collections.winkube.node.plugins.module_utils.image_signature import (
    DEFAULT_EXECUTABLE,
    Request,
    check_image,
    trusted_roots,
)
from ansible_collections.winkube.node.plugins.module_utils.oci import RegistryError, Transport
from ansible_collections.winkube.node.plugins.module_utils.plan import resolve_plan

from tests.integration.registry import REGISTRY_BINARY, SKIP_REASON, Registry, free_port
from tests.simulator.pytest_plugin import REPO_ROOT, ansible_env
from tests.unit.plugins.module_utils import signing

pytestmark = [
    pytest.mark.skipif(not REGISTRY_BINARY.exists(), reason=SKIP_REASON),
    pytest.mark.skipif(signing.OSSLSIGNCODE is None, reason="osslsigncode is not installed (/usr/bin/osslsigncode)"),
]

REPOSITORY = "winkube/pause"
BUILDS = {17763: "10.0.17763.5576", 20348: "10.0.20348.2402", 26100: "10.0.26100.4061"}
UTC = datetime.UTC


@dataclass
class Published:
    registry: Registry
    trusted_bundle: Path
    index_digest: str
    docker_index_digest: str
    manifest_digests: Dict[int, str]
    docker_manifest_digests: Dict[int, str]
    single_digest: str

    def image(self, tag: str) -> str:
        return f"{self.registry.host}/{REPOSITORY}:{tag}"


def _base_layer(build: int) -> bytes:
    return signing.windows_layer({f"Windows/System32/base-{build}.txt": f"base {build}\n".encode()})


def _pause_layer(executable: bytes) -> bytes:
    return signing.windows_layer({"pause.exe": executable, "Windows/System32/wincat.exe": signing.minimal_pe()})


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Published]:
    work = tmp_path_factory.mktemp("image-signature")
    now = datetime.datetime.now(UTC)
    root, stranger = signing.make_ca("winkube test code signing root"), signing.make_ca("someone else's root")
    signer = signing.issue(root, "winkube test signer")
    pe = signing.minimal_pe()
    signed = signing.sign(pe, signer, [root], work / "signed")
    untrusted = signing.sign(pe, signing.issue(stranger, "stranger"), [stranger], work / "stranger")
    # Valid from 800 to 400 days ago, timestamped 500 days ago by a TSA that was valid then.
    then = now - datetime.timedelta(days=500)
    past = (now - datetime.timedelta(days=800), now - datetime.timedelta(days=400))
    expired = signing.issue(root, "winkube test signer (expired)", valid=past)
    tsa = signing.issue(root, "winkube test TSA", usages=[signing.ExtendedKeyUsageOID.TIME_STAMPING], valid=past)
    stamp = int(then.timestamp())
    timestamped = signing.sign(
        pe, expired, [root], work / "stamped", tsa=tsa, tsa_chain=[root], tsa_time=stamp, signing_time=stamp
    )
    bundle = work / "trusted.pem"
    bundle.write_bytes(root.cert_pem())

    registry = Registry.start(work / "registry")
    try:
        manifests, docker_manifests = [], []
        for build, os_version in BUILDS.items():
            layers = [_base_layer(build), _pause_layer(signed)]
            manifests.append(registry.push_image(REPOSITORY, layers, os_version))
            docker_manifests.append(registry.push_image(REPOSITORY, layers, os_version, docker_types=True))
        index = registry.push_index(REPOSITORY, "signed", manifests)
        docker_index = registry.push_index(REPOSITORY, "signed-docker", docker_manifests, docker_types=True)
        variants = {
            "unsigned": [_base_layer(20348), _pause_layer(pe)],
            "tampered": [_base_layer(20348), _pause_layer(signing.tamper(signed))],
            "untrusted": [_base_layer(20348), _pause_layer(untrusted)],
            "timestamped": [_base_layer(20348), _pause_layer(timestamped)],
            "whiteout": [_pause_layer(signed), signing.windows_layer({}, whiteouts=["pause.exe"])],
        }
        for tag, layers in variants.items():
            registry.push_index(REPOSITORY, tag, [registry.push_image(REPOSITORY, layers, BUILDS[20348])])
        single = registry.push_image(
            REPOSITORY, [_base_layer(20348), _pause_layer(signed)], BUILDS[20348], tag="single"
        )
        yield Published(
            registry,
            bundle,
            index,
            docker_index,
            {build: m["digest"] for build, m in zip(BUILDS, manifests, strict=True)},
            {build: m["digest"] for build, m in zip(BUILDS, docker_manifests, strict=True)},
            single["digest"],
        )
    finally:
        registry.stop()


@pytest.fixture(autouse=True)
def _direct(monkeypatch: pytest.MonkeyPatch) -> None:
    """The registry is on 127.0.0.1: keep any proxy of the environment out of the way."""
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")


def _request(published: Published, tag: str, build: str, containerd: str | None, **more: Any) -> Request:
    return Request(
        image=more.get("image", published.image(tag)),
        windows_build=build,
        containerd_version=containerd,
        executable=more.get("executable", DEFAULT_EXECUTABLE),
        trusted_roots=trusted_roots(str(published.trusted_bundle)),
        transport=Transport(insecure=True, timeout=20),
        mirrors=more.get("mirrors", {}),
    )


def check(published: Published, tag: str, build: str, containerd: str | None, **more: Any) -> Dict[str, Any]:
    return check_image(_request(published, tag, build, containerd, **more))


def check_error(published: Published, tag: str, build: str, containerd: str | None, **more: Any) -> str:
    with pytest.raises((RegistryError, ValueError)) as caught:
        check_image(_request(published, tag, build, containerd, **more))
    return str(caught.value)


def _run_playbook(
    tmp_path: Path, tasks: list[dict[str, Any]], hostvars: Dict[str, Dict[str, Any]], extra_vars: Dict[str, Any]
) -> Dict[str, Any]:
    """Run ``tasks`` on local hosts with the real ansible-playbook. Each host's tasks may write JSON to
    ``{{ out_file }}``; returns rc, stdout and, per host that wrote it, that JSON."""
    inventory = {"all": {"hosts": {name: {"ansible_connection": "local", **v} for name, v in hostvars.items()}}}
    (tmp_path / "inventory.yml").write_text(yaml.safe_dump(inventory))
    play = [
        {
            "name": "image_signature against the test registry",
            "hosts": "all",
            "gather_facts": False,
            "vars": {**extra_vars, "out_file": str(tmp_path / "out-{{ inventory_hostname }}.json")},
            "tasks": tasks,
        }
    ]
    playbook = tmp_path / "play.yml"
    playbook.write_text(yaml.safe_dump(play, sort_keys=False))
    argv = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(tmp_path / "inventory.yml")]
    argv += [str(playbook), "-e", f"ansible_python_interpreter={sys.executable}"]
    env = ansible_env({"no_proxy": "127.0.0.1", "NO_PROXY": "127.0.0.1"})
    proc = subprocess.run(argv, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    written = {name: tmp_path / f"out-{name}.json" for name in hostvars}
    return {
        "rc": proc.returncode,
        "stdout": proc.stdout + proc.stderr,
        **{name: json.loads(path.read_text()) for name, path in written.items() if path.exists()},
    }


def _check(published: Published, tag: str, build: int, **more: Any) -> Dict[str, Any]:
    args = {
        "image": published.image(tag),
        "windows_build": BUILDS[build],
        "containerd_version": "2.3.5",
        "trusted_ca_bundle": str(published.trusted_bundle),
        "registry_insecure": True,
        **more,
    }
    return {"winkube.node.image_signature": args, "register": f"r_{tag}", "ignore_errors": True}


def _dump(names: list[str]) -> Dict[str, Any]:
    content = "{{ {" + ", ".join(f"'{n}': {n}" for n in names) + "} | to_json }}"
    return {"ansible.builtin.copy": {"content": content, "dest": "{{ out_file }}"}}


@pytest.mark.slow
def test_only_the_signed_image_verifies_and_each_other_says_why(published: Published, tmp_path: Path) -> None:
    tags = ("signed", "unsigned", "tampered", "untrusted")
    tasks = [_check(published, tag, 20348) for tag in tags]
    tasks.append({**_check(published, "unsigned", 20348, fail_on_unsigned=False), "register": "r_reported"})
    tasks.append(_dump([f"r_{tag}" for tag in tags] + ["r_reported"]))
    results = _run_playbook(tmp_path, tasks, {"controller": {}}, {})["controller"]

    good = results["r_signed"]
    assert not good.get("failed"), good
    assert (good["status"], good["signed"], good["signer"]) == ("valid", True, "CN=winkube test signer,O=winkube test")
    assert good["index_digest"] == published.index_digest
    assert good["manifest_digest"] == published.manifest_digests[20348]
    assert good["os_version"] == BUILDS[20348]
    assert good["pinned_image"] == f"{published.image('signed')}@{published.index_digest}"

    unsigned = results["r_unsigned"]
    assert unsigned["failed"] and unsigned["status"] == "unsigned"
    assert (unsigned["signed"], unsigned["signer"]) == (False, None)
    assert "has no Authenticode signature" in unsigned["msg"] and "fail_on_unsigned" in unsigned["msg"]
    tampered = results["r_tampered"]
    assert tampered["failed"] and (tampered["status"], tampered["signed"]) == ("invalid", True)
    assert "does not fit the file" in tampered["msg"] and "changed after signing" in tampered["msg"]
    untrusted = results["r_untrusted"]
    assert untrusted["failed"] and untrusted["status"] == "untrusted"
    assert untrusted["signer"] == "CN=stranger,O=winkube test"
    assert "does not lead to a trusted root" in untrusted["msg"]
    # fail_on_unsigned=false: the same verdict, reported without failing the task.
    reported = results["r_reported"]
    assert not reported.get("failed") and reported["status"] == "unsigned"


@pytest.mark.parametrize("docker_types", [False, True], ids=["oci-index", "docker-manifest-list"])
def test_the_manifest_follows_the_host_build(published: Published, docker_types: bool) -> None:
    tag = "signed-docker" if docker_types else "signed"
    expected = published.docker_manifest_digests if docker_types else published.manifest_digests
    for build, containerd, chosen in (
        (17763, "2.3.5", 17763),
        (20348, "2.3.5", 20348),
        (26100, "2.3.5", 26100),
        # containerd 2.0 (platforms rc.1) accepts 20348..host on a 26100 host and orders by os.version: 26100.
        (26100, "2.0.6", 26100),
        # A 25398 (23H2) host runs the ltsc2022 image; nothing newer fits.
        (25398, "2.3.5", 20348),
    ):
        result = check(published, tag, f"10.0.{build}", containerd)
        assert result["status"] == "valid", result
        assert result["manifest_digest"] == expected[chosen], (build, containerd)
        assert result["os_version"] == BUILDS[chosen]


def test_no_manifest_for_the_build_lists_the_os_versions(published: Published) -> None:
    message = check_error(published, "signed", "10.0.14393", "2.3.5")
    assert "no manifest of the index runs on Windows build 14393 with containerd 2.3.5" in message
    for os_version in BUILDS.values():
        assert os_version in message


def test_timestamp_makes_an_expired_signer_valid(published: Published) -> None:
    result = check(published, "timestamped", BUILDS[20348], "2.3.5")
    assert result["status"] == "valid", result["msg"]
    assert "validated at the time of its timestamp countersignature" in result["msg"]


def test_missing_and_deleted_executables_and_references(published: Published) -> None:
    assert "is deleted by layer" in check_error(published, "whiteout", BUILDS[20348], "2.3.5")
    assert "is in none of the image's 2 layers" in check_error(
        published, "signed", BUILDS[20348], "2.3.5", executable="C:\\Windows\\notepad.exe"
    )
    missing = check_error(published, "no-such-tag", BUILDS[20348], "2.3.5")
    assert "HTTP 404 MANIFEST_UNKNOWN" in missing


def test_single_manifest_is_pinned_by_its_own_digest(published: Published) -> None:
    result = check(published, "single", BUILDS[20348], "2.3.5")
    assert result["index_digest"] is None and result["manifest_digest"] == published.single_digest
    assert result["pinned_image"] == f"{published.image('single')}@{published.single_digest}"


def test_mirrors_are_tried_before_the_registry(published: Published) -> None:
    # The first mirror refuses connections (nothing listens there); the second is the real registry
    # under another name; the upstream name does not resolve, so only the mirror can answer.
    dead = f"http://127.0.0.1:{free_port()}"
    upstream = "registry.invalid"
    mirrors = {upstream: [dead, f"http://{published.registry.host}"]}
    result = check(
        published, "signed", BUILDS[20348], "2.3.5", image=f"{upstream}/{REPOSITORY}:signed", mirrors=mirrors
    )
    assert result["status"] == "valid"
    assert result["pinned_image"] == f"{upstream}/{REPOSITORY}:signed@{published.index_digest}"


def _preflight_tasks() -> list[Dict[str, Any]]:
    return [
        {
            "name": "Give each node the plan preflight resolved for it",
            "ansible.builtin.set_fact": {"winkube_plan": "{{ plan }}"},
        },
        {
            "name": "Run the preflight role's pause signature entry point",
            "ansible.builtin.include_role": {"name": "winkube.node.preflight", "tasks_from": "pause_signature"},
        },
        {
            "name": "Render config.toml as the containerd role does and keep it with the plan",
            "ansible.builtin.copy": {
                "content": "{{ {'plan': winkube_plan, 'config': __config} | to_json }}",
                "dest": "{{ out_file }}",
            },
            "vars": {
                "__config": "{{ winkube_plan | winkube.node.containerd_config if winkube_plan.containerd else '' }}"
            },
        },
    ]


def _plans(image: str) -> Dict[str, Dict[str, Any]]:
    """Plans as node_plan resolves them: WS2022 and WS2025 with containerd, WS2022 with MCR (defaults otherwise)."""
    mcr = {"winkube_container_runtime": "mcr", "mcr_installer_sha256": "a" * 64, "cri_dockerd_sha256": "b" * 64}
    nodes = (("win2022", 20348, {}), ("win2025", 26100, {}), ("win2022-mcr", 20348, mcr))
    return {
        name: {"plan": resolve_plan({"winkube_pause_image": image, **more}, {"os_version": BUILDS[build]})}
        for name, build, more in nodes
    }


_TRUST = {"preflight_pause_signature_registry_insecure": True}


@pytest.mark.slow
def test_preflight_pins_the_verified_digest_in_the_rendered_containerd_config(
    published: Published, tmp_path: Path
) -> None:
    extra = {**_TRUST, "preflight_pause_signature_trusted_ca_bundle": str(published.trusted_bundle)}
    result = _run_playbook(tmp_path, _preflight_tasks(), _plans(published.image("signed")), extra)
    assert result["rc"] == 0, result["stdout"]
    pinned = f"{published.image('signed')}@{published.index_digest}"
    for name, build in (("win2022", 20348), ("win2025", 26100)):
        plan, config = result[name]["plan"], result[name]["config"]
        assert plan["pause_image"] == pinned
        signature = plan["pause_image_signature"]
        assert (signature["status"], signature["manifest_digest"]) == ("valid", published.manifest_digests[build])
        # containerd 2.x writes the sandbox image as pinned_images.sandbox (config version 3).
        assert f"sandbox = '{pinned}'" in config, config
    # MCR: the same verified digest, as name@digest for Docker Engine.
    mcr = result["win2022-mcr"]["plan"]
    assert mcr["pause_image"] == f"{published.registry.host}/{REPOSITORY}@{published.index_digest}"
    assert mcr["pause_image_signature"]["manifest_digest"] == published.manifest_digests[20348]
    # One check per distinct (build, runtime), on the controller only.
    assert result["stdout"].count("for build 10.0.") == 3, result["stdout"]


@pytest.mark.slow
def test_preflight_stops_the_play_when_the_pause_image_does_not_verify(published: Published, tmp_path: Path) -> None:
    # Trusted roots left at the default (Microsoft's): the test CA's signature is not trusted there.
    result = _run_playbook(tmp_path, _preflight_tasks(), _plans(published.image("signed")), _TRUST)
    assert result["rc"] != 0
    assert "win2022" not in result and "win2025" not in result, "a task after the check ran"
    assert "does not lead to a trusted root" in result["stdout"]
