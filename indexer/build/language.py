"""The language of each product (en, es, pt, fr, de, ro), for per-language BM25 analysis.

Neither platform says what language a store writes in (Shopify's ``/meta.json`` and Etsy's shop record
carry no locale; ``../shared/notes/platforms.md``), so it is read from the text, cheaply:

* **Evidence** (:func:`evidence`): function words of each language in the product's own words (title,
  type, tags, option values, description), a word counting ``1/n`` when ``n`` languages share it, plus the
  letters only some of them write (``ñ`` es; ``ã õ`` pt; ``ß ä ö ü`` de; ``ă ș ț`` ro; ``è ê œ`` fr).
* **Store first** (:func:`product_languages`): a store writes in one language far more often than not, so
  the evidence of all its products decides the store's language (English unless another language has
  at least :data:`STORE_MARGIN` times English's evidence); a product keeps its own language only where its
  own evidence is strong (:data:`OWN_MIN` points, :data:`OWN_MARGIN` times the next language): an English
  listing in a Spanish store is analysed as English.

English is the fallback everywhere: a product without evidence is analysed as before per-language
analysis existed.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

import numpy as np

from indexer.build.analysis import LANGUAGES, STOPWORDS, fold
from indexer.models import Product

STORE_MARGIN = 1.5
OWN_MIN = 4.0
OWN_MARGIN = 3.0
TEXT_CHARS = 1200  # of the description: enough words to tell, bounded cost

_WORD = re.compile(r"[^\W\d_]+")
_EN_FUNCTION = frozenset((
    "a an and are as at be but by for if in into is it no not of on or such that the their then there these "
    "they this to was will with you your our we from has have can all more each which also its been only "
    "about out up so than other any new great perfect made use using ideal features").split())
_FUNCTION: dict[str, frozenset[str]] = {lang: (_EN_FUNCTION if lang == "en" else STOPWORDS[lang])
                                        for lang in LANGUAGES}
_SHARED: dict[str, float] = {}
for _lang in LANGUAGES:
    for _w in _FUNCTION[_lang]:
        _SHARED[_w] = _SHARED.get(_w, 0.0) + 1.0
_LETTERS = {"ñ": "es", "ã": "pt", "õ": "pt", "ß": "de", "ä": "de", "ö": "de", "ü": "de", "ă": "ro", "ș": "ro",
            "ş": "ro", "ț": "ro", "ţ": "ro", "è": "fr", "ê": "fr", "œ": "fr", "ù": "fr"}


def evidence(text: str) -> np.ndarray:
    """float64 (len(LANGUAGES),): how much ``text`` looks like each language (module docstring)."""
    out = np.zeros(len(LANGUAGES), dtype=np.float64)
    low = unicodedata.normalize("NFC", text.lower())
    for ch, lang in _LETTERS.items():
        n = low.count(ch)
        if n:
            out[LANGUAGES.index(lang)] += min(n, 3) * 0.5
    for w in _WORD.findall(fold(text)):
        shared = _SHARED.get(w) if len(w) > 1 else None  # letters are option values ("A".."Z"), not words
        if shared:
            weight = 1.0 / shared
            for i, lang in enumerate(LANGUAGES):
                if w in _FUNCTION[lang]:
                    out[i] += weight
    return out


def product_words(p: Product) -> str:
    """The merchant's own words of ``p`` (no labels the recipe adds): what its language is read from."""
    values = " ".join(v for o in p.options for v in o.values)
    return " ".join([p.title, p.product_type or "", " ".join(p.tags), values, (p.body_text or "")[:TEXT_CHARS]])


def decide(ev: np.ndarray, *, margin: float, minimum: float = 0.0) -> str | None:
    """The language ``ev`` points to: its best, when it has ``minimum`` points and ``margin`` times the next
    best (English needs only to be best); None when it does not say."""
    order = np.argsort(-ev, kind="stable")
    best, second = float(ev[order[0]]), float(ev[order[1]])
    if best <= 0 or best < minimum:
        return None
    if LANGUAGES[order[0]] == "en":
        return "en"
    return LANGUAGES[int(order[0])] if best >= margin * second else None


def product_languages(products: Sequence[Product]) -> list[str]:
    """The analysis language of each product (module docstring): the store's, unless its own is clear."""
    own = [evidence(product_words(p)) for p in products]
    stores: dict[str, np.ndarray] = {}
    for p, ev in zip(products, own, strict=True):
        stores[p.merchant_id] = stores.get(p.merchant_id, 0) + ev
    store_lang = {m: decide(ev, margin=STORE_MARGIN) or "en" for m, ev in stores.items()}
    out = []
    for p, ev in zip(products, own, strict=True):
        mine = decide(ev, margin=OWN_MARGIN, minimum=OWN_MIN)
        out.append(mine if mine is not None and ev.max() >= OWN_MIN else store_lang[p.merchant_id])
    return out
