"""``aisle storefront``: starts a real server, prints its URLs, refuses unsafe or bad settings."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "data" / "sample"


def _aisle() -> list[str]:
    exe = shutil.which("aisle")
    return [exe] if exe else [sys.executable, "-c", "from cli.main import run; run()"]


def test_serves_and_prints_urls_as_json() -> None:
    proc = subprocess.Popen([*_aisle(), "storefront", "--catalog", str(SAMPLE), "--port", "0", "--json",
                             "--faults", "429=0.01", "--seed", "5", "--page-cap", "100"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        info = json.loads(proc.stdout.readline())
        assert info["faults"] == "429=0.01" and info["seed"] == 5 and info["page_cap"] == 100
        assert set(info["shopify"]) >= {"northfield-knits", "thames-pottery"}
        url = info["shopify"]["northfield-knits"]
        with httpx.Client(trust_env=False, timeout=10) as client:
            # The socket listens before the banner is printed, so this waits in the backlog if need be.
            r = client.get(f"{url}/meta.json", params={"x": 1})
            assert r.status_code in (200, 429)
            refused = client.get(f"{url}/products.json", params={"limit": 250, "page": 1})
            assert refused.status_code in (400, 429)
            assert "etsy_shop_ids" in info and info["etsy_api"].endswith("/etsy/v3/application")
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize("args", [
    ["--host", "0.0.0.0"],
    ["--faults", "429=2"],
    ["--faults", "teapot=0.1"],
    ["--page-cap", "0"],
])
def test_refuses_bad_settings(args: list[str]) -> None:
    r = subprocess.run([*_aisle(), "storefront", "--catalog", str(SAMPLE), "--port", "0", *args],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2, r.stderr


def test_missing_catalog_is_a_config_error(tmp_path: Path) -> None:
    r = subprocess.run([*_aisle(), "storefront", "--catalog", str(tmp_path / "nope"), "--json"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2
    assert json.loads(r.stdout)["error"]["code"] == "config_error"


def test_help() -> None:
    r = subprocess.run([*_aisle(), "storefront", "--help"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "--allow-public" in r.stdout
