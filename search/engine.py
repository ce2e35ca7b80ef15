"""The one engine entry point: :class:`Engine` (``search``, ``get_product``, ``check``, ``refresh``).

The CLI, the HTTP API, the MCP tools and evaluation all call :meth:`Engine.search` (or the thin
:func:`search` function), so what is measured is what agents get.

A search, in order:

1. :mod:`search.query.interpret` reads the query (parser + explicit filters + country).
2. :mod:`search.filter.variants` computes, for every variant at once, which satisfy every constraint on
   the same variant (with ``buyable_only``, also :func:`search.filter.eligibility.eligible_mask`); the
   products owning one are the allowed rows.
3. :mod:`search.retrieval.pipeline` ranks within the allowed rows (``hybrid``: BM25 + dense, and the
   multilingual vectors when built, fused by z-scores over the union of both candidate lists by default;
   :mod:`search.retrieval.retrieve`), and the relevance floor (:mod:`search.retrieval.floor`) keeps products
   of another kind out of the exact results.
   Equal scores break toward products with a qualifying variant in stock. With no words left to
   rank by (only filters), allowed products are ordered by: a satisfying variant in stock first,
   then the cheapest satisfying variant, then snapshot order.
4. ``include_near``: after the exact results come products that match the words but fail some
   constraint, each with the variant that fails the fewest and ``match.unmet`` naming what fails.
   Scoping filters (merchant, platform) and ``buyable_only`` stay hard for near matches too.
5. Per result, :func:`search.filter.variants.choose_variant` picks the variant and
   :func:`search.filter.eligibility.assess` answers eligibility, reasons and the checkout link.

Pagination: results are ranked to ``EngineSettings.candidate_depth`` once per request shape; the
cursor is an offset into that list (:mod:`search.answer`). ``score`` is comparable within one
response only.

Concurrency: the loaded snapshot and its arrays are one immutable state object swapped atomically
by :meth:`Engine.refresh`; a request takes the state once at its start and keeps it to the end.
"""

from __future__ import annotations

import copy
import threading
import time
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from indexer.build.embed import onnx_cache_dir
from indexer.build.lexical import tokenize
from indexer.errors import ConfigError, NotFoundError, QueryError
from search.answer import cursor_key, decode_cursor, encode_cursor, product_out, result_out
from search.answer.present import View, add_scores, answer_facets, arrange, decorate, interpreted_out
from search.filter.catalog import CatalogArrays
from search.filter.columns import Extra, open_catalog
from search.filter.eligibility import assess, eligible_mask
from search.filter.pick import pick_variant
from search.filter.variants import allowed_rows
from search.items import answer_items, kind_noun_tally, kind_nouns_of, remember_kinds
from search.query.highlight import marked_words
from search.query.interpret import Interpretation, interpret, read_languages
from search.query.spelling import Speller, remember_speller, speller_from_tally, speller_tally
from search.query.synonyms import expansions
from search.retrieval.encoding import QueryVectors
from search.retrieval.floor import Kind, kind_phrase, kind_tally, main_terms, modifiers_last, order_near
from search.retrieval.order import Entry
from search.retrieval.pipeline import floor_missed, kind_words, multilingual_vectors, near_candidates, rank
from search.retrieval.retrieve import Ranked
from search.retrieval.threads import single_threaded
from search.schema import (
    MAX_QUERY_CHARS,
    CheckRequest,
    CheckResponse,
    ProductOut,
    Result,
    SearchRequest,
    SearchResponse,
)
from search.settings import EngineSettings

if TYPE_CHECKING:
    import httpx

    from indexer.build.embed import Encoder
    from indexer.build.snapshot import Snapshot
    from indexer.workspace import Workspace


# What the engine derives from a catalog by a pass over its products: computed once per snapshot and stored
# with its memory-mapped columns (search.filter.columns), so that opening a snapshot reads no product.
_EXTRAS = {
    "speller": Extra(speller_tally, lambda t: speller_from_tally(t).to_dict()),
    "kind_vocabulary": Extra(kind_tally, lambda t: sorted(w for w, n in t.items() if n > 0)),
    "kind_nouns": Extra(kind_noun_tally, lambda t: sorted(kind_nouns_of(t))),
}


