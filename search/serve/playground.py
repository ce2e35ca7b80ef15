"""The pages a person opens in a browser: the search playground at ``/`` and Swagger UI at ``/docs``.

All of them work offline: every asset ships in a package. The playground (``static/playground/``: one
HTML page, one stylesheet, two small vanilla scripts, no build step) is package data of ``search``.
Swagger UI 5 (it reads OpenAPI 3.1, which FastAPI writes; Apache-2.0) and ReDoc (MIT) come as single
files with the ``fastapi-offline`` package (MIT), served from ``/static/api-docs/``, so neither ``/docs``
nor ``/redoc`` names a CDN.

The playground calls the same public API an agent calls (``/v1/search``, ``/v1/checkout/check``,
``/openapi.json`` to see which request fields this server offers). It inserts every merchant string as
text (``textContent``), never as markup, and ``/`` answers with a Content-Security-Policy that allows
only this origin's scripts, styles and requests (no inline script, no third-party host), so even a
rendering mistake could not run merchant text. The page and its static files hold no catalog data and
are served without the bearer token (a browser cannot send one on navigation); every API call they
make still needs it when the server has one (the page asks for it, and keeps it for the tab only).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles

PLAYGROUND_DIR = Path(__file__).resolve().parent / "static" / "playground"
PLAYGROUND_URL = "/static/playground"
DOCS_ASSETS_URL = "/static/api-docs"
DOCS_URL = "/docs"
REDOC_URL = "/redoc"
OAUTH2_REDIRECT_URL = "/docs/oauth2-redirect"

#: Only this origin: scripts, styles, fetches; no frames, no plugins, no inline script (merchant text can
#: never run even if it reached the DOM as markup). Images only from here (merchant images are not
#: fetched: the page works offline and tells no merchant who looks).
PLAYGROUND_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
_PAGE_HEADERS = {
    "Content-Security-Policy": PLAYGROUND_CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


def docs_assets_dir() -> Path:
    """Where the ``fastapi-offline`` package keeps Swagger UI's and ReDoc's files (``swagger-ui-bundle.js``,
    ``swagger-ui.css``, ``redoc.standalone.js``, ``favicon.png``)."""
    import fastapi_offline

    return Path(fastapi_offline.__file__).resolve().parent / "static"


def add_pages(app: FastAPI) -> None:
    """Add ``/`` (the playground), ``/docs`` (Swagger UI) and ``/redoc`` (ReDoc), with their static files.

    ``app`` must be created with ``docs_url=None`` and ``redoc_url=None``: these replace FastAPI's CDN pages.
    """
    app.mount(PLAYGROUND_URL, StaticFiles(directory=PLAYGROUND_DIR), name="playground")
    app.mount(DOCS_ASSETS_URL, StaticFiles(directory=docs_assets_dir()), name="api-docs")

    @app.get("/", include_in_schema=False)
    def playground() -> FileResponse:
        """The search playground (static HTML; it talks to the API from the browser)."""
        return FileResponse(PLAYGROUND_DIR / "index.html", media_type="text/html", headers=_PAGE_HEADERS)

    @app.get(DOCS_URL, include_in_schema=False)
    def docs() -> HTMLResponse:
        """Swagger UI over ``/openapi.json``, every asset served from this server."""
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} - API docs",
            swagger_js_url=f"{DOCS_ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_ASSETS_URL}/favicon.png",
            oauth2_redirect_url=OAUTH2_REDIRECT_URL,
        )

    @app.get(REDOC_URL, include_in_schema=False)
    def redoc() -> HTMLResponse:
        """ReDoc over ``/openapi.json``, every asset served from this server (no web fonts)."""
        return get_redoc_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} - API reference",
            redoc_js_url=f"{DOCS_ASSETS_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{DOCS_ASSETS_URL}/favicon.png",
            with_google_fonts=False,
        )

    @app.get(OAUTH2_REDIRECT_URL, include_in_schema=False)
    def oauth2_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()


def is_public_asset(method: str, path: str) -> bool:
    """True for the requests served without the bearer token: GET/HEAD of the playground page and of
    its static files (shipped files, no catalog data). The API docs (``/docs``, ``/redoc``) keep needing it."""
    return method in ("GET", "HEAD") and (path == "/" or path.startswith(PLAYGROUND_URL + "/"))
