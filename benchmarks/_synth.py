"""Synthetic scale-up of the shared catalogs for ``benchmarks/scale.py``: real products, perturbed copies.

What a catalog of ``n`` products is made of (deterministic for a seed):

* **Content**: the real products of ``../shared/catalogs`` (parsed with :mod:`indexer.crawl.parse`). Below
  11,046 rows, a random sample of them; above, every real product once (unchanged) and then perturbed
  copies: a new product id, handle, SKU and variant ids; colours re-drawn from a palette of common
  colour names (consistently within a product, so "Red / S" and "Red / M" stay one colour); a price
  factor per copy (0.80-1.25); each variant's availability re-drawn (90 % keep the original's); one copy
  in five gets an edition word in front of its title ("Classic", "Mini"...). Sizes, materials, tags
  and descriptions stay the real ones: that is what a marketplace with many sellers of similar goods
  looks like. Immutable sub-records (option values, variant titles) are shared between copies, so
  1M products fit in memory.
* **Merchants**: :data:`GROUPS` synthetic Shopify stores (``scale-0042.myshopify.com``); row ``i``
  belongs to store ``perm[i] % GROUPS`` for a seeded permutation, so with ``n`` a multiple of
  :data:`GROUPS` every store holds exactly ``n / GROUPS`` products, scattered over the rows (like a
  colour filter, not a contiguous block). A merchant filter naming the first ``s * GROUPS`` stores
  therefore allows **exactly** a fraction ``s`` of the catalog: 100 %, 10 %, 1 %, 0.1 %.
* **Vectors**: ``normalise(v_orig + noise * u)``, ``u`` a random unit vector per copy (``noise`` 0.6:
  a copy has cosine ~0.86 with its original, ~0.75 with a sibling copy). ``v_orig`` is the real
  all-MiniLM-L6-v2 vector of the original (source ``model``: read from the shared-catalog snapshot
  that ``benchmarks/_shared_index.py`` builds, or embedded once and cached) or the
  :class:`~indexer.build.embed.HashingEncoder` vector of its text (source ``hashing``: the CI smoke run).
  The clusters this gives are what real catalogs have and what makes ANN indexes work; pure random
  384-d vectors (every point equidistant) would be a different, harder and unrealistic benchmark.
* **Queries**: the 40 dev queries (``../shared/eval/dev``) plus shortened titles of sampled real
  products (first 3 to 5 words), encoded with the same source (``model``: the real model, cached).

Public entry point: :func:`synth_catalog`. Helpers: :func:`queries`, :func:`allowed_merchants`.
"""

from __future__ import annotations

import functools
import hashlib
import json
import sys
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks._shared_index import DEFAULT_CATALOGS, parse_shared_catalogs  # noqa: E402
from indexer.build.embed import HashingEncoder  # noqa: E402
from indexer.build.text import product_text  # noqa: E402
from indexer.models import Merchant, Option, OptionValue, Product  # noqa: E402

GROUPS = 1000
DIM = 384
NOISE = 0.6
MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
HASHING_NAME = f"hashing-{DIM}"
SHARED_HOME = Path("/work/bench-home")
DEV_QUERIES = REPO.parent / "shared" / "eval" / "dev" / "queries.jsonl"
CRAWLED_AT = "2026-01-01T00:00:00+00:00"
PALETTE = ("Black", "White", "Red", "Blue", "Navy", "Green", "Olive", "Grey", "Beige", "Brown", "Pink", "Purple",
           "Yellow", "Orange", "Teal", "Burgundy", "Cream", "Charcoal", "Sage", "Mustard", "Ivory", "Tan",
           "Coral", "Lavender", "Silver", "Gold", "Khaki", "Turquoise", "Mint", "Rust")
EDITIONS = ("Classic", "Premium", "Mini", "Essential", "Deluxe", "Everyday", "Travel", "Pro")
SHIPS_TO = ("US", "CA", "GB", "AU", "DE", "FR", "NL", "IE", "NZ")


