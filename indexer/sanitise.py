"""The one sanitiser of merchant text: HTML to plain text, and plain text safe to hand to an AI agent.

Merchant data is hostile until it has been through here. Two functions, one set of rules:

* :func:`html_to_text` reads merchant HTML with the standard library's :class:`html.parser.HTMLParser`
  (a real tokenizer, so quoted attributes, comments and a ``<`` inside text are read as a browser reads
  them; no regex guesses where a tag ends) and returns its visible text on one line:

  - block elements (``p``, ``div``, ``br``, ``li``, ``h1``..., ``td``...) and embedded objects (``img``)
    separate words; inline elements (``b``, ``span``, ``a``...) do not (``wo<b>ol</b>`` is ``wool``);
  - the content of ``script``, ``style``, ``noscript``, ``iframe``, ``template``, ``svg``, ``math``,
    ``object``, ``head`` and ``title`` is dropped (the element separates words), and so are comments,
    ``<!DOCTYPE>``, CDATA sections and processing instructions;
  - character references are decoded (``&amp;`` ``&eacute;`` ``&#x41;``); one that is not a reference
    (``AT&T``) stays as written;
  - malformed markup never leaks attribute text: markup left open at the end (``text <a href="x``,
    ``<!-- never closed``, ``x </``) is dropped, while a ``<`` that cannot open a tag (``5 < 6``,
    ``<3``) is text;
  - invisible characters are removed (:data:`INVISIBLE`: C0/C1 controls, soft hyphen, zero-width and
    bidi controls, the BOM, variation selectors and Unicode tag characters; the last two can carry text
    hidden from a human reader but read by a model) and all whitespace collapses to single spaces.

* :func:`plain_text` is :func:`html_to_text` for merchant strings that go to agents (titles, names,
  options, descriptions): it repeats the decode-and-strip until the text is stable, so entity-encoded
  markup (``&lt;script&gt;``, even ``&amp;lt;b&amp;gt;``) cannot come back as markup, and then turns any
  ``<`` that could still open a tag into the look-alike ``‹``. ``size < 5`` stays as it is.

Both are pure functions of their input; text with no ``<`` skips the parser (references are decoded by
:func:`html.unescape`, which is what the parser uses), and text with neither ``<`` nor ``&`` is only
cleaned of invisible characters and collapsed.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

#: Elements whose content is not visible text (dropped with everything inside them).
HIDDEN_ELEMENTS = frozenset(
    {"script", "style", "noscript", "iframe", "template", "svg", "math", "object", "head", "title"}
)
#: Elements that start a new line when rendered (and replaced/embedded elements): they separate words.
BLOCK_ELEMENTS = frozenset(
    {
        "address", "article", "aside", "blockquote", "br", "caption", "center", "dd", "details", "dialog", "div",
        "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6",
        "header", "hgroup", "hr", "li", "main", "nav", "ol", "option", "p", "pre", "section", "summary", "table",
        "tbody", "td", "tfoot", "th", "thead", "tr", "ul", "legend", "img", "input", "select", "textarea",
        "button", "video", "audio", "canvas", "embed", "body", "html",
    }
)
#: Characters removed from merchant text: C0 controls except tab/newline/return (they are whitespace),
#: DEL and C1 controls, soft hyphen, Arabic letter mark, Mongolian vowel separator, zero-width and
#: bidi controls (U+200B-200F, U+202A-202E, U+2060-206F), BOM, interlinear annotation controls,
#: variation selectors (U+FE00-FE0F, U+E0100-E01EF) and Unicode tag characters (U+E0000-E007F), the
#: last two being the usual carriers of text hidden from people but read by models.
INVISIBLE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f"
    "\ufe00-\ufe0f\ufeff\ufff9-\ufffb\U000e0000-\U000e007f\U000e0100-\U000e01ef]"
)
_SEPARATORS = BLOCK_ELEMENTS | HIDDEN_ELEMENTS  # elements that separate the words around them
# A "<" that a parser could read as the start of markup: a tag, an end tag, a comment or a declaration.
_MARKUP_OPEN = re.compile(r"<(?=[A-Za-z/!?])")
_ROUNDS = 3  # decode-and-strip rounds in plain_text: "&amp;lt;b&amp;gt;" needs two


class _TextCollector(HTMLParser):
    """Collects the visible text of a document (see the module docstring for the rules)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden: dict[str, int] = {}  # open hidden elements by name: text is dropped while any is open

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in HIDDEN_ELEMENTS:
            self._hidden[tag] = self._hidden.get(tag, 0) + 1
        if tag in _SEPARATORS:
            self.parts.append(" ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # "<br/>", "<img/>": a self-closed hidden element ("<iframe/>") hides nothing.
        if tag in _SEPARATORS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in HIDDEN_ELEMENTS and self._hidden.get(tag):
            self._hidden[tag] -= 1
        if tag in _SEPARATORS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not any(self._hidden.values()):
            self.parts.append(data)

    def text(self, markup: str) -> str:
        """Feed ``markup`` and return its visible text (not yet collapsed)."""
        self.feed(markup)
        # What the tokenizer kept back is either text waiting for the end of a character reference
        # ("&amp" at the very end), or markup that was opened and never closed ("<a href=...",
        # "<!--...", "</", an unterminated <script>). The first is flushed; the second is dropped,
        # as a browser drops it, so attribute values never leak out as text.
        rest = self.rawdata
        if rest and (self.cdata_elem is not None or _MARKUP_OPEN.match(rest)):
            self.rawdata = ""
        self.close()
        return "".join(self.parts)


def _collapse(text: str) -> str:
    return " ".join(INVISIBLE.sub("", text).split())


def html_to_text(markup: str | None) -> str:
    """The visible text of merchant HTML on one line (see the module docstring); ``""`` for None."""
    if not markup:
        return ""
    if "<" not in markup:  # no markup: the parser would only decode references, as html.unescape does
        return _collapse(html.unescape(markup)) if "&" in markup else _collapse(markup)
    # Invisible characters go first too: "<scr\u200bipt>" must be read as the script tag it displays as.
    return _collapse(_TextCollector().text(INVISIBLE.sub("", markup)))


def plain_text(value: str | None) -> str:
    """Merchant text as plain text for agents: no markup (even entity-encoded), no invisible characters.

    Runs :func:`html_to_text` until the text no longer changes (at most three rounds), then replaces
    any ``<`` that could still open markup with ``‹`` (text encoded more than three times deep keeps its
    last ``&lt;``, which is no markup).
    """
    if not value:
        return ""
    text = html_to_text(value)
    for _ in range(_ROUNDS - 1):
        if "<" not in text and "&" not in text:
            return text
        cleaned = html_to_text(text)
        if cleaned == text:
            break
        text = cleaned
    return _MARKUP_OPEN.sub("‹", text)
