"""Etsy's OAuth 2.0 (authorization code + PKCE, S256 only) as the simulator serves it on loopback.

* ``GET /etsy/oauth/connect?response_type=code&client_id=&redirect_uri=&scope=&state=&code_challenge=
  &code_challenge_method=S256`` stands for ``https://www.etsy.com/oauth/connect``. The real page asks the
  signed-in user to approve; the simulator has no users, so the grant is made by the owner of the shop named
  in the simulator-only parameter ``shop_id`` (without it: an HTML page listing one approve link per shop).
  Approval redirects (302) to ``redirect_uri?code=...&state=...``; a code lives 5 minutes and is single-use.
* ``POST /etsy/v3/public/oauth/token`` (form) with ``grant_type=authorization_code`` (``client_id,
  redirect_uri, code, code_verifier``) or ``grant_type=refresh_token`` (``client_id, refresh_token``)
  answers ``{access_token, token_type: "Bearer", expires_in, refresh_token}``. The access token starts with
  the owner's numeric user id (``12345678.xxxx``). A refresh token is single-use: using it again is refused
  (``invalid_grant``) and, as OAuth advises for a replayed refresh token, revokes the whole grant.
  Errors are OAuth's ``{"error": "invalid_grant", "error_description": "..."}`` with HTTP 400.
* Access tokens expire after ``token_ttl`` seconds (3600 like Etsy; tests set a few seconds); refresh
  tokens after 90 days. :meth:`OAuthServer.revoke` (the admin API's ``/_admin/etsy/revoke``) ends every
  grant of a shop, as a shop owner removing the app from their account does.
* :meth:`OAuthServer.authorise` is the owner-only check of an API call: 401 ``{"error": "invalid_token"}``
  without a usable bearer token (missing, unknown, expired or revoked), 403 when the token lacks
  ``listings_r`` or belongs to another shop's owner.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from urllib.parse import urlencode, urlsplit

from indexer.storefront.catalog import Catalog
from indexer.storefront.reply import HTML, Reply, html_page, json_reply

CODE_TTL = 300.0
REFRESH_TTL = 90 * 86400.0
KNOWN_SCOPES = frozenset({"listings_r", "listings_w", "shops_r", "shops_w", "transactions_r", "email_r",
                          "profile_r", "address_r"})
_VERIFIER = re.compile(r"^[A-Za-z0-9._~-]{43,128}$")


def user_id_of(shop_id: int) -> int:
    """The simulated owner's numeric user id (Etsy user ids and shop ids are different numbers)."""
    return 50_000_000 + shop_id


def s256(verifier: str) -> str:
    """PKCE ``code_challenge`` for a verifier (base64url of SHA-256, no padding)."""
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode()


@dataclass(frozen=True, slots=True)
class _Code:
    client_id: str
    redirect_uri: str
    challenge: str
    shop_id: int
    scopes: frozenset[str]
    expires: float


@dataclass(frozen=True, slots=True)
class Grant:
    """One shop owner's grant to one app (every token pair issued from one authorisation)."""

    grant_id: str
    client_id: str
    shop_id: int
    scopes: frozenset[str]
    expires: float  # of the token this record is stored under


def _oauth_error(code: str, description: str, status: int = 400) -> Reply:
    return json_reply(status, {"error": code, "error_description": description})


