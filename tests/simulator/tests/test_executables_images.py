"""ctr.exe and crictl.exe: pulls pick the manifest for the host build with the running containerd's
platform matcher (knowledge base), listing and removal formats, connection and resolve errors."""

from __future__ import annotations

import pytest

from tests.simulator.downloads import CRICTL_BASE
from tests.simulator.executables.testing import (
    CONTAINERD_DIR,
    WS2019,
    WS2022,
    WS2025,
    checked,
    make_host,
    sh,
    start_containerd,
)

CTR = CONTAINERD_DIR + r"\ctr.exe"
MCR_PAUSE = "mcr.microsoft.com/oss/kubernetes/pause:3.6"  # 1809/17763 and ltsc2022/20348 variants


def running(os_version: str, containerd: str):
    host = make_host(os_version)
    start_containerd(host, containerd)
    return host


def pull(host, ref, ns="k8s.io"):
    return sh(host, CTR, "-n", ns, "images", "pull", ref)


def test_ws2019_gets_the_17763_manifest():
    host = running(WS2019, "1.7.28")
    r = checked(pull(host, MCR_PAUSE))
    assert r.stdout.rstrip("\n").endswith("done: 25.013ms")
    assert host.images[MCR_PAUSE]["os_version"].startswith("10.0.17763.")
    assert host.images[MCR_PAUSE]["namespaces"] == ["k8s.io"]


@pytest.mark.parametrize("containerd", ["1.7.28", "2.2.0"])
def test_ws2025_takes_the_ltsc2022_manifest_with_1_7_and_2_2(containerd):
    # the stable-ABI rule: a 26100 host accepts 20348 images; 17763 never
    host = running(WS2025, containerd)
    checked(pull(host, MCR_PAUSE))
    assert host.images[MCR_PAUSE]["os_version"].startswith("10.0.20348.")


def test_no_match_on_ws2025_for_an_ltsc2019_only_image_2x_text():
    host = running(WS2025, "2.2.0")
    r = pull(host, "mcr.microsoft.com/windows/servercore:ltsc2019")
    assert (r.rc, r.stderr) == (1, "ctr: no match for platform in manifest: not found\n")
    assert "mcr.microsoft.com/windows/servercore:ltsc2019" not in host.images


def test_no_match_with_ctr_1_7_prints_progress_then_the_unpack_error():
    host = running(WS2019, "1.7.28")
    r = pull(host, "mcr.microsoft.com/windows/servercore:ltsc2022")
    digest = host.downloads.images.resolve("mcr.microsoft.com/windows/servercore:ltsc2022").digest
    assert r.rc == 1
    assert r.stderr == f"ctr: no match for platform in manifest {digest}: not found\n"
    assert r.stdout.splitlines()[-1] == f"unpacking windows/amd64 {digest}..."


def test_matcher_generation_decides_on_a_host_past_the_latest_ltsc():
    """A 26200 host: platforms rc.2 (containerd 2.2) floors at 26100 and refuses ltsc2022; rc.5
    (2.3.5) steps back to 20348; 1.7's loop floors at 20348."""
    results = {}
    for containerd in ("1.7.28", "2.2.0", "2.3.5"):
        host = running("10.0.26200.1000", containerd)
        results[containerd] = pull(host, "mcr.microsoft.com/windows/nanoserver:ltsc2022").rc
    assert results == {"1.7.28": 0, "2.2.0": 1, "2.3.5": 0}


def test_ordering_revision_in_1_7_string_compare_in_2_x():
    picked = {}
    for containerd in ("1.7.28", "2.2.0"):
        host = running(WS2022, containerd)
        host.downloads.images.add(
            "example.test/app:1",
            [
                {"os": "windows", "architecture": "amd64", "os_version": "10.0.20348.999"},
                {"os": "windows", "architecture": "amd64", "os_version": "10.0.20348.1000"},
            ],
        )
        checked(pull(host, "example.test/app:1"))
        picked[containerd] = host.images["example.test/app:1"]["os_version"]
    assert picked == {"1.7.28": "10.0.20348.1000", "2.2.0": "10.0.20348.999"}


