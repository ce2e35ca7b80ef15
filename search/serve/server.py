"""Running the HTTP API: uvicorn with one worker or several, and the refusals that come first.

:func:`serve` is what ``aisle serve`` calls. One worker runs the app of :func:`search.serve.http.create_app`
in this process; with several, each worker process builds its own app with :func:`app_from_env` (it
opens the snapshot and runs its own watcher) from the settings ``serve`` puts in the environment, on a
listening socket bound here once. Before anything starts: no bind off loopback without
``AISLE_API_TOKEN``, at least one worker, a non-negative refresh interval, and (for several workers) a
snapshot to serve. While it runs, ``<home>/serve.json`` tells ``aisle search`` where it is
(:mod:`search.serve.discovery`).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import threading
from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI

from indexer.crawl.netguard import is_loopback_host as is_loopback
from indexer.workspace import Workspace
from search.retrieval.threads import limit_native_threads
from search.serve.discovery import announce, withdraw
from search.serve.http import create_app


def app_from_env() -> FastAPI:
    """App factory for ``uvicorn --factory`` workers: settings from the environment ``serve`` sets."""
    limit_native_threads(int(os.environ.get("AISLE_NATIVE_THREADS", "1")))
    return create_app(
        Workspace.resolve(os.environ.get("AISLE_HOME")),
        token=os.environ.get("AISLE_API_TOKEN") or None,
        bind_host=os.environ.get("AISLE_BIND_HOST", "127.0.0.1"),
        refresh_interval=float(os.environ.get("AISLE_REFRESH_INTERVAL", "1.0")),
    )


def serve(
    workspace: Workspace,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = 1,
    refresh_interval: float = 1.0,
    native_threads: int = 1,
    log_level: str = "info",
    access_log: bool = False,
    engine: Any = None,
) -> None:
    """Run the API on uvicorn until interrupted; refuses a non-loopback bind without ``AISLE_API_TOKEN``.

    ``engine``: serve this engine (one worker; e.g. the sharded engine of ``aisle serve --ray``).

    With ``workers`` > 1 each worker process opens the snapshot and watches for new ones itself.
    ``native_threads`` caps each process's BLAS/OpenMP pools (see
    :func:`search.retrieval.threads.limit_native_threads`).
    """
    token = _serve_token(host, workers=workers, refresh_interval=refresh_interval)
    if workers == 1:
        import uvicorn

        limit_native_threads(native_threads)
        app = create_app(workspace, engine=engine, token=token, bind_host=host, refresh_interval=refresh_interval)
        with _announced(workspace, host, port, token):
            uvicorn.run(app, host=host, port=port, log_level=log_level, access_log=access_log)
        return
    with _announced(workspace, host, port, token):
        _serve_workers(workspace, host=host, port=port, workers=workers, refresh_interval=refresh_interval,
                       native_threads=native_threads, log_level=log_level, access_log=access_log)


@contextlib.contextmanager
def _announced(workspace: Workspace, host: str, port: int, token: str | None) -> Iterator[None]:
    """The discovery file (``<home>/serve.json``) for the warm ``aisle search`` while the server runs."""
    info = announce(workspace, host, port, token)
    # uvicorn re-raises a captured SIGTERM once shut down, with the handler found at start: a default one
    # would end the process before ``finally``; this one unwinds it (Ctrl-C already does, as KeyboardInterrupt).
    previous = signal.getsignal(signal.SIGTERM) if threading.current_thread() is threading.main_thread() else None
    if previous is not None:
        signal.signal(signal.SIGTERM, _exit_on_term)
    try:
        yield
    finally:
        withdraw(workspace, info)
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _exit_on_term(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def _serve_token(host: str, *, workers: int, refresh_interval: float) -> str | None:
    """The API token from the environment, after refusing settings that must not run (ConfigError)."""
    from indexer.errors import ConfigError

    token = os.environ.get("AISLE_API_TOKEN") or None
    if not is_loopback(host) and token is None:
        raise ConfigError(
            f"refusing to listen on {host}, which is reachable from other machines, without a token: "
            "set AISLE_API_TOKEN (clients then send 'Authorization: Bearer <token>') or bind 127.0.0.1"
        )
    if workers < 1:
        raise ConfigError("--workers must be at least 1")
    if refresh_interval < 0:
        raise ConfigError("--refresh-interval must not be negative")
    return token


def _serve_workers(
    workspace: Workspace,
    *,
    host: str,
    port: int,
    workers: int,
    refresh_interval: float,
    native_threads: int,
    log_level: str,
    access_log: bool,
) -> None:
    """Run ``workers`` uvicorn processes, each building its app with :func:`app_from_env`."""
    import uvicorn

    from indexer.build.snapshot import current_version
    from indexer.errors import NoSnapshotError

    if current_version(workspace) is None:  # fail here, once, rather than in every worker
        raise NoSnapshotError(f"no index snapshot in {workspace.home}: run `aisle crawl` and `aisle index` first")
    os.environ.update(
        AISLE_HOME=str(workspace.home),
        AISLE_BIND_HOST=host,
        AISLE_REFRESH_INTERVAL=str(refresh_interval),
        AISLE_NATIVE_THREADS=str(native_threads),
    )
    from uvicorn.supervisors import Multiprocess

    config = uvicorn.Config(
        "search.serve.server:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        access_log=access_log,
    )
    # uvicorn.run would bind with protocol 0, and asyncio sets TCP_NODELAY only on sockets whose protocol
    # is IPPROTO_TCP: every small response then waits ~40 ms (Nagle + delayed ACK). Bind it ourselves.
    sock = _tcp_listener(host, port)
    try:
        Multiprocess(config, sockets=[sock]).run()
    finally:
        sock.close()


def _tcp_listener(host: str, port: int) -> socket.socket:
    from indexer.errors import ConfigError

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as exc:
        sock.close()
        raise ConfigError(f"cannot listen on {host}:{port}: {exc}") from None
    sock.set_inheritable(True)
    return sock
