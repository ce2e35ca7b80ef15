"""Etsy shops connected by their owner: OAuth 2.0 (authorization code + PKCE, S256) and the token store.

* :func:`begin` makes the PKCE verifier, the ``state`` and the authorisation URL (scopes ``listings_r
  shops_r``); :func:`code_from_redirect` takes the URL Etsy redirected the owner to (pasted back, or caught
  by :func:`wait_for_redirect` on a loopback redirect URI) and checks its ``state``; :func:`exchange` trades
  the code for a token pair; :class:`EtsyAuth` hands the crawl a bearer token, refreshing it when it expires
  within :data:`REFRESH_MARGIN` seconds or after a 401. Etsy's refresh tokens are single-use: the new pair is
  saved before it is used.
* :class:`TokenStore` keeps one JSON file per shop under ``<workspace>/etsy/tokens/`` (directory 0700, files
  0600, written atomically). Tokens never go to DuckDB, logs, progress or ``--json`` output:
  :meth:`TokenSet.public` is the only view meant for printing.
* A refresh answered ``invalid_grant`` means the owner revoked the grant (or it expired): the token file is
  marked ``revoked`` and :class:`EtsyAuthRevoked` (code ``etsy_auth_revoked``) is raised; the crawl records it
  as that shop's error and leaves its stored catalog alone.
* The token endpoint is POSTed through the one guarded client (:mod:`indexer.crawl.guarded`: the address the
  crawl's :class:`~indexer.crawl.netguard.HostGuard` checked is the one connected to; no redirects followed),
  since :class:`~indexer.crawl.http.PoliteClient` only GETs.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import fcntl
import hashlib
import json
import os
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from indexer.crawl.guarded import AsyncGuardedClient, GuardedClient
from indexer.crawl.netguard import HostGuard, is_loopback_host
from indexer.errors import AisleError, ConfigError, EtsyAuthError, EtsyAuthRevoked
from indexer.fsutil import atomic_write_bytes

SCOPES = "listings_r shops_r"
REFRESH_MARGIN = 60.0
_REAL_API = "https://openapi.etsy.com/v3/application"


def oauth_urls(api_base: str) -> tuple[str, str]:
    """``(authorisation page, token endpoint)`` for an API base: Etsy's own for the real API, else the
    simulator's beside ``.../v3/application``."""
    api = api_base.rstrip("/")
    if api == _REAL_API:
        return "https://www.etsy.com/oauth/connect", "https://api.etsy.com/v3/public/oauth/token"
    if not api.endswith("/v3/application"):
        raise ConfigError(f"not an Etsy API base (…/v3/application): {api_base}")
    root = api[: -len("/v3/application")]
    return f"{root}/oauth/connect", f"{root}/v3/public/oauth/token"


@dataclass(frozen=True, slots=True)
class TokenSet:
    """One connected shop's grant (secret: see :meth:`public`)."""

    shop_id: str
    api_base: str
    client_id: str
    access_token: str
    refresh_token: str
    expires_at: float
    scope: str = SCOPES
    connected_at: float = 0.0
    revoked: bool = False
    issued_at: float = 0.0

    def expiring(self, now: float | None = None) -> bool:
        """Whether to refresh before use: under :data:`REFRESH_MARGIN` seconds left, or under half the
        token's lifetime when that is shorter (tests use one-second tokens)."""
        now = time.time() if now is None else now
        lifetime = self.expires_at - self.issued_at if self.issued_at else REFRESH_MARGIN * 2
        return self.expires_at - now < min(REFRESH_MARGIN, lifetime / 2)

    def public(self) -> dict[str, Any]:
        """What may be printed or logged: everything but the tokens."""
        return {"shop_id": self.shop_id, "api_base": self.api_base, "scope": self.scope,
                "expires_at": self.expires_at, "connected_at": self.connected_at, "revoked": self.revoked,
                "expired": self.expires_at <= time.time()}


class TokenStore:
    """Token files of one workspace: ``<home>/etsy/tokens/<shop_id>.json`` (0600 in a 0700 directory)."""

    def __init__(self, home: Path) -> None:
        self.dir = Path(home) / "etsy" / "tokens"

    def path(self, shop_id: str) -> Path:
        if not str(shop_id).isdigit():
            raise ConfigError(f"not an Etsy shop id: {shop_id!r}")
        return self.dir / f"{int(shop_id)}.json"

    def load(self, shop_id: str) -> TokenSet | None:
        """The shop's token set, or None when it is not connected (or the file is unreadable)."""
        p = self.path(shop_id)
        try:
            return TokenSet(**json.loads(p.read_text("utf-8")))
        except (OSError, ValueError, TypeError):
            return None

    def save(self, tokens: TokenSet) -> None:
        """Write atomically with mode 0600 (the directory 0700)."""
        self.dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.dir, 0o700)
        os.chmod(self.dir.parent, 0o700)
        data = json.dumps(dataclasses.asdict(tokens), sort_keys=True).encode()
        old = os.umask(0o077)  # the temporary file is created private too
        try:
            atomic_write_bytes(self.path(tokens.shop_id), data)
        finally:
            os.umask(old)
        os.chmod(self.path(tokens.shop_id), 0o600)

    @contextlib.contextmanager
    def locked(self, shop_id: str) -> Iterator[None]:
        """Hold the shop's refresh lock (a crawl and a live re-check in two processes must not both spend the
        single-use refresh token: the loser would read as revoked)."""
        self.dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.dir / f"{int(shop_id)}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def delete(self, shop_id: str) -> bool:
        """Forget the shop's tokens; False when it was not connected."""
        try:
            self.path(shop_id).unlink()
            return True
        except FileNotFoundError:
            return False

    def all(self) -> list[TokenSet]:
        """Every connected shop, by shop id."""
        files = sorted(self.dir.glob("*.json"), key=lambda p: int(p.stem) if p.stem.isdigit() else 0)
        return [t for t in (self.load(p.stem) for p in files if p.stem.isdigit()) if t is not None]


