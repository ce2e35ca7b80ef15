"""Typo tolerance against the catalog's own words: "beenie" → beanie, "hikking bots" → hiking boots.

Public entry points: :func:`speller_for` (the dictionary of one catalog, built once and cached) and
:meth:`Speller.correct` (a text → corrected text + the corrections, echoed as ``interpreted.corrected``).

Rules (documented choices):

* **Never correct a word the catalog has.** A word is known when a product names it (title, tags,
  product type, vendor, option values, the first 2,000 characters of its description), or when query
  understanding knows it (a colour, size or material word, a synonym-table word in any language, a
  function word of the catalogs' languages). SKU fragments are not words: the BM25 index, which holds
  "bot" from a SKU "WI-57700-bot-s", does not decide.
* Only words of **at least 4 letters** are corrected (letters only: codes such as "xl200" or "20l"
  never are); shorter words have too many neighbours to guess safely. Contractions ("don't") and
  capitalised words after the first (names: "Malaysia", a German noun) are left alone, and so is a
  query holding a function word of the catalogs' other languages ("für", "pour", "para", "um"...):
  its words are not typos of the catalog's English.
* Candidates are the catalog's words of 4+ letters (titles, tags, product types and vendors count
  three times a description's first 2,000 characters: the words a product is named by), at edit
  distance (Levenshtein with transpositions: "wahsi" → washi is one edit) 1 for words of 4-6 letters
  and 2 for longer words, and the corrected word must keep the first letter (shoppers rarely mistype
  it; it halves false fixes). The closest wins, then a dropped/doubled letter or a swap over a wrong
  letter ("bots" → boots, not bors), then the most frequent in the catalog, then alphabetical order.
* A correction that is another form of the same word ("horses" → horse: one English stem) is not
  made: BM25 already reads them alike.
* The corrected text is what retrieval ranks by; the original words are not kept.

Cost: the dictionary is built once per catalog when the engine loads a snapshot (a pass over names and
description starts: about 1 s for the 11k shared products on a busy 2-core machine) and cached by
catalog object; a query with no unknown word pays one set look-up per word, a typo about 0.3 ms.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import Stemmer
from rapidfuzz import process
from rapidfuzz.distance import OSA, Indel

from search.query.lexicon import COMMON_WORDS, GLUE_WORDS, SIZE_ADJECTIVES, SIZE_WORDS, lexicon
from search.query.memo import IdentityCache

MIN_LENGTH = 4
_STEMMER = Stemmer.Stemmer("english")
NAME_WEIGHT = 3  # a product naming a word (title, tags, type, vendor) counts this many descriptions
_BODY_CHARS = 2000  # the start of a description: where its product words are
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")
_CANDIDATE = re.compile(r"[^\W\d_]{3,}")

# Function and shopping words of the catalogs' languages that must never be "corrected" to a product word.
_FUNCTION_WORDS = frozenset("""
about above after again against also among another anything around because been before being below between
both cheap cheaper cheapest could does doing down during each every from further have having here into
itself just more most much need needs nothing other over same should some something such than that their
theirs them then there these they this those through under until very want wants what when where which while
whom with within without would your yours please looking find show give shipped shipping ship ships deliver
delivered delivery send under over less bucks quid pounds pound euros euro dollars dollar yen rupees cents
para pour avec sans dans sous mais pero como este esta esto unos unas algo algún alguna cerca desde hasta
entre sobre with über unter nach für eine einen einem einer kein keine nicht oder sehr auch bitte mein
meine avec pour chez leur leurs cette celui celle sont être avoir très aussi moins plus entre depuis vers
uma umas para pelo pela pelos pelas entre sobre como mais menos muito também até desde sem com
pentru care este sunt foarte mult mai fără între despre până
""".split())


# Function words of the catalogs' other languages (none an English word): a query holding one is not corrected.
_FOREIGN = re.compile(r"(?<![\w'’])(?:de|del|los|las|el|para|con|una|une|des|du|les|pour|avec|sur|notre|votre|"
                      r"für|mit|und|ein|eine|einen|meine|mein|ich|nicht|ist|uma|com|não|pelo|pela|dos|nas|nos|"
                      r"della|che|pentru|și|sau|sie|im|um)(?![\w'’])")


def _fold(text: str) -> str:
    low = text.lower()
    if low.isascii():  # most catalog text: no accents to fold
        return low
    decomposed = unicodedata.normalize("NFKD", low)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@functools.cache  # once per process, whether a speller is built here or read from a snapshot's columns
def _protected_words() -> frozenset[str]:
    """Words query understanding knows: never corrected even when the catalog lacks them."""
    from search.query.colours import _shades
    from search.query.synonyms import _table

    lx = lexicon()
    words: set[str] = set(_FUNCTION_WORDS) | set(COMMON_WORDS) | set(GLUE_WORDS)
    for phrase in [*lx.plain_colours, *lx.ambiguous_colours, *lx.materials, *SIZE_ADJECTIVES, *SIZE_WORDS,
                   *_shades()[1]]:
        words.update(re.findall(r"\w+", phrase.lower()))
    for members in _table()[1]:
        for m in members:
            words.update(re.findall(r"\w+", m.lower()))
    return frozenset(_fold(w) for w in words)


@dataclass
class Speller:
    """The correction dictionary of one catalog (see module docstring)."""

    counts: dict[str, int]  # candidate word (folded) → products naming it
    by_first: dict[tuple[str, int], list[str]] = field(default_factory=dict)  # (first letter, length)
    options: frozenset[str] = frozenset()  # words of option values: known, never proposed

    def __post_init__(self) -> None:
        for w in sorted(self.counts):
            self.by_first.setdefault((w[0], len(w)), []).append(w)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (stored beside a memory-mapped snapshot: :mod:`search.filter.columns`)."""
        return {"counts": self.counts, "options": sorted(self.options)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Speller:
        """Inverse of :meth:`to_dict`."""
        return cls(counts={str(k): int(v) for k, v in d["counts"].items()}, options=frozenset(d["options"]))

    def known(self, word: str) -> bool:
        """Is ``word`` (folded) a word of the catalog or of query understanding?"""
        return word in self.counts or word in self.options or word in _protected_words()

    def frequency(self, word: str) -> int:
        """How much the catalog names ``word`` (folded): 3 per product naming it, 1 per description."""
        return self.counts.get(_fold(word), 0)

    def suggest(self, word: str) -> str | None:
        """The catalog word closest to ``word`` (rules in the module docstring), or None."""
        limit = 1 if len(word) <= 6 else 2
        pool = [c for n in range(max(MIN_LENGTH, len(word) - limit), len(word) + limit + 1)
                for c in self.by_first.get((word[0], n), ())]
        if not pool:
            return None
        hits = process.extract(word, pool, scorer=OSA.distance, score_cutoff=limit, limit=None)
        if not hits:
            return None
        # closest first; then a dropped/doubled letter or a swap before a wrong letter ("bots" → boots, not
        # bors; "candel" → candle), then the most common
        best = min(hits, key=lambda h: (h[1], _kind(word, h[0]), -self.counts[h[0]], h[0]))
        return str(best[0])

    def correct(self, text: str) -> tuple[str, dict[str, str]]:
        """``text`` with unknown words of 4+ letters replaced by their correction; the corrections made."""
        corrected: dict[str, str] = {}

        def fix(m: re.Match[str]) -> str:
            surface = m.group()
            word = _fold(surface)
            if len(word) < MIN_LENGTH or not word.isascii() or "'" in word or "’" in word or self.known(word):
                return surface  # short, another script, a contraction ("don't", "we're"), or a catalog word
            if surface[:1].isupper() and m.start() > 0:
                return surface  # a name written as one mid-sentence ("Malaysia", "Tochter"): not a typo to guess
            got = self.suggest(word)
            if got is None or _STEMMER.stemWord(got) == _STEMMER.stemWord(word):
                return surface  # nothing close, or another form of the same word ("horses"/"horse"): BM25 agrees
            corrected[surface] = got
            return got

        if _FOREIGN.search(text.lower()):
            return text, {}  # a query in another language: its words are not typos of the catalog's English
        out = _WORD.sub(fix, text)
        return out, corrected




def _kind(word: str, cand: str) -> int:
    """0 for a one-letter insertion, deletion or swap of neighbours; 1 otherwise (a wrong letter)."""
    if Indel.distance(word, cand) == 1:
        return 0
    return 0 if len(word) == len(cand) and sorted(word) == sorted(cand) else 1


def _words(texts: Iterable[str]) -> Counter[str]:
    c: Counter[str] = Counter()
    for t in texts:
        # findall before folding: folding a word is cheaper than folding a description
        c.update({_fold(w) for w in _CANDIDATE.findall(t)})
    return c


def build_speller(products: Iterable[Any]) -> Speller:
    """The dictionary of one catalog: the words of ``products``' names (rules in the module docstring)."""
    return speller_from_tally(speller_tally(list(products)))


def speller_tally(products: Sequence[Any]) -> dict[str, int]:
    """What :func:`build_speller` counts, additive over products (a rebuild subtracts the tally of the products
    that changed and adds their new one, :mod:`search.filter.columns`): each word's weighted count, and
    ``"\x00" + word`` for the words of option values."""
    named = _words(" ".join([p.title or "", " ".join(p.tags or ()), p.product_type or "", p.vendor or ""])
                   for p in products)
    described = _words((p.body_text or "")[:_BODY_CHARS] for p in products)
    tally = {w: NAME_WEIGHT * named.get(w, 0) + described.get(w, 0) for w in named.keys() | described.keys()}
    options = _words(o.value for p in products for v in p.variants for o in v.options)
    return tally | {"\x00" + w: n for w, n in options.items()}


def speller_from_tally(tally: Mapping[str, int]) -> Speller:
    """The speller of a :func:`speller_tally` (words in sorted order: the same dictionary however it was added up)."""
    words = sorted(w for w, n in tally.items() if n > 0)
    return Speller(counts={w: tally[w] for w in words if not w.startswith("\x00") and w.isascii()},
                   options=frozenset(w[1:] for w in words if w.startswith("\x00")))


_SPELLERS: IdentityCache[Speller] = IdentityCache(4)


def speller_for(products: Any) -> Speller:
    """The cached speller of one catalog (keyed by the ``products`` object, e.g. a snapshot's tuple)."""
    return _SPELLERS.get(products, lambda: build_speller(products))


def remember_speller(products: Any, speller: Speller) -> None:
    """Make ``speller`` the one :func:`speller_for` returns for ``products`` (read from disk, not built)."""
    _SPELLERS.put(products, speller)
