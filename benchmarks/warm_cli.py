"""The warm command line: wall time of `aisle search` queries as a user types them (figures for docs/benchmarks.md).

Four ways, on one workspace, in one run:

* ``cold``: two `aisle search Q --local` processes (each loads the snapshot and the model);
* ``interactive``: one `aisle search --interactive --local` process, the time to its first and second answer;
* ``serve``: two `aisle search Q` processes while `aisle serve` runs on the workspace (the server answers);
* ``serve+interactive``: `aisle search --interactive` against the running server.

Every query is a different text, so the query-vector cache never answers. Usage::

    python benchmarks/warm_cli.py --home DIR [--json F]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from indexer.workspace import Workspace  # noqa: E402
from search.serve.discovery import find_live  # noqa: E402

QUERIES = ["red wool beanie size M", "waterproof hiking boots under $150", "linen shirt in navy",
           "ceramic coffee mug", "a silver necklace for a gift", "kids rain jacket"]
CLI = [sys.executable, "-c", "from cli.main import run; run()"]


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("AISLE_HOME", "AISLE_API_TOKEN")}
    return {**env, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PYTHONPATH": str(REPO)}


def one_shot(home: Path, query: str, *extra: str) -> float:
    """Seconds of one `aisle search` process, start to exit."""
    t0 = time.perf_counter()
    done = subprocess.run([*CLI, "--home", str(home), "search", query, "--json", *extra], env=_env(),
                          capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    return time.perf_counter() - t0


def interactive(home: Path, queries: list[str], *extra: str) -> list[float]:
    """Seconds from the process start to each answer of `aisle search --interactive` (one line each)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([*CLI, "--home", str(home), "search", "--interactive", "--json", *extra], env=_env(),
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdin is not None and proc.stdout is not None
    times = []
    last = t0
    for q in queries:
        proc.stdin.write(q + "\n")
        proc.stdin.flush()
        line = proc.stdout.readline()
        json.loads(line)
        now = time.perf_counter()
        times.append(round(now - last, 3))
        last = now
    proc.stdin.close()
    proc.wait(timeout=60)
    return times


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run(home: Path) -> dict[str, Any]:
    out: dict[str, Any] = {"cold": [round(one_shot(home, q, "--local"), 3) for q in QUERIES[:2]],
                           "interactive": interactive(home, QUERIES[2:4], "--local")}
    t0 = time.perf_counter()
    server = subprocess.Popen([*CLI, "--home", str(home), "serve", "--port", str(_port()), "--log-level", "warning"],
                              env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while find_live(Workspace.resolve(home)) is None:
            if server.poll() is not None or time.perf_counter() - t0 > 300:
                raise RuntimeError("aisle serve did not start")
            time.sleep(0.2)
        out["serve_ready_s"] = round(time.perf_counter() - t0, 3)
        out["serve"] = [round(one_shot(home, q), 3) for q in QUERIES[4:6]]
        out["serve+interactive"] = interactive(home, QUERIES[:2])
    finally:
        server.terminate()
        server.wait(timeout=30)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--home", type=Path, required=True, help="a workspace with a snapshot (e.g. the shared catalog)")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    result = run(args.home)
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n", "utf-8")


if __name__ == "__main__":
    main()
