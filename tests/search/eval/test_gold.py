"""search.eval.gold: the gold-constraint checker on returned variants."""

from __future__ import annotations

from search.eval.gold import Hit, parse_constraints, unmet


def _hit(**kw: object) -> Hit:
    base: dict[str, object] = {"doc_id": "d", "score": 1.0, "price": 1000, "currency": "USD", "available": True,
                               "eligible": True}
    base.update(kw)
    return Hit(**base)  # type: ignore[arg-type]


def _gold(raw: dict[str, object]):  # type: ignore[no-untyped-def]
    return parse_constraints(raw, "test")


def test_attributes_use_canonical_names_and_value_parts() -> None:
    gold = _gold({"color": "Red", "size": "m"})
    assert unmet(_hit(options=(("Colour", "Red / White"), ("Taille", "M"))), gold) == []
    assert unmet(_hit(options=(("Color", " RED "), ("Select the Size:", "M"))), gold) == []
    assert unmet(_hit(options=(("Color", "Redwood"), ("Size", "M"))), gold) == ["color"]  # no substring match
    assert unmet(_hit(options=(("Size", "M"),)), gold) == ["color"]  # no colour option: unmet
    assert unmet(_hit(options=(("Material", "Red"), ("Size", "M"))), gold) == ["color"]  # wrong attribute


def test_synonym_keys_and_material() -> None:
    gold = _gold({"colour": "Black", "material": "Organic Cotton Filling"})
    assert gold.attributes == (("color", "Black"), ("material", "Organic Cotton Filling"))
    hit = _hit(options=(("Filling Material", "organic cotton filling"), ("Farbe", "black")))
    assert unmet(hit, gold) == []


def test_named_options() -> None:
    gold = _gold({"option": {"With Scarf": "With Scarf", "Length": "16 Inches"}})
    ok = _hit(options=(("With Scarf", "With scarf"), ("Lenght:", "16 inches")))  # typo'd name → length
    assert unmet(ok, gold) == []
    assert unmet(_hit(options=(("With Scarf", "Without Scarf"), ("Length", "16 Inches"))), gold) == ["With Scarf"]


def test_vendor() -> None:
    gold = _gold({"vendor": "JURA"})
    assert unmet(_hit(vendor="Jura"), gold) == []
    assert unmet(_hit(vendor="Sage"), gold) == ["vendor"] and unmet(_hit(), gold) == ["vendor"]


def test_price_bounds_same_currency_inclusive() -> None:
    gold = _gold({"price_min": {"amount": 1000, "currency": "USD"}, "price_max": {"amount": 4000, "currency": "usd"}})
    assert unmet(_hit(price=1000), gold) == [] and unmet(_hit(price=4000), gold) == []
    assert unmet(_hit(price=999), gold) == ["price_min"]
    assert unmet(_hit(price=4001), gold) == ["price_max"]
    assert unmet(_hit(price=2000, currency="CAD"), gold) == ["price_min", "price_max"]  # no conversion
    assert unmet(_hit(price=None, currency=None), gold) == ["price_min", "price_max"]


def test_country_needs_the_answered_country_and_shipping() -> None:
    gold = _gold({"country": "vn"})
    assert unmet(_hit(), gold, country="VN") == []
    assert unmet(_hit(eligible=False, reasons=("not_shipping_to_country",)), gold, country="VN") == ["country"]
    assert unmet(_hit(), gold, country="US") == ["country"]  # the engine answered for another buyer
    assert unmet(_hit(eligible=False, reasons=("out_of_stock",)), gold, country="VN") == []


def test_available() -> None:
    assert unmet(_hit(available=False), _gold({"available": True})) == ["available"]
    assert unmet(_hit(available=True), _gold({"available": True})) == []


def test_everything_at_once_lists_each_unmet_constraint() -> None:
    gold = _gold({"color": "white", "vendor": "Sony", "price_max": {"amount": 10000, "currency": "GBP"},
                  "available": True})
    hit = _hit(options=(("Color", "Black"),), vendor="Sony", price=12000, currency="GBP", available=False)
    assert unmet(hit, gold) == ["color", "price_max", "available"]
    assert _gold({}).empty and not gold.empty and parse_constraints(None, "t").empty


def test_exclude_constraint_counts_an_excluded_value_as_broken() -> None:
    from search.eval.gold import Hit, parse_constraints, unmet

    gold = parse_constraints({"size": "XXL", "exclude": {"color": ["Black"]}}, "t")
    assert gold.exclude == (("color", "Black"),) and not gold.empty
    assert unmet(Hit("d", 1.0, options=(("Size", "2XL"), ("Color", "Jet Black"))), gold) == ["exclude.color"]
    assert unmet(Hit("d", 1.0, options=(("Size", "2XL"), ("Color", "Red"))), gold) == []


def test_exclude_constraint_is_validated() -> None:
    import pytest as _pytest

    from indexer.errors import ConfigError
    from search.eval.gold import parse_constraints

    for bad in ({"exclude": []}, {"exclude": {"flavour_of_the_day": ["x"]}}, {"exclude": {"color": []}}):
        with _pytest.raises(ConfigError):
            parse_constraints(bad, "t")


def test_a_composite_option_meets_each_part_as_its_attribute() -> None:
    """``Color / Style`` = ``Black / T-Shirt`` (dev q252's product) is colour black, as the filter reads it."""
    hit = _hit(options=(("Size", "M"), ("Color / Style", "Black / T-Shirt")))
    assert unmet(hit, _gold({"color": "black", "size": "M"})) == []
    assert unmet(hit, _gold({"style": "t-shirt"})) == []
    assert unmet(hit, _gold({"style": "black"})) == ["style"]  # the colour part is no style
    assert unmet(hit, _gold({"exclude": {"color": ["black"]}})) == ["exclude.color"]
    assert unmet(hit, _gold({"option": {"Color / Style": "Black / T-Shirt"}})) == []  # the option by its own name
