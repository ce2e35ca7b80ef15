"""The crawler: many merchants in parallel, politely, into the DuckDB store.

Public entry point: :func:`crawl` (a sync wrapper around the async core), used by the CLI, the demo
and the tests alike::

    report = crawl([Target.shopify(url), Target.etsy("12345678")], store, settings=CrawlSettings(...))

One shared :class:`~indexer.crawl.http.PoliteClient` (politeness per origin, retries, content checks, SSRF
guard); up to ``concurrency`` merchants at a time. Each merchant's pages are parsed and written to
the store in one worker thread (one transaction per page) while the fetchers already ask for the next
page. A merchant whose crawl was complete (no recorded fault) gets its missing products marked
removed; an incomplete one never does. Every target host is checked against the SSRF guard before
anything is fetched: a refused target raises :class:`~indexer.errors.HostNotAllowedError` and nothing
is crawled.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any, TypeVar

from indexer.crawl.etsy import crawl_etsy
from indexer.crawl.http import ClientSettings, PoliteClient
from indexer.crawl.netguard import HostGuard
from indexer.crawl.pagesink import ParsedPage, Skip
from indexer.crawl.shopify import crawl_shopify
from indexer.crawl.targets import Target
from indexer.errors import ConfigError, FetchError, HostNotAllowedError
from indexer.models import Merchant
from indexer.progress import ProgressCallback, ProgressEvent, no_progress
from indexer.settings import ENV_ETSY_KEY
from indexer.store.identity import normalise_origin
from indexer.store.stats import error_record
from indexer.store.store import PageCounts, PreparedPage, Store, content_hash, prepare_page

ETSY_API = "https://openapi.etsy.com/v3/application"
_MAX_PENDING_WRITES = 2  # per merchant: pages parsed/written while the next one is fetched
_GC_GEN0 = 100_000  # allocations between young-generation collections while crawling (Python's default: 700)
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class CrawlSettings:
    """How to crawl. Times in seconds; ``delay`` is the minimum gap between requests to one host."""

    delay: float = 0.5
    timeout: float = 20.0
    retries: int = 4
    concurrency: int = 8
    per_host: int = 1
    etsy_api: str = ETSY_API
    etsy_api_key: str | None = None
    allow_hosts: tuple[str, ...] = ()
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    retry_after_max: float = 120.0
    shopify_limit: int = 250
    etsy_limit: int = 100
    etsy_tokens: str | None = None  # the workspace home: etsy/tokens/ holds connected shops (crawl.etsy_auth)
    etsy_daily_budget: int = 9_500  # Etsy requests per key per UTC day (crawl.etsy_budget; Etsy allows 10,000)

    def validate(self, targets: Sequence[Target]) -> None:
        """ConfigError for unusable values (negative times, no Etsy key with Etsy targets...)."""
        if self.delay < 0 or self.timeout <= 0 or self.backoff_base < 0 or self.backoff_max < 0:
            raise ConfigError("--delay and backoff must be >= 0 and --timeout > 0")
        if self.retries < 0 or self.concurrency < 1 or self.per_host < 1:
            raise ConfigError("--retries must be >= 0, --concurrency and --per-host >= 1")
        if any(t.platform == "etsy" for t in targets):
            key = self.etsy_api_key or ""
            if not key:
                raise ConfigError(f"Etsy shops need an API key: set {ENV_ETSY_KEY}=keystring:shared_secret")
            if ":" not in key or key.startswith(":") or key.endswith(":"):
                raise ConfigError(f"{ENV_ETSY_KEY} must have the form keystring:shared_secret (Etsy requires both)")


@dataclass(frozen=True, slots=True)
class MerchantReport:
    """The outcome of one merchant's crawl."""

    target: str
    platform: str
    merchant_id: str | None
    name: str | None
    products: int
    new: int
    changed: int
    unchanged: int
    removed: int
    quarantined: int
    errors: int
    complete: bool
    seconds: float
    last_error: dict[str, Any] | None = None  # the last fault of this crawl (indexer.store.stats.error_record)