@pytest.mark.parametrize(("tag", "build"), [("3.9", "20348"), ("3.10.1", "20348"), ("3.10.2", "20348")])
def test_registry_k8s_io_pause_on_ws2022(tag, build):
    host = running(WS2022, "2.2.0")
    checked(pull(host, f"registry.k8s.io/pause:{tag}"))
    assert host.images[f"registry.k8s.io/pause:{tag}"]["os_version"].split(".")[2] == build


def test_pause_3_10_1_has_no_ws2025_variant_but_3_10_2_does():
    host = running(WS2025, "2.3.5")
    checked(pull(host, "registry.k8s.io/pause:3.10.1"))
    checked(pull(host, "registry.k8s.io/pause:3.10.2"))
    assert host.images["registry.k8s.io/pause:3.10.1"]["os_version"].startswith("10.0.20348.")
    assert host.images["registry.k8s.io/pause:3.10.2"]["os_version"].startswith("10.0.26100.")


def test_ctr_2x_prints_the_transfer_service_tree():
    host = running(WS2022, "2.2.0")
    out = checked(pull(host, MCR_PAUSE)).stdout.splitlines()
    assert out[0].startswith(MCR_PAUSE) and out[0].rstrip().endswith("saved")
    assert out[1].startswith("└──manifest (") and "complete" in out[1]
    assert out[-1].startswith(f"Completed pull from OCI Registry ({MCR_PAUSE})")


def test_resolve_errors():
    host = running(WS2022, "1.7.28")
    r = pull(host, "registry.example.test/nothing:1")
    assert (
        r.stderr == 'ctr: failed to resolve reference "registry.example.test/nothing:1": '
        "registry.example.test/nothing:1: not found\n"
    )
    r = pull(host, "nginx:1.21.6")
    assert (
        r.stderr == 'ctr: failed to resolve reference "nginx:1.21.6": '
        'parse "dummy://nginx:1.21.6": invalid port ":1.21.6" after host\n'
    )
    assert (
        pull(host, "registry.k8s.io/pause").stderr
        == 'ctr: failed to resolve reference "registry.k8s.io/pause": object required\n'
    )
    host.downloads.images.failures["registry.k8s.io/pause:3.9"] = (
        "pull access denied, repository does not exist or may require authorization"
    )
    assert "pull access denied" in pull(host, "registry.k8s.io/pause:3.9").stderr


def test_ctr_needs_containerd_running():
    host = running(WS2022, "1.7.28")
    host.stop_service("containerd")
    r = sh(host, CTR, "-n", "k8s.io", "images", "ls")
    assert r.rc == 1
    assert r.stderr.startswith(
        'ctr: failed to dial "\\\\\\\\.\\\\pipe\\\\containerd-containerd": context deadline exceeded'
    )


def test_ls_quiet_and_rm():
    host = running(WS2022, "1.7.28")
    checked(pull(host, MCR_PAUSE))
    checked(pull(host, "registry.k8s.io/pause:3.9", ns="default"))
    table = checked(sh(host, CTR, "-n", "k8s.io", "images", "ls")).stdout.splitlines()
    assert table[0].split() == ["REF", "TYPE", "DIGEST", "SIZE", "PLATFORMS", "LABELS"]
    assert table[0].endswith(" ")  # every row ends with a tab in ctr: trailing padding
    row = table[1].split()
    assert row[0] == MCR_PAUSE and row[1] == "application/vnd.docker.distribution.manifest.list.v2+json"
    assert row[3:6] == ["111.9", "MiB", "linux/amd64,windows/amd64"] and row[6] == "-"
    assert checked(sh(host, CTR, "-n", "k8s.io", "i", "ls", "-q")).stdout == MCR_PAUSE + "\n"
    assert checked(sh(host, CTR, "images", "ls", "-q")).stdout == "registry.k8s.io/pause:3.9\n"  # default namespace
    r = checked(sh(host, CTR, "-n", "k8s.io", "images", "rm", MCR_PAUSE, "nope:1"))
    assert r.stdout == MCR_PAUSE + "\n" and 'msg="nope:1: image not found"' in r.stderr
    assert MCR_PAUSE not in host.images


def test_unemulated_ctr_forms():
    host = running(WS2022, "1.7.28")
    assert "is not emulated" in sh(host, CTR, "containers", "ls").stderr
    assert (
        "is not emulated"
        in sh(host, CTR, "-n", "k8s.io", "images", "pull", "--platform", "linux/amd64", MCR_PAUSE).stderr
    )


