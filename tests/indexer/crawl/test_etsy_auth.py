"""Connected Etsy shops against the simulator: the PKCE flow, private token files, refresh before expiry and
after a 401, single-use refresh tokens, a grant revoked mid-crawl, and public shops read at listing level."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import stat
import time
from pathlib import Path

import duckdb
import pytest

from indexer.crawl import etsy_auth
from indexer.crawl.netguard import HostGuard
from indexer.crawl.run import crawl
from indexer.crawl.targets import Target
from indexer.progress import ProgressEvent
from indexer.store.store import Store
from indexer.storefront import running_storefront
from indexer.storefront.server import RunningStorefront
from tests.indexer.crawl.test_etsy import fetch
from tests.indexer.crawl_helpers import fast_settings, make_catalog
from tests.indexer.storefront.conftest import SAMPLE
from tests.indexer.storefront.oauth_helpers import API_KEY, REDIRECT, connect_shop, revoke

GUARD = HostGuard(("127.0.0.1",))


def _listings(slug: str) -> list[dict]:
    return [x for x in json.loads((SAMPLE / "etsy" / slug / "listings.json").read_text())["results"]
            if x["state"] == "active"]


def test_pkce_flow_stores_a_private_token_pair(tmp_path: Path) -> None:
    with running_storefront(SAMPLE) as sf:
        sid = sf.etsy_shop_ids["wildthread-studio"]
        pending = etsy_auth.begin(sf.etsy_api, API_KEY, str(sid), REDIRECT)
        assert "code_challenge_method=S256" in pending.url and pending.verifier not in pending.url
        with pytest.raises(etsy_auth.EtsyAuthError):  # a redirect of another authorisation
            etsy_auth.code_from_redirect(pending, f"{REDIRECT}?code=x&state=forged")
        tokens = connect_shop(sf, tmp_path, sid)
    path = etsy_auth.TokenStore(tmp_path).path(str(sid))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert tokens.access_token.startswith(f"{50_000_000 + sid}.") and tokens.expires_at > time.time() + 3000
    shown = json.dumps(tokens.public())
    assert tokens.access_token not in shown and tokens.refresh_token not in shown
    assert [t.shop_id for t in etsy_auth.TokenStore(tmp_path).all()] == [str(sid)]


def test_connected_shop_gets_variants_public_shop_listing_level(tmp_path: Path) -> None:
    with running_storefront(SAMPLE) as sf:
        ids = sf.etsy_shop_ids
        connect_shop(sf, tmp_path, ids["wildthread-studio"])
        ok_c, connected = fetch(sf.etsy_api, ids["wildthread-studio"], key=API_KEY, home=tmp_path)
        ok_p, public = fetch(sf.etsy_api, ids["hollowoak-woodworks"], key=API_KEY, home=tmp_path)
    assert ok_c and ok_p and not connected.errors and not public.errors
    prods = [p for _, (items, _, _) in connected.pages for p, _ in items]
    assert all(p.extra["etsy_access"] == "connected" and not p.extra["variants_unknown"] for p in prods)
    assert any(len(p.variants) > 1 for p in prods)
    listings = {x["listing_id"]: x for x in _listings("hollowoak-woodworks")}
    pubs = [p for _, (items, _, _) in public.pages for p, _ in items]
    assert sorted(int(p.product_id) for p in pubs) == sorted(listings)  # every active listing exactly once
    for p in pubs:
        x = listings[int(p.product_id)]
        (v,) = p.variants  # the listing is the one variant, at listing level: nothing guessed from the title
        assert p.extra["etsy_access"] == "public" and p.extra["variants_unknown"] is x["has_variations"]
        assert v.variant_id == p.product_id and not v.options and v.quantity == x["quantity"]
        assert v.price == x["price"]["amount"] * 100 // x["price"]["divisor"]
    assert any(p.extra["variants_unknown"] for p in pubs) and any(not p.extra["variants_unknown"] for p in pubs)


def test_refresh_before_expiry_and_reused_refresh_token_refused(tmp_path: Path) -> None:
    with running_storefront(SAMPLE, etsy_token_ttl=1) as sf:
        sid = sf.etsy_shop_ids["wildthread-studio"]
        first = connect_shop(sf, tmp_path, sid)
        time.sleep(0.6)  # under half its lifetime left: refreshed before use, no 401 needed
        ok, sink = fetch(sf.etsy_api, sid, key=API_KEY, home=tmp_path)
        assert ok and not sink.errors and sink.pages
        now = etsy_auth.TokenStore(tmp_path).load(str(sid))
        assert now is not None and now.refresh_token != first.refresh_token
        with pytest.raises(etsy_auth.EtsyAuthRevoked):  # the first refresh token was spent
            asyncio.run(etsy_auth.refresh(first, GUARD))


def test_refresh_after_a_401(tmp_path: Path) -> None:
    with running_storefront(SAMPLE, etsy_token_ttl=1) as sf:
        sid = sf.etsy_shop_ids["wildthread-studio"]
        tokens = connect_shop(sf, tmp_path, sid)
        # The file believes the token is good for an hour; the server expired it: the 401 triggers the refresh.
        etsy_auth.TokenStore(tmp_path).save(dataclasses.replace(tokens, expires_at=time.time() + 3600))
        time.sleep(1.2)
        ok, sink = fetch(sf.etsy_api, sid, key=API_KEY, home=tmp_path)
    assert ok and not sink.errors and len(sink.product_ids) == len(_listings("wildthread-studio"))
    assert etsy_auth.TokenStore(tmp_path).load(str(sid)).access_token != tokens.access_token  # type: ignore[union-attr]


def test_a_token_of_shop_a_is_refused_on_shop_b(tmp_path: Path) -> None:
    with running_storefront(SAMPLE) as sf:
        ids = sf.etsy_shop_ids
        a = connect_shop(sf, tmp_path, ids["wildthread-studio"])
        etsy_auth.TokenStore(tmp_path).save(dataclasses.replace(a, shop_id=str(ids["hollowoak-woodworks"])))
        ok, sink = fetch(sf.etsy_api, ids["hollowoak-woodworks"], key=API_KEY, home=tmp_path, retries=0)
    assert not ok and not sink.product_ids
    assert sink.errors and all(e[1] == 403 for e in sink.errors)


def _snapshot(store: Store, merchant_id: str) -> list[tuple]:
    return sorted((p.doc_id, p.variants, p.extra.get("etsy_access")) for p in store.products()
                  if p.merchant_id == merchant_id)


def test_revoked_mid_crawl_keeps_the_shop_and_finishes_the_others(tmp_path: Path) -> None:
    with running_storefront(SAMPLE) as sf:
        ids = sf.etsy_shop_ids
        for sid in ids.values():
            connect_shop(sf, tmp_path, sid)
        targets = [Target.shopify(sf.shopify_url(sf.shopify_slugs[0])), *(Target.etsy(i) for i in ids.values())]
        settings = fast_settings(sf, etsy_tokens=str(tmp_path), etsy_limit=5, concurrency=1)
        with Store.open(tmp_path / "catalog.duckdb") as store:
            assert crawl(targets, store, settings=settings).complete
            victim = str(ids["wildthread-studio"])
            before = _snapshot(store, victim)
            fired: list[int] = []

            def progress(event: ProgressEvent) -> None:  # the owner revokes while the shop is being read
                if not fired and event.task == f"etsy:{victim}" and event.kind == "advance":
                    fired.append(revoke(sf, int(victim)))

            report = crawl(targets, store, settings=settings, progress=progress)
            after = _snapshot(store, victim)
    by_id = {m.merchant_id: m for m in report.merchants}
    assert fired and not by_id[victim].complete and by_id[victim].removed == 0
    assert all(m.complete for mid, m in by_id.items() if mid != victim)
    assert after == before  # nothing stored changed for that shop
    stored = etsy_auth.TokenStore(tmp_path).load(victim)
    assert stored is not None and stored.revoked
    with duckdb.connect(str(tmp_path / "catalog.duckdb"), read_only=True) as con:
        codes = con.execute("SELECT code FROM crawl_errors WHERE target = ?", [f"etsy:{victim}"]).fetchall()
    assert ("etsy_auth_revoked",) in codes


def test_refresh_lock_is_reentrant_per_process_free(tmp_path: Path, sample_sf: RunningStorefront) -> None:
    tokens = connect_shop(sample_sf, tmp_path, sample_sf.etsy_shop_ids["wildthread-studio"])
    assert etsy_auth.bearer_sync(tmp_path, tokens.shop_id, GUARD) == tokens.access_token
    assert etsy_auth.bearer_sync(tmp_path, "1", GUARD) is None  # not connected


@pytest.fixture(scope="module")
def sample_sf() -> object:
    with running_storefront(SAMPLE) as sf:
        yield sf


def test_daily_budget_stops_cleanly_says_so_and_resumes(tmp_path: Path) -> None:
    with running_storefront(SAMPLE) as sf:
        sid = sf.etsy_shop_ids["wildthread-studio"]
        connect_shop(sf, tmp_path, sid)
        listings = _listings("wildthread-studio")
        target = [Target.etsy(sid)]
        # 1 shop + 1 page + 5 inventories + 1 page, then the budget is spent inside the second page.
        small = fast_settings(sf, etsy_tokens=str(tmp_path), etsy_limit=5, etsy_daily_budget=10)
        with Store.open(tmp_path / "catalog.duckdb") as store:
            first = crawl(target, store, settings=small).merchants[0]
            assert not first.complete and first.removed == 0 and first.products == 5  # the first page only
            budget = json.loads((tmp_path / "etsy" / "budget.json").read_text())
            assert budget["used"] == 10 and budget["resume"] == {str(sid): 5} and budget["key"] == "testkey"
            assert "testsecret" not in json.dumps(budget)
            # The next day (or a larger budget): the walk resumes where it stopped and says so.
            more = dataclasses.replace(small, etsy_daily_budget=1000)
            second = crawl(target, store, settings=more).merchants[0]
            assert second.products == len(listings) - 5 and second.removed == 0
            third = crawl(target, store, settings=more).merchants[0]  # a full walk again, from offset 0
            assert third.complete and third.products == len(listings)
            stored = sorted(p.product_id for p in store.products() if p.merchant_id == str(sid))
    assert stored == sorted(str(x["listing_id"]) for x in listings)
    with duckdb.connect(str(tmp_path / "catalog.duckdb"), read_only=True) as con:
        codes = [c for (c,) in con.execute("SELECT code FROM crawl_errors ORDER BY \"at\"").fetchall()]
    assert codes == ["etsy_daily_budget", "etsy_resumed"]


def test_shared_catalogs_public_and_connected_give_the_same_listings(shared_dir: Path, tmp_path: Path) -> None:
    slugs = tuple(sorted(p.name for p in (shared_dir / "catalogs" / "etsy").iterdir() if p.is_dir()))
    catalog = make_catalog(tmp_path / "cat", shared_dir, etsy=slugs)
    with running_storefront(catalog) as sf:
        home = tmp_path / "home"
        connected = {i: fetch(sf.etsy_api, i, key=API_KEY, home=home) for i in sf.etsy_shop_ids.values()
                     if connect_shop(sf, home, i)}
        public = {i: fetch(sf.etsy_api, i, key=API_KEY) for i in sf.etsy_shop_ids.values()}
    for slug, sid in sf.etsy_shop_ids.items():
        active = {str(x["listing_id"]): x for x in json.loads((catalog / "etsy" / slug / "listings.json").read_text())
                  ["results"] if x["state"] == "active"}
        (ok_c, sink_c), (ok_p, sink_p) = connected[sid], public[sid]
        assert ok_c and ok_p
        assert sorted(sink_p.product_ids) == sorted(active) == sorted(sink_c.product_ids)  # each exactly once
        for _, (items, _, _) in sink_p.pages:
            for p, _ in items:
                assert p.extra["variants_unknown"] is (active[p.product_id].get("has_variations") is True)
                assert len(p.variants) == 1 and not p.variants[0].options