@dataclass(frozen=True)
class SynthCatalog:
    """A scaled-up catalog: products (row order), their merchants, vectors and the store of each row."""

    products: list[Product]
    merchants: list[Merchant]
    crawled_at: dict[str, str]
    vectors: np.ndarray  # float32 (n, DIM), L2-normalised
    group: np.ndarray  # int32 (n,): index of the row's merchant in `merchants`
    source: np.ndarray  # int32 (n,): index of the real product the row copies
    model: str  # encoder name whose query vectors match `vectors`

    def __len__(self) -> int:
        return len(self.products)


@functools.lru_cache(maxsize=2)
def _originals(catalogs: Path) -> list[Product]:
    """The real products of ``catalogs`` (parsed once per process: 11k products take a few seconds)."""
    return parse_shared_catalogs(catalogs)[1]


def merchant_id(g: int) -> str:
    """The synthetic store id of group ``g``."""
    return f"scale-{g:04d}.myshopify.com"


def allowed_merchants(selectivity: float, groups: int = GROUPS) -> list[str] | None:
    """Merchant ids whose products are exactly a fraction ``selectivity`` of the catalog (None = all)."""
    if selectivity >= 1.0:
        return None
    k = round(selectivity * groups)
    if k < 1 or abs(k - selectivity * groups) > 1e-9:
        raise ValueError(f"selectivity {selectivity} is not a multiple of 1/{groups}")
    return [merchant_id(g) for g in range(k)]


def _merchants(groups: int) -> list[Merchant]:
    return [Merchant(merchant_id(g), "shopify", f"Scale Store {g:04d}", f"https://scale-{g:04d}.example", "USD",
                     country="US", ships_to=SHIPS_TO) for g in range(groups)]