class OAuthServer:
    """Codes, tokens and grants of one simulator app (in memory; see the module docstring)."""

    def __init__(self, catalog: Catalog, *, token_ttl: float = 3600.0,
                 clock: Callable[[], float] = time.time) -> None:
        self.catalog, self.token_ttl, self.clock = catalog, token_ttl, clock
        self._codes: dict[str, _Code] = {}
        self._access: dict[str, Grant] = {}
        self._refresh: dict[str, Grant] = {}
        self._revoked: set[str] = set()
        self._used_refresh: dict[str, str] = {}  # spent refresh token -> its grant (a replay revokes it)

    def connect(self, params: Mapping[str, str]) -> Reply:
        """``GET /etsy/oauth/connect``: a 302 to the redirect URI with a code (see module docstring)."""
        missing = [k for k in ("client_id", "redirect_uri", "scope", "state", "code_challenge") if not params.get(k)]
        if params.get("response_type") != "code":
            return _oauth_error("unsupported_response_type", "response_type must be code")
        if missing:
            return _oauth_error("invalid_request", f"missing {', '.join(missing)}")
        if params.get("code_challenge_method") != "S256":
            return _oauth_error("invalid_request", "code_challenge_method must be S256")
        redirect = params["redirect_uri"]
        if urlsplit(redirect).scheme not in ("http", "https"):
            return _oauth_error("invalid_request", "redirect_uri must be an http(s) URL")
        scopes = frozenset(params["scope"].split())
        if not scopes <= KNOWN_SCOPES:
            return _oauth_error("invalid_scope", f"unknown scope {sorted(scopes - KNOWN_SCOPES)[0]}")
        sid = params.get("shop_id", "")
        shop = self.catalog.etsy_by_id.get(int(sid)) if sid.isdigit() else None
        if shop is None:
            return self._consent_page(params)
        code = secrets.token_urlsafe(32)
        self._codes[code] = _Code(params["client_id"], redirect, params["code_challenge"], shop.shop_id, scopes,
                                  self.clock() + CODE_TTL)
        sep = "&" if urlsplit(redirect).query else "?"
        location = redirect + sep + urlencode({"code": code, "state": params["state"]})
        return Reply(302, b"", HTML, headers={"location": location})

    def _consent_page(self, params: Mapping[str, str]) -> Reply:
        links = "".join(
            f'<li><a href="/etsy/oauth/connect?{html.escape(urlencode({**params, "shop_id": s.shop_id}))}">'
            f"Allow access as the owner of {html.escape(str(s.shop.get('shop_name') or s.shop_id))}</a></li>"
            for s in self.catalog.etsy.values())
        return Reply(200, html_page("Etsy: allow access?", f"<ul>{links}</ul>"), HTML)

    def token(self, form: Mapping[str, str]) -> Reply:
        """``POST /etsy/v3/public/oauth/token``: the authorization-code and refresh-token grants."""
        kind = form.get("grant_type")
        if kind == "authorization_code":
            return self._exchange(form)
        if kind == "refresh_token":
            return self._refresh_grant(form)
        return _oauth_error("unsupported_grant_type", "grant_type must be authorization_code or refresh_token")

    def _exchange(self, form: Mapping[str, str]) -> Reply:
        code = self._codes.pop(form.get("code", ""), None)  # single-use, even when the rest is wrong
        if code is None or code.expires < self.clock():
            return _oauth_error("invalid_grant", "code is unknown, used or expired")
        if form.get("client_id") != code.client_id or form.get("redirect_uri") != code.redirect_uri:
            return _oauth_error("invalid_grant", "client_id or redirect_uri does not match the authorisation")
        verifier = form.get("code_verifier", "")
        if not _VERIFIER.match(verifier) or not secrets.compare_digest(s256(verifier), code.challenge):
            return _oauth_error("invalid_grant", "code_verifier does not match the code_challenge")
        grant = Grant(secrets.token_hex(8), code.client_id, code.shop_id, code.scopes, 0.0)
        return self._issue(grant)

    def _refresh_grant(self, form: Mapping[str, str]) -> Reply:
        token = form.get("refresh_token", "")
        grant = self._refresh.pop(token, None)
        if grant is None:
            used = self._used_refresh.get(token)
            if used is not None:  # a replayed refresh token: end the grant (RFC 6819 5.2.2.3)
                self._revoked.add(used)
            return _oauth_error("invalid_grant", "refresh token is unknown, used, expired or revoked")
        self._used_refresh[token] = grant.grant_id
        if grant.grant_id in self._revoked or grant.expires < self.clock():
            return _oauth_error("invalid_grant", "refresh token is expired or revoked")
        if form.get("client_id") != grant.client_id:
            return _oauth_error("invalid_grant", "client_id does not match the grant")
        return self._issue(grant)

    def _issue(self, grant: Grant) -> Reply:
        now = self.clock()
        access = f"{user_id_of(grant.shop_id)}.{secrets.token_urlsafe(40)}"
        refresh = f"{user_id_of(grant.shop_id)}.{secrets.token_urlsafe(40)}"
        self._access[access] = replace(grant, expires=now + self.token_ttl)
        self._refresh[refresh] = replace(grant, expires=now + REFRESH_TTL)
        ttl = int(self.token_ttl) if float(self.token_ttl).is_integer() else self.token_ttl
        return json_reply(200, {"access_token": access, "token_type": "Bearer", "expires_in": ttl,
                                "refresh_token": refresh})

    def authorise(self, headers: Mapping[str, str], shop_id: int, scope: str = "listings_r") -> Reply | None:
        """None when the bearer token may read ``shop_id``'s owner-only data, else the 401/403 answer."""
        auth = headers.get("authorization") or ""
        token = auth[7:].strip() if auth[:7].lower() == "bearer " else ""
        grant = self._access.get(token)
        if grant is None or grant.grant_id in self._revoked or grant.expires < self.clock():
            return json_reply(401, {"error": "invalid_token"})
        if scope not in grant.scopes:
            return json_reply(403, {"error": f"The access token lacks the {scope} scope."})
        if grant.shop_id != shop_id:
            return json_reply(403, {"error": "Only the owner of the listing may retrieve its inventory record."})
        return None

    def revoke(self, shop_id: int) -> int:
        """End every grant of ``shop_id`` (its access and refresh tokens stop working); how many grants."""
        ids = {g.grant_id for g in (*self._access.values(), *self._refresh.values()) if g.shop_id == shop_id}
        self._revoked |= ids
        return len(ids)