@dataclass(frozen=True, slots=True)
class Pending:
    """One authorisation in progress: the URL to open and what the exchange needs."""

    shop_id: str
    api_base: str
    client_id: str
    redirect_uri: str
    state: str
    verifier: str
    url: str


def _challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode()


def begin(api_base: str, api_key: str, shop_id: str, redirect_uri: str) -> Pending:
    """Start the PKCE flow: a fresh verifier (64 url-safe characters) and state, and the URL to open.

    The URL carries ``shop_id`` as well: Etsy ignores it; the simulator grants as that shop's owner.
    """
    client_id = api_key.split(":", 1)[0]
    verifier, state = secrets.token_urlsafe(48), secrets.token_urlsafe(16)
    connect, _ = oauth_urls(api_base)
    query = urlencode({"response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri,
                       "scope": SCOPES, "state": state, "code_challenge": _challenge(verifier),
                       "code_challenge_method": "S256", "shop_id": shop_id})
    return Pending(str(shop_id), api_base.rstrip("/"), client_id, redirect_uri, state, verifier, f"{connect}?{query}")


def code_from_redirect(pending: Pending, redirected_url: str) -> str:
    """The authorisation code of the URL Etsy redirected to; EtsyAuthError on a refusal or a state mismatch."""
    q = parse_qs(urlsplit(redirected_url.strip()).query)
    if "error" in q:
        raise EtsyAuthError(f"Etsy refused the authorisation: {q['error'][0]} {q.get('error_description', [''])[0]}")
    if q.get("state", [""])[0] != pending.state:
        raise EtsyAuthError("the redirected URL's state does not match this authorisation (paste the latest one)")
    code = q.get("code", [""])[0]
    if not code:
        raise EtsyAuthError("the redirected URL has no code")
    return code


async def _post_token(guard: HostGuard, api_base: str, form: dict[str, str]) -> dict[str, Any]:
    """POST the token endpoint (guard-checked, no redirects); the JSON answer or EtsyAuthRevoked/EtsyAuthError."""
    _, token_url = oauth_urls(api_base)
    await guard.check(token_url)
    try:
        # The one guarded client: the checked address is the one connected to (no rebinding in between).
        async with AsyncGuardedClient(guard, timeout=20.0, follow_redirects=False, trust_env=False) as http:
            resp = await http.post(token_url, data=form, headers={"accept": "application/json"})
    except httpx.HTTPError as exc:
        raise EtsyAuthError(f"token endpoint unreachable: {type(exc).__name__}") from None
    return _token_body(resp.status_code, resp.content)


def _token_body(status: int, content: bytes) -> dict[str, Any]:
    """The token endpoint's JSON answer; EtsyAuthRevoked for ``invalid_grant``, EtsyAuthError otherwise."""
    try:
        body = json.loads(content)
    except ValueError:
        body = {}
    if status == 400 and isinstance(body, dict) and body.get("error") == "invalid_grant":
        raise EtsyAuthRevoked("the shop owner's grant was revoked or has expired: run `aisle etsy connect` again")
    if status != 200 or not isinstance(body, dict) or not body.get("access_token"):
        err = body.get("error") if isinstance(body, dict) else None
        raise EtsyAuthError(f"token endpoint answered HTTP {status} ({err or 'no usable token'})")
    return body


def _token_set(body: dict[str, Any], shop_id: str, api_base: str, client_id: str, connected_at: float) -> TokenSet:
    expires_in = body.get("expires_in")
    ttl = float(expires_in) if isinstance(expires_in, int | float) and not isinstance(expires_in, bool) else 3600.0
    now = time.time()
    return TokenSet(shop_id, api_base, client_id, str(body["access_token"]), str(body.get("refresh_token") or ""),
                    now + ttl, str(body.get("scope") or SCOPES), connected_at or now, issued_at=now)


async def exchange(pending: Pending, code: str, guard: HostGuard) -> TokenSet:
    """Trade the code (with the PKCE verifier) for the shop's token pair."""
    body = await _post_token(guard, pending.api_base, {
        "grant_type": "authorization_code", "client_id": pending.client_id, "redirect_uri": pending.redirect_uri,
        "code": code, "code_verifier": pending.verifier})
    return _token_set(body, pending.shop_id, pending.api_base, pending.client_id, 0.0)


