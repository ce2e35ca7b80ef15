"""Gold constraints of an evaluation query and the checker that scores a returned variant against them.

A constraints object is the *gold reading* of a query, written by the person who judged it::

    {"color": "red", "size": "M", "material": "cotton", "vendor": "Sony",
     "option": {"With Scarf": "With Scarf"},
     "price_max": {"amount": 4000, "currency": "USD"}, "price_min": {...},
     "country": "US", "available": true, "exclude": {"color": ["Black"]}}

Every key is optional; an empty object means "no constraint" (the query is left out of
constraint satisfaction). Besides ``color``/``size``/``material``, the other canonical attributes
of :mod:`indexer.attributes` (``length``, ``style``, ``pattern``, ``scent``, ``flavor``, ``width``,
``quantity``) and their synonyms (``colour``, ``taille``...) are accepted as top-level keys.
Unknown keys are refused, so a typo cannot silently turn into an always-unmet constraint.

How a returned result meets each constraint (:func:`unmet`) — all read from the *returned
variant*, the one an agent would put in the cart:

* attributes and ``option``: some option of the variant whose name maps to the same canonical
  attribute (:func:`indexer.attributes.option_pairs`, as the engine's filter reads it: ``Color / Style`` =
  ``Black / T-Shirt`` is colour ``Black``), or whose name is the gold key itself, has the gold value as its whole
  value or as one part of a composite value, compared with :func:`search.filter.keys.value_key`, the
  value key the engine's filter uses (so ``XXL`` meets a gold ``2XL``). Product-level text (title, tags) does not
  count: a variant without that option does not meet the constraint.
* ``vendor``: the result's vendor, compared with :func:`search.filter.keys.label_key`.
* ``price_min``/``price_max``: inclusive bounds in minor units, met only in the bound's own
  currency (no conversion); a variant with no price or another currency does not meet them.
* ``country``: the engine answered for that buyer country (the response's interpreted country)
  and the result's buy reasons do not include ``not_shipping_to_country``.
* ``available``: the variant's ``available`` flag equals the gold value.
* ``exclude`` (``{"color": ["Black"]}``, "any colour except black"): the returned variant must not show an
  excluded value: as its whole value, one part, or one word of it ("Jet Black" shows black). An exact
  result that shows one counts as a broken constraint (``exclude.color``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from indexer.attributes import canonical_attribute, normalize_name, option_pairs
from indexer.errors import ConfigError
from search.filter.keys import label_key, text_tokens, value_key, value_keys

# Reason code the engine's eligibility rules use when the merchant does not ship to the buyer.
NOT_SHIPPING_REASON = "not_shipping_to_country"

_SPECIAL_KEYS = ("option", "vendor", "price_max", "price_min", "country", "available", "exclude")
# Canonical attributes accepted as top-level keys (synonyms map onto these via canonical_attribute).
_ATTRIBUTE_KEYS = frozenset(
    {"color", "size", "material", "length", "style", "pattern", "scent", "flavor", "width", "quantity"}
)


@dataclass(frozen=True, slots=True)
class Bound:
    """A price bound: integer minor units in one ISO 4217 currency."""

    amount: int
    currency: str


@dataclass(frozen=True, slots=True)
class Constraints:
    """The gold constraints of one query (see the module docstring for the meaning of each)."""

    attributes: tuple[tuple[str, str], ...] = ()  # (canonical attribute or option name, gold value)
    vendor: str | None = None
    price_min: Bound | None = None
    price_max: Bound | None = None
    country: str | None = None
    available: bool | None = None
    exclude: tuple[tuple[str, str], ...] = ()  # (canonical attribute, excluded value)

    @property
    def empty(self) -> bool:
        """True when nothing is constrained."""
        return not self.attributes and not self.exclude and self.vendor is None and self.price_min is None and (
            self.price_max is None and self.country is None and self.available is None
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (attributes as a list of [name, value] pairs)."""
        out: dict[str, Any] = {"attributes": [list(p) for p in self.attributes]}
        if self.exclude:
            out["exclude"] = [list(p) for p in self.exclude]
        for key in ("vendor", "country", "available"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        for key in ("price_min", "price_max"):
            b = getattr(self, key)
            if b is not None:
                out[key] = {"amount": b.amount, "currency": b.currency}
        return out


@dataclass(frozen=True, slots=True)
class Hit:
    """One returned result, reduced to what evaluation reads (built from a ``schema.Result``)."""

    doc_id: str
    score: float
    options: tuple[tuple[str, str], ...] = ()  # (option name as returned, value)
    price: int | None = None
    currency: str | None = None
    available: bool = False
    eligible: bool = False
    reasons: tuple[str, ...] = ()
    vendor: str | None = None


def parse_constraints(raw: object, where: str) -> Constraints:
    """Validate a gold constraints object; ``where`` (``file:line``) prefixes every error.

    Raises :class:`ConfigError` on an unknown key or a value of the wrong type.
    """
    if raw is None:
        return Constraints()
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: 'constraints' must be an object, got {type(raw).__name__}")
    attributes: list[tuple[str, str]] = []
    for key, value in raw.items():
        if key in _SPECIAL_KEYS:
            continue
        attr = canonical_attribute(str(key))
        if attr not in _ATTRIBUTE_KEYS:
            known = ", ".join(sorted(_ATTRIBUTE_KEYS | set(_SPECIAL_KEYS)))
            raise ConfigError(f"{where}: unknown constraint {key!r} (known: {known}; use 'option' for others)")
        attributes.append((attr, _text(value, f"{where}: constraint {key!r}")))
    option = raw.get("option")
    if option is not None:
        if not isinstance(option, dict) or not option:
            raise ConfigError(f"{where}: 'option' must be a non-empty object {{name: value}}")
        for name, value in option.items():
            attributes.append((str(name), _text(value, f"{where}: option {name!r}")))
    vendor = raw.get("vendor")
    country = raw.get("country")
    if country is not None and (not isinstance(country, str) or len(country.strip()) != 2):
        raise ConfigError(f"{where}: 'country' must be an ISO 3166-1 alpha-2 code, got {country!r}")
    available = raw.get("available")
    if available is not None and not isinstance(available, bool):
        raise ConfigError(f"{where}: 'available' must be true or false, got {available!r}")
    return Constraints(
        attributes=tuple(attributes),
        vendor=None if vendor is None else _text(vendor, f"{where}: constraint 'vendor'"),
        price_min=_bound(raw.get("price_min"), f"{where}: 'price_min'"),
        price_max=_bound(raw.get("price_max"), f"{where}: 'price_max'"),
        country=None if country is None else country.strip().upper(),
        available=available,
        exclude=_exclude(raw.get("exclude"), where),
    )


def _exclude(raw: object, where: str) -> tuple[tuple[str, str], ...]:
    """``{"color": ["Black", ...]}`` → ((canonical attribute, value), ...)."""
    if raw is None:
        return ()
    if not isinstance(raw, dict) or not raw:
        raise ConfigError(f"{where}: 'exclude' must be a non-empty object {{attribute: [values]}}, got {raw!r}")
    out: list[tuple[str, str]] = []
    for key, values in raw.items():
        attr = canonical_attribute(str(key))
        if attr not in _ATTRIBUTE_KEYS:
            raise ConfigError(f"{where}: unknown attribute {key!r} in 'exclude'")
        vals = [values] if isinstance(values, str) else values
        if not isinstance(vals, list) or not vals:
            raise ConfigError(f"{where}: 'exclude' {key!r} must be a value or a non-empty list of values")
        out += [(attr, _text(v, f"{where}: exclude {key!r}")) for v in vals]
    return tuple(out)


def _text(value: object, where: str) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float) or not str(value).strip():
        raise ConfigError(f"{where} must be a non-empty string, got {value!r}")
    return str(value)


