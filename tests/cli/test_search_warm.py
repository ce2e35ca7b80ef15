"""The warm command line: `aisle search` asks a running `aisle serve` of the workspace (real uvicorn on loopback)
and answers the same as in-process; a stale discovery file is ignored; `--interactive` answers line by line."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from indexer.workspace import Workspace
from search.serve.discovery import discovery_path, find_live, read
from tests.cli.test_search import aisle
from tests.cli.test_search import home as home  # noqa: F401  (the module's small snapshot, reused)
from tests.search.apiworld import stop_process


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _searches(base: str) -> int:
    stats = httpx.get(f"{base}/v1/stats", trust_env=False, timeout=10).json()
    return int(stats["endpoints"].get("/v1/search", {}).get("count", 0))


def _answer(stdout: str) -> list[tuple[str, str]]:
    doc = json.loads(stdout)
    return [(r["title"], r["variant"]["id"]) for r in doc["results"]]


@pytest.mark.timeout(180)
def test_search_reuses_a_running_serve(home: Path) -> None:  # noqa: F811
    ws = Workspace.resolve(home)
    port = _free_port()
    env = {**{k: v for k, v in os.environ.items() if k not in ("AISLE_HOME", "AISLE_API_TOKEN")}}
    server = subprocess.Popen([sys.executable, "-c", "from cli.main import run; run()", "--home", str(home), "serve",
                               "--port", str(port), "--log-level", "warning"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while find_live(ws) is None:
            assert server.poll() is None and time.monotonic() < deadline, "aisle serve did not start"
            time.sleep(0.3)
        info = read(ws)
        assert info is not None and info.url == base and info.pid == server.pid
        assert discovery_path(ws).stat().st_mode & 0o077 == 0  # owner only: it may hold the token
        before = _searches(base)
        warm = aisle(home, "search", "wool beanie", "-f", "color=red", "--json")
        assert warm.returncode == 0, warm.stderr
        assert _searches(base) == before + 1  # the server answered
        local = aisle(home, "search", "wool beanie", "-f", "color=red", "--json", "--local")
        assert _searches(base) == before + 1  # --local did not ask it
        assert _answer(warm.stdout) == _answer(local.stdout) == [("Red Wool Beanie", "11"), ("Red Wool Beanie", "12")
                                                                 ][:len(_answer(local.stdout))]
        # an error answer keeps its code and exit status through the server
        bad = aisle(home, "search", "beanie", "-f", "flavour=mint", "--json")
        assert bad.returncode == 2 and json.loads(bad.stdout)["error"]["code"] == "unknown_filter"
        # the REPL: several queries, one process, every answer from the server
        repl = subprocess.run([sys.executable, "-c", "from cli.main import run; run()", "--home", str(home),
                               "search", "--interactive", "--json"], input="red scarf\nblue beanie\n\n",
                              capture_output=True, text=True, timeout=120, env=env)
        assert repl.returncode == 0, repl.stderr
        lines = [json.loads(x) for x in repl.stdout.splitlines() if x.strip()]
        assert [doc["results"][0]["title"] for doc in lines] == ["Red Wool Scarf", "Blue Wool Beanie"]
        assert _searches(base) == before + 4
    finally:
        stop_process(server)
    assert not discovery_path(ws).exists()  # withdrawn on a clean stop


def test_a_stale_discovery_file_is_ignored(home: Path, tmp_path: Path) -> None:  # noqa: F811
    ws = Workspace.resolve(home)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    discovery_path(ws).write_text(json.dumps({"url": f"http://127.0.0.1:{_free_port()}", "pid": dead.pid,
                                              "token": None, "instance": "x"}))
    try:
        assert find_live(ws) is None
        res = aisle(home, "search", "wool scarf", "--json")
        assert res.returncode == 0, res.stderr
        assert _answer(res.stdout)[0][0] == "Red Wool Scarf"
        # alive but not a server of this workspace (nothing listens): also ignored
        discovery_path(ws).write_text(json.dumps({"url": f"http://127.0.0.1:{_free_port()}", "pid": os.getpid(),
                                                  "token": None, "instance": "y"}))
        assert find_live(ws) is None
    finally:
        discovery_path(ws).unlink(missing_ok=True)


def test_interactive_answers_locally_and_survives_a_bad_line(home: Path) -> None:  # noqa: F811
    repl = subprocess.run([sys.executable, "-c", "from cli.main import run; run()", "--home", str(home), "search",
                           "--interactive", "--local", "--json", "-f", "size=M"],
                          input="beanie\n" + "x" * 5000 + "\nscarf\nquit\nnever read\n",
                          capture_output=True, text=True, timeout=120)
    assert repl.returncode == 0, repl.stderr
    docs = [json.loads(x) for x in repl.stdout.splitlines() if x.strip()]
    assert len(docs) == 3
    assert {r["title"] for r in docs[0]["results"]} == {"Red Wool Beanie", "Blue Wool Beanie"}
    assert docs[1]["error"]["code"] in ("query_too_long", "invalid_request")  # as the one-shot command says
