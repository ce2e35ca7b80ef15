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
from collections.abc import Mapping, Sequence

import numpy as np

from indexer.build.analysis import LANGUAGES, STOPWORDS, fold, stem, tagged
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


def product_evidence(p: Product) -> np.ndarray:
    """:func:`evidence` of ``p``'s own words (a function of the product alone: a rebuild keeps an unchanged one's)."""
    return evidence(product_words(p))


def product_languages(products: Sequence[Product], own: Sequence[np.ndarray] | np.ndarray | None = None) -> list[str]:
    """The analysis language of each product (module docstring): the store's, unless its own is clear.
    ``own``: each product's :func:`product_evidence` when the caller has them (:mod:`indexer.build.records`)."""
    own = [product_evidence(p) for p in products] if own is None else own
    stores: dict[str, np.ndarray] = {}
    for p, ev in zip(products, own, strict=True):
        stores[p.merchant_id] = stores.get(p.merchant_id, 0) + ev
    store_lang = {m: decide(ev, margin=STORE_MARGIN) or "en" for m, ev in stores.items()}
    out = []
    for p, ev in zip(products, own, strict=True):
        mine = decide(ev, margin=OWN_MARGIN, minimum=OWN_MIN)
        out.append(mine if mine is not None and ev.max() >= OWN_MIN else store_lang[p.merchant_id])
    return out


def query_languages(text: str, vocab: Mapping[str, int], lang_df: np.ndarray,
                    lang_docs: np.ndarray) -> tuple[str, ...]:
    """The languages a query is analysed in: English, plus the catalog language its words point to.

    Each plain word votes for the languages whose documents use its stem in that language (``lang_df``:
    documents per term and language, over ``vocab``), in proportion to the stem's document frequency among
    that language's documents (``lang_docs``: a small Spanish store weighs as much as the English majority);
    stop words and letters add twice their :func:`evidence`. Another language is added when it beats English;
    an English query is analysed in English alone, exactly as before per-language analysis.
    """
    others = [i for i in range(1, len(LANGUAGES)) if lang_docs[i] > 0]
    if not others:
        return ("en",)
    cand = [0, *others]
    score = 2.0 * evidence(text)[cand]  # function words and letters: the surest sign, also in short queries
    for w in _WORD.findall(fold(text)):
        if len(w) < 2 or any(w in STOPWORDS[LANGUAGES[li]] for li in cand):
            continue  # already counted by evidence; a stop word has no tagged stem to vote with
        share = np.zeros(len(cand))
        for j, li in enumerate(cand):
            term = stem(w) if li == 0 else tagged(w, LANGUAGES[li])
            t = vocab.get(term) if term else None
            if t is not None and t < len(lang_df) and lang_docs[li] > 0:
                share[j] = lang_df[t, li] / lang_docs[li]
        if share.sum() > 0:
            score += share / share.sum()
    best = int(np.argmax(score[1:])) + 1
    return ("en", LANGUAGES[cand[best]]) if score[best] > score[0] else ("en",)
