"""Etsy Open API v3 endpoints of the simulator, over real HTTP on loopback."""

from __future__ import annotations

import json

import httpx
import pytest

from indexer.storefront import RunningStorefront
from tests.indexer.storefront.oauth_helpers import owner_headers

from .conftest import ETSY_KEY, SAMPLE

SHOP = "wildthread-studio"


def _listings(slug: str) -> list[dict]:
    return json.loads((SAMPLE / "etsy" / slug / "listings.json").read_text())["results"]


@pytest.mark.parametrize("headers", [{}, {"x-api-key": "keystringonly"}, {"x-api-key": "key:"}, {"x-api-key": ":s"}])
def test_requires_keystring_and_secret(sample_sf: RunningStorefront, client: httpx.Client,
                                       headers: dict[str, str]) -> None:
    sid = sample_sf.etsy_shop_ids[SHOP]
    r = client.get(f"{sample_sf.etsy_api}/shops/{sid}", headers=headers)
    assert r.status_code == 403
    assert r.json() == {"error": "Shared secret is required in x-api-key header."}


def test_shop_and_rate_limit_headers(sample_sf: RunningStorefront, client: httpx.Client) -> None:
    sid = sample_sf.etsy_shop_ids[SHOP]
    key = {"x-api-key": "ratekey:secret"}
    first = client.get(f"{sample_sf.etsy_api}/shops/{sid}", headers=key)
    assert first.status_code == 200
    shop = first.json()
    assert shop["shop_id"] == sid and shop["currency_code"] == "GBP"
    assert "ships_to_countries" not in shop  # this shop does not say where it ships
    assert first.headers["x-limit-per-second"] == "10" and first.headers["x-limit-per-day"] == "10000"
    assert int(first.headers["x-remaining-today"]) == 9999
    second = client.get(f"{sample_sf.etsy_api}/shops/{sid}", headers=key)
    assert int(second.headers["x-remaining-today"]) == 9998
    assert int(second.headers["x-remaining-this-second"]) <= 9
    other = client.get(f"{sample_sf.etsy_api}/shops/{sample_sf.etsy_shop_ids['hollowoak-woodworks']}", headers=key)
    assert other.json()["ships_to_countries"] == ["US", "CA", "GB", "AU"]
    missing = client.get(f"{sample_sf.etsy_api}/shops/1", headers=ETSY_KEY)
    assert missing.status_code == 404 and "error" in missing.json()
    assert "x-remaining-today" in missing.headers


def test_active_listings_offset_pagination(sample_sf: RunningStorefront, client: httpx.Client) -> None:
    sid = sample_sf.etsy_shop_ids[SHOP]
    active = [x["listing_id"] for x in _listings(SHOP) if x["state"] == "active"]
    assert len(active) < len(_listings(SHOP))  # the sample has non-active listings
    url = f"{sample_sf.etsy_api}/shops/{sid}/listings/active"
    default = client.get(url, headers=ETSY_KEY).json()
    assert default["count"] == len(active)
    assert [x["listing_id"] for x in default["results"]] == active[:25]  # default limit 25
    got: list[int] = []
    offset = 0
    while True:
        body = client.get(url, params={"limit": 7, "offset": offset}, headers=ETSY_KEY).json()
        assert body["count"] == len(active)
        got += [x["listing_id"] for x in body["results"]]
        if len(body["results"]) < 7:
            break
        offset += 7
    assert got == active
    assert all(x["state"] == "active" for x in default["results"])
    big = client.get(url, params={"limit": 500}, headers=ETSY_KEY).json()["results"]
    assert len(big) == min(100, len(active))  # clamped to 100
    assert len(client.get(url, params={"limit": 0}, headers=ETSY_KEY).json()["results"]) == 1  # clamped to 1
    assert client.get(url, params={"offset": 10_000}, headers=ETSY_KEY).json()["results"] == []


def test_listing_and_inventory(sample_sf: RunningStorefront, client: httpx.Client) -> None:
    listings = _listings("hollowoak-woodworks")
    board = next(x for x in listings if x["personalization_is_required"])
    r = client.get(f"{sample_sf.etsy_api}/listings/{board['listing_id']}", headers=ETSY_KEY)
    assert r.status_code == 200 and r.json() == board
    owner = owner_headers(sample_sf, sample_sf.etsy_shop_ids["hollowoak-woodworks"])
    inv = client.get(f"{sample_sf.etsy_api}/listings/{board['listing_id']}/inventory", headers=owner).json()
    names = {pv["property_name"] for p in inv["products"] for pv in p["property_values"]}
    assert names == {"Size", "Wood type"}
    assert all("price" in o for p in inv["products"] for o in p["offerings"])
    # A non-active listing is still readable directly (a live re-check sees its state).
    sold = next(x for x in listings if x["state"] == "sold_out")
    assert client.get(f"{sample_sf.etsy_api}/listings/{sold['listing_id']}", headers=ETSY_KEY).json()["state"] == \
        "sold_out"
    assert client.get(f"{sample_sf.etsy_api}/listings/999", headers=ETSY_KEY).status_code == 404
    assert client.get(f"{sample_sf.etsy_api}/listings/999/inventory", headers=owner).status_code == 404
    assert client.get(f"{sample_sf.etsy_api}/nothing/here", headers=ETSY_KEY).status_code == 404


def test_enforced_rate_limit_answers_429(client: httpx.Client) -> None:
    from indexer.storefront import running_storefront

    with running_storefront(SAMPLE, enforce_etsy_rate_limit=True) as sf:
        sid = sf.etsy_shop_ids[SHOP]
        statuses = [client.get(f"{sf.etsy_api}/shops/{sid}", headers=ETSY_KEY).status_code for _ in range(40)]
    assert 429 in statuses and statuses[0] == 200
