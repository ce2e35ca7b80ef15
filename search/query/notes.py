"""Notes on what a query says but the parser could not read: never an error, never a silent drop.

One public entry point, :func:`unread_notes`. The words stay in the text (they still rank), and a note in
``interpreted.notes`` tells the agent which constraint was not applied, so it can restate it as a filter:

* **an unreadable price**: a price cue with a currency but no number the price reader understood ("under
  twenty dollars", "max $abc", "cheaper than £");
* **an unknown colour**: "colour: zzz", "in the colour xyz" where the word is no colour the lexicon or the
  catalog knows;
* **an unsupported script**: letters outside the Latin script (Cyrillic, Arabic, CJK...) that no pass
  read: they are searched as written, without constraints read from them.
"""

from __future__ import annotations

import re
import unicodedata

from search.query.state import QueryState

_PRICE_WORDS = (r"(?:under|below|less than|cheaper than|max(?:imum)?|up to|over|above|more than|at least|around|"
                r"about|budget(?: of| is)?|for|moins de|menos de|unter|até)")
_UNREAD_PRICE = re.compile(
    rf"(?<![\w])(?P<p>{_PRICE_WORDS}\s+(?:[$€£¥₹]\s*(?!\s?\d)[^\s\d]*|(?![\d$€£¥₹])[a-z\-]+\s+"
    rf"(?:dollars?|euros?|pounds?|quid|bucks|yen|rupees?)(?![\w])))")
_COLOUR_NAMED = re.compile(r"(?<![\w])(?:colou?r|couleur|farbe|cor)\s*[:=]?\s+(?P<w>[a-z][\w-]*)")
_NOT_A_COLOUR = frozenset("of in and or the a any for with is to options option combination choice".split())


def _script_ok(ch: str) -> bool:
    if not ch.isalpha():
        return True
    try:
        return unicodedata.name(ch).startswith("LATIN")
    except ValueError:
        return False


def unread_notes(st: QueryState, text: str) -> tuple[str, ...]:
    """Notes for the constraint-like words of ``st`` that no pass read (see the module docstring)."""
    notes: list[str] = []
    for m in _UNREAD_PRICE.finditer(st.low):
        if st.free(m.start(), m.end()):
            notes.append(f"price not understood: {st.s[m.start():m.end()]!r} (left in the text; give a number, "
                         "e.g. 'under $20', or a price filter)")
    for m in _COLOUR_NAMED.finditer(st.low):
        w = m.group("w")
        if w not in _NOT_A_COLOUR and st.free(m.start("w"), m.end("w")):
            notes.append(f"colour not known: {st.s[m.start('w'):m.end('w')]!r} (left in the text; not applied as "
                         "a filter)")
    foreign = [w for w in re.findall(r"\w+", text) if not all(_script_ok(c) for c in w)]
    if foreign:
        notes.append(f"words in a script the query reader does not support were searched as written, without "
                     f"reading constraints from them: {' '.join(foreign[:8])!r}")
    return tuple(notes)