def _normalise(x: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(x, axis=1, keepdims=True)
    n[n == 0] = 1.0
    return (x / n).astype(np.float32)


def _cache_dir(cache: Path | None) -> Path | None:
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
    return cache


def _model_vectors(texts: list[str], cache: Path | None, tag: str) -> np.ndarray:
    """Real model vectors of ``texts``, cached by a hash of the texts (embedding 11k products takes minutes)."""
    key = hashlib.sha256("\x1e".join(texts).encode()).hexdigest()[:16]
    path = cache / f"{tag}-{key}.npy" if cache is not None else None
    if path is not None and path.exists():
        return np.load(path, allow_pickle=False)
    from indexer.build.embed import load_encoder

    # torch: the backend of the shared snapshot the catalog vectors come from (SHARED_HOME)
    vec = np.asarray(load_encoder(None, backend="torch").encode(texts, batch_size=64), dtype=np.float32)
    if path is not None:
        np.save(path, vec, allow_pickle=False)
    return vec


def original_vectors(originals: list[Product], source: str, cache: Path | None) -> np.ndarray:
    """Vectors of the real products: ``model`` (shared snapshot when it has them all, else embedded) or ``hashing``."""
    if source == "hashing":
        return HashingEncoder(DIM).encode([product_text(p) for p in originals])
    if source != "model":
        raise ValueError(f"unknown vector source {source!r} (model or hashing)")
    snap_dir = _shared_snapshot_dir()
    if snap_dir is not None:
        ids = json.loads((snap_dir / "idmap.json").read_text("utf-8"))["doc_ids"]
        row = {d: i for i, d in enumerate(ids)}
        if all(p.doc_id in row for p in originals):
            vec = np.load(snap_dir / "vectors.npy", mmap_mode="r", allow_pickle=False)
            return np.ascontiguousarray(vec[[row[p.doc_id] for p in originals]], dtype=np.float32)
    return _model_vectors([product_text(p) for p in originals], cache, "originals")


def _shared_snapshot_dir() -> Path | None:
    try:
        version = (SHARED_HOME / "indexes" / "CURRENT").read_text("utf-8").strip()
        d = SHARED_HOME / "indexes" / version
        m = json.loads((d / "manifest.json").read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return d if m.get("model") == MODEL_NAME and m.get("dim") == DIM else None


class _Perturber:
    """Makes perturbed copies of real products, sharing immutable sub-records between copies."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.next_id = 9_000_000_000_000
        self._ov: dict[tuple[str, str, str], OptionValue] = {}
        self._str: dict[str, str] = {}

    def _intern(self, s: str) -> str:
        return self._str.setdefault(s, s)

    def _option_value(self, name: str, canonical: str, value: str) -> OptionValue:
        key = (name, canonical, value)
        ov = self._ov.get(key)
        if ov is None:
            ov = self._ov[key] = OptionValue(name, canonical, value)
        return ov

    def _new_id(self) -> str:
        self.next_id += 1
        return str(self.next_id)

    def copy(self, p: Product, g: int, copy_no: int) -> Product:
        """Copy ``copy_no`` of ``p`` in store ``g`` (copy 0 keeps the real content, with new ids)."""
        rng = self.rng
        mid = merchant_id(g)
        pid = self._new_id()
        handle = f"{p.handle or pid}-{copy_no}" if copy_no else (p.handle or pid)
        colours: dict[str, str] = {}
        if copy_no:
            originals = {ov.value for v in p.variants for ov in v.options if ov.canonical == "color"}
            drawn = rng.permutation(len(PALETTE))
            colours = {c: PALETTE[int(drawn[i % len(PALETTE)])] for i, c in enumerate(sorted(originals))}
        factor = float(rng.uniform(0.80, 1.25)) if copy_no else 1.0
        flips = rng.random(len(p.variants)) < 0.10 if copy_no else np.zeros(len(p.variants), dtype=bool)
        variants = []
        for i, v in enumerate(p.variants):
            values = tuple(self._option_value(ov.name, ov.canonical, colours.get(ov.value, ov.value))
                            if ov.canonical == "color" else ov for ov in v.options)
            title = self._intern(" / ".join(o.value for o in values)) if values and copy_no else v.title
            price = None if v.price is None else max(1, int(round(v.price * factor)))
            compare = None if v.compare_at is None else max(1, int(round(v.compare_at * factor)))
            available = (not v.available) if flips[i] else v.available
            sku = f"{v.sku}-{copy_no}" if v.sku and copy_no else v.sku
            variants.append(replace(v, variant_id=self._new_id(), title=title, price=price, compare_at=compare,
                                    available=available, options=values, sku=sku))
        options = p.options
        if colours:
            options = tuple(
                Option(o.name, o.canonical, tuple(dict.fromkeys(colours.get(x, x) for x in o.values)))
                if o.canonical == "color" else o for o in p.options)
        title = p.title
        if copy_no and rng.random() < 0.2:
            title = f"{EDITIONS[int(rng.integers(len(EDITIONS)))]} {p.title}"
        base = f"https://scale-{g:04d}.example"
        return replace(p, doc_id=f"shopify:{mid}:{pid}", platform="shopify", merchant_id=mid, product_id=pid,
                       title=title, url=f"{base}/products/{handle}", handle=handle, variants=tuple(variants),
                       options=options, updated_at=CRAWLED_AT)


def _layout(n: int, n_orig: int, groups: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(source original, copy number, store) of every row: cheap and deterministic for a seed."""
    rng = np.random.default_rng(seed)
    if n <= n_orig:
        src = np.sort(rng.choice(n_orig, size=n, replace=False)).astype(np.int32)
    else:
        src = np.concatenate([np.arange(n_orig), rng.integers(0, n_orig, size=n - n_orig)]).astype(np.int32)
    copy_no = np.zeros(n, dtype=np.int32)
    seen = np.zeros(n_orig, dtype=np.int32)
    for i, s in enumerate(src.tolist()):  # the k-th use of an original is its copy k
        copy_no[i] = seen[s]
        seen[s] += 1
    group = (rng.permutation(n) % groups).astype(np.int32)
    return src, copy_no, group


def _vectors(orig_vec: np.ndarray, src: np.ndarray, copy_no: np.ndarray, seed: int, noise: float) -> np.ndarray:
    vectors = np.empty((len(src), orig_vec.shape[1]), dtype=np.float32)
    vrng = np.random.default_rng(seed + 1)
    for start in range(0, len(src), 65_536):
        stop = min(len(src), start + 65_536)
        base = orig_vec[src[start:stop]]
        u = _normalise(vrng.standard_normal(base.shape, dtype=np.float32))
        scale = np.where(copy_no[start:stop] > 0, noise, 0.0).astype(np.float32)[:, None]
        vectors[start:stop] = _normalise(base + scale * u)
    return vectors


def synth_catalog(
    n: int,
    *,
    source: str = "model",
    seed: int = 7,
    groups: int = GROUPS,
    catalogs: Path = DEFAULT_CATALOGS,
    cache: Path | None = None,
    noise: float = NOISE,
    with_products: bool = True,
    with_vectors: bool = True,
) -> SynthCatalog:
    """A catalog of ``n`` products (see the module docstring). ``with_products=False`` skips the Python
    records (vectors and stores only: what the peer engines need), ``with_vectors=False`` the vectors
    (an empty array: take them from :func:`cached_arrays`, which are the same)."""
    cache = _cache_dir(cache)
    originals = _originals(catalogs)
    if not originals:
        raise FileNotFoundError(f"no products under {catalogs}")
    src, copy_no, group = _layout(n, len(originals), groups, seed)
    if with_vectors:
        vectors = _vectors(original_vectors(originals, source, cache), src, copy_no, seed, noise)
    else:
        vectors = np.zeros((0, DIM), dtype=np.float32)
    products: list[Product] = []
    if with_products:
        pert = _Perturber(np.random.default_rng(seed + 2))
        products = [pert.copy(originals[s], g, c) for s, g, c in zip(src.tolist(), group.tolist(), copy_no.tolist(),
                                                                      strict=True)]
    return SynthCatalog(
        products=products,
        merchants=_merchants(groups),
        crawled_at={p.doc_id: CRAWLED_AT for p in products},
        vectors=vectors,
        group=group,
        source=src,
        model=MODEL_NAME if source == "model" else HASHING_NAME,
    )


def data_dir(cache: Path, n: int, source: str, seed: int, groups: int = GROUPS) -> Path:
    """Folder of :func:`cached_arrays`'s files (``vectors.npy``, ``group.npy``, ``source.npy``)."""
    return cache / f"data-n{n}-{source}-s{seed}-g{groups}"


def cached_arrays(n: int, *, source: str = "model", seed: int = 7, groups: int = GROUPS,
                  cache: Path | None = None, catalogs: Path = DEFAULT_CATALOGS) -> SynthCatalog:
    """:func:`synth_catalog` without the product records, its arrays stored under ``cache`` (``.npy``) so that
    every engine's subprocess reads the same vectors and stores in a second instead of regenerating them."""
    folder = data_dir(cache, n, source, seed, groups) if cache is not None else None
    names = ("vectors", "group", "source")
    if folder is not None and all((folder / f"{x}.npy").exists() for x in names):
        arr = {x: np.load(folder / f"{x}.npy", mmap_mode="r" if x == "vectors" else None, allow_pickle=False)
               for x in names}
    else:
        c = synth_catalog(n, source=source, seed=seed, groups=groups, catalogs=catalogs, cache=cache,
                          with_products=False)
        arr = {"vectors": c.vectors, "group": c.group, "source": c.source}
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
            for x in names:
                tmp = folder / f".{x}.tmp.npy"
                np.save(tmp, arr[x], allow_pickle=False)
                tmp.replace(folder / f"{x}.npy")
    return SynthCatalog([], _merchants(groups), {}, arr["vectors"], arr["group"], arr["source"],
                        MODEL_NAME if source == "model" else HASHING_NAME)


def queries(n: int, *, source: str = "model", seed: int = 11, catalogs: Path = DEFAULT_CATALOGS,
            cache: Path | None = None) -> tuple[list[str], np.ndarray]:
    """``n`` query texts (dev queries first, then shortened real titles) and their vectors."""
    texts: list[str] = []
    if DEV_QUERIES.exists():
        with open(DEV_QUERIES, encoding="utf-8") as fh:
            texts = [json.loads(line)["query"] for line in fh if line.strip()]
    texts = [t for t in texts if t.strip()][:n]
    if len(texts) < n:
        originals = _originals(catalogs)
        rng = np.random.default_rng(seed)
        for i in rng.permutation(len(originals)).tolist():
            words = originals[i].title.split()
            if len(words) < 2:
                continue
            t = " ".join(words[: int(rng.integers(3, 6))])
            if t not in texts:
                texts.append(t)
            if len(texts) >= n:
                break
    if source == "hashing":
        return texts, HashingEncoder(DIM).encode(texts)
    return texts, _model_vectors(texts, _cache_dir(cache), "queries")
