"""The extraction passes of query understanding, run in a fixed order over one query.

One public entry point, :func:`extract`: it fills a :class:`~search.query.state.QueryState` with
:class:`~search.query.state.Found` pieces (kind, character span, values, whether the words leave the
semantic text, whether they are a requirement or evidence). Each pass only reads words no earlier
pass claimed, so "9 carat gold" read as a material is never also a colour, and a vendor such as
"Rosa Rose" never yields the colour "rosa".

Order: availability → price → country → "cheapest" (:mod:`search.query.context`) → vendor → negation
(:mod:`search.query.negation`) → material → sizes (:mod:`search.query.sizes`) → colour → product type →
option-value hints. The rules for each are in
:mod:`search.query.parse`'s docstring.
"""

from __future__ import annotations

import re

from search.query.context import extract_context
from search.query.lexicon import (
    COLOUR_BLOCKING_NEXT,
    COMMON_WORDS,
    LOOSE_COLOUR_AFTER,
    LOOSE_COLOUR_BEFORE,
    MATERIAL_PARENTS,
    METAL_MATERIAL_AFTER,
    METAL_MATERIAL_BEFORE,
    METALS,
    lexicon,
)
from search.query.negation import extract_negations
from search.query.sizes import extract_sizes
from search.query.state import Found, QueryState, before, closest_first, same_language
from search.query.vocabulary import CompiledVocabulary, PhraseIndex, singular


# ---------------------------------------------------------------- vendors
def _vendors(st: QueryState, cv: CompiledVocabulary) -> None:
    shouting = st.s.isupper()
    i = 0
    while i < len(st.words):
        hits = cv.vendors.match(st.words, i) if st.word_free(i) else []
        if not hits:
            i += 1
            continue
        n, name = hits[0]
        a, b = st.spans[i][0], st.spans[i + n - 1][1]
        surface = st.s[a:b]
        vtoks = tuple(st.words[i:i + n])
        common = all(t in COMMON_WORDS for t in vtoks)
        capitalised = surface[:1].isupper() and (i > 0 or (surface.isupper() and len(surface) > 1)) and not shouting
        if name in cv.skip_vendors or (common and not capitalised) or not st.free(a, b):
            i += 1
            continue
        # A brand written as a name ("Sony", "JURA") is a requirement; "makita hedge trimmer" in lower case is
        # ranking evidence only (the word stays in the text either way).
        hard = any(c.isupper() for c in surface) and not shouting
        st.add(Found(a, b, "vendor", cv.vendor_family(name), False, hard=hard))
        i += n


# ---------------------------------------------------------------- phrase helpers
def _lex_index(forms: dict[str, str]) -> PhraseIndex:
    ix = PhraseIndex()
    for form in forms:
        ix.add(tuple(re.findall(r"\w+", form)), form)
    ix.freeze()
    return ix


_LEX = lexicon()
_COLOUR_IX = _lex_index({**_LEX.ambiguous_colours, **_LEX.plain_colours})
_MATERIAL_IX = _lex_index(_LEX.materials)
_PURITY_GOLD = re.compile(r"(?<![\w.])(?P<k>\d{1,2})\s?(?:k|kt|ct|carat|karat|quilates)\s+"
                          r"(?P<m>gold|oro|or|ouro|gelbgold|weißgold|white gold|yellow gold|rose gold)(?![\w])")
_COLOUR_CONTEXT_BEFORE = re.compile(r"(?:\bin|\ben|\bem|\bim|\bcolou?r|\bcolou?rs?\s*:|\bcolou?red|\bcor|\bcouleur|"
                                    r"\bfarbe|\bcolore)\s*[:\-]?\s*$")
_COLOUR_CONTEXT_AFTER = re.compile(r"[\s-]*(?:colou?r(?:ed|s)?|tone[sd]?|farben|farbig|couleur|cor)(?![\w])")


