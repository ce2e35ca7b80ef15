"""Read-only commands never create a missing ``--home``: they say it does not exist and exit non-zero
(issue 16). Commands that write (crawl, index, etsy connect, merchants link, demo) still create it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

READ_ONLY = [
    ("search", "red beanie"),
    ("stats",),
    ("merchants", "list"),
    ("etsy", "status"),
    ("etsy", "disconnect", "123"),
    ("serve", "--port", "18777"),
    ("mcp",),
    ("check", "11"),
    ("feed", "--output", "-"),
]


def aisle(home: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "AISLE_HOME"}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    return subprocess.run([sys.executable, "-c", "from cli.main import run; run()", "--home", str(home), *args],
                          capture_output=True, text=True, env=env, timeout=120, cwd=cwd, stdin=subprocess.DEVNULL)


@pytest.mark.parametrize("args", READ_ONLY, ids=lambda a: " ".join(a[:2]))
def test_read_only_command_refuses_a_missing_home(tmp_path: Path, args: tuple[str, ...]) -> None:
    home = tmp_path / "nowhere" / "home"
    res = aisle(home, *args)
    assert res.returncode == 2, (res.stdout, res.stderr)
    assert f"workspace {home} does not exist" in res.stderr
    assert not home.exists() and not home.parent.exists()


def test_eval_refuses_a_missing_home(tmp_path: Path) -> None:
    queries, qrels = tmp_path / "q.jsonl", tmp_path / "qrels.tsv"
    queries.write_text(json.dumps({"query_id": "q1", "query": "red beanie"}) + "\n")
    qrels.write_text("q1 0 d1 1\n")
    home = tmp_path / "missing"
    res = aisle(home, "eval", "--queries", str(queries), "--qrels", str(qrels))
    assert res.returncode == 2 and "does not exist" in res.stderr, res.stderr
    assert not home.exists()


def test_json_error_and_writers_still_create(tmp_path: Path) -> None:
    home = tmp_path / "missing"
    res = aisle(home, "stats", "--json")
    assert json.loads(res.stdout)["error"]["code"] == "workspace_missing"
    res = aisle(home, "etsy", "status", "--json")
    assert res.returncode == 2 and not home.exists()
    res = aisle(home, "merchants", "link", "12345", "https://shop.example")
    assert home.is_dir()  # a writer makes the workspace (whatever it then says about the merchant)
