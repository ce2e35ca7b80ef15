"""CLI errors read like the API's (one mapping, search/serve/errors.py) and print on one line when stderr is
not a terminal (issue 16)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from search.schema import SearchRequest
from search.serve.errors import error_for


def aisle(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("AISLE_HOME", "COLUMNS")}
    return subprocess.run([sys.executable, "-c", "from cli.main import run; run()", "--home", str(home), *args],
                          capture_output=True, text=True, env=env, timeout=120)


@pytest.mark.parametrize("limit", [0, 101])
def test_limit_message_is_the_apis(limit: int) -> None:
    with pytest.raises(ValidationError) as info:
        SearchRequest(query="hat", limit=limit)
    edge = error_for(info.value)
    assert edge.status == 400 and edge.message == "limit must be between 1 and 100"


@pytest.mark.parametrize("limit", ["0", "101"])
def test_cli_limit_error_has_no_pydantic_wording(tmp_path: Path, limit: str) -> None:
    res = aisle(tmp_path, "search", "hat", "--limit", limit)
    assert res.returncode == 2
    assert "limit must be between 1 and 100" in res.stderr
    assert "validation error" not in res.stderr and "Input should" not in res.stderr
    res = aisle(tmp_path, "search", "hat", "--limit", limit, "--json")
    err = json.loads(res.stdout)["error"]
    assert err["message"] == "limit must be between 1 and 100" and err["code"] in ("limit_too_large", "bad_limit")


def test_cli_errors_print_on_one_line_off_a_terminal(tmp_path: Path) -> None:
    res = aisle(tmp_path, "search", "hat", "-f", "a-long-filter-without-any-equals-sign-" + "x" * 60)
    assert res.returncode == 2
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and len(lines[0]) > 80, res.stderr


@pytest.mark.parametrize("args", [("--limit", "abc"), ("--bogus",)])
def test_usage_errors_are_messages_not_tracebacks(tmp_path: Path, args: tuple[str, ...]) -> None:
    res = aisle(tmp_path, "search", "hat", *args)
    assert res.returncode == 2 and "Traceback" not in res.stderr, res.stderr
    assert "Error" in res.stderr


def test_eval_query_files_are_worded_like_the_api(tmp_path: Path) -> None:
    from indexer.errors import ConfigError
    from search.eval.io import load_queries

    path = tmp_path / "q.jsonl"
    path.write_text(json.dumps({"query_id": "q1", "query": "hat", "filters": {"flavour": ["mint"]}}) + "\n")
    with pytest.raises(ConfigError) as info:
        load_queries(path)
    assert info.value.code == "unknown_filter" and "unknown filter 'flavour'" in info.value.message
    assert "Extra inputs" not in info.value.message
