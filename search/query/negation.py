"""Negated colours and materials: "a scarf, not black" is an exclusion, never a filter FOR black.

One public entry point, :func:`extract_negations`, a pass of :func:`search.query.rules.extract` that runs
before the colour and material passes, so a negated word is never read as a wanted one.

Rules (documented choices):

* A negation cue followed (after optional filler: "in", "the", "a", "colour", ":") by a colour or material
  word makes that word an exclusion; a list joined by "or" / "and" / "nor" / "," / "/" is excluded whole
  ("any colour but red or black").
* Cues: "not", "no", "non", "isn't", "is not", "aren't", "that isn't", "except", "but not", "anything but",
  "any colour except/but/other than/apart from/besides", "other than", "without", "never"; "sin", "excepto",
  "menos", "salvo" (es); "pas", "pas de", "sauf", "sans", "non" (fr); "nicht", "kein", "keine", "außer",
  "ohne" (de); "não", "sem", "exceto" (pt); "tranne", "senza" (it).
* The cue, the fillers and the words leave the text ("hiking boots in any colour except black, size 9" ranks
  by "hiking boots"). A cue followed by anything else ("no-show socks", "not too heavy") is left alone.
* Values are the shopper's word plus the lexicon's canonical (English) colour or material; the filter
  widens a colour to its family's catalog values (:func:`search.query.exclusions.resolve_exclusions`).
"""

from __future__ import annotations

import re

from search.query.lexicon import lexicon
from search.query.state import Found, QueryState
from search.query.state import alternation as _alt

_CUES = (
    "not", "no", "non", "isn't", "isnt", "is not", "aren't", "arent", "are not", "that isn't", "that is not",
    "which isn't", "which is not", "that aren't", "that are not", "except", "except for", "but not",
    "anything but", "anything except", "other than", "apart from", "without", "never", "nothing in",
    "sin", "excepto", "menos", "salvo", "que no sea", "pas", "pas de", "pas en", "sauf", "sans", "nicht",
    "nicht in", "kein", "keine", "keinen", "außer", "ausser", "ohne", "não", "nao", "sem", "exceto", "tranne",
    "senza",
)
_ANY_COLOUR = (r"(?:(?:in|of|en)\s+)?(?:any|every|all)\s+(?:other\s+)?(?:colou?rs?|shades?|tones?)\s*,?\s*"
               r"(?:but|except|except for|other than|apart from|besides|save)")
_CUE = re.compile(rf"(?<![\w'’-])(?:{_ANY_COLOUR}|{_alt(list(_CUES))})(?![\w'’-])")
_FILLER = frozenset("in the a an colour color coloured colored couleur farbe cor en de in".split())
_JOIN = frozenset("or and nor ni ou oder o y et und e".split())


def _read_list(st: QueryState, i: int) -> tuple[int, list[tuple[str, str, str]]]:
    """From word ``i``: the colour/material words of a list → (index after the list, [(kind, form, canon)])."""
    lex = lexicon()
    got: list[tuple[str, str, str]] = []
    while i < len(st.words):
        w = st.words[i]
        two = f"{w} {st.words[i + 1]}" if i + 1 < len(st.words) else ""
        if got and w in _JOIN:
            i += 1
            continue
        if not got and w in _FILLER:
            i += 1
            continue
        hit = None
        for form, n in ((two, 2), (w, 1)):
            if not form:
                continue
            if (c := lex.colour(form)) is not None:
                hit = ("color", form, c, n)
                break
            if (m := lex.materials.get(form)) is not None:
                hit = ("material", form, m, n)
                break
        if hit is None or not st.word_free(i, hit[3]):
            break
        got.append(hit[:3])
        i += hit[3]
    return i, got


def extract_negations(st: QueryState) -> None:
    """Add an ``exclude_color`` / ``exclude_material`` piece for every negated list (module docstring)."""
    for m in _CUE.finditer(st.low):
        if not st.free(m.start(), m.end()):
            continue
        first = next((k for k, (a, _) in enumerate(st.spans) if a >= m.end()), None)
        if first is None:
            continue
        end_i, got = _read_list(st, first)
        if not got:
            continue
        b = st.spans[end_i - 1][1]
        for n, kind in enumerate(dict.fromkeys(k for k, _, _ in got)):
            values = tuple(dict.fromkeys(v for k, form, canon in got if k == kind for v in (form, canon)))
            piece = Found(m.start(), b, f"exclude_{kind}", values, True)
            if n == 0:
                st.add(piece)
            else:  # "not black or leather": the second kind shares the words already taken
                st.found.append(piece)