@dataclass(frozen=True, slots=True)
class CrawlReport:
    """The outcome of one :func:`crawl` call."""

    run_id: str
    merchants: tuple[MerchantReport, ...]
    seconds: float
    requests: int
    retried: dict[str, int] = field(default_factory=dict)  # fault kind -> retries that got past it
    failed: dict[str, int] = field(default_factory=dict)  # fault kind -> requests that gave up

    @property
    def complete(self) -> bool:
        return all(m.complete for m in self.merchants)

    @property
    def products(self) -> int:
        return sum(m.products for m in self.merchants)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able summary (the ``aisle crawl --json`` document)."""
        return {"run_id": self.run_id, "complete": self.complete, "products": self.products,
                "seconds": round(self.seconds, 3), "requests": self.requests, "retried": dict(self.retried),
                "failed": dict(self.failed), "merchants": [asdict(m) for m in self.merchants]}


class _IdentityRefused(Exception):
    """A store claimed a merchant id that its origin may not speak for (already recorded)."""


class _MerchantRun:
    """The :class:`~indexer.crawl.pagesink.PageSink` of one merchant: parse + write pages, record errors."""

    def __init__(self, core: _Core, target: Target) -> None:
        self.core, self.target = core, target
        self.current: Merchant | None = None
        self.raw: dict[str, Any] | None = None  # the merchant's source JSON, until a transaction stored it
        self.skip: Skip | None = None
        self.last_error: dict[str, Any] | None = None
        self.counts = {"products": 0, "new": 0, "changed": 0, "unchanged": 0, "quarantined": 0, "errors": 0}
        self.pending: list[asyncio.Future[PageCounts]] = []
        self.started = core.store.now()
        self.t0 = time.perf_counter()
        self.key = target.label  # targets are deduplicated: the label names one progress task
        core.progress(ProgressEvent("start", self.key, target.label))

    async def merchant(self, merchant: Merchant, raw: dict[str, Any]) -> None:
        # Identity first (indexer.store.identity): an origin that may not speak for this id stops the crawl
        # here, before any page is fetched, with nothing written but the error.
        conflict = await self.core.db(self.core.claim, self.target, merchant)
        if conflict is not None:
            self.current = merchant  # the error names the id that was claimed
            await self.error(merchant.base_url, None, "identity_conflict", conflict)
            self.current = None
            raise _IdentityRefused(conflict)
        # The merchant row is written with the first page (or at the finish), in that transaction.
        self.current, self.raw = merchant, raw
        known = await self.core.db(self.core.store.known_hashes, merchant.merchant_id)

        def skip(doc_id: str, text: str) -> bool:
            # A stored product whose source JSON is byte-identical is not parsed again (cheap re-crawls).
            h = known.get(doc_id)
            return h is not None and h == content_hash(text, merchant)

        self.skip = skip
        self.core.progress(ProgressEvent("label", self.key, merchant.name[:40]))

    def expect(self, total: int | None) -> None:
        self.core.progress(ProgressEvent("total", self.key, total=total))

    async def page(self, url: str, build: Callable[[Skip | None], ParsedPage]) -> None:
        merchant = self.current
        assert merchant is not None, "fetchers announce the merchant before its pages"
        store, run_id = self.core.store, self.core.run_id

        skip = self.skip
        raw, self.raw = self.raw, None  # the first page stores the merchant (pages are written in order)

        def prepare() -> PreparedPage:
            items, bad, same = build(skip)
            return prepare_page(merchant, items, bad, same)

        async def job() -> PageCounts:
            # Parsing (pure Python) runs on its own thread, so it overlaps the store thread's SQL, which
            # releases the GIL while DuckDB works.
            prepared = await self.core.cpu(prepare)
            return await self.core.db(store.write_prepared, run_id, prepared, merchant_raw=raw)

        self.pending.append(asyncio.ensure_future(job()))
        while len(self.pending) > _MAX_PENDING_WRITES:
            self._add(await self.pending.pop(0))

    def _add(self, c: PageCounts) -> None:
        for k, v in (("new", c.new), ("changed", c.changed), ("unchanged", c.unchanged),
                     ("quarantined", c.quarantined)):
            self.counts[k] += v
        self.counts["products"] += c.new + c.changed + c.unchanged
        self.core.progress(ProgressEvent("advance", self.key, advance=c.new + c.changed + c.unchanged + c.quarantined))

    async def error(self, url: str, status: int | None, code: str, message: str) -> None:
        self.counts["errors"] += 1
        self.last_error = error_record(url, status, code, message, self.core.store.now())
        mid = self.current.merchant_id if self.current else None
        await self.core.db(self.core.store.record_error, self.core.run_id, mid, self.target.label, url, status,
                           code, message)

    async def finish(self, complete: bool) -> MerchantReport:
        while self.pending:
            self._add(await self.pending.pop(0))
        complete = complete and self.counts["errors"] == 0 and self.current is not None
        removed = await self.core.db(self.core.store.finish_merchant, self.core.run_id, self.target.label,
                                     self.current, complete=complete, started_at=self.started,
                                     counts=self.counts, merchant_raw=self.raw)
        self.core.progress(ProgressEvent("finish", self.key))
        m = self.current
        return MerchantReport(
            target=self.target.label, platform=self.target.platform, merchant_id=m.merchant_id if m else None,
            name=m.name if m else None, products=self.counts["products"], new=self.counts["new"],
            changed=self.counts["changed"], unchanged=self.counts["unchanged"], removed=removed,
            quarantined=self.counts["quarantined"], errors=self.counts["errors"], complete=complete,
            seconds=round(time.perf_counter() - self.t0, 3), last_error=self.last_error)


class _Core:
    """One crawl run: the client, the store worker thread, the progress callback."""

    def __init__(self, store: Store, settings: CrawlSettings, progress: ProgressCallback) -> None:
        self.store, self.settings, self.progress = store, settings, progress
        self.run_id = ""
        self.claims: dict[str, str] = {}  # merchant id -> origin that spoke for it in this run
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="aisle-store")
        self._parse_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="aisle-parse")

    async def db(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a store call on the single store thread (DuckDB connections are not for concurrent use)."""
        return await asyncio.get_running_loop().run_in_executor(self._pool, lambda: fn(*args, **kwargs))

    async def cpu(self, fn: Callable[[], T]) -> T:
        """Run pure CPU work (parsing, row building) on the parse thread."""
        return await asyncio.get_running_loop().run_in_executor(self._parse_pool, fn)

    def claim(self, target: Target, merchant: Merchant) -> str | None:
        """On the store thread: why ``merchant``'s origin may not speak for its id (None: it may).

        The rules are :mod:`indexer.store.identity`'s, plus: a merchants-file entry naming the id
        (``Target.merchant_id``) links the origin (the operator vouches for it) or, naming another id,
        refuses the crawl; and within one run, the first origin that claimed a new id keeps it.
        """
        remote = getattr(self.store, "claim_for_run", None)  # a distributed crawl's sink keeps the run's claims
        return remote(target, merchant) if remote is not None else claim_origin(self.store, self.claims, target,
                                                                                 merchant)

    async def one(self, client: PoliteClient, target: Target, gate: asyncio.Semaphore) -> MerchantReport:
        async with gate:
            run = _MerchantRun(self, target)
            s = self.settings
            try:
                if target.platform == "shopify":
                    complete = await crawl_shopify(client, target.ref, run, limit=s.shopify_limit)
                else:
                    complete = await crawl_etsy(client, s.etsy_api, target.ref, s.etsy_api_key or "", run,
                                                limit=s.etsy_limit, tokens=s.etsy_tokens,
                                                per_day=s.etsy_daily_budget)
            except _IdentityRefused:
                complete = False  # recorded as identity_conflict; nothing else of this crawl is written
            except (HostNotAllowedError, FetchError) as exc:  # e.g. a redirect into a private network
                await run.error(getattr(exc, "url", "") or target.ref, getattr(exc, "status", None), exc.code,
                                exc.message)
                complete = False
            return await run.finish(complete)

    async def run(self, targets: Sequence[Target], run_id: str | None = None) -> CrawlReport:
        s = self.settings
        guard = HostGuard(s.allow_hosts)
        for url in dict.fromkeys(t.ref if t.platform == "shopify" else s.etsy_api for t in targets):
            await guard.check(url)
        t0 = time.perf_counter()
        recorded = {k: v for k, v in asdict(s).items() if k != "etsy_api_key"}
        self.run_id = run_id if run_id is not None else await self.db(self.store.begin_run, [t.label for t in targets],
                                                                      recorded)
        status = "failed"
        client_settings = ClientSettings(delay=s.delay, per_host=s.per_host, timeout=s.timeout, retries=s.retries,
                                         backoff_base=s.backoff_base, backoff_max=s.backoff_max,
                                         retry_after_max=s.retry_after_max)
        try:
            async with PoliteClient(client_settings, guard) as client:
                gate = asyncio.Semaphore(s.concurrency)
                async with asyncio.TaskGroup() as tg:  # one failure (e.g. the store) cancels the rest
                    tasks = [tg.create_task(self.one(client, t, gate)) for t in targets]
                reports = [t.result() for t in tasks]
            status = "complete" if all(r.complete for r in reports) else "partial"
            return CrawlReport(self.run_id, tuple(reports), time.perf_counter() - t0, client.stats.requests,
                               dict(client.stats.retried), dict(client.stats.failed))
        except BaseException:
            status = "aborted"
            raise
        finally:
            if run_id is None:  # a run begun elsewhere (the distributed crawl) is finished there
                await self.db(self.store.finish_run, self.run_id, status)
            self._pool.shutdown(wait=True)
            self._parse_pool.shutdown(wait=True)