def _bound(raw: object, where: str) -> Bound | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or set(raw) != {"amount", "currency"}:
        raise ConfigError(f"{where} must be {{\"amount\": <minor units>, \"currency\": \"USD\"}}, got {raw!r}")
    amount, currency = raw["amount"], raw["currency"]
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
        raise ConfigError(f"{where}: amount must be a non-negative integer of minor units, got {amount!r}")
    if not isinstance(currency, str) or len(currency) != 3 or not currency.isalpha():
        raise ConfigError(f"{where}: currency must be an ISO 4217 code, got {currency!r}")
    return Bound(amount, currency.upper())


def _has_value(hit: Hit, name: str, gold: str) -> bool:
    want_attr = canonical_attribute(name)
    want_name = normalize_name(name)
    want = value_key(gold)
    for opt_name, opt_value in hit.options:
        if normalize_name(opt_name) == want_name and want in value_keys(opt_value):  # the option named as given
            return True
        if any(a == want_attr and want in value_keys(v) for a, v in option_pairs(opt_name, opt_value)):
            return True
    return False


def _shows(hit: Hit, attr: str, excluded: str) -> bool:
    """The variant shows ``excluded``: as a whole value or part, or as a word of it ("Jet Black" shows black)."""
    want = value_key(excluded)
    for opt_name, opt_value in hit.options:
        for a, v in option_pairs(opt_name, opt_value):  # a composite option: the part of attribute ``attr``
            if a == attr and (want in value_keys(v) or (" " not in want and want in text_tokens(v))):
                return True
    return False


def unmet(hit: Hit, gold: Constraints, *, country: str | None = None) -> list[str]:
    """Names of the gold constraints ``hit`` does not meet (empty: it meets them all).

    ``country`` is the buyer country the engine answered for (the response's interpreted
    country); a ``country`` constraint needs it to equal the gold country.
    """
    out: list[str] = []
    for name, value in gold.attributes:
        if not _has_value(hit, name, value):
            out.append(name)
    if gold.vendor is not None and label_key(hit.vendor or "") != label_key(gold.vendor):
        out.append("vendor")
    for key, bound in (("price_min", gold.price_min), ("price_max", gold.price_max)):
        if bound is None:
            continue
        if hit.price is None or (hit.currency or "").upper() != bound.currency:
            out.append(key)
        elif (key == "price_min" and hit.price < bound.amount) or (key == "price_max" and hit.price > bound.amount):
            out.append(key)
    if gold.country is not None and (
        (country or "").upper() != gold.country or NOT_SHIPPING_REASON in hit.reasons
    ):
        out.append("country")
    if gold.available is not None and hit.available != gold.available:
        out.append("available")
    out += [f"exclude.{a}" for a in dict.fromkeys(a for a, v in gold.exclude if _shows(hit, a, v))]
    return out