async def refresh(tokens: TokenSet, guard: HostGuard) -> TokenSet:
    """A new token pair from the (single-use) refresh token."""
    body = await _post_token(guard, tokens.api_base, {
        "grant_type": "refresh_token", "client_id": tokens.client_id, "refresh_token": tokens.refresh_token})
    return _token_set(body, tokens.shop_id, tokens.api_base, tokens.client_id, tokens.connected_at)


def bearer_sync(home: Path, shop_id: str, guard: HostGuard) -> str | None:
    """The shop's access token for a blocking caller (the live re-check), refreshed when it expires within
    :data:`REFRESH_MARGIN`; None when the shop is not connected, its grant is revoked or refreshing failed."""
    store = TokenStore(home)
    with store.locked(shop_id):
        t = store.load(shop_id)
        if t is None or t.revoked:
            return None
        if not t.expiring():
            return t.access_token
        _, token_url = oauth_urls(t.api_base)
        try:
            guard.check_sync(token_url)
            with GuardedClient(guard, timeout=20.0, follow_redirects=False, trust_env=False) as http:
                resp = http.post(token_url, data={"grant_type": "refresh_token", "client_id": t.client_id,
                                                  "refresh_token": t.refresh_token})
            body = _token_body(resp.status_code, resp.content)
        except EtsyAuthRevoked:
            store.save(dataclasses.replace(t, revoked=True))
            return None
        except (EtsyAuthError, httpx.HTTPError, AisleError):
            return None
        fresh = _token_set(body, t.shop_id, t.api_base, t.client_id, t.connected_at)
        store.save(fresh)
        return fresh.access_token


class EtsyAuth:
    """Bearer tokens for one crawl: refresh before expiry and after a 401, one refresh at a time per shop."""

    def __init__(self, store: TokenStore, guard: HostGuard) -> None:
        self.store, self.guard = store, guard
        self._locks: dict[str, asyncio.Lock] = {}

    def connected(self, shop_id: str) -> bool:
        """Whether the shop has a token set that is not known to be revoked."""
        t = self.store.load(shop_id)
        return t is not None and not t.revoked

    async def bearer(self, shop_id: str, *, stale: str | None = None) -> str:
        """A usable access token; ``stale`` is a token just answered 401 (refresh unless already replaced)."""
        lock = self._locks.setdefault(shop_id, asyncio.Lock())
        async with lock:
            t = self.store.load(shop_id)
            if t is None or t.revoked:
                raise EtsyAuthRevoked(f"Etsy shop {shop_id} is not connected (or its grant was revoked)")
            if stale is not None and t.access_token != stale:
                return t.access_token  # refreshed since that token was handed out
            if stale is None and not t.expiring():
                return t.access_token
            with self.store.locked(shop_id):
                latest = self.store.load(shop_id)
                if latest is not None and latest.access_token != t.access_token and not latest.revoked:
                    return latest.access_token  # another process refreshed it meanwhile
                try:
                    fresh = await refresh(t, self.guard)
                except EtsyAuthRevoked:
                    self.store.save(dataclasses.replace(t, revoked=True))
                    raise
                self.store.save(fresh)  # before use: the old refresh token is already spent
            return fresh.access_token


class RedirectListener:
    """A one-shot HTTP listener on a loopback redirect URI (the simulator allows one; real Etsy wants https).

    Bound when created (port 0 picks a free port: :attr:`uri` then names it), so the authorisation URL can
    be shown before anything waits. :meth:`wait` serves requests until one carries ``code`` or ``error``.
    """

    def __init__(self, redirect_uri: str) -> None:
        parts = urlsplit(redirect_uri)
        host = parts.hostname or ""
        if parts.scheme != "http" or not is_loopback_host(host):
            raise ConfigError(f"a listener needs an http loopback redirect URI, not {redirect_uri}")
        self.got: str | None = None
        listener = self

        class _Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the http.server hook name
                q = parse_qs(urlsplit(self.path).query)
                done = "code" in q or "error" in q
                if done:
                    listener.got = f"{scheme_host}{self.path}"
                body = b"aisle: authorisation received; you can close this page." if done else b"waiting"
                self.send_response(200 if done else 404)
                self.send_header("content-type", "text/plain; charset=utf-8")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:  # the request line carries the code: never log it
                return

        # port 0 asks the OS for a free port (no root needed); only a URI without a port means 80
        self.server = HTTPServer((host, 80 if parts.port is None else parts.port), _Handler)
        port = self.server.server_address[1]
        scheme_host = f"http://{host}:{port}"
        self.uri = f"{scheme_host}{parts.path or '/'}"

    def wait(self, timeout: float) -> str:
        """The redirected URL; EtsyAuthError when nothing came within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        try:
            while self.got is None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise EtsyAuthError(f"no redirect reached {self.uri} within {timeout:g} s")
                self.server.timeout = left
                self.server.handle_request()
            return self.got
        finally:
            self.server.server_close()


