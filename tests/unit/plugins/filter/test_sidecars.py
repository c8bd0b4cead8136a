# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every filter of every filter plugin has its YAML documentation sidecar, and every sidecar a filter.

One test for all of them, so a filter module's own tests only say which filters it exports."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
import yaml

FILTER_DIR = Path(__file__).resolve().parents[4] / "plugins" / "filter"
MODULES = sorted(p.stem for p in FILTER_DIR.glob("*.py") if p.stem != "__init__")


def exported() -> dict[str, str]:
    """filter name → the plugin file that exports it."""
    names: dict[str, str] = {}
    for stem in MODULES:
        module = importlib.import_module(f"ansible_collections.winkube.node.plugins.filter.{stem}")
        for name in module.FilterModule().filters():
            assert name not in names, f"{name} is exported by both {names.get(name)} and {stem}"
            names[name] = stem
    return names


FILTERS = exported()


def test_every_sidecar_documents_an_exported_filter() -> None:
    sidecars = {p.stem for p in FILTER_DIR.glob("*.yml")}
    assert sidecars == set(FILTERS), {
        "sidecars without a filter": sorted(sidecars - set(FILTERS)),
        "filters without a sidecar": sorted(set(FILTERS) - sidecars),
    }


@pytest.mark.parametrize("name", sorted(FILTERS))
def test_sidecar_is_complete(name: str) -> None:
    doc = yaml.safe_load((FILTER_DIR / f"{name}.yml").read_text())
    documentation = doc["DOCUMENTATION"]
    assert documentation["name"] == name
    assert documentation["short_description"] and documentation["description"]
    positional = [p.strip() for p in str(documentation.get("positional", "_input")).split(",")]
    assert set(positional) <= set(documentation["options"]), positional
    assert "_input" in documentation["options"]
    assert doc["EXAMPLES"].strip() and f"winkube.node.{name}" in doc["EXAMPLES"]
    assert doc["RETURN"]["_value"]["description"]
