"""Settings from the environment, read once into one typed, frozen object.

The entry points (the CLI's root callback, the HTTP app factory) call :meth:`Settings.from_env` once and
pass the values down; library code never reads environment variables itself. Every variable aisle
knows is listed here, with its default:

===========================  =====================================================================
``AISLE_HOME``               workspace directory (``--home`` wins; default ``./.aisle``)
``AISLE_ETSY_API_KEY``       ``keystring:shared_secret`` for Etsy crawls and live re-checks
``AISLE_ALLOW_HOSTS``        comma list of private hosts/CIDR blocks the crawler may reach (added to
                             ``--allow-host``)
``AISLE_API_TOKEN``          bearer token the HTTP API requires (needed off loopback)
``AISLE_BIND_HOST``          address the HTTP workers were bound to (set by ``aisle serve``)
``AISLE_REFRESH_INTERVAL``   seconds between checks for a new snapshot (HTTP workers; default 1.0)
``AISLE_NATIVE_THREADS``     BLAS/FAISS threads per HTTP worker (default 1)
``AISLE_EMBED_BACKEND``      embedding backend of ``aisle index`` (``--backend`` wins): ``torch``, ``onnx``,
                             ``onnx-int8``, ``openvino`` or ``openvino-bf16`` (default:
                             ``indexer.build.embed.default_backend``); the search side queries with the
                             snapshot's own vectors (``AISLE_QUERY_BACKEND``)
``AISLE_QUERY_BACKEND``      query encoder of the search side (``--query-backend`` wins): ``auto``
                             (default: ONNX Runtime fp32 when usable, else torch), ``onnx`` or ``torch``;
                             see :mod:`search.retrieval.encoding`
===========================  =====================================================================

An empty variable counts as unset. A malformed number is a :class:`~indexer.errors.ConfigError` that
names the variable.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from indexer.errors import ConfigError

ENV_HOME = "AISLE_HOME"
ENV_ETSY_KEY = "AISLE_ETSY_API_KEY"
ENV_ALLOW_HOSTS = "AISLE_ALLOW_HOSTS"
ENV_API_TOKEN = "AISLE_API_TOKEN"
ENV_BIND_HOST = "AISLE_BIND_HOST"
ENV_REFRESH_INTERVAL = "AISLE_REFRESH_INTERVAL"
ENV_NATIVE_THREADS = "AISLE_NATIVE_THREADS"
ENV_EMBED_BACKEND = "AISLE_EMBED_BACKEND"
ENV_QUERY_BACKEND = "AISLE_QUERY_BACKEND"

DEFAULT_BIND_HOST = "127.0.0.1"
DEFAULT_REFRESH_INTERVAL = 1.0
DEFAULT_NATIVE_THREADS = 1
N = TypeVar("N", int, float)


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything aisle reads from the environment (see the module docstring for each variable)."""

    home: Path | None = None
    etsy_api_key: str | None = None
    allow_hosts: tuple[str, ...] = ()
    api_token: str | None = None
    bind_host: str = DEFAULT_BIND_HOST
    refresh_interval: float = DEFAULT_REFRESH_INTERVAL
    native_threads: int = DEFAULT_NATIVE_THREADS
    embed_backend: str | None = None  # None: indexer.build.embed.default_backend()
    query_backend: str = "auto"  # checked where the engine uses it (search.retrieval.encoding)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read the settings from ``environ`` (default: the process environment) once."""
        env = os.environ if environ is None else environ

        def text(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        home = text(ENV_HOME)
        allow = text(ENV_ALLOW_HOSTS) or ""
        return cls(
            home=Path(home) if home else None,
            etsy_api_key=text(ENV_ETSY_KEY),
            allow_hosts=tuple(e.strip() for e in allow.split(",") if e.strip()),
            api_token=text(ENV_API_TOKEN),
            bind_host=text(ENV_BIND_HOST) or DEFAULT_BIND_HOST,
            refresh_interval=_number(ENV_REFRESH_INTERVAL, text(ENV_REFRESH_INTERVAL), float, DEFAULT_REFRESH_INTERVAL),
            native_threads=_number(ENV_NATIVE_THREADS, text(ENV_NATIVE_THREADS), int, DEFAULT_NATIVE_THREADS),
            embed_backend=text(ENV_EMBED_BACKEND),
            query_backend=text(ENV_QUERY_BACKEND) or "auto",
        )


def _number(name: str, raw: str | None, kind: type[N], default: N) -> N:
    if raw is None:
        return default
    try:
        return kind(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None
