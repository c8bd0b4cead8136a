# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The AWX/AAP pattern: surveys are valid AWX survey specs whose variables reach a role, and every
wrapper and job template points at files that exist."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from ansible_collections.winkube.node.plugins.module_utils import survey

ROOT = Path(__file__).resolve().parents[2]
PATTERN = ROOT / "extensions" / "patterns" / "windows_nodes"
SURVEYS = sorted((PATTERN / "template_surveys").glob("*.yml"))
WRAPPERS = sorted((PATTERN / "playbooks").glob("run_*.yml"))
# awx docs/docsite/rst/userguide/job_templates.rst "Create a Survey"
SURVEY_TYPES = {"text", "textarea", "password", "integer", "float", "multiplechoice", "multiselect"}


def role_inputs() -> set[str]:
    """Every option any role documents in meta/argument_specs.yml."""
    names: set[str] = set()
    for spec in ROOT.glob("roles/*/meta/argument_specs.yml"):
        for entry in (yaml.safe_load(spec.read_text())["argument_specs"] or {}).values():
            names.update((entry.get("options") or {}).keys())
    return names


def playbook_text(name: str) -> str:
    return (ROOT / "playbooks" / f"{name}.yml").read_text()


def test_there_is_a_survey_for_every_wrapper() -> None:
    assert [w.stem.removeprefix("run_") for w in WRAPPERS] == [s.stem for s in SURVEYS]
    assert len(SURVEYS) >= 5


@pytest.mark.parametrize("path", SURVEYS, ids=lambda p: p.stem)
def test_surveys_are_awx_survey_specs(path: Path) -> None:
    doc = yaml.safe_load(path.read_text())
    assert set(doc) == {"name", "description", "spec"} and doc["spec"]
    variables = [q["variable"] for q in doc["spec"]]
    assert len(variables) == len(set(variables)), "a variable asked twice"
    for q in doc["spec"]:
        assert {"question_name", "question_description", "variable", "type", "required"} <= set(q), q
        assert q["type"] in SURVEY_TYPES, q
        if q["type"] in ("multiplechoice", "multiselect"):
            assert q["choices"] and all(isinstance(c, str) for c in q["choices"]), q
            if "default" in q:
                assert q["default"] in q["choices"], q
        if q["type"] == "integer":
            assert isinstance(q.get("min"), int) and isinstance(q.get("max"), int), q
    secrets = [q["variable"] for q in doc["spec"] if re.search(r"token|password|secret|join_command", q["variable"])]
    assert all(q["type"] == "password" for q in doc["spec"] if q["variable"] in secrets)


@pytest.mark.parametrize("path", SURVEYS, ids=lambda p: p.stem)
def test_every_survey_variable_reaches_a_role_or_its_wrapper(path: Path) -> None:
    wrapper = (PATTERN / "playbooks" / f"run_{path.stem}.yml").read_text()
    imported = re.search(r"import_playbook: winkube\.node\.(\w+)", wrapper)
    assert imported, f"{path.stem}: the wrapper imports no collection playbook"
    known = role_inputs()
    target = playbook_text(imported.group(1))
    for q in yaml.safe_load(path.read_text())["spec"]:
        var = q["variable"]
        if var.startswith("survey_"):
            assert var in wrapper, f"{var} is asked but the wrapper never converts it"
        else:
            assert var in known or var in target, (
                f"{var} is not an input of any role or of playbooks/{imported.group(1)}.yml"
            )


def test_job_templates_point_at_existing_wrappers_and_surveys() -> None:
    templates = yaml.safe_load((PATTERN / "setup.yml").read_text())["controller_templates"]
    assert len(templates) == len(WRAPPERS)
    for t in templates:
        assert (ROOT / t["playbook"]).is_file(), t["playbook"]
        survey_file = re.search(r"'(template_surveys/[\w.]+)'", t["survey_spec"]).group(1)
        assert (PATTERN / survey_file).is_file()
        assert Path(t["playbook"]).stem.removeprefix("run_") == Path(survey_file).stem


@pytest.mark.parametrize(
    ("text", "items"),
    [(None, []), ("", []), ("a, b\nc\n\n", ["a", "b", "c"]), (["x", " y "], ["x", "y"])],
)
def test_survey_items(text, items) -> None:
    assert survey.survey_items(text, "q") == items


def test_survey_labels_are_checked() -> None:
    assert survey.survey_mapping("team=payments, topology.kubernetes.io/zone=eu-1\nempty=", "q") == {
        "team": "payments",
        "topology.kubernetes.io/zone": "eu-1",
        "empty": "",
    }
    for bad, why in [
        ("novalue", "is not key=value"),
        ("-bad=x", "is not key=value"),
        ("k=bad value!", "is not a Kubernetes label value"),
        ("k=a,k=b", "is given twice"),
        ("k=" + "v" * 64, "is not a Kubernetes label value"),
    ]:
        with pytest.raises(ValueError, match=why):
            survey.survey_mapping(bad, "q")
    with pytest.raises(ValueError, match="must be text, got int"):
        survey.survey_items(3, "q")
