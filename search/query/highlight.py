"""Highlighting (``highlight=true``): the query's words marked in a result's title and description.

Marks are plain text, ``[[word]]`` (two square brackets each side), never HTML: safe to show in a terminal,
a chat or a page without escaping rules, and easy for an agent to strip. The title is returned whole; the
description (plain text, merchant HTML already stripped) is cut to a snippet of about
:data:`SNIPPET_CHARS` characters around its first mark (``…`` where cut), or its start when nothing matched.

The words marked are the query's content words (the shopper's own words, spelling corrections and the
synonyms the reading added: ``interpreted.corrected`` / ``expanded``), matched whole-word and
case-insensitively after the one value normalisation, a plural ``s``/``es`` either way ("beanie" marks
"Beanies"). Function words ("a", "for", "under"...) are not marked.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from search.filter.keys import text_tokens

OPEN, CLOSE = "[[", "]]"
SNIPPET_CHARS = 240
_WORD = re.compile(r"\w+", re.UNICODE)
_SKIP = frozenset("a an the and or of for to in on with without under over below above less than more me my i "
                  "want need some any size not no".split())


def _forms(word: str) -> set[str]:
    """The word and, for a plural-looking word, its singulars (``beanies`` → beanie, beani)."""
    out = {word}
    for suffix in ("es", "s"):
        if len(word) > 3 and word.endswith(suffix):
            out.add(word[: -len(suffix)])
    return out


def marked_words(texts: Iterable[str]) -> frozenset[str]:
    """The word forms to mark, from the query text and the words the reading added."""
    out = set()
    for text in texts:
        for tok in text_tokens(text):
            if len(tok) >= 2 and tok not in _SKIP and not tok.isdigit():
                out |= _forms(tok)
    return frozenset(out)


def _hit(word: str, stems: frozenset[str]) -> bool:
    toks = text_tokens(word)
    return len(toks) == 1 and not _forms(toks[0]).isdisjoint(stems)


def mark(text: str, stems: frozenset[str]) -> str:
    """``text`` with every word whose stem is in ``stems`` wrapped as ``[[word]]``."""
    if not stems or not text:
        return text
    return _WORD.sub(lambda m: f"{OPEN}{m.group(0)}{CLOSE}" if _hit(m.group(0), stems) else m.group(0), text)


def snippet(text: str, stems: frozenset[str], size: int = SNIPPET_CHARS) -> str:
    """A marked snippet of ``text`` of about ``size`` characters around its first marked word."""
    text = " ".join(text.split())
    if len(text) <= size:
        return mark(text, stems)
    first = next((m.start() for m in _WORD.finditer(text) if _hit(m.group(0), stems)), 0)
    start = max(0, first - size // 4)
    if start:
        cut = text.rfind(" ", 0, start)
        start = cut + 1 if cut >= 0 else start
    end = min(len(text), start + size)
    if end < len(text):
        cut = text.rfind(" ", start, end)
        end = cut if cut > start else end
    body = mark(text[start:end], stems)
    return ("…" if start else "") + body + ("…" if end < len(text) else "")
