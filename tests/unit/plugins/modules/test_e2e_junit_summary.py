# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""winkube.node.e2e_junit_summary as Ansible runs it: arguments in, one JSON result out."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from ansible.module_utils.testing import patch_module_args
from ansible_collections.winkube.node.plugins.modules import e2e_junit_summary

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "e2e"


def run(capsys: pytest.CaptureFixture[str], **args: Any) -> dict[str, Any]:
    with patch_module_args(args), pytest.raises(SystemExit):
        e2e_junit_summary.main()
    return json.loads(capsys.readouterr().out)


def test_a_directory_of_ginkgo_v1_node_reports(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    reports = tmp_path / "artifacts"
    shutil.copytree(FIXTURES / "v1-nodes", reports)
    (reports / "ginkgo").mkdir()  # a subdirectory (--report-complete-ginkgo) is not read
    (reports / "ginkgo" / "junit_99.xml").write_text("<not-read/>")
    summary_path = reports / "e2e-summary.md"
    result = run(capsys, path=str(reports), summary_path=str(summary_path))
    assert not result.get("failed")
    assert result["changed"] is True
    summary = result["summary"]
    assert (summary["total"], summary["passed"], summary["failed"], summary["skipped"]) == (7, 3, 2, 2)
    assert [report["path"] for report in summary["reports"]] == [
        str(reports / "junit_01.xml"),
        str(reports / "junit_02.xml"),
    ]
    assert summary_path.read_text() == result["markdown"]
    assert result["markdown"].startswith("# sig-windows E2E results\n\n**FAILED**: 2 of 5 tests that ran failed.")
    # The same reports again: the summary is already there.
    assert run(capsys, path=str(reports), summary_path=str(summary_path))["changed"] is False


def test_a_single_ginkgo_v2_file_in_check_mode_writes_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    summary_path = tmp_path / "summary.md"
    result = run(
        capsys,
        path=str(FIXTURES / "v2-failed" / "junit_01.xml"),
        summary_path=str(summary_path),
        title="Windows E2E",
        _ansible_check_mode=True,
    )
    assert result["changed"] is True and not summary_path.exists()
    assert result["summary"]["failures"][2]["type"] == "panicked"
    assert result["markdown"].splitlines()[0] == "# Windows E2E"


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("empty-dir", "holds no JUnit report (junit*.xml)"),
        ("empty-file", "is empty, not a JUnit report"),
        ("missing", "does not exist"),
    ],
)
def test_no_usable_report_fails(capsys: pytest.CaptureFixture[str], tmp_path: Path, setup: str, message: str) -> None:
    path = tmp_path / "artifacts"
    if setup == "empty-dir":
        path.mkdir()
    elif setup == "empty-file":
        path.mkdir()
        path = path / "junit_01.xml"
        path.write_text("")
    result = run(capsys, path=str(path))
    assert result["failed"] is True
    assert result["msg"].startswith("winkube.node.e2e_junit_summary: ") and message in result["msg"]
