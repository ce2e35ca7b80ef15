"""The relevance floor of strict answers: an exact result must be the kind of product the query names.

Filters alone do not make a result: "Bergwerk backpack under €100 shipped to Germany" must not answer
with Bergwerk hats that happen to meet the price and the destination. A product passes the floor when

* **lexically** the query's head word (its product kind, :func:`kind_phrase`) or one of the synonyms
  the query reader added occurs, stemmed, in the product's title, type or tags, or ends one of those
  words (a closed compound, see below); or
* **semantically** the dense cosine between the query's kind phrase and the product's vector is at
  least ``threshold`` (MiniLM: calibrated on dev with 5-fold cross-validation, see docs/benchmarks.md).

The kind phrase is the query text (after the constraint words were read out) up to its first
connecting word ("for", "with", "under", "to", "de", "pour", "für", ...), and the head is its last
content word (a one-letter word such as "t-shirt" or "e-bike" whole: a shirt is not necessarily a
t-shirt). This holds for head-final English ("washi tape") and head-initial Romance phrases ("cortador de
relva": the phrase ends before "de"). A query with no such word ("something to weigh
my coffee beans", or only filters) names no kind, and the floor does not apply; nor does it when the
head is not a word this catalog names kinds with (:func:`kind_vocabulary`).

**Compounds** (:func:`lexical_match`). German, Dutch and the like build kinds by compounding, and a compound is a
kind of its last part: a "Wanderrucksack" is a "rucksack", a "Bremskabel" a "Kabel". English closed compounds are
often a kind of their own: a "sweatshirt" is not a "shirt", a "wheelchair" not a "chair", a "keychain" not a
"chain", and "bluetooth", "lightweight", "travel" or "holder" end in kind words by accident ("tooth", "weight",
"ravel", "older"). So in a row whose lexical language is English (the lexical index's ``doc_lang``; every row
when the snapshot has none), a word ending in the head counts as the head only when no *longer* word of the
catalog's kind vocabulary ends it: "hairextensions" is an "extension" (no kind word "hairextension"), while
"sweatshirt" and "croppedsweatshirt" are sweatshirts (the catalog names "sweatshirt" as a kind). Rows in other
languages keep every compound. Measured on the shared catalogs (docs/benchmarks.md, "h11c"): the rule blocks
about 1,400 (English term, head) pairs, most of them right ("sweatshirt"/"shirt", "bluetooth"/"tooth",
"travel"/"ravel", "wheelchair"/"chair"), a few true hyponyms ("armchair", "toothbrush", "spotlight") that the
semantic check may still pass; the same rule would block 37 German pairs, all true compounds ("Bremskabel",
"Scheibenbremse"), which is why it is English only. ``EngineSettings.kind_compounds`` = "all" restores the old
rule for every row, "none" drops compounds in English rows altogether.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from indexer.build.lexical import tokenize
from search.query.colours import value_shades

_WORD = re.compile(r"[^\W_]+(?:[-'][^\W_]+)*", re.UNICODE)
_BREAK = frozenset(
    "for with without under over below above to in into from that which who whose i im my our we you your "
    "me us he she it its is are be can could would should will so when while if as at on by per near around "
    "than less more up shipped ship shipping delivered delivery deliver sent send fits "
    "we're i'm i'd you're it's they "
    "de del da do das dos à au aux pour avec sans para con sin por em no na für mit ohne zum zur pentru cu "
    "fara din la".split())
_GENERIC = frozenset(
    "something anything thing things stuff gift gifts present presents item items product products idea ideas "
    "one ones kind sort type some any good nice best cheap new".split())


@dataclass(frozen=True, slots=True)
class Kind:
    """What the query names: its kind phrase and the stemmed head word(s) to find in a product."""

    phrase: str
    heads: tuple[str, ...]
    # What the query reader added for it (synonyms, translations): the semantic check also tries these, so
    # a Spanish kind phrase is compared in English too (MiniLM reads English).
    alternatives: tuple[str, ...] = ()


def kind_phrase(text: str, synonyms: Sequence[str] = (), letter_words: bool = True) -> Kind | None:
    """The query's product kind (see the module docstring); None when the query names none.

    ``letter_words``: a head written as one letter, a hyphen and a word ("t-shirt", "e-bike", "x-ray") is one
    word, its head the whole word (``tshirt``), not the word after the hyphen: the letter makes a narrower kind,
    and a "long sleeve shirt" is not a t-shirt (a "T-Shirt" product holds ``tshirt``; a "tee" comes in as a
    synonym). Other hyphenated heads keep their last part, as the same words written apart would ("lawn-mower"
    is a "mower").
    """
    words = _WORD.findall(text.lower())
    chunk: list[str] = []
    for w in words:
        if w in _BREAK:
            if chunk:
                break
            continue
        chunk.append(w)
    content = [w for w in chunk if tokenize(w) and w not in _GENERIC and not any(c.isdigit() for c in w)]
    if not content:
        return None
    # "lawn mower" is also a "lawnmower": the last two content words written as one
    last = content[-1].replace("-", "") if letter_words and _LETTER_WORD.search(content[-1]) else content[-1]
    joined = tokenize(content[-2] + last)[-1:] if len(content) >= 2 else []
    heads = tuple(dict.fromkeys([*_head(content[-1], letter_words), *joined,
                                 *(t for s in synonyms for t in _head(s, letter_words))]))
    return Kind(" ".join(chunk), heads, tuple(s for s in synonyms if s.strip()))


_LETTER_WORD = re.compile(r"(?:^|\s)[^\W\d_]-([^\W\d_]{2,})$")  # "t-shirt", "gym t-shirt", "e-bike"


def _head(phrase: str, letter_words: bool) -> list[str]:
    """The stemmed head of ``phrase`` (its last term; a final letter word whole: :func:`kind_phrase`)."""
    terms = tokenize(phrase)
    m = _LETTER_WORD.search(phrase.lower()) if letter_words else None
    if m is not None and terms:
        whole = tokenize(phrase.lower()[: m.start(1)].replace("-", "") + m.group(1))  # "t-shirt" -> "tshirt"
        return whole[-1:] if whole else terms[-1:]
    return terms[-1:]


def product_terms(title: str, product_type: str | None, tags: Sequence[str]) -> frozenset[str]:
    """Stemmed terms of what a product *is*: title, type and tags (not the description).

    Adjacent title/type words also count written as one ("Lawn Mower" is a "lawnmower").
    """
    terms = set(tokenize(" ".join([title or "", product_type or "", " ".join(tags)])))
    for name in (title or "", product_type or ""):
        words = _WORD.findall(name.lower())
        for a, b in zip(words, words[1:], strict=False):
            terms.update(tokenize(a + b)[-1:])
    return frozenset(terms)


def lexical_match(kind: Kind, terms: frozenset[str], compounds: frozenset[str] | bool = True) -> bool:
    """A head word is one of the product's terms, or ends one (compounds) when it has 5+ letters.

    ``compounds``: True, every compound counts (compounding languages); False, none does; a set (the catalog's
    kind vocabulary, for English rows): a compound counts unless a word of the set longer than the head ends
    it ("sweatshirt" is not a "shirt" where the catalog names "sweatshirt" as a kind; module docstring).
    """
    joined: str | None = None
    for h in kind.heads:
        if h in terms:
            return True
        if len(h) >= 5 and compounds is not False:
            # "h\0" in "\0t1\0t2\0...": some term ends with h, and is longer (h itself is not a term): one
            # substring search instead of a Python loop over every term (terms are words, never holding a NUL)
            joined = joined if joined is not None else "\0" + "\0".join(terms) + "\0"
            if h + "\0" in joined and (compounds is True or any(
                    open_compound(t, h, compounds) for t in terms if len(t) > len(h) and t.endswith(h))):
                return True
    return False


def open_compound(term: str, head: str, kinds: frozenset[str]) -> bool:
    """``term`` (ending in ``head``) is a kind of ``head``: no word of ``kinds`` longer than ``head`` ends it."""
    return not any(term[i:] in kinds for i in range(len(term) - len(head)))


def passes(kind: Kind, rows: np.ndarray, terms_of: Callable[[int], frozenset[str]], vectors: np.ndarray,
           encode: Callable[[str], np.ndarray], threshold: float, named_bar: float = 0.0,
           compounds: Callable[[int], frozenset[str] | bool] | None = None) -> np.ndarray:
    """Boolean mask over ``rows``: which products are of the kind asked for (lexically or semantically).

    ``named_bar`` > 0: where some of ``rows`` name the kind in their own words, a product that does not must
    reach cosine ``named_bar`` (not just ``threshold``) to the kind phrase. MiniLM reads other languages
    poorly: a German hat lies at 0.23 from "backpack", as close as the store's own Rucksäcke; with products
    named by the kind word at hand, a weak likeness is no evidence. With none (a "Nordmann Fir" for
    "christmas tree"), ``threshold`` alone decides. ``compounds(row)``: :func:`lexical_match`'s compound rule for
    that row (None: every compound counts).
    """
    ok = np.array([lexical_match(kind, terms_of(int(r)), True if compounds is None else compounds(int(r)))
                   for r in rows], dtype=bool)
    if not ok.all() and threshold < 1.0:
        q = encode(kind.phrase)
        rest = np.flatnonzero(~ok)
        sims = vectors[rows[rest]] @ q
        for alt in kind.alternatives[:4]:  # the reader's translations: compared in the encoder's language too
            sims = np.maximum(sims, vectors[rows[rest]] @ encode(alt))
        bar = threshold
        if named_bar > 0 and ok.any():
            bar = max(threshold, named_bar)
        ok[rest] = sims >= bar
    return ok


# Where a title's main phrase ends: "Mobility Scooter Battery - 24V, Blue (2 pack)" → "Mobility Scooter Battery".
# Romance connectors end it too: "Sandalias con Correa de Hebilla" is head-initial, its main phrase "Sandalias".
_MAIN_END = re.compile(r"\s[-\u2013\u2014|/]\s|[,(:;\[]|\s(?:for|with|from|by|in|of|de|del|da|do|con|com|para|"
                       r"pour|avec|en|für|mit|von|cu|pentru|din)\s", re.IGNORECASE)


# Trailing words that do not change what the product is: a sale note, or a collection of the kind ("Bracelet Set"
# is bracelets, "Scooter Bundle" a scooter).
_TRAILING = frozenset("open box clearance edition version new sale refurbished renewed unisex set sets bundle kit pack "
                      "pair pairs combo collection duo trio".split())


def modifier_only(kind: Kind, title: str, vocabulary: frozenset[str], query: frozenset[str] = frozenset()) -> bool:
    """The title names the query's kind only as a modifier of another kind of product.

    English compounds are head-final: a "Mobility Scooter Battery" is a battery, a "Heat Pump Tumble Dryer" a
    dryer, a "T-Shirt Dress" a dress. True when the last word of the title's main phrase (up to its first
    separator or connecting word, numbers and codes skipped) is a word this catalog names kinds with
    (``vocabulary``: :func:`kind_vocabulary`) other than the query's heads, while one of the heads comes
    before it. A title ending in the kind ("Seahorse Patio Sofa"), or in a word that names no kind here
    ("Troy-Bilt Pony"), or in a word of the query itself (``query``, stemmed: "Cooler Backpack" for "a cooler I can
    wear like a backpack", "Cordless Hedge Trimmer" for "hedge trimmer cordless"), or not holding the kind word at
    all, is not one. Trailing colours, sale notes and collection words ("Set", "Bundle") are skipped first.
    """
    return modifier_terms(kind, main_terms(title), vocabulary, query)


def main_terms(title: str) -> tuple[str, ...]:
    """Stemmed terms of the title's main phrase, trailing colours, sale notes and collection words dropped (what
    :func:`modifier_only` reads of a title; it does not depend on the query, so callers cache it per row)."""
    main = _MAIN_END.split(title or "", maxsplit=1)[0]
    words = [w for w in _WORD.findall(main.lower()) if not any(c.isdigit() for c in w)]
    while words and (value_shades(words[-1]) or words[-1] in _TRAILING):  # "... Headphones Black", "... Open Box"
        words.pop()
    return tuple(tokenize(" ".join(words)))


def modifier_terms(kind: Kind, terms: tuple[str, ...], vocabulary: frozenset[str], query: frozenset[str]) -> bool:
    """:func:`modifier_only` over a title's :func:`main_terms`."""
    if len(terms) < 2 or terms[-1] in kind.heads or terms[-1] in query or terms[-1] not in vocabulary:
        return False
    return any(h in terms[:-1] for h in kind.heads)