def _never_frequent(_word: str) -> int:
    return 0  # frequency 0: every synonym group of the text applies (search.query.synonyms.expansions)


@dataclass(frozen=True, eq=False)
class _State:
    snapshot: Snapshot
    cat: CatalogArrays
    multilingual: np.ndarray | None = None  # USE vectors by snapshot row, when built
    kind_terms: dict[int, frozenset[str]] = field(default_factory=dict)  # row → title/type/tag terms (lazy)
    kind_words: list[frozenset[str]] = field(default_factory=list)  # the catalog's kind vocabulary (lazy)
    modifier: dict[int, tuple[str, ...]] = field(default_factory=dict)  # row → its title's floor.main_terms (lazy)


class Engine:
    """Answers searches, product look-ups and live re-checks over one snapshot at a time."""

    def __init__(
        self,
        snapshot: Snapshot,
        *,
        encoder: Encoder | None = None,
        http: httpx.Client | None = None,
        settings: EngineSettings | None = None,
        workspace: Workspace | None = None,
        clock: Any = time.time,
    ) -> None:
        self.settings = settings or EngineSettings()
        if self.settings.candidate_depth < 1 or self.settings.max_quantity_per_item < 1:
            raise ConfigError("candidate_depth and max_quantity_per_item must be at least 1")
        self._vectors = QueryVectors(encoder, onnx_cache_dir(workspace) if workspace is not None else None,
                                     self.settings.query_backend)
        self._http = http
        self._cursor_key = cursor_key(workspace.home if workspace is not None else None)  # signs cursors
        self._checker: Any = None  # search.checkout.live.LiveChecker, made on the first check (it owns a cache)
        self._workspace = workspace
        self._clock = clock
        self._lock = threading.Lock()
        self._state = self._make_state(snapshot)

    @classmethod
    def open(
        cls,
        workspace: Workspace,
        *,
        encoder: Encoder | None = None,
        http: httpx.Client | None = None,
        settings: EngineSettings | None = None,
    ) -> Engine:
        """Load the workspace's current snapshot; the query encoder is loaded on first dense use."""
        from indexer.build.snapshot import load_current

        return cls(load_current(workspace), encoder=encoder, http=http, settings=settings, workspace=workspace)

    def _make_state(self, snapshot: Snapshot) -> _State:
        model = str(snapshot.manifest.get("model", "")) if isinstance(snapshot.manifest, dict) else ""
        self._vectors.check_model(model)
        cat, extras = open_catalog(snapshot, tokens_home=self.settings.etsy_tokens, extras=_EXTRAS)
        remember_speller(cat.products, Speller.from_dict(extras["speller"]))  # the typo dictionary
        remember_kinds(cat, frozenset(extras["kind_nouns"]))
        return _State(snapshot, cat, multilingual_vectors(snapshot, self.settings),
                      kind_words=[frozenset(extras["kind_vocabulary"])])

    @staticmethod
    def load_current(workspace: Workspace) -> Snapshot:
        """The workspace's current snapshot as this engine opens it (:meth:`refresh`; a sharded coordinator
        opens less of it: :class:`search.serve.sharded.ShardedEngine`)."""
        from indexer.build.snapshot import load_current

        return load_current(workspace)

    @property
    def snapshot(self) -> Snapshot:
        """The snapshot new requests are answered from."""
        return self._state.snapshot

    @property
    def catalog(self) -> CatalogArrays:
        """The filter arrays of the current snapshot (variant values, prices, ship-to, eligibility inputs)."""
        return self._state.cat

    @property
    def encoder(self) -> Encoder | None:
        """The query encoder (None until the first dense query loads it; ``EngineSettings.query_backend``)."""
        return self._vectors.encoder

    def with_dense(self, index: Any) -> Engine:
        """This engine answering with another dense index over the same snapshot rows; ``None``: exact inner
        product over the allowed rows (what an approximate index is measured against, end to end: the very
        same answer, buyable-first order and all, with no neighbour missed; ``benchmarks/scale_aisle.py``).

        Shares the filter arrays, settings, encoder and query-vector cache; it does not follow
        :meth:`refresh` (the workspace's next snapshot brings its own index).
        """
        other = copy.copy(self)
        other._lock, other._checker, other._workspace = threading.Lock(), None, None
        other._state = replace(self._state, snapshot=replace(self._state.snapshot, dense=index))
        return other

    def interpret(self, request: SearchRequest) -> Interpretation:
        """How :meth:`search` reads ``request``: constraints, ranking text, country, notes (nothing is ranked)."""
        return self._interpret(self._state, request)

    def _interpret(self, state: _State, request: SearchRequest, languages: bool = True) -> Interpretation:
        s = self.settings
        it = interpret(request, state.snapshot.vocabulary, state.cat, fallback_attrs=s.text_fallback_attrs,
                       vendor_in_title=s.vendor_in_title, rank_with_constraint_words=s.rank_with_constraint_words)
        return read_languages(it, state.snapshot.lexical) if languages else it  # the languages its words are read in

    def encode_query(self, text: str) -> np.ndarray:
        """The query vector of ``text`` for the current snapshot's model (through the query-vector cache)."""
        return self._vectors.encode(self._state.snapshot, text)

    def clear_query_cache(self) -> None:
        """Forget cached query vectors, e.g. so that a benchmark times the real encoding."""
        self._vectors.clear()

    def refresh(self) -> bool:
        """Move to the workspace's current snapshot if it changed; True when swapped. Cheap when unchanged."""
        if self._workspace is None:
            return False
        from indexer.build.snapshot import current_version

        if current_version(self._workspace) == self._state.snapshot.version:
            return False
        with self._lock:
            if current_version(self._workspace) == self._state.snapshot.version:
                return False
            new = self.load_current(self._workspace)
            if new.version == self._state.snapshot.version:
                return False
            self._state = self._make_state(new)  # one reference assignment: atomic for readers
            self._vectors.clear()
            return True

    # --- search ---------------------------------------------------------------------------------

    def search(self, request: SearchRequest) -> SearchResponse:
        """Answer one search request (see the module docstring)."""
        with single_threaded():  # one compute thread per query: see search.retrieval.threads
            # several items in one message: each answered on its own (search.items)
            return answer_items(request, self._search(request), self._state.cat, self._search)

    def _search(self, request: SearchRequest) -> SearchResponse:
        t0 = time.perf_counter()
        state = self._state
        snap, cat = state.snapshot, state.cat
        if len(request.query) > MAX_QUERY_CHARS:
            raise QueryError(f"the query is longer than {MAX_QUERY_CHARS} characters", code="query_too_long")
        offset = decode_cursor(request.cursor, request, snap.version, self._cursor_key)
        s = self.settings
        it = self._interpret(state, request, languages=False)
        kind = self._prefetch(state, request, it)  # the query's encoder beside its filter: search.retrieval.threads
        it = read_languages(it, snap.lexical)  # (they change no text: the encoding already runs meanwhile)
        if not it.ranking_text.strip() and it.constraints.empty and not request.buyable_only:
            raise QueryError("give a query or at least one filter", code="empty_query")
        now = float(self._clock())
        elig = eligible_mask(cat, country=it.country, now=now, policy=s.policy()) if request.buyable_only else None
        extra = elig
        # vmask None with allowed rows: product-level constraints only, any variant of an allowed row qualifies
        vmask, allowed = allowed_rows(cat, it.constraints, extra)
        order, missed = self._exact_and_near(state, request, it, kind, allowed, vmask, extra)
        if elig is None and request.buyable_first:  # the candidates' variants only: nothing else reads them
            elig = eligible_mask(cat, country=it.country, now=now, policy=s.policy(),
                                 rows=np.fromiter((o[0] for o in order), dtype=np.int64, count=len(order)))
        relevance = {o[0]: (i, o[1]) for i, o in enumerate(order)}  # place and retrieval score, for explain
        order, it, moved_by = arrange(cat, request, it, order, vmask, elig)
        view = View(it, vmask, extra, elig if request.buyable_first else None, now, missed, relevance,
                    marked_words([request.query, *dict(it.corrected).values(), *it.expanded])
                    if request.highlight else None, explain=request.explain, moved_by=moved_by)
        results = [self._result(cat, view, row, score, exact, place)
                   for place, (row, score, exact) in enumerate(order[offset : offset + request.limit], offset)]
        if request.explain:
            add_scores(snap, request.mode, it.ranking_text, results, lambda t: self._vectors.encode(snap, t))
        nxt = offset + request.limit
        return SearchResponse(
            query=request.query, interpreted=interpreted_out(it), results=results,
            facets=answer_facets(cat, request.facets, order, vmask, it, s.text_fallback_attrs)
            if request.facets else {},
            next_cursor=encode_cursor(nxt, request, snap.version, self._cursor_key) if nxt < len(order) else None,
            snapshot=snap.version, took_ms=round((time.perf_counter() - t0) * 1000.0, 3),
        )

    def _prefetch(self, state: _State, request: SearchRequest, it: Interpretation) -> Kind | None:
        """The relevance floor's kind phrase (None: no floor for this query); and, with
        ``prefetch_query_vector``, the encoding of exactly what the ranking asks for first (the ranking text, with
        the kind phrase in the same batch) started on the encoder's thread while the filter runs."""
        kind = kind_phrase(it.text, it.expanded, self.settings.kind_letter_words) \
            if self.settings.kind_threshold is not None and not it.constraints.empty else None
        if self.settings.prefetch_query_vector and request.mode != "bm25" and it.ranking_text.strip():
            self._vectors.prefetch(state.snapshot, [it.ranking_text, *([kind.phrase] if kind is not None else [])])
        return kind

    def _exact_and_near(self, state: _State, request: SearchRequest, it: Interpretation, kind: Kind | None,
                        allowed: np.ndarray | None, vmask: np.ndarray | None,
                        extra: np.ndarray | None) -> tuple[list[Entry], set[int]]:
        """The ranked exact results past the relevance floor (``kind``: its phrase, from :meth:`_prefetch`), then
        (``include_near``) the near matches; and the rows that are not the kind of product asked for."""
        snap, cat, cons = state.snapshot, state.cat, it.constraints
        letters = self.settings.kind_letter_words
        if kind is not None and request.mode != "bm25" and it.ranking_text.strip():
            self._vectors.encode_many(snap, [it.ranking_text, kind.phrase])  # one forward pass for both (cached)
        ranked = self._rank(snap, cat, request.mode, it.ranking_text, allowed, vmask, state.multilingual, it.text)
        order: list[Entry] = [(int(r), float(sc), True) for r, sc in zip(ranked.rows, ranked.scores, strict=True)]
        if kind is not None and not it.expanded:
            # The floor's words know every synonym of the kind (a rucksack is a backpack) even where the ranking
            # text was not expanded (the reader expands only words the catalog rarely uses); the semantic check
            # keeps to the shopper's own phrase.
            every = kind_phrase(it.text, tuple(expansions(it.text, _never_frequent)), letters)
            kind = replace(kind, heads=every.heads) if every is not None else kind
        order = self._modifiers_last(state, it, kind, order)
        missed: set[int] = set()
        below: list[Entry] = []
        if kind is not None:
            missed = self._kind_missed(state, kind, [r for r, _, _ in order])
            below = [(r, sc, False) for r, sc, _ in order if r in missed]  # wrong kind: not an exact result
            order = [o for o in order if o[0] not in missed]
        if request.include_near and not cons.empty:
            near = self._near(snap, cat, request, it, allowed, extra)
            if kind is not None:
                missed |= self._kind_missed(state, kind, [r for r, _, _ in near])
                near = below + near
            order += order_near(cat, cons, near, missed, extra)
        return order, missed

    def _rank(self, snap: Snapshot, cat: CatalogArrays, mode: str, text: str, allowed: np.ndarray | None,
              vmask: np.ndarray | None, multi: np.ndarray | None = None, query_text: str | None = None) -> Ranked:
        return rank(snap, cat, mode, text, allowed, vmask, settings=self.settings,
                    encode=lambda t: self._vectors.encode(snap, t), query_text=query_text,
                    multilingual=(multi, self._vectors.encode_multilingual) if multi is not None else None)

    def _near(self, snap: Snapshot, cat: CatalogArrays, request: SearchRequest, it: Interpretation,
              allowed: np.ndarray | None, extra: np.ndarray | None) -> list[tuple[int, float, bool]]:
        multi = self._state.multilingual
        return near_candidates(snap, cat, request.mode, it, allowed, extra, settings=self.settings,
                               encode=lambda t: self._vectors.encode(snap, t),
                               multilingual=(multi, self._vectors.encode_multilingual) if multi is not None else None)

    def _modifiers_last(self, state: _State, it: Interpretation, kind: Kind | None, order: list[Entry]) -> list[Entry]:
        """:func:`search.retrieval.floor.modifiers_last` for an English query (``modifier_window`` > 0)."""
        if self.settings.modifier_window <= 0 or it.languages[:1] != ("en",) or not order:
            return order
        kind = kind or kind_phrase(it.text, tuple(expansions(it.text, _never_frequent)),
                                   self.settings.kind_letter_words)
        if kind is None:
            return order
        cache = state.modifier

        def terms(row: int) -> tuple[str, ...]:
            if row not in cache:
                cache[row] = main_terms(state.cat.products[row].title or "")
            return cache[row]

        return modifiers_last(order, kind, terms, getattr(state.snapshot.lexical, "doc_lang", None),
                              kind_words(state.snapshot, state.kind_words), frozenset(tokenize(it.text)),
                              self.settings.modifier_window)

    def _kind_missed(self, state: _State, kind: Kind, rows: list[int]) -> set[int]:
        snap = state.snapshot
        return floor_missed(snap, state.cat, kind, rows, threshold=float(self.settings.kind_threshold or 0.0),
                            encode=lambda t: self._vectors.encode(snap, t), terms=state.kind_terms,
                            words=state.kind_words, named_bar=self.settings.kind_named_bar,
                            compounds=self.settings.kind_compounds)

    def _result(self, cat: CatalogArrays, view: View, row: int, score: float, exact: bool, place: int) -> Result:
        it = view.it
        pick = pick_variant(cat, row, it.constraints, exact=exact, vmask=view.vmask, extra=view.extra,
                            buyable=view.buyable, hints=it.hints, text=it.text)
        kind_miss = row in view.missed and not exact
        p = cat.products[row]
        variant = p.variants[pick.variant - int(cat.var_start[row])]
        merchant = cat.merchants.get(p.merchant_id)
        e = assess(p, variant, merchant, country=it.country, crawled_ts=float(cat.prod_crawled[row]), now=view.now,
                   policy=self.settings.policy())
        out = result_out(p, variant, merchant, e, score=score, exact=exact,
                         unmet=[*pick.unmet, *(["product_kind"] if kind_miss else [])])
        return decorate(out, cat, view, row, pick, place)

    # --- product and check ----------------------------------------------------------------------

    def get_product(self, doc_id: str, country: str = "US") -> ProductOut:
        """A product with all its variants and each variant's eligibility for ``country``."""
        state = self._state
        row = state.snapshot.row_of(doc_id)
        if row is None:
            raise NotFoundError(f"no product {doc_id!r} in snapshot {state.snapshot.version}")
        p = state.cat.products[row]
        m = state.cat.merchants.get(p.merchant_id)
        now = float(self._clock())
        crawled = float(state.cat.prod_crawled[row])
        elig = [assess(p, v, m, country=country.upper(), crawled_ts=crawled, now=now, policy=self.settings.policy())
                for v in p.variants]
        return product_out(p, m, elig)

    def check(self, request: CheckRequest) -> CheckResponse:
        """Live re-check of cart items against the merchants (see :mod:`search.checkout.live`)."""
        from search.checkout.live import LiveChecker

        state = self._state
        with self._lock:
            if self._checker is None:
                self._checker = LiveChecker(self.settings, http=self._http)
        return self._checker.check(request, state.cat, now=float(self._clock()))


def search(request: SearchRequest, *, engine: Engine) -> SearchResponse:
    """Function form of :meth:`Engine.search`."""
    return engine.search(request)
