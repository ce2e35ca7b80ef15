"""The distributed crawl (``aisle crawl --ray [--address ADDR] [--ray-workers N]``): merchants across Ray tasks.

* **Per host on one worker.** Targets are grouped by the host they fetch from (a Shopify store's host; every
  Etsy shop goes through the Etsy API host), and each host's group goes to exactly one of ``workers`` Ray
  tasks (largest groups first, to the least loaded task). A task runs the local crawler
  (:func:`indexer.crawl.run.crawl_in_run`) over its targets, so politeness (delay and connections per host),
  retries, the SSRF guard and fault recording per host are the local crawl's own code.
* **One ordered sink.** The DuckDB catalog is opened by one actor, :class:`StoreSink`, which runs every store
  call of every task one at a time in arrival order (a Ray actor executes its calls serially); a task's calls
  are synchronous, so each merchant's writes reach the store in its own order, in the same transactions
  (one per page, the merchant's finish) as in a local crawl. The run is begun and finished once, by the
  driver, through the sink, and within the run the first origin to claim a merchant id keeps it across tasks.
  The sink is placed on the driver's node (the catalog file is there).
* **Or Parquet, merged by one writer** (``sink="parquet"``, ``aisle crawl --ray --ray-sink parquet``): tasks
  stage their writes as Parquet files per merchant and only their reads (claims, stored hashes, the clock) go to
  the sink, which merges each staged merchant once sealed (overlapping the crawl), with the same calls and transactions
  (:mod:`indexer.crawl.ray_stage`). DuckDB (one writer) bounds both: figures in docs/scale-out.md, item 5.

Ray is imported only here (``pip install 'aisle[ray]'``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from indexer.crawl.run import CrawlReport, CrawlSettings, claim_origin, crawl_in_run
from indexer.crawl.targets import Target
from indexer.errors import ConfigError


def host_groups(targets: Sequence[Target], settings: CrawlSettings, workers: int) -> list[list[Target]]:
    """``targets`` in at most ``workers`` groups, all targets of one host in one group."""
    by_host: dict[str, list[Target]] = {}
    for t in targets:
        url = t.ref if t.platform == "shopify" else settings.etsy_api
        by_host.setdefault((urlsplit(url).netloc or url).lower(), []).append(t)
    groups: list[list[Target]] = [[] for _ in range(max(1, min(workers, len(by_host))))]
    for host in sorted(by_host, key=lambda h: (-len(by_host[h]), h)):
        min(groups, key=len).extend(by_host[host])
    return [g for g in groups if g]


class StoreSink:
    """The one writer: the DuckDB store, its calls run one at a time (made a Ray actor by :func:`crawl_ray`)."""

    def __init__(self, path: str) -> None:
        from indexer.store.store import Store

        self.store = Store.open(path)
        self.claims: dict[str, str] = {}
        self.merged: dict[str, dict[str, int]] = {}  # Parquet sink: target -> counts of its merged merchant
        self.busy: dict[str, list[float]] = {}  # method -> [calls, seconds inside the store] (benchmarks/ray.py)

    def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """Run one :class:`indexer.store.store.Store` method (timed: :meth:`timings`)."""
        return self._timed(method, getattr(self.store, method), *args, **kwargs)

    def _timed(self, name: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            b = self.busy.setdefault(name, [0, 0.0])
            b[0], b[1] = b[0] + 1, b[1] + time.perf_counter() - t0

    def timings(self) -> dict[str, list[float]]:
        """Per store method: calls and seconds spent inside the store (not counting Ray's transfer)."""
        return self.busy

    def claim(self, target: Target, merchant: Any) -> str | None:
        """:func:`indexer.crawl.run.claim_origin` with the claims of the whole run."""
        return claim_origin(self.store, self.claims, target, merchant)

    def recover(self, staging: str) -> list[str]:
        """Parquet sink: merge what earlier runs left sealed in ``staging`` (:func:`.ray_stage.recover`)."""
        from indexer.crawl.ray_stage import recover

        return self._timed("recover", recover, self.store, Path(staging))  # type: ignore[no-any-return]

    def merge_one(self, staging: str, run_id: str, target: str) -> None:
        """Parquet sink: merge one merchant its task just sealed (:func:`.ray_stage.merge_target`)."""
        from indexer.crawl.ray_stage import merge_target

        self._timed("merge", merge_target, self.store, Path(staging), run_id, target, self.merged)

    def merge(self, staging: str, run_id: str, targets: list[str]) -> dict[str, dict[str, int]]:
        """Parquet sink: merge what is left of the run; every merged target's counts (:func:`.ray_stage.merge_run`)."""
        from indexer.crawl.ray_stage import merge_run

        return self._timed("merge_rest", merge_run, self.store, Path(staging), run_id, targets,  # type: ignore[no-any-return]
                           self.merged)

    def close(self) -> None:
        """Close the store (the driver calls it at the end)."""
        self.store.close()


class SinkStore:
    """What a crawl task sees as its store: every call forwarded to the sink actor, answered in order."""

    def __init__(self, sink: Any) -> None:
        self._sink = sink

    def __getattr__(self, method: str) -> Any:
        import ray

        def call(*args: Any, **kwargs: Any) -> Any:
            return ray.get(self._sink.call.remote(method, *args, **kwargs))

        return call

    def claim_for_run(self, target: Target, merchant: Any) -> str | None:
        """The run-wide identity claim (see :meth:`StoreSink.claim`)."""
        import ray

        return ray.get(self._sink.claim.remote(target, merchant))  # type: ignore[no-any-return]


def _crawl_group(sink: Any, targets: list[Target], settings: CrawlSettings, run_id: str,
                 staging: str | None) -> CrawlReport:
    from indexer.crawl.ray_stage import StagingStore

    store = SinkStore(sink) if staging is None else StagingStore(sink, staging)
    return crawl_in_run(targets, store, settings=settings, run_id=run_id)


def crawl_ray(targets: list[Target], catalog_db: Path, *, settings: CrawlSettings, workers: int = 2,
              address: str | None = None, sink: str = "store",
              sink_timings: Callable[[dict[str, list[float]]], None] | None = None) -> CrawlReport:
    """Crawl ``targets`` into the DuckDB file ``catalog_db`` over Ray tasks (see the module docstring).

    ``sink``: ``store`` (every store call to the one sink actor) or ``parquet`` (tasks stage their writes as
    Parquet under ``<catalog folder>/crawl-staging``, merged by the sink actor: :mod:`indexer.crawl.ray_stage`).
    ``sink_timings``, when given, receives the sink's :meth:`StoreSink.timings` at the end (benchmarks/ray.py).
    """
    if sink not in ("store", "parquet"):
        raise ConfigError(f"--ray-sink must be store or parquet, not {sink!r}")
    from indexer.build.ray_embed import ray_module

    settings.validate(targets)
    if not targets:
        raise ConfigError("nothing to crawl: give --shopify URL, --etsy SHOP_ID or --merchants FILE")
    if workers < 1:
        raise ConfigError("--ray-workers must be at least 1")
    ray = ray_module(address)
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    here = NodeAffinitySchedulingStrategy(ray.get_runtime_context().get_node_id(), soft=False)
    actor = ray.remote(num_cpus=0)(StoreSink).options(scheduling_strategy=here).remote(str(catalog_db))
    staging = str(catalog_db.parent / "crawl-staging") if sink == "parquet" else None
    try:
        if staging is not None:
            ray.get(actor.recover.remote(staging))  # what a crashed run left sealed (indexer.crawl.ray_stage)
        return _run(ray, actor, targets, settings, workers, staging)
    finally:
        if sink_timings is not None:
            sink_timings(ray.get(actor.timings.remote()))
        ray.get(actor.close.remote())
        ray.kill(actor)


def _run(ray: Any, actor: Any, targets: list[Target], settings: CrawlSettings, workers: int,
         staging: str | None) -> CrawlReport:
    from dataclasses import asdict

    run_id = ray.get(actor.call.remote("begin_run", [t.label for t in targets],
                                       {k: v for k, v in asdict(settings).items() if k != "etsy_api_key"}))
    task = ray.remote(num_cpus=0.5, max_retries=0)(_crawl_group)
    status, merged = "aborted", {}
    try:
        reports = ray.get([task.remote(actor, g, settings, run_id, staging)
                           for g in host_groups(targets, settings, workers)])
        status = "complete" if all(r.complete for r in reports) else "partial"
    finally:
        if staging is not None:  # also after a failed task: what finished is merged, not lost
            merged = ray.get(actor.merge.remote(staging, run_id, [t.label for t in targets]))
        ray.get(actor.call.remote("finish_run", run_id, status))
    return _merge(run_id, reports, targets, merged)


def _merge(run_id: str, reports: list[CrawlReport], targets: Sequence[Target],
           merged: dict[str, dict[str, int]]) -> CrawlReport:
    """One report for the run, merchants in the order of ``targets`` (counts from the Parquet merge, if any)."""
    order = {t.label: i for i, t in enumerate(targets)}
    merchants = sorted((m for r in reports for m in r.merchants), key=lambda m: order.get(m.target, len(order)))
    keep = ("products", "new", "changed", "unchanged", "removed", "quarantined")
    merchants = [replace(m, **{k: merged[m.target][k] for k in keep}) if m.target in merged else m  # type: ignore[arg-type]
                 for m in merchants]
    retried: dict[str, int] = {}
    failed: dict[str, int] = {}
    for r in reports:
        for k, v in r.retried.items():
            retried[k] = retried.get(k, 0) + v
        for k, v in r.failed.items():
            failed[k] = failed.get(k, 0) + v
    return CrawlReport(run_id, tuple(merchants), max((r.seconds for r in reports), default=0.0),
                       sum(r.requests for r in reports), retried, failed)