_MODEL_CODE = re.compile(r"\d{3,}")  # "toro 37807", "Tower T17100" (not "4-wheel")


def modifiers_last(order: list[Any], kind: Kind, terms: Callable[[int], tuple[str, ...]], lang: np.ndarray | None,
                   vocabulary: frozenset[str], query: frozenset[str], window: int) -> list[Any]:
    """``order`` (entries whose first item is a row) with, among its first ``window``, the products that name the
    kind only as a modifier (:func:`modifier_only`; ``terms(row)``: the row's title's :func:`main_terms`) moved
    behind the others, each group in its own order.

    English titles only (``lang``: the lexical index's language per row, 0 = English; None = all): Romance titles
    are head-initial ("Camiseta Cropped Splash Mujer" is a camiseta). A kind phrase holding a model code names
    one product, not a kind ("toro 37807": Toro snow blowers are not Toro accessories), and is left alone.
    """
    if window <= 0 or _MODEL_CODE.search(kind.phrase):
        return order
    head = order[:window]
    moved = {o[0] for o in head
             if (lang is None or int(lang[o[0]]) == 0) and modifier_terms(kind, terms(o[0]), vocabulary, query)}
    if not moved:
        return order
    return [o for o in head if o[0] not in moved] + [o for o in head if o[0] in moved] + order[window:]


