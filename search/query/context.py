"""Context phrases of a query: "in stock", the price bounds, the buyer's country, "cheapest".

One public entry point, :func:`extract_context`; the rules are in :mod:`search.query.parse`'s docstring
and :mod:`search.query.prices`.
"""

from __future__ import annotations

import re

from search.query.countries import country_names, demonyms
from search.query.prices import find_prices
from search.query.state import Found, QueryState, before
from search.query.state import alternation as _alt
from search.query.vocabulary import CompiledVocabulary

# ---------------------------------------------------------------- availability
_AVAILABLE = re.compile(
    r"(?<![\w-])(?:(?:that'?s|that is|which is|that are|which are|only|currently|que est[eé]n?|que sea|qui est|"
    r"qui sont|der|die|das)\s+)*"
    r"(?:in[- ]stock|on hand|ready to ship|ships? (?:now|today|immediately)|en stock|auf lager|sofort lieferbar|"
    r"lieferbar|verfügbar|vorrätig|em estoque|a pronta entrega|pronta entrega|in magazzino|disponibles?|"
    r"disponíveis|disponível|disponivel|disponibile|available(?:\s+(?:to buy|to order|for purchase))?)"
    r"(?:\s+(?:right now|now|today|currently|immediately|ahora|ya|maintenant|jetzt|sofort|agora|subito))?(?![\w-])")
_AVAILABLE_NOT_BEFORE = re.compile(r"(?:not|no longer|never|isn'?t|aren'?t|un|pas|nicht|no|não)\s*$")
_AVAILABLE_NOT_AFTER = re.compile(r"\s+(?:in|en|em|im|auf|at|for|from|with|as|on|sizes?|colou?rs?)\b")


def _availability(st: QueryState) -> None:
    for m in _AVAILABLE.finditer(st.low):
        tail = m.group().split()[-1]
        if before(_AVAILABLE_NOT_BEFORE, st.low, m.start()):
            continue
        if tail.startswith(("available", "disponib", "disponí", "verfügbar", "lieferbar")) and \
                _AVAILABLE_NOT_AFTER.match(st.low, m.end()):
            continue  # "available in red" describes options, not stock
        st.add(Found(m.start(), m.end(), "available", ("true",), True))


# ---------------------------------------------------------------- price
def _prices(st: QueryState, cv: CompiledVocabulary | None, default_currency: str) -> None:
    for h in find_prices(st.low, cv.currencies if cv else frozenset(), default_currency):
        if st.free(h.start, h.end):
            st.add(Found(h.start, h.end, "price", ("approx",) if h.approx else (), True, h.low, h.high, h.currency))


# ---------------------------------------------------------------- country
_SHIP = (r"(?:(?:that|which|and|it|can|will|must|to)\s+)?(?:ship(?:s|ped|ping)?|deliver(?:s|ed|y|ing)?|send(?:s|ing)?|"
         r"sent|post(?:s|ed|age)?|mail(?:s|ed)?|dispatch(?:es|ed)?|delivery)(?:\s+(?:it|them|this|out))?\s+"
         r"(?:to|into|in|within|for)")
_LOC = (r"(?:i'?m|i’m|i am|we'?re|we’re|we are|i live|we live|based|located|living|buyer is|customer is)"
        r"(?:\s+(?:currently|now))?\s+(?:in|from)")
_PREP = (r"(?:envíos? a|envios? a|enviar a|envío para|envio para|entrega en|entrega em|entrega para|livraison en|"
         r"livraison au|livraison aux|livraison à|livré en|livré au|spedizione in|spedizione a|lieferung nach|"
         r"versand nach|estoy en|vivo en|moro em|moro no|moro na|j'habite en|j'habite au|in|nach|für|fuer|en|au|"
         r"aux|à|para|naar|til|till|pour|vers|hacia|pra|nach)")
# The article a French/Spanish/Portuguese/German speaker puts before most country names ("pour la France",
# "para el Perú", "para o Brasil", "in die Schweiz"); English "the" likewise.
_ARTICLE = r"(?:(?:the|la|le|les|el|los|las|o|os|die|der|den|dem)\s+|l['’]\s*|(?<=para\s)as?\s+)"
_NOT_BUYER = re.compile(r"(?:made|manufactured|produced|designed|printed|crafted|handmade|handcrafted|built|assembled|"
                        r"grown|sourced|roasted|brewed|bottled|imported|popular|famous|sold|born|hecho|hecha|hechos|"
                        r"fabricado|fabricada|fabriqué|fabriquée|fait|faite|hergestellt|gemacht|feito|feita|fatto|"
                        r"fatta|style|inspired)\s+$")
_COUNTRY = re.compile(
    rf"(?<![\w])(?P<trig>{_SHIP}|{_LOC}|{_PREP})\s+{_ARTICLE}?(?P<c>{_alt(list(country_names()))})(?![\w])")
_DEMONYM = re.compile(rf"(?<![\w])(?:i'?m|i’m|i am|we'?re|we’re|we are)\s+(?:an?\s+)?"
                      rf"(?P<d>{_alt(list(demonyms()))})(?=\s*(?:$|[,.;!?)]|buyer|customer|shopper|resident))")


def _country(st: QueryState) -> None:
    names = country_names()
    for m in _COUNTRY.finditer(st.low):
        name = m.group("c")
        if name == "us" and st.s[m.start("c"):m.end("c")] != "US" and not re.search(r"the\s+$", st.low[:m.start("c")]):
            continue  # "ship to us" is a pronoun
        if m.group("trig") in ("in", "en", "au", "aux", "à", "para", "für", "fuer", "pour", "pra") and \
                before(_NOT_BUYER, st.low, m.start()):
            continue  # "made in Italy" states an origin
        if st.free(m.start(), m.end()):
            st.add(Found(m.start(), m.end(), "country", (names[name],), True))
            return
    for m in _DEMONYM.finditer(st.low):
        if st.free(m.start(), m.end()):
            st.add(Found(m.start(), m.end(), "country", (demonyms()[m.group("d")],), True))
            return



# ---------------------------------------------------------------- "cheapest"
_CHEAPEST = re.compile(r"(?<![\w-])(?:(?:the\s+)?(?:cheapest|least expensive|lowest[- ]priced?|most affordable|"
                       r"le moins cher|la moins chère|les moins chers|más barat[oa]s?|mas barat[oa]s?|"
                       r"lo más barato|günstigsten?|billigsten?|mais barat[oa]s?|più economic[oi])"
                       r"(?:\s+(?:one|option|price))?|(?:sorted|sort|order(?:ed)?)\s+by\s+(?:lowest\s+)?price)"
                       r"(?![\w-])")


def _cheapest(st: QueryState) -> None:
    """ "cheapest": order the exact matches by price, lowest first (a sort, never a filter)."""
    for m in _CHEAPEST.finditer(st.low):
        if st.free(m.start(), m.end()):
            st.add(Found(m.start(), m.end(), "sort", ("price_asc",), True))
            return


def extract_context(st: QueryState, cv: CompiledVocabulary | None, default_currency: str) -> None:
    """Availability, then price, then country phrases of ``st``, then "cheapest"."""
    _availability(st)
    _prices(st, cv, default_currency)
    _country(st)
    _cheapest(st)