def claim_origin(store: Any, claims: dict[str, str], target: Target, merchant: Merchant) -> str | None:
    """Why ``merchant``'s origin may not speak for its id in this run (None: it may); see :meth:`_Core.claim`.

    ``claims`` (merchant id -> first origin that claimed it in this run) is updated.
    """
    origin, mid = normalise_origin(merchant.base_url), merchant.merchant_id
    if target.merchant_id is not None:
        if target.merchant_id != mid:
            return (f"{origin} says it is merchant {mid!r}, but the merchants file names it "
                    f"{target.merchant_id!r}; refused, nothing changed")
        store.link_merchant(mid, origin, now=store.now(), source="merchants-file", must_exist=False)
    conflict = store.identity_conflict(mid, origin)
    if conflict is None and claims.setdefault(mid, origin) != origin:
        if origin not in store.merchant_links(mid):
            conflict = (f"{origin} claims merchant {mid!r}, which {claims[mid]} claimed first in this "
                        f"crawl; refused, nothing changed (aisle merchants link {mid} {origin} if both are it)")
    return conflict


@contextmanager
def fewer_gc_passes() -> Iterator[None]:
    """Collect the young generation every :data:`_GC_GEN0` allocations instead of every 700.

    A crawl allocates millions of short-lived, acyclic containers (JSON dicts, row tuples) that
    reference counting frees; the default threshold ran a collection every few hundred of them, each
    walking whatever survived, for 10-20% of a crawl's CPU time (more in a process holding much data).
    Cycles are still collected, just in larger batches. The previous thresholds come back afterwards.
    """
    before = gc.get_threshold()
    gc.set_threshold(max(before[0], _GC_GEN0), *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)


