"""Building blocks of the sample catalog generator: Shopify stores and Etsy shops as they are filled.

Used by data/sample_stores.py (the content) and data/generate_sample.py (the writer). Standard library only.
"""

from __future__ import annotations

import itertools
import random
import re
import unicodedata
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

SEED = 20260301
BASE = datetime(2026, 3, 1, 9, 0, 0)
CDN = "https://cdn.shopify.com/s/files/aisle-sample"
ZERO_DECIMAL = {"JPY"}


def slugify(text: str) -> str:
    t = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", t).strip("-")


def fmt_price(amount: float, currency: str) -> str:
    return str(int(round(amount))) if currency in ZERO_DECIMAL else f"{amount:.2f}"


class Ids:
    """Unique, realistic-looking numeric ids drawn from one store's generator."""

    used: set[int] = set()

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def new(self, digits: int) -> int:
        while True:
            n = self.rng.randrange(10 ** (digits - 1) * 7, 10**digits - 1)
            if n not in Ids.used:
                Ids.used.add(n)
                return n


class Store:
    """Context of one Shopify store while its products are generated."""

    def __init__(self, slug: str, name: str, currency: str, country: str, ships: list[str], tz: int, code: str,
                 description: str) -> None:
        self.slug, self.name, self.currency, self.country, self.ships = slug, name, currency, country, ships
        self.tz = timezone(timedelta(hours=tz))
        self.code, self.description = code, description
        self.rng = random.Random(f"{SEED}/{slug}")
        self.ids = Ids(self.rng)
        self.products: list[dict] = []
        self.handles: set[str] = set()

    def stamp(self, days_back: float) -> str:
        return (BASE - timedelta(days=days_back)).replace(tzinfo=self.tz, microsecond=0).isoformat()

    def add(self, title: str, ptype: str, options: list[tuple[str, list[str]]], price: float, *, tags: list[str],
            body: str, vendor: str | None = None, sold_out: set[tuple[str, ...]] | float = 0.1,
            price_step: dict[str, float] | None = None, compare_at: float | None = None,
            gift_card: bool = False) -> dict:
        """One storefront product; variants are every combination of the option values."""
        rng = self.rng
        handle = slugify(title)
        while handle in self.handles:
            handle += "-1"
        self.handles.add(handle)
        pid = self.ids.new(13)
        created = rng.uniform(20, 400)
        created_at, updated_at = self.stamp(created), self.stamp(created - rng.uniform(0, min(created - 1, 60)))
        if not options:
            options = [("Title", ["Default Title"])]
        variants = []
        for pos, combo in enumerate(itertools.product(*[vals for _, vals in options]), start=1):
            amount = price + sum((price_step or {}).get(v, 0.0) for v in combo)
            out = combo in sold_out if isinstance(sold_out, set) else rng.random() < sold_out
            codes = [re.sub(r"[^A-Z0-9]", "", slugify(v).upper())[:4] for v in combo if v != "Default Title"]
            variants.append({
                "id": self.ids.new(14), "title": " / ".join(combo),
                "option1": combo[0], "option2": combo[1] if len(combo) > 1 else None,
                "option3": combo[2] if len(combo) > 2 else None,
                "sku": "-".join([self.code, str(pid)[-4:], *codes]), "requires_shipping": not gift_card,
                "taxable": not gift_card, "featured_image": None, "available": not out,
                "price": fmt_price(amount, self.currency), "grams": 0 if gift_card else rng.choice([80, 150, 300, 450]),
                "compare_at_price": fmt_price(compare_at + amount - price, self.currency) if compare_at else None,
                "position": pos, "product_id": pid, "created_at": created_at, "updated_at": updated_at,
            })
        images = [{"id": self.ids.new(14), "created_at": created_at, "position": i, "updated_at": updated_at,
                   "product_id": pid, "variant_ids": [], "src": f"{CDN}/{self.slug}/{handle}-{i}.jpg",
                   "width": 1200, "height": 1200} for i in range(1, rng.randint(1, 3) + 1)]
        product = {
            "id": pid, "title": title, "handle": handle, "body_html": body, "published_at": created_at,
            "created_at": created_at, "updated_at": updated_at, "vendor": vendor or self.name, "product_type": ptype,
            "tags": sorted(set(tags)), "variants": variants, "images": images,
            "options": [{"name": n, "position": i, "values": vals} for i, (n, vals) in enumerate(options, start=1)],
        }
        self.products.append(product)
        return product

    def meta(self) -> dict:
        return {"name": self.name, "myshopify_domain": f"{self.slug}.myshopify.com", "domain": f"{self.slug}.example",
                "currency": self.currency, "country": self.country, "ships_to_countries": self.ships,
                "published_products_count": len(self.products), "description": self.description}


