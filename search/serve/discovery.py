"""How ``aisle search`` finds a running ``aisle serve`` on the same workspace and asks it, warm.

``aisle serve`` writes ``<home>/serve.json`` (mode 0600, written atomically) when it starts and removes it when
it stops::

    {"url": "http://127.0.0.1:8000", "pid": 1234, "token": "<AISLE_API_TOKEN or null>",
     "instance": "<random>", "home": "<workspace>"}

The token is the server's bearer token (when it has one), so the command line can ask a guarded server
too; that is why the file is readable by its owner only. :func:`find_live` trusts the file only while it
is provably that server: the process ``pid`` exists, ``GET /v1/health`` on ``url`` answers within
``timeout`` seconds, and the snapshot it serves is the workspace's current one (right after ``aisle index``
switches, until the server follows, the command line answers locally: never an older snapshot). A stale
file (killed server) is ignored, never an error. :func:`remote_search` posts the same
:class:`~search.schema.SearchRequest` to ``/v1/search`` and parses the same
:class:`~search.schema.SearchResponse`; an error answer becomes the same :class:`~indexer.errors.AisleError`
(code and message) the local engine would raise.

Requests go to our own server on loopback only (``127.0.0.1`` / ``::1`` for a wildcard bind), never to a
merchant, so they use a plain ``httpx`` client with proxies from the environment ignored.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from indexer.errors import AisleError, NoSnapshotError, NotFoundError, QueryError
from indexer.fsutil import atomic_write_bytes
from indexer.workspace import Workspace
from search.schema import SearchRequest, SearchResponse

FILE_NAME = "serve.json"
_WILDCARD = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}


@dataclass(frozen=True)
class ServeInfo:
    """What a running ``aisle serve`` wrote about itself."""

    url: str
    pid: int
    token: str | None
    instance: str


def discovery_path(workspace: Workspace) -> Path:
    """``<home>/serve.json``."""
    return workspace.home / FILE_NAME


def serve_url(host: str, port: int) -> str:
    """The address a local client uses for a server bound to ``host:port``."""
    connect = _WILDCARD.get(host, host)
    return f"http://[{connect.strip('[]')}]:{port}" if ":" in connect else f"http://{connect}:{port}"


def announce(workspace: Workspace, host: str, port: int, token: str | None) -> ServeInfo:
    """Write the discovery file for this process (called by ``aisle serve`` before it listens)."""
    info = ServeInfo(serve_url(host, port), os.getpid(), token, secrets.token_hex(16))
    data = {"url": info.url, "pid": info.pid, "token": info.token, "instance": info.instance,
            "home": str(workspace.home)}
    path = discovery_path(workspace)
    old = os.umask(0o077)  # created 0600: it may hold the bearer token
    try:
        atomic_write_bytes(path, json.dumps(data).encode("utf-8"))
    finally:
        os.umask(old)
    os.chmod(path, 0o600)
    return info


def withdraw(workspace: Workspace, info: ServeInfo) -> None:
    """Remove the discovery file if it is still this server's (another serve may have replaced it)."""
    current = read(workspace)
    if current is not None and current.instance == info.instance:
        discovery_path(workspace).unlink(missing_ok=True)


def read(workspace: Workspace) -> ServeInfo | None:
    """The discovery file's contents, or None when absent or unreadable (never an error)."""
    try:
        raw = json.loads(discovery_path(workspace).read_text("utf-8"))
        return ServeInfo(str(raw["url"]), int(raw["pid"]), raw.get("token") or None, str(raw["instance"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return pid > 0


def _headers(info: ServeInfo) -> dict[str, str]:
    return {"Authorization": f"Bearer {info.token}"} if info.token else {}


def find_live(workspace: Workspace, timeout: float = 1.0) -> ServeInfo | None:
    """The running server of ``workspace`` that serves its current snapshot, or None (see the module doc)."""
    import httpx

    from indexer.build.snapshot import current_version

    info = read(workspace)
    if info is None or not _pid_alive(info.pid):
        return None
    try:
        r = httpx.get(f"{info.url}/v1/health", headers=_headers(info), timeout=timeout, trust_env=False)
        served = r.json()["snapshot"]["version"] if r.status_code == 200 else None
    except (httpx.HTTPError, ValueError, KeyError, TypeError):
        return None
    return info if served is not None and served == current_version(workspace) else None


def remote_search(info: ServeInfo, request: SearchRequest, timeout: float = 60.0) -> SearchResponse:
    """``request`` answered by the running server: the same response model as :meth:`Engine.search`."""
    import httpx

    try:
        r = httpx.post(f"{info.url}/v1/search", content=request.model_dump_json(exclude_none=True),
                       headers={"Content-Type": "application/json", **_headers(info)}, timeout=timeout,
                       trust_env=False)
    except httpx.HTTPError as exc:
        raise AisleError(f"the running aisle serve at {info.url} did not answer: {exc}", code="serve_unreachable") \
            from None
    if r.status_code == 200:
        return SearchResponse.model_validate_json(r.content)
    try:
        err = r.json()["error"]
        code, message = str(err["code"]), str(err["message"])
    except (ValueError, KeyError, TypeError):
        code, message = "serve_error", f"the running aisle serve answered HTTP {r.status_code}"
    kind = {400: QueryError, 404: NotFoundError, 503: NoSnapshotError}.get(r.status_code, AisleError)
    raise kind(message, code=code)