def _colour_context(st: QueryState, a: int, b: int) -> bool:
    before = st.low[max(0, a - 24):a]
    if _COLOUR_CONTEXT_BEFORE.search(before) or _COLOUR_CONTEXT_AFTER.match(st.low, b):
        return True
    # "black and gold": a colour list lends its context to the next word
    m = re.search(r"(\w+)\s*(?:and|or|&|/|y|et|und|e|ou|o)\s*$", before)
    return bool(m and _LEX.plain_colours.get(m.group(1)))


def _phrase_at(st: QueryState, ix: PhraseIndex, i: int) -> tuple[int, str] | None:
    hits = ix.match(st.words, i)
    if not hits:
        return None
    n, payload = hits[0]
    return (n, payload) if st.word_free(i, n) else None


# ---------------------------------------------------------------- materials
def _materials(st: QueryState, cv: CompiledVocabulary | None) -> None:
    for m in _PURITY_GOLD.finditer(st.low):
        if st.free(m.start(), m.end()):
            k = m.group("k")
            purity = (f"{k}ct gold", f"{k}k gold", "gold")
            hard = cv is None or any(v in cv.material_all for v in purity[:2])
            st.add(Found(m.start(), m.end(), "material", purity, False, hard=hard))
    i = 0
    while i < len(st.words):
        vocab_got = _phrase_at(st, cv.material_phrases, i) if cv else None
        lex_got = _phrase_at(st, _MATERIAL_IX, i)
        got = max((g for g in (vocab_got, lex_got) if g), key=lambda g: g[0], default=None)
        if not got:
            i += 1
            continue
        n, form = got
        a, b = st.spans[i][0], st.spans[i + n - 1][1]
        canon = _LEX.materials.get(form)
        colour_too = False  # a metal word the catalog also sells as a colour value: never a hard material filter
        if canon in METALS:
            prev = st.words[i - 1] if i > 0 else ""
            nxt = st.words[i + n] if i + n < len(st.words) else ""
            made = prev in METAL_MATERIAL_BEFORE or nxt in METAL_MATERIAL_AFTER
            if not made and _colour_context(st, a, b):
                i += n
                continue  # "earbuds in gold": a colour, read by the colour pass
            colour_too = not made and _colour_values(cv, form, canon)
        if canon is None:
            values: tuple[str, ...] = (form,)
            own = values
        else:
            found = cv.material_values.get(canon, ()) if cv else ()
            # only spellings in the shopper's language (or English) make the material a requirement: "merino
            # beanie" against a French store's "Laine" option stays evidence (merino → wool → laine is two hops)
            own = (form, canon, *same_language(form, tuple(dict.fromkeys(found)), fallback=False))
            chosen = same_language(form, tuple(dict.fromkeys(found)))
            # the shopper's own word first: "Alpine Merino Beanie" says merino, not wool
            values = (form, *closest_first(form, tuple(dict.fromkeys((*chosen, canon)))),
                      *MATERIAL_PARENTS.get(canon, ()))
            values = tuple(dict.fromkeys(values))
        # A material is a requirement when the catalog sells it as a variant option; a material only named in
        # product words ("organic cotton kurta") is evidence: a hard filter would drop products that omit the word.
        # "gold baby sandals" where gold is a jewellery material *and* sandals come in colour "Dorado": the word
        # is evidence for ranking, not a filter that would drop the Dorado variants.
        hard = (cv is None or any(v in cv.material_all for v in own)) and not colour_too
        st.add(Found(a, b, "material", values, False, hard=hard))
        i += n

def _colour_values(cv: CompiledVocabulary | None, form: str, canon: str | None) -> bool:
    """Does the catalog sell this metal word as a colour ("Dorado", "Gold")? Then it is no hard material filter.

    "gold baby sandals" against a catalog where gold is a jewellery material *and* sandals come in colour
    "Dorado": a material filter would drop every Dorado variant; without a make ("solid gold") or a colour
    context ("in gold") the word is ambiguous, so it ranks (evidence) and filters nothing.
    """
    if cv is None or canon is None:
        return False
    return bool(cv.colour_values.get(_LEX.colour(form) or canon))