# ------------------------------------------------------------------ crictl


@pytest.fixture
def cri_host():
    host = running(WS2022, "1.7.28")
    host.write_file(
        r"C:\tmp\crictl.tar.gz", host.downloads.get(f"{CRICTL_BASE}/v1.33.0/crictl-v1.33.0-windows-amd64.tar.gz")
    )
    host.mkdir(r"C:\k")
    checked(sh(host, "tar.exe", "-xf", r"C:\tmp\crictl.tar.gz", "-C", r"C:\k"))
    host.write_file(
        r"C:\Users\Administrator\.crictl\crictl.yaml", b"runtime-endpoint: npipe://./pipe/containerd-containerd\n"
    )
    return host


def crictl(host, *args):
    return sh(host, r"C:\k\crictl.exe", *args)


def test_crictl_version_pull_images_rmi(cri_host):
    assert checked(crictl(cri_host, "--version")).stdout == "crictl version v1.33.0\n"
    r = checked(crictl(cri_host, "pull", "registry.k8s.io/pause:3.9"))
    image_id = cri_host.images["registry.k8s.io/pause:3.9"]["config_digest"]
    assert r.stdout == f"Image is up to date for {image_id}\n"
    lines = checked(crictl(cri_host, "images")).stdout.splitlines()
    # tabwriter(minwidth 20, padding 3): the IMAGE column is the longest name + 3
    assert lines[0] == "IMAGE" + " " * 19 + "TAG" + " " * 17 + "IMAGE ID" + " " * 12 + "SIZE"
    assert lines[1].split() == ["registry.k8s.io/pause", "3.9", image_id[7:20], "104MB"]
    assert checked(crictl(cri_host, "images", "-q")).stdout == image_id + "\n"
    # CRI pulls are managed and show three refs to ctr (tag, repo@digest, image id)
    refs = checked(sh(cri_host, CTR, "-n", "k8s.io", "images", "ls", "-q")).stdout.splitlines()
    assert len(refs) == 3 and image_id in refs
    assert "io.cri-containerd.image=managed" in checked(sh(cri_host, CTR, "-n", "k8s.io", "images", "ls")).stdout
    # not the sandbox image of this containerd (1.7: pause:3.8), so not pinned
    assert "io.cri-containerd.pinned" not in checked(sh(cri_host, CTR, "-n", "k8s.io", "images", "ls")).stdout
    assert checked(crictl(cri_host, "rmi", image_id[7:20])).stdout == "Deleted: registry.k8s.io/pause:3.9\n"
    r = crictl(cri_host, "rmi", "registry.k8s.io/pause:3.9")
    assert r.rc == 1 and 'msg="no such image registry.k8s.io/pause:3.9"' in r.stderr


def test_the_sandbox_image_pulled_through_cri_is_pinned(cri_host):
    checked(crictl(cri_host, "pull", "registry.k8s.io/pause:3.8"))
    rows = checked(sh(cri_host, CTR, "-n", "k8s.io", "images", "ls")).stdout.splitlines()[1:]
    assert len(rows) == 3
    assert all(row.split()[-1] == "io.cri-containerd.image=managed,io.cri-containerd.pinned=pinned" for row in rows)


def test_crictl_normalizes_short_names_and_reports_platform_errors(cri_host):
    cri_host.downloads.images.add("docker.io/library/busybox:latest", [{"os": "linux", "architecture": "amd64"}])
    r = crictl(cri_host, "pull", "busybox")
    assert r.rc == 1
    assert (
        "pulling image: rpc error: code = NotFound desc = failed to pull and unpack image "
        '\\"docker.io/library/busybox:latest\\": '
        "no match for platform in manifest: not found" in r.stderr
    )


def test_crictl_default_endpoints_warning_and_connection_error(cri_host):
    cri_host.remove(r"C:\Users\Administrator\.crictl\crictl.yaml")
    r = checked(crictl(cri_host, "images"))
    assert "image connect using default endpoints: [npipe:////./pipe/containerd-containerd" in r.stderr
    cri_host.stop_service("containerd")
    r = crictl(cri_host, "-r", "npipe:////./pipe/containerd-containerd", "images")
    assert r.rc == 1 and "level=fatal" in r.stderr and "validate service connection" in r.stderr
    assert checked(crictl(cri_host, "--version")).rc == 0  # needs no runtime
