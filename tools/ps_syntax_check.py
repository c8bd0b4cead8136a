"""Parse PowerShell files with tree-sitter-powershell; any syntax error fails (exit 1).

No machine that builds this collection has pwsh, so ansible-test's pslint is skipped there; this
check is what stops a broken ``.ps1``/``.psm1`` from shipping. With no files it says so and passes.

Known grammar gap (tree-sitter-powershell 0.26): a comma list of *bare words* as a command
argument (``Select-Object Name, Length``) is reported as an error although PowerShell accepts it;
quote the words (``Select-Object -Property 'Name', 'Length'``), which is clearer anyway.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import tree_sitter
import tree_sitter_powershell


def error_nodes(node: tree_sitter.Node) -> Iterator[tree_sitter.Node]:
    """Yield the ERROR and MISSING nodes under ``node`` (only where the subtree has errors)."""
    if node.is_error or node.is_missing:
        yield node
        return
    if node.has_error:
        for child in node.children:
            yield from error_nodes(child)


def check(path: Path, parser: tree_sitter.Parser) -> list[str]:
    source = path.read_bytes()
    if source.startswith(b"\xef\xbb\xbf"):
        source = source[3:]
    tree = parser.parse(source)
    problems = []
    for node in error_nodes(tree.root_node):
        line, col = node.start_point
        kind = "missing " + node.type if node.is_missing else "syntax error"
        snippet = source[node.start_byte : node.end_byte][:60].decode("utf-8", "replace")
        problems.append(f"{path}:{line + 1}:{col + 1}: {kind} near {snippet!r}")
    return problems


def main(argv: list[str]) -> int:
    files = [Path(a) for a in argv]
    if not files:
        print("ps_syntax_check: no PowerShell files in the collection")
        return 0
    parser = tree_sitter.Parser(tree_sitter.Language(tree_sitter_powershell.language()))
    problems = [p for f in files for p in check(f, parser)]
    for p in problems:
        print(p, file=sys.stderr)
    print(f"ps_syntax_check: {len(files)} file(s), {len(problems)} syntax error(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
