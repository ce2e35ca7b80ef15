"""Test helpers that run Etsy's OAuth flow against a running simulator, for real (no shortcuts into its state).

* :func:`owner_headers` gives API-call headers with a shop owner's bearer token (for simulator tests).
* :func:`connect_shop` connects a shop in a workspace the way ``aisle etsy connect`` does (the library's
  PKCE flow, the redirect taken from the simulator's 302 as a pasted URL), so crawls read its variants.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

from indexer.crawl import etsy_auth
from indexer.crawl.netguard import HostGuard
from indexer.storefront.etsy_oauth import s256

API_KEY = "testkey:testsecret"
REDIRECT = "http://127.0.0.1:9/callback"  # never listened on: the tests take the 302's Location instead
VERIFIER = "v" * 43


def authorise(sf: Any, shop_id: int, *, scope: str = "listings_r shops_r", verifier: str = VERIFIER,
              client_id: str = "testkey") -> str:
    """Approve as ``shop_id``'s owner; the authorisation code from the redirect."""
    q = {"response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT, "scope": scope,
         "state": "s1", "code_challenge": s256(verifier), "code_challenge_method": "S256", "shop_id": shop_id}
    r = httpx.get(f"{sf.base_url}/etsy/oauth/connect?{urlencode(q)}", follow_redirects=False, trust_env=False)
    assert r.status_code == 302, r.text
    location = r.headers["location"]
    assert location.startswith(REDIRECT) and "state=s1" in location
    return str(httpx.URL(location).params["code"])


def token_pair(sf: Any, shop_id: int, **kwargs: Any) -> dict[str, Any]:
    """A fresh ``{access_token, refresh_token, expires_in, ...}`` for ``shop_id``'s owner."""
    code = authorise(sf, shop_id, **kwargs)
    r = httpx.post(f"{sf.base_url}/etsy/v3/public/oauth/token", trust_env=False, data={
        "grant_type": "authorization_code", "client_id": kwargs.get("client_id", "testkey"),
        "redirect_uri": REDIRECT, "code": code, "code_verifier": kwargs.get("verifier", VERIFIER)})
    assert r.status_code == 200, r.text
    return dict(r.json())


def owner_headers(sf: Any, shop_id: int, **kwargs: Any) -> dict[str, str]:
    """``x-api-key`` plus a bearer token of ``shop_id``'s owner."""
    return {"x-api-key": API_KEY, "authorization": f"Bearer {token_pair(sf, shop_id, **kwargs)['access_token']}"}


def connect_shop(sf: Any, home: Path, shop_id: int, *, api_key: str = API_KEY) -> etsy_auth.TokenSet:
    """Connect ``shop_id`` in the workspace ``home`` through the library's PKCE flow (as the CLI does)."""
    pending = etsy_auth.begin(sf.etsy_api, api_key, str(shop_id), REDIRECT)
    r = httpx.get(pending.url, follow_redirects=False, trust_env=False)
    assert r.status_code == 302, r.text
    code = etsy_auth.code_from_redirect(pending, r.headers["location"])
    tokens = asyncio.run(etsy_auth.exchange(pending, code, HostGuard(("127.0.0.1",))))
    etsy_auth.TokenStore(home).save(tokens)
    return tokens


def revoke(sf: Any, shop_id: int) -> int:
    """The shop owner removes the app (admin API)."""
    r = httpx.post(f"{sf.base_url}/_admin/etsy/revoke", json={"shop_id": shop_id}, trust_env=False)
    assert r.status_code == 200, r.text
    return int(r.json()["revoked"])
