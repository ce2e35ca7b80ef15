"""``aisle etsy connect|status|disconnect``: Etsy shops whose owner granted read access (OAuth 2.0 + PKCE).

A connected shop is crawled with its variants (the owner-only inventory); any other Etsy shop is crawled at
listing level. ``connect`` prints the authorisation URL for the shop owner, then takes the URL Etsy
redirected them to: caught by a one-shot listener when the redirect URI is on loopback (as with the
simulator), else pasted back (real Etsy only redirects to the app's registered ``https://`` URI). Tokens are
kept in ``<workspace>/etsy/tokens/`` (mode 0600) and are never printed, logged or put in ``--json``.
"""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import UTC, datetime

import typer
from rich.console import Console

from indexer.errors import ConfigError

console = Console(stderr=True)
etsy_app = typer.Typer(help="Etsy shops connected by their owner (OAuth): connect, status, disconnect.",
                       no_args_is_help=True)
REAL_API = "https://openapi.etsy.com/v3/application"


def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@etsy_app.command("connect")
def connect(
    shop_id: str = typer.Argument(..., help="The Etsy shop id to connect."),
    etsy_api: str = typer.Option(REAL_API, "--etsy-api", help="Etsy Open API v3 base URL."),
    redirect_uri: str | None = typer.Option(
        None, "--redirect-uri", help="The app's registered redirect URI (real Etsy: https). Default on a loopback "
        "API (the simulator): a loopback listener on a free port."),
    paste: bool = typer.Option(False, "--paste", help="Read the redirected URL from stdin even on loopback."),
    wait: float = typer.Option(300.0, "--wait", help="Seconds to wait for the redirect."),
    allow_host: list[str] = typer.Option([], "--allow-host", help="Allow a private/loopback host (repeatable)."),
    as_json: bool = typer.Option(False, "--json", help="Print the connection (never the tokens) as JSON."),
) -> None:
    """Connect an Etsy shop: the owner approves read access (listings_r shops_r) in the browser."""
    import httpx

    from cli.main import State
    from indexer.crawl import etsy_auth
    from indexer.crawl.netguard import HostGuard, is_loopback_host
    from indexer.crawl.targets import Target

    env = State.settings()
    if not env.etsy_api_key or ":" not in env.etsy_api_key:
        raise ConfigError("set AISLE_ETSY_API_KEY=keystring:shared_secret (the keystring is the OAuth client id)")
    sid = Target.etsy(shop_id).ref
    guard = HostGuard(tuple(allow_host) + env.allow_hosts)
    _, token_url = etsy_auth.oauth_urls(etsy_api)
    if redirect_uri is None and not is_loopback_host(httpx.URL(token_url).host):
        raise ConfigError("real Etsy redirects only to your app's registered https:// URI: give --redirect-uri")
    guard.check_sync(token_url)  # refuse a private token endpoint before the owner is asked anything
    listener = None
    if not paste and (redirect_uri is None or redirect_uri.startswith("http://")):
        listener = etsy_auth.RedirectListener(redirect_uri or "http://127.0.0.1:0/callback")
        redirect_uri = listener.uri
    assert redirect_uri is not None
    pending = etsy_auth.begin(etsy_api, env.etsy_api_key, sid, redirect_uri)
    console.print(f"Ask the owner of Etsy shop {sid} to open this URL and allow access:\n{pending.url}",
                  soft_wrap=True, markup=False, highlight=False)
    if listener is not None:
        console.print(f"waiting for the redirect to {listener.uri} ...", markup=False)
        redirected = listener.wait(wait)
    else:
        console.print("Paste the URL the browser was redirected to:", markup=False)
        redirected = sys.stdin.readline()
    code = etsy_auth.code_from_redirect(pending, redirected)
    tokens = asyncio.run(etsy_auth.exchange(pending, code, guard))
    etsy_auth.TokenStore(State.workspace().home).save(tokens)
    if as_json:
        print(json.dumps(tokens.public()))
    else:
        console.print(f"connected Etsy shop {sid}; access token valid until {_when(tokens.expires_at)} "
                      "(refreshed automatically while crawling)", markup=False)


@etsy_app.command("status")
def status(as_json: bool = typer.Option(False, "--json", help="Print as JSON (never the tokens).")) -> None:
    """Connected Etsy shops and when their access tokens expire."""
    from cli.main import State
    from indexer.crawl.etsy_auth import TokenStore

    shops = [t.public() for t in TokenStore(State.workspace(read_only=True).home).all()]
    if as_json:
        print(json.dumps({"shops": shops}))
        return
    if not shops:
        print("no connected Etsy shops (crawls read Etsy at listing level)")
    for s in shops:
        state = "REVOKED: connect again" if s["revoked"] else (
            "expired (refreshed at the next crawl)" if s["expired"] else "valid")
        print(f"{s['shop_id']}\t{s['api_base']}\taccess token until {_when(s['expires_at'])}\t{state}")


@etsy_app.command("disconnect")
def disconnect(shop_id: str = typer.Argument(..., help="The Etsy shop id to disconnect.")) -> None:
    """Delete the shop's tokens. Its stored variants stay (marked stale) until the next crawl reads it public."""
    from cli.main import State
    from indexer.crawl.etsy_auth import TokenStore
    from indexer.crawl.targets import Target

    sid = Target.etsy(shop_id).ref
    if not TokenStore(State.workspace(read_only=True).home).delete(sid):
        raise ConfigError(f"Etsy shop {sid} is not connected")
    print(f"disconnected Etsy shop {sid}")


def register(app: typer.Typer) -> None:
    """Add ``aisle etsy ...`` to the CLI."""
    app.add_typer(etsy_app, name="etsy")
