"""The interface between the platform fetchers (shopify.py, etsy.py) and the crawl runner (crawl.py).

A fetcher walks one merchant and reports what it finds to a :class:`PageSink`; it never touches
the store. Parsing is handed over as a ``build`` callable so the runner can do it (and the write)
off the event loop, while the fetcher already asks for the next page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from indexer.models import Merchant, Product, Quarantined

#: One parsed page: ``(product, source JSON text)`` pairs, the records that were quarantined, and the
#: doc_ids found unchanged (not parsed at all, see :data:`Skip`).
ParsedPage = tuple[list[tuple[Product, str]], list[Quarantined], list[str]]

#: ``skip(doc_id, source JSON text)``: True when the store already holds exactly this record, so it
#: need not be parsed again (what makes re-crawls cheap).
Skip = Callable[[str, str], bool]


class PageSink(Protocol):
    """Where a fetcher sends one merchant's crawl results."""

    async def merchant(self, merchant: Merchant, raw: dict[str, Any]) -> None:
        """The merchant was identified (before any page)."""

    def expect(self, total: int | None) -> None:
        """The merchant announced how many products it has (for progress; None = unknown)."""

    async def page(self, url: str, build: Callable[[Skip | None], ParsedPage]) -> None:
        """One page of records; ``build(skip)`` parses it (called by the sink, possibly in another thread)."""

    async def error(self, url: str, status: int | None, code: str, message: str) -> None:
        """A fault that survived the retries (the merchant's crawl is then incomplete)."""
