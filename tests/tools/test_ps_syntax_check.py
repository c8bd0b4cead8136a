"""The PowerShell syntax gate must fail on broken scripts and pass on valid ones."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TOOL = ROOT / "tools" / "ps_syntax_check.py"


def run(*files: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(TOOL), *map(str, files)], capture_output=True, text=True, check=False)


@pytest.mark.parametrize(
    "source",
    [
        "if ($x {\n  Write-Output 1\n",  # unclosed paren and brace
        "function f { param([string]$a\n}\n",  # unclosed param block
        "$h = @{ a = 1\n",  # unclosed hashtable
    ],
)
def test_syntax_error_fails_and_names_the_file(tmp_path: Path, source: str) -> None:
    bad = tmp_path / "bad.ps1"
    bad.write_text(source)
    proc = run(bad)
    assert proc.returncode == 1
    assert f"{bad}:" in proc.stderr
    assert "1 syntax error" in proc.stdout or "syntax error(s)" in proc.stdout


def test_valid_scripts_pass(tmp_path: Path) -> None:
    good = tmp_path / "good.ps1"
    good.write_text(
        "[CmdletBinding(SupportsShouldProcess)]\nparam ([string]$Path)\n"
        "$ErrorActionPreference = 'Stop'\n"
        "Get-Item -LiteralPath $Path | Select-Object -Property 'Name', 'Length'\n"
        "[PSCustomObject]@{ A = 1; B = @(1, 2) }\n"
    )
    bom = tmp_path / "bom.psm1"
    bom.write_bytes(b"\xef\xbb\xbfFunction Get-X { 'x' }\n")
    proc = run(good, bom)
    assert proc.returncode == 0, proc.stderr
    assert "2 file(s), 0 syntax error(s)" in proc.stdout


def test_every_shipped_script_parses() -> None:
    shipped = sorted(p for p in ROOT.glob("plugins/**/*.ps*1") if p.suffix in (".ps1", ".psm1"))
    shipped += sorted(ROOT.glob("roles/*/files/*.ps1")) + sorted(ROOT.glob("roles/*/templates/*.ps1*"))
    assert shipped, "the collection ships at least the windows_facts probe"
    proc = run(*shipped)
    assert proc.returncode == 0, proc.stderr