def html(intro: str, facts: list[str], care: str = "") -> str:
    items = "".join(f"<li>{f}</li>" for f in facts)
    return f"<p>{intro}</p><ul>{items}</ul>" + (f"<p><em>{care}</em></p>" if care else "")


def product_line(store: Store, *, ptype: str, nouns: list[str], adjs: list[str], materials: list[str],
                 colors: list[str], sizes: list[str] | None, price: tuple[float, float], count: int,
                 opt_names: tuple[str, str] = ("Color", "Size"), tags: list[str], intro: str, care: str = "",
                 empty_type: float = 0.0, lang: str = "en") -> None:
    """``count`` generated products of one line: titles from adjective x material x noun, no repeats."""
    rng = store.rng
    combos = list(itertools.product(adjs, materials, nouns))
    rng.shuffle(combos)
    for adj, material, noun in combos[:count]:
        pattern = {"fr": "{n} {a} {m}", "de": "{a} {n} {m}"}.get(lang, "{a} {m} {n}")
        title = re.sub(r"\s+", " ", pattern.format(a=adj, m=material, n=noun)).strip()
        chosen = sorted(rng.sample(colors, k=rng.randint(1, min(4, len(colors)))), key=colors.index)
        options: list[tuple[str, list[str]]] = [(opt_names[0], chosen)]
        if sizes:
            start = rng.randrange(0, max(1, len(sizes) - 2))
            options.append((opt_names[1], sizes[start : start + rng.randint(2, min(4, len(sizes) - start))]))
        lo, hi = price
        amount = rng.uniform(lo, hi)
        amount = round(amount, -2) if store.currency in ZERO_DECIMAL else round(amount) - rng.choice([0, 0.05, 0.5])
        facts = {"fr": [f"Matière : {adj.removeprefix('en ')} {material}".strip()],
                 "de": [f"Modell {material}", "Versand aus Garmisch"]}.get(lang, [f"Material: {material.lower()}"])
        store.add(title, "" if rng.random() < empty_type else ptype, options, amount,
                  tags=tags + [material.lower(), noun.lower()], body=html(intro.format(t=title.lower()), facts, care),
                  compare_at=amount * 1.25 if rng.random() < 0.15 else None)


