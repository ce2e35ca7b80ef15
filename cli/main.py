"""The ``aisle`` command line: a thin typer layer over the library.

Each stage registers its commands from ``cli/commands/<stage>.py`` (a ``register(app)`` function).
Errors from the :mod:`indexer.errors` tree are mapped to exit codes here and only here.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.markup import escape

from indexer.errors import AisleError
from indexer.settings import Settings
from indexer.workspace import Workspace

if TYPE_CHECKING:
    from search.engine import EngineSettings

app = typer.Typer(
    name="aisle",
    help="Open catalog search for agentic checkout: crawl, index, search, serve, evaluate.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
# soft_wrap: an error or warning is one line however narrow the terminal, so a log or a pipe (where rich would
# otherwise wrap at 80 columns) keeps each message on one grep-able line.
err_console = Console(stderr=True, soft_wrap=True)


class State:
    """Global options shared by every command (set by the callback below)."""

    home: Path | None = None
    _settings: Settings | None = None

    @classmethod
    def settings(cls) -> Settings:
        """The environment's settings, read once per process (the root callback reads them first)."""
        if cls._settings is None:
            cls._settings = Settings.from_env()
        return cls._settings

    @classmethod
    def engine_settings(cls) -> EngineSettings:
        """Engine settings with what the environment provides (the Etsy key and allow-list for live re-checks)."""
        from search.engine import EngineSettings

        return EngineSettings(etsy_api_key=cls.settings().etsy_api_key, allow_hosts=cls.settings().allow_hosts,
                              etsy_tokens=str(cls.workspace(read_only=True).home),
                              query_backend=cls.settings().query_backend)

    @classmethod
    def workspace(cls, *, read_only: bool = False) -> Workspace:
        """The workspace: ``--home``, else ``AISLE_HOME``, else ``./.aisle``. A command that only reads
        passes ``read_only=True``: a missing directory is then an error, never created."""
        return Workspace.resolve(cls.home or cls.settings().home, create=not read_only)


@app.callback()
def _main(
    home: Path | None = typer.Option(
        None, "--home", help="Workspace directory for runtime state (default: env AISLE_HOME, else ./.aisle).",
        show_default=False,
    ),
    query_backend: str | None = typer.Option(
        None, "--query-backend", help="Query encoder of search, eval, serve and mcp: auto (default: ONNX Runtime "
        "fp32 when usable, else torch; same vectors, ~4 ms a query against ~15 ms), onnx or torch. An onnx-int8 "
        "snapshot is always queried with int8. Default: env AISLE_QUERY_BACKEND, else auto.", show_default=False,
    ),
) -> None:
    State._settings = Settings.from_env()
    State.home = home
    if query_backend is not None:
        import os
        from dataclasses import replace

        from indexer.settings import ENV_QUERY_BACKEND
        from search.retrieval.encoding import check_query_backend

        check_query_backend(query_backend)  # a ConfigError before anything runs
        os.environ[ENV_QUERY_BACKEND] = query_backend  # HTTP worker processes read it (search.serve.server)
        State._settings = replace(State._settings, query_backend=query_backend)


def _register_commands() -> None:
    import importlib
    import pkgutil

    from cli import commands

    for mod in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"cli.commands.{mod.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(app)


def run() -> None:
    """Console-script entry point: run the app, mapping AisleError to its exit code."""
    _register_commands()
    try:
        # Without standalone mode click returns (not raises) the code of ``typer.Exit(code)``: honour it.
        rc = app(standalone_mode=False)
        if isinstance(rc, int) and rc != 0:
            raise SystemExit(rc)
    except AisleError as exc:
        if "--json" in sys.argv:
            print(json.dumps({"error": exc.to_dict()}))
        # escape(): the code and message are data, never rich markup ("[bad_cursor]" would vanish).
        err_console.print(f"[red]error[/red] {escape(f'[{exc.code}]')} {escape(exc.message)}")
        raise SystemExit(exc.exit_code) from None
    except (typer.Abort, KeyboardInterrupt):
        err_console.print("aborted")
        raise SystemExit(130) from None
    except Exception as exc:  # click usage errors etc.
        import click

        if isinstance(exc, click.exceptions.Exit | typer.Exit):
            raise SystemExit(exc.exit_code) from None
        # Usage errors (a bad option value, an unknown option): click's, or the click that typer >= 0.20
        # vendors (a class of its own, not click.ClickException), so they are known by what they do.
        show, code = getattr(exc, "show", None), getattr(exc, "exit_code", None)
        if callable(show) and isinstance(code, int):
            show()
            raise SystemExit(code) from None
        raise
