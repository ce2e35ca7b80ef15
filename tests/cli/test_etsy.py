"""`aisle etsy connect|status|disconnect` as a shop owner and an operator run them (subprocesses, the real
simulator, a real DuckDB), and the rule that tokens never leave their 0600 file."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from indexer.crawl.etsy_auth import TokenStore
from indexer.storefront import running_storefront
from tests.cli.test_crawl import aisle
from tests.indexer.storefront.conftest import SAMPLE

KEY = {"AISLE_ETSY_API_KEY": "testkey:testsecret"}


@pytest.fixture(scope="module")
def sf() -> Any:
    with running_storefront(SAMPLE) as server:
        yield server


def connect_via_cli(sf: Any, home: Path, shop_id: int) -> tuple[str, str]:
    """Run `aisle etsy connect` with its loopback listener; the 'browser' opens the printed URL and the
    simulator redirects it to the listener. Returns (stdout, stderr)."""
    env = {k: v for k, v in os.environ.items() if k not in ("AISLE_ALLOW_HOSTS",)} | KEY
    proc = subprocess.Popen([sys.executable, "-c", "from cli.main import run; run()", "--home", str(home), "etsy",
                             "connect", str(shop_id), "--etsy-api", sf.etsy_api, "--allow-host", "127.0.0.1",
                             "--wait", "60", "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env)
    assert proc.stderr is not None
    url, err = "", []
    deadline = time.monotonic() + 60
    while not url and time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        err.append(line)
        if line.startswith("http"):
            url = line.strip()
    assert url, "".join(err)
    page = httpx.get(url, follow_redirects=True, trust_env=False, timeout=30)  # the owner approves
    assert page.status_code == 200 and "authorisation received" in page.text
    out, rest = proc.communicate(timeout=60)
    assert proc.returncode == 0, "".join(err) + rest
    return out, "".join(err) + rest


def test_connect_status_crawl_stats_disconnect_and_no_token_leaks(sf: Any, tmp_path: Path) -> None:
    ids = sf.etsy_shop_ids
    connected, public = str(ids["wildthread-studio"]), str(ids["hollowoak-woodworks"])
    out, err = connect_via_cli(sf, tmp_path, int(connected))
    shown = json.loads(out)
    assert shown["shop_id"] == connected and not shown["revoked"] and "access_token" not in shown
    tokens = TokenStore(tmp_path).load(connected)
    assert tokens is not None
    path = TokenStore(tmp_path).path(connected)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600

    status = aisle(tmp_path, "etsy", "status", "--json")
    assert status.returncode == 0, status.stderr
    assert [s["shop_id"] for s in json.loads(status.stdout)["shops"]] == [connected]
    human = aisle(tmp_path, "etsy", "status")
    assert connected in human.stdout and "valid" in human.stdout

    crawl = aisle(tmp_path, "crawl", "--etsy", connected, "--etsy", public, "--etsy-api", sf.etsy_api,
                  "--allow-host", "127.0.0.1", "--delay", "0", "--json", env=KEY)
    assert crawl.returncode == 0, crawl.stderr
    stats = aisle(tmp_path, "stats", "--json")
    access = {m["id"]: m["etsy_access"] for m in json.loads(stats.stdout)["merchants"]}
    assert access == {connected: "connected", public: "public"}

    # The tokens are in their file and nowhere else: not in any output, not in the DuckDB file or anything else
    # in the workspace.
    outputs = [out, err, status.stdout, status.stderr, human.stdout, crawl.stdout, crawl.stderr, stats.stdout]
    secrets = (tokens.access_token, tokens.refresh_token, tokens.access_token.split(".", 1)[1])
    for text in outputs:
        assert not any(s in text for s in secrets)
    for f in tmp_path.rglob("*"):
        if f.is_file() and f.parent != path.parent:
            data = f.read_bytes()
            assert not any(s.encode() in data for s in secrets), f

    gone = aisle(tmp_path, "etsy", "disconnect", connected)
    assert gone.returncode == 0 and not path.exists()
    assert json.loads(aisle(tmp_path, "etsy", "status", "--json").stdout) == {"shops": []}
    again = aisle(tmp_path, "etsy", "disconnect", connected)
    assert again.returncode == 2 and "not connected" in again.stderr
    stats = aisle(tmp_path, "stats", "--json")
    assert {m["id"]: m["etsy_access"] for m in json.loads(stats.stdout)["merchants"]}[connected] == "public"


def test_connect_refuses_real_etsy_without_an_https_redirect(tmp_path: Path) -> None:
    res = aisle(tmp_path, "etsy", "connect", "12345678", env=KEY)
    assert res.returncode == 2 and "redirect" in res.stderr


def test_connect_with_a_pasted_url(sf: Any, tmp_path: Path) -> None:
    """The flow real Etsy needs: the owner pastes the URL they were redirected to."""
    shop_id = sf.etsy_shop_ids["hollowoak-woodworks"]
    env = {k: v for k, v in os.environ.items() if k not in ("AISLE_ALLOW_HOSTS",)} | KEY
    proc = subprocess.Popen([sys.executable, "-c", "from cli.main import run; run()", "--home", str(tmp_path),
                             "etsy", "connect", str(shop_id), "--etsy-api", sf.etsy_api, "--allow-host",
                             "127.0.0.1", "--redirect-uri", "https://shop.example/callback", "--paste"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    assert proc.stderr is not None and proc.stdin is not None
    url = ""
    while not url:
        line = proc.stderr.readline()
        assert line, "no URL printed"
        url = line.strip() if line.startswith("http") else ""
    r = httpx.get(url, follow_redirects=False, trust_env=False)
    assert r.status_code == 302 and r.headers["location"].startswith("https://shop.example/callback?")
    _, err = proc.communicate(r.headers["location"] + "\n", timeout=60)
    assert proc.returncode == 0, err
    assert TokenStore(tmp_path).load(str(shop_id)) is not None
