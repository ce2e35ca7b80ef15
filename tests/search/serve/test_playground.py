"""The pages of ``aisle serve`` without a browser: the playground and the API docs ship every asset,
name no external host, keep merchant text out of markup, and pass the edge guard as the API does.
(The page itself is exercised in a real Chromium in test_playground_browser.py.)"""

from __future__ import annotations

import fnmatch
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from search.serve.http import create_app
from search.serve.playground import PLAYGROUND_CSP, PLAYGROUND_DIR, is_public_asset
from tests.search.apiworld import World, running_api, sample_world

REPO = Path(__file__).resolve().parents[3]
EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//|url\(\s*["']?(?:https?:)?//|@import""", re.I)
ASSET_REF = re.compile(r"""(?:src|href)=["'](/[^"']+)["']|url: ?["'](/[^"']+)["']|(/static/[\w./-]+\.(?:js|css|png))""")


@pytest.fixture(scope="module")
def world(sample_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with sample_world(sample_dir, tmp_path_factory.mktemp("pages"), hostile=False) as w:
        yield w


@pytest.fixture(scope="module")
def client(world: World) -> Iterator[httpx.Client]:
    with running_api(create_app(engine=world.engine, refresh_interval=0)) as base:
        with httpx.Client(base_url=base, timeout=30, trust_env=False) as c:
            yield c


def _local_refs(html: str) -> set[str]:
    return {next(g for g in m.groups() if g) for m in ASSET_REF.finditer(html)}


@pytest.mark.parametrize("page", ["/", "/docs", "/redoc"])
def test_pages_name_no_external_host_and_their_assets_answer(client: httpx.Client, page: str) -> None:
    resp = client.get(page)
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/html")
    assert not EXTERNAL.search(resp.text), EXTERNAL.search(resp.text)
    assert "cdn." not in resp.text and "fonts.googleapis" not in resp.text
    refs = _local_refs(resp.text) - {"/openapi.json"}
    assert refs, resp.text
    for ref in refs:
        asset = client.get(ref)
        assert asset.status_code == 200 and asset.content, ref


def test_playground_headers_and_static_files(client: httpx.Client) -> None:
    resp = client.get("/")
    assert resp.headers["content-security-policy"] == PLAYGROUND_CSP
    assert "'unsafe-inline'" not in PLAYGROUND_CSP and "script-src 'self'" in PLAYGROUND_CSP
    assert "<script>" not in resp.text  # no inline script: the CSP would refuse it
    for f in PLAYGROUND_DIR.iterdir():
        text = f.read_text("utf-8")
        assert not re.search(r"https?://", text), f  # every asset is local; no host named at all
        assert client.get(f"/static/playground/{f.name}").status_code == 200
    assert client.get("/static/playground/../http.py").status_code == 404
    spec = client.get("/openapi.json").json()
    assert not any(p == "/" or p.startswith("/static") for p in spec["paths"])  # pages are not API


def test_scripts_insert_merchant_text_as_text_only() -> None:
    """Merchant data is hostile: the page's scripts never parse a string as markup or code."""
    for f in PLAYGROUND_DIR.glob("*.js"):
        code = f.read_text("utf-8")
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function",
                     "setTimeout(\"", "srcdoc", "createContextualFragment", "DOMParser"):
            assert sink not in code, (f.name, sink)
        assert "textContent" in code or "createTextNode" in code


def test_token_guards_the_api_but_not_the_page(world: World) -> None:
    app = create_app(engine=world.engine, token="s3cret", refresh_interval=0)
    with running_api(app) as base, httpx.Client(base_url=base, trust_env=False) as c:
        assert c.get("/").status_code == 200
        assert c.get("/static/playground/playground.js").status_code == 200
        for path in ("/docs", "/redoc", "/openapi.json", "/v1/health", "/static/api-docs/swagger-ui.css"):
            assert c.get(path).status_code == 401, path
        assert c.post("/", json={}).status_code == 401
        ok = c.post("/v1/search", json={"query": "beanie"}, headers={"Authorization": "Bearer s3cret"})
        assert ok.status_code == 200
        # The Host check still holds for the page (DNS rebinding).
        assert c.get("/", headers={"Host": "evil.example"}).status_code == 421
    assert is_public_asset("GET", "/") and not is_public_asset("POST", "/")
    assert not is_public_asset("GET", "/static/playgroundx/a.js")


def test_package_data_ships_every_page_file() -> None:
    """A non-editable install carries the playground: pyproject's package-data globs cover each file."""
    data = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))
    globs = data["tool"]["setuptools"]["package-data"]["search"]
    root = REPO / "search"
    for f in PLAYGROUND_DIR.rglob("*"):
        if f.is_file():
            rel = f.relative_to(root).as_posix()
            assert any(fnmatch.fnmatch(rel, g) for g in globs), rel
    assert any(d.startswith("fastapi-offline") for d in data["project"]["dependencies"])
    assert any(d.startswith("selenium") for d in data["project"]["optional-dependencies"]["test"])
