"""What the serving room needs from the engine: :class:`SearchEngine`, a structural type.

Adapters (HTTP, MCP, UCP, the snapshot watcher) are written against this Protocol rather than
:class:`search.engine.Engine`, so they stay thin and a test can hand them any object with these
methods; :class:`~search.engine.Engine` satisfies it.
"""

from __future__ import annotations

from typing import Any, Protocol

from search.schema import CheckRequest, CheckResponse, ProductOut, SearchRequest, SearchResponse


class SearchEngine(Protocol):
    """What the adapters need from :class:`search.engine.Engine` (kept structural so adapters stay thin)."""

    def search(self, request: SearchRequest) -> SearchResponse: ...
    def get_product(self, doc_id: str, country: str = "US") -> ProductOut: ...
    def check(self, request: CheckRequest) -> CheckResponse: ...
    def refresh(self) -> bool: ...
    @property
    def snapshot(self) -> Any: ...