# ---------------------------------------------------------------- colours
def _colours(st: QueryState, cv: CompiledVocabulary | None) -> None:
    i = 0
    while i < len(st.words):
        got = _phrase_at(st, cv.colour_phrases, i) if cv else None
        if got:
            n, value = got
            a, b = st.spans[i][0], st.spans[i + n - 1][1]
            # a catalog colour named like a thing ("Red Wine", "Green Tea") needs a colour context
            if value.split()[-1] not in COLOUR_BLOCKING_NEXT or _colour_context(st, a, b):
                st.add(Found(a, b, "color", (value,), True))
                i += n
                continue
        got = _phrase_at(st, _COLOUR_IX, i)
        if not got:
            i += 1
            continue
        n, form = got
        canon = _LEX.colour(form) or form
        a, b = st.spans[i][0], st.spans[i + n - 1][1]
        nxt = st.words[i + n] if i + n < len(st.words) else ""
        before = st.low[max(0, a - 16):a]
        i += n
        if nxt in COLOUR_BLOCKING_NEXT:
            continue  # "green tea", "white noise"
        if form not in _LEX.plain_colours and not _colour_context(st, a, b):
            continue  # "face cream", "olive oil", "charcoal soap"
        if any(before.rstrip().endswith(w) for w in LOOSE_COLOUR_BEFORE) or nxt in LOOSE_COLOUR_AFTER or \
                st.low[b:b + 3] == "ish":
            st.add(Found(a, b, "hint", (form,), False))  # "en tonos lila": a loose preference
            continue
        known = same_language(form, cv.colour_values.get(canon, ())) if cv else ()
        # the shopper's spelling is accepted too: a "Camiseta Negra" with no colour option says negra
        values = tuple(dict.fromkeys((form, *known))) if known else tuple(dict.fromkeys((form, canon)))
        st.add(Found(a, b, "color", values, True))


# ---------------------------------------------------------------- product types and option hints
_TYPE_CUE = re.compile(r"categor|catégorie|kategorie|type|department|section")
_TYPE_CUE_BEFORE = re.compile(r"(?:categor(?:y|ies|ía|ia)|catégorie|kategorie|product type|type)\s*[:=]?\s*(?:of\s+)?$")
_TYPE_CUE_AFTER = re.compile(r"\s*(?:category|categoría|categoria|catégorie|kategorie|department|section)(?![\w])")


_ARTICLES = frozenset({"a", "an", "the"})


def _phrases(st: QueryState, ix: PhraseIndex, kind: str, transform: bool) -> None:
    # articles are skipped so that "comes with a scarf" meets the option value "with scarf"
    keep = [k for k, w in enumerate(st.words) if w not in _ARTICLES]
    words = [singular(st.words[k]) if transform else st.words[k] for k in keep]
    i = 0
    while i < len(words):
        hits = ix.match(words, i)
        if not hits:
            i += 1
            continue
        n = hits[0][0]
        first, last = keep[i], keep[i + n - 1]
        a, b = st.spans[first][0], st.spans[last][1]
        if not st.free(a, b):
            i += 1
            continue
        if kind == "product_type" and not (before(_TYPE_CUE_BEFORE, st.low, a) or _TYPE_CUE_AFTER.match(st.low, b)):
            # the engine filters on product type exactly, and merchants' types are too uneven ("closure",
            # "equipment") to read one from a plain noun: only "category: X" / "X category" count
            i += 1
            continue
        values = tuple(dict.fromkeys(p for _, p in hits)) if kind == "product_type" else (st.low[a:b],)
        st.add(Found(a, b, kind, values, False))
        i += n


def extract(st: QueryState, cv: CompiledVocabulary | None, default_currency: str) -> None:
    """Run every pass over ``st`` in order (see module docstring)."""
    extract_context(st, cv, default_currency)
    if cv is not None:
        _vendors(st, cv)
    extract_negations(st)
    _materials(st, cv)
    extract_sizes(st, cv)
    _colours(st, cv)
    if cv is not None:
        if _TYPE_CUE.search(st.low):
            _phrases(st, cv.types, "product_type", True)
        _phrases(st, cv.option_hints, "hint", False)
