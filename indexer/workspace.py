"""The workspace: one directory holding all runtime state (never the source tree).

Resolution order: explicit ``--home``, then env ``AISLE_HOME`` (read by :class:`indexer.settings.Settings`
at the entry point and passed in), then ``./.aisle``.

    <home>/catalog.duckdb        the crawled catalog (indexer.store.store)
    <home>/indexes/<version>/    immutable index snapshots (indexer.build.snapshot)
    <home>/indexes/CURRENT       text file naming the current version (switched atomically)
    <home>/cache/embeddings/     embedding cache keyed by (model, text hash)
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from indexer.errors import ConfigError


@dataclass(frozen=True)
class Workspace:
    home: Path

    @classmethod
    def resolve(cls, home: str | os.PathLike[str] | None = None, *, create: bool = True) -> Workspace:
        """Workspace from ``home``, else ``./.aisle``; the directory is created (commands that write).

        With ``create=False`` (commands that only read) a missing directory is a
        :class:`~indexer.errors.ConfigError` (``workspace_missing``) and nothing is created: a typo in
        ``--home`` must not leave an empty workspace behind and answer "no snapshot".
        """
        path = Path(home or ".aisle").expanduser().resolve()
        if not create and not path.is_dir():
            raise ConfigError(f"workspace {path} does not exist (give --home the directory `aisle crawl` "
                              "and `aisle index` wrote, or run them first)", code="workspace_missing")
        path.mkdir(parents=True, exist_ok=True)
        return cls(path)

    @property
    def catalog_db(self) -> Path:
        return self.home / "catalog.duckdb"

    @property
    def indexes_dir(self) -> Path:
        return self.home / "indexes"

    @property
    def embedding_cache_dir(self) -> Path:
        return self.home / "cache" / "embeddings"
