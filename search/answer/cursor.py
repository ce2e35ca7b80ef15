"""The opaque pagination cursor.

Cursor: ``base64url(JSON {"o": offset, "h": request hash, "v": snapshot version}) "." base64url(MAC)``,
where MAC is HMAC-SHA256 (first 16 bytes) of the payload under the workspace's cursor key
(:func:`cursor_key`: 32 random bytes in ``<home>/cursor.key``, file mode 0600, made on first use and
shared by every worker of the workspace; an engine without a workspace uses a per-process key). A
cursor whose MAC does not verify (a forged or edited offset) is refused with
:class:`~indexer.errors.QueryError` code ``bad_cursor``, and so is one from another request (the hash
covers the whole request except ``cursor``, ``limit``, ``facets``, ``explain`` and ``highlight``: a caller may
change the page size or ask for explanations between pages) or from another snapshot version (the ranking it
pointed into is gone: start again without a cursor).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
from pathlib import Path
from typing import Any

from indexer.errors import QueryError
from search.schema import SearchRequest


def request_hash(request: SearchRequest) -> str:
    """Stable hash of everything in ``request`` that shapes the ranking (not ``cursor``, ``limit``, nor what only
    decorates a page: ``facets``, ``explain``, ``highlight``)."""
    body = request.model_dump(mode="json", exclude={"cursor", "limit", "facets", "explain", "highlight"})
    raw = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:16]


CURSOR_KEY_FILE = "cursor.key"
_MAC_BYTES = 16


def cursor_key(home: Path | None) -> bytes:
    """The workspace's cursor-signing key (made with mode 0600 on first use); a fresh random key without one.

    The key is written to a temporary file and linked into place, so concurrent workers never read a
    half-written key: the first link wins and the others read it.
    """
    if home is None:
        return os.urandom(32)
    path = Path(home) / CURSOR_KEY_FILE
    if not path.exists():
        tmp = path.with_name(f".{CURSOR_KEY_FILE}.{os.getpid()}.{os.urandom(4).hex()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, os.urandom(32))
        finally:
            os.close(fd)
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    key = path.read_bytes()
    if len(key) < 16:
        raise ValueError(f"{path} holds no usable cursor key; delete it to make a new one")
    return key


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: bytes, payload: bytes) -> bytes:
    return hmac.new(key, payload, hashlib.sha256).digest()[:_MAC_BYTES]


def encode_cursor(offset: int, request: SearchRequest, version: str, key: bytes) -> str:
    """The signed cursor for ``offset`` into the ranking of ``request`` on snapshot ``version``."""
    payload = json.dumps({"o": offset, "h": request_hash(request), "v": version}, separators=(",", ":")).encode()
    return f"{_b64(payload)}.{_b64(_mac(key, payload))}"


def decode_cursor(cursor: str | None, request: SearchRequest, version: str, key: bytes) -> int:
    """Offset encoded in ``cursor`` (0 without one); QueryError ``bad_cursor`` when it does not fit."""
    if not cursor:
        return 0
    forged = QueryError("the cursor is not one this engine issued", code="bad_cursor")
    body, _, mac = cursor.partition(".")
    try:
        raw = _unb64(body)
        signed = hmac.compare_digest(_unb64(mac), _mac(key, raw))
    except (binascii.Error, ValueError):
        raise forged from None
    if not signed:
        raise forged
    try:
        data: Any = json.loads(raw.decode("utf-8"))
        offset = data["o"]
        ok = isinstance(offset, int) and not isinstance(offset, bool) and offset >= 0
    except (ValueError, UnicodeDecodeError, KeyError, TypeError):
        raise forged from None
    if not ok or not isinstance(data, dict):
        raise forged
    if data.get("h") != request_hash(request):
        raise QueryError("the cursor belongs to a different request; repeat the request without a cursor",
                         code="bad_cursor")
    if data.get("v") != version:
        raise QueryError("the index changed since this cursor was issued; repeat the request without a cursor",
                         code="bad_cursor")
    return int(offset)
