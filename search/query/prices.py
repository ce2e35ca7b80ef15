"""Price phrases of a shopper's query → bounds in minor units of one named currency.

One public entry point, :func:`find_prices`. It reads, in en/es/fr/de/pt/it:

* upper bounds: "under $40", "less than 40 dollars", "below 40", "up to $40", "max 30€", "moins de 30 €",
  "menos de 30 euros", "unter 30 €", "40 dollars or less";
* lower bounds: "over $100", "at least 20", "more than €30", "$100 and up", "ab 50 €";
* ranges: "between 20 and 50", "$25-$40", "from $20 to $50", "entre 20 y 50 €", "zwischen 20 und 50 €";
* approximate prices: "around $60", "about 60 dollars", "roughly €30", "~£20", "environ 30 €", "etwa 30 €",
  "alrededor de 30 euros" → the band ±20% (48.00–72.00 for "around $60"): near enough to be "around", wide
  enough to keep the $55 and $70 items a shopper saying "about $60" accepts. An approximate price needs a
  currency sign or word ("around 60" alone is too often a size or a count);
* a price point after "for" / "at" / "costing" / "priced at" with a currency ("a hat for 20 quid", "at €30"),
  and a slang amount alone ("20 quid", "50 bucks") → an upper bound (a shopper naming what they pay states a
  budget). A bare currency amount without such a word ("30 euros scarf", "$50 gift card") is left alone: it is
  as often a denomination or a name.

Rules (documented choices):

* Bounds are inclusive ("under $40" keeps a $40.00 item: shoppers state a budget, not a strict inequality).
* Amounts: thousands separators ``1,000`` / ``1.000`` / ``1 000`` (a dot or comma followed by exactly three
  digits groups thousands), decimal comma ``29,90``, ``5k`` = 5000. Converted to minor units with
  :func:`indexer.attributes.currency_exponent` (``¥3000`` → 3000 JPY minor units, ``$40`` → 4000 cents).
* Currency: a trailing ISO code wins over a symbol ("$4,000 CAD" is CAD). ``$``, "dollars", "bucks" mean
  ``default_currency`` when that is a dollar currency, else USD; ``A$`` AUD, ``NZ$`` NZD, ``C$`` CAD,
  ``R$`` BRL, ``₹`` INR. "Rs"/"rupees" is ambiguous: the one rupee currency the catalog has; with several,
  PKR first (``Rs`` is Pakistan's official sign; Indian prices are written ``₹``), then INR, LKR, NPR; with
  none, INR. "kr" picks SEK/NOK/DKK/ISK and "pesos" MXN/CLP/ARS/COP/UYU the same way; ``¥`` is JPY
  unless the catalog has CNY and no JPY. "quid" is GBP. "pounds" is GBP after a bound word ("warm hat under
  20 pounds") unless the query speaks of weight ("weights under 30 pounds", "a dog under 20 pounds": a
  weight word such as weight/weighs/heavy/dumbbell/kettlebell/load/capacity/dog/baby), where it stays a weight.
* A bare number ("under 40") is a price in ``default_currency``, except when a unit follows
  ("under 40 cm", "over 5 kg") or an age word precedes ("toys for kids under 5"). Weak bound words
  ("from", "bis", "ab", "desde", "within", "budget") need a currency sign or word to count.
* Only one currency per query: phrases in another currency than the first one read are left in the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from indexer.attributes import currency_exponent

# ISO 4217 currency codes in use (funds and precious-metal codes left out): what a request may name.
ISO_4217: frozenset[str] = frozenset("""
AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD CAD CDF
CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG
HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD
MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF
SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU
UZS VED VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG ZWL
""".split())


def currency_code(value: str | None) -> str | None:
    """``value`` as an ISO 4217 code (upper case) when it is one in use (:data:`ISO_4217`), else None."""
    v = (value or "").strip().upper()
    return v if v in ISO_4217 else None


_DOLLAR_CURRENCIES = frozenset({"USD", "CAD", "AUD", "NZD", "SGD", "HKD", "TWD", "JMD", "BSD", "BBD", "BZD", "FJD",
                                "TTD", "MXN", "CLP", "COP", "ARS", "UYU"})
_AMBIGUOUS: dict[str, tuple[str, ...]] = {
    "RUPEE": ("PKR", "INR", "LKR", "NPR"),
    "KRONA": ("SEK", "NOK", "DKK", "ISK"),
    "PESO": ("MXN", "CLP", "ARS", "COP", "UYU", "PHP"),
}
_AMBIGUOUS_FALLBACK = {"RUPEE": "INR", "KRONA": "SEK", "PESO": "MXN"}

# Currency markers (lower case) → ISO code or an ambiguity class ("DOLLAR", "RUPEE", "KRONA", "PESO", "YEN").
_SYMBOLS: dict[str, str] = {
    "us$": "USD", "c$": "CAD", "ca$": "CAD", "cad$": "CAD", "a$": "AUD", "au$": "AUD", "nz$": "NZD", "s$": "SGD",
    "sg$": "SGD", "hk$": "HKD", "r$": "BRL", "$": "DOLLAR", "£": "GBP", "€": "EUR", "¥": "YEN", "₹": "INR",
    "₨": "RUPEE", "₫": "VND", "₱": "PHP", "₩": "KRW", "₺": "TRY", "₪": "ILS", "฿": "THB", "zł": "PLN",
}
_CODES = ("usd cad aud nzd sgd hkd brl gbp eur jpy cny rmb inr pkr lkr npr sek nok dkk isk chf zar aed vnd myr php "
          "krw mxn clp cop ars uyu hnl try ils thb pln czk huf ron idr").split()
_WORDS: dict[str, str] = {
    "dollar": "DOLLAR", "dollars": "DOLLAR", "bucks": "DOLLAR", "euro": "EUR", "euros": "EUR", "quid": "GBP",
    "yen": "JPY", "yuan": "CNY", "rupee": "RUPEE", "rupees": "RUPEE", "rs": "RUPEE", "rs.": "RUPEE",
    "reais": "BRL", "real": "BRL", "peso": "PESO", "pesos": "PESO", "rand": "ZAR", "kr": "KRONA", "kr.": "KRONA",
    "kronor": "SEK", "kroner": "KRONA", "krona": "SEK", "dirham": "AED", "dirhams": "AED", "dhs": "AED",
    "lempira": "HNL", "lempiras": "HNL", "lps": "HNL", "dong": "VND", "đ": "VND", "ringgit": "MYR", "rm": "MYR",
    "zloty": "PLN", "złoty": "PLN", "francs": "CHF", "franken": "CHF", "fr.": "CHF", "won": "KRW", "baht": "THB",
    "pounds": "POUND", "pound": "POUND", "buck": "DOLLAR", "euro's": "EUR", "usd$": "USD",
}
# "pounds" is money unless the query speaks of weight (see the module docstring).
_WEIGHT_CONTEXT = re.compile(r"(?<!\w)(?:weights?|weighs?|weighing|heavy|heavier|light(?:er|weight)?|dumbbells?|"
                             r"kettlebells?|barbells?|plates?|load|capacity|holds?|supports?|dogs?|puppy|puppies|"
                             r"cats?|baby|babies|kids?|bag of|sack|lbs?)(?!\w)")
_PRE_WORDS = ("rs.", "rs", "₨", "rm", "kr", "kr.", "fr.", "lps", "r")  # words that may also precede the number


def _alt(items: list[str]) -> str:
    return "|".join(re.escape(x) for x in sorted(set(items), key=len, reverse=True))


_SYM_ALT = _alt(list(_SYMBOLS))
_LETTER_ALT = _alt(_CODES + list(_WORDS))
_PRE = rf"(?:{_SYM_ALT}|(?<![\w$])(?:{_alt(_CODES + list(_PRE_WORDS))})(?=\s?\d))"
_SUF = rf"(?:{_SYM_ALT}|(?:{_LETTER_ALT})(?![\w$]))"
_NUM = r"\d{1,3}(?:[,.' ]\d{3})+(?:[.,]\d{1,2})?(?!\d)|\d+(?:[.,]\d{1,2})?(?![\d.,]\d)"


def _amt(tag: str) -> str:
    return (rf"(?:(?P<pre{tag}>{_PRE})\s?)?(?<![\w.,])(?P<num{tag}>{_NUM})(?P<k{tag}>\s?k(?!\w))?"
            rf"(?:\s?(?P<suf{tag}>{_SUF}))?")


_UNITS = ("cm mm m km in inch inches ft feet foot yd yard yards kg g gr gram grams lb lbs pound pounds oz ounce "
          "ounces ml l liter liters litre litres gal gallon gallons qt w watt watts v volt volts mah gb tb mb hz "
          "year years yr yrs yo month months mo week weeks day days hour hours min mins minute minutes pc pcs "
          "piece pieces pack packs count ct seater seaters people person persons guests kids x mph cc hp "
          "degrees años anos meses jahre ans mois monate stück pairs pair sq sqft reviews review stars star ratings "
          "rating points percent colors colours options styles sizes items designs sheets pages lumens rpm psi").split()
_UNIT_AFTER = re.compile(rf"\s?(?:{_alt(_UNITS)})(?![a-z])|[a-z%\"'°″]|\s?km/h|\s?/")
_AGE_BEFORE = re.compile(r"(?:kids?|children|child|toddlers?|babies|baby|boys?|girls?|ages?|aged|teens?|"
                         r"years?|olds?|kinder|niños|niñas|enfants|crianças|bambini|dogs?|cats?|pets?)\s*$")

_MAX_BEFORE = ("under", "below", "beneath", "less than", "lower than", "cheaper than", "no more than", "not more than",
               "not over", "no higher than", "max", "max.", "maximum", "up to", "upto", "at most", "for less than",
               "≤", "<=", "<", "moins de", "moins cher que", "jusqu'à", "jusqu’à", "jusqu'a", "pas plus de",
               "inférieur à", "menos de", "hasta", "máximo", "maximo", "por debajo de", "por menos de", "unter",
               "bis zu", "höchstens", "maximal", "weniger als", "unterhalb von", "até", "abaixo de", "no máximo",
               "por até", "meno di", "sotto", "sotto i", "fino a", "massimo", "max of", "a maximum of")
_MAX_WEAK = ("within", "budget", "budget of", "budget is", "bis", "bajo")
_MIN_BEFORE = ("over", "above", "more than", "greater than", "at least", "min", "min.", "minimum", "starting at",
               "≥", ">=", ">", "plus de", "au moins", "más de", "mas de", "al menos", "über", "ueber", "mindestens",
               "mais de", "pelo menos", "a partir de", "oltre", "almeno", "più di", "a minimum of")
_MIN_WEAK = ("from", "starting from", "ab", "desde", "dès", "à partir de")
_MAX_AFTER = ("or less", "or under", "and under", "or lower", "or cheaper", "max", "maximum", "tops", "at most",
              "ou moins", "o menos", "oder weniger", "ou menos", "max.")
_MIN_AFTER = ("or more", "and up", "and above", "or above", "or over", "plus", "+", "minimum", "min", "ou plus",
              "o más", "oder mehr", "ou mais", "und mehr", "y más")
_APPROX_BEFORE = ("around", "about", "roughly", "approximately", "approx", "approx.", "~", "circa", "ca.",
                  "somewhere around", "in the region of", "something like", "more or less", "alrededor de",
                  "aproximadamente", "cerca de", "unos", "environ", "autour de", "à peu près", "etwa", "ungefähr",
                  "circa", "rund", "por volta de", "cerca di", "intorno a", "sui")
_AT_BEFORE = ("for", "at", "costing", "priced at", "that costs", "which costs", "for only", "for just", "pour",
              "por", "für", "per")
APPROX_BAND = 0.2  # "around $60" = 48.00..72.00 (see the module docstring)
_RANGE_WORDS = ("between", "from", "entre", "zwischen", "von", "de", "desde", "tra", "fra", "betwen")
_RANGE_JOIN_STRONG = ("-", "–", "—", "to", "bis", "a", "à", "até", "al", "hasta", "through", "thru")
_RANGE_JOIN_AND = ("and", "y", "e", "et", "und")

_B = r"(?<![\w$€£¥₹])"
_RANGE = re.compile(
    rf"{_B}(?:(?:somewhere|anywhere|anything)\s+(?=(?:{_alt(list(_RANGE_WORDS))})\s))?"  # "somewhere between"
    rf"(?:(?P<rw>{_alt(list(_RANGE_WORDS))})\s+)?{_amt('1')}\s?(?P<join>{_alt(list(_RANGE_JOIN_STRONG))}|"
    rf"{_alt(list(_RANGE_JOIN_AND))})\s?{_amt('2')}")
_BEFORE = re.compile(rf"{_B}(?P<bw>{_alt(list(_MAX_BEFORE + _MAX_WEAK + _MIN_BEFORE + _MIN_WEAK))})\s?{_amt('1')}")
_AFTER = re.compile(rf"{_B}{_amt('1')}\s?(?P<aw>{_alt(list(_MAX_AFTER + _MIN_AFTER))})(?![\w+])")
_APPROX = re.compile(rf"{_B}(?P<bw>{_alt(list(_APPROX_BEFORE))})\s?{_amt('1')}")
_AT = re.compile(rf"{_B}(?P<bw>{_alt(list(_AT_BEFORE))})\s?{_amt('1')}")
# slang money words are never a denomination or a name: "20 quid", "50 bucks" alone are a budget
_SLANG = re.compile(rf"{_B}(?P<pre1>)(?P<num1>{_NUM})(?P<k1>\s?k(?!\w))?\s?(?P<suf1>quid|bucks)(?![\w$])")


@dataclass(frozen=True)
class PriceHit:
    """One price phrase: ``[start, end)`` in the query, inclusive bounds in minor units of ``currency``."""

    start: int
    end: int
    low: int | None
    high: int | None
    currency: str
    approx: bool = False  # "around $60": the band was derived (±APPROX_BAND)


def _resolve(marker: str | None, vocab_currencies: frozenset[str], default_currency: str) -> str | None:
    if not marker:
        return None
    m = marker.strip().lower()
    code = _SYMBOLS.get(m) or _WORDS.get(m) or (m.upper() if m in _CODES else None)
    if code == "RMB":
        return "CNY"
    if code == "DOLLAR":
        return default_currency if default_currency in _DOLLAR_CURRENCIES else "USD"
    if code == "YEN":
        return "CNY" if "CNY" in vocab_currencies and "JPY" not in vocab_currencies else "JPY"
    if code in _AMBIGUOUS:
        present = [c for c in _AMBIGUOUS[code] if c in vocab_currencies]
        return present[0] if present else _AMBIGUOUS_FALLBACK[code]
    if m == "r":
        return "ZAR"
    if code == "POUND":
        return "GBP"
    return code


def _amount(num: str, k: str | None) -> Decimal | None:
    s = num.replace(" ", "").replace("'", "")
    if "," in s and "." in s:
        s = s.replace(".", "").replace(",", ".") if s.rfind(",") > s.rfind(".") else s.replace(",", "")
    elif re.fullmatch(r"\d{1,3}(?:[,.]\d{3})+", s):
        s = s.replace(",", "").replace(".", "")
    else:
        s = s.replace(",", ".")
    try:
        d = Decimal(s)
    except InvalidOperation:
        return None
    if k:
        d *= 1000
    return d if d.is_finite() and d < Decimal(10) ** 12 else None


def _minor(d: Decimal, currency: str) -> int:
    return int((d * (10 ** currency_exponent(currency))).to_integral_value())


def _currency_of(m: re.Match[str], tag: str, vocab: frozenset[str], default: str) -> str | None:
    # A trailing ISO code or word wins over a leading symbol ("$4,000 CAD").
    return _resolve(m.group(f"suf{tag}"), vocab, default) or _resolve(m.group(f"pre{tag}"), vocab, default)


def _bare_ok(low: str, m: re.Match[str], tag: str, bound_start: int) -> bool:
    """A number without currency is a price unless a unit follows or an age word precedes."""
    if _UNIT_AFTER.match(low, m.end(f"num{tag}") if not m.group(f"k{tag}") else m.end(f"k{tag}")):
        return False
    return _AGE_BEFORE.search(low, max(0, bound_start - 32), bound_start) is None


class _Reader:
    """One query's price phrases, read pass by pass; a later pass only reads characters no earlier one took."""

    def __init__(self, low: str, vocab: frozenset[str], default: str) -> None:
        self.low, self.vocab, self.default = low, vocab, default
        self.weighty = _WEIGHT_CONTEXT.search(low) is not None
        self.hits: list[PriceHit] = []
        self.taken: list[tuple[int, int]] = []

    def free(self, a: int, b: int) -> bool:
        return all(b <= s or a >= e for s, e in self.taken)

    def add(self, hit: PriceHit) -> None:
        self.hits.append(hit)
        self.taken.append((hit.start, hit.end))

    def currency(self, m: re.Match[str], tag: str) -> str | None:
        return _currency_of(m, tag, self.vocab, self.default)

    def weight(self, m: re.Match[str], tag: str) -> bool:
        """ "under 30 pounds" in a query about weight: a weight, not money."""
        suf = (m.group(f"suf{tag}") or "").strip()
        return suf in ("pound", "pounds") and self.weighty

    def ranges(self) -> None:
        low = self.low
        for m in _RANGE.finditer(low):
            c1, c2 = self.currency(m, "1"), self.currency(m, "2")
            rw, join = m.group("rw"), m.group("join")
            if self.weight(m, "1") or self.weight(m, "2"):
                continue
            if (c1 or c2) is None and not (rw and rw not in ("de", "von", "from")):
                continue  # "20-50", "6 to 12": a size or an age, not a price
            if join in _RANGE_JOIN_AND and not rw:
                continue  # "20 and 50" needs "between"
            if c1 and c2 and c1 != c2:
                continue
            cur = c1 or c2 or self.default
            if (c1 or c2) is None and not _bare_ok(low, m, "2", m.start()):
                continue
            a, b = _amount(m.group("num1"), m.group("k1")), _amount(m.group("num2"), m.group("k2"))
            if a is None or b is None:
                continue
            lo, hi = sorted((_minor(a, cur), _minor(b, cur)))
            self.add(PriceHit(m.start(), m.end(), lo, hi, cur))

    def bounds(self) -> None:
        for rx, word in ((_BEFORE, "bw"), (_AFTER, "aw")):
            for m in rx.finditer(self.low):
                if not self.free(m.start(), m.end()) or self.weight(m, "1"):
                    continue
                bw = m.group(word)
                named = self.currency(m, "1")
                if named is None:
                    if bw in _MAX_WEAK or bw in _MIN_WEAK or bw in ("+", "plus") or \
                            not _bare_ok(self.low, m, "1", m.start()):
                        continue
                    if word == "aw" and bw in ("max", "min", "max.", "min.", "minimum", "maximum", "tops"):
                        continue  # "40 max" without a currency is too vague
                cur = named or self.default
                d = _amount(m.group("num1"), m.group("k1"))
                if d is None:
                    continue
                minor = _minor(d, cur)
                is_max = bw in _MAX_BEFORE or bw in _MAX_WEAK or bw in _MAX_AFTER
                self.add(PriceHit(m.start(), m.end(), None if is_max else minor, minor if is_max else None, cur))

    def points(self, *passes: tuple[re.Pattern[str], bool]) -> None:
        """ "around $60" → a band; "for 20 quid" → an upper bound. Both need a currency sign or word."""
        for rx, approx in passes:
            for m in rx.finditer(self.low):
                named = self.currency(m, "1")
                if named is None or not self.free(m.start(), m.end()) or self.weight(m, "1"):
                    continue
                d = _amount(m.group("num1"), m.group("k1"))
                if d is None:
                    continue
                minor = _minor(d, named)
                if approx:
                    lo, hi = _minor(d * Decimal(str(1 - APPROX_BAND)), named), _minor(
                        d * Decimal(str(1 + APPROX_BAND)), named)
                    self.add(PriceHit(m.start(), m.end(), lo, hi, named, approx=True))
                else:
                    self.add(PriceHit(m.start(), m.end(), None, minor, named))


def find_prices(low: str, vocab_currencies: frozenset[str], default_currency: str) -> list[PriceHit]:
    """Price phrases of a lower-cased query, in text order, all in the currency of the first one read."""
    r = _Reader(low, vocab_currencies, default_currency)
    r.ranges()
    r.points((_APPROX, True), (_AT, False))  # before the bounds: "about $60" is no bare "$60"
    r.bounds()
    r.points((_SLANG, False))  # last: "under 50 bucks" is a bound with its word
    hits = sorted(r.hits, key=lambda h: h.start)
    if hits:
        first = hits[0].currency
        hits = [h for h in hits if h.currency == first]
    return hits
