"""``aisle serve`` (HTTP API + MCP over streamable HTTP) and ``aisle mcp`` (MCP over stdio)."""

from __future__ import annotations

import contextlib
import os
import sys

import typer

_ALLOW_HELP = ("Private host, IP or CIDR block the live re-check may reach (repeatable; added to env "
               "AISLE_ALLOW_HOSTS), e.g. 127.0.0.1 for the storefront simulator. Public addresses need none.")


def _allow(hosts: list[str]) -> None:
    """Add ``--allow-host`` entries to AISLE_ALLOW_HOSTS, read by every worker's engine (and checked now)."""
    from cli.main import State
    from indexer.crawl.netguard import parse_allow_list
    from indexer.settings import ENV_ALLOW_HOSTS, Settings

    if hosts:
        parse_allow_list(hosts)  # a garbled entry is a ConfigError before anything starts
        os.environ[ENV_ALLOW_HOSTS] = ",".join([*hosts, *Settings.from_env().allow_hosts])
        State._settings = Settings.from_env()


def _warn_credentials() -> None:
    """Say at start what a missing Etsy key means (every Etsy live re-check answers ``merchant_credentials_missing``),
    rather than letting an agent find out item by item."""
    from cli.main import State, err_console

    if not State.settings().etsy_api_key:
        err_console.print("[yellow]warning[/yellow] AISLE_ETSY_API_KEY is not set: live re-checks of Etsy items "
                          "will answer merchant_credentials_missing (Shopify items are unaffected)")


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on. Off loopback, AISLE_API_TOKEN "
                             "must be set and every request must send 'Authorization: Bearer <token>'."),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="TCP port."),
    workers: int = typer.Option(1, "--workers", min=1, max=64, help="Worker processes (each loads the snapshot)."),
    refresh_interval: float = typer.Option(1.0, "--refresh-interval", min=0.0, help="Seconds between checks "
                                           "for a new current snapshot (0: never switch)."),
    native_threads: int = typer.Option(1, "--native-threads", min=0, help="BLAS/OpenMP threads per process "
                                       "(1: best throughput with concurrent requests; 0: the libraries' default)."),
    log_level: str = typer.Option("info", "--log-level", help="uvicorn log level: critical, error, warning, info, "
                                  "debug."),
    access_log: bool = typer.Option(False, "--access-log/--no-access-log", help="Log every request (uvicorn's "
                                    "access log)."),
    allow_host: list[str] = typer.Option([], "--allow-host", help=_ALLOW_HELP),
    use_ray: bool = typer.Option(False, "--ray", help="Serve the index shards of `aisle index --shards N` as Ray "
                                 "actors, one per shard (needs aisle[ray]); answers say partial: true and "
                                 "missing_shards when a shard is down."),
    address: str | None = typer.Option(None, "--address", help="With --ray: the Ray cluster to join (default: a "
                                       "local one)."),
) -> None:
    """Serve the search API for agents: POST /v1/search, GET /v1/products/{doc_id}, POST /v1/checkout/check,
    GET /v1/health, GET /v1/stats, the UCP facade POST /ucp/catalog/search, and MCP at /mcp. OpenAPI at /docs
    and /redoc; a search playground for people at / (every asset local: it works offline).

    The server follows the workspace's current index snapshot: when `aisle index` switches to a new one,
    it is loaded in the background and used from then on, without a restart. With AISLE_API_TOKEN set,
    every request needs 'Authorization: Bearer <token>'.
    """
    from cli.main import State
    from search.serve.server import serve as run_server

    _allow(allow_host)
    _warn_credentials()
    workspace = State.workspace(read_only=True)
    engine = None
    if use_ray:
        from indexer.errors import ConfigError
        from search.serve.ray_shards import open_ray_engine

        if workers != 1:
            raise ConfigError("--ray serves from one process (the shards are the actors): leave --workers at 1")
        engine = open_ray_engine(workspace, address=address, settings=State.engine_settings())
    run_server(workspace, host=host, port=port, workers=workers, refresh_interval=refresh_interval,
               native_threads=native_threads, log_level=log_level, access_log=access_log, engine=engine)


def mcp(
    refresh_interval: float = typer.Option(1.0, "--refresh-interval", min=0.0, help="Seconds between checks for "
                                           "a new current snapshot (0: never switch)."),
    allow_host: list[str] = typer.Option([], "--allow-host", help=_ALLOW_HELP),
) -> None:
    """Serve the MCP tools (search_catalog, get_product, check_checkout) over stdio, for agent hosts
    that launch a local MCP server (e.g. {"command": "aisle", "args": ["mcp"]}).

    stdout carries only MCP messages; logs go to stderr.
    """
    from cli.main import State
    from indexer.build.snapshot import current_version
    from search.engine import Engine
    from search.retrieval.threads import limit_native_threads
    from search.serve.mcp import run_stdio
    from search.serve.warmup import warm
    from search.serve.watcher import SnapshotWatcher

    limit_native_threads(1)  # one agent host, but tool calls may overlap: see serve --native-threads
    _allow(allow_host)
    _warn_credentials()  # stderr: stdout carries only MCP messages
    workspace = State.workspace(read_only=True)
    # Anything printed while loading (progress, warnings) must not corrupt the JSON-RPC stream on stdout.
    with contextlib.redirect_stdout(sys.stderr):
        engine = Engine.open(workspace, settings=State.engine_settings())
        warm(engine)  # the model loads now, not in the agent's first tool call
    watcher = SnapshotWatcher(engine, refresh_interval, pointer=lambda: current_version(workspace))
    watcher.start()
    try:
        run_stdio(engine)
    finally:
        watcher.stop()


def register(app: typer.Typer) -> None:
    """Add ``aisle serve`` and ``aisle mcp`` to the CLI."""
    app.command("serve")(serve)
    app.command("mcp")(mcp)
