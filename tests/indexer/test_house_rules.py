"""House rules of ``indexer/`` that a test can count: functions under 60 lines, modules under 400 lines."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "indexer"
MAX_FUNCTION_LINES = 60
MAX_MODULE_LINES = 400


def _modules() -> list[Path]:
    return sorted(ROOT.rglob("*.py"))


def test_no_function_over_60_lines() -> None:
    long = []
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(ROOT.parent)}:{node.lineno} {node.name} ({lines} lines)")
    assert not long, "split these functions:\n" + "\n".join(long)


def test_no_module_over_400_lines() -> None:
    big = [f"{p.relative_to(ROOT.parent)} ({n} lines)" for p in _modules()
           if (n := len(p.read_text("utf-8").splitlines())) > MAX_MODULE_LINES]
    assert not big, "split these modules:\n" + "\n".join(big)
