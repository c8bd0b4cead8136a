# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every manifest windows_cni renders validates against the Kubernetes JSON schemas of the cluster's minor.

kubernetes-validate ships one strict schema set per minor (``kubernetes-json-schema/vX.Y.0-local-strict``,
strict = unknown fields are errors). The schema minor used is the cluster's own when the package has it,
else the nearest one it has; which minors that is gets printed by the version test below.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest
from ansible_collections.winkube.node.plugins.module_utils import windows_cni as w

kubernetes_validate = pytest.importorskip("kubernetes_validate", reason="kubernetes-validate is not installed")

SCHEMA_ROOT = Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema"


def schema_minors() -> List[Tuple[int, int]]:
    found = []
    for entry in SCHEMA_ROOT.iterdir():
        match = re.fullmatch(r"v(\d+)\.(\d+)\.0-local-strict", entry.name)
        if match:
            found.append((int(match.group(1)), int(match.group(2))))
    return sorted(found)


def nearest_schema(kubernetes: str) -> str:
    major, minor = (int(p) for p in kubernetes.split(".")[:2])
    best = min(schema_minors(), key=lambda m: (abs((m[0] - major) * 1000 + m[1] - minor), -m[1]))
    return f"{best[0]}.{best[1]}"


# Every minor the Calico table accepts, each with the default options and the variants that change the
# objects' shape (own namespace, windows-bgp with a pool, kube-proxy only, cri-dockerd directories).
VARIANTS: List[Dict[str, Any]] = [
    {},
    {"pod_cidr": "192.168.0.0/16", "service_cidr": "10.100.0.0/16"},
    {"namespace": "calico-windows", "backend": "windows-bgp", "pod_cidr": "172.16.0.0/16"},
    {"include_cni": False},
    {"cni_bin_dir": "C:\\k\\cni\\bin", "cni_conf_dir": "C:\\k\\cni\\config"},
]
VERSIONS = [f"1.{minor}.3" for minor in range(32, 38)]


def test_schemas_cover_the_accepted_minors() -> None:
    minors = schema_minors()
    assert minors, f"no strict schemas under {SCHEMA_ROOT}"
    # Every minor the rendering accepts has its own schema set in the installed kubernetes-validate.
    for version in VERSIONS:
        assert nearest_schema(version) == version.rsplit(".", 1)[0], (version, minors)
    print(f"strict schemas for {minors[0][0]}.{minors[0][1]} to {minors[-1][0]}.{minors[-1][1]}")


def test_nearest_schema_for_minors_outside_the_package() -> None:
    oldest, newest = schema_minors()[0], schema_minors()[-1]
    assert nearest_schema("1.0.0") == f"{oldest[0]}.{oldest[1]}"
    assert nearest_schema("1.99.0") == f"{newest[0]}.{newest[1]}"


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("variant", range(len(VARIANTS)))
def test_every_manifest_validates_strictly(version: str, variant: int) -> None:
    result = w.render(version, api_server="10.20.30.10:6443", **VARIANTS[variant])
    schema = nearest_schema(version)
    assert result["manifests"]
    for manifest in result["manifests"]:
        assert kubernetes_validate.validate(manifest, schema, strict=True) == schema


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        # A misspelt field is exactly what strict mode exists to catch.
        (lambda ds: ds["spec"]["template"]["spec"].__setitem__("hostNetworking", True), "hostNetworking"),
        (lambda ds: ds["spec"]["template"]["spec"]["containers"][0].__setitem__("args", "start.ps1"), "args"),
        (lambda ds: ds["spec"].pop("selector"), "selector"),
    ],
)
def test_the_validation_catches_a_broken_manifest(mutate: Any, message: str) -> None:
    result = w.render("1.36.4", api_server="10.20.30.10:6443")
    daemonset = next(m for m in result["manifests"] if m["metadata"]["name"] == "kube-proxy-windows")
    mutate(daemonset)
    with pytest.raises(kubernetes_validate.ValidationError, match=message):
        kubernetes_validate.validate(daemonset, "1.36", strict=True)