def kind_vocabulary(products: Sequence[Any]) -> frozenset[str]:
    """Stemmed words that name product kinds in this catalog: product types and each title's last word.

    The floor applies only when the query's head is one of them, so an adjective left as the head
    ("warm" with a Hats filter) or a word no product is called never empties an answer.
    """
    return frozenset(kind_tally(products))


def kind_tally(products: Iterable[Any]) -> dict[str, int]:
    """How many products name each word of :func:`kind_vocabulary` (additive over products)."""
    words: Counter[str] = Counter()
    for p in products:
        words.update({*tokenize(p.product_type or ""), *tokenize(p.title or "")[-1:]})
    return dict(words)


def kind_missed(cat: Any, vectors: np.ndarray, encode: Callable[[str], np.ndarray], kind: Kind, rows: list[int],
                cache: dict[int, frozenset[str]], threshold: float, vocabulary: frozenset[str],
                named_bar: float = 0.0, lang: np.ndarray | None = None, compounds: str = "open") -> set[int]:
    """Rows (of ``cat``) that are not the kind of product the query names; ``cache`` keeps product terms.

    ``lang``: the lexical language per row (0 = English; None: every row is read as English); ``compounds``:
    "open" (English rows: a compound counts unless it ends in a longer kind word, module docstring), "none"
    (English rows: no compounds), "all" (every compound in every row).
    """
    if not rows or not any(h in vocabulary for h in kind.heads):
        return set()

    def terms_of(row: int) -> frozenset[str]:
        t = cache.get(row)
        if t is None:
            p = cat.products[row]
            t = cache[row] = product_terms(p.title, p.product_type, p.tags)
        return t

    arr = np.asarray(rows, dtype=np.int64)
    # The brand is not the kind: "Bergwerk backpack" must not pass Bergwerk hats on the brand's similarity.
    brand = {w for r in rows for w in _WORD.findall((cat.products[r].vendor or "").lower())}
    phrase = " ".join(w for w in kind.phrase.split() if w not in brand) or kind.phrase
    rule: frozenset[str] | bool = vocabulary if compounds == "open" else compounds == "all"

    def compound_rule(row: int) -> frozenset[str] | bool:
        return rule if lang is None or int(lang[row]) == 0 else True  # compounding languages keep every compound

    ok = passes(Kind(phrase, kind.heads, kind.alternatives), arr, terms_of, vectors, encode, threshold, named_bar,
                compound_rule)
    return {int(r) for r in arr[~ok]}


def order_near(cat: Any, constraints: Any, near: list[tuple[int, float, bool]], missed: set[int],
               extra: np.ndarray | None) -> list[tuple[int, float, bool]]:
    """Near matches: the right kind first, then fewer unmet constraints (best variant), then relevance."""
    from search.filter.variants import variant_unmet

    def unmet_count(row: int) -> int:
        p = cat.products[row]
        span = cat.variants_of(row)
        pool = [v for v in span if extra is None or extra[v]] or list(span)
        return min(len(variant_unmet(cat, row, p.variants[v - span.start], constraints)) for v in pool)

    keyed = sorted(((r in missed), unmet_count(r), i) for i, (r, _, _) in enumerate(near))
    return [near[k[2]] for k in keyed]
