"""The engine's settings: one frozen object, defaults are the documented (and measured) behaviour.

Entry points build it once (the CLI from :class:`indexer.settings.Settings`, benchmarks with their grid) and pass
it to :class:`search.engine.Engine`. Fusion and floor defaults are chosen by 5-fold cross-validation on the dev
set (docs/benchmarks.md, "Relevance on dev-100").
"""

from __future__ import annotations

from dataclasses import dataclass, field

from indexer.errors import ConfigError
from indexer.settings import Settings
from search.filter.eligibility import Policy
from search.retrieval.retrieve import Fusion


@dataclass(frozen=True)
class EngineSettings:
    """Engine knobs. Defaults are the documented behaviour; see each comment."""

    rrf_k: int = 60  # reciprocal rank fusion constant
    # "weighted": convex combination of normalised BM25 and cosine scores over both candidate lists
    # (search.retrieval.retrieve.weighted); "rrf": reciprocal rank fusion; "zscore": sum of z-scores, each
    # retriever standardised by its own top list. On dev-100 zscore beats both (5-fold CV, docs/benchmarks.md).
    fusion: Fusion = "zscore"
    weights: tuple[float, float] = (1.0, 1.0)  # (lexical, dense) fusion weights
    # > 0: the lexical weight times (share of query words the catalog knows) ** this (query-dependent fusion)
    coverage_power: float = 0.0
    # Query-dependent fusion (search.retrieval.retrieve.query_weights): lexical weight × (share of the query's
    # words the best BM25 product holds) ** match_power; dense weight × max(1, query words / length_pivot).
    match_power: float = 0.0
    length_pivot: float = 0.0
    # Fusion over the union (docs/benchmarks.md, third round): every candidate is z-scored on its real BM25 score and
    # cosine (False, default: 5-fold CV on dev-100); True lifts a candidate one retriever ranks below its whole list
    # to that list's last hit. prf_k > 0 moves the dense query toward the first fusion's top prf_k products by
    # prf_beta (Rocchio) and fuses again: on (k=2, beta=0.3), chosen on 5 of 5 folds once its top-10 products were
    # judged (dev-100 5-fold CV 0.800 / 0.763 against 0.789 / 0.753 without; docs/benchmarks.md).
    clip_missing: bool = False
    z_floor: float = 0.0  # > 0: a real score counts no lower than this many deviations below the list's mean
    # The near matches' list (search.retrieval.pipeline.near_candidates) has its own clip_missing: it ranks the
    # whole catalog behind the constraints, where a product one retriever misses is most often one it cannot read
    # (an English query's Spanish "camiseta cropped"). docs/benchmarks.md, "seventh round".
    near_clip_missing: bool = True
    # MiniLM reads English: a product whose lexical language (snapshot doc_lang) is not English has its cosine
    # counted no lower than the dense list's last hit in the z-score fusion (search.retrieval.fusion.zscore,
    # ``unread``); its BM25 match, the lexicon's translations and the multilingual index still rank it.
    # docs/benchmarks.md, "seventh round".
    foreign_dense_floor: bool = True
    prf_k: int = 2
    prf_beta: float = 0.3
    # How the Rocchio pass scores the dense side (search.retrieval.retrieve.rescores_candidates): "never" searches
    # the index again, "always" re-scores the first pass's candidates, "approximate" re-scores where the dense
    # index is approximate (IVF/HNSW, large catalogs: a second probe costs ~2-3 ms at 1M), exact elsewhere.
    prf_rescore: str = "approximate"
    # > 0: every z-score counts no higher than this (one retriever's outlier cannot outvote the others alone).
    z_cap: float = 0.0
    # Query-dependent fusion weights from a linear model (search.retrieval.fusion.model_weights): rows (lexical,
    # dense, multilingual) of coefficients over search.retrieval.fusion.QUERY_FEATURES; replaces weights, the
    # powers above and the multilingual gate. None = off.
    fusion_model: tuple[tuple[float, ...], ...] | None = None
    # Multilingual USE index (aisle index --multilingual) as a third z-score signal, gated by the share of query
    # words the catalog lacks; used when vectors lie beside the snapshot (or in multilingual_dir); 0 = off.
    multilingual_weight: float = 1.0
    multilingual_gated: bool = True
    # Gated: the weight is multilingual_weight × (share of unknown query words) + this, for every query
    # (docs/benchmarks.md, "third round: fusion never far below the better retriever"): 0.2 chosen on 4 of 5
    # folds over {0, 0.1, 0.15, 0.2, 0.25, 0.3} once every top-10 product was judged (dev-100 5-fold CV near
    # 0.827 / strict 0.776 against 0.824 / 0.773 with 0; hybrid > 0.1 below the better single mode on 8 queries,
    # not 11). Without multilingual vectors beside the snapshot it does nothing.
    multilingual_base: float = 0.2
    multilingual_dir: str | None = None
    # Relevance floor (search.retrieval.floor): with constraints, an exact result must be the kind of
    # product the query names, lexically or by MiniLM cosine >= this (5-fold CV on dev-100) to its kind phrase
    # (calibrated on dev, 5-fold CV); None switches the floor off. Near matches that miss the kind come last.
    kind_threshold: float | None = 0.2
    # > 0: where some candidates name the kind in their own words, the others must reach this cosine to pass
    # semantically (search.retrieval.floor.passes): chosen on 5 of 5 folds (dev-100 5-fold CV near 0.813).
    kind_named_bar: float = 0.5
    # Compounds in English rows (search.retrieval.floor, module docstring): "open" = a word ending in the kind asked
    # for counts as that kind unless a longer kind word of the catalog ends it ("sweatshirt" is not a "shirt");
    # "none" = no compounds in English rows; "all" = every compound (the rule before). Other languages keep every
    # compound ("Wanderrucksack" is a "Rucksack"). docs/benchmarks.md, "h11c".
    kind_compounds: str = "open"
    # True: a kind written as one letter, a hyphen and a word ("t-shirt", "e-bike") is that whole word, not the word
    # after the hyphen (search.retrieval.floor.kind_phrase: a "long sleeve shirt" is not a t-shirt). docs/benchmarks.md,
    # "h11c".
    kind_letter_words: bool = True
    # > 0: among the first this many results of an English query, a product naming the kind asked for only as a
    # modifier of another kind ("Mobility Scooter Battery", "Heat Pump Tumble Dryer") moves behind the others
    # (search.retrieval.floor.modifier_only; every mode, with or without constraints). 0 = off. 12 (a page and a
    # little) scores as 50 on dev-100 (5-fold CV over {0, 12, 20, 50}: 12 chosen on 4 folds) and reads a quarter
    # of the titles: each is a product record read per query (docs/benchmarks.md, "fifth round").
    modifier_window: int = 12
    # Query encoder (search.retrieval.encoding.load_query_encoder): "auto" = ONNX Runtime fp32 when usable, else
    # torch; "onnx"; "torch". Both give a torch- or onnx-built snapshot's own vectors (an onnx-int8 snapshot is
    # always queried with int8): ONNX encodes a query in ~4 ms against ~15 ms (docs/benchmarks.md, issue 11).
    # The default reads AISLE_QUERY_BACKEND through indexer.settings.Settings (so HTTP worker processes see it).
    query_backend: str = field(default_factory=lambda: Settings.from_env().query_backend)
    # Start encoding the query (and the floor's kind phrase) on one background thread as soon as the interpretation
    # knows the text, so the encoder runs beside the filter and BM25 scoring (search.retrieval.encoding, "Prefetch"):
    # the same vectors, a few ms off a dense or hybrid search at 1M products (docs/benchmarks.md, "Query encoding
    # beside the filter"). False: encode when the ranking asks, on the request's thread.
    prefetch_query_vector: bool = True
    candidate_depth: int = 200  # rows ranked per retriever; also the deepest page a cursor reaches
    exact_threshold: int = 20_000  # allowed sets up to this size are scored exactly (vectors[allowed] @ q)
    # IVF lists probed per dense search without a selective filter (search.retrieval.filtered); below 10 % of the
    # rows allowed, nprobe * (0.1 / share) ** nprobe_power (the rarer the allowed rows, the more lists hold the ten
    # nearest). None = the index's own, stored at build (indexer.build.ivf.NPROBE, 32). Search-time knobs, no
    # rebuild: an absolute count, as FAISS and the build read it; the sharded engine passes both to every shard.
    # Catalogs up to indexer.build.dense.EXACT_MAX_ROWS have an exact (flat) index: no effect there.
    # (64, 0.6): the cheapest pair whose answers at 1M keep the old table's recall at every selectivity (engine
    # recall@10 0.99 / 0.996 / 0.9965 / 1.0 at 100 / 10 / 1 / 0.1 %, against 0.985 / 0.991 / 0.9965 / 1.0 with the
    # index's 32 and 0.9, for ~+1.5 ms a dense search without a filter); docs/benchmarks.md, "IVF probing".
    nprobe: int | None = 64
    nprobe_power: float = 0.6
    stale_ttl_s: float | None = 24 * 3600.0  # data read longer ago is stale_data; None/0 = never stale
    max_quantity_per_item: int = 10  # quantity_exceeded above this (1 = today's single-item chat checkouts)
    http_timeout_s: float = 5.0  # per merchant request in a live re-check
    # Entry points pass the key from indexer.settings.Settings; the default reads AISLE_ETSY_API_KEY through it.
    etsy_api_key: str | None = field(default_factory=lambda: Settings.from_env().etsy_api_key)
    etsy_tokens: str | None = None  # workspace home: its etsy/tokens/ are the connected shops (indexer.crawl.etsy_auth)
    text_fallback_attrs: frozenset[str] | None = None  # attributes product text may meet; None = all
    vendor_in_title: bool = True  # a brand as a whole-word phrase in the title meets a vendor constraint
    rank_with_constraint_words: bool = True  # rank by the remaining text plus the constraint words
    check_workers: int = 8  # merchants re-checked in parallel
    # Live re-check egress (search.checkout.live): private hosts it may reach (AISLE_ALLOW_HOSTS), products read live
    # per call and per merchant per call (items past a cap: not_checked), seconds a fresh answer is reused.
    allow_hosts: tuple[str, ...] = field(default_factory=lambda: Settings.from_env().allow_hosts)
    check_max_products: int = 20
    check_max_per_merchant: int = 8
    check_cache_ttl_s: float = 10.0
    check_merchant_per_minute: int = 120  # products read live from one merchant per minute, all calls together

    def __post_init__(self) -> None:
        if self.nprobe is not None and (isinstance(self.nprobe, bool) or int(self.nprobe) < 1):
            raise ConfigError(f"nprobe must be a positive number of lists or None, not {self.nprobe!r}")
        if not 0.0 <= float(self.nprobe_power) <= 2.0:
            raise ConfigError(f"nprobe_power must be between 0 and 2, not {self.nprobe_power!r}")
        if self.kind_compounds not in ("open", "none", "all"):
            raise ConfigError(f"kind_compounds must be open, none or all, not {self.kind_compounds!r}")
        if self.prf_rescore not in ("never", "approximate", "always"):
            raise ConfigError(f"prf_rescore must be never, approximate or always, not {self.prf_rescore!r}")

    def policy(self) -> Policy:
        return Policy(stale_ttl_s=self.stale_ttl_s, max_quantity_per_item=self.max_quantity_per_item)