def crawl(
    targets: list[Target], store: Store, *, settings: CrawlSettings, progress: ProgressCallback = no_progress
) -> CrawlReport:
    """Crawl ``targets`` into ``store`` and report per merchant (see the module docstring).

    ``progress`` receives one task per target (keyed by its label; counted in products, the total
    once the merchant announced it).

    Raises ConfigError (bad settings, Etsy without key) or HostNotAllowedError (a refused target)
    before anything is fetched; faults met while crawling are recorded in the store, not raised.
    """
    settings.validate(targets)
    if not targets:
        raise ConfigError("nothing to crawl: give --shopify URL, --etsy SHOP_ID or --merchants FILE")
    with fewer_gc_passes():
        return asyncio.run(_Core(store, settings, progress).run(targets))


def crawl_in_run(targets: list[Target], store: Any, *, settings: CrawlSettings, run_id: str) -> CrawlReport:
    """:func:`crawl` of ``targets`` as part of run ``run_id``, begun and finished by the caller (the workers of
    the distributed crawl, :mod:`indexer.crawl.ray_crawl`; ``store`` may be a proxy to the one sink)."""
    settings.validate(targets)
    with fewer_gc_passes():
        return asyncio.run(_Core(store, settings, no_progress).run(targets, run_id=run_id))