class EtsyShopGen:
    """Context of one Etsy shop while its listings and inventories are generated."""

    def __init__(self, slug: str, name: str, currency: str, ships: list[str] | None) -> None:
        self.slug, self.currency = slug, currency
        self.rng = random.Random(f"{SEED}/etsy/{slug}")
        self.ids = Ids(self.rng)
        self.shop: dict = {"shop_id": self.ids.new(8), "shop_name": name, "currency_code": currency,
                           "url": f"https://www.etsy.com/shop/{name}", "is_vacation": False}
        if ships is not None:
            self.shop["ships_to_countries"] = ships
        self.user_id = self.ids.new(9)
        self.listings: list[dict] = []
        self.inventories: dict[int, dict] = {}

    def money(self, amount: float) -> dict:
        return {"amount": int(round(amount * 100)), "divisor": 100, "currency_code": self.currency}

    def add(self, title: str, description: str, price: float, *, tags: list[str], materials: list[str],
            props: list[tuple[int, str, list[str]]] | None = None, sold_out: set[tuple[str, ...]] | float = 0.1,
            price_step: dict[str, float] | None = None, state: str = "active", listing_type: str = "physical",
            personalizable: bool = False, personalization_required: bool = False, who_made: str = "i_did",
            when_made: str = "made_to_order") -> dict:
        rng = self.rng
        lid = self.ids.new(10)
        created = int((BASE - timedelta(days=rng.uniform(30, 700))).replace(tzinfo=UTC).timestamp())
        products: list[dict[str, Any]] = []
        combos = list(itertools.product(*[vals for _, _, vals in props])) if props else [()]
        for combo in combos:
            out = combo in sold_out if isinstance(sold_out, set) else (bool(combo) and rng.random() < sold_out)
            amount = price + sum((price_step or {}).get(v, 0.0) for v in combo)
            products.append({
                "product_id": self.ids.new(11),
                "sku": "-".join([self.slug[:2].upper(), str(lid)[-5:], *[slugify(v)[:3] for v in combo]]),
                "is_deleted": False,
                "offerings": [{"offering_id": self.ids.new(11), "quantity": 0 if out else rng.randint(1, 12),
                               "is_enabled": not out, "is_deleted": False, "price": self.money(amount)}],
                "property_values": [
                    {"property_id": pid, "property_name": name, "scale_id": None, "scale_name": None,
                     "values": [v], "value_ids": [self.ids.new(10)]}
                    for (pid, name, _), v in zip(props or [], combo, strict=True)
                ],
            })
        if all(not p["offerings"][0]["is_enabled"] for p in products):
            products[0]["offerings"][0].update(is_enabled=True, quantity=3)
        live = [p["offerings"][0] for p in products if p["offerings"][0]["is_enabled"]]
        listing = {
            "listing_id": lid, "user_id": self.user_id, "shop_id": self.shop["shop_id"], "title": title,
            "description": description, "state": state,
            "quantity": 0 if state == "sold_out" else sum(o["quantity"] for o in live),
            "url": f"https://www.etsy.com/listing/{lid}/{slugify(title)[:60]}", "creation_timestamp": created,
            "last_modified_timestamp": created + rng.randint(0, 86400 * 20),
            "price": min((o["price"] for o in live), key=lambda m: m["amount"]), "tags": tags[:13],
            "materials": materials, "taxonomy_id": None, "who_made": who_made, "when_made": when_made,
            "is_customizable": personalizable, "is_personalizable": personalizable,
            "personalization_is_required": personalization_required,
            "personalization_instructions": "Enter the name or initials to engrave (max 20 characters)."
            if personalizable else None,
            "listing_type": listing_type, "has_variations": bool(props), "shipping_profile_id": None,
            "views": rng.randint(10, 5000), "num_favorers": rng.randint(0, 400),
        }
        if state == "sold_out":
            for p in products:
                p["offerings"][0].update(quantity=0)
        self.listings.append(listing)
        priced = [p[0] for p in props or [] if price_step and any(v in price_step for v in p[2])]
        self.inventories[lid] = {"products": products, "price_on_property": priced,
                                 "quantity_on_property": [p[0] for p in props or []], "sku_on_property": []}
        return listing

    def line(self, *, nouns: list[str], adjs: list[str], woods: list[str], price: tuple[float, float], count: int,
             tags: list[str], materials: list[str], props: list[tuple[int, str, list[str]]] | None = None,
             intro: str) -> None:
        rng = self.rng
        combos = list(itertools.product(adjs, woods, nouns))
        rng.shuffle(combos)
        for adj, wood, noun in combos[:count]:
            title = f"{adj} {wood} {noun}".replace("  ", " ").strip()
            chosen = None
            if props:
                chosen = [(pid, name, sorted(rng.sample(vals, k=rng.randint(2, min(4, len(vals)))), key=vals.index))
                          for pid, name, vals in props]
            amount = round(rng.uniform(*price)) - rng.choice([0, 0.01, 0.05])
            self.add(title, intro.format(t=title) + "\n\nMade to order in our workshop. Please allow 3-5 days.",
                     amount, tags=tags + [noun.lower()], materials=materials + [wood.lower()], props=chosen,
                     state="active" if rng.random() > 0.04 else "sold_out")
